// Building the slim model (docs/DESIGN.md, "Pipeline"): every prunable group whose
// slices are all exactly zero goes; the smaller model gets new widths and the kept
// weights, and is ALWAYS checked against its sparse parent on a batch.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  predictRemoval,
  removedIndices,
  zeroInvariantGroups,
  type ChannelGroup,
  type Partition,
  type WeightSlice,
} from '../graph/groups.js';
import { layerConfigs, modelTopology } from '../io/model_files.js';
import { countModel } from '../layers/count.js';
import { ruleFor } from '../layers/registry.js';
import { Rng } from '../util/random.js';
import { outputList, shapeSize } from '../util/shape.js';

export interface SlimOptions {
  /** layers to keep whole (see zeroInvariantGroups) */
  freeze?: string[];
  /** a partition computed before, to skip recomputing it */
  partition?: Partition;
  /** inputs for the equivalence check; default: 8 seeded standard-normal samples */
  checkInputs?: tf.Tensor[];
  /** largest accepted |slim - sparse| relative to max(1, max |sparse output|); default 1e-4 */
  tolerance?: number;
  /** keep a multiple of this many channels per layer (or all of them); default 1 */
  roundTo?: number;
}

export interface SlimCheck {
  maxAbsDiff: number;
  /** the bound maxAbsDiff had to stay under */
  bound: number;
  samples: number;
}

export interface SlimResult {
  model: tfl.LayersModel;
  /** the groups removed: the zero ones, less those kept so every layer keeps a channel (and a multiple of roundTo) */
  removed: ChannelGroup[];
  check: SlimCheck;
  before: { params: number; macs: number };
  after: { params: number; macs: number };
  /** what the groups predicted the removal saves */
  predictedSavings: { params: number; macs: number };
}

export class SlimCheckError extends Error {
  override name = 'SlimCheckError';
}

/** For each variable and axis used by a slice: does index i along that axis hold a non-zero? */
function nonZeroIndex(values: Float32Array, shape: number[], axis: number): Uint8Array {
  const dim = shape[axis];
  const inner = shapeSize(shape.slice(axis + 1));
  const nz = new Uint8Array(dim);
  for (let k = 0; k < values.length; k++) {
    if (values[k] !== 0) nz[Math.floor(k / inner) % dim] = 1;
  }
  return nz;
}

/** Prunable groups whose regularised slices (and the entries reset with them) are all exactly zero in `model` now. */
export function zeroGroups(model: tfl.LayersModel, groups: readonly ChannelGroup[]): ChannelGroup[] {
  const values = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const w of model.weights) values.set(w.name, { data: w.read().dataSync() as Float32Array, shape: w.shape as number[] });
  const cache = new Map<string, Uint8Array>();
  const nz = (variable: string, axis: number) => {
    const key = `${variable}#${axis}`;
    let v = cache.get(key);
    if (!v) {
      const { data, shape } = values.get(variable)!;
      v = nonZeroIndex(data, shape, axis);
      cache.set(key, v);
    }
    return v;
  };
  const zero = (slices: WeightSlice[]) => slices.every((s) => s.indices.every((i) => nz(s.variable, s.axis)[i] === 0));
  return groups.filter((g) => g.prunable && zero(g.slices) && zero(g.resetSlices));
}

/**
 * Gathers the kept indices of `t` along every axis that lost some, into a fresh
 * tensor: the wasm backend records the 4-D shape of its gather's output buffer, and
 * its FusedConv2D then refuses that buffer as a bias.
 */
function keep(t: tf.Tensor, removed: Map<number, Set<number>> | undefined): tf.Tensor {
  return tf.tidy(() => {
    let out = t;
    for (const [axis, gone] of removed ?? []) {
      const kept = [...Array(t.shape[axis]).keys()].filter((i) => !gone.has(i));
      out = tf.gather(out, tf.tensor1d(kept, 'int32'), axis);
    }
    return tf.tensor(out.dataSync(), out.shape, out.dtype);
  });
}

function defaultCheckInputs(model: tfl.LayersModel, samples: number): tf.Tensor[] {
  const rng = new Rng(20201110);
  return model.inputs.map((input) => {
    const shape = [samples, ...(input.shape.slice(1) as number[])];
    const size = shapeSize(shape);
    return tf.tensor(
      Float32Array.from({ length: size }, () => rng.normal()),
      shape,
    );
  });
}

/** Largest |a - b| over all outputs, and the largest |a|. */
export function compareOutputs(a: tf.Tensor[], b: tf.Tensor[]): { maxAbsDiff: number; maxAbs: number } {
  let maxAbsDiff = 0;
  let maxAbs = 0;
  a.forEach((t, i) => {
    const x = t.dataSync();
    const y = b[i].dataSync();
    if (x.length !== y.length)
      throw new SlimCheckError(`output ${i} has ${y.length} values in the slim model, ${x.length} in the sparse one`);
    for (let k = 0; k < x.length; k++) {
      maxAbsDiff = Math.max(maxAbsDiff, Number.isNaN(y[k] - x[k]) ? Infinity : Math.abs(y[k] - x[k]));
      maxAbs = Math.max(maxAbs, Math.abs(x[k]));
    }
  });
  return { maxAbsDiff, maxAbs };
}

