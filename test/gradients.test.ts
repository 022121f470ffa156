// Our replacement gradient definitions against autodiff of the plain formula.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../src/engine/index.js';
import { Rng } from '../src/util/random.js';

await initEngine({ backend: 'wasm' });

test('batch-norm gradients (x, mean, variance, scale, offset) equal autodiff of the written-out formula', async () => {
  const rng = new Rng(4);
  const rand = (shape: number[], shift = 0) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() + shift),
      shape,
    );
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    for (const statShape of [[3], [1, 1, 1, 3]]) {
      const x = rand([2, 4, 5, 3]);
      const mean = rand(statShape);
      const variance = tf.abs(rand(statShape, 1));
      const scale = rand(statShape);
      const offset = rand(statShape);
      const w = rand([2, 4, 5, 3]);
      const eps = 1e-3;
      const args = [x, mean, variance, scale, offset] as const;
      const ours = tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
        tf.sum(tf.mul(tf.batchNorm(a, m, v, o, s, eps), w)),
      );
      const plain = tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
        tf.sum(tf.mul(tf.add(tf.mul(tf.mul(tf.sub(a, m), tf.rsqrt(tf.add(v, eps))), s), o), w)),
      );
      const got = ours([...args]);
      const want = plain([...args]);
      ['x', 'mean', 'variance', 'scale', 'offset'].forEach((name, i) => {
        assert.deepEqual(got[i].shape, want[i].shape, `${backend} ${name} shape`);
        const g = got[i].dataSync();
        const r = want[i].dataSync();
        const scaleOf = Math.max(1, ...Array.from(r, Math.abs));
        r.forEach((v, j) => assert.ok(Math.abs(g[j] - v) <= 1e-4 * scaleOf, `${backend} ${statShape} d${name}[${j}]: ${g[j]} vs ${v}`));
      });
      tf.dispose([...args, w, ...got, ...want]);
    }
  }
});
