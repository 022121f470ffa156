// The 'native' backend: TensorFlow.js's cpu backend (same tensor storage, same
// kernels for everything else) with the kernels that dominate training replaced by
// our N-API addon (native/): oneDNN convolutions, BLAS matrix products, OpenMP
// elementwise work. The addon is optional; where it did not build or cannot load,
// `nativeAddon()` says why and slimtrain runs on wasm.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  backend_util,
  getKernel,
  getKernelsForBackend,
  registerBackend,
  registerKernel,
  slice_util,
  type DataId,
  type DataType,
  type KernelConfig,
  type NamedAttrMap,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { shapeSize } from '../util/shape.js';
import { nearestSources } from './gradient_kernels.js';

export interface NativeInfo {
  onednn: string;
  blas: string;
  blasThreads: number;
  threads: number;
}

/** The functions native/src/addon.cc exports. */
export interface NativeAddon {
  convForward(
    shape: Int32Array,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    activation: number,
    alpha: number,
  ): string;
  convBackwardData(shape: Int32Array, dy: Float32Array, w: Float32Array, dx: Float32Array): string;
  convBackwardWeights(shape: Int32Array, x: Float32Array, dy: Float32Array, dw: Float32Array): string;
  batchMatMul(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
  biasActivation(y: Float32Array, bias: Float32Array | null, channels: number, activation: number, alpha: number): void;
  binary(
    op: number,
    a: Float32Array,
    aStrides: Int32Array,
    b: Float32Array,
    bStrides: Int32Array,
    out: Float32Array,
    shape: Int32Array,
  ): void;
  unary(op: number, x: Float32Array, y: Float32Array, alpha: number): void;
  /** op: 0 Greater, 1 GreaterEqual, 2 Less, 3 LessEqual, 4 Equal, 5 NotEqual; out holds 1 or 0 */
  compare(
    op: number,
    a: Float32Array,
    aStrides: Int32Array,
    b: Float32Array,
    bStrides: Int32Array,
    out: Uint8Array,
    shape: Int32Array,
  ): void;
  select(condition: Uint8Array, t: Float32Array, e: Float32Array, out: Float32Array): void;
  transpose(x: Float32Array, shape: Int32Array, perm: Int32Array, y: Float32Array): void;
  softmax(x: Float32Array, n: number, y: Float32Array): void;
  resizeNearest(x: Float32Array, shape: Int32Array, rows: Int32Array, cols: Int32Array, y: Float32Array): void;
  resizeNearestGrad(dy: Float32Array, shape: Int32Array, rows: Int32Array, cols: Int32Array, dx: Float32Array): void;
  reduceSum(x: Float32Array, outer: number, reduce: number, inner: number, out: Float32Array, scale: number): void;
  batchNorm(
    x: Float32Array,
    channels: number,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array | null,
    scale: Float32Array | null,
    epsilon: number,
    y: Float32Array,
  ): void;
  maxPool(shape: Int32Array, x: Float32Array, y: Float32Array): void;
  maxPoolGrad(shape: Int32Array, dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  batchNormTraining(
    x: Float32Array,
    channels: number,
    gamma: Float32Array | null,
    beta: Float32Array | null,
    epsilon: number,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
  ): void;
  batchNormTrainingGrad(
    dy: Float32Array,
    x: Float32Array,
    channels: number,
    gamma: Float32Array | null,
    mean: Float32Array,
    variance: Float32Array,
    dmean: Float32Array | null,
    dvariance: Float32Array | null,
    epsilon: number,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
  ): void;
  /** op: 0 ReLU, 1 swish */
  unaryGrad(op: number, dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /** y = min(max(x, lo), hi) */
  clip(x: Float32Array, lo: number, hi: number, y: Float32Array): void;
  /** dx = dy where lo <= x <= hi (lo < x with openBelow), else 0 */
  clipGrad(dy: Float32Array, x: Float32Array, lo: number, hi: number, openBelow: boolean, dx: Float32Array): void;
  /** y = x[begin : begin + outShape], 4-D */
  slice(x: Float32Array, inShape: Int32Array, begin: Int32Array, outShape: Int32Array, y: Float32Array): void;
  /** x copied into y at `at`, the rest of y untouched, 4-D */
  place(x: Float32Array, inShape: Int32Array, at: Int32Array, outShape: Int32Array, y: Float32Array): void;
  /** y = value everywhere, x at before, 4-D */
  pad(x: Float32Array, inShape: Int32Array, before: Int32Array, outShape: Int32Array, value: number, y: Float32Array): void;
  avgPool(shape: Int32Array, x: Float32Array, y: Float32Array): void;
  avgPoolGrad(shape: Int32Array, dy: Float32Array, dx: Float32Array): void;
  info(): NativeInfo;
}

export const addonPath = fileURLToPath(new URL('../../../native/build/Release/slimtrain_native.node', import.meta.url));

let loaded: { addon: NativeAddon } | { error: string } | undefined;

/**
 * How OpenMP's idle threads wait, and who chose it. OpenMP reads it once, when the
 * addon loads. Its default spins for a while: on a machine with other work that
 * steals the cores the work needs (measured on a Keras MobileNetV2 training step at
 * 224, batch 16, two at once: 2.1 img/s spinning, 4.3 passive; alone 7.3 and 7.9), so
 * slimtrain asks for a passive wait unless the user set one.
 */
export function openMpWait(): { policy: string; from: 'environment' | 'slimtrain' } {
  const env = process.env;
  if (env.OMP_WAIT_POLICY !== undefined || env.GOMP_SPINCOUNT !== undefined) {
    const policy = [
      env.OMP_WAIT_POLICY && `OMP_WAIT_POLICY=${env.OMP_WAIT_POLICY}`,
      env.GOMP_SPINCOUNT && `GOMP_SPINCOUNT=${env.GOMP_SPINCOUNT}`,
    ];
    return { policy: policy.filter(Boolean).join(', '), from: waitSetHere ? 'slimtrain' : 'environment' };
  }
  return { policy: 'OpenMP default (spins before sleeping)', from: 'environment' };
}

let waitSetHere = false;

/** The addon, or why it is not available (not built, a missing library, another OS). */
export function nativeAddon(): { addon: NativeAddon } | { error: string } {
  if (loaded === undefined) {
    if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
      process.env.OMP_WAIT_POLICY = 'PASSIVE';
      waitSetHere = true;
    }
    try {
      loaded = { addon: createRequire(import.meta.url)(addonPath) as NativeAddon };
    } catch (e) {
      const reason =
        (e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND'
          ? `${addonPath} was not built (npm run build:native)`
          : (e as Error).message.split('\n')[0];
      loaded = { error: reason };
    }
  }
  return loaded;
}

/**
 * Reuses the output buffers of the native kernels once their tensors are disposed,
 * as PyTorch's caching allocator does: a fresh multi-megabyte buffer per kernel
 * costs page faults and drives V8 into a full garbage collection every few steps.
 * A buffer is reused only when no registered tensor refers to it any more and its
 * array was never handed out (readSync marks it escaped); views of it that other
 * kernels register count as references.
 */
class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly references = new Map<ArrayBufferLike, number>();
  private readonly owned = new WeakSet<ArrayBufferLike>();
  private readonly escaped = new WeakSet<ArrayBufferLike>();
  private freeBytes = 0;
  constructor(private readonly limitBytes: number) {}

  /** An uninitialised buffer of `length` floats; kernels write every element. */
  take(length: number): Float32Array {
    if (length < 4096) return new Float32Array(length);
    const reused = this.free.get(length)?.pop();
    if (reused) {
      this.freeBytes -= reused.byteLength;
      return reused;
    }
    // at this size Buffer.allocUnsafe gives the buffer its own ArrayBuffer and skips the zero fill
    const bytes = Buffer.allocUnsafe(length * 4);
    const array = new Float32Array(bytes.buffer, bytes.byteOffset, length);
    this.owned.add(array.buffer);
    return array;
  }

  /** A tensor now refers to `values`. */
  register(values: unknown): void {
    const buffer = (values as { buffer?: ArrayBufferLike } | null)?.buffer;
    if (buffer && this.owned.has(buffer)) this.references.set(buffer, (this.references.get(buffer) ?? 0) + 1);
  }

  /** A tensor that referred to `values` is gone; the last one returns the buffer to the pool. */
  release(values: unknown): void {
    const buffer = (values as { buffer?: ArrayBufferLike } | null)?.buffer;
    if (!buffer || !this.owned.has(buffer)) return;
    const left = (this.references.get(buffer) ?? 1) - 1;
    if (left > 0) {
      this.references.set(buffer, left);
      return;
    }
    this.references.delete(buffer);
    if (this.escaped.has(buffer) || this.freeBytes + buffer.byteLength > this.limitBytes) return;
    const length = buffer.byteLength / 4;
    const list = this.free.get(length) ?? [];
    list.push(new Float32Array(buffer, 0, length));
    this.free.set(length, list);
    this.freeBytes += buffer.byteLength;
  }

  /** Someone outside the backend holds `values`: never reuse its buffer. */
  escape(values: unknown): void {
    const buffer = (values as { buffer?: ArrayBufferLike } | null)?.buffer;
    if (buffer && this.owned.has(buffer)) this.escaped.add(buffer);
  }

  clear(): void {
    this.free.clear();
    this.freeBytes = 0;
  }
}

export class NativeBackend extends MathBackendCPU {
  /** @internal */
  readonly pool = new BufferPool(512 * 2 ** 20);

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    this.pool.register(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: DataId, values: backend_util.BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.pool.register(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const values = super.readSync(dataId);
    this.pool.escape(this.data.get(dataId)?.values);
    return values;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const released = super.disposeData(dataId, force);
    if (released && values !== undefined && !this.data.has(dataId)) this.pool.release(values);
    return released;
  }

  override dispose(): void {
    this.pool.clear();
    super.dispose();
  }
}

type Backend = NativeBackend;
/** A native kernel; returns null where the cpu kernel should run instead (a layout or dtype we do not cover). */
type Inputs = Record<string, TensorInfo>;
type NativeKernel = (addon: NativeAddon, inputs: Inputs, attrs: NamedAttrMap, backend: Backend) => TensorInfo | TensorInfo[] | null;

/** A float32 tensor's data as a Float32Array (the cpu backend's Cast from bool keeps a Uint8Array). */
function values(backend: Backend, t: TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/** An output buffer from the backend's pool. */
function allocate(backend: Backend, length: number): Float32Array {
  return backend.pool.take(length);
}

function output(backend: Backend, shape: number[], data: Float32Array, dtype: DataType = 'float32'): TensorInfo {
  return backend.makeTensorInfo(shape, dtype, data);
}

const activationCodes: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, leakyrelu: 4, sigmoid: 5 };

function allFloat(...ts: (TensorInfo | undefined)[]): boolean {
  return ts.every((t) => t == null || t.dtype === 'float32');
}

function convShape(info: backend_util.Conv2DInfo, depthwise: boolean): Int32Array {
  return Int32Array.of(
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
    depthwise ? 1 : 0,
  );
}

type Pair = [number, number] | number;

function convInfo(xShape: number[], filterShape: number[], attrs: NamedAttrMap, depthwise: boolean): backend_util.Conv2DInfo | null {
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') return null;
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as Pair,
    (attrs.dilations as Pair | undefined) ?? 1,
    attrs.pad as 'same' | 'valid' | number | backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
  );
}

function convForward(depthwise: boolean, fused: boolean): NativeKernel {
  return (addon, inputs, attrs, backend) => {
    const { x, filter } = inputs;
    const { bias, preluActivationWeights } = inputs as Partial<Inputs>;
    const activation = fused ? ((attrs.activation as string | undefined) ?? 'linear') : 'linear';
    const code = activationCodes[activation];
    if (code === undefined || preluActivationWeights != null || !allFloat(x, filter, bias)) return null;
    const info = convInfo(x.shape, filter.shape, attrs, depthwise);
    if (info == null || (bias != null && shapeSize(bias.shape) !== info.outChannels)) return null;
    const y = allocate(backend, info.batchSize * info.outHeight * info.outWidth * info.outChannels);
    addon.convForward(
      convShape(info, depthwise),
      values(backend, x),
      values(backend, filter),
      bias ? values(backend, bias) : null,
      y,
      code,
      (attrs.leakyreluAlpha as number | undefined) ?? 0.2,
    );
    return output(backend, info.outShape, y);
  };
}

function convBackwardData(depthwise: boolean): NativeKernel {
  return (addon, inputs, attrs, backend) => {
    const { dy, filter } = inputs;
    if (!allFloat(dy, filter)) return null;
    const inputShape = attrs.inputShape as number[];
    const info = convInfo(inputShape, filter.shape, attrs, depthwise);
    if (info == null) return null;
    const dx = allocate(backend, shapeSize(inputShape));
    addon.convBackwardData(convShape(info, depthwise), values(backend, dy), values(backend, filter), dx);
    return output(backend, inputShape, dx);
  };
}

function convBackwardWeights(depthwise: boolean): NativeKernel {
  return (addon, inputs, attrs, backend) => {
    const { x, dy } = inputs;
    if (!allFloat(x, dy)) return null;
    const filterShape = attrs.filterShape as number[];
    const info = convInfo(x.shape, filterShape, attrs, depthwise);
    if (info == null) return null;
    const dw = allocate(backend, shapeSize(filterShape));
    addon.convBackwardWeights(convShape(info, depthwise), values(backend, x), values(backend, dy), dw);
    return output(backend, filterShape, dw);
  };
}

function matMul(fused: boolean): NativeKernel {
  return (addon, inputs, attrs, backend) => {
    const { a, b } = inputs;
    const { bias, preluActivationWeights } = inputs as Partial<Inputs>;
    const activation = fused ? ((attrs.activation as string | undefined) ?? 'linear') : 'linear';
    const code = activationCodes[activation];
    if (code === undefined || preluActivationWeights != null || !allFloat(a, b, bias)) return null;
    const transposeA = attrs.transposeA as boolean;
    const transposeB = attrs.transposeB as boolean;
    const rank = a.shape.length;
    if (rank !== b.shape.length) return null;
    const m = transposeA ? a.shape[rank - 1] : a.shape[rank - 2];
    const k = transposeA ? a.shape[rank - 2] : a.shape[rank - 1];
    const n = transposeB ? b.shape[rank - 2] : b.shape[rank - 1];
    const batchA = a.shape.slice(0, -2).reduce((s, d) => s * d, 1);
    const batchB = b.shape.slice(0, -2).reduce((s, d) => s * d, 1);
    // only equal batch shapes or one side without batch; other broadcasts go to the cpu kernel
    const batchShape = batchA >= batchB ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
    if (batchA !== batchB && Math.min(batchA, batchB) !== 1) return null;
    if (bias != null && bias.shape.reduce((s, d) => s * d, 1) !== n) return null;
    const c = k === 0 ? new Float32Array(Math.max(batchA, batchB) * m * n) : allocate(backend, Math.max(batchA, batchB) * m * n);
    addon.batchMatMul(values(backend, a), values(backend, b), c, batchA, batchB, m, n, k, transposeA, transposeB);
    if (bias != null || code !== 0) {
      addon.biasActivation(c, bias ? values(backend, bias) : null, n, code, (attrs.leakyreluAlpha as number | undefined) ?? 0.2);
    }
    return output(backend, [...batchShape, m, n], c);
  };
}

/**
 * Per-dimension read strides of an operand of `shape` broadcast to `outShape`, with
 * dimensions merged where both operands step through them alike (so a channel vector
 * against an NHWC tensor becomes a [rows, channels] loop and equal shapes one flat run).
 */
function broadcastLoop(aShape: number[], bShape: number[], outShape: number[]) {
  const strides = (shape: number[]) => {
    const out = new Array<number>(outShape.length).fill(0);
    let step = 1;
    for (let i = shape.length - 1, d = outShape.length - 1; i >= 0; i--, d--) {
      out[d] = shape[i] === 1 ? 0 : step;
      step *= shape[i];
    }
    return out;
  };
  const as = strides(aShape);
  const bs = strides(bShape);
  const dims: { size: number; a: number; b: number }[] = [];
  outShape.forEach((n, d) => {
    if (n === 1) return;
    const last = dims[dims.length - 1];
    const merges = (s: number, ls: number) => (s === 0 && ls === 0) || (s !== 0 && ls === s * n);
    if (last && merges(as[d], last.a) && merges(bs[d], last.b)) {
      last.size *= n;
      last.a = as[d];
      last.b = bs[d];
    } else {
      dims.push({ size: n, a: as[d], b: bs[d] });
    }
  });
  if (dims.length === 0) dims.push({ size: 1, a: 0, b: 0 });
  return {
    shape: Int32Array.from(dims, (d) => d.size),
    a: Int32Array.from(dims, (d) => d.a),
    b: Int32Array.from(dims, (d) => d.b),
  };
}

/** op(a, b) with broadcasting; `names` are the kernel's two inputs, in order */
function binary(op: number, names: [string, string] = ['a', 'b']): NativeKernel {
  return (addon, inputs, _attrs, backend) => {
    const [a, b] = names.map((n) => inputs[n]);
    if (!allFloat(a, b)) return null;
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (shapeSize(outShape) === 0) return null;
    const loop = broadcastLoop(a.shape, b.shape, outShape);
    const out = allocate(backend, shapeSize(outShape));
    addon.binary(op, values(backend, a), loop.a, values(backend, b), loop.b, out, loop.shape);
    return output(backend, outShape, out);
  };
}

/** a comparison of float32 tensors with broadcasting, as a bool tensor */
function compare(op: number): NativeKernel {
  return (addon, inputs, _attrs, backend) => {
    const { a, b } = inputs;
    if (!allFloat(a, b)) return null;
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (shapeSize(outShape) === 0) return null;
    const loop = broadcastLoop(a.shape, b.shape, outShape);
    const out = new Uint8Array(shapeSize(outShape));
    addon.compare(op, values(backend, a), loop.a, values(backend, b), loop.b, out, loop.shape);
    return backend.makeTensorInfo(outShape, 'bool', out);
  };
}

/** Select (tf.where) with a condition the size of its float32 branches */
const select: NativeKernel = (addon, inputs, _attrs, backend) => {
  const { condition, t, e } = inputs;
  const size = shapeSize(t.shape);
  const flags = backend.data.get(condition.dataId).values;
  if (!allFloat(t, e) || !(flags instanceof Uint8Array) || size === 0 || shapeSize(condition.shape) !== size) return null;
  const out = allocate(backend, size);
  addon.select(flags, values(backend, t), values(backend, e), out);
  return output(backend, t.shape, out);
};

function unary(op: number): NativeKernel {
  return (addon, inputs, attrs, backend) => {
    const { x } = inputs;
    if (!allFloat(x) || shapeSize(x.shape) === 0) return null;
    const y = allocate(backend, shapeSize(x.shape));
    addon.unary(op, values(backend, x), y, (attrs.alpha as number | undefined) ?? 0);
    return output(backend, x.shape, y);
  };
}

/** Sum or mean over axes that form one run (size-1 dimensions aside): x as [outer, reduce, inner]. */
function reduce(mean: boolean): NativeKernel {
  return (addon, inputs, attrs, backend) => {
    const { x } = inputs;
    if (!allFloat(x) || shapeSize(x.shape) === 0) return null;
    const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
    const [outShape, reduceShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const runs = x.shape.map((n, d) => (n === 1 ? '' : axes.includes(d) ? 'r' : 'k')).join('');
    if (!/^k*r*k*$/.test(runs)) return null;
    const split = x.shape.map((n, d) => ({ n, d })).filter(({ n }) => n > 1);
    const firstReduced = split.findIndex(({ d }) => axes.includes(d));
    const outer = shapeSize(split.slice(0, firstReduced < 0 ? split.length : firstReduced).map(({ n }) => n));
    const reduceSize = shapeSize(reduceShape);
    const inner = shapeSize(x.shape) / outer / reduceSize;
    const out = allocate(backend, shapeSize(outShape));
    addon.reduceSum(values(backend, x), outer, reduceSize, inner, out, mean ? 1 / reduceSize : 1);
    const shape = attrs.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return output(backend, shape, out);
  };
}

const batchNorm: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x, mean, variance } = inputs;
  const { offset, scale } = inputs as Partial<Inputs>;
  const channels = x.shape[x.shape.length - 1];
  const perChannel = [mean, variance, offset, scale].every((t) => t == null || shapeSize(t.shape) === channels);
  if (!allFloat(x, mean, variance, offset, scale) || !perChannel || shapeSize(x.shape) === 0) return null;
  const y = allocate(backend, shapeSize(x.shape));
  const optional = (t?: TensorInfo) => (t ? values(backend, t) : null);
  addon.batchNorm(
    values(backend, x),
    channels,
    values(backend, mean),
    values(backend, variance),
    optional(offset),
    optional(scale),
    (attrs.varianceEpsilon as number | undefined) ?? 0.001,
    y,
  );
  return output(backend, x.shape, y);
};

function poolInfo(xShape: number[], attrs: NamedAttrMap): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize as Pair,
    attrs.strides as Pair,
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
}

