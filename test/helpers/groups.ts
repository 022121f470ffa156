// Test helpers: set whole groups to zero, and move BN statistics away from their
// initial values, and PReLU slopes away from 0 (so that a slicing mistake shows up in
// the outputs).
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { exportOnnx } from '../../src/export/onnx.js';
import { checkOnnx } from '../../src/onnx/check.js';
import type { Partition } from '../../src/graph/groups.js';
import { constructSlimModel, type SlimResult } from '../../src/slim/construct.js';
import { zeroOutGroups } from '../../src/slim/zero.js';
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

/** Zeroes a seeded random half of the prunable groups and builds the slim model. */
export async function slimHalf(model: tfl.LayersModel, partition: Partition, rng: Rng): Promise<SlimResult> {
  zeroOutGroups(
    model,
    partition.groups.filter((g) => g.prunable && rng.next() < 0.5),
  );
  return constructSlimModel(model, { partition });
}

/**
 * The check every layer and corpus test makes: zero a seeded random half of the
 * prunable groups, slim, and require the same outputs, the predicted sizes, and
 * ONNX Runtime agreeing with the dense and the slim model. Returns the slim result
 * and the larger ONNX difference.
 */
export async function halfZeroedSlim(
  model: tfl.LayersModel,
  partition: Partition,
  rng: Rng,
): Promise<{ slim: SlimResult; onnxMaxAbsDiff: number }> {
  const dense = await checkOnnx(model, exportOnnx(model));
  const slim = await slimHalf(model, partition, rng);
  assert.ok(slim.check.maxAbsDiff <= slim.check.bound);
  assert.equal(slim.after.params, slim.before.params - slim.predictedSavings.params);
  assert.equal(slim.after.macs, slim.before.macs - slim.predictedSavings.macs);
  const onnx = await checkOnnx(slim.model, exportOnnx(slim.model));
  return { slim, onnxMaxAbsDiff: Math.max(dense.maxAbsDiff, onnx.maxAbsDiff) };
}
