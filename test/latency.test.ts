// Latency tables with a timer whose answers are known: a layer's time is affine in
// its MACs, so interpolation on the width grid must reproduce it exactly and the
// predicted saving of any removal must match the MACs the group analysis prices;
// the cache must spare every layer it has seen; a calibration must map the tables'
// predictions onto what whole slim models measured. Real timings are the benchmark's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../src/engine/index.js';
import { predictRemoval, zeroInvariantGroups } from '../src/graph/groups.js';
import { countModel } from '../src/layers/count.js';
import { latencyCost, measureLatencyTable, widthGrid, type ModelTimer } from '../src/metrics/latency.js';
import { calibrateLatency, calibrationMap } from '../src/compress/calibrate.js';
import { buildZooModel } from '../src/models/zoo.js';
import { groupLayerIds, keptFloors, removalOrder } from '../src/optim/allocation.js';
import { Rng } from '../src/util/random.js';
import type { StepProgress } from '../src/util/progress.js';

await initEngine({ backend: 'cpu' });

/** 1 ms per million MACs plus 0.05 ms a call, counting each call */
function affineTimer(): { timer: ModelTimer; calls: () => number } {
  let calls = 0;
  return {
    timer: async (model, runtime, input) => {
      assert.equal(runtime, 'ort');
      assert.equal(input.shape[0], 64);
      calls++;
      return countModel(model).macs * 1e-6 + 0.05;
    },
    calls: () => calls,
  };
}

