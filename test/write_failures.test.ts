// Runs that meet a full disk (or a read-only or failing one): every write point
// found in a real run is made to fail in turn through the file layer's seam
// (util/files.ts), and each time the error names the file, the operation and what to
// do; nothing partial is left; the last complete checkpoint is intact; and the run
// can be finished. A real small file system (tmpfs, where the machine lets us mount
// one) checks the same with the kernel's own ENOSPC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initEngine } from '../src/engine/index.js';
import { runCompressJob, type CompressJob } from '../src/compress/job.js';
import { compressWrites } from '../src/compress/space.js';
import { checkFreeSpace, OutputError } from '../src/io/output.js';
import { checkpointBytes, readCheckpoint } from '../src/train/checkpoint.js';
import { runTrainJob, type TrainJob } from '../src/train/job.js';
import { injectWriteFault, WriteError, type WriteOperation } from '../src/util/files.js';
import { cli, run } from './helpers/cli.js';

const faultHelper = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'write_fault.js');

await initEngine({ backend: 'native' });

/** a small run of two epochs, what train and compress share */
const run2 = { model: 'mlp', data: 'mnist', subset: 64, epochs: 2, batchSize: 32, seed: 5, lr: 0.05, schedule: 'cosine' } as const;

const job: CompressJob = {
  ...run2,
  momentum: 0.9,
  method: 'hspg',
  lambda: 1,
  switchEpoch: 1,
  measureSpeed: false,
};

/** every file and folder under `dir`, relative to it */
function listing(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

const ARTIFACTS = [
  'sparse/model.json',
  'sparse/weights.bin',
  'slim/model.json',
  'slim/weights.bin',
  'slim.onnx',
  'metrics.json',
  'report.html',
];

/**
 * The write points of a whole run, in order: each file or folder and operation once,
 * with how often the run met it: a checkpoint's points come once per epoch.
 */
function writePoints(out: string, seen: { path: string; operation: WriteOperation }[]) {
  const points = new Map<string, { operation: WriteOperation; name: string; times: number }>();
  for (const { path, operation } of seen) {
    const name = relative(out, path);
    const point = points.get(`${operation} ${name}`) ?? { operation, name, times: 0 };
    point.times++;
    points.set(`${operation} ${name}`, point);
  }
  return [...points.values()];
}

test('each write point of a run fails in turn with ENOSPC: the error names the file, nothing partial is left, the last checkpoint is intact, and the run can be finished', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'slimtrain-faults-'));
  const seen: { path: string; operation: WriteOperation }[] = [];
  const reference = join(base, 'reference');
  injectWriteFault((path, operation) => void seen.push({ path, operation }));
  const straight = await runCompressJob({ ...job, out: reference }).finally(() => injectWriteFault(undefined));
  straight.sparseModel.dispose();
  straight.slimModel.dispose();
  const all = writePoints(reference, seen);
  // every operation on the checkpoint (shards, state, flushes, renames, the swap); of
  // each other file its folder and its write (its flush and rename are the checkpoint's code)
  const points = all.filter((p) => p.name.startsWith('checkpoint') || p.operation === 'write' || p.operation === 'create folder');
  assert.ok(points.length >= 18, `${points.length} of ${all.length} write points: ${points.map((p) => p.name).join(', ')}`);
  t.diagnostic(
    `${points.length} of the run's ${all.length} write points failed in turn: ${points.map((p) => `${p.operation} ${p.name}`).join(', ')}`,
  );
  for (const operation of ['create folder', 'write', 'flush', 'rename'] as const)
    assert.ok(
      points.some((p) => p.operation === operation),
      `a ${operation} among the write points`,
    );

  for (const [i, point] of points.entries()) {
    const out = join(base, `fault-${i}`);
    // the point's last meeting: for a checkpoint, the one after epoch 2, with epoch 1's on disk
    let met = 0;
    injectWriteFault((path, operation) => {
      if (operation !== point.operation || relative(out, path) !== point.name || ++met < point.times) return undefined;
      return Object.assign(new Error(`ENOSPC: no space left on device, ${operation}`), { code: 'ENOSPC' });
    });
    const failed = await runCompressJob({ ...job, out }).then(
      (r) => {
        r.sparseModel.dispose();
        r.slimModel.dispose();
        return undefined;
      },
      (e: Error) => e,
    );
    injectWriteFault(undefined);
    const where = `failing '${point.operation} ${point.name}'`;
    assert.ok(failed instanceof WriteError, `${where}: ${failed?.message ?? 'the run went through'}`);
    assert.match(
      failed.message,
      /no space left on the device \(ENOSPC\); free space on that disk, or write to a folder on another one/,
      where,
    );
    assert.ok(failed.message.includes(out), `${where}: the message names the file: ${failed.message}`);
    const left = listing(out);
    assert.deepEqual(
      left.filter((f) => /\.tmp$|\.next|\.prev/.test(f)),
      [],
      `${where}: partial files left: ${left.join(', ')}`,
    );
    const artifactsLeft = ARTIFACTS.filter((f) => left.includes(f));
    assert.deepEqual(artifactsLeft, [], `${where}: the run's files are all or none`);
    const inCheckpoint = point.name.startsWith('checkpoint');
    if (inCheckpoint) {
      assert.match(failed.message, /The checkpoint in .* is intact and holds the run after epoch 1: .* --resume goes on from there/, where);
      assert.equal(readCheckpoint(join(out, 'checkpoint')).state.epoch, 1, where);
    } else {
      assert.match(failed.message, /None of the run's files were left .* --resume writes the files without training again/, where);
      assert.equal(readCheckpoint(join(out, 'checkpoint')).state.epoch, 2, `${where}: the trained run is saved`);
    }
    // with the disk fixed, the run is finished from its checkpoint
    const epochs: number[] = [];
    const resumed = await runCompressJob({ ...job, out, resume: true }, { onEpochEnd: (e) => epochs.push(e.epoch) });
    assert.deepEqual(epochs, inCheckpoint ? [2] : [], `${where}: epochs trained again`);
    assert.equal(resumed.slim.params, straight.slim.params, where);
    assert.equal(resumed.slim.accuracy, straight.slim.accuracy, where);
    assert.deepEqual(
      ARTIFACTS.filter((f) => existsSync(join(out, f))),
      ARTIFACTS,
      where,
    );
    resumed.sparseModel.dispose();
    resumed.slimModel.dispose();
  }
  rmSync(base, { recursive: true, force: true });
});

