// The native backend's kernels against TensorFlow.js's cpu backend, the independent
// reference: convolutions (plain, fused, depthwise) on random shapes, matrix
// products, broadcasting elementwise ops, reductions, batch norm, pooling, the fused
// training batch norm inside a tf.layers model, and the buffer pool's safety.
// (The gradient kernels are in gradient_kernels.test.ts, for every training backend.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine, takeJavaScriptCalls } from '../src/engine/index.js';
import { Sgd } from '../src/optim/dense.js';
import { trainableVariables, trainStep } from '../src/train/loop.js';
import { corpus } from './helpers/corpus.js';
import { Rng } from '../src/util/random.js';
import { nativeAvailable } from './helpers/backends.js';
import { fixedCases, randomCases } from './helpers/conv_cases.js';

const skip = nativeAvailable ? false : 'the native addon is not built (npm run build:native)';
if (nativeAvailable) await initEngine({ backend: 'native' });

/** Runs `fn` with the same seeded inputs on native and on cpu; returns both outputs. */
async function both(fn: () => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const out = fn();
      return (Array.isArray(out) ? out : [out]).map((t) => Float32Array.from(t.dataSync()));
    });
  };
  return [await run('native'), await run('cpu')];
}

function assertClose(native: Float32Array[], cpu: Float32Array[], what: string, tol = 1e-5): void {
  assert.equal(native.length, cpu.length, what);
  native.forEach((a, k) => {
    const b = cpu[k];
    assert.equal(a.length, b.length, `${what}: output ${k} sizes`);
    const scale = Math.max(1, ...Array.from(b, Math.abs).filter(Number.isFinite));
    for (let i = 0; i < a.length; i++) {
      if (a[i] === b[i]) continue; // infinities included
      if (Number.isNaN(b[i])) {
        assert.ok(Number.isNaN(a[i]), `${what}: output ${k}[${i}] native ${a[i]}, cpu NaN`);
      } else {
        assert.ok(Math.abs(a[i] - b[i]) <= tol * scale, `${what}: output ${k}[${i}] native ${a[i]}, cpu ${b[i]}`);
      }
    }
  });
}

const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

test(
  'Conv2D, FusedConv2D (bias, every activation) and depthwise convolutions equal the cpu backend on random shapes',
  { skip },
  async () => {
    const activations = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'] as const;
    for (const [i, k] of [...fixedCases, ...randomCases(5, 36)].entries()) {
      const label = JSON.stringify(k);
      const x = () => seeded([k.n, k.h, k.w, k.c], 10 + i) as tf.Tensor4D;
      const conv = (depthwise: boolean) => seeded([k.kh, k.kw, k.c, depthwise ? k.co : k.co + 1], 20 + i) as tf.Tensor4D;
      assertClose(...(await both(() => tf.conv2d(x(), conv(false), k.stride, k.pad, 'NHWC', k.dilation))), `Conv2D ${label}`);
      assertClose(
        ...(await both(() => tf.depthwiseConv2d(x(), conv(true), k.stride, k.pad, 'NHWC', k.dilation))),
        `DepthwiseConv2dNative ${label}`,
      );
      const activation = activations[i % activations.length];
      const fused = (depthwise: boolean) => {
        const filter = conv(depthwise);
        const bias = seeded([depthwise ? k.c * k.co : k.co + 1], 30 + i);
        const args = { x: x(), filter, strides: k.stride, pad: k.pad, dilations: k.dilation, bias, activation, leakyreluAlpha: 0.1 };
        return depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
      };
      assertClose(...(await both(() => fused(false))), `FusedConv2D ${activation} ${label}`);
      assertClose(...(await both(() => fused(true))), `FusedDepthwiseConv2D ${activation} ${label}`);
    }
  },
);

