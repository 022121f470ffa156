// slimtrain's own layer classes (GroupedConv2D, ChannelSelect, Resize2D, ConstantAffine): each computes what an
// independent formulation computes (a plain Conv2D with a block-diagonal kernel;
// indexing by hand), trains with the gradients of that formulation on every backend
// that trains, saves and loads as model.json, and slims: whole parts of a grouped
// convolution go, a channel selection is renumbered, and the slim model is checked
// against its sparse parent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { zeroInvariantGroups } from '../src/graph/groups.js';
import { loadModel, saveModel } from '../src/io/model_files.js';
import { ChannelSelect } from '../src/layers/channel_select.js';
import { ConstantAffine } from '../src/layers/constant_affine.js';
import { GroupedConv2D } from '../src/layers/grouped_conv.js';
import { Resize2D } from '../src/layers/resize.js';
import { constructSlimModel } from '../src/slim/construct.js';
import { zeroOutGroups } from '../src/slim/zero.js';
import { trainingBackends } from './helpers/backends.js';

await initEngine({ backend: 'cpu', announce: false });

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** the kernel of a plain convolution equal to a grouped one: part g's block on the diagonal, zeros elsewhere */
function blockDiagonal(kernel: tf.Tensor4D, groups: number): tf.Tensor4D {
  const [kh, kw, inPer, filters] = kernel.shape;
  const outPer = filters / groups;
  const k = kernel.arraySync();
  const full = tf.buffer([kh, kw, inPer * groups, filters]);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < inPer; c++)
        for (let o = 0; o < filters; o++) full.set(k[i][j][c][o], i, j, Math.floor(o / outPer) * inPer + c, o);
  return full.toTensor() as tf.Tensor4D;
}

