// compress() as a library caller uses it: their own tf.sequential model, their data
// as tensors or a tf.data.Dataset, progress callbacks and an AbortSignal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tfd from '@tensorflow/tfjs-data';
import { initEngine } from '../src/engine/index.js';
import { compress } from '../src/compress/compress.js';
import { loadDataset, takeFirst } from '../src/data/datasets.js';
import { DataError } from '../src/data/errors.js';

await initEngine({ announce: false });

/** A user's model: built with the layers API, softmax output, no slimtrain involved. */
function userModel(): tfl.Sequential {
  const m = tfl.sequential({ name: 'users_cnn' });
  m.add(
    tfl.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: 12,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: tfl.initializers.heNormal({ seed: 1 }),
    }),
  );
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: 2 }) }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 32, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: 3 }) }));
  m.add(tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotNormal({ seed: 4 }) }));
  return m;
}

/** MNIST as a user holds it: float pixels in [0, 1], one-hot labels */
const mnist = loadDataset('mnist');
const train = takeFirst(mnist.train, 1500);
const xs = tf.tensor4d(
  Float32Array.from(train.images, (v) => v / 255),
  [train.count, 28, 28, 1],
);
const ys = tf.oneHot(tf.tensor1d(train.labels, 'int32'), 10);

const settings = { optimizer: 'dhspg', targetMacsRatio: 2, epochs: 2, batchSize: 32, lr: 0.05, seed: 0, measureSpeed: false } as const;

const weightsOf = (m: tfl.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

test('compress() takes a tf.sequential model and {xs, ys} tensors, meets the MACs target, and leaves the caller model as it was', async () => {
  const model = userModel();
  const before = weightsOf(model);
  const stages: string[] = [];
  const epochs: number[] = [];
  const r = await compress(model, { xs, ys }, { ...settings, onStage: (s) => stages.push(s), onEpochEnd: (m) => epochs.push(m.epoch) });
  assert.ok(r.ratios.macs >= 1.9, `MACs ratio ${r.ratios.macs}`);
  assert.ok(r.slim.accuracy > 0.8, `slim accuracy ${r.slim.accuracy}`);
  assert.ok(r.check.maxAbsDiff < 1e-4, `slim vs sparse ${r.check.maxAbsDiff}`);
  assert.equal(r.sparse.accuracy, r.slim.accuracy);
  assert.deepEqual(epochs, [1, 2]);
  assert.ok(
    stages.some((s) => s.includes('150 for testing')),
    stages.join('; '),
  );
  assert.deepEqual(weightsOf(model), before, "the caller's model is not trained");
  assert.ok(r.sparseModel.layers.length === model.layers.length && r.slimModel !== r.sparseModel);
  r.sparseModel.dispose();
  r.slimModel.dispose();
  model.dispose();
});

test('compress() reads a tf.data.Dataset of {xs, ys} batches as it reads the same data as tensors: the same run, step for step', async () => {
  const runs = [];
  for (const data of [
    { train: { xs, ys }, test: { xs: tf.slice(xs, 0, 300), ys: tf.slice(ys, 0, 300) } },
    {
      train: tfd.zip({ xs: tfd.array(tf.unstack(xs)), ys: tfd.array(tf.unstack(ys)) }).batch(100),
      test: tfd.zip({ xs: tfd.array(tf.unstack(tf.slice(xs, 0, 300))), ys: tfd.array(tf.unstack(tf.slice(ys, 0, 300))) }),
    },
  ]) {
    const model = userModel();
    const r = await compress(model, data as never, { ...settings, epochs: 1 });
    runs.push({ loss: r.history.map((e) => e.trainLoss), zero: r.sparse.zeroGroups, test: r.slim.accuracy });
    r.sparseModel.dispose();
    r.slimModel.dispose();
    model.dispose();
  }
  assert.deepEqual(runs[1], runs[0]);
});

test('compress() stops when its AbortSignal aborts: it rejects with the reason and leaves no tensors behind', async () => {
  const model = userModel();
  const tensorsBefore = tf.memory().numTensors;
  const controller = new AbortController();
  let batches = 0;
  await assert.rejects(
    compress(
      model,
      { xs, ys },
      { ...settings, signal: controller.signal, onBatchEnd: () => ++batches === 3 && controller.abort(new Error('user stop')) },
    ),
    /user stop/,
  );
  assert.equal(batches, 3, 'training stopped after the step that aborted');
  assert.equal(tf.memory().numTensors, tensorsBefore);
  await assert.rejects(compress(model, { xs, ys }, { ...settings, signal: AbortSignal.abort() }), { name: 'AbortError' });
  model.dispose();
});

test('compress() names what is wrong with data it cannot use', async () => {
  const model = userModel();
  await assert.rejects(
    compress(model, { xs: tf.reshape(xs, [1500, 784]), ys }, settings),
    (e) => e instanceof DataError && /xs must be images/.test(e.message),
  );
  await assert.rejects(
    compress(model, { xs, ys: tf.fill([1500], 12, 'int32') }, settings),
    /label 12 is not a class of a model with 10 outputs/,
  );
  await assert.rejects(compress(model, { xs, ys: tf.slice(ys, 0, 10) }, settings), /1500 images but 10 labels/);
  model.dispose();
});