test('width grids hold eighths of a width that can shrink, and only the full width of one that cannot', () => {
  assert.deepEqual(widthGrid(64, true), [8, 16, 24, 32, 40, 48, 56, 64]);
  assert.deepEqual(widthGrid(6, true), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(widthGrid(3, false), [3]);
});

test('a latency table predicts the saving of any set of groups as the timer would time it (affine in MACs), scaled to the whole model', async () => {
  const model = buildZooModel('vgg-small', { inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const partition = zeroInvariantGroups(model);
  const prunable = partition.groups.filter((g) => g.prunable);
  const { timer } = affineTimer();
  const table = await measureLatencyTable(model, partition, { runtime: 'ort', batch: 64, cacheDir: false, timer });
  const layerCount = table.layers.length;
  // every convolution and the dense layers whose widths the groups change
  assert.ok(layerCount >= 4, `${layerCount} layers timed`);
  const first = table.layers[0];
  assert.equal(first.ins.length, 1);
  assert.equal(first.outs.length, 8);
  const wholeMs = (countModel(model).macs * 1e-6 + 0.05) * 1;
  assert.equal(table.modelMs, wholeMs);
  const cost = latencyCost(table, partition);
  assert.equal(cost.total, wholeMs);
  // the layers alone pay one call each beyond the whole model's
  const layersMs = (countModel(model).macs * 1e-6 + 0.05 * layerCount) * 1;
  const scale = wholeMs / layersMs;
  const rng = new Rng(4);
  for (let trial = 0; trial < 20; trial++) {
    const groups = prunable.filter(() => rng.next() < 0.4);
    const expected = predictRemoval(partition.graph, groups).macs * 1e-6 * scale;
    assert.ok(Math.abs(cost.saved(groups) - expected) < 1e-9 * wholeMs, `trial ${trial}: ${cost.saved(groups)} vs ${expected}`);
  }
  model.dispose();
});

test('the latency cache times each distinct layer once: a second table, and repeated ResNet blocks, are read back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-latency-'));
  try {
    const model = buildZooModel('resnet20', { inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
    const partition = zeroInvariantGroups(model);
    const first = affineTimer();
    const reports: StepProgress[] = [];
    const table = await measureLatencyTable(model, partition, {
      runtime: 'ort',
      batch: 64,
      cacheDir: dir,
      timer: first.timer,
      onProgress: (p) => reports.push(p),
    });
    // progress counts each timing once, and ends at its total
    assert.equal(reports.length, first.calls());
    assert.deepEqual(reports.at(-1), { ...reports[0], done: first.calls(), total: first.calls() });
    const points = (l: { ins: number[]; outs: number[] }) => l.ins.length * l.outs.length;
    const allPoints = table.layers.reduce((n, l) => n + points(l), 0);
    // the blocks of a stage repeat the same convolutions: fewer layers timed than listed
    assert.ok(first.calls() - 1 < allPoints, `${first.calls() - 1} timings for ${allPoints} grid points`);
    const again = affineTimer();
    const second = await measureLatencyTable(model, partition, { runtime: 'ort', batch: 64, cacheDir: dir, timer: again.timer });
    assert.equal(again.calls(), 1, 'only the whole model is timed again');
    await measureLatencyTable(model, partition, {
      runtime: 'ort',
      batch: 64,
      cacheDir: dir,
      timer: affineTimer().timer,
      onProgress: (p) => reports.push(p),
    });
    assert.deepEqual([reports.at(-1)!.done, reports.at(-1)!.total], [1, 1], 'a cached table has one thing left to time');
    assert.deepEqual(second.layers, table.layers);
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a calibration map passes through its points, (0, 0) and (1, 1), and rises even where a noisy point would not', () => {
  const map = calibrationMap([
    { predicted: 0.5, measured: 0.6 },
    { predicted: 0.25, measured: 0.4 },
  ]);
  assert.equal(map(1), 1);
  assert.equal(map(0), 0);
  assert.ok(Math.abs(map(0.5) - 0.6) < 1e-12);
  assert.ok(Math.abs(map(0.25) - 0.4) < 1e-12);
  assert.ok(Math.abs(map(0.75) - 0.8) < 1e-12, 'halfway between (0.5, 0.6) and (1, 1)');
  // the further removal measured slower than the lesser one: it is taken as no faster
  const noisy = calibrationMap([
    { predicted: 0.5, measured: 0.6 },
    { predicted: 0.25, measured: 0.7 },
  ]);
  assert.ok(Math.abs(noisy(0.25) - 0.6) < 1e-12);
  for (let p = 0; p <= 1; p += 0.05) assert.ok(noisy(p) <= noisy(p + 0.05) + 1e-12, `rises at ${p}`);
});

test('a calibrated latency cost predicts what whole slim models measured, times models slimmed within the floors, and leaves the model as it was', async () => {
  const model = buildZooModel('vgg-small', { inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const partition = zeroInvariantGroups(model);
  const before = model.getWeights().map((w) => w.dataSync().slice());
  const table = latencyCost(
    await measureLatencyTable(model, partition, { runtime: 'ort', batch: 64, cacheDir: false, timer: affineTimer().timer }),
    partition,
  );
  // a runtime in which a slim model runs at the square root of its MACs share
  const sizes: number[] = [];
  const meter = async (base: typeof model, slim: typeof model) => {
    sizes.push(countModel(slim).macs);
    return Math.sqrt(countModel(base).macs / countModel(slim).macs);
  };
  const cost = await calibrateLatency(model, partition, table, { runtime: 'ort', batch: 64, meter });
  const points = cost.checks;
  assert.equal(points.length, 2);
  assert.ok(sizes[0] > sizes[1], 'half of what the floors allow, then all of it');
  // every layer at its floor keeps at least a quarter of its filters, so at least 1/16 of the MACs of a layer fed by one
  assert.ok(sizes[1] > countModel(model).macs / 20, `${sizes[1]} MACs at the floors`);
  for (const p of points) assert.ok(p.measured > p.predicted, 'this runtime gains less than the MACs (and the tables) predict');
  // removing groups the way the calibration did is predicted as measured
  const prunable = partition.groups.filter((g) => g.prunable);
  const rng = new Rng(7);
  for (let trial = 0; trial < 10; trial++) {
    const groups = prunable.filter(() => rng.next() < 0.5);
    const raw = 1 - table.saved(groups) / table.total;
    const calibrated = 1 - cost.saved(groups) / cost.total;
    assert.ok(calibrated >= raw, `trial ${trial}: calibrated share ${calibrated} kept, tables ${raw}`);
  }
  // the slim models it timed: uniform removal of half, then all, of what the floors allow
  const layers = groupLayerIds(prunable);
  const order = removalOrder(
    prunable.map((_, g) => g),
    new Float64Array(prunable.length),
    { allocation: 'uniform', layers, minKept: keptFloors(prunable, layers) },
  );
  [0.5, 1].forEach((level, i) => {
    const groups = order.slice(0, Math.round(level * order.length)).map((g) => prunable[g]);
    const measured = Math.sqrt(1 - predictRemoval(partition.graph, groups).macs / countModel(model).macs);
    assert.ok(Math.abs(points[i].measured - measured) < 1e-6, `point ${i}: ${points[i].measured} vs ${measured}`);
    assert.ok(Math.abs(1 - cost.saved(groups) / cost.total - measured) < 1e-6, `level ${level}: predicted as measured`);
  });
  model.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), before[i], `weight ${i} restored`));
  model.dispose();
});
