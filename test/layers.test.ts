// The layer rules of src/layers on the layers real models use beyond convolutions:
// Rescaling, PReLU, Reshape (the squeeze-and-excitation gate), Cropping2D,
// UpSampling2D, LeakyReLU/ELU/ThresholdedReLU, Softmax. Each model: analyse, zero a
// seeded half of the prunable groups, slim (outputs equal, sizes as predicted),
// export to ONNX and check it in ONNX Runtime, and take a few training steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { zeroInvariantGroups } from '../src/graph/groups.js';
import { Sgd } from '../src/optim/dense.js';
import { trainableVariables, trainStep } from '../src/train/loop.js';
import { Rng } from '../src/util/random.js';
import { halfZeroedSlim, randomizeBatchNorm } from './helpers/groups.js';

await initEngine({ backend: 'cpu', announce: false });

type Initializer = ReturnType<typeof tfl.initializers.glorotUniform>;
type Build = (x: tfl.SymbolicTensor, init: () => Initializer) => tfl.SymbolicTensor;
const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) => layer.apply(x) as tfl.SymbolicTensor;
const conv = (filters: number, init: () => Initializer, activation = 'linear') =>
  tfl.layers.conv2d({
    filters,
    kernelSize: 3,
    padding: 'same',
    activation: activation as 'relu',
    kernelInitializer: init(),
    biasInitializer: init(),
  });

const cases: { name: string; prunable: number; blocked?: RegExp; body: Build }[] = [
  {
    name: 'Rescaling(1/255) at the input, then a conv; Rescaling with an offset after it blocks its channels',
    prunable: 4,
    blocked: /adds an offset/,
    body: (x, init) => {
      let y = apply(tfl.layers.rescaling({ scale: 1 / 255 }), x);
      y = apply(conv(4, init, 'relu'), y);
      y = apply(conv(5, init), y);
      return apply(tfl.layers.rescaling({ scale: 2, offset: -1 }), y);
    },
  },
  {
    name: 'PReLU per position and shared over space',
    prunable: 4 + 6,
    body: (x, init) => {
      let y = apply(conv(4, init), x);
      y = apply(tfl.layers.prelu({ alphaInitializer: init() }), y);
      y = apply(conv(6, init), y);
      return apply(tfl.layers.prelu({ sharedAxes: [1, 2], alphaInitializer: init() }), y);
    },
  },
  {
    name: 'a squeeze-and-excitation gate: GAP, Dense, Dense(sigmoid), Reshape([1, 1, C]), Multiply',
    // a zero feature channel zeroes its product with the gate: each feature channel and its gate unit are one
    // prunable group (6), beside the squeeze units (3)
    prunable: 6 + 3,
    body: (x, init) => {
      const f = apply(conv(6, init, 'relu'), x);
      let s = apply(tfl.layers.globalAveragePooling2d({}), f);
      s = apply(tfl.layers.dense({ units: 3, activation: 'relu', kernelInitializer: init(), biasInitializer: init() }), s);
      s = apply(tfl.layers.dense({ units: 6, activation: 'sigmoid', kernelInitializer: init(), biasInitializer: init() }), s);
      s = apply(tfl.layers.reshape({ targetShape: [1, 1, 6] }), s);
      return apply(tfl.layers.multiply(), [f, s]);
    },
  },
  {
    name: 'Cropping2D, UpSampling2D and the parametric activations',
    prunable: 4 + 3 + 5,
    body: (x, init) => {
      let y = apply(conv(4, init), x);
      y = apply(
        tfl.layers.cropping2D({
          cropping: [
            [1, 0],
            [2, 1],
          ],
        }),
        y,
      );
      y = apply(tfl.layers.leakyReLU({ alpha: 0.2 }), y);
      y = apply(conv(3, init), y);
      y = apply(tfl.layers.upSampling2d({ size: [2, 3] }), y);
      y = apply(tfl.layers.elu({}), y);
      y = apply(conv(5, init), y);
      return apply(tfl.layers.thresholdedReLU({ theta: 0.1 }), y);
    },
  },
  {
    name: 'a U-Net-style decoder: Conv2DTranspose (same and valid, stride above kernel), skip concatenation, per-pixel softmax',
    // conv 4 (skip), conv 6, transpose 4, transpose 5; the softmax over channels blocks the last conv's 3
    prunable: 4 + 6 + 4 + 5,
    blocked: /Softmax\) mixes channels/,
    body: (x, init) => {
      const skip = apply(conv(4, init, 'relu'), x);
      let y = apply(tfl.layers.maxPooling2d({ poolSize: 2 }), skip);
      y = apply(conv(6, init, 'relu'), y);
      const up = { kernelInitializer: init(), biasInitializer: init() };
      y = apply(tfl.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', ...up }), y);
      y = apply(tfl.layers.concatenate(), [y, skip]);
      y = apply(tfl.layers.conv2dTranspose({ filters: 5, kernelSize: 2, strides: 3, padding: 'valid', ...up }), y);
      y = apply(tfl.layers.maxPooling2d({ poolSize: 3 }), y);
      y = apply(conv(3, init), y);
      return apply(tfl.layers.softmax({ axis: -1 }), y);
    },
  },
  {
    name: 'LayerNormalization over the channels blocks the channels it normalises',
    prunable: 5,
    blocked: /LayerNormalization\) normalises across channels/,
    body: (x, init) => {
      let y = apply(conv(4, init), x);
      y = apply(tfl.layers.layerNormalization({ gammaInitializer: init(), betaInitializer: init() }), y);
      return apply(conv(5, init, 'relu'), y);
    },
  },
  {
    name: 'activations as layers and as options: swish, mish, gelu, softsign (f(0) = 0) and hard sigmoid (not)',
    // the hard sigmoid blocks the 3 channels of the conv it follows
    prunable: 4 + 5 + 6,
    blocked: /activation 'hardSigmoid' of .* is not zero at zero/,
    body: (x, init) => {
      let y = apply(conv(4, init, 'swish'), x);
      y = apply(tfl.layers.activation({ activation: 'mish' }), y);
      y = apply(conv(5, init, 'gelu'), y);
      y = apply(conv(6, init, 'softsign'), y);
      y = apply(conv(3, init), y);
      return apply(tfl.layers.activation({ activation: 'hardSigmoid' }), y);
    },
  },
  {
    name: 'BatchNormalization without a scale (Keras scale=False) or without scale and centre: in its conv group, moving mean zeroed with it',
    prunable: 4 + 5,
    body: (x, init) => {
      let y = apply(conv(4, init), x);
      y = apply(tfl.layers.batchNormalization({ scale: false }), y);
      y = apply(tfl.layers.reLU(), y);
      y = apply(conv(5, init), y);
      y = apply(tfl.layers.batchNormalization({ scale: false, center: false }), y);
      return apply(tfl.layers.reLU(), y);
    },
  },
  {
    name: 'a sigmoid read by a conv blocks its channels; a product of two sigmoids too; a product with a zero channel does not',
    // conv 3 (sigmoid) feeds a conv: blocked; two sigmoids of conv 5 multiplied feed a conv: blocked;
    // conv 6 times its own sigmoid (swish written out) is one prunable group per channel
    prunable: 6,
    blocked: /activation 'sigmoid' of .* is not zero at zero/,
    body: (x, init) => {
      let y = apply(conv(3, init, 'sigmoid'), x);
      y = apply(conv(5, init), y);
      const a = apply(tfl.layers.activation({ activation: 'sigmoid' }), y);
      y = apply(tfl.layers.multiply(), [a, apply(tfl.layers.activation({ activation: 'sigmoid' }), y)]);
      y = apply(conv(6, init), y);
      return apply(tfl.layers.multiply(), [y, apply(tfl.layers.activation({ activation: 'sigmoid' }), y)]);
    },
  },
  {
    name: 'Permute: swapping height and width keeps the channels; moving the channel axis blocks them',
    prunable: 4,
    blocked: /moves the channel axis/,
    body: (x, init) => {
      let y = apply(conv(4, init), x);
      y = apply(tfl.layers.permute({ dims: [2, 1, 3] }), y);
      y = apply(conv(5, init), y);
      return apply(tfl.layers.permute({ dims: [3, 1, 2] }), y);
    },
  },
];

