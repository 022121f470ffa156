// float16 weight storage: the encoder against known bit patterns and against
// TensorFlow.js's own decoder; a model saved at half precision reloads and predicts
// within half-precision error, from half the bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../src/engine/index.js';
import { toFloat16Bits } from '../src/io/float16.js';
import { loadModel, saveModel } from '../src/io/model_files.js';
import { buildZooModel } from '../src/models/zoo.js';
import { Rng } from '../src/util/random.js';

await initEngine({ backend: 'cpu' });

test('float16 encoding: exact values, rounding half to even, subnormals, overflow, NaN', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [65504, 0x7bff],
    [65519, 0x7bff],
    [65520, 0x7c00],
    [1e6, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000],
    [3 * 2 ** -26, 0x0001],
    [1e-8, 0x0000],
    [1 + 2 ** -11, 0x3c00],
    [1 + 3 * 2 ** -11, 0x3c02],
    [2047 * 2 ** -25, 0x0400],
  ];
  const bits = toFloat16Bits(Float32Array.from(cases.map(([v]) => v)));
  cases.forEach(([v, expected], i) =>
    assert.equal(bits[i], expected, `${v}: 0x${bits[i].toString(16)} instead of 0x${expected.toString(16)}`),
  );
  assert.equal(toFloat16Bits(Float32Array.of(NaN))[0] & 0x7c00, 0x7c00);
  assert.notEqual(toFloat16Bits(Float32Array.of(NaN))[0] & 0x3ff, 0);
});

test('TensorFlow.js decodes our float16 weights to the nearest half-precision value', () => {
  const rng = new Rng(5);
  const values = Float32Array.from({ length: 4000 }, (_, i) => rng.normal() * 10 ** ((i % 9) - 6));
  const encoded = toFloat16Bits(values);
  const spec = {
    name: 'w',
    shape: [values.length],
    dtype: 'float32' as const,
    quantization: { dtype: 'float16' as const, original_dtype: 'float32' as const },
  };
  const decoded = tf.io.decodeWeights(encoded.buffer as ArrayBuffer, [spec]).w.dataSync();
  values.forEach((v, i) => {
    // spacing of float16 values around v: 2^(exponent - 10), subnormals 2^-24
    const spacing = 2 ** Math.max(Math.floor(Math.log2(Math.abs(v) || 2 ** -24)) - 10, -24);
    assert.ok(Math.abs(decoded[i] - v) <= spacing / 2 + 1e-12, `${v} decoded as ${decoded[i]}`);
  });
});

test('a model saved with float16 weights is half the bytes, reloads, and predicts within half-precision error', async () => {
  const model = buildZooModel('lenet5', { inputShape: [28, 28, 1], numClasses: 10, seed: 3 });
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-f16-'));
  await saveModel(model, join(dir, 'f32'));
  const path = await saveModel(model, join(dir, 'f16'), {}, { quantize: 'float16' });
  const full = statSync(join(dir, 'f32', 'weights.bin')).size;
  assert.equal(statSync(join(dir, 'f16', 'weights.bin')).size * 2, full);
  const manifest = JSON.parse(readFileSync(path, 'utf8')).weightsManifest[0].weights;
  assert.ok(manifest.every((w: { quantization?: { dtype: string } }) => w.quantization?.dtype === 'float16'));
  const { model: loaded } = await loadModel(path);
  const x = tf.randomNormal([4, 28, 28, 1], 0, 1, 'float32', 2);
  const a = (model.predict(x) as tf.Tensor).dataSync();
  const b = (loaded.predict(x) as tf.Tensor).dataSync();
  const scale = Math.max(...Array.from(a, Math.abs));
  let worst = 0;
  a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[i]))));
  assert.ok(worst > 0 && worst < 5e-3 * scale, `max |diff| ${worst} (scale ${scale})`);
});