function poolShape(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.of(
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  );
}

/** max or average pooling of a float32 NHWC map */
const pool =
  (op: 'maxPool' | 'avgPool'): NativeKernel =>
  (addon, inputs, attrs, backend) => {
    const { x } = inputs;
    if (!allFloat(x) || x.shape.length !== 4) return null;
    const info = poolInfo(x.shape, attrs);
    const y = allocate(backend, shapeSize(info.outShape));
    addon[op](poolShape(info), values(backend, x), y);
    return output(backend, info.outShape, y);
  };

const maxPoolGrad: NativeKernel = (addon, inputs, attrs, backend) => {
  const { dy, input } = inputs;
  if (!allFloat(dy, input) || input.shape.length !== 4) return null;
  const info = poolInfo(input.shape, attrs);
  const dx = allocate(backend, shapeSize(input.shape));
  addon.maxPoolGrad(poolShape(info), values(backend, dy), values(backend, input), dx);
  return output(backend, input.shape, dx);
};

/** divides each window's gradient by the inputs its forward pass counted (the cpu kernel divides by the window size) */
const avgPoolGrad: NativeKernel = (addon, inputs, attrs, backend) => {
  const { dy, input } = inputs;
  if (!allFloat(dy, input) || input.shape.length !== 4) return null;
  const info = poolInfo(input.shape, attrs);
  const dx = allocate(backend, shapeSize(input.shape));
  addon.avgPoolGrad(poolShape(info), values(backend, dy), dx);
  return output(backend, input.shape, dx);
};

