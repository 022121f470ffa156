// npm run bench:engine [-- --backend wasm --models lenet5,resnet20 --input 32x32x3 --batch-size 16,32
//                         --seconds 4 --compare-torch --rounds 2 --json --save FILE]
// Training and inference images/s, and the peak resident memory after training, on the
// active backend. Each (model, batch) is measured in a process of its own, so each peak
// is its own. A zoo architecture with a designed input (mobilenetv2, resnet50,
// inceptionv3, efficientnet-b0, densenet121) runs at that size with 1000 classes unless
// --input is given; the small ones at 28x28x1 with 10 classes.
// With --compare-torch the same architectures train in PyTorch on the CPU (Debian's
// python3-torch, 2 threads, bench/torch_engine.py), alternating with slimtrain
// measurement by measurement and round by round, and the table gives slimtrain / PyTorch.
// --save writes the JSON report to FILE (results kept as data: bench/results/engine/).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initEngine } from '../src/engine/index.js';
import { buildZooModel, imagenetInputShape } from '../src/models/zoo.js';
import { Sgd } from '../src/optim/dense.js';
import { trainStep, trainableVariables } from '../src/train/loop.js';
import { Rng } from '../src/util/random.js';
import { formatTable } from '../src/util/table.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    models: { type: 'string', default: 'mlp,lenet5,vgg-small,resnet20' },
    input: { type: 'string' },
    'batch-size': { type: 'string', default: '64' },
    seconds: { type: 'string', default: '4' },
    'compare-torch': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '2' },
    python: { type: 'string', default: process.env.SLIMTRAIN_PYTHON ?? '/usr/bin/python3' },
    json: { type: 'boolean', default: false },
    save: { type: 'string' },
    // internal: measure one model at one batch size in this process and print JSON
    worker: { type: 'string' },
  },
});

interface Measurement {
  trainImagesPerSecond: number;
  inferenceImagesPerSecond: number;
  trainPeakRssMiB: number;
  parameters: number;
}

interface Setting {
  model: string;
  input: [number, number, number];
  classes: number;
  batchSize: number;
}

const minSeconds = Number(values.seconds);

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

async function measureHere(s: Setting): Promise<Measurement & { engine: string }> {
  const engine = await initEngine({ backend: values.backend });
  const rng = new Rng(0);
  const batch = {
    x: Float32Array.from({ length: s.batchSize * s.input[0] * s.input[1] * s.input[2] }, () => rng.normal()),
    // labels are bytes (folders take up to 256 classes); the loss costs the same for any label
    labels: Uint8Array.from({ length: s.batchSize }, () => rng.int(Math.min(s.classes, 256))),
    size: s.batchSize,
  };
  const model = buildZooModel(s.model, { inputShape: s.input, numClasses: s.classes, seed: 0 });
  const variables = trainableVariables(model);
  const optimizer = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const training = rate(() => trainStep(model, variables, optimizer, batch, s.input, 0.01));
  const trainPeakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  const x = tf.tensor4d(batch.x, [s.batchSize, ...s.input]);
  const inference = rate(() =>
    tf.tidy(() => {
      (model.predict(x) as tf.Tensor).dataSync();
    }),
  );
  return {
    engine: describeBackend(engine),
    parameters: variables.reduce((n, v) => n + v.size, 0),
    trainImagesPerSecond: training * s.batchSize,
    inferenceImagesPerSecond: inference * s.batchSize,
    trainPeakRssMiB,
  };
}

if (values.worker) {
  process.stdout.write(`${JSON.stringify(await measureHere(JSON.parse(values.worker) as Setting))}\n`);
  process.exit(0);
}

const lastJsonLine = <T>(out: string) => JSON.parse(out.trim().split('\n').pop()!) as T;

function measureSlimtrain(s: Setting): Measurement & { engine: string } {
  const args = [fileURLToPath(import.meta.url), '--worker', JSON.stringify(s), '--seconds', String(minSeconds)];
  if (values.backend) args.push('--backend', values.backend);
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (run.status !== 0) throw new Error(`measuring ${s.model} at batch ${s.batchSize} failed:\n${run.stderr}`);
  return lastJsonLine<Measurement & { engine: string }>(run.stdout);
}

const torchScript = fileURLToPath(new URL('../../bench/torch_engine.py', import.meta.url));

