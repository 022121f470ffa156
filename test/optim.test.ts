// The sparse optimizers against independent references: a float64 proximal-gradient
// solver run to tight tolerance (group lasso and l1 logistic regression with a
// known sparse truth), and the requested sparsity of DHSPG on a small CNN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { GroupIndex } from '../src/optim/group_index.js';
import { createSparseOptimizer, type SparseConfig, type SparseOptimizer } from '../src/optim/sparse.js';
import type { DhspgState } from '../src/optim/methods/dhspg.js';
import { zeroInvariantGroups } from '../src/graph/groups.js';
import { trainStep, trainableVariables } from '../src/train/loop.js';
import { Rng } from '../src/util/random.js';
import type { OptimizerState } from '../src/optim/optimizer.js';
import { CHECKPOINT_VERSION, readCheckpoint, writeCheckpoint } from '../src/train/checkpoint.js';

await initEngine({ backend: 'cpu' });

const N = 400;
const GROUPS = 10;
const SIZE = 4;
const P = GROUPS * SIZE;
const TRUE_GROUPS = 4; // groups 0..3 carry signal, 4..9 are zero

interface Problem {
  X: Float64Array; // N x P
  y: Float64Array; // +-1
}

function makeProblem(seed: number): Problem {
  const rng = new Rng(seed);
  const w = new Float64Array(P);
  for (let j = 0; j < TRUE_GROUPS * SIZE; j++) w[j] = (rng.next() < 0.5 ? -1 : 1) * (0.5 + rng.next());
  const X = Float64Array.from({ length: N * P }, () => rng.normal());
  const y = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let z = 0.3 * rng.normal();
    for (let j = 0; j < P; j++) z += X[i * P + j] * w[j];
    y[i] = z >= 0 ? 1 : -1;
  }
  return { X, y };
}

/** gradient of mean log(1 + exp(-y x.w)) in float64 */
function gradient64(p: Problem, w: Float64Array): Float64Array {
  const g = new Float64Array(P);
  for (let i = 0; i < N; i++) {
    let z = 0;
    for (let j = 0; j < P; j++) z += p.X[i * P + j] * w[j];
    const s = -p.y[i] / (1 + Math.exp(p.y[i] * z)) / N;
    for (let j = 0; j < P; j++) g[j] += s * p.X[i * P + j];
  }
  return g;
}

function lipschitz(p: Problem): number {
  // ||X||_2^2 / (4N), with ||X||_2 bounded by power iteration on X'X
  let v = new Float64Array(P).fill(1);
  let lambdaMax = 0;
  for (let it = 0; it < 200; it++) {
    const Xv = new Float64Array(N);
    for (let i = 0; i < N; i++) for (let j = 0; j < P; j++) Xv[i] += p.X[i * P + j] * v[j];
    const XtXv = new Float64Array(P);
    for (let i = 0; i < N; i++) for (let j = 0; j < P; j++) XtXv[j] += p.X[i * P + j] * Xv[i];
    lambdaMax = Math.hypot(...XtXv);
    v = XtXv.map((a) => a / lambdaMax);
  }
  return lambdaMax / (4 * N);
}

/** reference: proximal gradient in float64 until the iterates stop moving */
function referenceSolution(p: Problem, prox: (u: Float64Array, step: number) => Float64Array): Float64Array {
  const step = 1 / lipschitz(p);
  let w: Float64Array = new Float64Array(P);
  for (let it = 0; it < 20000; it++) {
    const g = gradient64(p, w);
    const next = prox(
      w.map((wj, j) => wj - step * g[j]),
      step,
    );
    const change = Math.hypot(...next.map((v, j) => v - w[j]));
    w = next;
    if (change < 1e-12) break;
  }
  return w;
}

const groupProx = (lambda: number) => (u: Float64Array, step: number) => {
  const out = new Float64Array(P);
  for (let g = 0; g < GROUPS; g++) {
    const norm = Math.hypot(...u.subarray(g * SIZE, (g + 1) * SIZE));
    const f = norm > step * lambda ? 1 - (step * lambda) / norm : 0;
    for (let j = g * SIZE; j < (g + 1) * SIZE; j++) out[j] = f * u[j];
  }
  return out;
};

const l1Prox = (lambda: number) => (u: Float64Array, step: number) => u.map((v) => Math.sign(v) * Math.max(Math.abs(v) - step * lambda, 0));

const spec = {
  groups: Array.from({ length: GROUPS }, (_, g) => [{ variable: 'w', axis: 0, indices: [0, 1, 2, 3].map((k) => g * SIZE + k) }]),
};

