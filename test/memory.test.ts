// Training holds its memory steady: after the first steps, every step frees what it
// made, on the engine a user gets by default (native where the addon is built).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { engineFailure, initEngine } from '../src/engine/index.js';
import { Sgd } from '../src/optim/dense.js';
import { trainableVariables, trainStep } from '../src/train/loop.js';
import { Rng } from '../src/util/random.js';

const engine = await initEngine({ announce: false });

/**
 * One of each block the ImageNet architectures train through: ZeroPadding2D before a
 * stride-2 depthwise convolution, BN, ReLU6 and swish, a squeeze-and-excitation gate,
 * a residual Add, a Concatenate and average pooling.
 */
function everyBlock(inputShape: [number, number, number]): tfl.LayersModel {
  const x = tfl.input({ shape: inputShape });
  const bn = (t: tfl.SymbolicTensor) => tfl.layers.batchNormalization().apply(t) as tfl.SymbolicTensor;
  const conv = (t: tfl.SymbolicTensor, filters: number) =>
    tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false }).apply(t) as tfl.SymbolicTensor;
  let y = tfl.layers.reLU({ maxValue: 6 }).apply(bn(conv(x, 16))) as tfl.SymbolicTensor;
  y = tfl.layers
    .zeroPadding2d({
      padding: [
        [0, 1],
        [0, 1],
      ],
    })
    .apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, useBias: false }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.activation({ activation: 'swish' }).apply(bn(y)) as tfl.SymbolicTensor;
  let gate = tfl.layers.globalAveragePooling2d({}).apply(y) as tfl.SymbolicTensor;
  gate = tfl.layers.reshape({ targetShape: [1, 1, 16] }).apply(gate) as tfl.SymbolicTensor;
  gate = tfl.layers.conv2d({ filters: 16, kernelSize: 1, activation: 'sigmoid' }).apply(gate) as tfl.SymbolicTensor;
  y = tfl.layers.multiply().apply([y, gate]) as tfl.SymbolicTensor;
  y = tfl.layers.add().apply([y, bn(conv(y, 16))]) as tfl.SymbolicTensor;
  y = tfl.layers.concatenate().apply([y, conv(y, 8)]) as tfl.SymbolicTensor;
  y = tfl.layers.averagePooling2d({ poolSize: 2 }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.globalAveragePooling2d({}).apply(y) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: tfl.layers.dense({ units: 10 }).apply(y) as tfl.SymbolicTensor });
}

test(`100 training steps on ${engine.backend}, after 100 to warm up, end with the tensors, bytes and resident memory they began with`, () => {
  const inputShape: [number, number, number] = [32, 32, 3];
  const model = everyBlock(inputShape);
  const variables = trainableVariables(model);
  const optimizer = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const rng = new Rng(3);
  const batch = {
    x: Float32Array.from({ length: 16 * 32 * 32 * 3 }, () => rng.normal()),
    labels: Uint8Array.from({ length: 16 }, () => rng.int(10)),
    size: 16,
  };
  const snapshot = () => ({ ...tf.memory(), rss: process.memoryUsage().rss });
  // resident memory settles over the first 100 steps here (V8's heap and code, the
  // buffer pool): about 20 MiB, then 1-3 MiB over the next 100
  let start: ReturnType<typeof snapshot> | undefined;
  for (let step = 1; step <= 200; step++) {
    trainStep(model, variables, optimizer, batch, inputShape, 0.01);
    if (step === 100) start = snapshot();
  }
  const end = snapshot();
  assert.equal(end.numTensors, start!.numTensors, 'live tensors');
  assert.equal(end.numBytes, start!.numBytes, 'bytes held by tensors');
  // a leak of one activation a step (100 x 1 MiB for the first convolution's) would show
  const grewMiB = (end.rss - start!.rss) / 2 ** 20;
  assert.ok(grewMiB < 16, `resident memory grew by ${grewMiB.toFixed(1)} MiB from step 100 to step 200`);
  optimizer.dispose();
  model.dispose();
});

test('backpropagation frees each op’s gradients and saved tensors once its backward has run', () => {
  // 12 dense layers of 256 units on 64 rows: every activation and every gradient is 64 KiB
  const weights = Array.from({ length: 12 }, (_, i) => tf.randomNormal([256, 256], 0, 0.06, 'float32', i + 2));
  const x = tf.randomNormal([64, 256], 0, 1, 'float32', 1);
  let heldAtTheInput = 0;
  // an identity whose gradient, the last to run, reads what is still held
  const probe = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.clone(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => {
      heldAtTheInput = tf.memory().numBytes;
      return tf.clone(dy);
    },
  }));
  const before = tf.memory().numBytes;
  const gradient = tf.grad((input: tf.Tensor) => tf.sum(weights.reduce((y, w) => tf.relu(tf.matMul(y, w)), probe(input) as tf.Tensor)))(x);
  // TensorFlow.js alone holds the 24 saved activations and the 24 gradients there (3 MiB)
  const heldKiB = (heldAtTheInput - before) / 1024;
  assert.ok(heldKiB <= 4 * 64, `${heldKiB} KiB held when the last gradient ran`);
  assert.deepEqual(gradient.shape, [64, 256]);
  assert.ok(gradient.dataSync().some((v) => v !== 0));
  tf.dispose([gradient, x, ...weights]);
});

test("the wasm backend's bare abort (its memory exhausted) is named with what to do; other errors pass as they are", () => {
  // what the wasm backend threw training MobileNetV2 at 224, batch 16
  const abort = new WebAssembly.RuntimeError('Aborted(). Build with -sASSERTIONS for more info.');
  assert.match(engineFailure(abort) ?? '', /wasm backend .*out of memory.*4 GiB.*--batch-size.*native backend/);
  assert.equal(engineFailure(new Error('Aborted()')), undefined);
  assert.equal(engineFailure(new WebAssembly.RuntimeError('unreachable')), undefined);
});
