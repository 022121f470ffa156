// Allocation, shared by DHSPG and the L1 baseline: which groups go, in what order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { removalOrder, takeUntil } from '../src/optim/allocation.js';

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
