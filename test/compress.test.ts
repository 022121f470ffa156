// compress with DHSPG's layer allocation, end to end: the slim model's widths show
// how the groups to remove were spread over the layers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { collapseWarning, runCompressJob } from '../src/compress/job.js';
import { sparseConfig } from '../src/compress/sparse_stage.js';
import { macsCost } from '../src/metrics/cost.js';
import { buildVerifiedSlim } from '../src/compress/slim_stage.js';
import { loadDataset, subsetSplits } from '../src/data/datasets.js';
import { zeroInvariantGroups } from '../src/graph/groups.js';
import { countModel } from '../src/layers/count.js';
import { buildZooModel } from '../src/models/zoo.js';
import { zeroOutGroups } from '../src/slim/zero.js';
import { evaluate } from '../src/train/loop.js';
import { saveModel } from '../src/io/model_files.js';

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
  // a zoo model is built untrained: there is no original to compare with
  assert.equal(r.original, undefined);
  r.slimModel.dispose();
  r.sparseModel.dispose();
});

const baseJob = { model: 'lenet5', data: 'mnist', epochs: 4, batchSize: 32, seed: 0, lr: 0.05, schedule: 'cosine', lambda: 0.01 } as const;

test('sparseConfig turns epochs into steps and gives each method only its own settings', () => {
  const model = buildZooModel('lenet5', { inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const partition = zeroInvariantGroups(model);
  const prunable = partition.groups.filter((g) => g.prunable);
  const macs = macsCost(partition.graph, countModel(model).macs);
  const mean = prunable.reduce((s, g) => s + g.savings.macs, 0) / prunable.length;
  const hspg = sparseConfig({ ...baseJob, method: 'hspg', epsilon: 0.2, penaltyEndEpoch: 3 }, partition, macs, 10);
  assert.deepEqual(
    { ...hspg, groupWeights: undefined },
    {
      method: 'hspg',
      lambda: 0.01,
      direction: undefined,
      momentum: undefined,
      nesterov: undefined,
      weightDecay: undefined,
      groupWeights: undefined,
      epsilon: 0.2,
      halfSpaceStart: 10,
      penaltyEnd: 30,
    },
  );
  // with a target, hspg adapts lambda from its half-space start, meets the target by half the epochs,
  // and weighs lambda by the square root of each group's MACs
  const targeted = sparseConfig({ ...baseJob, method: 'hspg', targetMacsRatio: 3 }, partition, macs, 10);
  assert.ok(targeted.method === 'hspg' && targeted.lambdaTarget);
  assert.deepEqual(
    [targeted.halfSpaceStart, targeted.lambdaTarget.from, targeted.lambdaTarget.by, targeted.penaltyEnd],
    [10, 10, 20, undefined],
  );
  assert.equal(targeted.lambdaTarget.target.kind, 'cost');
  assert.ok(Math.abs(targeted.groupWeights![0] - Math.sqrt(prunable[0].savings.macs / mean)) < 1e-9);
  const proxsg = sparseConfig({ ...baseJob, method: 'proxsg', targetSparsity: 0.5, penaltyEndEpoch: 3 }, partition, macs, 10);
  assert.ok(proxsg.method === 'proxsg' && proxsg.lambdaTarget);
  assert.deepEqual([proxsg.lambdaTarget.from, proxsg.lambdaTarget.by, proxsg.groupWeights], [0, 30, undefined]);
  const obproxsg = sparseConfig({ ...baseJob, method: 'obproxsg', switchEpoch: 2 }, partition, macs, 10);
  assert.equal(obproxsg.method === 'obproxsg' && obproxsg.orthantStart, 20);
  const dhspg = sparseConfig({ ...baseJob, method: 'dhspg', targetMacsRatio: 3, weighting: 'macs' }, partition, macs, 10);
  assert.ok(dhspg.method === 'dhspg');
  assert.equal(dhspg.target.kind, 'cost');
  assert.ok(Math.abs(dhspg.target.fraction - 2 / 3) < 1e-12);
  // chosen at epochs/40, projected from then on, done by 15% of the epochs
  assert.deepEqual([dhspg.pruneStart, dhspg.projectionStart, dhspg.pruneEnd], [1, 1, 6]);
  assert.equal(dhspg.groupLayers?.length, prunable.length);
  // 'macs' weighting: a group's lambda multiplier is its MACs over the mean
  assert.ok(Math.abs(dhspg.groupWeights![0] - prunable[0].savings.macs / mean) < 1e-9);
  model.dispose();
});

test('buildVerifiedSlim alone: groups zeroed by hand go, and the slim model classifies the test split as the sparse one', async () => {
  const data = subsetSplits(loadDataset('mnist'), 300);
  const model = buildZooModel('lenet5', { inputShape: data.train.shape, numClasses: 10, seed: 0 });
  const partition = zeroInvariantGroups(model);
  const prunable = partition.groups.filter((g) => g.prunable);
  zeroOutGroups(
    model,
    prunable.filter((_, i) => i % 3 === 0),
  );
  const sparseEval = evaluate(model, data.test, data.normalization);
  const slim = await buildVerifiedSlim({ model, partition, eval: sparseEval }, data, (m) => evaluate(m, data.test, data.normalization));
  assert.equal(slim.removed.length, prunable.filter((_, i) => i % 3 === 0).length);
  assert.ok(slim.after.macs < slim.before.macs);
  assert.equal(slim.predictionMismatches, 0);
  assert.equal(slim.eval.accuracy, sparseEval.accuracy);
  slim.model.dispose();
  model.dispose();
});

test('a run from a model file tests the original before any training: its figures are those evaluate gives the model as saved, and a score near chance names the normalisation flags', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-original-'));
  try {
    const data = subsetSplits(loadDataset('mnist'), 300);
    const model = buildZooModel('lenet5', { inputShape: [28, 28, 1], numClasses: 10, seed: 3 });
    const file = await saveModel(model, join(dir, 'original'), { normalization: data.normalization });
    const expected = { ...evaluate(model, data.test, data.normalization), ...countModel(model) };
    model.dispose();
    const stages: string[] = [];
    const r = await runCompressJob(
      { ...baseJob, model: file, subset: 300, epochs: 1, method: 'hesso', targetMacsRatio: 2, measureSpeed: false },
      { onStage: (s) => stages.push(s) },
    );
    try {
      assert.deepEqual(r.original, { accuracy: expected.accuracy, loss: expected.loss, params: expected.params, macs: expected.macs });
      // untrained, it scores near chance, as a trained model fed images normalised otherwise would: the stage says what to check
      assert.ok(expected.accuracy < 0.2, `accuracy ${expected.accuracy}`);
      assert.ok(
        stages.some((s) =>
          /^the original model, before training: test accuracy .*chance is 10\.00%.*--normalize, --mean and --std/.test(s),
        ),
        stages.join('\n'),
      );
      // the sparse model is that model trained: it has learnt since
      assert.ok(r.sparse.loss < expected.loss - 0.5, `loss ${expected.loss} before training, ${r.sparse.loss} after`);
    } finally {
      r.sparseModel.dispose();
      r.slimModel.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a trained model near chance where the original was well above it is called diverged, with a fifth of the learning rate to try', () => {
  const original = { accuracy: 0.989, loss: 0.04, params: 6018, macs: 795968 };
  assert.match(
    collapseWarning(original, 0.101, 10, 0.05) ?? '',
    /scores 10\.10% where the original scored 98\.90% .*diverged.*--lr 0\.01\)/,
  );
  // no figure for the original, an original near chance itself, or a trained model above twice chance: nothing to say
  assert.equal(collapseWarning(undefined, 0.101, 10, 0.05), undefined);
  assert.equal(collapseWarning({ ...original, accuracy: 0.15 }, 0.101, 10, 0.05), undefined);
  assert.equal(collapseWarning(original, 0.21, 10, 0.05), undefined);
});
