// Distillation: the teacher loss against closed forms (KL at a temperature, its
// gradient), the teacher-output cache, agreement as a measure, and label-free
// compression of a map model and of a two-output detector on an unlabelled image
// folder, end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { classificationLoss, teacherLoss, teacherLosses } from '../src/train/losses.js';
import { trainStep, trainableVariables } from '../src/train/loop.js';
import { createOptimizer } from '../src/optim/dense.js';
import { buildZooModel } from '../src/models/zoo.js';
import { evaluateAgainst, TeacherOutputs } from '../src/train/distill.js';
import { loadImageFolder } from '../src/data/folder.js';
import { cloneModel, saveModel } from '../src/io/model_files.js';
import { runCompressJob } from '../src/compress/job.js';
import { compressDefaults } from '../src/compress/defaults.js';
import { corpus } from './helpers/corpus.js';
import { Rng } from '../src/util/random.js';

await initEngine({ announce: false });

const softmax = (z: number[], t: number) => {
  const e = z.map((v) => Math.exp(v / t));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

test('the class teacher loss is T^2 times the KL divergence of the softened distributions, and zero for equal outputs', () => {
  const student = [
    [1.0, -0.5, 2.0],
    [0.3, 0.1, -1.2],
  ];
  const teacher = [
    [2.0, 0.5, -1.0],
    [0.0, 1.5, 0.4],
  ];
  const T = 3;
  const expected =
    (T *
      T *
      student
        .map((s, i) => {
          const p = softmax(teacher[i], T);
          const q = softmax(s, T);
          return p.reduce((a, pk, k) => a + pk * Math.log(pk / q[k]), 0);
        })
        .reduce((a, b) => a + b, 0)) /
    student.length;
  const loss = teacherLoss('logits', T);
  assert.ok(Math.abs(loss(tf.tensor2d(student), tf.tensor2d(teacher)).dataSync()[0] - expected) < 1e-5);
  assert.ok(Math.abs(loss(tf.tensor2d(teacher), tf.tensor2d(teacher)).dataSync()[0]) < 1e-6);
  // a softmax model's probabilities give the same loss as its logits
  const probs = (z: number[][]) => tf.softmax(tf.tensor2d(z));
  const fromProbs = teacherLoss('probabilities', T)(probs(student), probs(teacher)).dataSync()[0];
  assert.ok(Math.abs(fromProbs - expected) < 1e-4, `${fromProbs} vs ${expected}`);
});

test("the class teacher loss's gradient is T (q_student - q_teacher) / batch, softened at T", () => {
  const s = [[0.2, -1.0, 0.7, 1.5]];
  const t = [[1.0, 0.0, -0.5, 0.3]];
  const T = 2;
  const grad = tf
    .grad((x: tf.Tensor) => teacherLoss('logits', T)(x, tf.tensor2d(t)))(tf.tensor2d(s))
    .dataSync();
  const q = softmax(s[0], T);
  const p = softmax(t[0], T);
  q.forEach((qk, k) => assert.ok(Math.abs(grad[k] - T * (qk - p[k])) < 1e-5, `${grad[k]} vs ${T * (qk - p[k])}`));
});

test('the map teacher loss is the mean squared error', () => {
  const a = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const b = tf.tensor4d([1, 0, 3, 8], [1, 2, 2, 1]);
  assert.equal(teacherLoss('map', 4)(a, b).dataSync()[0], (4 + 16) / 4);
});

/** a linear map model (no bias): halving its kernel halves its output */
function linearMap(scale: number): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [6, 6, 2],
        filters: 3,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }),
      }),
    ],
  });
  model.layers[0].setWeights([tf.mul(model.layers[0].getWeights()[0], scale)]);
  return model;
}

const imageSet = (count: number, shape: [number, number, number]) => {
  const rng = new Rng(3);
  const images = new Uint8Array(count * shape[0] * shape[1] * shape[2]).map(() => rng.int(256));
  return { name: 'random', images, labels: new Uint8Array(count), count, shape, numClasses: 0 };
};

test('agreement with a teacher: a model against itself agrees fully; half the output is a relative error of one half', () => {
  const teacher = linearMap(1);
  const half = linearMap(0.5);
  const set = imageSet(10, [6, 6, 2]);
  const normalization = { mean: [0.5, 0.5], std: [0.25, 0.25] };
  const self = evaluateAgainst(teacher, teacher, set, normalization, 4);
  assert.deepEqual([self.agreement?.metric, self.agreement?.value, self.loss], ['relative error', 0, 0]);
  const r = evaluateAgainst(half, teacher, set, normalization, 4);
  assert.ok(Math.abs(r.agreement!.value - 0.5) < 1e-5, `${r.agreement!.value}`);
  assert.ok(Math.abs(r.accuracy - 0.5) < 1e-5);
});

