// Checkpoints and resume: on the cpu backend a run stopped (at an epoch boundary or
// mid-epoch) and resumed from its checkpoint file ends with weights bit-identical
// to the same run done straight through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../src/engine/index.js';
import { loadDataset, subsetSplits } from '../src/data/index.js';
import { buildZooModel } from '../src/models/zoo.js';
import { NumericalFault, train, TrainingStopped, type TrainConfig } from '../src/train/loop.js';
import { readCheckpoint, writeCheckpoint, CheckpointError, type Checkpoint } from '../src/train/checkpoint.js';
import { runCompressJob, type CompressJob } from '../src/compress/job.js';

await initEngine({ backend: 'cpu' });
const data = subsetSplits(loadDataset('mnist'), 192);
const config: TrainConfig = {
  epochs: 4,
  batchSize: 32,
  seed: 3,
  lr: 0.05,
  schedule: 'cosine',
  warmupEpochs: 0.5,
  optimizer: { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
};
const build = () => buildZooModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
const weightsOf = (m: ReturnType<typeof build>) => m.weights.map((w) => Array.from(w.read().dataSync()));

const straight = await (async () => {
  const model = build();
  const history = await train(model, data, config);
  return { weights: weightsOf(model), history };
})();

/** Trains until `stop(epoch, batch)` says so, checkpoints through the files, resumes in a fresh model. */
async function stopAndResume(stop: (epoch: number, batch: number) => boolean) {
  const dir = join(mkdtempSync(join(tmpdir(), 'slimtrain-ckpt-')), 'checkpoint');
  let stopping = false;
  const first = build();
  await assert.rejects(
    () =>
      train(
        first,
        data,
        { ...config, shouldStop: () => stopping, onCheckpoint: (c) => writeCheckpoint(dir, c) },
        {
          onBatchEnd: (b) => (stopping ||= stop(b.epoch, b.batch)),
        },
      ),
    TrainingStopped,
  );
  const stoppedAt = readCheckpoint(dir).state;
  const resumed = build();
  const history = await train(resumed, data, { ...config, resume: readCheckpoint(dir), onCheckpoint: (c) => writeCheckpoint(dir, c) });
  return { weights: weightsOf(resumed), history, dir, stoppedAt };
}

test('2 epochs, stop, resume, 2 more: bit-identical weights and the same history as 4 straight', async () => {
  const r = await stopAndResume((epoch, batch) => epoch === 2 && batch === 6); // 6 steps per epoch
  assert.deepEqual([r.stoppedAt.epoch, r.stoppedAt.batchInEpoch, r.stoppedAt.step], [2, 0, 12]);
  assert.deepEqual(r.weights, straight.weights);
  assert.deepEqual(
    r.history.map((h) => [h.epoch, h.trainLoss, h.testAccuracy]),
    straight.history.map((h) => [h.epoch, h.trainLoss, h.testAccuracy]),
  );
  assert.equal(readCheckpoint(r.dir).state.epoch, 4);
});

test('stopped mid-epoch (a signal after step 9 of 24), resumed: bit-identical weights', async () => {
  const r = await stopAndResume((epoch, batch) => epoch === 2 && batch === 3);
  assert.deepEqual([r.stoppedAt.epoch, r.stoppedAt.batchInEpoch, r.stoppedAt.step], [1, 3, 9]);
  assert.deepEqual(r.weights, straight.weights);
  assert.equal(r.history.length, 4);
  assert.equal(r.history[1].trainLoss, straight.history[1].trainLoss, 'the interrupted epoch keeps its running loss');
});

test('a damaged or missing checkpoint is a clear error; the previous one survives an interrupted write', async () => {
  const base = mkdtempSync(join(tmpdir(), 'slimtrain-ckpt-'));
  assert.throws(
    () => readCheckpoint(join(base, 'none')),
    (e: Error) => e instanceof CheckpointError && /nothing to resume/.test(e.message),
  );
  const dir = join(base, 'checkpoint');
  const model = build();
  let saved: Checkpoint | undefined;
  await train(model, subsetSplits(loadDataset('mnist'), 64), { ...config, epochs: 1, onCheckpoint: (c) => (saved = c) });
  writeCheckpoint(dir, saved!);
  // a crash between the two renames leaves only DIR.prev: it is read from there
  writeCheckpoint(`${dir}-b`, saved!);
  renameSync(`${dir}-b`, `${dir}-b.prev`);
  assert.equal(readCheckpoint(`${dir}-b`).state.step, saved!.state.step);
  writeFileSync(join(dir, 'tensors-000.bin'), new Uint8Array(10));
  assert.throws(() => readCheckpoint(dir), /tensors-000.bin holds 10 bytes, the state needs \d+: the checkpoint is damaged/);
  rmSync(join(dir, 'tensors-000.bin'));
  assert.throws(() => readCheckpoint(dir), /tensors-000.bin cannot be read .*: the checkpoint is damaged/);
  assert.ok(existsSync(join(dir, 'state.json')));
  model.dispose();
});

test('a version 1 checkpoint (weights.bin, optimizer buffers as JSON numbers) still resumes, with the same arrays', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'slimtrain-ckpt-v1-')), 'checkpoint');
  const model = build();
  let saved: Checkpoint | undefined;
  await train(model, subsetSplits(loadDataset('mnist'), 64), { ...config, epochs: 1, onCheckpoint: (c) => (saved = c) });
  model.dispose();
  const { state, weights } = saved!;
  assert.ok(Object.keys(state.optimizer.slots).length > 0, 'momentum buffers to carry');
  mkdirSync(dir);
  writeFileSync(join(dir, 'weights.bin'), Buffer.concat(weights.map((w) => Buffer.from(w.buffer, w.byteOffset, w.byteLength))));
  const slots = Object.fromEntries(
    Object.entries(state.optimizer.slots).map(([k, s]) => [k, { shape: s.shape, values: Array.from(s.values) }]),
  );
  writeFileSync(join(dir, 'state.json'), JSON.stringify({ ...state, version: 1, optimizer: { ...state.optimizer, slots } }));
  const read = readCheckpoint(dir);
  assert.deepEqual(read.weights, weights);
  assert.deepEqual(read.state.optimizer.slots, state.optimizer.slots);
  assert.equal(read.state.step, state.step);
});