test('BatchMatMul and _FusedMatMul: transposes, batch broadcast, bias and activation', { skip }, async () => {
  const rng = new Rng(3);
  for (let i = 0; i < 24; i++) {
    const [m, k, n] = [1 + rng.int(9), 1 + rng.int(9), 1 + rng.int(9)];
    const [ta, tb] = [rng.next() < 0.5, rng.next() < 0.5];
    const batch = [[], [3], [2, 2]][i % 3];
    const broadcastA = batch.length > 0 && i % 4 === 0;
    const a = () => seeded([...(broadcastA ? batch.map(() => 1) : batch), ...(ta ? [k, m] : [m, k])], 40 + i);
    const b = () => seeded([...batch, ...(tb ? [n, k] : [k, n])], 50 + i);
    const label = JSON.stringify({ m, k, n, ta, tb, batch, broadcastA });
    assertClose(...(await both(() => tf.matMul(a(), b(), ta, tb))), `BatchMatMul ${label}`);
    const activation = (['relu', 'linear', 'elu'] as const)[i % 3];
    assertClose(
      ...(await both(() => tf.fused.matMul({ a: a(), b: b(), transposeA: ta, transposeB: tb, bias: seeded([n], 60 + i), activation }))),
      `_FusedMatMul ${activation} ${label}`,
    );
  }
});

test('binary ops and comparisons broadcast like the cpu backend, NaN included; Select picks as it does', { skip }, async () => {
  const pairs: [number[], number[]][] = [
    [
      [4, 5, 6, 7],
      [4, 5, 6, 7],
    ],
    [[4, 5, 6, 7], [7]],
    [
      [1, 1, 1, 7],
      [4, 5, 6, 7],
    ],
    [[4, 5, 6, 7], []],
    [[], [3, 2]],
    [
      [4, 1, 1, 7],
      [4, 5, 6, 7],
    ],
    [
      [4, 5],
      [4, 1],
    ],
    [
      [1, 5, 1, 7],
      [4, 1, 6, 1],
    ],
    [
      [3, 1],
      [1, 3],
    ],
    [[64, 33, 17], [17]],
  ];
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', tf.div],
    ['squaredDifference', tf.squaredDifference],
    ['maximum', tf.maximum],
    ['minimum', tf.minimum],
    // comparisons give bool tensors; Select picks by one
    ['greater', tf.greater],
    ['greaterEqual', tf.greaterEqual],
    ['less', tf.less],
    ['lessEqual', tf.lessEqual],
    ['equal', (a, b) => tf.equal(tf.round(a), tf.round(b))],
    ['notEqual', (a, b) => tf.notEqual(tf.round(a), tf.round(b))],
    ['where', (a, b) => tf.where(tf.greater(a, b), a, b)],
  ];
  for (const [i, [sa, sb]] of pairs.entries()) {
    const withNaN = (shape: number[], seed: number) =>
      tf.tidy(() => {
        const t = seeded(shape, seed);
        return t.size > 2 ? tf.where(tf.less(t, -1.5), tf.fill(shape, NaN), t) : t;
      });
    for (const [name, op] of ops) {
      assertClose(
        ...(await both(() => [op(withNaN(sa, 70 + i), withNaN(sb, 80 + i)), op(withNaN(sb, 80 + i), withNaN(sa, 70 + i))])),
        `${name} ${JSON.stringify([sa, sb])}`,
      );
    }
  }
});