test('teacher outputs are cached per image without augmentation and computed once', () => {
  const teacher = linearMap(1);
  let calls = 0;
  const predict = teacher.predict.bind(teacher);
  teacher.predict = (x, config) => {
    calls++;
    return predict(x, config);
  };
  const outputs = new TeacherOutputs({ teacher, weight: 1, temperature: 1 }, 8, false);
  const x = tf.randomNormal([4, 6, 6, 2], 0, 1, 'float32', 1);
  const first = outputs.of(x, Int32Array.from([5, 1, 7, 2]))[0].arraySync();
  const again = outputs.of(x, Int32Array.from([5, 1, 7, 2]))[0].arraySync();
  assert.equal(calls, 1);
  assert.deepEqual(again, first);
  // in another order, the cached rows follow their images
  const swapped = outputs.of(tf.gather(x, [1, 0]), Int32Array.from([1, 5]))[0].arraySync() as number[][][][];
  assert.deepEqual(swapped[0], (first as number[][][][])[1]);
  assert.equal(calls, 1);
  const augmented = new TeacherOutputs({ teacher, weight: 1, temperature: 1 }, 8, true);
  augmented.of(x, Int32Array.from([5, 1, 7, 2]));
  augmented.of(x, Int32Array.from([5, 1, 7, 2]));
  assert.equal(calls, 3);
});

/** 48 unlabelled 16x16 images in DIR/images: a disc of random place and size on a plain ground, so that outputs vary between images */
async function discsFolder(dir: string): Promise<string> {
  const images = join(dir, 'images');
  mkdirSync(images);
  const rng = new Rng(11);
  for (let i = 0; i < 48; i++) {
    const pixels = Buffer.alloc(16 * 16 * 3);
    const [cx, cy, r] = [rng.int(16), rng.int(16), 3 + rng.int(6)];
    for (let p = 0; p < 16 * 16; p++) {
      const inside = ((p % 16) - cx) ** 2 + (Math.floor(p / 16) - cy) ** 2 < r * r;
      for (let c = 0; c < 3; c++) pixels[p * 3 + c] = inside ? 40 + 70 * c : 220 - 60 * c;
    }
    await sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } })
      .png()
      .toFile(join(images, `${i}.png`));
  }
  return images;
}