test('a NaN or infinite loss stops the run naming the step and the remedy; no checkpoint holds bad weights', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'slimtrain-nan-')), 'checkpoint');
  const model = build();
  await assert.rejects(
    () => train(model, data, { ...config, lr: 1e4, warmupEpochs: 0, onCheckpoint: (c) => writeCheckpoint(dir, c) }),
    (e: Error) => e instanceof NumericalFault && /step \d+/.test(e.message) && /lower the learning rate/.test(e.message),
  );
  if (existsSync(dir)) assert.ok(readCheckpoint(dir).weights.every((w) => w.every(Number.isFinite)));
  model.dispose();
});

for (const method of ['hspg', 'dhspg'] as const) {
  test(`compress (${method}, with a dense baseline) stopped in its sparse stage and resumed: bit-identical slim model and history`, async () => {
    const job: CompressJob = {
      epochs: 3,
      batchSize: 32,
      seed: 3,
      lr: 0.05,
      schedule: 'cosine',
      momentum: 0.9,
      weightDecay: 5e-4,
      model: 'mlp',
      data: 'mnist',
      subset: 192,
      method,
      lambda: method === 'hspg' ? 3 : 0.5,
      epsilon: 0.5,
      switchEpoch: 1,
      targetSparsity: 0.4,
      pruneStartEpoch: 0.5,
      pruneEndEpoch: 2,
      baseline: true,
      measureSpeed: false,
    };
    const base = mkdtempSync(join(tmpdir(), 'slimtrain-compress-ckpt-'));
    const straight = await runCompressJob(job);
    const out = join(base, 'interrupted');
    let stage = '';
    let stopping = false;
    await assert.rejects(
      () =>
        runCompressJob(
          { ...job, out, shouldStop: () => stopping },
          {
            onStage: (s) => (stage = s),
            onBatchEnd: (b) => (stopping ||= stage !== 'dense baseline' && b.epoch === 2 && b.batch === 2),
          },
        ),
      TrainingStopped,
    );
    assert.deepEqual(
      [readCheckpoint(join(out, 'checkpoint')).state.step, readCheckpoint(join(out, 'checkpoint-dense')).state.epoch],
      [8, 3],
    );
    const resumed = await runCompressJob({ ...job, out, resume: true });
    assert.deepEqual(
      resumed.slimModel.weights.map((w) => Array.from(w.read().dataSync())),
      straight.slimModel.weights.map((w) => Array.from(w.read().dataSync())),
    );
    assert.deepEqual(
      resumed.history,
      straight.history.map((h, i) => ({ ...h, seconds: resumed.history[i].seconds, imagesPerSecond: resumed.history[i].imagesPerSecond })),
    );
    assert.deepEqual(
      resumed.baseline!.history.map((h) => h.trainLoss),
      straight.baseline!.history.map((h) => h.trainLoss),
    );
    assert.ok(straight.sparse.zeroGroups > 0, 'the run made groups zero');
    await assert.rejects(
      () => runCompressJob({ ...job, lambda: 0.1, out, resume: true }),
      new RegExp(`made with other settings \\(lambda: ${job.lambda} then, 0.1 now\\)`),
    );
    // without a speed target, where the channels are rounded for acts after training: a resumed run may name it
    const rounded = await runCompressJob({ ...job, out, resume: true, roundChannels: 'auto', runtime: 'tfjs', speedBatch: 8 });
    assert.equal(rounded.speedTarget?.runtime, 'tfjs');
    for (const r of [straight, resumed, rounded]) for (const m of [r.slimModel, r.sparseModel]) m.dispose();
  });
}