test(
  'unary ops, softmax, PReLU, Transpose, reductions over any axes, batch norm and max pooling equal the cpu backend',
  { skip },
  async () => {
    const x = () =>
      tf.tidy(() => {
        const t = seeded([5, 7, 6, 9], 90);
        return tf.where(tf.less(t, -2), tf.fill(t.shape, NaN), tf.where(tf.less(tf.abs(t), 0.1), tf.zerosLike(t), t));
      });
    const unary: [string, (t: tf.Tensor) => tf.Tensor][] = [
      ['relu', tf.relu],
      ['relu6', (t) => tf.relu6(tf.mul(t, 4))],
      ['step', (t) => tf.step(t, 0.3)],
      ['square', tf.square],
      ['neg', tf.neg],
      ['sqrt', tf.sqrt],
      ['rsqrt', tf.rsqrt],
      ['exp', tf.exp],
      ['log', tf.log],
      ['abs', tf.abs],
      ['sigmoid', tf.sigmoid],
      ['tanh', tf.tanh],
      ['elu', tf.elu],
      ['leakyRelu', (t) => tf.leakyRelu(t, 0.15)],
      ['floor', (t) => tf.floor(tf.mul(t, 3))],
      ['erf', tf.erf],
      ['softmax', (t) => tf.softmax(tf.mul(t, 5))],
    ];
    for (const [name, op] of unary) assertClose(...(await both(() => op(x()))), name);
    const gradOf = (f: (t: tf.Tensor) => tf.Tensor) => () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), seeded(t.shape, 93))))(x());
    assertClose(...(await both(gradOf(tf.elu))), 'EluGrad');
    for (const alphaShape of [[9], [6, 9], [7, 6, 9], [1]]) {
      assertClose(...(await both(() => tf.prelu(x(), seeded(alphaShape, 94)))), `Prelu, alpha ${alphaShape.join('x')}`);
    }
    for (const perm of [
      [0, 3, 1, 2],
      [0, 2, 3, 1],
      [3, 2, 1, 0],
      [1, 0, 2, 3],
      [0, 1, 3, 2],
    ]) {
      assertClose(...(await both(() => tf.transpose(x(), perm))), `Transpose ${perm}`);
    }
    // ranks 2, 3, 5 and 6, the last with a size-1 axis
    const ranked = (shape: number[], perm: number[]) => () => tf.transpose(seeded(shape, 95), perm);
    assertClose(...(await both(ranked([17, 33], [1, 0]))), 'Transpose rank 2');
    assertClose(...(await both(ranked([4, 5, 6], [2, 0, 1]))), 'Transpose rank 3');
    assertClose(...(await both(ranked([2, 3, 4, 5, 6], [0, 1, 3, 2, 4]))), 'Transpose rank 5');
    assertClose(...(await both(ranked([2, 1, 3, 4, 2, 3], [5, 0, 2, 1, 4, 3]))), 'Transpose rank 6');
    const clean = () => seeded([5, 7, 6, 9], 91);
    for (const axes of [[0, 1, 2], [3], [1, 2], [0], [0, 3], [1], [0, 1, 2, 3], [2, 3]]) {
      for (const keepDims of [false, true]) {
        assertClose(
          ...(await both(() => [tf.sum(clean(), axes, keepDims), tf.mean(clean(), axes, keepDims)])),
          `sum/mean over ${axes} keepDims ${keepDims}`,
        );
      }
    }
    assertClose(
      ...(await both(() => tf.batchNorm(clean(), seeded([9], 1), tf.abs(seeded([9], 2)), seeded([9], 3), seeded([9], 4), 1e-3))),
      'FusedBatchNorm',
    );
    for (const [pool, stride, pad] of [
      [2, 2, 'valid'],
      [3, 2, 'same'],
      [2, 1, 'same'],
      [3, 3, 'valid'],
    ] as const) {
      assertClose(...(await both(() => tf.maxPool(clean() as tf.Tensor4D, pool, stride, pad))), `MaxPool ${pool} ${stride} ${pad}`);
    }
  },
);

test(
  'Slice, Pad with a constant, ClipByValue, Concat and SplitV, and the gradients of Pad, Relu6 and ClipByValue, equal the cpu backend',
  { skip },
  async () => {
    const x = () => tf.tidy(() => tf.mul(seeded([3, 7, 6, 5], 92), 4));
    for (const [begin, size] of [
      [
        [0, 1, 2, 0],
        [3, 5, 3, 5],
      ],
      [
        [1, 0, 0, 2],
        [2, -1, 6, 2],
      ],
    ]) {
      assertClose(...(await both(() => tf.slice(x(), begin, size))), `Slice ${begin} ${size}`);
    }
    assertClose(...(await both(() => tf.slice(seeded([9, 8], 93), [2, 1], [4, 6]))), 'Slice of a matrix');
    const paddings: [number, number][] = [
      [0, 0],
      [1, 2],
      [0, 3],
      [0, 0],
    ];
    assertClose(...(await both(() => tf.pad(x(), paddings, 0.5))), 'PadV2');
    assertClose(...(await both(() => tf.clipByValue(x(), -1, 2.5))), 'ClipByValue');
    assertClose(
      ...(await both(() => tf.concat([x(), tf.mul(x(), 2), tf.slice(x(), [0, 0, 0, 0], [3, 7, 6, 2])], -1))),
      'Concat of channels',
    );
    for (const axis of [0, 1, 2]) assertClose(...(await both(() => tf.concat([x(), tf.mul(x(), 2)], axis))), `Concat along ${axis}`);
    for (const [sizes, axis] of [
      [[2, 3], 3],
      [[3, 4], 1],
      [[1, 2], 0],
    ] as const) {
      assertClose(...(await both(() => tf.split(x(), [...sizes], axis))), `SplitV [${sizes}] along ${axis}`);
    }
    // the gradients: dy through each op, the cpu backend's own gradient kernels the reference
    const dyOf = (t: tf.Tensor) => seeded(t.shape, 94);
    const gradOf = (f: (t: tf.Tensor) => tf.Tensor) => () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), dyOf(f(t)))))(x());
    assertClose(...(await both(gradOf((t) => tf.pad(t, paddings)))), 'gradient of PadV2 (a Slice)');
    assertClose(...(await both(gradOf((t) => tf.relu6(t)))), 'gradient of Relu6');
    assertClose(...(await both(gradOf((t) => tf.clipByValue(t, 0, 6)))), 'gradient of ClipByValue');
    // the values at the edges: 0 and 6 exactly
    const edges = () => tf.grad((t: tf.Tensor) => tf.sum(tf.add(tf.relu6(t), tf.clipByValue(t, 0, 6))))(tf.tensor1d([-1, 0, 3, 6, 7]));
    assertClose(...(await both(edges)), 'Relu6 and ClipByValue gradients at 0 and 6');
  },
);