/** runs `config` on the logistic problem with mini-batches of `batch` (N: full batch) */
function runOptimizer(
  p: Problem,
  config: SparseConfig,
  lr: (step: number) => number,
  steps: number,
  batch: number,
  seed = 1,
): Float32Array {
  const w = tf.variable(tf.zeros([P]), true, `w`);
  const opt = createSparseOptimizer(new GroupIndex(spec, new Map([['w', [P]]])), config);
  const X = tf.tensor2d(Float32Array.from(p.X), [N, P]);
  const y = tf.tensor1d(Float32Array.from(p.y));
  const rng = new Rng(seed);
  let order = rng.permutation(N);
  let cursor = 0;
  for (let s = 0; s < steps; s++) {
    if (cursor + batch > N) {
      order = rng.permutation(N);
      cursor = 0;
    }
    const rows = tf.tensor1d(Int32Array.from(order.subarray(cursor, cursor + batch)), 'int32');
    cursor += batch;
    tf.tidy(() => {
      const xb = tf.gather(X, rows);
      const yb = tf.gather(y, rows);
      const { grads } = tf.variableGrads(
        () => tf.mean(tf.softplus(tf.neg(tf.mul(yb, tf.squeeze(tf.matMul(xb, tf.reshape(w, [P, 1]))))))) as tf.Scalar,
        [w],
      );
      opt.step([w], [grads.w], lr(s));
    });
    rows.dispose();
  }
  const out = w.dataSync() as Float32Array;
  tf.dispose([w, X, y]);
  opt.dispose();
  return out;
}

const zeroGroupsOf = (w: ArrayLike<number>) =>
  Array.from({ length: GROUPS }, (_, g) => g).filter((g) => Array.from({ length: SIZE }, (_, k) => w[g * SIZE + k]).every((v) => v === 0));

const LAMBDA = 0.08;

test('full-batch Prox-SG converges to the float64 proximal-gradient solution of group-lasso logistic regression', () => {
  const p = makeProblem(3);
  const reference = referenceSolution(p, groupProx(LAMBDA));
  assert.deepEqual(zeroGroupsOf(reference), [4, 5, 6, 7, 8, 9], 'the reference recovers the true zero groups');
  const step = 1 / lipschitz(p);
  const w = runOptimizer(p, { method: 'proxsg', lambda: LAMBDA }, () => step, 3000, N);
  w.forEach((v, j) => assert.ok(Math.abs(v - reference[j]) < 2e-3, `w[${j}] = ${v}, reference ${reference[j]}`));
  assert.deepEqual(zeroGroupsOf(w), [4, 5, 6, 7, 8, 9]);
});

test('stochastic HSPG finds the true zero groups exactly; stochastic Prox-SG leaves most of them non-zero', () => {
  const p = makeProblem(3);
  const lr = () => 0.5;
  const steps = 40 * (N / 16);
  const hspg = runOptimizer(p, { method: 'hspg', lambda: LAMBDA, epsilon: 0.3, halfSpaceStart: steps / 4 }, lr, steps, 16);
  const prox = runOptimizer(p, { method: 'proxsg', lambda: LAMBDA }, lr, steps, 16);
  assert.deepEqual(zeroGroupsOf(hspg), [4, 5, 6, 7, 8, 9]);
  assert.ok(zeroGroupsOf(prox).length <= 3, `stochastic Prox-SG zeroed ${zeroGroupsOf(prox).length} groups`);
  // the signal groups survive
  for (let g = 0; g < TRUE_GROUPS; g++) assert.ok(Math.hypot(...hspg.subarray(g * SIZE, (g + 1) * SIZE)) > 0.1);
});

test('OBProx-SG finds the support of the l1 solution', () => {
  const p = makeProblem(5);
  const lambda = 0.06;
  const reference = referenceSolution(p, l1Prox(lambda));
  const support = (w: ArrayLike<number>) => Array.from(w, (v, j) => (v !== 0 ? j : -1)).filter((j) => j >= 0);
  const refSupport = support(reference);
  assert.ok(refSupport.length > 4 && refSupport.length < P - 10, `reference support ${refSupport.length}`);
  const steps = 100 * (N / 40);
  const w = runOptimizer(p, { method: 'obproxsg', lambda, orthantStart: steps / 2 }, (s) => (s < steps / 2 ? 0.5 : 0.05), steps, 40);
  assert.deepEqual(support(w), refSupport);
});

test('a broken update is caught: Prox-SG without its threshold zeroes nothing', () => {
  const p = makeProblem(3);
  const step = 1 / lipschitz(p);
  const w = runOptimizer(p, { method: 'proxsg', lambda: 0 }, () => step, 500, N);
  assert.deepEqual(zeroGroupsOf(w), []);
});