for (const backend of ['cpu', ...trainingBackends]) {
  test(`GroupedConv2D on ${backend} computes a plain Conv2D with a block-diagonal kernel, and trains with its gradients`, async () => {
    await tf.setBackend(backend);
    const layer = new GroupedConv2D({ filters: 6, kernelSize: [3, 2], groups: 3, strides: 2, padding: 'same', activation: 'relu' });
    const x = tf.randomNormal([2, 7, 9, 6], 0, 1, 'float32', 5);
    const y = layer.apply(x) as tf.Tensor;
    const [kernel, bias] = layer.getWeights();
    layer.setWeights([tf.randomNormal(kernel.shape, 0, 1, 'float32', 6), tf.randomNormal(bias.shape, 0, 1, 'float32', 7)]);
    const plain = tfl.layers.conv2d({ filters: 6, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'relu' });
    plain.apply(x);
    const [k, b] = layer.getWeights();
    plain.setWeights([blockDiagonal(k as tf.Tensor4D, 3), b]);
    const grouped = layer.apply(x) as tf.Tensor;
    const reference = plain.apply(x) as tf.Tensor;
    assert.deepEqual(grouped.shape, [2, 4, 5, 6]);
    assert.ok(maxDiff(grouped, reference) < 1e-5, `grouped vs block-diagonal: ${maxDiff(grouped, reference)}`);

    // d loss / d kernel: the plain convolution's gradient on the diagonal blocks
    const loss = (l: tfl.layers.Layer) => () => tf.sum(tf.square(l.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
    const ours = tf.variableGrads(loss(layer), [layer.weights[0].read() as tf.Variable]).grads;
    const theirs = tf.variableGrads(loss(plain), [plain.weights[0].read() as tf.Variable]).grads;
    const gOurs = blockDiagonal(Object.values(ours)[0] as tf.Tensor4D, 3);
    const gTheirs = Object.values(theirs)[0];
    const mask = blockDiagonal(tf.onesLike(Object.values(ours)[0]) as tf.Tensor4D, 3);
    assert.ok(maxDiff(gOurs, tf.mul(gTheirs, mask)) < 1e-3 * (1 + tf.max(tf.abs(gTheirs)).dataSync()[0]));
    tf.dispose([x, y, grouped, reference, gOurs, gTheirs, mask, ...Object.values(ours), ...Object.values(theirs)]);
    await tf.setBackend('cpu');
  });
}

test('ChannelSelect picks, repeats and pads channels as its indices say, and passes gradients back to the channels it took, as slices and as a gather', () => {
  const x = tf.tensor4d(
    Float32Array.from({ length: 2 * 2 * 3 * 4 }, (_, i) => i),
    [2, 2, 3, 4],
  );
  const xs = x.arraySync();
  // four runs or fewer: slices and zeros, concatenated; six runs of one: a gather
  for (const indices of [
    [3, -1, 0, 3],
    [3, -1, 0, 3, 2, 1],
  ]) {
    const layer = new ChannelSelect({ indices });
    const y = layer.apply(x) as tf.Tensor4D;
    y.arraySync().forEach((n, a) =>
      n.forEach((r, b) =>
        r.forEach((px, c) =>
          assert.deepEqual(
            px,
            indices.map((i) => (i < 0 ? 0 : xs[a][b][c][i])),
          ),
        ),
      ),
    );
    const g = tf
      .grad((t: tf.Tensor) => tf.sum(layer.apply(t) as tf.Tensor))(x)
      .arraySync() as number[][][][];
    assert.deepEqual(
      g[0][0][0],
      [0, 1, 2, 3].map((c) => indices.filter((i) => i === c).length),
    );
    y.dispose();
  }
  assert.throws(() => new ChannelSelect({ indices: [0, 1.5] }), /indices must be a non-empty list of channel numbers/);
  assert.throws(
    () => new ChannelSelect({ indices: [4] }).apply(tfl.input({ shape: [2, 2, 4] })),
    /index 4 is beyond the input's 4 channels/,
  );
  x.dispose();
});

test('Resize2D computes what ONNX Runtime computes (checked on imports) and its gradient is the finite differences of its output, in every coordinate mode', () => {
  const x = tf.randomNormal([1, 5, 4, 2], 0, 1, 'float32', 9);
  const weights = tf.randomNormal([1, 7, 9, 2], 0, 1, 'float32', 10);
  for (const coordinates of ['half_pixel', 'align_corners', 'asymmetric', 'pytorch_half_pixel'] as const) {
    for (const interpolation of ['bilinear', 'nearest'] as const) {
      const layer = new Resize2D({ size: [7, 9], coordinates, interpolation });
      const loss = (t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, weights));
      const g = tf.grad(loss)(x).dataSync();
      const base = x.dataSync();
      for (const i of [0, 5, 17, 39]) {
        const at = (d: number) => {
          const v = Float32Array.from(base);
          v[i] += d;
          return loss(tf.tensor(v, x.shape)).dataSync()[0];
        };
        const fd = (at(1e-2) - at(-1e-2)) / 2e-2;
        assert.ok(Math.abs(fd - g[i]) <= 1e-3 * (1 + Math.abs(fd)), `${coordinates} ${interpolation} [${i}]: ${g[i]} vs ${fd}`);
      }
      // every output is a convex combination of inputs: a constant map stays that constant
      const flat = layer.apply(tf.fill([1, 5, 4, 2], 3)) as tf.Tensor;
      assert.ok(maxDiff(flat, tf.fill(flat.shape, 3)) < 1e-6);
    }
  }
});

/** conv (8) -> grouped conv (4 parts of 2) -> shuffle -> pad two zero channels -> conv */
function ownLayersModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [6, 6, 3] });
  const a = tfl.layers
    .conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'a' })
    .apply(input) as tfl.SymbolicTensor;
  const b = new GroupedConv2D({ name: 'b', filters: 8, kernelSize: 3, groups: 4, padding: 'same', activation: 'relu' }).apply(
    a,
  ) as tfl.SymbolicTensor;
  const shuffled = new ChannelSelect({ name: 'shuffle', indices: [0, 2, 4, 6, 1, 3, 5, 7, -1, -1] }).apply(b) as tfl.SymbolicTensor;
  const out = tfl.layers.conv2d({ filters: 2, kernelSize: 1, name: 'out' }).apply(shuffled) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

