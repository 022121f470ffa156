// npm run bench:compress -- [--rows TASK[/ROW],...] [--seeds 0,1,2] [--jobs N] [--threads N] [--list] [--no-time]
// Runs the benchmark's rows (bench/tasks.ts) that have no result yet, one slimtrain
// command per row and seed, and commits nothing itself: each finished row leaves
// bench/results/<task>/<row>/seed-<n>.json (results.ts) to commit, with the command,
// the commit it ran on, the machine, its figures and the wall time. A from-trained
// row needs the dense model of its seed under runs/bench: the dense row runs first
// where that file is missing. Then each task's seed-0 models without a speed-up are
// timed against its seed-0 dense model in alternating rounds (compareSpeed).
// Dense models are kept in the repository (bench/models/<task>/seed-<n>, committed
// with the results): a machine's runs/ does not outlive its session, and a
// from-trained row of a later session starts from them.
// `npm run bench:table` makes BENCHMARKS.md from the results.
// The commands run from a copy of dist/ (.bench-dist/<commit>), so that building
// while a long benchmark runs does not change its code; the working tree must be
// committed, since the results name the commit.
// --jobs N trains N rows at once, each on cores/N threads (--threads sets it): on
// small models two one-thread trainings get through nearly twice the work of one
// two-thread one.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { describeBackend, initEngine } from '../src/engine/index.js';
import { loadModel, MODEL_FILE, WEIGHTS_FILE } from '../src/io/model_files.js';
import { writeFileAtomic } from '../src/util/files.js';
import { countModel } from '../src/layers/count.js';
import { compareSpeed } from '../src/metrics/speed.js';
import { currentCommit, readResult, writeResult, type RowResult } from './results.js';
import { command, findTask, keptModelDir, modelPath, rowDir, seedsOf, tasks, type Row, type Task } from './tasks.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string' },
    seeds: { type: 'string' },
    jobs: { type: 'string', default: '1' },
    threads: { type: 'string' },
    list: { type: 'boolean', default: false },
    'no-time': { type: 'boolean', default: false },
  },
});
const jobs = Number(values.jobs);
if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs: expected a positive integer, got '${values.jobs}'`);
const seedFilter = values.seeds?.split(',').map(Number);

interface Pending {
  task: Task;
  row: Row;
  seed: number;
}

/** the rows --rows names (every row of the tasks that are still run, by default) */
function selected(): { task: Task; row: Row }[] {
  const specs = values.rows ? values.rows.split(',') : tasks.filter((t) => !t.retired).map((t) => t.id);
  return specs.flatMap((spec) => {
    const [taskId, rowId] = spec.split('/');
    const task = findTask(taskId);
    if (task.retired) throw new Error(`--rows ${spec}: task ${task.id} is retired (${task.retired})`);
    const rows = rowId ? task.rows.filter((r) => r.id === rowId) : task.rows;
    if (rows.length === 0) throw new Error(`--rows ${spec}: ${task.id} has rows ${task.rows.map((r) => r.id).join(', ')}`);
    return rows.map((row) => ({ task, row }));
  });
}

const dense = (task: Task) => task.rows.find((r) => r.id === 'dense')!;

/** copies a dense model (model.json + weights.bin) from one folder to another */
function copyModel(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const file of [MODEL_FILE, WEIGHTS_FILE]) cpSync(join(from, file), join(to, file));
}

/** the dense models kept in the repository, put where the from-trained commands read them */
function restoreDenseModels(): void {
  for (const task of tasks)
    for (const seed of task.seeds) {
      const kept = keptModelDir(task, seed);
      if (existsSync(join(kept, MODEL_FILE)) && !existsSync(modelPath(task, dense(task), seed)))
        copyModel(kept, rowDir(task, dense(task), seed));
    }
}

/** the weights a from-trained row starts from: a dense model trained again since a row was stopped is another start */
function weightsDigest(model: string): string {
  return createHash('sha256')
    .update(readFileSync(join(dirname(model), WEIGHTS_FILE)))
    .digest('hex');
}

/** a result for this exact command exists */
const done = (task: Task, row: Row, seed: number) =>
  JSON.stringify(readResult(task.id, row.id, seed)?.command) === JSON.stringify(command(task, row, seed));

/** The rows and seeds to run, dense rows first; a from-trained row whose dense model is not on disk brings its dense row along. */
function plan(): Pending[] {
  const wanted = selected().flatMap(({ task, row }) =>
    seedsOf(task, row)
      .filter((s) => !seedFilter || seedFilter.includes(s))
      .map((seed) => ({ task, row, seed })),
  );
  const needed = new Map<string, Pending>();
  const key = (p: Pending) => `${p.task.id}/${p.row.id}/${p.seed}`;
  for (const p of wanted) {
    if (done(p.task, p.row, p.seed)) continue;
    if (p.row.fromDense && !existsSync(modelPath(p.task, dense(p.task), p.seed))) {
      const d = { task: p.task, row: dense(p.task), seed: p.seed };
      needed.set(key(d), d);
    }
    needed.set(key(p), p);
  }
  return [...needed.values()].sort((a, b) => Number(!!a.row.fromDense) - Number(!!b.row.fromDense));
}

/** dist/ and the native addon as they are now, copied where a rebuild cannot reach them */
function frozenDist(commit: string): string {
  const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'native', 'bench', ':!bench/results', ':!bench/models'], {
    encoding: 'utf8',
  }).trim();
  if (dirty) throw new Error(`commit first: results name the commit they ran on, and these files differ from it:\n${dirty}`);
  const dir = join('.bench-dist', commit);
  if (!existsSync(dir)) {
    // the addon and package.json (the version) are found beside dist/, as in the repository
    cpSync('dist', join(dir, 'dist'), { recursive: true });
    cpSync('package.json', join(dir, 'package.json'));
    if (existsSync(join('native', 'build'))) cpSync(join('native', 'build'), join(dir, 'native', 'build'), { recursive: true });
  }
  return join(dir, 'dist', 'src', 'cli', 'main.js');
}

/**
 * Ctrl-C (or SIGTERM) stops the benchmark cleanly: no new row starts, the rows
 * running get the signal, save a checkpoint and exit, and the same command resumes
 * them later.
 */
const children = new Set<ChildProcess>();
let stopping: NodeJS.Signals | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = signal;
    process.stderr.write(`\n${signal}: the rows running save a checkpoint and stop; run the same command again to resume them\n`);
    // a terminal's Ctrl-C reaches the children itself; a kill reaches only this process
    if (signal === 'SIGTERM') for (const child of children) child.kill('SIGTERM');
  });
}

/** Runs one CLI command; its JSON output and wall time. Progress lines go to stderr, prefixed with the row. */
function runCommand(
  cli: string,
  key: string,
  args: string[],
  threads: number,
): Promise<{ json: Record<string, unknown>; seconds: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
    const child = spawn(process.execPath, [cli, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    children.add(child);
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(`[${key}] ${line}\n`));
    child.on('close', (code) => {
      children.delete(child);
      if (code !== 0) reject(new Error(`slimtrain ${args.join(' ')} exited with ${code}`));
      else resolve({ json: JSON.parse(stdout) as Record<string, unknown>, seconds: (performance.now() - start) / 1000 });
    });
  });
}

/** The figures of a finished row: from its --json output and its final model file. */
async function figures(
  kind: string,
  json: Record<string, unknown>,
  model: string,
): Promise<
  Pick<RowResult, 'accuracy' | 'params' | 'macs' | 'zeroGroups' | 'groups' | 'density' | 'original' | 'agreement' | 'predictedSpeedup'>
> {
  const { model: m } = await loadModel(model);
  const { params, macs } = countModel(m);
  m.dispose();
  if (kind === 'train') return { accuracy: (json.test as { accuracy: number }).accuracy, params, macs };
  if (kind === 'prune') return { accuracy: (json.pruned as { accuracy: number }).accuracy, params, macs };
  const history = json.history as { density?: number }[];
  const sparse = json.sparse as { zeroGroups: number; groups: number };
  const agreement = json.agreement as { metric: string; value: number } | undefined;
  const original = json.original as { accuracy: number } | undefined;
  return {
    accuracy: (json.slim as { accuracy: number }).accuracy,
    params,
    macs,
    zeroGroups: sparse.zeroGroups,
    groups: sparse.groups,
    density: history[history.length - 1]?.density,
    ...(original ? { original: original.accuracy } : {}),
    ...(agreement ? { agreement: { metric: agreement.metric, value: agreement.value } } : {}),
    predictedSpeedup: (json.speedTarget as { predicted?: number } | undefined)?.predicted,
  };
}

async function runRows(pending: Pending[], machine: string): Promise<void> {
  const commit = currentCommit();
  const cli = frozenDist(commit);
  const rowsAtOnce = Math.min(jobs, pending.length);
  const threads = values.threads ? Number(values.threads) : Math.max(1, Math.floor(cpus().length / rowsAtOnce));
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads: expected a positive integer, got '${values.threads}'`);
  const running = new Set<string>();
  const next = (): Pending | undefined => {
    if (stopping) return undefined;
    // a from-trained row waits for its dense model
    const i = pending.findIndex(
      (p) => !p.row.fromDense || (existsSync(modelPath(p.task, dense(p.task), p.seed)) && !running.has(`${p.task.id}/dense/${p.seed}`)),
    );
    return i < 0 ? undefined : pending.splice(i, 1)[0];
  };
  const worker = async () => {
    for (let p = next(); p; p = next()) {
      const key = `${p.task.id}/${p.row.id}/${p.seed}`;
      running.add(key);
      const args = command(p.task, p.row, p.seed);
      // a row stopped mid-run resumes from its checkpoint; a row whose command or starting model changed starts again
      const dir = rowDir(p.task, p.row, p.seed);
      const started = join(dir, 'bench-command.json');
      const start = JSON.stringify({ args, ...(p.row.fromDense ? { from: weightsDigest(modelPath(p.task, dense(p.task), p.seed)) } : {}) });
      const resume =
        args[0] !== 'prune' &&
        existsSync(join(dir, 'checkpoint', 'state.json')) &&
        existsSync(started) &&
        readFileSync(started, 'utf8') === start;
      process.stderr.write(`\n== ${key}: slimtrain ${args.join(' ')}${resume ? ' --resume' : ''}\n`);
      if (!resume) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        writeFileAtomic(started, start);
      }
      const ran = await runCommand(cli, key, [...args, resume ? '--resume' : '--overwrite'], threads).catch((e: Error) => {
        if (stopping) return undefined;
        throw e;
      });
      if (!ran) return;
      const { json, seconds } = ran;
      writeResult({
        task: p.task.id,
        row: p.row.id,
        seed: p.seed,
        command: args,
        commit,
        date: new Date().toISOString(),
        machine,
        threads,
        rowsAtOnce,
        wallSeconds: seconds,
        ...(resume ? { resumed: true } : {}),
        ...(await figures(args[0], json, modelPath(p.task, p.row, p.seed))),
      });
      if (p.row.id === 'dense' && p.task.rows.some((r) => r.fromDense)) copyModel(dir, keptModelDir(p.task, p.seed));
      running.delete(key);
    }
  };
  await Promise.all(Array.from({ length: rowsAtOnce }, worker));
}