test(
  'AvgPool equals the cpu backend; its gradient equals the cpu backend without padding and finite differences with it',
  { skip },
  async () => {
    const x = () => seeded([2, 7, 6, 3], 95);
    for (const [pool, stride, pad] of [
      [2, 2, 'valid'],
      [3, 2, 'same'],
      [6, 1, 'valid'],
    ] as const) {
      assertClose(...(await both(() => tf.avgPool(x() as tf.Tensor4D, pool, stride, pad))), `AvgPool ${pool} ${stride} ${pad}`);
    }
    const weights = () => seeded([2, 4, 3, 3], 96);
    const loss = (t: tf.Tensor, pad: 'valid' | 'same') => tf.sum(tf.mul(tf.avgPool(t as tf.Tensor4D, 3, 2, pad), weights()));
    assertClose(
      ...(await both(() =>
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(t as tf.Tensor4D, 2, 2, 'valid'), seeded([2, 3, 3, 3], 96))))(x()),
      )),
      'AvgPoolGrad valid',
    );
    // with padding the cpu kernel divides by the window size, the forward pass by what it counted: finite differences decide
    await tf.setBackend('native');
    const g = tf
      .grad((t: tf.Tensor) => loss(t, 'same'))(x())
      .dataSync();
    const base = x().dataSync();
    for (const i of [0, 5, 40, 83]) {
      const at = (d: number) => {
        const v = Float32Array.from(base);
        v[i] += d;
        return loss(tf.tensor(v, [2, 7, 6, 3]), 'same').dataSync()[0];
      };
      const fd = (at(1e-2) - at(-1e-2)) / 2e-2;
      assert.ok(Math.abs(fd - g[i]) <= 1e-3 * (1 + Math.abs(fd)), `AvgPoolGrad same [${i}]: ${g[i]} vs ${fd}`);
    }
  },
);

test('nearest resize and its gradient equal the cpu backend in every mode; the gradient is the exact adjoint', { skip }, async () => {
  const x = () => seeded([2, 5, 7, 3], 96);
  for (const [outH, outW] of [
    [10, 14],
    [13, 9],
    [3, 4],
    [1, 1],
  ]) {
    for (const alignCorners of [false, true]) {
      for (const halfPixelCenters of alignCorners ? [false] : [false, true]) {
        const what = `${outH}x${outW} align ${alignCorners} half-pixel ${halfPixelCenters}`;
        const resize = (t: tf.Tensor) => tf.image.resizeNearestNeighbor(t as tf.Tensor4D, [outH, outW], alignCorners, halfPixelCenters);
        assertClose(...(await both(() => resize(x()))), `ResizeNearestNeighbor ${what}`);
        const dy = () => seeded([2, outH, outW, 3], 97);
        const gradient = () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(resize(t), dy())))(x());
        // the cpu backend's gradient is slimtrain's there too (TensorFlow.js's is wrong: DESIGN.md, "Traps")
        assertClose(...(await both(gradient)), `ResizeNearestNeighborGrad ${what}`);
        await tf.setBackend('native');
        // <resize(x), dy> = <x, resize'(dy)> for every x: the gradient is the forward map's transpose
        const [lhs, rhs] = tf.tidy(() => [tf.sum(tf.mul(resize(x()), dy())).dataSync()[0], tf.sum(tf.mul(x(), gradient())).dataSync()[0]]);
        assert.ok(Math.abs(lhs - rhs) <= 1e-4 * Math.max(1, Math.abs(lhs)), `adjoint ${what}: ${lhs} against ${rhs}`);
      }
    }
  }
});

