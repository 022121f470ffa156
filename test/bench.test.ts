// The benchmark's plumbing: a row's command as a user would type it, and what is stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { command, findTask, seedsOf } from '../bench/tasks.js';
import { changedSince, currentCommit } from '../bench/results.js';

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