test('GroupedConv2D and ChannelSelect save as model.json and load back (by slimtrain and by tf.loadLayersModel) computing the same outputs', async () => {
  const model = ownLayersModel();
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-own-'));
  await saveModel(model, dir);
  const classes = (
    JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { modelTopology: { config: { layers: { class_name: string }[] } } }
  ).modelTopology.config.layers.map((l) => l.class_name);
  assert.ok(classes.includes('GroupedConv2D') && classes.includes('ChannelSelect'));
  const { model: loaded } = await loadModel(dir);
  const x = tf.randomNormal([3, 6, 6, 3], 0, 1, 'float32', 8);
  assert.ok(maxDiff(model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor) === 0);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
  };
  const bin = readFileSync(join(dir, 'weights.bin'));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  const viaTf = await tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData }),
  );
  assert.ok(maxDiff(model.predict(x) as tf.Tensor, viaTf.predict(x) as tf.Tensor) === 0);
  tf.dispose(x);
});

test('a grouped convolution loses whole parts and a channel selection is renumbered when zero groups are removed', async () => {
  const model = ownLayersModel();
  const partition = zeroInvariantGroups(model);
  // each part of b is one group with the two channels of a it reads; the padding's zeros belong to no weights
  const parts = partition.groups.filter((g) => g.channels.some((c) => c.layer === 'b'));
  assert.equal(parts.length, 4);
  for (const g of parts)
    assert.deepEqual(g.channels.map((c) => [c.layer, c.indices.length]).sort(), [
      ['a', 2],
      ['b', 2],
    ]);
  assert.ok(parts.every((g) => g.prunable));
  const partOf = (channel: number) => parts.find((g) => g.channels.some((c) => c.layer === 'b' && c.indices.includes(channel)))!;
  zeroOutGroups(model, [partOf(2), partOf(6)]);
  const slim = await constructSlimModel(model, { partition });
  const b = slim.model.getLayer('b') as GroupedConv2D;
  assert.equal(b.groups, 2);
  assert.deepEqual(b.getWeights()[0].shape, [3, 3, 2, 4]);
  // b's channels 2, 3, 6, 7 went: the shuffle takes 0, 4, 1, 5 of 8, now 0, 2, 1, 3 of 4
  assert.deepEqual((slim.model.getLayer('shuffle') as ChannelSelect).indices, [0, 2, 1, 3, -1, -1]);
  assert.ok(slim.check.maxAbsDiff <= slim.check.bound);
  assert.ok(slim.after.macs < slim.before.macs);
});

test("ConstantAffine computes x * scale + offset with ONNX's broadcasting, keeps its arrays untrained and through model.json, and blocks the channels it reads", async () => {
  // an SSD head's box decoding: (N, anchors, 2) times and plus per-anchor arrays, then e^x
  const input = tfl.input({ shape: [5, 2] });
  const head = tfl.layers.dense({ units: 2, name: 'head' }).apply(input) as tfl.SymbolicTensor;
  const affine = new ConstantAffine({ name: 'priors', shape: [5, 1] });
  const decoded = affine.apply(head) as tfl.SymbolicTensor;
  const out = tfl.layers.activation({ activation: 'exponential' as 'linear', name: 'sizes' }).apply(decoded) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  const scale = [0.1, 0.2, 0.3, 0.4, 0.5];
  const offset = [1, -1, 2, -2, 3];
  affine.setWeights([tf.tensor(scale, [5, 1]), tf.tensor(offset, [5, 1])]);
  assert.deepEqual(
    model.trainableWeights.map((w) => w.originalName),
    ['head/kernel', 'head/bias'],
  );

  const x = tf.randomNormal([3, 5, 2], 0, 1, 'float32', 11);
  const h = (model.getLayer('head').apply(x) as tf.Tensor).arraySync() as number[][][];
  const y = (model.predict(x) as tf.Tensor).arraySync() as number[][][];
  // by hand: anchor a's scale and offset, on both of its values
  h.forEach((sample, n) =>
    sample.forEach((anchor, a) =>
      anchor.forEach((v, j) =>
        assert.ok(Math.abs(y[n][a][j] - Math.exp(v * scale[a] + offset[a])) < 1e-4 * Math.exp(v * scale[a] + offset[a])),
      ),
    ),
  );

  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-own-'));
  await saveModel(model, dir);
  const { model: loaded } = await loadModel(dir);
  assert.equal(maxDiff(model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor), 0);

  const partition = zeroInvariantGroups(model);
  const heads = partition.groups.filter((g) => g.channels.some((c) => c.layer === 'head'));
  assert.ok(
    heads.length === 2 && heads.every((g) => !g.prunable && g.reasons.some((r) => /priors scales and shifts each position/.test(r))),
  );
  tf.dispose(x);
});
