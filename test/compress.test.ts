// compress with DHSPG's layer allocation, end to end: the slim model's widths show
// how the groups to remove were spread over the layers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { runCompressJob } from '../src/compress/job.js';

await initEngine({ announce: false });

const widths = (model: tfl.LayersModel) =>
  model.layers.flatMap((l) => {
    const c = l.getConfig() as { filters?: number; units?: number };
    return c.filters ?? c.units ?? [];
  });

test('compress --allocation uniform: DHSPG takes half of every LeNet-5 layer for a target sparsity of 0.5', async () => {
  const r = await runCompressJob({
    model: 'lenet5',
    data: 'mnist',
    subset: 600,
    epochs: 1,
    batchSize: 32,
    seed: 1,
    lr: 0.05,
    schedule: 'cosine',
    method: 'dhspg',
    lambda: 1e-3,
    targetSparsity: 0.5,
    allocation: 'uniform',
    measureSpeed: false,
  });
  // 6, 16, 120 and 84 channels or units, then the 10 outputs, which are never pruned
  assert.deepEqual(widths(r.slimModel), [3, 8, 60, 42, 10]);
  assert.equal(r.removedGroups, 113);
  r.slimModel.dispose();
});