test('DHSPG reaches the requested group sparsity on a small CNN, and zero groups stay zero', async () => {
  await tf.setBackend('wasm');
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: 10 + k });
  const input = tfl.input({ shape: [8, 8, 1] });
  let y = tfl.layers.conv2d({ filters: 12, kernelSize: 3, padding: 'same', kernelInitializer: init(1) }).apply(input) as tfl.SymbolicTensor;
  y = tfl.layers.batchNormalization().apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.reLU().apply(y) as tfl.SymbolicTensor;
  y = tfl.layers
    .conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(2) })
    .apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.globalAveragePooling2d({}).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.dense({ units: 3, kernelInitializer: init(3) }).apply(y) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: y });
  const variables = trainableVariables(model);
  const groups = zeroInvariantGroups(model).groups.filter((g) => g.prunable);
  assert.equal(groups.length, 28);
  const index = GroupIndex.fromChannelGroups(groups, model);
  for (const target of [0.25, 0.5]) {
    const opt = createSparseOptimizer(index, {
      method: 'dhspg',
      lambda: 0.1,
      epsilon: 0.5,
      target: { kind: 'groups', fraction: target },
      pruneStart: 10,
      projectionStart: 20,
      pruneEnd: 80,
      momentum: 0.9,
      weightDecay: 1e-4,
    });
    const rng = new Rng(2);
    let zeroSince = new Set<number>();
    for (let s = 0; s < 100; s++) {
      const batch = {
        x: Float32Array.from({ length: 16 * 64 }, () => rng.normal()),
        labels: Uint8Array.from({ length: 16 }, () => rng.int(3)),
        size: 16,
      };
      trainStep(model, variables, opt, batch, [8, 8, 1], 0.05);
      const norms = index.groupSums(new Map(variables.map((v) => [v.name, tf.square(v)] as const)));
      const zero = new Set([...norms.keys()].filter((g) => norms[g] === 0));
      for (const g of zeroSince) assert.ok(zero.has(g), `group ${g} left zero at step ${s}`);
      zeroSince = zero;
    }
    const stats = opt.stats(variables);
    assert.ok(Math.abs(stats.zeroGroups - Math.round(target * 28)) <= 1, `target ${target}: ${stats.zeroGroups} of 28 groups zero`);
    opt.dispose();
    // start the next target from fresh weights
    for (const v of variables) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 7));
  }
  model.dispose();
  await tf.setBackend('cpu');
});

test('per-group lambda weights: a heavily weighted signal group goes to zero, weight 0 leaves groups alone', () => {
  const p = makeProblem(3);
  const step = 1 / lipschitz(p);
  const heavy = runOptimizer(p, { method: 'proxsg', lambda: LAMBDA, groupWeights: [20, 1, 1, 1, 1, 1, 1, 1, 1, 1] }, () => step, 1000, N);
  assert.ok(zeroGroupsOf(heavy).includes(0), `zero groups ${zeroGroupsOf(heavy)}`);
  assert.ok(!zeroGroupsOf(heavy).includes(1));
  const none = runOptimizer(p, { method: 'proxsg', lambda: LAMBDA, groupWeights: new Array(GROUPS).fill(0) }, () => step, 500, N);
  assert.deepEqual(zeroGroupsOf(none), []);
  assert.throws(
    () => createSparseOptimizer(new GroupIndex(spec, new Map([['w', [P]]])), { method: 'proxsg', lambda: 1, groupWeights: [1] }),
    /groupWeights has 1 entries for 10 groups/,
  );
});

test('after penaltyEnd, zero groups stay zero and the others are no longer shrunk', () => {
  const p = makeProblem(3);
  const steps = 40 * (N / 16);
  const withEnd = runOptimizer(
    p,
    { method: 'hspg', lambda: LAMBDA, epsilon: 0.3, halfSpaceStart: steps / 4, penaltyEnd: steps / 2 },
    () => 0.5,
    steps,
    16,
  );
  const atEnd = runOptimizer(p, { method: 'hspg', lambda: LAMBDA, epsilon: 0.3, halfSpaceStart: steps / 4 }, () => 0.5, steps / 2, 16);
  assert.deepEqual(zeroGroupsOf(withEnd), zeroGroupsOf(atEnd));
  // without the penalty the signal groups grow back towards the unpenalised fit
  const norm = (w: Float32Array, g: number) => Math.hypot(...w.subarray(g * SIZE, (g + 1) * SIZE));
  for (let g = 0; g < TRUE_GROUPS; g++)
    assert.ok(norm(withEnd, g) > norm(atEnd, g), `group ${g}: ${norm(withEnd, g)} vs ${norm(atEnd, g)}`);
});

/** DHSPG's chosen groups (1 each) */
const penalisedOf = (opt: SparseOptimizer) => (opt.getState() as DhspgState).penalised;

