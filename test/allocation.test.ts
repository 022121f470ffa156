// Allocation, shared by DHSPG and the L1 baseline: which groups go, in what order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { initEngine } from '../src/engine/index.js';
import { buildZooModel } from '../src/models/zoo.js';
import { zeroInvariantGroups } from '../src/graph/groups.js';
import { groupLayerIds, keptFloors, LAYER_FLOOR, removalOrder, takeUntil, TIED_FAMILY_FLOOR } from '../src/optim/allocation.js';

await initEngine({ backend: 'cpu', announce: false });

test("removalOrder 'global' takes the highest priority first and never a layer's last group", () => {
  const priority = [5, 4, 3, 2, 1, 0];
  assert.deepEqual(removalOrder([0, 1, 2, 3, 4, 5], priority, { allocation: 'global' }), [0, 1, 2, 3, 4, 5]);
  // layer 0 is groups 0-2, layer 1 groups 3-5: each keeps its lowest-priority group
  const layers = [0, 0, 0, 1, 1, 1];
  assert.deepEqual(removalOrder([0, 1, 2, 3, 4, 5], priority, { allocation: 'global', layers }), [0, 1, 3, 4]);
});

test("removalOrder 'uniform' has every layer give up the same share, best candidates first", () => {
  const layers = [0, 0, 0, 0, 1, 1, 1, 1];
  const priority = [9, 8, 7, 6, 1, 2, 3, 4];
  const order = removalOrder([0, 1, 2, 3, 4, 5, 6, 7], priority, { allocation: 'uniform', layers });
  // alternating between the layers, each layer's own best first, last group of each kept
  assert.deepEqual(order, [0, 7, 1, 6, 2, 5]);
  // groups already removed count towards their layer's share
  const after = removalOrder([1, 2, 3, 4, 5, 6, 7], priority, { allocation: 'uniform', layers, removed: [1, 0, 0, 0, 0, 0, 0, 0] });
  assert.deepEqual(after.slice(0, 2), [7, 1]);
  assert.throws(() => removalOrder([0], [1], { allocation: 'uniform' }), /needs the layer of every group/);
});

test('a floor per layer: removalOrder never takes a layer below the groups minKept leaves it', () => {
  const layers = [0, 0, 0, 0, 1, 1, 1, 1];
  const priority = [9, 8, 7, 6, 5, 4, 3, 2];
  const minKept = new Map([
    [0, 3],
    [1, 1],
  ]);
  assert.deepEqual(removalOrder([0, 1, 2, 3, 4, 5, 6, 7], priority, { allocation: 'global', layers, minKept }), [0, 4, 5, 6]);
});

test('ResNet-20: every residual stream keeps half its channels and every other layer a quarter, whatever the scores', () => {
  const model = buildZooModel('resnet20', { inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const prunable = zeroInvariantGroups(model).groups.filter((g) => g.prunable);
  const layers = groupLayerIds(prunable);
  const floors = keptFloors(prunable, layers);
  // streams: the groups whose channels span several layers (a stage's convolutions joined by its adds)
  const streams = [
    ...new Set(prunable.filter((g) => new Set(g.channels.map((c) => c.layer)).size > 1).map((g) => layers[prunable.indexOf(g)])),
  ];
  assert.equal(streams.length, 3, 'one tied family per stage');
  // the scores most eager to remove the streams: every group is a candidate, streams first
  const priority = prunable.map((g) => g.channels.length);
  const order = removalOrder(
    prunable.map((_, i) => i),
    priority,
    { allocation: 'global', layers, minKept: floors },
  );
  const size = new Map<number, number>();
  const taken = new Map<number, number>();
  layers.forEach((l) => size.set(l, (size.get(l) ?? 0) + 1));
  order.forEach((g) => taken.set(layers[g], (taken.get(layers[g]) ?? 0) + 1));
  for (const [layer, n] of size) {
    const floor = streams.includes(layer) ? TIED_FAMILY_FLOOR : LAYER_FLOOR;
    assert.equal(n - (taken.get(layer) ?? 0), Math.max(1, Math.ceil(floor * n)), `layer ${layer} of ${n} groups`);
  }
  model.dispose();
});

test('takeUntil finds the same shortest prefix as a linear scan, for any monotone target', () => {
  fc.assert(
    fc.property(fc.array(fc.nat(20), { maxLength: 40 }), fc.nat(400), (costs, goal) => {
      const order = costs.map((_, i) => i);
      const done = (picked: readonly number[]) => picked.reduce((s, g) => s + costs[g], 0) >= goal;
      let linear = 0;
      while (linear < order.length && !done(order.slice(0, linear))) linear++;
      assert.deepEqual(takeUntil(order, [], done), order.slice(0, linear));
    }),
    { seed: 7, numRuns: 300 },
  );
  assert.deepEqual(
    takeUntil([3, 4], [1], (p) => p.length >= 2),
    [1, 3],
  );
});
