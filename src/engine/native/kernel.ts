// What every native kernel shares: its signature, reading a float32 input, and
// writing an output into the backend's pool.
import type { DataType, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from './addon.js';
import type { NativeBackend } from './backend.js';

export type Backend = NativeBackend;
/** A native kernel; returns null where the cpu kernel should run instead (a layout or dtype we do not cover). */
export type Inputs = Record<string, TensorInfo>;
export type NativeKernel = (addon: NativeAddon, inputs: Inputs, attrs: NamedAttrMap, backend: Backend) => TensorInfo | TensorInfo[] | null;

/** A float32 tensor's data as a Float32Array (the cpu backend's Cast from bool keeps a Uint8Array). */
export function values(backend: Backend, t: TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/** An output buffer from the backend's pool. */
export function allocate(backend: Backend, length: number): Float32Array {
  return backend.pool.take(length);
}

export function output(backend: Backend, shape: number[], data: Float32Array, dtype: DataType = 'float32'): TensorInfo {
  return backend.makeTensorInfo(shape, dtype, data);
}

export const activationCodes: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, leakyrelu: 4, sigmoid: 5 };

export function allFloat(...ts: (TensorInfo | undefined)[]): boolean {
  return ts.every((t) => t == null || t.dtype === 'float32');
}

/** a size given once for both dimensions, or per dimension */
export type Pair = [number, number] | number;