// Kernels of our own, which only the native backend has (src/engine/fused_training.ts uses them)
export const BatchNormTraining = 'SlimtrainBatchNormTraining';
export const BatchNormTrainingGrad = 'SlimtrainBatchNormTrainingGrad';
export const ReluGrad = 'SlimtrainReluGrad';
/** x * sigmoid(x), the swish activation as one kernel (TensorFlow.js composes it from three) */
export const Swish = 'SlimtrainSwish';
export const SwishGrad = 'SlimtrainSwishGrad';
export const Relu6Grad = 'SlimtrainRelu6Grad';
export const ClipByValueGrad = 'SlimtrainClipByValueGrad';

const optional = (backend: Backend, t?: TensorInfo) => (t ? values(backend, t) : null);

/** Training-mode batch norm over the last axis: outputs y, batch mean, biased batch variance. */
const batchNormTraining: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x } = inputs;
  const { gamma, beta } = inputs as Partial<Inputs>;
  const channels = x.shape[x.shape.length - 1];
  const y = allocate(backend, shapeSize(x.shape));
  const mean = allocate(backend, channels);
  const variance = allocate(backend, channels);
  addon.batchNormTraining(
    values(backend, x),
    channels,
    optional(backend, gamma),
    optional(backend, beta),
    attrs.epsilon as number,
    y,
    mean,
    variance,
  );
  return [output(backend, x.shape, y), output(backend, [channels], mean), output(backend, [channels], variance)];
};