function measureTorch(s: Setting): Measurement & { torch: string } {
  const args = [
    torchScript,
    ...['--model', s.model, '--input', s.input.join('x'), '--classes', String(s.classes)],
    ...['--batch-size', String(s.batchSize), '--seconds', String(minSeconds), '--threads', '2'],
  ];
  const run = spawnSync(values.python, args, { encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(
      `PyTorch reference failed (${values.python} ${args.join(' ')}):\n${run.error?.message ?? run.stderr}\nInstall Debian's python3-torch, or point --python at a Python with torch.`,
    );
  }
  return lastJsonLine<Measurement & { torch: string }>(run.stdout);
}

function settingsFor(name: string, batchSize: number): Setting {
  const designed = imagenetInputShape(name);
  const input = (values.input?.split('x').map(Number) ?? designed ?? [28, 28, 1]) as [number, number, number];
  if (input.length !== 3 || input.some((d) => !(d > 0))) throw new Error(`--input must look like 28x28x1, got '${values.input}'`);
  return { model: name, input, classes: designed ? 1000 : 10, batchSize };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const spread = (xs: number[]) => (xs.length > 1 ? (Math.max(...xs) - Math.min(...xs)) / mean(xs) : 0);
const compare = values['compare-torch'];
const rounds = compare ? Number(values.rounds) : 1;
const settings = values.models.split(',').flatMap((name) => values['batch-size'].split(',').map((b) => settingsFor(name, Number(b))));
const measured = settings.map((setting) => ({ setting, slimtrain: [] as Measurement[], torch: [] as Measurement[] }));
let engineName = '';
let torchVersion = '';
for (let round = 0; round < rounds; round++) {
  for (const entry of measured) {
    const ours = measureSlimtrain(entry.setting);
    engineName = ours.engine;
    entry.slimtrain.push(ours);
    if (compare) {
      const theirs = measureTorch(entry.setting);
      torchVersion = theirs.torch;
      if (theirs.parameters !== ours.parameters) {
        throw new Error(`${entry.setting.model}: PyTorch's model has ${theirs.parameters} parameters, slimtrain's ${ours.parameters}`);
      }
      entry.torch.push(theirs);
    }
    if (!values.json)
      process.stderr.write(`round ${round + 1}/${rounds}: ${entry.setting.model} batch ${entry.setting.batchSize} measured\n`);
  }
}

function summary(ms: Measurement[]) {
  const train = ms.map((m) => m.trainImagesPerSecond);
  return {
    trainImagesPerSecond: mean(train),
    trainSpread: spread(train),
    inferenceImagesPerSecond: mean(ms.map((m) => m.inferenceImagesPerSecond)),
    trainPeakRssMiB: Math.max(...ms.map((m) => m.trainPeakRssMiB)),
    rounds: ms,
  };
}

const results = measured.map(({ setting, slimtrain, torch }) => {
  const ours = summary(slimtrain);
  const row: Record<string, unknown> = { ...setting, parameters: slimtrain[0].parameters, ...ours };
  if (compare) {
    const theirs = summary(torch);
    Object.assign(row, {
      torch: theirs,
      trainRatio: ours.trainImagesPerSecond / theirs.trainImagesPerSecond,
      inferenceRatio: ours.inferenceImagesPerSecond / theirs.inferenceImagesPerSecond,
    });
  }
  return row;
});

const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();
const report = {
  command: `npm run bench:engine -- ${process.argv.slice(2).join(' ')}`.trim(),
  commit,
  date: new Date().toISOString(),
  engine: engineName,
  torch: compare ? torchVersion : undefined,
  rounds,
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  results,
};
if (values.save) {
  mkdirSync(dirname(values.save), { recursive: true });
  writeFileSync(values.save, `${JSON.stringify(report, null, 2)}\n`);
}
if (values.json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  const f = (x: unknown) => (typeof x !== 'number' ? '' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
  const r2 = (x: unknown) => (typeof x === 'number' ? `${x.toFixed(2)}x` : '');
  const header = compare
    ? ['model', 'input', 'batch', 'train img/s', 'PyTorch', 'ratio', 'infer img/s', 'PyTorch', 'ratio', 'peak MiB', 'PyTorch']
    : ['model', 'input', 'batch', 'train img/s', 'infer img/s', 'peak MiB'];
  const rows = results.map((r) => {
    const t = r.torch as ReturnType<typeof summary> | undefined;
    const head = [r.model as string, (r.input as number[]).join('x'), String(r.batchSize)];
    return compare
      ? [
          ...head,
          f(r.trainImagesPerSecond),
          f(t?.trainImagesPerSecond),
          r2(r.trainRatio),
          f(r.inferenceImagesPerSecond),
          f(t?.inferenceImagesPerSecond),
          r2(r.inferenceRatio),
          f(r.trainPeakRssMiB),
          f(t?.trainPeakRssMiB),
        ]
      : [...head, f(r.trainImagesPerSecond), f(r.inferenceImagesPerSecond), f(r.trainPeakRssMiB)];
  });
  process.stdout.write(`slimtrain: ${report.engine}${report.torch ? `; PyTorch ${report.torch} CPU, 2 threads` : ''}\n`);
  process.stdout.write(
    `${rounds} round(s) alternating, mean of rounds; peak = resident memory after training; ${report.cpu}, ${report.cores} cores\n\n`,
  );
  process.stdout.write(`${formatTable({ header, rows })}\n`);
}