test('the space a run needs is checked before it trains: a disk too small is refused naming the folder, the space needed and the space free; the estimate covers what a run writes', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'slimtrain-space-')), 'run');
  assert.throws(
    () => checkFreeSpace(out, [{ what: 'old and new checkpoint', bytes: 4e15 }]),
    (e: Error) =>
      e instanceof OutputError &&
      e.message.startsWith(
        `not enough space for this run in ${out}: it writes up to 4000000 GB (old and new checkpoint 4000000 GB) and the disk has `,
      ) &&
      /GB free; free space there, or choose --out on another disk$/.test(e.message),
  );
  // what a real run wrote, its checkpoint counted twice (the new beside the old while it is replaced)
  const r = await runCompressJob({ ...job, out, float16: true });
  const written = listing(out).reduce((n, f) => n + (statSync(join(out, f)).isFile() ? statSync(join(out, f)).size : 0), 0);
  const planned = compressWrites({ ...job, float16: true }, r.sparseModel).reduce((n, w) => n + w.bytes, 0);
  assert.ok(planned >= written + checkpointBytes(join(out, 'checkpoint')), `planned ${planned} bytes, written ${written}`);
  assert.ok(planned < 4 * written, `planned ${planned} bytes, written ${written}: the estimate refuses too much`);
  r.sparseModel.dispose();
  r.slimModel.dispose();
});

test('at the command line a failed write is one line naming the file and what to do, exit code 1; --resume then writes the files without training again', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'slimtrain-cli-fault-')), 'run');
  const args = ['compress', '--model', 'mlp', '--data', 'mnist', '--subset', '64', '--epochs', '2', '--no-speed', '--out', out];
  const withFault = (fault: string, ...extra: string[]) =>
    spawnSync(process.execPath, ['--import', pathToFileURL(faultHelper).href, cli, ...args, ...extra], {
      encoding: 'utf8',
      env: { ...process.env, SLIMTRAIN_TEST_WRITE_FAULT: fault },
    });
  const failed = withFault('ENOSPC slim/weights.bin');
  assert.equal(failed.status, 1, failed.stderr);
  const last = failed.stderr.trim().split('\n').pop()!;
  assert.match(
    last,
    new RegExp(
      `^slimtrain: error: cannot write ${join(out, 'slim', 'weights.bin')}: no space left on the device \\(ENOSPC\\); free space on that disk, or write to a folder on another one\\. ` +
        `None of the run's files were left in ${out}\\. Training is done and saved in ${join(out, 'checkpoint')}: once the disk takes them, the same command with --resume writes the files without training again$`,
    ),
  );
  assert.deepEqual(
    listing(out).filter((f) => !f.startsWith('checkpoint')),
    [],
  );
  const readOnly = withFault('EROFS metrics.json', '--resume');
  assert.equal(readOnly.status, 1, readOnly.stderr);
  assert.match(
    readOnly.stderr,
    /cannot write .*metrics\.json: the file system is read-only \(EROFS\); write to a folder on a writable disk\./,
  );
  const resumed = withFault('', '--resume');
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.doesNotMatch(resumed.stderr, /^epoch \d+:/m, 'no epoch trained again');
  assert.match(resumed.stderr, /all 2 epochs done \(4 steps\), so no training is left/);
  for (const f of ARTIFACTS) assert.ok(existsSync(join(out, f)), f);
  rmSync(dirname(out), { recursive: true, force: true });
});

