import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { loadDataset, subsetSplits, type Batch } from '../src/data/index.js';
import { buildZooModel } from '../src/models/zoo.js';
import { Adam, Sgd } from '../src/optim/dense.js';
import type { Optimizer } from '../src/optim/optimizer.js';
import { createSchedule } from '../src/train/schedules.js';
import { train, trainStep, trainableVariables, evaluate } from '../src/train/loop.js';
import { classificationLoss } from '../src/train/losses.js';
import { loadModel, saveModel } from '../src/io/model_files.js';
import { Rng } from '../src/util/random.js';
import { trainingBackends } from './helpers/backends.js';

await initEngine({ backend: 'wasm' });

// Least squares with a known solution: A x = b for a well-conditioned 3x3 system.
const A = [
  [3, 1, 0],
  [1, 4, 1],
  [0, 1, 2],
];
const b = [1, -2, 3];
/** solution of A x = b by Cramer's rule, computed independently of any optimizer */
function solve3(m: number[][], v: number[]): number[] {
  const det = (q: number[][]) =>
    q[0][0] * (q[1][1] * q[2][2] - q[1][2] * q[2][1]) -
    q[0][1] * (q[1][0] * q[2][2] - q[1][2] * q[2][0]) +
    q[0][2] * (q[1][0] * q[2][1] - q[1][1] * q[2][0]);
  const d = det(m);
  return [0, 1, 2].map((c) => det(m.map((row, r) => row.map((x, k) => (k === c ? v[r] : x)))) / d);
}

/** Minimises 0.5 x'Ax - b'x (gradient Ax - b) with `opt`; returns x. */
function minimise(opt: Optimizer, lr: number, steps: number): number[] {
  const x = tf.variable(tf.zeros([3]), true, `x${Math.random()}`);
  const At = tf.tensor2d(A);
  const bt = tf.tensor1d(b);
  for (let i = 0; i < steps; i++) {
    tf.tidy(() => {
      const g = tf.sub(tf.squeeze(tf.matMul(At, tf.reshape(x, [3, 1]))), bt);
      opt.step([x], [g], lr);
    });
  }
  const out = Array.from(x.dataSync());
  tf.dispose([x, At, bt]);
  opt.dispose();
  return out;
}

test('SGD (plain, heavy ball, Nesterov) and Adam converge to the closed-form least-squares solution', () => {
  const exact = solve3(A, b);
  const runs: [string, Optimizer, number, number][] = [
    ['sgd', new Sgd(), 0.2, 400],
    ['heavy ball', new Sgd({ momentum: 0.9 }), 0.05, 600],
    ['nesterov', new Sgd({ momentum: 0.9, nesterov: true }), 0.05, 600],
    ['adam', new Adam(), 0.05, 3000],
  ];
  for (const [name, opt, lr, steps] of runs) {
    const x = minimise(opt, lr, steps);
    x.forEach((xi, i) => assert.ok(Math.abs(xi - exact[i]) < 1e-3, `${name}: x[${i}] = ${xi}, expected ${exact[i]}`));
  }
});

test('weight decay moves the minimiser to the ridge solution (A + wd I) x = b', () => {
  const wd = 0.5;
  const ridge = solve3(
    A.map((row, r) => row.map((v, c) => v + (r === c ? wd : 0))),
    b,
  );
  const x = minimise(new Sgd({ momentum: 0.9, weightDecay: wd }), 0.05, 800);
  x.forEach((xi, i) => assert.ok(Math.abs(xi - ridge[i]) < 1e-3, `x[${i}] = ${xi}, expected ${ridge[i]}`));
});

test('SGD and Adam steps follow the PyTorch update formulas exactly', () => {
  // two steps by hand on a single weight w0 = 1 with gradients 0.5 then -0.25
  const grads = [0.5, -0.25];
  const run = (opt: Optimizer, lr: number) => {
    const w = tf.variable(tf.scalar(1), true, `w${Math.random()}`);
    for (const g of grads) tf.tidy(() => opt.step([w], [tf.scalar(g)], lr));
    const v = w.dataSync()[0];
    w.dispose();
    opt.dispose();
    return v;
  };
  // Nesterov, momentum 0.9, wd 0.1, lr 0.1:
  //   g1 = 0.5 + 0.1*1 = 0.6; buf = 0.6; step = 0.6 + 0.9*0.6 = 1.14; w = 1 - 0.114 = 0.886
  //   g2 = -0.25 + 0.0886 = -0.1614; buf = 0.54 - 0.1614 = 0.3786; step = -0.1614 + 0.34074 = 0.17934
  //   w = 0.886 - 0.017934 = 0.868066
  assert.ok(Math.abs(run(new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 0.1 }), 0.1) - 0.868066) < 1e-6);
  // Adam, lr 0.1: m1 = 0.05, v1 = 0.00025 -> mhat = 0.5, vhat = 0.25, w = 1 - 0.1*0.5/0.5 = 0.9
  //   m2 = 0.045 - 0.025 = 0.02, v2 = 0.00024975 + 0.0000625 = 0.00031225
  //   mhat = 0.02/0.19 = 0.105263..., vhat = 0.00031225/0.001999 = 0.156203...
  //   w = 0.9 - 0.1 * 0.105263/sqrt(0.156203) = 0.9 - 0.026634 = 0.873366
  assert.ok(Math.abs(run(new Adam(), 0.1) - 0.873366) < 1e-5);
});