test(
  'training-mode BatchNormalization: the fused kernel gives the unfused outputs, gradients and moving statistics',
  { skip },
  async () => {
    const run = async (backend: string, form: { scale: boolean; center: boolean }) => {
      await tf.setBackend(backend);
      const layer = tfl.layers.batchNormalization({
        momentum: 0.8,
        epsilon: 1e-3,
        gammaInitializer: 'randomNormal',
        betaInitializer: 'randomNormal',
        ...form,
      });
      const input = tfl.input({ shape: [6, 5, 7] });
      const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
      // the moving variance (the last weight) positive
      const weights = model.getWeights();
      model.setWeights(weights.map((w, i) => tf.tidy(() => tf.add(seeded(w.shape, 100 + i), i === weights.length - 1 ? 2 : 0))));
      const x = tf.tidy(() => tf.add(tf.mul(seeded([4, 6, 5, 7], 7), 3), 5)); // offset: the variance must not cancel
      const dy = seeded([4, 6, 5, 7], 8);
      const loss = (xx: tf.Tensor) => tf.sum(tf.mul(model.apply(xx, { training: true }) as tf.Tensor, dy)) as tf.Scalar;
      const profile = await tf.profile(() => tf.tidy(() => loss(x)));
      const kernels = profile.kernels.map((k) => k.name);
      const out = tf.tidy(() => {
        const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
        const y = model.apply(x, { training: true }) as tf.Tensor;
        const grads = vars.length > 0 ? tf.variableGrads(() => loss(x), vars).grads : {};
        const gx = tf.grad(loss)(x);
        return [y, gx, ...vars.map((v) => grads[v.name]), ...model.getWeights().slice(-2)].map((t) => Float32Array.from(t.dataSync()));
      });
      assert.equal(kernels.includes('SlimtrainBatchNormTraining'), backend === 'native', `${backend} ran ${kernels.join(', ')}`);
      tf.dispose([x, dy]);
      model.dispose();
      return out;
    };
    // with both, and without a scale (Keras's InceptionV3) or a centre
    for (const form of [
      { scale: true, center: true },
      { scale: false, center: true },
      { scale: true, center: false },
      { scale: false, center: false },
    ]) {
      const native = await run('native', form);
      const cpu = await run('cpu', form);
      assertClose(
        native,
        cpu,
        `BatchNormalization(training, ${JSON.stringify(form)}): y, dx, its parameters' gradients, moving statistics`,
        1e-4,
      );
    }
  },
);

test("swish and ReLU(6) layers: one kernel each way on native, the cpu backend's composed outputs and gradients", { skip }, async () => {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const input = tfl.input({ shape: [5, 4, 6] });
    const swish = tfl.layers.activation({ activation: 'swish' }).apply(input) as tfl.SymbolicTensor;
    const relu6 = tfl.layers.reLU({ maxValue: 6 }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: [swish, relu6] });
    // wide values (swish's tails), exact 0 and 6 (ReLU6's corners) and NaN
    const x = tf.tidy(() => {
      const t = tf.mul(seeded([3, 5, 4, 6], 11), 8);
      const corners = tf.where(tf.less(tf.abs(t), 1), tf.zerosLike(t), tf.where(tf.less(tf.abs(tf.sub(t, 6)), 1), tf.fill(t.shape, 6), t));
      return tf.concat([corners, tf.tile(tf.tensor4d([NaN, 95, -95, 200, -200, 1e-3], [1, 1, 1, 6]), [1, 5, 4, 1])]);
    });
    const dy = seeded([4, 5, 4, 6], 12);
    const loss = (xx: tf.Tensor) =>
      tf.sum(
        tf.add(...((model.apply(xx, { training: true }) as tf.Tensor[]).map((y) => tf.mul(y, dy)) as [tf.Tensor, tf.Tensor])),
      ) as tf.Scalar;
    const profile = await tf.profile(() => tf.tidy(() => tf.grad(loss)(x)));
    const kernels = new Set(profile.kernels.map((k) => k.name));
    const out = tf.tidy(() => [...(model.apply(x) as tf.Tensor[]), tf.grad(loss)(x)].map((t) => Float32Array.from(t.dataSync())));
    tf.dispose([x, dy]);
    model.dispose();
    return { out, kernels };
  };
  const native = await run('native');
  const cpu = await run('cpu');
  for (const k of ['SlimtrainSwish', 'SlimtrainSwishGrad', 'Relu6']) assert.ok(native.kernels.has(k), `native ran ${[...native.kernels]}`);
  for (const k of ['Sigmoid', 'ClipByValue', 'Relu']) assert.ok(!native.kernels.has(k), `native still ran ${k}`);
  assert.ok(cpu.kernels.has('Sigmoid') && !cpu.kernels.has('SlimtrainSwish'));
  assertClose(native.out, cpu.out, 'swish, ReLU(6) and the gradient of their sum', 1e-5);
});