/**
 * The zero groups to remove such that every layer keeps at least one channel
 * (TensorFlow.js rejects width 0) and, with `roundTo` > 1, a multiple of `roundTo`
 * channels (or all of them): kernels run fastest on widths the SIMD blocks divide,
 * and a zero channel kept costs compute but never changes the outputs.
 */
function keptWidths(partition: Partition, zero: ChannelGroup[], roundTo: number): ChannelGroup[] {
  const width = (layer: string) => partition.graph.byName.get(layer)!.outputShape.at(-1)!;
  let result = zero;
  for (;;) {
    const lost = new Map<string, number>();
    for (const g of result) for (const c of g.channels) lost.set(c.layer, (lost.get(c.layer) ?? 0) + c.indices.length);
    const short = [...lost.entries()].find(([layer, n]) => {
      const kept = width(layer) - n;
      return kept < 1 || (kept < width(layer) && kept % roundTo !== 0);
    });
    if (!short) return result;
    const spare = result.find((g) => g.channels.some((c) => c.layer === short[0]))!;
    result = result.filter((g) => g !== spare);
  }
}

/**
 * The slim model gives the sparse model's outputs on the check inputs, within
 * `tolerance` of the largest output (a SlimCheckError otherwise).
 */
export function checkSlim(
  sparse: tfl.LayersModel,
  slim: tfl.LayersModel,
  options: Pick<SlimOptions, 'checkInputs' | 'tolerance'> = {},
  what = 'the removed groups were not zero-invariant',
): SlimCheck {
  const inputs = options.checkInputs ?? defaultCheckInputs(sparse, 8);
  const sparseOut = outputList(sparse.predict(inputs.length === 1 ? inputs[0] : inputs));
  const slimOut = outputList(slim.predict(inputs.length === 1 ? inputs[0] : inputs));
  const { maxAbsDiff, maxAbs } = compareOutputs(sparseOut, slimOut);
  tf.dispose([...sparseOut, ...slimOut]);
  const samples = inputs[0].shape[0];
  if (!options.checkInputs) tf.dispose(inputs);
  const bound = (options.tolerance ?? 1e-4) * Math.max(1, maxAbs);
  if (!(maxAbsDiff <= bound)) {
    throw new SlimCheckError(
      `the slim model's outputs differ from the sparse model's by up to ${maxAbsDiff} (allowed ${bound}); ${what}. Please report this model.`,
    );
  }
  return { maxAbsDiff, bound, samples };
}

/**
 * Removes every prunable group of `model` that is exactly zero and returns the
 * smaller model, checked to give the same outputs (a failed check throws).
 */
export async function constructSlimModel(model: tfl.LayersModel, options: SlimOptions = {}): Promise<SlimResult> {
  const partition = options.partition ?? zeroInvariantGroups(model, { freeze: options.freeze });
  const removed = keptWidths(partition, zeroGroups(model, partition.groups), options.roundTo ?? 1);
  const gone = removedIndices(removed);
  const removedIds = new Set(removed.map((g) => g.id));

  const topology = modelTopology(model);
  const widthLoss = new Map<string, number>();
  for (const g of removed) for (const c of g.channels) widthLoss.set(c.layer, (widthLoss.get(c.layer) ?? 0) + c.indices.length);
  for (const layer of layerConfigs(topology)) {
    const rule = ruleFor(layer.class_name);
    const name = layer.config.name as string;
    const kept = (of: string) => (partition.outputGroups.get(of) ?? []).map((g) => !removedIds.has(g));
    if (rule?.slimConfig && partition.outputGroups.has(name)) {
      rule.slimConfig(layer.config, { output: kept(name), inputs: partition.graph.byName.get(name)!.inputs.map(kept) });
    }
    const key = rule?.widthKey;
    const loss = widthLoss.get(name);
    if (key && loss) layer.config[key] = (layer.config[key] as number) - loss;
  }
  const slim = await tfl.models.modelFromJSON({ modelTopology: topology as never });
  for (const layer of slim.layers) {
    if (layer.weights.length === 0) continue;
    const original = model.getLayer(layer.name);
    const weights = original.getWeights().map((t, i) => keep(t, gone.get(original.weights[i].name)));
    layer.setWeights(weights);
    tf.dispose(weights);
  }

  let check: SlimCheck;
  try {
    check = checkSlim(model, slim, options);
  } catch (e) {
    slim.dispose();
    throw e;
  }
  const before = countModel(model);
  const after = countModel(slim);
  return {
    model: slim,
    removed,
    check,
    before: { params: before.params, macs: before.macs },
    after: { params: after.params, macs: after.macs },
    predictedSavings: predictRemoval(partition.graph, removed),
  };
}
