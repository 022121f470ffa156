// Test helpers: set whole groups to zero, and move BN statistics away from their
// initial values (so that a slicing mistake shows up in the outputs).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ChannelGroup } from '../../src/graph/groups.js';
import { Rng } from '../../src/util/random.js';

export function zeroGroupsIn(model: tfl.LayersModel, groups: readonly ChannelGroup[]): void {
  const byName = new Map(model.weights.map((w) => [w.name, w]));
  const edited = new Map<string, Float32Array>();
  for (const g of groups) {
    for (const s of g.slices) {
      const w = byName.get(s.variable)!;
      const data = edited.get(s.variable) ?? (w.read().dataSync().slice() as Float32Array);
      edited.set(s.variable, data);
      const shape = w.shape as number[];
      const inner = shape.slice(s.axis + 1).reduce((a, b) => a * b, 1);
      const drop = new Set(s.indices);
      for (let k = 0; k < data.length; k++) if (drop.has(Math.floor(k / inner) % shape[s.axis])) data[k] = 0;
    }
  }
  for (const [name, data] of edited) {
    const w = byName.get(name)!;
    w.write(tf.tensor(data, w.shape as number[]));
  }
}

export function randomizeBatchNorm(model: tfl.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const w of model.weights) {
    const role = w.originalName.split('/').pop()!;
    const size = (w.shape as number[]).reduce((a, b) => a * b, 1);
    let values: Float32Array | undefined;
    if (role === 'moving_mean' || role === 'beta') values = Float32Array.from({ length: size }, () => 0.3 * rng.normal());
    if (role === 'moving_variance' || role === 'gamma') values = Float32Array.from({ length: size }, () => 0.5 + rng.next());
    if (values) w.write(tf.tensor(values, w.shape as number[]));
  }
}
