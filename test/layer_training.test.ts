// Layers whose training TensorFlow.js 4.22 cannot do by itself: a dilated Conv2D (no
// gradient for dilation) and BatchNormalization without a scale or a centre (it
// reads the missing weights). slimtrain's engine patches both; here they train, on
// every backend that trains, with the forward pass unchanged and gradients checked
// against finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { trainingBackends } from './helpers/backends.js';

await initEngine({ backend: 'cpu', announce: false });

/** d loss / d kernel[i] by central differences, in float64 around the float32 values */
function finiteDifference(loss: () => number, kernel: tfl.LayerVariable, i: number, h = 1e-2): number {
  const base = kernel.read().dataSync().slice();
  const at = (delta: number) => {
    const v = base.slice();
    v[i] += delta;
    kernel.write(tf.tensor(v, kernel.shape as number[]));
    return loss();
  };
  const g = (at(h) - at(-h)) / (2 * h);
  kernel.write(tf.tensor(base, kernel.shape as number[]));
  return g;
}

for (const backend of ['cpu', ...trainingBackends]) {
  test(`dilated Conv2D trains on ${backend}: training-mode outputs equal inference, kernel gradient equals finite differences`, async () => {
    await tf.setBackend(backend);
    const layer = tfl.layers.conv2d({
      filters: 3,
      kernelSize: 3,
      dilationRate: [2, 3],
      padding: 'same',
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotNormal({ seed: 3 }),
      biasInitializer: 'ones',
    });
    const x = tf.randomNormal([2, 9, 11, 2], 0, 1, 'float32', 4);
    const inference = layer.apply(x) as tf.Tensor;
    const training = layer.apply(x, { training: true }) as tf.Tensor;
    assert.ok(tf.max(tf.abs(tf.sub(inference, training))).dataSync()[0] < 1e-5);
    const kernel = layer.weights[0] as unknown as tfl.LayerVariable;
    const loss = () => tf.tidy(() => tf.sum(tf.square(layer.apply(x, { training: true }) as tf.Tensor)).dataSync()[0]);
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.square(layer.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
      [kernel.read() as tf.Variable],
    );
    const g = Object.values(grads)[0].dataSync();
    for (const i of [0, 7, 20, 53]) {
      const fd = finiteDifference(loss, kernel, i);
      assert.ok(Math.abs(fd - g[i]) <= 2e-2 * (1 + Math.abs(fd)), `kernel[${i}]: autodiff ${g[i]}, finite differences ${fd}`);
    }
    tf.dispose([x, inference, training]);
    await tf.setBackend('cpu');
  });

  test(`BatchNormalization without scale or centre trains on ${backend}: normalised outputs, moving statistics, gradients`, async () => {
    await tf.setBackend(backend);
    const x = tf.add(tf.mul(tf.randomNormal([8, 4, 4, 3], 0, 1, 'float32', 5), 2), 1);
    for (const options of [{ scale: false }, { center: false }, { scale: false, center: false }]) {
      const layer = tfl.layers.batchNormalization({ ...options, momentum: 0.5 });
      const y = layer.apply(x, { training: true }) as tf.Tensor;
      // with gamma 1 and beta 0 at initialisation, each channel comes out with mean 0 and variance ~1
      const { mean, variance } = tf.moments(y, [0, 1, 2]);
      assert.ok(tf.max(tf.abs(mean)).dataSync()[0] < 1e-4, JSON.stringify(options));
      assert.ok(tf.max(tf.abs(tf.sub(variance, 1))).dataSync()[0] < 1e-2, JSON.stringify(options));
      // the moving mean moved half way to the batch mean (momentum 0.5)
      const moving = layer.getWeights().find((w) => w.size === 3 && w.dataSync()[0] !== 0 && w.dataSync()[0] !== 1)!;
      assert.ok(moving, `moving statistics updated (${JSON.stringify(options)})`);
      const trainable = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      if (trainable.length > 0) {
        const { grads } = tf.variableGrads(
          () => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, tf.range(0, 3))) as tf.Scalar,
          trainable,
        );
        for (const g of Object.values(grads)) assert.ok(g.dataSync().every(Number.isFinite));
      }
      tf.dispose(y);
    }
    tf.dispose(x);
    await tf.setBackend('cpu');
  });
}
