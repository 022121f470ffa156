// npm run bench:engine [-- --backend wasm --models lenet5,resnet20 --input 32x32x3 --seconds 4 --compare-torch --rounds 2 --json]
// Training and inference images/s at batch 64 on the active backend. With
// --compare-torch the same architectures train in PyTorch on the CPU (Debian's
// python3-torch, 2 threads, bench/torch_engine.py), alternating with slimtrain model by
// model and round by round, and the table gives slimtrain / PyTorch.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initEngine } from '../src/engine/index.js';
import { buildZooModel } from '../src/models/zoo.js';
import { Sgd } from '../src/optim/dense.js';
import { trainStep, trainableVariables } from '../src/train/loop.js';
import { Rng } from '../src/util/random.js';
import { formatTable } from '../src/util/table.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    models: { type: 'string', default: 'mlp,lenet5,vgg-small,resnet20' },
    input: { type: 'string', default: '28x28x1' },
    'batch-size': { type: 'string', default: '64' },
    seconds: { type: 'string', default: '4' },
    'compare-torch': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '2' },
    python: { type: 'string', default: process.env.SLIMTRAIN_PYTHON ?? '/usr/bin/python3' },
    json: { type: 'boolean', default: false },
  },
});

const inputShape = values.input.split('x').map(Number) as [number, number, number];
if (inputShape.length !== 3 || inputShape.some((d) => !(d > 0))) {
  throw new Error(`--input must look like 28x28x1, got '${values.input}'`);
}
const batchSize = Number(values['batch-size']);
const minSeconds = Number(values.seconds);
const rounds = values['compare-torch'] ? Number(values.rounds) : 1;
const engine = await initEngine({ backend: values.backend });

interface Measurement {
  trainImagesPerSecond: number;
  inferenceImagesPerSecond: number;
}

/** Runs `fn` after two warm-up calls until `minSeconds` pass (at least 3 runs); returns runs/s. */
function rate(fn: () => void): number {
  fn();
  fn();
  let runs = 0;
  const start = performance.now();
  while (runs < 3 || performance.now() - start < minSeconds * 1000) {
    fn();
    runs++;
  }
  return runs / ((performance.now() - start) / 1000);
}

const rng = new Rng(0);
const size = batchSize * inputShape[0] * inputShape[1] * inputShape[2];
const batch = {
  x: Float32Array.from({ length: size }, () => rng.normal()),
  labels: Uint8Array.from({ length: batchSize }, () => rng.int(10)),
  size: batchSize,
};

function measureSlimtrain(name: string): Measurement & { parameters: number } {
  const model = buildZooModel(name, { inputShape, numClasses: 10, seed: 0 });
  const variables = trainableVariables(model);
  const optimizer = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const training = rate(() => trainStep(model, variables, optimizer, batch, inputShape, 0.01));
  const x = tf.tensor4d(batch.x, [batchSize, ...inputShape]);
  const inference = rate(() => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync()));
  const parameters = variables.reduce((n, v) => n + v.size, 0);
  tf.dispose(x);
  optimizer.dispose();
  model.dispose();
  return { parameters, trainImagesPerSecond: training * batchSize, inferenceImagesPerSecond: inference * batchSize };
}

const torchScript = fileURLToPath(new URL('../../bench/torch_engine.py', import.meta.url));

function measureTorch(name: string): Measurement & { parameters: number; torch: string } {
  const args = [
    torchScript,
    '--model',
    name,
    '--input',
    values.input,
    '--batch-size',
    String(batchSize),
    '--seconds',
    String(minSeconds),
    '--threads',
    '2',
  ];
  const run = spawnSync(values.python, args, { encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(
      `PyTorch reference failed (${values.python} ${args.join(' ')}):\n${run.error?.message ?? run.stderr}\nInstall Debian's python3-torch, or point --python at a Python with torch.`,
    );
  }
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const names = values.models.split(',');
const results = [];
const perModel = new Map(
  names.map((n) => [
    n,
    { slimtrain: [] as Measurement[], torch: [] as Measurement[], parameters: 0, torchParameters: 0, torchVersion: '' },
  ]),
);
for (let round = 0; round < rounds; round++) {
  for (const name of names) {
    const entry = perModel.get(name)!;
    const ours = measureSlimtrain(name);
    entry.parameters = ours.parameters;
    entry.slimtrain.push(ours);
    if (values['compare-torch']) {
      const theirs = measureTorch(name);
      entry.torchParameters = theirs.parameters;
      entry.torchVersion = theirs.torch;
      entry.torch.push(theirs);
    }
    if (!values.json) process.stderr.write(`round ${round + 1}/${rounds}: ${name} measured\n`);
  }
}
for (const [name, e] of perModel) {
  const ours = {
    train: mean(e.slimtrain.map((m) => m.trainImagesPerSecond)),
    inference: mean(e.slimtrain.map((m) => m.inferenceImagesPerSecond)),
  };
  const row: Record<string, unknown> = {
    model: name,
    parameters: e.parameters,
    trainImagesPerSecond: ours.train,
    inferenceImagesPerSecond: ours.inference,
    rounds: e.slimtrain,
  };
  if (values['compare-torch']) {
    const theirs = {
      train: mean(e.torch.map((m) => m.trainImagesPerSecond)),
      inference: mean(e.torch.map((m) => m.inferenceImagesPerSecond)),
    };
    if (e.torchParameters !== e.parameters)
      throw new Error(`${name}: PyTorch model has ${e.torchParameters} parameters, slimtrain's ${e.parameters}`);
    Object.assign(row, {
      torch: { trainImagesPerSecond: theirs.train, inferenceImagesPerSecond: theirs.inference, rounds: e.torch },
      trainRatio: ours.train / theirs.train,
      inferenceRatio: ours.inference / theirs.inference,
    });
  }
  results.push(row);
}

const report = {
  backend: engine.backend,
  engine: describeBackend(engine),
  torch: values['compare-torch'] ? [...perModel.values()][0]?.torchVersion : undefined,
  batchSize,
  input: inputShape,
  rounds,
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  results,
};
if (values.json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  const f = (x: unknown) => (typeof x === 'number' ? Math.round(x).toLocaleString('en-US') : '');
  const r2 = (x: unknown) => (typeof x === 'number' ? `${x.toFixed(2)}x` : '');
  const header = values['compare-torch']
    ? ['model', 'params', 'train img/s', 'PyTorch train', 'ratio', 'infer img/s', 'PyTorch infer', 'ratio']
    : ['model', 'params', 'train img/s', 'infer img/s'];
  const rows = results.map((r) => {
    const t = r.torch as Measurement | undefined;
    return values['compare-torch']
      ? [
          r.model as string,
          f(r.parameters),
          f(r.trainImagesPerSecond),
          f(t?.trainImagesPerSecond),
          r2(r.trainRatio),
          f(r.inferenceImagesPerSecond),
          f(t?.inferenceImagesPerSecond),
          r2(r.inferenceRatio),
        ]
      : [r.model as string, f(r.parameters), f(r.trainImagesPerSecond), f(r.inferenceImagesPerSecond)];
  });
  process.stdout.write(`slimtrain: ${report.engine}${report.torch ? `; PyTorch ${report.torch} CPU, 2 threads` : ''}\n`);
  process.stdout.write(
    `batch ${batchSize}, input ${values.input}, ${rounds} round(s) alternating, mean of rounds; ${report.cpu}, ${report.cores} cores\n\n`,
  );
  process.stdout.write(`${formatTable({ header, rows })}\n`);
}
