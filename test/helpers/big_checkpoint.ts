// Run as its own process by memory.test.ts, so that the resident memory it measures
// is this checkpoint's alone (a process reuses memory it freed before without
// growing): the checkpoint of a synthetic 25,005,000-parameter model (a 5000x5000
// dense layer) with a momentum buffer per weight, written and read back, printing
// its binary size, the extra memory and the seconds each took, and whether it read
// back bit-identical. Linux only (/proc).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readCheckpoint, writeCheckpoint, CHECKPOINT_VERSION, type Checkpoint } from '../../src/train/checkpoint.js';
import { Rng } from '../../src/util/random.js';

const rng = new Rng(7);
const random = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
const shapes = [[5000, 5000], [5000]];
const weights = shapes.map((s) => random(s.reduce((a, b) => a * b)));
const slots = Object.fromEntries(shapes.map((shape, i) => [`${i}/momentum`, { shape, values: random(weights[i].length) }]));
const saved: Checkpoint = {
  state: {
    version: CHECKPOINT_VERSION,
    epoch: 1,
    step: 100,
    batchInEpoch: 0,
    rng: [1, 2, 3, 4],
    partial: { lossSum: 0, correct: 0, images: 0 },
    optimizer: { name: 'sgd', step: 100, slots },
    history: [],
    weights: shapes.map((shape, i) => ({ name: `dense/${i ? 'bias' : 'kernel'}`, shape })),
  },
  weights,
};
const arrays = (c: Checkpoint) => [...c.weights, ...Object.values(c.state.optimizer.slots).map((s) => s.values)];

const peakRss = () => 1024 * Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
/** the resident memory's peak while `act` ran, above what the process held before */
function extra(act: () => void): number {
  const before = process.memoryUsage().rss;
  writeFileSync('/proc/self/clear_refs', '5');
  act();
  return peakRss() - before;
}

const dir = join(mkdtempSync(join(tmpdir(), 'slimtrain-big-ckpt-')), 'checkpoint');
const seconds = (act: () => void) => () => {
  const start = performance.now();
  act();
  return (performance.now() - start) / 1000;
};
let writeSeconds = 0;
let readSeconds = 0;
const writing = extra(() => (writeSeconds = seconds(() => writeCheckpoint(dir, saved))()));
let read: Checkpoint | undefined;
const reading = extra(() => (readSeconds = seconds(() => (read = readCheckpoint(dir)))()));
const [a, b] = [arrays(saved), arrays(read!)];
const identical =
  a.length === b.length &&
  a.every((x, i) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)));
rmSync(dirname(dir), { recursive: true, force: true });
process.stdout.write(
  JSON.stringify({ binary: a.reduce((n, x) => n + x.byteLength, 0), writing, reading, identical, writeSeconds, readSeconds }),
);
