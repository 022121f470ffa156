// Our gradient kernels against two independent references: the cpu backend's own
// kernels, and central differences of the forward operation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine, gradientKernelConfig } from '../src/engine/index.js';
import { Rng } from '../src/util/random.js';
import { trainingBackends } from './helpers/backends.js';
import { fixedCases, randomCases, type Case } from './helpers/conv_cases.js';

type Pad = 'same' | 'valid';
const cases = [...fixedCases, ...randomCases(7, 28)];

function randomTensor(rng: Rng, shape: number[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(size);
  for (let i = 0; i < size; i++) v[i] = rng.normal();
  return tf.tensor(v, shape);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  const diff = maxAbsDiff(actual, expected);
  const tol = 1e-4 * Math.max(1, maxAbs(expected));
  assert.ok(diff <= tol, `${what}: max abs difference ${diff} > ${tol}`);
}

/** Runs `fn` on backend `name`, releasing every tensor it made. */
async function onBackend<T>(name: string, fn: () => T): Promise<T> {
  await tf.setBackend(name);
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}

interface Problem {
  x: Float32Array;
  filter: Float32Array;
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  dyShape: [number, number, number, number];
  dy: Float32Array;
}

function makeProblem(k: Case, depthwise: boolean, rng: Rng): Problem {
  const xShape: [number, number, number, number] = [k.n, k.h, k.w, k.c];
  const filterShape: [number, number, number, number] = [k.kh, k.kw, k.c, k.co];
  const x = randomTensor(rng, xShape);
  const f = randomTensor(rng, filterShape);
  const y = depthwise
    ? tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, k.stride, k.pad, 'NHWC', k.dilation)
    : tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, k.stride, k.pad, 'NHWC', k.dilation);
  const dy = randomTensor(rng, y.shape);
  const problem = {
    x: x.dataSync() as Float32Array,
    filter: f.dataSync() as Float32Array,
    dy: dy.dataSync() as Float32Array,
    xShape,
    filterShape,
    dyShape: y.shape as [number, number, number, number],
  };
  tf.dispose([x, f, y, dy]);
  return problem;
}

function attrsOf(k: Case, p: Problem, kernel: string): tf.NamedAttrMap {
  const base = {
    strides: [k.stride, k.stride],
    pad: k.pad,
    dilations: [k.dilation, k.dilation],
    dimRoundingMode: undefined,
    dataFormat: 'NHWC',
  };
  return (kernel.endsWith('Filter')
    ? { ...base, filterShape: p.filterShape }
    : { ...base, inputShape: p.xShape }) as unknown as tf.NamedAttrMap;
}

function inputsOf(p: Problem, kernel: string): tf.NamedTensorMap {
  const dy = tf.tensor(p.dy, p.dyShape);
  return kernel.endsWith('Filter') ? { x: tf.tensor(p.x, p.xShape), dy } : { dy, filter: tf.tensor(p.filter, p.filterShape) };
}

/** Runs `kernel` through the engine on the active backend (ours on wasm, native on cpu). */
function engineKernel(kernel: string, p: Problem, attrs: tf.NamedAttrMap): Float32Array {
  const out = tf.engine().runKernel(kernel, inputsOf(p, kernel), attrs) as tf.Tensor;
  return out.dataSync() as Float32Array;
}

/** Runs our composed kernel on the cpu backend (independent of the wasm kernels). */
function composedOnCpu(kernel: string, p: Problem, attrs: tf.NamedAttrMap): Float32Array {
  const config = gradientKernelConfig(kernel, 'cpu');
  const inputs = inputsOf(p, kernel);
  const info = config.kernelFunc({ inputs, attrs, backend: tf.backend() }) as tf.TensorInfo;
  const out = tf.engine().makeTensorFromTensorInfo(info);
  return out.dataSync() as Float32Array;
}

/**
 * Central differences of L = sum(conv(x, filter) * dy), which is linear in x and in
 * the filter, so a large step is exact up to float32 round-off.
 */