const batchNormTrainingGrad: NativeKernel = (addon, inputs, attrs, backend) => {
  const { dy, x, mean, variance } = inputs;
  const { gamma, dmean, dvariance } = inputs as Partial<Inputs>;
  const channels = x.shape[x.shape.length - 1];
  const dx = allocate(backend, shapeSize(x.shape));
  const dgamma = allocate(backend, channels);
  const dbeta = allocate(backend, channels);
  addon.batchNormTrainingGrad(
    values(backend, dy),
    values(backend, x),
    channels,
    optional(backend, gamma),
    values(backend, mean),
    values(backend, variance),
    optional(backend, dmean),
    optional(backend, dvariance),
    attrs.epsilon as number,
    dx,
    dgamma,
    dbeta,
  );
  return [output(backend, x.shape, dx), output(backend, [channels], dgamma), output(backend, [channels], dbeta)];
};

/** dx = dy * f'(x) for an elementwise f: op 0 ReLU, 1 swish */
const unaryGrad =
  (op: number): NativeKernel =>
  (addon, inputs, _attrs, backend) => {
    const { dy, x } = inputs;
    if (!allFloat(dy, x)) return null;
    const dx = allocate(backend, shapeSize(x.shape));
    addon.unaryGrad(op, values(backend, dy), values(backend, x), dx);
    return output(backend, x.shape, dx);
  };