/** one mini-batch step of 16 rows of the logistic loss on (X, y), for weights named 'w' (the groups' variable) */
function logisticStep(X: tf.Tensor2D, y: tf.Tensor1D) {
  return (opt: SparseOptimizer, w: tf.Variable, s: number) =>
    tf.tidy(() => {
      const rows = tf.tensor1d(
        Int32Array.from({ length: 16 }, (_, i) => (s * 16 + i) % N),
        'int32',
      );
      const { grads } = tf.variableGrads(
        () =>
          tf.mean(
            tf.softplus(tf.neg(tf.mul(tf.gather(y, rows), tf.squeeze(tf.matMul(tf.gather(X, rows), tf.reshape(w, [P, 1])))))),
          ) as tf.Scalar,
        [w],
      );
      opt.step([w], [grads[w.name]], 0.5);
    });
}

/** `state` written in a checkpoint's files and read back, as a resumed run reads it. */
function throughCheckpoint(state: OptimizerState): OptimizerState {
  const dir = join(mkdtempSync(join(tmpdir(), 'slimtrain-optim-state-')), 'checkpoint');
  const at = { epoch: 0, step: state.step, batchInEpoch: 0, rng: [1, 2, 3, 4], partial: { lossSum: 0, correct: 0, images: 0 } };
  writeCheckpoint(dir, { state: { version: CHECKPOINT_VERSION, ...at, optimizer: state, history: [], weights: [] }, weights: [] });
  const read = readCheckpoint(dir).state.optimizer;
  rmSync(dirname(dir), { recursive: true, force: true });
  return read;
}

/**
 * `config` run 50 steps straight, and run 20 steps, saved (through a checkpoint's
 * files), restored into a fresh optimizer and run to 50: both final weights.
 * `watch` sees the straight run's weights after each step.
 */
function straightAndResumed(
  config: SparseConfig,
  stepOn: ReturnType<typeof logisticStep>,
  watch?: (step: number, w: ArrayLike<number>) => void,
): { straight: number[]; resumed: number[] } {
  const make = () => createSparseOptimizer(new GroupIndex(spec, new Map([['w', [P]]])), config);
  // the groups are over the variable named 'w'
  const run = (from: number, to: number, w: tf.Variable, opt: SparseOptimizer) => {
    for (let s = from; s < to; s++) {
      stepOn(opt, w, s);
      watch?.(s, w.dataSync());
    }
  };
  const w1 = tf.variable(tf.zeros([P]), true, 'w');
  const a = make();
  run(0, 50, w1, a);
  const straight = Array.from(w1.dataSync());
  a.dispose();
  w1.dispose();

  const w2 = tf.variable(tf.zeros([P]), true, 'w');
  const b = make();
  for (let s = 0; s < 20; s++) stepOn(b, w2, s);
  const state = throughCheckpoint(b.getState());
  b.dispose();
  const c = make();
  // the state names variables; the resumed run's variable is the same one
  c.setState(state, [w2]);
  assert.equal(c.stepCount, 20);
  for (let s = 20; s < 50; s++) stepOn(c, w2, s);
  const resumed = Array.from(w2.dataSync());
  c.dispose();
  w2.dispose();
  return { straight, resumed };
}

for (const prunePeriods of [1, 3]) {
  test(`optimizer state (step, stage, momentum buffers, DHSPG choice, ${prunePeriods} pruning period(s)) saved and restored continues the same run`, () => {
    const p = makeProblem(3);
    const X = tf.tensor2d(Float32Array.from(p.X), [N, P]);
    const y = tf.tensor1d(Float32Array.from(p.y));
    const config: SparseConfig = {
      method: 'dhspg',
      lambda: LAMBDA,
      epsilon: 0.3,
      target: { kind: 'groups', fraction: 0.5 },
      pruneStart: 5,
      projectionStart: 10,
      pruneEnd: 40,
      prunePeriods,
      momentum: 0.9,
    };
    const { straight, resumed } = straightAndResumed(config, logisticStep(X, y));
    assert.deepEqual(resumed, straight);
    assert.equal(zeroGroupsOf(resumed).length, 5);
    tf.dispose([X, y]);
  });
}