function finiteDifferences(k: Case, p: Problem, depthwise: boolean, wrt: 'x' | 'filter', indices: number[]): number[] {
  const loss = (x: Float32Array, f: Float32Array): number =>
    tf.tidy(() => {
      const xt = tf.tensor4d(x, p.xShape);
      const ft = tf.tensor4d(f, p.filterShape);
      const y = depthwise
        ? tf.depthwiseConv2d(xt, ft, k.stride, k.pad, 'NHWC', k.dilation)
        : tf.conv2d(xt, ft, k.stride, k.pad, 'NHWC', k.dilation);
      return tf.sum(tf.mul(y, tf.tensor(p.dy, p.dyShape))).dataSync()[0];
    });
  const step = 0.5;
  return indices.map((i) => {
    const base = wrt === 'x' ? p.x : p.filter;
    const plus = Float32Array.from(base);
    const minus = Float32Array.from(base);
    plus[i] += step;
    minus[i] -= step;
    const lp = wrt === 'x' ? loss(plus, p.filter) : loss(p.x, plus);
    const lm = wrt === 'x' ? loss(minus, p.filter) : loss(p.x, minus);
    return (lp - lm) / (2 * step);
  });
}

const kernels = [
  { kernel: 'Conv2DBackpropFilter', depthwise: false, wrt: 'filter' as const },
  { kernel: 'Conv2DBackpropInput', depthwise: false, wrt: 'x' as const },
  { kernel: 'DepthwiseConv2dNativeBackpropFilter', depthwise: true, wrt: 'filter' as const },
  { kernel: 'DepthwiseConv2dNativeBackpropInput', depthwise: true, wrt: 'x' as const },
];

await initEngine({ backend: 'wasm' });

for (const backend of trainingBackends)
  for (const { kernel, depthwise, wrt } of kernels) {
    test(`${kernel}: ${backend}${backend === 'wasm' ? ' and composed-on-cpu' : ''} agree with the cpu kernel and finite differences`, async () => {
      const rng = new Rng(11);
      for (const k of cases) {
        const label = `${kernel} ${JSON.stringify(k)}`;
        const p = await onBackend('cpu', () => makeProblem(k, depthwise, rng));
        const attrs = attrsOf(k, p, kernel);
        const onWasm = await onBackend(backend, () => engineKernel(kernel, p, attrs));
        const composed = await onBackend('cpu', () => composedOnCpu(kernel, p, attrs));
        // The cpu backend's backprop kernels ignore dilation; there finite
        // differences are the only reference.
        if (k.dilation === 1) {
          const reference = await onBackend('cpu', () => engineKernel(kernel, p, attrs));
          assertClose(onWasm, reference, `${label} ${backend} vs cpu`);
          assertClose(composed, reference, `${label} composed-on-cpu vs cpu`);
        }
        const size = onWasm.length;
        const indices = [0, size - 1, rng.int(size), rng.int(size), rng.int(size)];
        const fd = await onBackend('cpu', () => finiteDifferences(k, p, depthwise, wrt, indices));
        const tol = 2e-3 * Math.max(1, maxAbs(onWasm));
        indices.forEach((idx, j) => {
          assert.ok(Math.abs(onWasm[idx] - fd[j]) <= tol, `${label} finite differences at ${idx}: ${onWasm[idx]} vs ${fd[j]}`);
        });
      }
    });
  }

for (const backend of trainingBackends)
  test(`no tensor or ${backend} buffer leaks in the gradient kernels`, async () => {
    await tf.setBackend(backend);
    const rng = new Rng(3);
    const k = fixedCases[0];
    for (const { kernel, depthwise } of kernels) {
      const p = await onBackend(backend, () => makeProblem(k, depthwise, rng));
      const attrs = attrsOf(k, p, kernel);
      await onBackend(backend, () => engineKernel(kernel, p, attrs));
      const before = { ...tf.memory(), backendIds: tf.backend().numDataIds() };
      for (let i = 0; i < 3; i++) await onBackend(backend, () => engineKernel(kernel, p, attrs));
      const after = { ...tf.memory(), backendIds: tf.backend().numDataIds() };
      assert.equal(after.numTensors, before.numTensors, `${kernel} leaks tensors`);
      assert.equal(after.numBytes, before.numBytes, `${kernel} leaks bytes`);
      assert.equal(after.backendIds, before.backendIds, `${kernel} leaks ${backend} buffers`);
    }
  });