/** dy where lo <= x <= hi (attrs: clipValueMin, clipValueMax), or, for Relu6, where 0 < x <= 6 */
const clipGrad =
  (relu6: boolean): NativeKernel =>
  (addon, inputs, attrs, backend) => {
    const { dy, x } = inputs;
    if (!allFloat(dy, x)) return null;
    const [lo, hi] = relu6 ? [0, 6] : [attrs.clipValueMin as number, attrs.clipValueMax as number];
    const dx = allocate(backend, shapeSize(x.shape));
    addon.clipGrad(values(backend, dy), values(backend, x), lo, hi, relu6, dx);
    return output(backend, x.shape, dx);
  };

const clipByValue: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x } = inputs;
  if (x.dtype !== 'float32') return null;
  const y = allocate(backend, shapeSize(x.shape));
  addon.clip(values(backend, x), attrs.clipValueMin as number, attrs.clipValueMax as number, y);
  return output(backend, x.shape, y);
};

/** a shape of rank 1 to 4 as 4-D, leading ones added (the same layout in memory) */
const as4d = (shape: readonly number[], fill = 1) => Int32Array.from([...new Array<number>(4 - shape.length).fill(fill), ...shape]);

/** Slice of a float32 tensor of rank up to 4 (PadV2's gradient; batches cut from a data set) */
const slice: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x } = inputs;
  if (x.dtype !== 'float32' || x.shape.length > 4 || x.shape.length === 0) return null;
  const [begin, size] = slice_util.parseSliceParams(x as never, attrs.begin as number[], attrs.size as number[]);
  const y = allocate(backend, shapeSize(size));
  addon.slice(values(backend, x), as4d(x.shape), as4d(begin, 0), as4d(size), y);
  return output(backend, size, y);
};

