// npm run bench:engine [-- --backend cpu --models lenet5,resnet20 --input 32x32x3 --seconds 5]
// Training and inference images/s at batch 64 on the active backend, as JSON.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../src/engine/index.js';
import { buildZooModel } from '../src/models/zoo.js';
import { Sgd } from '../src/train/optimizers.js';
import { trainStep, trainableVariables } from '../src/train/loop.js';
import { Rng } from '../src/util/random.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    models: { type: 'string', default: 'mlp,lenet5,vgg-small,resnet20' },
    input: { type: 'string', default: '28x28x1' },
    'batch-size': { type: 'string', default: '64' },
    seconds: { type: 'string', default: '4' },
  },
});

const inputShape = values.input.split('x').map(Number) as [number, number, number];
if (inputShape.length !== 3 || inputShape.some((d) => !(d > 0))) {
  throw new Error(`--input must look like 28x28x1, got '${values.input}'`);
}
const batchSize = Number(values['batch-size']);
const minSeconds = Number(values.seconds);
const engine = await initEngine({ backend: values.backend });

/** Runs `fn` after two warm-up calls until `minSeconds` pass (at least 3 runs); returns runs/s. */
function rate(fn: () => void): { perSecond: number; runs: number } {
  fn();
  fn();
  let runs = 0;
  const start = performance.now();
  while (runs < 3 || performance.now() - start < minSeconds * 1000) {
    fn();
    runs++;
  }
  return { perSecond: runs / ((performance.now() - start) / 1000), runs };
}

const rng = new Rng(0);
const size = batchSize * inputShape[0] * inputShape[1] * inputShape[2];
const batch = {
  x: Float32Array.from({ length: size }, () => rng.normal()),
  labels: Uint8Array.from({ length: batchSize }, () => rng.int(10)),
  size: batchSize,
};

const results = [];
for (const name of values.models.split(',')) {
  const model = buildZooModel(name, { inputShape, numClasses: 10, seed: 0 });
  const variables = trainableVariables(model);
  const optimizer = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const training = rate(() => trainStep(model, variables, optimizer, batch, inputShape, 0.01));
  const x = tf.tensor4d(batch.x, [batchSize, ...inputShape]);
  const inference = rate(() => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync()));
  results.push({
    model: name,
    parameters: variables.reduce((n, v) => n + v.size, 0),
    trainImagesPerSecond: Math.round(training.perSecond * batchSize * 10) / 10,
    inferenceImagesPerSecond: Math.round(inference.perSecond * batchSize * 10) / 10,
    trainSteps: training.runs,
    inferenceBatches: inference.runs,
  });
  tf.dispose(x);
  optimizer.dispose();
  model.dispose();
}

process.stdout.write(
  `${JSON.stringify(
    {
      backend: engine.backend,
      simd: engine.simd,
      addedKernels: engine.addedKernels,
      batchSize,
      input: inputShape,
      node: process.version,
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      results,
    },
    null,
    2,
  )}\n`,
);
