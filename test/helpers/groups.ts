// Test helpers: set whole groups to zero, and move BN statistics away from their
// initial values, and PReLU slopes away from 0 (so that a slicing mistake shows up in
// the outputs).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '../../src/util/random.js';

export { zeroOutGroups as zeroGroupsIn } from '../../src/slim/zero.js';

export function randomizeBatchNorm(model: tfl.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const w of model.weights) {
    const role = w.originalName.split('/').pop()!;
    const size = (w.shape as number[]).reduce((a, b) => a * b, 1);
    let values: Float32Array | undefined;
    if (role === 'moving_mean' || role === 'beta') values = Float32Array.from({ length: size }, () => 0.3 * rng.normal());
    if (role === 'moving_variance' || role === 'gamma') values = Float32Array.from({ length: size }, () => 0.5 + rng.next());
    if (role === 'alpha') values = Float32Array.from({ length: size }, () => 0.1 + 0.4 * rng.next());
    if (values) w.write(tf.tensor(values, w.shape as number[]));
  }
}