test('DHSPG pruning periods: each period removes its share of the target, chosen among the groups still alive', () => {
  const p = makeProblem(3);
  const X = tf.tensor2d(Float32Array.from(p.X), [N, P]);
  const y = tf.tensor1d(Float32Array.from(p.y));
  const w = tf.variable(tf.zeros([P]), true, 'w');
  // 6 of 10 groups in 3 periods over steps [5, 35): 2 more at each of steps 15, 25 and 35
  const opt = createSparseOptimizer(new GroupIndex(spec, new Map([['w', [P]]])), {
    method: 'dhspg',
    lambda: LAMBDA,
    epsilon: 0.3,
    target: { kind: 'groups', fraction: 0.6 },
    pruneStart: 5,
    projectionStart: 5,
    pruneEnd: 35,
    prunePeriods: 3,
    momentum: 0.9,
  });
  assert.throws(
    () =>
      createSparseOptimizer(new GroupIndex(spec, new Map([['w', [P]]])), {
        method: 'dhspg',
        lambda: 0,
        target: { kind: 'groups', fraction: 0.5 },
        prunePeriods: 0,
      }),
    /pruning periods must be a whole number >= 1, got 0/,
  );
  const stepOn = logisticStep(X, y);
  const zeroAfter = new Map<number, number[]>();
  const chosenAfter = new Map<number, number>();
  for (let s = 0; s < 45; s++) {
    stepOn(opt, w, s);
    zeroAfter.set(s + 1, zeroGroupsOf(w.dataSync()));
    chosenAfter.set(s + 1, penalisedOf(opt)?.filter((c) => c).length ?? 0);
  }
  // steps are counted from 0: step 15 is the 16th
  assert.equal(chosenAfter.get(5), 0);
  assert.equal(chosenAfter.get(6), 2);
  assert.equal(chosenAfter.get(16), 4);
  assert.equal(chosenAfter.get(26), 6);
  assert.ok(zeroAfter.get(16)!.length >= 2, `zero after the first period: ${zeroAfter.get(16)}`);
  assert.ok(zeroAfter.get(26)!.length >= 4, `zero after the second period: ${zeroAfter.get(26)}`);
  const final = zeroAfter.get(45)!;
  assert.equal(final.length, 6);
  // zero groups stay zero, and the groups of each period are among the final ones
  for (const s of [16, 26, 36])
    for (const g of zeroAfter.get(s)!) assert.ok(final.includes(g), `group ${g}, zero after step ${s}, came back`);
  assert.deepEqual(
    penalisedOf(opt)!.flatMap((c, g) => (c ? [g] : [])),
    final,
  );
  tf.dispose([X, y, w]);
  opt.dispose();
});

test('DHSPG uniform allocation (groupLayers): every layer gives up the same share of its groups', () => {
  const p = makeProblem(3);
  const X = tf.tensor2d(Float32Array.from(p.X), [N, P]);
  const y = tf.tensor1d(Float32Array.from(p.y));
  const stepOn = logisticStep(X, y);
  const chosenBy = (groupLayers?: number[]) => {
    const w = tf.variable(tf.zeros([P]), true, 'w');
    const opt = createSparseOptimizer(new GroupIndex(spec, new Map([['w', [P]]])), {
      method: 'dhspg',
      lambda: LAMBDA,
      epsilon: 0.3,
      target: { kind: 'groups', fraction: 0.4 },
      pruneStart: 5,
      projectionStart: 5,
      pruneEnd: 20,
      momentum: 0.9,
      groupLayers,
      allocation: groupLayers ? 'uniform' : 'global',
    });
    for (let s = 0; s < 25; s++) stepOn(opt, w, s);
    const chosen = penalisedOf(opt)!.flatMap((c, g) => (c ? [g] : []));
    assert.deepEqual(zeroGroupsOf(w.dataSync()), chosen);
    tf.dispose(w);
    opt.dispose();
    return chosen;
  };
  // groups 0-3 carry the signal: a global ranking leaves them alone and
  // takes 4 of the noise groups 4-9; a layer of groups 0-4 must give up 2 of them
  const global = chosenBy();
  assert.equal(global.length, 4);
  assert.ok(
    global.every((g) => g >= TRUE_GROUPS),
    `global choice ${global}`,
  );
  const layers = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
  const uniform = chosenBy(layers);
  assert.deepEqual(
    [0, 1].map((l) => uniform.filter((g) => layers[g] === l).length),
    [2, 2],
    `uniform choice ${uniform}`,
  );
  assert.throws(
    () =>
      createSparseOptimizer(new GroupIndex(spec, new Map([['w', [P]]])), {
        method: 'dhspg',
        lambda: 0,
        target: { kind: 'groups', fraction: 0.5 },
        groupLayers: [0],
      }),
    /groupLayers has 1 entries for 10 groups/,
  );
  tf.dispose([X, y]);
});

