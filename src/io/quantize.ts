// Weights stored in fewer bytes, as tensorflowjs_converter writes them
// (--quantize_float16, --quantize_uint8, --quantize_uint16) and TensorFlow.js expands
// them on load: float16 per value, or uint8/uint16 on an affine grid
// (value = q * scale + min) per weight. The grid is nudged so that 0 is a grid
// point: a zero group stays exactly zero in the file. A slim model is written on its
// sparse parent's grids, so the kept values are stored exactly as in the parent.
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { toFloat16Bits } from './float16.js';
import { shapeSize } from '../util/shape.js';

export const quantizations = ['float16', 'uint8', 'uint16'] as const;
export type Quantization = (typeof quantizations)[number];

export interface Grid {
  min: number;
  scale: number;
}

const LEVELS = { uint8: 255, uint16: 65535 } as const;

/** The grid of `values` for `dtype`: their range widened to hold 0, with 0 a grid point. */
export function affineGrid(values: Float32Array, dtype: 'uint8' | 'uint16'): Grid {
  let lo = 0;
  let hi = 0;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi === lo) return { min: 0, scale: 1 };
  const scale = (hi - lo) / LEVELS[dtype];
  return { min: -Math.round(-lo / scale) * scale, scale };
}

/** How weights are stored: one quantization for every float32 weight, or one by weight name. */
export type QuantizePlan = Quantization | ReadonlyMap<string, Quantization>;

/** The uint8/uint16 grid each weight of `model` (by name, as weights files name them) takes under `plan`. */
export function gridsOf(model: tfl.LayersModel, plan: QuantizePlan): Map<string, Grid> {
  const grids = new Map<string, Grid>();
  for (const w of model.weights) {
    const dtype = typeof plan === 'string' ? plan : plan.get(w.originalName);
    if (dtype === 'uint8' || dtype === 'uint16') grids.set(w.originalName, affineGrid(w.read().dataSync() as Float32Array, dtype));
  }
  return grids;
}

function quantizeValues(values: Float32Array, dtype: Quantization, grid: Grid): Uint8Array {
  if (dtype === 'float16') return new Uint8Array(toFloat16Bits(values).buffer);
  const q = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  const top = LEVELS[dtype];
  for (let i = 0; i < values.length; i++) q[i] = Math.min(top, Math.max(0, Math.round((values[i] - grid.min) / grid.scale)));
  return new Uint8Array(q.buffer);
}

/**
 * Float32 weights of a weights file stored as `plan` says; `grids` (by name) gives
 * the uint8/uint16 grids to use, others get their own. Other weights pass unchanged.
 */
export function quantizeWeights(
  specs: tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
  plan: QuantizePlan,
  grids: ReadonlyMap<string, Grid> = new Map(),
): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const out = specs.map((spec) => {
    const count = shapeSize(spec.shape);
    const bytes = count * (spec.dtype === 'bool' ? 1 : 4);
    const chunk = data.slice(offset, offset + bytes);
    offset += bytes;
    const dtype = typeof plan === 'string' ? plan : plan.get(spec.name);
    if (spec.dtype !== 'float32' || spec.quantization || !dtype) {
      parts.push(new Uint8Array(chunk));
      return spec;
    }
    const values = new Float32Array(chunk);
    const grid = dtype === 'float16' ? { min: 0, scale: 1 } : (grids.get(spec.name) ?? affineGrid(values, dtype));
    parts.push(quantizeValues(values, dtype, grid));
    const quantization = dtype === 'float16' ? { dtype, original_dtype: 'float32' as const } : { dtype, min: grid.min, scale: grid.scale };
    return { ...spec, quantization };
  });
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length;
  }
  return { specs: out, data: joined.buffer };
}