/**
 * A shape of any rank as 4-D with the same layout in memory: [1, before axis, axis,
 * after axis], or [1, 1, before axis, axis] when nothing follows the axis, so the
 * innermost copy is a run along the axis (a channel concatenation in NHWC copies
 * each pixel's channels at once, not one float at a time). `at(offset)` places an
 * offset along the axis in that view.
 */
function axisView(shape: readonly number[], axis: number, size = shape[axis]) {
  const before = shapeSize(shape.slice(0, axis));
  const after = shapeSize(shape.slice(axis + 1));
  return after === 1
    ? { shape: Int32Array.of(1, 1, before, size), at: (offset: number) => Int32Array.of(0, 0, 0, offset) }
    : { shape: Int32Array.of(1, before, size, after), at: (offset: number) => Int32Array.of(0, 0, offset, 0) };
}

/** Concat of float32 tensors of any rank, along any axis: each input copied into its place */
const concat: NativeKernel = (addon, inputs, attrs, backend) => {
  const xs = Object.values(inputs);
  if (xs.length === 0 || xs[0].shape.length === 0 || xs.some((x) => x.dtype !== 'float32' || x.shape.length !== xs[0].shape.length)) {
    return null;
  }
  const axis = util.parseAxisParam(attrs.axis as number, xs[0].shape)[0];
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((n, x) => n + x.shape[axis], 0);
  const y = allocate(backend, shapeSize(shape));
  const out = axisView(shape, axis);
  let offset = 0;
  for (const x of xs) {
    if (shapeSize(x.shape) > 0) addon.place(values(backend, x), axisView(x.shape, axis).shape, out.at(offset), out.shape, y);
    offset += x.shape[axis];
  }
  return output(backend, shape, y);
};