test('DHSPG with a MACs target chooses groups until their MACs reach the target, then zeroes them', () => {
  const p = makeProblem(3);
  const groupMacs = [10, 1, 1, 1, 1, 1, 1, 1, 1, 1];
  const X = tf.tensor2d(Float32Array.from(p.X), [N, P]);
  const y = tf.tensor1d(Float32Array.from(p.y));
  const w = tf.variable(tf.zeros([P]), true, 'w');
  const opt = createSparseOptimizer(new GroupIndex(spec, new Map([['w', [P]]])), {
    method: 'dhspg',
    lambda: LAMBDA,
    epsilon: 0.3,
    pruneStart: 5,
    projectionStart: 10,
    pruneEnd: 40,
    momentum: 0.9,
    target: {
      kind: 'cost',
      unit: 'MACs',
      fraction: 0.3,
      groupCost: groupMacs,
      total: 19,
      removed: (ids) => ids.reduce((sum, g) => sum + groupMacs[g], 0),
    },
  });
  const stepOn = logisticStep(X, y);
  for (let s = 0; s < 50; s++) stepOn(opt, w, s);
  const chosen = penalisedOf(opt)!.flatMap((c, g) => (c ? [g] : []));
  const macs = chosen.reduce((sum, g) => sum + groupMacs[g], 0);
  assert.ok(macs >= 0.3 * 19, `chosen ${chosen} cost ${macs} MACs`);
  // it stops at the first group that reaches the target: at most one group's MACs beyond it
  assert.ok(macs < 0.3 * 19 + Math.max(...chosen.map((g) => groupMacs[g])), `chosen ${chosen} cost ${macs} MACs`);
  assert.deepEqual(zeroGroupsOf(w.dataSync()), chosen);
  tf.dispose([X, y, w]);
  opt.dispose();
});

test('HESSO fades each period’s least important groups linearly to exactly zero: (P - t) / P of their size after t of P steps', () => {
  // no gradient: only the fading moves the weights; group g holds the value (g + 1) / 10, so magnitude orders them
  const w = tf.variable(tf.tensor1d(Float32Array.from({ length: P }, (_, i) => (Math.floor(i / SIZE) + 1) / 10)), true, 'w');
  const initial = Float32Array.from(w.dataSync());
  const opt = createSparseOptimizer(new GroupIndex(spec, new Map([['w', [P]]])), {
    method: 'hesso',
    lambda: 0,
    target: { kind: 'groups', fraction: 0.4 },
    pruneStart: 2,
    pruneEnd: 22,
    prunePeriods: 2,
    momentum: 0,
  });
  const groupValue = (g: number) => w.dataSync()[g * SIZE];
  for (let s = 0; s < 30; s++) {
    // the optimizer takes the gradient it is given: a fresh zero each step
    opt.step([w], [tf.zeros([P])], 0.1);
    const done = s + 1;
    // period 1 is steps 2-11 (groups 0 and 1), period 2 steps 12-21 (groups 2 and 3)
    const faded = (first: number) => Math.min(10, Math.max(0, done - first));
    for (const [g, first] of [
      [0, 2],
      [1, 2],
      [2, 12],
      [3, 12],
    ]) {
      assert.ok(
        Math.abs(groupValue(g) - (initial[g * SIZE] * (10 - faded(first))) / 10) < 1e-6,
        `step ${done}: group ${g} = ${groupValue(g)}`,
      );
    }
    for (let g = 4; g < GROUPS; g++) assert.equal(groupValue(g), initial[g * SIZE]);
  }
  assert.deepEqual(zeroGroupsOf(w.dataSync()), [0, 1, 2, 3]);
  assert.throws(
    () =>
      createSparseOptimizer(new GroupIndex(spec, new Map([['w', [P]]])), {
        method: 'hesso',
        lambda: 0,
        target: { kind: 'groups', fraction: 0.5 },
        pruneStart: 5,
        pruneEnd: 6,
        prunePeriods: 2,
      }),
    /hesso needs at least one step per pruning period/,
  );
  w.dispose();
  opt.dispose();
});

test('HESSO on logistic regression: the target sparsity exactly, zero groups stay zero, and a saved state resumes the same run', () => {
  const p = makeProblem(3);
  const X = tf.tensor2d(Float32Array.from(p.X), [N, P]);
  const y = tf.tensor1d(Float32Array.from(p.y));
  const config: SparseConfig = {
    method: 'hesso',
    lambda: 0,
    target: { kind: 'groups', fraction: 0.6 },
    pruneStart: 5,
    pruneEnd: 35,
    prunePeriods: 3,
    momentum: 0.9,
  };
  let zeroAt35: number[] = [];
  const { straight, resumed } = straightAndResumed(config, logisticStep(X, y), (s, w) => {
    if (s + 1 === 35) zeroAt35 = zeroGroupsOf(w);
  });
  assert.equal(zeroAt35.length, 6);
  assert.deepEqual(zeroGroupsOf(straight), zeroAt35);
  // the signal groups 0-3 are the important ones
  assert.ok(
    zeroAt35.every((g) => g >= TRUE_GROUPS),
    `removed ${zeroAt35}`,
  );
  assert.deepEqual(resumed, straight);
  tf.dispose([X, y]);
});

