// Latency tables with a timer whose answers are known: a layer's time is affine in
// its MACs, so interpolation on the width grid must reproduce it exactly and the
// predicted saving of any removal must match the MACs the group analysis prices;
// the cache must spare every layer it has seen. Real timings are the benchmark's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../src/engine/index.js';
import { predictRemoval, zeroInvariantGroups } from '../src/graph/groups.js';
import { countModel } from '../src/layers/count.js';
import { latencyCost, measureLatencyTable, widthGrid, type ModelTimer } from '../src/metrics/latency.js';
import { buildZooModel } from '../src/models/zoo.js';
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