/** SplitV (Concat's gradient), any rank: each part a Slice along the axis */
const splitV: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x } = inputs;
  if (x.dtype !== 'float32' || x.shape.length === 0) return null;
  const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x as never, attrs.numOrSizeSplits as number[] | number, axis);
  const whole = axisView(x.shape, axis);
  let offset = 0;
  return sizes.map((n) => {
    const size = x.shape.map((d, i) => (i === axis ? n : d));
    const y = allocate(backend, shapeSize(size));
    if (n > 0) addon.slice(values(backend, x), whole.shape, whole.at(offset), axisView(x.shape, axis, n).shape, y);
    offset += n;
    return output(backend, size, y);
  });
};

/** Pad with a constant (PadV2: ZeroPadding2D, the padding before 'valid' convolutions) */
const pad: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x } = inputs;
  if (x.dtype !== 'float32' || x.shape.length > 4 || x.shape.length === 0) return null;
  const paddings = attrs.paddings as [number, number][];
  const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const y = allocate(backend, shapeSize(shape));
  addon.pad(
    values(backend, x),
    as4d(x.shape),
    as4d(
      paddings.map((p) => p[0]),
      0,
    ),
    as4d(shape),
    attrs.constantValue as number,
    y,
  );
  return output(backend, shape, y);
};

const transpose: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x } = inputs;
  const perm = attrs.perm as number[];
  if (x.dtype !== 'float32' || x.shape.length === 0 || x.shape.length > 6 || shapeSize(x.shape) === 0) return null;
  const shape = perm.map((p) => x.shape[p]);
  const y = allocate(backend, shapeSize(shape));
  addon.transpose(values(backend, x), Int32Array.from(x.shape), Int32Array.from(perm), y);
  return output(backend, shape, y);
};

/** softmax over the last axis (the only one TensorFlow.js's kernel takes) */
const softmax: NativeKernel = (addon, inputs, attrs, backend) => {
  const { logits } = inputs;
  const dim = attrs.dim as number;
  const rank = logits.shape.length;
  if (logits.dtype !== 'float32' || rank === 0 || (dim !== -1 && dim !== rank - 1) || shapeSize(logits.shape) === 0) return null;
  const y = allocate(backend, shapeSize(logits.shape));
  addon.softmax(values(backend, logits), logits.shape[rank - 1], y);
  return output(backend, logits.shape, y);
};

const resizeNearest: NativeKernel = (addon, inputs, attrs, backend) => {
  const { images } = inputs;
  const [outH, outW] = attrs.size as [number, number];
  if (images.dtype !== 'float32' || images.shape.length !== 4 || shapeSize(images.shape) === 0 || outH * outW === 0) return null;
  const [n, h, w, c] = images.shape;
  const y = allocate(backend, n * outH * outW * c);
  addon.resizeNearest(
    values(backend, images),
    Int32Array.from(images.shape),
    nearestSources(h, outH, attrs),
    nearestSources(w, outW, attrs),
    y,
  );
  return output(backend, [n, outH, outW, c], y);
};

/** the exact adjoint of the forward resize, as gradient_kernels.ts's (TensorFlow.js's cpu kernel is wrong) */
const resizeNearestGrad: NativeKernel = (addon, inputs, attrs, backend) => {
  const { images, dy } = inputs;
  if (!allFloat(images, dy) || images.shape.length !== 4 || shapeSize(images.shape) === 0 || shapeSize(dy.shape) === 0) return null;
  const [, h, w] = images.shape;
  const dx = allocate(backend, shapeSize(images.shape));
  addon.resizeNearestGrad(
    values(backend, dy),
    Int32Array.from(images.shape),
    nearestSources(h, dy.shape[1], attrs),
    nearestSources(w, dy.shape[2], attrs),
    dx,
  );
  return output(backend, images.shape, dx);
};