for (const c of cases) {
  test(`${c.name}: groups, exact slim model, ONNX Runtime, training`, async () => {
    let serial = 0;
    const init = () => tfl.initializers.glorotUniform({ seed: 1000 + ++serial });
    const input = tfl.input({ shape: [8, 8, 3] });
    let y = c.body(input, init);
    y = apply(tfl.layers.flatten(), y);
    y = apply(tfl.layers.dense({ units: 4, kernelInitializer: init() }), y);
    y = apply(tfl.layers.softmax(), y);
    const model = tfl.model({ inputs: input, outputs: y });
    randomizeBatchNorm(model, 3);
    const partition = zeroInvariantGroups(model);
    const prunable = partition.groups.filter((g) => g.prunable);
    assert.equal(prunable.length, c.prunable);
    if (c.blocked)
      assert.ok(
        partition.groups.some((g) => g.reasons.some((r) => c.blocked!.test(r))),
        'the blocking reason is given',
      );
    const rng = new Rng(5);
    const { slim } = await halfZeroedSlim(model, partition, rng);
    // a few steps of training run and change the weights
    const variables = trainableVariables(slim.model);
    const before = variables.map((v) => v.dataSync().slice());
    const optimizer = new Sgd({ momentum: 0.9 });
    const batch = { x: Float32Array.from({ length: 4 * 8 * 8 * 3 }, () => rng.normal()), labels: Uint8Array.from([0, 1, 2, 3]), size: 4 };
    for (let s = 0; s < 3; s++) assert.ok(Number.isFinite(trainStep(slim.model, variables, optimizer, batch, [8, 8, 3], 0.05).loss));
    assert.ok(variables.some((v, i) => v.dataSync().some((x, k) => x !== before[i][k])));
    optimizer.dispose();
    slim.model.dispose();
    model.dispose();
  });
}