for (const method of ['proxsg', 'hspg'] as const) {
  test(`${method} with a target adapts lambda from far too small until exactly the target's share of groups is zero, noise groups only, and never more`, () => {
    const p = makeProblem(3);
    const steps = 40 * (N / 16);
    const lambdaTarget = { target: { kind: 'groups', fraction: 0.4 } as const, from: steps / 10, by: steps / 2 };
    const config: SparseConfig =
      method === 'hspg'
        ? { method, lambda: 1e-4, epsilon: 0.1, halfSpaceStart: steps / 10, lambdaTarget }
        : { method, lambda: 1e-4, lambdaTarget };
    // lambda 1e-4 alone zeroes nothing
    const fixed = runOptimizer(p, { ...config, lambdaTarget: undefined }, () => 0.5, steps, 16);
    assert.deepEqual(zeroGroupsOf(fixed), []);

    const w = tf.variable(tf.zeros([P]), true, 'w');
    const opt = createSparseOptimizer(new GroupIndex(spec, new Map([['w', [P]]])), config);
    const X = tf.tensor2d(Float32Array.from(p.X), [N, P]);
    const y = tf.tensor1d(Float32Array.from(p.y));
    const stepOn = logisticStep(X, y);
    let most = 0;
    let metAt = -1;
    let zeroAtMet: number[] = [];
    let final: number[] = [];
    let lambda = 0;
    try {
      for (let s = 0; s < steps; s++) {
        stepOn(opt, w, s);
        const zero = zeroGroupsOf(w.dataSync());
        most = Math.max(most, zero.length);
        if (zero.length === 4 && metAt < 0) {
          metAt = s;
          zeroAtMet = zero;
        }
      }
      final = zeroGroupsOf(w.dataSync());
      lambda = opt.stats([w]).lambda!;
    } finally {
      tf.dispose([w, X, y]);
      opt.dispose();
    }
    assert.equal(most, 4);
    assert.ok(metAt > 0 && metAt < steps / 2, `met at step ${metAt}`);
    assert.ok(
      zeroAtMet.every((g) => g >= TRUE_GROUPS),
      `zero groups ${zeroAtMet}`,
    );
    assert.deepEqual(final, zeroAtMet);
    assert.ok(lambda > 1e-3, `lambda ${lambda}`);
  });
}

test('a penalty target not met by its deadline is met there by one projection of the smallest groups, and a saved state resumes the same run', () => {
  const p = makeProblem(3);
  const X = tf.tensor2d(Float32Array.from(p.X), [N, P]);
  const y = tf.tensor1d(Float32Array.from(p.y));
  // from step 5 to 30, 1.25x per step at most: far too little time for lambda 1e-6
  const config: SparseConfig = {
    method: 'hspg',
    lambda: 1e-6,
    halfSpaceStart: 5,
    momentum: 0.9,
    lambdaTarget: { target: { kind: 'groups', fraction: 0.4 }, from: 5, by: 30 },
  };
  const zeroCounts: number[] = [];
  const { straight, resumed } = straightAndResumed(config, logisticStep(X, y), (s, w) => (zeroCounts[s] = zeroGroupsOf(w).length));
  assert.equal(zeroCounts[28], 0);
  assert.equal(zeroCounts[30], 4);
  assert.deepEqual(zeroGroupsOf(straight), zeroGroupsOf(resumed));
  assert.deepEqual(resumed, straight);
  assert.equal(zeroGroupsOf(straight).length, 4);
  tf.dispose([X, y]);
});

test('weight decay shrinks grouped and ungrouped entries alike, as plain SGD does, and a zero group stays zero', () => {
  // groups 0 and 1 over w[0..3] and w[4..7]; w[8..9] belong to no group. With a zero
  // gradient and no momentum, a plain step is x <- x - lr * wd * x on every entry.
  const index = new GroupIndex(
    {
      groups: [0, 1].map((g) => [{ variable: 'v', axis: 0, indices: [0, 1, 2, 3].map((k) => 4 * g + k) }]),
    },
    new Map([['v', [10]]]),
  );
  const start = [0, 0, 0, 0, 1, -2, 3, -4, 5, -6];
  const v = tf.variable(tf.tensor1d(start), true, 'v');
  const lr = 0.1;
  const wd = 0.05;
  // HESSO before its pruning start takes plain steps
  const opt = createSparseOptimizer(index, {
    method: 'hesso',
    lambda: 0,
    target: { kind: 'groups', fraction: 0.5 },
    pruneStart: 100,
    pruneEnd: 200,
    momentum: 0,
    weightDecay: wd,
  });
  opt.step([v], [tf.zerosLike(v)], lr);
  const after = v.dataSync();
  start.forEach((x, i) =>
    assert.ok(Math.abs(after[i] - x * (1 - lr * wd)) < 1e-6, `entry ${i}: ${after[i]}, expected ${x * (1 - lr * wd)}`),
  );
  opt.dispose();
  v.dispose();
});

