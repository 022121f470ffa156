// Setting whole groups to exactly zero: what magnitude pruning does before it
// builds the slim model, and what tests use to stand in for a sparse optimizer.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ChannelGroup } from '../graph/groups.js';
import { shapeSize } from '../util/shape.js';

export function zeroOutGroups(model: tfl.LayersModel, groups: readonly ChannelGroup[]): void {
  const byName = new Map(model.weights.map((w) => [w.name, w]));
  const edited = new Map<string, Float32Array>();
  for (const g of groups) {
    for (const s of [...g.slices, ...g.resetSlices]) {
      const w = byName.get(s.variable);
      if (!w) throw new Error(`group ${g.id} names variable '${s.variable}', which the model does not have`);
      const data = edited.get(s.variable) ?? (w.read().dataSync().slice() as Float32Array);
      edited.set(s.variable, data);
      const shape = w.shape as number[];
      const inner = shapeSize(shape.slice(s.axis + 1));
      const drop = new Set(s.indices);
      for (let k = 0; k < data.length; k++) if (drop.has(Math.floor(k / inner) % shape[s.axis])) data[k] = 0;
    }
  }
  for (const [name, data] of edited) {
    const w = byName.get(name)!;
    w.write(tf.tensor(data, w.shape as number[]));
  }
}