/** A tmpfs of `kib` KiB for the length of `use` (mounting needs root: elsewhere the test says so and skips). */
async function onSmallDisk(kib: number, use: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir]);
  if (mounted.status !== 0) return void rmSync(dir, { recursive: true });
  try {
    await use(dir);
  } finally {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}
const canMount = process.getuid?.() === 0;

test(
  "on a real small disk: too small is refused before training with nothing written; filled during training, the kernel's ENOSPC keeps the last checkpoint and the run goes on from it",
  { skip: !canMount && 'mounting a small tmpfs needs root' },
  async () => {
    await onSmallDisk(1200, async (disk) => {
      const out = join(disk, 'run');
      const r = run('compress', '--model', 'lenet5', '--data', 'mnist', '--subset', '64', '--epochs', '1', '--out', out);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `slimtrain: error: not enough space for this run in ${out}: it writes up to [\\d.]+ MB \\(old and new checkpoint .*\\) and the disk has [\\d.]+ MB free`,
        ),
      );
      assert.doesNotMatch(r.stderr, /epoch 1/, 'refused before training');
      const trained = run('train', '--model', 'mlp', '--data', 'mnist', '--subset', '64', '--epochs', '1', '--out', out);
      assert.equal(trained.code, 1, trained.stderr);
      assert.match(
        trained.stderr,
        /slimtrain: error: not enough space for this run in .*: it writes up to [\d.]+ MB \(old and new checkpoint [\d.]+ MB, model [\d.]+ MB\)/,
      );
      assert.deepEqual(readdirSync(disk), [], 'nothing written');
    });
    await onSmallDisk(16384, async (disk) => {
      const out = join(disk, 'run');
      const filler = join(disk, 'filler');
      // after epoch 1's checkpoint, another program fills the disk
      const fill = (e: { epoch: number }) => {
        if (e.epoch !== 2) return;
        const { bavail, bsize } = statfsSync(disk);
        writeFileSync(filler, new Uint8Array(bavail * bsize));
      };
      await assert.rejects(
        () => runCompressJob({ ...job, out }, { onEpochEnd: fill }),
        (e: Error) =>
          e instanceof WriteError &&
          e.code === 'ENOSPC' &&
          e.message.includes(join(out, 'checkpoint.next')) &&
          /The checkpoint in .* is intact and holds the run after epoch 1/.test(e.message),
      );
      assert.deepEqual(listing(out), ['checkpoint', 'checkpoint/state.json', 'checkpoint/tensors-000.bin']);
      rmSync(filler);
      const epochs: number[] = [];
      const r = await runCompressJob({ ...job, out, resume: true }, { onEpochEnd: (e) => epochs.push(e.epoch) });
      assert.deepEqual(epochs, [2]);
      for (const f of ARTIFACTS) assert.ok(existsSync(join(out, f)), f);
      r.sparseModel.dispose();
      r.slimModel.dispose();
    });
  },
);

test('train: a model that cannot be written leaves no part of it and the trained checkpoint; --resume writes it without training again', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'slimtrain-train-fault-')), 'run');
  const trainJob: TrainJob = { ...run2, optimizer: { name: 'sgd', momentum: 0.9 }, out };
  injectWriteFault((path, operation) =>
    operation === 'write' && /model\.json$/.test(path) ? Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }) : undefined,
  );
  const failed = await runTrainJob(trainJob).then(
    (r) => r.model.dispose(),
    (e: Error) => e,
  );
  injectWriteFault(undefined);
  assert.ok(failed instanceof WriteError, String(failed));
  assert.match(
    failed.message,
    /^cannot write .*model\.json: input\/output error \(a failing disk or network share\) \(EIO\); check the disk, or write to a folder on another one\. Training is done and saved in .*checkpoint: .* --resume writes the model without training again$/,
  );
  assert.deepEqual(listing(out), ['checkpoint', 'checkpoint/state.json', 'checkpoint/tensors-000.bin']);
  const epochs: number[] = [];
  const r = await runTrainJob({ ...trainJob, resume: true }, { onEpochEnd: (e) => epochs.push(e.epoch) });
  assert.deepEqual(epochs, []);
  assert.ok(existsSync(join(out, 'model.json')) && existsSync(join(out, 'weights.bin')));
  r.model.dispose();
  rmSync(dirname(out), { recursive: true, force: true });
});
