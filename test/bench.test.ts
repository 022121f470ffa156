// The benchmark's plumbing: a row's command as a user would type it, and what is stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { command, findTask, seedsOf } from '../bench/tasks.js';
import { changedSince, currentCommit, pointsFromStart, type RowResult } from '../bench/results.js';

test('a from-trained row compresses the dense model of its seed with --distill, at the task settings with its own overrides', () => {
  const task = findTask('vgg-small-trained');
  const row = (id: string) => task.rows.find((r) => r.id === id)!;
  const args = command(task, row('dhspg-6.3'), 2);
  assert.deepEqual(args.slice(0, 3), ['compress', '--from', 'runs/bench/vgg-small-trained/dense/seed-2/model.json']);
  assert.ok(args.includes('--distill'));
  assert.equal(args[args.indexOf('--lr') + 1], '0.1');
  assert.equal(args[args.indexOf('--seed') + 1], '2');
  const probe = command(task, row('dhspg-6.3-lr0.02'), 0);
  assert.equal(args.length, probe.length, 'an override replaces a value, it adds no flag');
  assert.equal(probe[probe.indexOf('--lr') + 1], '0.02');
  assert.deepEqual(seedsOf(task, row('dhspg-speed-ort-3')), [0]);
  assert.deepEqual(command(task, row('dense'), 1).slice(0, 3), ['train', '--model', 'vgg-small']);
  assert.throws(() => findTask('nope'), /unknown task 'nope': use vgg-small-trained/);
});

test('a result run at the current commit is current', () => {
  assert.equal(changedSince(currentCommit()), undefined);
});

test("a row's Δ is taken from the model each run started from, else from the dense model of its seed, else from dense's mean", () => {
  const result = (seed: number, accuracy: number, original?: number) =>
    ({ seed, accuracy, ...(original !== undefined ? { original } : {}) }) as RowResult;
  const dense = [result(0, 0.93), result(1, 0.91)];
  assert.ok(Math.abs(pointsFromStart([result(0, 0.92), result(1, 0.9)], dense) - -0.01) < 1e-12);
  // seed 0 started from another machine's dense model (0.95), seed 1 from the dense row's
  assert.ok(Math.abs(pointsFromStart([result(0, 0.92, 0.95), result(1, 0.9)], dense) - -0.02) < 1e-12);
  // seed 2 has no dense model and no start of its own: the row is compared with dense's mean (0.92)
  assert.ok(Math.abs(pointsFromStart([result(0, 0.92), result(2, 0.9)], dense) - -0.01) < 1e-12);
});
