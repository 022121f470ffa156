// Training holds its memory steady: after the first steps, every step (and every
// epoch, with its checkpoint) frees what it made, on the engine a user gets by
// default (native where the addon is built); a large model's checkpoint streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { engineFailure, initEngine } from '../src/engine/index.js';
import { Sgd } from '../src/optim/dense.js';
import { trainableVariables, trainStep } from '../src/train/loop.js';
import { Rng } from '../src/util/random.js';
import { compressDefaults } from '../src/compress/defaults.js';
import { runCompressJob } from '../src/compress/job.js';

const engine = await initEngine({ announce: false });

/** a garbage collection, where V8 lets us ask for one */
const collect: () => void = (() => {
  v8.setFlagsFromString('--expose_gc');
  return runInNewContext('gc') as () => void;
})();

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

test(`training on ${engine.backend}, after 100 steps to warm up, keeps its tensors, bytes and resident memory steady over three windows of 100 steps`, () => {
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
  const snapshot = () => {
    collect();
    return { ...tf.memory(), rss: process.memoryUsage().rss };
  };
  // resident memory settles over the first 100 steps here (V8's heap and code, the
  // buffer pool): about 20 MiB, then under 1 MiB a window of 100 steps
  const snapshots: ReturnType<typeof snapshot>[] = [];
  for (let step = 1; step <= 400; step++) {
    trainStep(model, variables, optimizer, batch, inputShape, 0.01);
    if (step % 100 === 0) snapshots.push(snapshot());
  }
  const [start, ...later] = snapshots;
  for (const s of later) {
    assert.equal(s.numTensors, start.numTensors, 'live tensors');
    assert.equal(s.numBytes, start.numBytes, 'bytes held by tensors');
  }
  // a leak of one activation a step (100 x 1 MiB for the first convolution's) grows
  // every window; a one-off jump (the allocator taking a new arena on a loaded
  // machine: 27 MiB once in CI) grows one, so the quietest window decides
  const grewMiB = later.map((s, i) => (s.rss - snapshots[i].rss) / 2 ** 20);
  const figures = grewMiB.map((g) => g.toFixed(1)).join(', ');
  assert.ok(Math.min(...grewMiB) < 16, `resident memory grew by ${figures} MiB in the three windows of 100 steps after step 100`);
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

test('a compress run (dhspg with a target, a checkpoint every epoch) ends every epoch after the first with the same live tensors and no steady growth in resident memory, and reports its peak', async () => {
  const seen: { tensors: number; bytes: number; rss: number }[] = [];
  const out = join(mkdtempSync(join(tmpdir(), 'slimtrain-epochs-')), 'run');
  const r = await runCompressJob(
    {
      ...compressDefaults,
      model: 'mlp',
      data: 'mnist',
      subset: 256,
      epochs: 6,
      seed: 5,
      method: 'dhspg',
      targetSparsity: 0.5,
      measureSpeed: false,
      out,
    },
    {
      onEpochEnd: () => {
        // what stays after a collection: V8 frees the epoch's arrays when it likes
        collect();
        seen.push({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, rss: process.memoryUsage().rss });
      },
    },
  );
  const [, second, ...later] = seen;
  for (const [i, s] of later.entries()) {
    assert.equal(s.tensors, second.tensors, `live tensors at the end of epoch ${i + 3}`);
    assert.equal(s.bytes, second.bytes, `bytes in tensors at the end of epoch ${i + 3}`);
  }
  // a checkpoint's arrays kept each epoch would add 4 MiB an epoch here (weights and
  // momentum of 533,000 parameters), every epoch; a one-off jump (4 MiB once, from epoch 2
  // to 3, here) grows one, so the quietest epoch decides
  const grewMiB = later.map((s, i) => (s.rss - [second, ...later][i].rss) / 2 ** 20);
  const figures = grewMiB.map((g) => g.toFixed(1)).join(', ');
  assert.ok(Math.min(...grewMiB) < 2.5, `resident memory grew by ${figures} MiB in epochs 3 to 6`);
  assert.ok(r.peakMemory >= seen[seen.length - 1].rss && r.peakMemory < 4 * 2 ** 30, `peak memory ${r.peakMemory} bytes`);
  r.sparseModel.dispose();
  r.slimModel.dispose();
  rmSync(dirname(out), { recursive: true, force: true });
});

test(
  'a checkpoint of a 25 M-parameter model (weights and momentum) writes and reads back bit-identical, each within 2x its binary size in extra memory',
  { skip: process.platform !== 'linux' && 'measures through /proc' },
  (t) => {
    const helper = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'big_checkpoint.js');
    const r = spawnSync(process.execPath, [helper], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { binary, writing, reading, identical, writeSeconds, readSeconds } = JSON.parse(r.stdout) as Record<string, number | boolean>;
    const mb = (n: unknown) => `${((n as number) / 2 ** 20).toFixed(0)} MiB`;
    const figures = `binary ${mb(binary)}, extra memory writing ${mb(writing)}, reading ${mb(reading)}; ${(writeSeconds as number).toFixed(2)} s writing, ${(readSeconds as number).toFixed(2)} s reading`;
    t.diagnostic(figures);
    assert.equal(binary, 2 * 4 * 25_005_000);
    assert.ok(identical, 'read back bit-identical');
    // writing streams each array from where it lies; reading holds each array read, once
    assert.ok((writing as number) < 0.5 * (binary as number), figures);
    assert.ok((reading as number) < 1.5 * (binary as number), figures);
  },
);