test('--distill-only compresses the corpus autoencoder 2x on a folder of unlabelled images, measured by its agreement with the original', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-unlabelled-'));
  try {
    const images = await discsFolder(dir);
    const data = await loadImageFolder(images, { shape: [16, 16, 3], cacheDir: false });
    assert.deepEqual([data.classes, data.train.numClasses, data.train.count + data.test.count], [[], 0, 48]);
    const original = corpus.find((c) => c.name.startsWith('convolutional autoencoder'))!.build();
    const file = await saveModel(original, join(dir, 'original'), { normalization: { mean: [0, 0, 0], std: [1, 1, 1] } });
    original.dispose();
    await assert.rejects(
      runCompressJob({
        ...compressDefaults,
        model: file,
        data: images,
        method: 'hesso',
        targetMacsRatio: 2,
        epochs: 1,
        measureSpeed: false,
      }),
      /no labels .*--distill-only/,
    );
    const r = await runCompressJob({
      ...compressDefaults,
      model: file,
      data: images,
      method: 'hesso',
      targetMacsRatio: 2,
      epochs: 2,
      batchSize: 8,
      lr: 0.01,
      measureSpeed: false,
      distill: true,
      distillWeight: 1,
    });
    try {
      assert.ok(r.ratios.macs >= 1.9, `MACs ratio ${r.ratios.macs}`);
      // measured by agreement, the original would only agree with itself
      assert.equal(r.original, undefined);
      assert.equal(r.agreement?.metric, 'relative error');
      assert.ok(Number.isFinite(r.agreement!.value) && r.agreement!.value < 1, `relative error ${r.agreement!.value}`);
      // the slim model is measured by the same agreement, and the sparse and slim models agree with the teacher alike
      assert.ok(Math.abs(r.slim.accuracy - Math.max(0, 1 - r.agreement!.value)) < 1e-6);
      assert.ok(Math.abs(r.slim.accuracy - r.sparse.accuracy) < 1e-4);
    } finally {
      r.sparseModel.dispose();
      r.slimModel.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** a detector's shape: a trunk, then per-position class scores (softmax) and boxes, each reshaped to (N, positions, k) */
function twoHeadDetector(): tfl.LayersModel {
  const input = tfl.input({ shape: [16, 16, 3] });
  let x = input;
  for (const [i, filters] of [8, 16].entries())
    x = tfl.layers
      .conv2d({ filters, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: `trunk${i}` })
      .apply(x) as tfl.SymbolicTensor;
  const head = (k: number, name: string) =>
    tfl.layers
      .reshape({ targetShape: [16, k], name: `${name}_flat` })
      .apply(tfl.layers.conv2d({ filters: k, kernelSize: 1, name }).apply(x)) as tfl.SymbolicTensor;
  const scores = tfl.layers.activation({ activation: 'softmax', name: 'scores' }).apply(head(2, 'classes')) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: [scores, head(4, 'boxes')] });
}

test('a model with two outputs (scores and boxes) learns each from the teacher on unlabelled images, is measured over both, and labels are refused for it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-detector-'));
  try {
    const images = await discsFolder(dir);
    const original = twoHeadDetector();
    // the teacher loss is the sum of each output's; the cache keeps both
    const x = tf.randomNormal([3, 16, 16, 3], 0, 1, 'float32', 2);
    const outs = original.predict(x) as tf.Tensor[];
    const student = outs.map((o) => tf.mul(o, 0.5));
    const both = teacherLosses(['map', 'map'], 4)(student, outs).dataSync()[0];
    const each = outs.map((o, k) => teacherLoss('map', 4)(student[k], o).dataSync()[0]);
    assert.ok(Math.abs(both - each[0] - each[1]) < 1e-6, `${both} vs ${each}`);
    const cached = new TeacherOutputs({ teacher: original, weight: 1, temperature: 4 }, 3, false);
    const first = cached.of(x, Int32Array.from([0, 1, 2]));
    const again = cached.of(x, Int32Array.from([0, 1, 2]));
    assert.deepEqual(
      again.map((t) => t.shape),
      [
        [3, 16, 2],
        [3, 16, 4],
      ],
    );
    again.forEach((t, k) => assert.deepEqual(t.arraySync(), first[k].arraySync()));
    tf.dispose([x, ...outs, ...student, ...first, ...again]);

    const file = await saveModel(original, join(dir, 'original'), { normalization: { mean: [0, 0, 0], std: [1, 1, 1] } });
    original.dispose();
    const job = {
      ...compressDefaults,
      model: file,
      data: images,
      method: 'hesso' as const,
      targetMacsRatio: 2,
      batchSize: 8,
      measureSpeed: false,
    };
    const r = await runCompressJob({ ...job, epochs: 2, lr: 0.01, distill: true, distillWeight: 1 });
    try {
      assert.ok(r.ratios.macs >= 1.9, `MACs ratio ${r.ratios.macs}`);
      // measured by agreement, the original would only agree with itself
      assert.equal(r.original, undefined);
      assert.equal(r.agreement?.metric, 'relative error');
      assert.ok(Number.isFinite(r.agreement!.value) && r.agreement!.value < 1, `relative error ${r.agreement!.value}`);
      assert.ok(Math.abs(r.slim.accuracy - r.sparse.accuracy) < 1e-4);
      assert.equal(r.slimModel.outputs.length, 2);
    } finally {
      r.sparseModel.dispose();
      r.slimModel.dispose();
    }
    const labelled = join(dir, 'labelled');
    for (const name of ['a', 'b']) {
      mkdirSync(join(labelled, name), { recursive: true });
      for (let i = 0; i < 4; i++) copyFileSync(join(images, `${i + (name === 'b' ? 4 : 0)}.png`), join(labelled, name, `${i}.png`));
    }
    await assert.rejects(
      runCompressJob({ ...job, data: labelled, epochs: 1 }),
      /has 2 outputs \(\[16, 2\], \[16, 4\]\); labels train a model with one output .*--distill-only/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a training step with a teacher blends the teacher term with the label loss by the weight', async () => {
  const model = buildZooModel('lenet5', { inputShape: [28, 28, 1], numClasses: 10, seed: 2 });
  const rng = new Rng(4);
  const batch = {
    x: Float32Array.from({ length: 8 * 28 * 28 }, () => rng.next() - 0.5),
    labels: Uint8Array.from({ length: 8 }, () => rng.int(10)),
    size: 8,
  };
  const x = tf.tensor4d(batch.x, [8, 28, 28, 1]);
  const labelLoss = classificationLoss(model)(
    model.apply(x, { training: true }) as tf.Tensor,
    tf.oneHot(tf.tensor1d(batch.labels, 'int32'), 10),
  ).dataSync()[0];
  // a teacher identical to the student: the teacher term is zero, what is left is the label share
  const teacher = await cloneModel(model);
  const optimizer = createOptimizer({ name: 'sgd', momentum: 0 });
  const step = trainStep(
    model,
    trainableVariables(model),
    optimizer,
    batch,
    [28, 28, 1],
    0,
    new TeacherOutputs({ teacher, weight: 0.75, temperature: 4 }, 8, false),
  );
  assert.ok(Math.abs(step.loss - 0.25 * labelLoss) < 1e-5, `${step.loss} vs ${0.25 * labelLoss}`);
  await assert.rejects(
    runCompressJob({
      ...compressDefaults,
      model: 'lenet5',
      data: 'mnist',
      subset: 100,
      method: 'hesso',
      targetMacsRatio: 2,
      distill: true,
    }),
    /lenet5 is built untrained: start from the trained model \(--from FILE\)/,
  );
});
