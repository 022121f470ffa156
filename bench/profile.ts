// npm run bench:profile [-- --model resnet20 --backend wasm --input 28x28x1]
// Where one training step's time goes: kernel time per kernel name, largest first.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../src/engine/index.js';
import { buildZooModel } from '../src/models/zoo.js';
import { Sgd } from '../src/optim/dense.js';
import { trainStep, trainableVariables } from '../src/train/loop.js';
import { Rng } from '../src/util/random.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'vgg-small' },
    backend: { type: 'string' },
    input: { type: 'string', default: '28x28x1' },
    'batch-size': { type: 'string', default: '64' },
  },
});
const inputShape = values.input.split('x').map(Number) as [number, number, number];
const batchSize = Number(values['batch-size']);
const engine = await initEngine({ backend: values.backend });
const model = buildZooModel(values.model, { inputShape, numClasses: 10, seed: 0 });
const variables = trainableVariables(model);
const optimizer = new Sgd({ momentum: 0.9 });
const rng = new Rng(0);
const batch = {
  x: Float32Array.from({ length: batchSize * inputShape[0] * inputShape[1] * inputShape[2] }, () => rng.normal()),
  labels: Uint8Array.from({ length: batchSize }, () => rng.int(10)),
  size: batchSize,
};
trainStep(model, variables, optimizer, batch, inputShape, 0.01); // warm-up
const start = performance.now();
const info = await tf.profile(() => {
  trainStep(model, variables, optimizer, batch, inputShape, 0.01);
});
const wall = performance.now() - start;
const byKernel = new Map<string, { calls: number; ms: number }>();
for (const k of info.kernels) {
  // op-level wrappers (names ending in __op) contain their kernels: count the kernels only
  if (k.name.endsWith('__op')) continue;
  const ms = await k.kernelTimeMs;
  const entry = byKernel.get(k.name) ?? { calls: 0, ms: 0 };
  entry.calls++;
  entry.ms += typeof ms === 'number' ? ms : 0;
  byKernel.set(k.name, entry);
}
const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
process.stdout.write(
  `${JSON.stringify(
    {
      backend: engine.backend,
      model: values.model,
      input: inputShape,
      batchSize,
      stepMs: Math.round(wall),
      kernelMs: Math.round(total),
      kernels: rows.map(([name, e]) => ({
        name,
        calls: e.calls,
        ms: Math.round(e.ms * 10) / 10,
        share: Math.round((1000 * e.ms) / total) / 10,
      })),
    },
    null,
    2,
  )}\n`,
);
