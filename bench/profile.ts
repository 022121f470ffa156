// npm run bench:profile [-- --model resnet20 --backend wasm --input 28x28x1 --batch-size 64]
// npm run bench:profile -- --model path/to/model.json|model.onnx [--input CxHxW for a free size]
// npm run bench:profile -- --corpus [--batch-size 16]
// Where one training step's time goes: kernel time per kernel name, largest first.
// A model file is trained as `compress --from` trains it (its frozen layers frozen).
// --corpus profiles every classifier of the test corpus (test/helpers/corpus.ts) and
// gives, per kernel that ran in JavaScript on the native backend, its share of each step.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initEngine, takeJavaScriptCalls } from '../src/engine/index.js';
import { isZooName, imagenetInputShape } from '../src/models/zoo.js';
import { imageShape, resolveModel } from '../src/models/resolve.js';
import { applyFreeze } from '../src/train/frozen.js';
import { Sgd } from '../src/optim/dense.js';
import { trainStep, trainableVariables } from '../src/train/loop.js';
import { TeacherOutputs } from '../src/train/distill.js';
import { Rng } from '../src/util/random.js';
import { corpus } from '../test/helpers/corpus.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'vgg-small' },
    corpus: { type: 'boolean', default: false },
    backend: { type: 'string' },
    input: { type: 'string' },
    'batch-size': { type: 'string' },
  },
});
const engine = await initEngine({ backend: values.backend });

/**
 * One profiled training step (after a warm-up step) of `model` on random images of
 * `inputShape`. A classifier trains on labels; a model with maps or several outputs
 * (a detector) as `compress --distill-only` trains it, against its own outputs, which
 * the warm-up step computes and keeps, so that the profile is the student's step.
 */
async function profileStep(model: tfl.LayersModel, inputShape: number[], batchSize: number) {
  const classes = model.outputs[0].shape.at(-1) as number;
  const variables = trainableVariables(model);
  const optimizer = new Sgd({ momentum: 0.9 });
  const rng = new Rng(0);
  const batch = {
    x: Float32Array.from({ length: batchSize * inputShape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    labels: Uint8Array.from({ length: batchSize }, () => rng.int(Math.min(classes, 256))),
    indices: Int32Array.from({ length: batchSize }, (_, i) => i),
    size: batchSize,
  };
  const classifier = model.outputs.length === 1 && model.outputs[0].shape.length === 2;
  const teacher = classifier ? undefined : new TeacherOutputs({ teacher: model, weight: 1, temperature: 1 }, batchSize, false);
  const step = () => trainStep(model, variables, optimizer, batch, inputShape, 0.01, teacher, teacher !== undefined);
  step(); // warm-up
  takeJavaScriptCalls();
  const start = performance.now();
  const info = await tf.profile(() => {
    step();
  });
  const wall = performance.now() - start;
  optimizer.dispose();
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
  const share = (ms: number) => Math.round((1000 * ms) / total) / 10;
  const javascriptMs = [...byKernel.entries()].filter(([name]) => javascript.has(name)).reduce((s, [, e]) => s + e.ms, 0);
  return {
    stepMs: Math.round(wall),
    kernelMs: Math.round(total),
    javascriptShare: engine.backend === 'native' ? share(javascriptMs) : undefined,
    kernels: [...byKernel.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([name, e]) => ({
        name,
        calls: e.calls,
        ms: Math.round(e.ms * 10) / 10,
        share: share(e.ms),
        ...(javascript.has(name) ? { javascriptCalls: javascript.get(name) } : {}),
      })),
  };
}

const print = (x: unknown) => process.stdout.write(`${JSON.stringify(x, null, 2)}\n`);

if (values.corpus) {
  const batchSize = Number(values['batch-size'] ?? 16);
  const models = [];
  for (const c of corpus) {
    const model = c.build();
    // classifiers: one (N, classes) output, as the training step takes
    if (model.outputs.length === 1 && model.outputs[0].shape.length === 2) {
      const profile = await profileStep(model, model.inputs[0].shape.slice(1) as number[], batchSize);
      const inJavaScript = profile.kernels.filter((k) => k.javascriptCalls !== undefined && k.share > 0);
      models.push({ model: c.name, stepMs: profile.stepMs, javascriptShare: profile.javascriptShare, inJavaScript });
    }
    model.dispose();
  }
  print({ backend: engine.backend, batchSize, models });
} else {
  // a zoo architecture runs at its designed size (1000 classes), the small ones at 28x28x1
  const designed = imagenetInputShape(values.model);
  const given = values.input?.split('x').map(Number) ?? designed ?? [28, 28, 1];
  const batchSize = Number(values['batch-size'] ?? 64);
  const zoo = isZooName(values.model);
  const { model } = await resolveModel(
    values.model,
    { inputShape: given as [number, number, number], numClasses: designed ? 1000 : 10 },
    0,
    {
      modelInputShape: zoo || values.input ? given : undefined,
    },
  );
  applyFreeze(model, {});
  const inputShape = imageShape(model) ?? (given as [number, number, number]);
  print({
    backend: engine.backend,
    model: values.model,
    input: inputShape,
    batchSize,
    ...(await profileStep(model, inputShape, batchSize)),
  });
}