test('MaxPoolGrad: ours (wasm, native, and on cpu) equals the cpu kernel and finite differences, negative inputs included', async () => {
  const rng = new Rng(21);
  for (let t = 0; t < 30; t++) {
    const pool = 1 + rng.int(3);
    const stride = 1 + rng.int(3);
    const pad: Pad = rng.next() < 0.5 ? 'same' : 'valid';
    const shape: [number, number, number, number] = [1 + rng.int(2), pool + rng.int(6), pool + rng.int(6), 1 + rng.int(3)];
    // shifted negative half the time: the wasm backend's own kernel fails there
    const shift = rng.next() < 0.5 ? -3 : 0;
    const size = shape.reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: size }, () => rng.normal() + shift);
    const outShape = await onBackend('cpu', () => tf.maxPool(tf.tensor4d(x, shape), pool, stride, pad).shape);
    const dy = Float32Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const attrs = { filterSize: [pool, pool], strides: [stride, stride], pad, dimRoundingMode: undefined } as unknown as tf.NamedAttrMap;
    const inputs = () => ({ dy: tf.tensor(dy, outShape), input: tf.tensor(x, shape) });
    const label = `MaxPoolGrad ${JSON.stringify({ shape, pool, stride, pad, shift })}`;
    const onWasm = await onBackend('wasm', () => (tf.engine().runKernel('MaxPoolGrad', inputs(), attrs) as tf.Tensor).dataSync());
    for (const backend of trainingBackends.filter((b) => b !== 'wasm')) {
      const other = await onBackend(backend, () => (tf.engine().runKernel('MaxPoolGrad', inputs(), attrs) as tf.Tensor).dataSync());
      assertClose(other, onWasm, `${label} ${backend} vs wasm`);
    }
    const reference = await onBackend('cpu', () => (tf.engine().runKernel('MaxPoolGrad', inputs(), attrs) as tf.Tensor).dataSync());
    const composed = await onBackend('cpu', () => {
      const info = gradientKernelConfig('MaxPoolGrad', 'cpu').kernelFunc({
        inputs: inputs(),
        attrs,
        backend: tf.backend(),
      }) as tf.TensorInfo;
      return tf.engine().makeTensorFromTensorInfo(info).dataSync();
    });
    assertClose(onWasm, reference, `${label} wasm vs cpu`);
    assertClose(composed, reference, `${label} ours-on-cpu vs cpu`);
    const loss = (v: Float32Array) =>
      tf.tidy(() => tf.sum(tf.mul(tf.maxPool(tf.tensor4d(v, shape), pool, stride, pad), tf.tensor(dy, outShape))).dataSync()[0]);
    const fd = await onBackend('cpu', () =>
      [0, size - 1, rng.int(size), rng.int(size)].map((i) => {
        const plus = Float32Array.from(x);
        const minus = Float32Array.from(x);
        plus[i] += 1e-3;
        minus[i] -= 1e-3;
        return [i, (loss(plus) - loss(minus)) / 2e-3];
      }),
    );
    for (const [i, g] of fd) assert.ok(Math.abs(onWasm[i] - g) < 2e-2, `${label} finite differences at ${i}: ${onWasm[i]} vs ${g}`);
  }
});

test('the nearest-resize gradient is the exact adjoint of the resize on cpu, wasm and native, every mode, every image', async () => {
  for (const backend of ['cpu', ...trainingBackends]) {
    await tf.setBackend(backend);
    for (const [outH, outW, alignCorners, halfPixelCenters] of [
      [10, 14, false, false],
      [13, 9, false, true],
      [3, 4, true, false],
      [1, 1, false, false],
    ] as const) {
      const [lhs, rhs] = tf.tidy(() => {
        const x = tf.randomNormal([3, 5, 7, 2], 0, 1, 'float32', 21);
        const dy = tf.randomNormal([3, outH, outW, 2], 0, 1, 'float32', 22);
        const resize = (t: tf.Tensor) => tf.image.resizeNearestNeighbor(t as tf.Tensor4D, [outH, outW], alignCorners, halfPixelCenters);
        const gradient = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(resize(t), dy)))(x);
        // <resize(x), dy> = <x, gradient>: the gradient is the forward map's transpose
        return [tf.sum(tf.mul(resize(x), dy)).dataSync()[0], tf.sum(tf.mul(x, gradient)).dataSync()[0]];
      });
      const what = `${backend} ${outH}x${outW} align ${alignCorners} half-pixel ${halfPixelCenters}`;
      assert.ok(Math.abs(lhs - rhs) <= 1e-4 * Math.max(1, Math.abs(lhs)), `${what}: ${lhs} against ${rhs}`);
    }
  }
});