test('learning-rate schedules: cosine, step, warm-up', () => {
  const cos = createSchedule({ name: 'cosine', baseLr: 0.1, totalSteps: 100 });
  assert.equal(cos(0), 0.1);
  assert.ok(Math.abs(cos(50) - 0.05) < 1e-12);
  assert.ok(cos(100) < 1e-12);
  const step = createSchedule({ name: 'step', baseLr: 1, totalSteps: 100, milestones: [30, 60], gamma: 0.1 });
  assert.deepEqual(
    [step(0), step(29), step(30), step(59), step(60)].map((v) => +v.toPrecision(6)),
    [1, 1, 0.1, 0.1, 0.01],
  );
  const warm = createSchedule({ name: 'cosine', baseLr: 0.4, totalSteps: 110, warmupSteps: 10 });
  assert.ok(Math.abs(warm(0) - 0.04) < 1e-12);
  assert.ok(Math.abs(warm(9) - 0.4) < 1e-12);
  assert.ok(Math.abs(warm(10) - 0.4) < 1e-12);
  assert.ok(Math.abs(warm(60) - 0.2) < 1e-12);
  assert.throws(() => createSchedule({ name: 'constant', baseLr: -1, totalSteps: 1 }), /positive/);
});

/** A stock tf.layers model touching every layer kind that needs our kernels on wasm. */
function mixedModel(seed: number): tfl.LayersModel {
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: seed * 100 + k });
  const input = tfl.input({ shape: [9, 9, 2] });
  let y = tfl.layers
    .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(1) })
    .apply(input) as tfl.SymbolicTensor;
  y = tfl.layers.batchNormalization().apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.reLU().apply(y) as tfl.SymbolicTensor;
  y = tfl.layers
    .depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'valid', depthwiseInitializer: init(2) })
    .apply(y) as tfl.SymbolicTensor;
  y = tfl.layers
    .separableConv2d({ filters: 5, kernelSize: 2, padding: 'same', depthwiseInitializer: init(3), pointwiseInitializer: init(4) })
    .apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.maxPooling2d({ poolSize: 2, padding: 'same' }).apply(y) as tfl.SymbolicTensor;
  const a = tfl.layers.globalAveragePooling2d({}).apply(y) as tfl.SymbolicTensor;
  const m = tfl.layers.globalMaxPooling2d({}).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.concatenate().apply([a, m]) as tfl.SymbolicTensor;
  y = tfl.layers.dense({ units: 3, kernelInitializer: init(5) }).apply(y) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: y });
}

function randomBatch(rng: Rng, size: number, shape: number[], classes: number): Batch {
  const n = size * shape.reduce((p, q) => p * q, 1);
  return {
    x: Float32Array.from({ length: n }, () => rng.normal()),
    labels: Uint8Array.from({ length: size }, () => rng.int(classes)),
    size,
  };
}

