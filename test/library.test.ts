// compress() as a library caller uses it: their own tf.sequential model, their data
// as tensors or a tf.data.Dataset, progress callbacks and an AbortSignal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import seedrandom from 'seedrandom';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tfd from '@tensorflow/tfjs-data';
import { initEngine } from '../src/engine/index.js';
import { compress } from '../src/compress/compress.js';
import { loadDataset, takeFirst } from '../src/data/datasets.js';
import { DataError } from '../src/data/errors.js';
import { sparseTraining } from '../src/compress/fit.js';
import { constructSlimModel, zeroGroups } from '../src/slim/construct.js';

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

const mnistTest = takeFirst(mnist.test, 500);
const testXs = tf.tensor4d(
  Float32Array.from(mnistTest.images, (v) => v / 255),
  [mnistTest.count, 28, 28, 1],
);
const testYs = tf.oneHot(tf.tensor1d(mnistTest.labels, 'int32'), 10);
const method = { optimizer: 'dhspg', targetMacsRatio: 2, lr: 0.05 } as const;

/**
 * fits `model` with the sparse optimizer and callback, as a TensorFlow.js user's script
 * would; model.fit shuffles with Math.random, seeded here so every run is the same
 */
async function fitSparse(model: tfl.LayersModel, epochs: number, training = sparseTraining(model, method)) {
  model.compile({ optimizer: training.optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const random = Math.random;
  seedrandom('slimtrain-fit', { global: true });
  try {
    const history = await model.fit(xs, ys, { epochs, batchSize: 32, shuffle: true, callbacks: [training.callback], verbose: 0 });
    return { training, history };
  } finally {
    Math.random = random;
  }
}

test('model.fit with sparseTraining’s optimizer and callback reaches the sparsity and accuracy compress reaches with the same settings', async () => {
  const viaCompress = userModel();
  const r = await compress(viaCompress, { train: { xs, ys }, test: { xs: testXs, ys: testYs } }, { ...settings, ...method });

  const model = userModel();
  const { training, history } = await fitSparse(model, settings.epochs);
  assert.equal(history.history.zeroGroups.at(-1), training.stats().zeroGroups, "fit's logs carry the zero groups");
  const slim = await constructSlimModel(model, { partition: training.partition });
  const macsRatio = slim.before.macs / slim.after.macs;
  slim.model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const [, accuracy] = (slim.model.evaluate(testXs, testYs) as tf.Scalar[]).map((t) => t.dataSync()[0]);
  assert.ok(Math.abs(macsRatio - r.ratios.macs) < 0.25, `fit: ${macsRatio}x fewer MACs, compress: ${r.ratios.macs}x`);
  assert.ok(
    Math.abs(training.stats().zeroGroups - r.sparse.zeroGroups) <= 4,
    `zero groups: fit ${training.stats().zeroGroups}, compress ${r.sparse.zeroGroups}`,
  );
  assert.ok(Math.abs(accuracy - r.slim.accuracy) < 0.04, `test accuracy: fit ${accuracy}, compress ${r.slim.accuracy}`);
  assert.ok(slim.check.maxAbsDiff < 1e-4);
  for (const m of [viaCompress, r.sparseModel, r.slimModel, model, slim.model]) m.dispose();
  training.optimizer.dispose();
});

test('groups that reached zero under model.fit stay zero in a later fit call, which continues the same run', async () => {
  const model = userModel();
  const { training } = await fitSparse(model, 1);
  const zero = zeroGroups(model, training.partition.groups).map((g) => g.id);
  assert.ok(zero.length > 0);
  const steps = training.optimizer.sparse!.stepCount;
  await fitSparse(model, 1, training);
  assert.equal(training.optimizer.sparse!.stepCount, 2 * steps);
  const stillZero = new Set(zeroGroups(model, training.partition.groups).map((g) => g.id));
  assert.deepEqual(
    zero.filter((id) => !stillZero.has(id)),
    [],
  );
  model.dispose();
  training.optimizer.dispose();
});

test('model.fitDataset trains with the sparse optimizer, the steps per epoch from the dataset; of a dataset of unknown size it asks for batchesPerEpoch', async () => {
  const model = userModel();
  const training = sparseTraining(model, method);
  model.compile({ optimizer: training.optimizer, loss: 'categoricalCrossentropy' });
  const batches = tfd.zip({ xs: tfd.array(tf.unstack(xs)), ys: tfd.array(tf.unstack(ys)) }).batch(50);
  await model.fitDataset(batches, { epochs: 1, callbacks: [training.callback], verbose: 0 });
  assert.equal(training.optimizer.sparse!.stepCount, 30);
  const slim = await constructSlimModel(model, { partition: training.partition });
  assert.ok(slim.before.macs / slim.after.macs >= 1.9, `${slim.before.macs / slim.after.macs}x`);
  for (const m of [model, slim.model]) m.dispose();
  training.optimizer.dispose();

  const unsized = userModel();
  const other = sparseTraining(unsized, method);
  unsized.compile({ optimizer: other.optimizer, loss: 'categoricalCrossentropy' });
  const stream = tfd.generator(function* () {
    for (let i = 0; i < 3; i++) yield { xs: tf.slice(xs, i * 50, 50), ys: tf.slice(ys, i * 50, 50) };
  });
  await assert.rejects(
    unsized.fitDataset(stream, { epochs: 1, callbacks: [other.callback], verbose: 0 }),
    /give fitDataset's batchesPerEpoch/,
  );
  unsized.dispose();
});

test('sparseTraining with useSchedule false leaves the learning rate to the caller; by default each step takes our schedule', async () => {
  const rates = async (options: Parameters<typeof sparseTraining>[1]) => {
    const model = userModel();
    const training = sparseTraining(model, options);
    training.optimizer.learningRate = 0.01;
    model.compile({ optimizer: training.optimizer, loss: 'categoricalCrossentropy' });
    const seen: number[] = [];
    const spy = new tfl.CustomCallback({ onBatchEnd: async () => void seen.push(training.optimizer.learningRate) });
    await model.fit(tf.slice(xs, 0, 320), tf.slice(ys, 0, 320), {
      epochs: 1,
      batchSize: 32,
      callbacks: [training.callback, spy],
      verbose: 0,
    });
    model.dispose();
    training.optimizer.dispose();
    return seen;
  };
  assert.deepEqual(await rates({ ...method, useSchedule: false }), new Array<number>(10).fill(0.01));
  const ours = await rates({ ...method, warmupEpochs: 0 });
  assert.equal(ours[0], 0.05);
  assert.ok(
    ours.every((r, i) => i === 0 || r < ours[i - 1]),
    `cosine, falling: ${ours.join(', ')}`,
  );
});

test('compress() takes a zoo model and a data set by name, as the CLI does', async () => {
  const r = await compress('lenet5', 'mnist', { ...settings, subset: 600, epochs: 1 });
  assert.ok(r.ratios.macs >= 1.9 && r.check.maxAbsDiff < 1e-4, `${r.ratios.macs}x`);
  r.sparseModel.dispose();
  r.slimModel.dispose();
  await assert.rejects(compress(userModel(), 'mnist', settings), /give the model and the data both as objects, or both as names/);
});

test('sparseTraining with a speed target measures latency tables when fit() starts and zeroes groups the tables say give that speed-up', async () => {
  const model = userModel();
  // a target the floors allow on any machine's tables: they allowed at most 1.38x on an AMD EPYC under the suite's load
  const training = sparseTraining(model, { optimizer: 'dhspg', targetSpeedup: 1.2, runtime: 'ort', speedBatch: 8, lr: 0.05 });
  assert.equal(training.predictedSpeedup(), undefined, 'nothing is predicted before fit() measures');
  await fitSparse(model, 2, training);
  const predicted = training.predictedSpeedup()!;
  assert.ok(training.stats().zeroGroups > 0);
  // the choice meets the target the tables price; the projection may take a little more
  assert.ok(predicted >= 1.2 * 0.97 && predicted < 2.5, `predicted speed-up ${predicted}`);
  model.dispose();
});

test("the package's API is the documented one: building blocks live under slimtrain/internals, which holds the API too", async () => {
  const api = await import('../src/index.js');
  const internals = await import('../src/internals.js');
  for (const name of [
    'compress',
    'sparseTraining',
    'constructSlimModel',
    'zeroOutGroups',
    'zeroGroups',
    'importOnnx',
    'exportOnnx',
    'loadDataset',
  ])
    assert.ok(name in api, `${name} is in the API`);
  for (const name of ['encodeCifar', 'takeFirst', 'GroupIndex', 'registerNativeBackend']) {
    assert.ok(!(name in api), `${name} is not in the API`);
    assert.ok(name in internals, `${name} is in slimtrain/internals`);
  }
  assert.deepEqual(
    Object.keys(api).filter((k) => !(k in internals)),
    [],
    'internals holds every API name',
  );
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.deepEqual(Object.keys(pkg.exports), ['.', './internals', './package.json']);
});