test('a group zeroed through a BatchNormalization without a scale takes its moving mean to 0, which training keeps at 0; slim equals sparse', async () => {
  const input = tfl.input({ shape: [6, 6, 2] });
  let y = tfl.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) })
    .apply(input);
  y = tfl.layers.batchNormalization({ scale: false, movingMeanInitializer: 'ones' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.reLU().apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.globalAveragePooling2d({}).apply(y) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 3 }).apply(y) as tfl.SymbolicTensor });
  const groups = zeroInvariantGroups(model).groups.filter((g) => g.prunable);
  assert.equal(groups.length, 4, 'the conv channels are prunable through the BN without a scale');
  // group 1's trained slices zero, its moving mean still 1: the optimizer's step must reset it
  const { zeroOutGroups } = await import('../src/slim/zero.js');
  zeroOutGroups(model, [{ ...groups[1], resetSlices: [] }]);
  const mean = () =>
    model.layers[2].weights
      .find((w) => w.name.endsWith('moving_mean'))!
      .read()
      .dataSync();
  assert.equal(mean()[1], 1);
  const opt = createSparseOptimizer(GroupIndex.fromChannelGroups(groups, model), { method: 'hspg', lambda: 0, halfSpaceStart: 0 });
  const variables = trainableVariables(model);
  const rng = new Rng(2);
  const batch = { x: Float32Array.from({ length: 4 * 72 }, () => rng.normal()), labels: Uint8Array.from([0, 1, 2, 0]), size: 4 };
  for (let s = 0; s < 3; s++) trainStep(model, variables, opt, batch, [6, 6, 2], 0.05);
  assert.equal(mean()[1], 0, 'moving mean of the zero channel reset and kept at 0 by the moving average');
  assert.ok(
    [0, 2, 3].every((c) => mean()[c] !== 0 && mean()[c] !== 1),
    'the other channels keep their statistics',
  );
  const { constructSlimModel } = await import('../src/slim/construct.js');
  const slim = await constructSlimModel(model);
  assert.equal(slim.removed.length, 1);
  assert.ok(slim.check.maxAbsDiff <= slim.check.bound);
  opt.dispose();
  slim.model.dispose();
  model.dispose();
});

test('frozen layers train as Keras trains them: a frozen BatchNormalization without a scale runs on its moving statistics with gradients to the conv before it, and a frozen separable conv keeps the channels it reads', async () => {
  const { applyFreeze } = await import('../src/train/frozen.js');
  const input = tfl.input({ shape: [6, 6, 2] });
  let y = tfl.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) })
    .apply(input);
  y = tfl.layers.batchNormalization({ scale: false, trainable: false, movingMeanInitializer: 'ones' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.reLU().apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.separableConv2d({ filters: 3, kernelSize: 3, trainable: false }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.globalAveragePooling2d({}).apply(y) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 3 }).apply(y) as tfl.SymbolicTensor });
  applyFreeze(model);
  const groups = zeroInvariantGroups(model).groups;
  assert.ok(
    groups.filter((g) => g.channels.some((c) => c.layer === model.layers[1].name)).every((g) => !g.prunable),
    "the conv's channels go through frozen weights: kept",
  );
  const frozen = [model.layers[2], model.layers[4]].flatMap((l) => l.weights.map((w) => w.read().dataSync().slice()));
  const opt = createSparseOptimizer(
    GroupIndex.fromChannelGroups(
      groups.filter((g) => g.prunable),
      model,
    ),
    { method: 'hspg', lambda: 0.01 },
  );
  const variables = trainableVariables(model);
  const conv = variables[0].dataSync().slice();
  const rng = new Rng(3);
  const batch = { x: Float32Array.from({ length: 4 * 72 }, () => rng.normal()), labels: Uint8Array.from([0, 1, 2, 0]), size: 4 };
  for (let s = 0; s < 2; s++) assert.ok(Number.isFinite(trainStep(model, variables, opt, batch, [6, 6, 2], 0.05).loss));
  assert.ok(
    variables[0].dataSync().some((v, i) => v !== conv[i]),
    'the conv in front of the frozen layers trained',
  );
  const after = [model.layers[2], model.layers[4]].flatMap((l) => l.weights.map((w) => w.read().dataSync()));
  after.forEach((values, k) =>
    assert.ok(
      values.every((v, i) => v === frozen[k][i]),
      'frozen weights and statistics unchanged',
    ),
  );
  opt.dispose();
  model.dispose();
});