for (const backend of trainingBackends) {
  test(`a stock model with Conv2D, DepthwiseConv2D, SeparableConv2D, BN and pooling: ${backend} gradients equal the cpu backend's`, async () => {
    const batch = randomBatch(new Rng(1), 4, [9, 9, 2], 3);
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      const model = mixedModel(7);
      const vars = trainableVariables(model);
      const lossFn = classificationLoss(model);
      const out = tf.tidy(() => {
        const x = tf.tensor4d(batch.x, [4, 9, 9, 2]);
        const y = tf.cast(tf.oneHot(tf.tensor1d(batch.labels, 'int32'), 3), 'float32');
        const { grads: g } = tf.variableGrads(() => lossFn(model.apply(x, { training: true }) as tf.Tensor, y), vars);
        return vars.map((v) => Array.from(g[v.name].dataSync()));
      });
      model.dispose();
      return out;
    };
    const cpu = await grads('cpu');
    const wasm = await grads(backend);
    assert.equal(cpu.length, wasm.length);
    cpu.forEach((g, i) => {
      const scale = Math.max(1e-3, ...g.map(Math.abs));
      g.forEach((v, j) => assert.ok(Math.abs(v - wasm[i][j]) <= 1e-4 * scale, `variable ${i}[${j}]: cpu ${v}, ${backend} ${wasm[i][j]}`));
    });
  });

  test(`training steps on ${backend} lower the loss and leak no tensors`, async () => {
    await tf.setBackend(backend);
    const model = mixedModel(3);
    const vars = trainableVariables(model);
    const opt = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    const batch = randomBatch(new Rng(2), 8, [9, 9, 2], 3);
    const first = trainStep(model, vars, opt, batch, [9, 9, 2], 0.05);
    const counts: number[] = [];
    let last = first;
    for (let i = 0; i < 30; i++) {
      last = trainStep(model, vars, opt, batch, [9, 9, 2], 0.05);
      counts.push(tf.memory().numTensors);
    }
    assert.ok(
      counts.every((c) => c === counts[0]),
      `tensor counts per step: ${counts.join(',')}`,
    );
    assert.ok(last.loss < 0.5 * first.loss, `loss ${first.loss} -> ${last.loss}`);
    opt.dispose();
    model.dispose();
  });

  test(`model.fit trains a stock conv model on ${backend}`, async () => {
    await tf.setBackend(backend);
    const model = mixedModel(5);
    model.compile({
      optimizer: tf.train.momentum(0.05, 0.9),
      loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
    });
    const batch = randomBatch(new Rng(4), 16, [9, 9, 2], 3);
    const x = tf.tensor4d(batch.x, [16, 9, 9, 2]);
    const y = tf.cast(tf.oneHot(tf.tensor1d(batch.labels, 'int32'), 3), 'float32');
    const h = await model.fit(x, y, { epochs: 25, batchSize: 8, verbose: 0, shuffle: false });
    const losses = h.history.loss as number[];
    assert.ok(losses[losses.length - 1] < 0.5 * losses[0], `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
    tf.dispose([x, y]);
    model.dispose();
  });
}

test('LeNet-5 learns MNIST: one epoch on 3000 images beats 85% on 1000 test images', async () => {
  await tf.setBackend('wasm');
  const data = subsetSplits(loadDataset('mnist'), 3000);
  const model = buildZooModel('lenet5', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  const before = evaluate(model, { ...data.test, count: 1000, labels: data.test.labels.subarray(0, 1000) }, data.normalization);
  const history = await train(model, data, {
    epochs: 1,
    batchSize: 32,
    seed: 1,
    lr: 0.05,
    schedule: 'cosine',
    warmupEpochs: 0.5,
    optimizer: { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
  });
  assert.ok(before.accuracy < 0.3, `untrained accuracy ${before.accuracy}`);
  assert.ok(history[0].testAccuracy > 0.85, `accuracy after one epoch ${history[0].testAccuracy}`);
  model.dispose();
});

test('training refuses data that do not fit the model, naming both shapes', async () => {
  const data = subsetSplits(loadDataset('mnist'), 10);
  const model = buildZooModel('lenet5', { inputShape: [32, 32, 3], numClasses: 10 });
  await assert.rejects(
    () => train(model, data, { epochs: 1, batchSize: 4, seed: 0, lr: 0.1, schedule: 'constant', optimizer: { name: 'sgd' } }),
    /images of shape \[28, 28, 1\] but model 'lenet5' takes inputs of shape \[32, 32, 3\]/,
  );
  model.dispose();
});

test('a saved model reloads with its metadata and predicts the same; broken files are clear errors', async () => {
  await tf.setBackend('wasm');
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-model-'));
  const model = buildZooModel('resnet20', { inputShape: [12, 12, 3], numClasses: 4, seed: 2 });
  // move BN statistics away from their initial values so that they must round-trip too
  const batch = randomBatch(new Rng(6), 4, [12, 12, 3], 4);
  const opt = new Sgd({ momentum: 0.9 });
  trainStep(model, trainableVariables(model), opt, batch, [12, 12, 3], 0.01);
  opt.dispose();
  const path = await saveModel(model, dir, { dataset: 'test', normalization: { mean: [0.5], std: [0.25] } });
  const loaded = await loadModel(path);
  assert.deepEqual(loaded.metadata.normalization, { mean: [0.5], std: [0.25] });
  const x = tf.tensor4d(batch.x, [4, 12, 12, 3]);
  const a = (model.predict(x) as tf.Tensor).dataSync();
  const c = (loaded.model.predict(x) as tf.Tensor).dataSync();
  assert.deepEqual(Array.from(c), Array.from(a));
  // a stock TensorFlow.js loader reads our files too
  const json = JSON.parse(readFileSync(path, 'utf8'));
  assert.equal(json.format, 'layers-model');
  assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);

  const weights = readFileSync(join(dir, 'weights.bin'));
  writeFileSync(join(dir, 'weights.bin'), weights.subarray(0, weights.length - 8));
  await assert.rejects(loadModel(path), /weights of .*model\.json hold \d+ bytes but its manifest needs \d+/);
  rmSync(join(dir, 'weights.bin'));
  await assert.rejects(loadModel(path), /cannot read weights file .*weights\.bin/);
  writeFileSync(path, '{"modelTopology": ');
  await assert.rejects(loadModel(path), /model\.json is not valid JSON/);
  await assert.rejects(loadModel(join(dir, 'missing.json')), /cannot read model file/);
  model.dispose();
  loaded.model.dispose();
  tf.dispose(x);
});