/**
 * kernels a training step may run in the cpu backend's JavaScript: bookkeeping on
 * metadata, labels and the loss (int32 and bool tensors), and reductions in layouts
 * the native one does not cover; their largest share of a corpus model's step
 * (npm run bench:profile -- --corpus, batch 16, 2026-12-05): Max 10% (a global max
 * pooling head), Sum 9% (a flattened branch), Equal 1%
 */
const BOOKKEEPING = ['Reshape', 'Identity', 'Cast', 'ZerosLike', 'OneHot', 'ArgMax', 'Equal', 'Sum', 'Max'];
/** not native yet: each with its largest share of a corpus model's step, measured as above */
const NOT_YET_NATIVE = [
  'Tile', // 9% (LayerNormalization and GELU MLP)
  'FusedBatchNorm', // 1% (the same)
  'Pow', // 0.8% (the same)
];

test(
  'a training step of every corpus classifier runs each kernel native, but for bookkeeping and the kernels listed as not native yet',
  { skip },
  async () => {
    await tf.setBackend('native');
    const allowed = new Set([...BOOKKEEPING, ...NOT_YET_NATIVE]);
    for (const c of corpus) {
      const model = c.build();
      // the classification step needs one (N, classes) output; maps and several heads are trained by other paths
      if (model.outputs.length !== 1 || model.outputs[0].shape.length !== 2) {
        model.dispose();
        continue;
      }
      const shape = model.inputs[0].shape.slice(1) as number[];
      const classes = model.outputs[0].shape.at(-1) as number;
      const size = shape.reduce((a, b) => a * b, 1);
      const batch = {
        x: Float32Array.from({ length: 4 * size }, (_, i) => Math.sin(i)),
        labels: Uint8Array.from({ length: 4 }, (_, i) => i % classes),
        size: 4,
      };
      takeJavaScriptCalls();
      trainStep(model, trainableVariables(model), new Sgd({ momentum: 0.9 }), batch, shape, 0.01);
      const javascript = [...takeJavaScriptCalls().keys()].filter((k) => !allowed.has(k));
      assert.deepEqual(javascript, [], `${c.name}: ran ${javascript.join(', ')} in JavaScript`);
      model.dispose();
    }
  },
);

test('buffer reuse never touches an array handed out by dataSync or a view another tensor holds', { skip }, async () => {
  await tf.setBackend('native');
  const big = [64, 32, 32, 4];
  const a = tf.relu(seeded(big, 1));
  const handedOut = a.dataSync();
  const expected = Float32Array.from(handedOut);
  const sliceOfRelu = () => tf.slice(tf.reshape(tf.relu(seeded(big, 2)), [64, 4096]), [3, 0], [1, 4096]);
  const viewExpected = tf.tidy(() => Float32Array.from(sliceOfRelu().dataSync()));
  const view = tf.tidy(sliceOfRelu); // a subarray of a pooled buffer whose own tensor is gone
  tf.dispose(a);
  for (let i = 0; i < 20; i++) tf.dispose(tf.relu(tf.neg(seeded(big, 3 + i))));
  assert.deepEqual(handedOut, expected, 'an array from dataSync changed after its tensor was disposed');
  assert.deepEqual(view.dataSync(), viewExpected, 'a slice changed after the tensor it views was disposed');
  view.dispose();
});
