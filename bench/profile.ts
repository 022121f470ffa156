// npm run bench:profile [-- --model resnet20 --backend wasm --input 28x28x1 --batch-size 64]
// npm run bench:profile -- --model path/to/model.json|model.onnx [--input CxHxW for a free size]
// Where one training step's time goes: kernel time per kernel name, largest first.
// A model file is trained as `compress --from` trains it (its frozen layers frozen).
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine, takeJavaScriptCalls } from '../src/engine/index.js';
import { isZooName, zooInputShape } from '../src/models/zoo.js';
import { imageShape, resolveModel } from '../src/models/resolve.js';
import { applyFreeze } from '../src/train/frozen.js';
import { Sgd } from '../src/optim/dense.js';
import { trainStep, trainableVariables } from '../src/train/loop.js';
import { Rng } from '../src/util/random.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'vgg-small' },
    backend: { type: 'string' },
    input: { type: 'string' },
    'batch-size': { type: 'string', default: '64' },
  },
});
// a zoo architecture runs at its designed size (1000 classes), the small ones at 28x28x1
const designed = zooInputShape(values.model);
const given = values.input?.split('x').map(Number) ?? designed ?? [28, 28, 1];
const batchSize = Number(values['batch-size']);
const engine = await initEngine({ backend: values.backend });
const zoo = isZooName(values.model);
const { model } = await resolveModel(values.model, { inputShape: given as [number, number, number], numClasses: designed ? 1000 : 10 }, 0, {
  modelInputShape: zoo || values.input ? given : undefined,
});
applyFreeze(model, {});
const inputShape = imageShape(model) ?? (given as [number, number, number]);
const classes = model.outputs[0].shape.at(-1) as number;
const variables = trainableVariables(model);
const optimizer = new Sgd({ momentum: 0.9 });
const rng = new Rng(0);
const batch = {
  x: Float32Array.from({ length: batchSize * inputShape[0] * inputShape[1] * inputShape[2] }, () => rng.normal()),
  labels: Uint8Array.from({ length: batchSize }, () => rng.int(Math.min(classes, 256))),
  size: batchSize,
};
trainStep(model, variables, optimizer, batch, inputShape, 0.01); // warm-up
takeJavaScriptCalls();
const start = performance.now();
const info = await tf.profile(() => {
  trainStep(model, variables, optimizer, batch, inputShape, 0.01);
});
const wall = performance.now() - start;
// on the native backend: the kernels that ran the cpu backend's JavaScript
const javascript = takeJavaScriptCalls();
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
const javascriptMs = [...byKernel.entries()].filter(([name]) => javascript.has(name)).reduce((s, [, e]) => s + e.ms, 0);
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
      javascriptShare: engine.backend === 'native' ? Math.round((1000 * javascriptMs) / total) / 10 : undefined,
      kernels: rows.map(([name, e]) => ({
        name,
        calls: e.calls,
        ms: Math.round(e.ms * 10) / 10,
        share: Math.round((1000 * e.ms) / total) / 10,
        ...(javascript.has(name) ? { javascriptCalls: javascript.get(name) } : {}),
      })),
    },
    null,
    2,
  )}\n`,
);