/** Each seed-0 model of the task without a speed-up, timed against the task's seed-0 dense model. */
async function timeTask(task: Task): Promise<void> {
  const base = dense(task);
  if (!existsSync(modelPath(task, base, 0))) return;
  const { model: denseModel } = await loadModel(modelPath(task, base, 0));
  try {
    for (const row of task.rows) {
      if (stopping) return;
      const r = readResult(task.id, row.id, 0);
      if (!r || r.speedup || !existsSync(modelPath(task, row, 0))) continue;
      process.stderr.write(`timing ${task.id}/${row.id} against dense (alternating rounds, batch 64)\n`);
      const { model } = await loadModel(modelPath(task, row, 0));
      try {
        const tfjs = await compareSpeed(denseModel, model, 'tfjs', { maxSeconds: 300 });
        const ort = await compareSpeed(denseModel, model, 'ort', { maxSeconds: 300 });
        writeResult({ ...r, speedup: { tfjs, ort } });
      } finally {
        model.dispose();
      }
    }
  } finally {
    denseModel.dispose();
  }
}

restoreDenseModels();
const pending = plan();
if (values.list) {
  for (const p of pending)
    process.stdout.write(`${p.task.id}/${p.row.id} seed ${p.seed}: slimtrain ${command(p.task, p.row, p.seed).join(' ')}\n`);
  process.exit(0);
}
const engine = await initEngine({ announce: false });
const machine = `${cpus()[0].model}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${describeBackend(engine)}`;
if (pending.length) await runRows(pending, machine);
if (stopping) process.exit(stopping === 'SIGINT' ? 130 : 143);
if (!values['no-time']) for (const { task } of new Map(selected().map((s) => [s.task.id, s])).values()) await timeTask(task);
process.stderr.write('done: npm run bench:table writes BENCHMARKS.md from bench/results\n');