const nativeKernels: Record<string, NativeKernel> = {
  Conv2D: convForward(false, false),
  FusedConv2D: convForward(false, true),
  DepthwiseConv2dNative: convForward(true, false),
  FusedDepthwiseConv2D: convForward(true, true),
  Conv2DBackpropInput: convBackwardData(false),
  DepthwiseConv2dNativeBackpropInput: convBackwardData(true),
  Conv2DBackpropFilter: convBackwardWeights(false),
  DepthwiseConv2dNativeBackpropFilter: convBackwardWeights(true),
  BatchMatMul: matMul(false),
  _FusedMatMul: matMul(true),
  Add: binary(0),
  Sub: binary(1),
  Multiply: binary(2),
  RealDiv: binary(3),
  SquaredDifference: binary(4),
  Maximum: binary(5),
  Minimum: binary(6),
  EluGrad: binary(7, ['dy', 'y']),
  Greater: compare(0),
  GreaterEqual: compare(1),
  Less: compare(2),
  LessEqual: compare(3),
  Equal: compare(4),
  NotEqual: compare(5),
  Select: select,
  Prelu: binary(8, ['x', 'alpha']),
  Relu: unary(0),
  Relu6: unary(1),
  Step: unary(2),
  Square: unary(3),
  Neg: unary(4),
  Sqrt: unary(5),
  Rsqrt: unary(6),
  Exp: unary(7),
  Log: unary(8),
  Abs: unary(9),
  Sigmoid: unary(10),
  Tanh: unary(12),
  Elu: unary(13),
  LeakyRelu: unary(14),
  Floor: unary(15),
  Erf: unary(16),
  Softmax: softmax,
  Transpose: transpose,
  ResizeNearestNeighbor: resizeNearest,
  ResizeNearestNeighborGrad: resizeNearestGrad,
  Sum: reduce(false),
  Mean: reduce(true),
  FusedBatchNorm: batchNorm,
  MaxPool: pool('maxPool'),
  MaxPoolGrad: maxPoolGrad,
  AvgPool: pool('avgPool'),
  AvgPoolGrad: avgPoolGrad,
  [BatchNormTraining]: batchNormTraining,
  [BatchNormTrainingGrad]: batchNormTrainingGrad,
  [ReluGrad]: unaryGrad(0),
  [Swish]: unary(11),
  [SwishGrad]: unaryGrad(1),
  [Relu6Grad]: clipGrad(true),
  [ClipByValueGrad]: clipGrad(false),
  ClipByValue: clipByValue,
  Slice: slice,
  PadV2: pad,
  Concat: concat,
  SplitV: splitV,
};

export const nativeKernelNames = Object.keys(nativeKernels);

/** calls, per kernel name, that ran the cpu backend's JavaScript kernel on the native backend */
const javascriptCalls = new Map<string, number>();

/**
 * Kernels the native backend ran in the cpu backend's JavaScript since the last call
 * (a kernel it lacks, or a layout its kernel does not cover), with their call counts;
 * the count starts again from zero.
 */
export function takeJavaScriptCalls(): Map<string, number> {
  const calls = new Map(javascriptCalls);
  javascriptCalls.clear();
  return calls;
}

const countJavaScript = (kernelName: string) => javascriptCalls.set(kernelName, (javascriptCalls.get(kernelName) ?? 0) + 1);

let registered = false;

/**
 * Registers the 'native' backend: the cpu backend's kernels, ours in place of the
 * ones we implement. Returns false (and registers nothing) when the addon is missing.
 */
export function registerNativeBackend(): boolean {
  const loadedAddon = nativeAddon();
  if (!('addon' in loadedAddon)) return false;
  if (registered) return true;
  registered = true;
  const { addon } = loadedAddon;
  registerBackend('native', () => new NativeBackend(), 1);
  for (const [kernelName, impl] of Object.entries(nativeKernels)) {
    const cpuKernel = getKernel(kernelName, 'cpu');
    const kernelFunc: KernelConfig['kernelFunc'] = ({ inputs, attrs, backend }) => {
      const out = impl(addon, inputs as Inputs, attrs ?? {}, backend as Backend);
      if (out != null) return out;
      if (cpuKernel == null)
        throw new Error(`native backend: ${kernelName} needs a layout it does not cover, and the cpu backend has no ${kernelName}`);
      countJavaScript(kernelName);
      return cpuKernel.kernelFunc({ inputs, attrs: attrs ?? {}, backend });
    };
    registerKernel({ kernelName, backendName: 'native', kernelFunc });
  }
  for (const config of getKernelsForBackend('cpu')) {
    if (config.kernelName in nativeKernels) continue;
    const kernelFunc: KernelConfig['kernelFunc'] = (args) => {
      countJavaScript(config.kernelName);
      return config.kernelFunc(args);
    };
    registerKernel({ ...config, backendName: 'native', kernelFunc });
  }
  return true;
}
