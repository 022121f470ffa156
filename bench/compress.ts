// npm run bench:compress [-- --quick] [--tasks lenet5,vgg-small,resnet20] [--jobs N] [--runs DIR] [--table FILE] [--fresh]
// The method against its baselines on three tasks, each row one `slimtrain` command
// with the task's fixed epoch budget and seed: dense training, HSPG, DHSPG at two
// targets, Prox-SG, OBProx-SG and L1-norm filter pruning with fine-tuning. Every final
// model is then reloaded and timed in TensorFlow.js and ONNX Runtime beside the
// task's dense model, and the table goes to BENCHMARKS.md (--quick: a smoke run on
// subsets, written under runs/ unless --table says otherwise).
// Rows finished are kept in RUNS/results.json: an interrupted benchmark started again
// skips them, and a row stopped mid-training resumes from its checkpoint.
// --jobs N trains N rows of a task at once, each on cores/N threads: on small models
// two one-thread trainings get through nearly twice the work of one two-thread one.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { describeBackend, initEngine } from '../src/engine/index.js';
import { loadModel, writeFileAtomic } from '../src/io/model_files.js';
import { countModel } from '../src/metrics/count.js';
import { measureModelSpeed, type ModelSpeed } from '../src/metrics/speed.js';
import { formatTable } from '../src/util/table.js';
import { pct, thousands, times as ratio } from '../src/util/format.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    tasks: { type: 'string' },
    runs: { type: 'string' },
    table: { type: 'string' },
    fresh: { type: 'boolean', default: false },
    jobs: { type: 'string', default: '1' },
  },
});
const jobs = Number(values.jobs);
if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs: expected a positive integer, got '${values.jobs}'`);
const quick = values.quick;
const runsDir = values.runs ?? (quick ? 'runs/bench-quick' : 'runs/bench');
const tablePath = values.table ?? (quick ? join(runsDir, 'BENCHMARKS.md') : 'BENCHMARKS.md');
const cli = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'src', 'cli', 'main.js');

/** ResNet-20's residual stream: the stem, the shortcuts and each block's last conv feed the adds */
const residualStream = [
  'conv1',
  'stage2_block1_shortcut_conv',
  'stage3_block1_shortcut_conv',
  ...[1, 2, 3].flatMap((s) => [1, 2, 3].map((b) => `stage${s}_block${b}_conv2`)),
];

interface Task {
  id: string;
  title: string;
  model: string;
  data: string;
  epochs: number;
  /** hspg and proxsg lambda (sqrt-MACs weighting); obproxsg's l1 lambda */
  lambda: number;
  l1Lambda: number;
  /** dhspg half-space threshold */
  epsilon: number;
  freeze: string[];
}

const allTasks: Task[] = [
  {
    id: 'lenet5',
    title: 'LeNet-5 / MNIST',
    model: 'lenet5',
    data: 'mnist',
    epochs: 5,
    lambda: 0.06,
    l1Lambda: 5e-4,
    epsilon: 0.1,
    freeze: [],
  },
  {
    id: 'vgg-small',
    title: 'VGG-small / Fashion-MNIST',
    model: 'vgg-small',
    data: 'fashion-mnist',
    epochs: 4,
    lambda: 0.05,
    l1Lambda: 5e-4,
    epsilon: 0.3,
    freeze: [],
  },
  {
    id: 'resnet20',
    title: 'ResNet-20 / Fashion-MNIST',
    model: 'resnet20',
    data: 'fashion-mnist',
    epochs: 6,
    lambda: 0.05,
    l1Lambda: 5e-4,
    epsilon: 0.1,
    freeze: residualStream,
  },
];

interface Method {
  id: string;
  label: string;
  args(task: Task, epochs: number): string[];
}

/** the penalty stops after 60% of the epochs; the surviving groups then train freely */
const penaltyEnd = (epochs: number) => Math.round(epochs * 0.6 * 10) / 10;
const freezeArgs = (t: Task) => (t.freeze.length ? ['--freeze', t.freeze.join(',')] : []);
/** HSPG and Prox-SG: the same lambda, weighting and penalty end */
const penalised = (method: string, t: Task, epochs: number) => [
  'compress',
  '--optimizer',
  method,
  '--lambda',
  String(t.lambda),
  '--weighting',
  'sqrt-macs',
  '--penalty-end',
  String(penaltyEnd(epochs)),
  ...freezeArgs(t),
];
const methods: Method[] = [
  { id: 'dense', label: 'dense (SGD)', args: () => ['train'] },
  {
    id: 'hspg',
    label: 'HSPG',
    args: (t, epochs) => penalised('hspg', t, epochs),
  },
  {
    id: 'dhspg-3',
    label: 'DHSPG, target 3x MACs',
    args: (t) => ['compress', '--optimizer', 'dhspg', '--target-macs-ratio', '3', '--epsilon', String(t.epsilon), ...freezeArgs(t)],
  },
  {
    id: 'dhspg-5',
    label: 'DHSPG, target 5x MACs',
    args: (t) => ['compress', '--optimizer', 'dhspg', '--target-macs-ratio', '5', '--epsilon', String(t.epsilon), ...freezeArgs(t)],
  },
  {
    id: 'proxsg',
    label: 'Prox-SG (same lambda as HSPG)',
    args: (t, epochs) => penalised('proxsg', t, epochs),
  },
  {
    id: 'obproxsg',
    label: 'OBProx-SG (l1, unstructured)',
    args: (t) => ['compress', '--optimizer', 'obproxsg', '--lambda', String(t.l1Lambda), ...freezeArgs(t)],
  },
  { id: 'l1-prune', label: 'L1 filter pruning + fine-tuning, 3x MACs', args: (t) => ['prune', '--macs-ratio', '3', ...freezeArgs(t)] },
];

const selected = values.tasks ? values.tasks.split(',') : allTasks.map((t) => t.id);
const unknown = selected.filter((id) => !allTasks.some((t) => t.id === id));
if (unknown.length) throw new Error(`--tasks: unknown ${unknown.join(', ')}; use ${allTasks.map((t) => t.id).join(', ')}`);
const tasks = allTasks.filter((t) => selected.includes(t.id));

/** the command of one row, as a user would type it */
function command(task: Task, method: Method): string[] {
  const epochs = quick ? 1 : task.epochs;
  const args = method.args(task, epochs);
  const speed = args[0] === 'compress' ? ['--no-speed'] : [];
  return [
    ...args,
    '--model',
    task.model,
    '--data',
    task.data,
    '--epochs',
    String(epochs),
    ...(quick ? ['--subset', '3000'] : []),
    '--seed',
    '0',
    ...speed,
    '--out',
    join(runsDir, task.id, method.id),
  ];
}

interface RowResult {
  command: string[];
  accuracy: number;
  wallSeconds: number;
  /** obproxsg: non-zero fraction of the grouped weights */
  density?: number;
  zeroGroups?: number;
  groups?: number;
  /** OpenMP threads of the command, and how many rows trained at once */
  threads?: number;
  rowsAtOnce?: number;
  /** resumed from a checkpoint: the wall time covers only the part after the resume */
  resumed?: boolean;
  /** filled by the timing pass */
  params?: number;
  macs?: number;
  /** dense time / this model's time at batch 64 (each the best of 5 rounds' medians) */
  speedup?: { tfjs: number; ort: number };
}

const resultsPath = join(runsDir, 'results.json');
const results: Record<string, RowResult> = !values.fresh && existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : {};

/**
 * Runs one CLI command, returns its JSON output and wall time. Progress goes to this
 * terminal, each line prefixed with the row's name when rows run side by side.
 */
function runCommand(key: string, args: string[], threads?: number): Promise<{ json: Record<string, unknown>; seconds: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    // the training commands run with OpenMP's defaults, as users run them
    const { OMP_WAIT_POLICY: _timingOnly, ...env } = process.env;
    if (threads) Object.assign(env, { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) });
    const child = spawn(process.execPath, [cli, ...args, '--json'], { stdio: ['ignore', 'pipe', threads ? 'pipe' : 'inherit'], env });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(`[${key}] ${line}\n`));
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`slimtrain ${args.join(' ')} exited with ${code}`));
      else resolve({ json: JSON.parse(stdout) as Record<string, unknown>, seconds: (performance.now() - start) / 1000 });
    });
  });
}

function summarise(kind: string, json: Record<string, unknown>): Omit<RowResult, 'command' | 'wallSeconds'> {
  if (kind === 'train') return { accuracy: (json.test as { accuracy: number }).accuracy };
  if (kind === 'prune') return { accuracy: (json.pruned as { accuracy: number }).accuracy };
  const history = json.history as { density?: number }[];
  const sparse = json.sparse as { zeroGroups: number; groups: number };
  return {
    accuracy: (json.slim as { accuracy: number }).accuracy,
    density: history[history.length - 1]?.density,
    zeroGroups: sparse.zeroGroups,
    groups: sparse.groups,
  };
}

/** where each row's final model is */
function modelPath(task: Task, method: Method): string {
  const dir = join(runsDir, task.id, method.id);
  return method.id !== 'dense' && method.id !== 'l1-prune' ? join(dir, 'slim', 'model.json') : join(dir, 'model.json');
}

const save = () => writeFileAtomic(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
const batch64 = (s: ModelSpeed, runtime: string) => s.timings.find((t) => t.runtime.startsWith(runtime))!.medianMs;

/**
 * Each model timed against the task's dense model in alternating rounds, so that
 * both see the same machine. This machine's neighbours steal the CPU in bursts that
 * last many runs, so each model's time is its best round's median, the speed-up the
 * ratio of those.
 */
async function timeTask(task: Task, rounds = 5): Promise<void> {
  const { model: dense } = await loadModel(modelPath(task, methods[0]));
  try {
    for (const method of methods) {
      const r = results[`${task.id}/${method.id}`];
      if (r.speedup) continue;
      process.stderr.write(`timing ${task.id}/${method.id} against dense\n`);
      const { model } = await loadModel(modelPath(task, method));
      const best = { dense: { tfjs: Infinity, ort: Infinity }, model: { tfjs: Infinity, ort: Infinity } };
      for (let i = 0; i < rounds; i++) {
        for (const [which, m] of [
          ['dense', dense],
          ['model', model],
        ] as const) {
          const s = await measureModelSpeed(m, { batchSizes: [64] });
          best[which] = {
            tfjs: Math.min(best[which].tfjs, batch64(s, 'TensorFlow.js')),
            ort: Math.min(best[which].ort, batch64(s, 'ONNX')),
          };
        }
      }
      const c = countModel(model);
      Object.assign(r, {
        params: c.params,
        macs: c.macs,
        speedup: { tfjs: best.dense.tfjs / best.model.tfjs, ort: best.dense.ort / best.model.ort },
      });
      model.dispose();
      save();
    }
  } finally {
    dense.dispose();
  }
}

const minutes = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(0)} s`);

function section(task: Task, print = false): string {
  const dense = results[`${task.id}/dense`];
  const howRun = [...new Set(methods.map((m) => wallSetting(results[`${task.id}/${m.id}`])))];
  const rows = methods.map((method) => {
    const r = results[`${task.id}/${method.id}`];
    const notes = [
      r.zeroGroups !== undefined ? `${r.zeroGroups}/${r.groups} groups zero` : '',
      r.density !== undefined ? `weight density ${pct(r.density)}` : '',
      howRun.length > 1 ? `trained ${wallSetting(r)}` : '',
      r.resumed ? 'resumed: wall time after the resume only' : '',
    ]
      .filter(Boolean)
      .join('; ');
    return [
      method.label,
      pct(r.accuracy),
      `${((r.accuracy - dense.accuracy) * 100).toFixed(2)}`,
      thousands(r.params!),
      ratio(dense.params! / r.params!),
      thousands(r.macs!),
      ratio(dense.macs! / r.macs!),
      ratio(r.speedup!.tfjs),
      ratio(r.speedup!.ort),
      minutes(r.wallSeconds),
      notes,
    ];
  });
  const group = methods
    .filter((m) => /^(hspg|dhspg)/.test(m.id))
    .map((m) => ({ m, r: results[`${task.id}/${m.id}`], x: dense.macs! / results[`${task.id}/${m.id}`].macs! }));
  // in hundredths of a point, as the table shows them, so float round-off cannot flip the verdict
  const qualifying = group.filter((g) => g.x >= 3 && Math.round((dense.accuracy - g.r.accuracy) * 1e4) <= 50);
  const verdict = qualifying.length
    ? `HSPG/DHSPG at 3x or more fewer MACs within 0.5 point of dense: ${qualifying.map((g) => `${g.m.label} (${ratio(g.x)}, ${((g.r.accuracy - dense.accuracy) * 100).toFixed(2)} points)`).join(', ')}.`
    : `No HSPG/DHSPG row reaches 3x fewer MACs within 0.5 point of dense here (${group.map((g) => `${g.m.label}: ${ratio(g.x)}, ${((g.r.accuracy - dense.accuracy) * 100).toFixed(2)} points`).join('; ')}).`;
  // a baseline holds its ground where no HSPG/DHSPG row is at least as accurate with at least as few MACs
  const baselines = methods
    .filter((m) => m.id !== 'dense' && !/^(hspg|dhspg)/.test(m.id))
    .map((m) => ({ m, r: results[`${task.id}/${m.id}`], x: dense.macs! / results[`${task.id}/${m.id}`].macs! }));
  const unmatched = baselines.filter((b) => !group.some((g) => g.r.accuracy >= b.r.accuracy && g.x >= b.x));
  const versus = unmatched.length
    ? `Baselines that no HSPG/DHSPG row matches in accuracy and MACs at once: ${unmatched.map((b) => `${b.m.label}: ${pct(b.r.accuracy)} at ${b.x > 1.005 ? `${ratio(b.x)} fewer MACs` : 'no fewer MACs'}`).join('; ')}.`
    : 'Every baseline is matched or beaten by an HSPG/DHSPG row on both accuracy and MACs.';
  const header = [
    'method',
    'test acc',
    'Δ points',
    'params',
    'params ÷',
    'MACs',
    'MACs ÷',
    'speed-up TF.js b64',
    'speed-up ORT b64',
    'wall',
    'notes',
  ];
  const wall =
    howRun.length === 1
      ? `Wall times: rows trained ${howRun[0]}.`
      : 'Wall times: the rows were trained in different settings (see the notes); compare wall times only between rows trained alike.';
  if (print) process.stdout.write(`\n${task.title}\n${formatTable({ header, rows })}\n${verdict}\n${versus}\n${wall}\n`);
  const commands = methods.map((m) => `slimtrain ${results[`${task.id}/${m.id}`].command.join(' ')}`).join('\n');
  return `## ${task.title}${quick ? ' (quick: 1 epoch, first 3000 images of each split)' : `, ${task.epochs} epochs`}\n\n${markdownTable(header, rows)}\n\n${verdict}\n\n${versus}\n\n${wall}\n\n<details><summary>commands</summary>\n\n\`\`\`sh\n${commands}\n\`\`\`\n</details>\n`;
}

/** rows from before --jobs existed ran one at a time on every core */
function wallSetting(r: RowResult): string {
  const threads = r.threads ?? cpus().length;
  const atOnce = r.rowsAtOnce ?? 1;
  return `${atOnce === 1 ? 'one at a time' : `${atOnce} at a time`}, on ${threads} thread${threads === 1 ? '' : 's'} each`;
}

function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** a task whose every row is trained, with its current command, and timed */
const complete = (task: Task) =>
  methods.every((m) => {
    const r = results[`${task.id}/${m.id}`];
    return r?.speedup && JSON.stringify(r.command) === JSON.stringify(command(task, m));
  });

/** The table of every task finished, in this run or an earlier one (--tasks reruns some, keeps the rest). */
function writeTable(): void {
  const finished = allTasks.filter(complete);
  const machine = `${cpus()[0].model}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${describeBackend(engine)}`;
  const doc = `# Benchmarks: slimtrain compress against its baselines

Produced by \`npm run bench:compress${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}.
Machine: ${machine}.

Each row is one \`slimtrain\` command (listed under each table) with the task's epoch
budget and seed 0. Accuracy is on the full test split; "Δ points" is the difference
from the dense row. Params and MACs count the final model: the slim model for the
group-sparsity methods, the pruned and fine-tuned model for L1 pruning (which spends
half its budget training dense, then prunes and fine-tunes). The speed-ups are the
task's dense model's time at batch 64 over this model's, measured in one process
after the task's training in 5 rounds that alternate the two models (15 timed runs
per round; each model's time is its best round's median, since other tenants of
this machine steal the CPU in bursts). The timing runs with OMP_WAIT_POLICY=PASSIVE
(\`npm run bench:compress\` sets it for the timing process only): with OpenMP's
default spin-waiting, the native backend's batch-64 LeNet-5 inference flipped between
1.4 and 16 ms from round to round on this 2-core VM (TensorFlow.js on the backend above; ONNX Runtime's CPU
provider on the exported ONNX file). Wall time is the whole command: loading data,
training, evaluation, building and checking the slim model, writing the files.
OBProx-SG penalises single weights (l1), not groups: its "weight density" is the
fraction of non-zero weights, a saving the slim model cannot turn into speed.
On ResNet-20 the layers feeding the residual additions are kept whole (\`--freeze\`)
for every method: DHSPG left free chose groups of the residual stream and the model
collapsed to 10% (see DESIGN.md).

${finished.map((t) => section(t)).join('\n')}${
    finished.length < allTasks.length
      ? `\n(${allTasks
          .filter((t) => !finished.includes(t))
          .map((t) => t.title)
          .join(', ')}: not finished yet)\n`
      : ''
  }`;
  writeFileAtomic(tablePath, doc);
  process.stderr.write(`wrote ${tablePath}\n`);
}

/** Trains the rows of a task not yet in the results, up to --jobs at once. */
async function trainTask(task: Task): Promise<void> {
  const pending = methods.filter((method) => {
    const r = results[`${task.id}/${method.id}`];
    return !r || JSON.stringify(r.command) !== JSON.stringify(command(task, method));
  });
  const rowsAtOnce = Math.min(jobs, pending.length);
  // rows side by side share the cores; a row alone gets them all
  const threads = rowsAtOnce > 1 ? Math.max(1, Math.floor(cpus().length / rowsAtOnce)) : undefined;
  const worker = async () => {
    for (let method = pending.shift(); method; method = pending.shift()) {
      const key = `${task.id}/${method.id}`;
      const args = command(task, method);
      const dir = join(runsDir, task.id, method.id);
      // a row stopped mid-run resumes from its checkpoint; a row whose command changed starts again
      const started = join(dir, 'bench-command.json');
      const resume =
        args[0] !== 'prune' &&
        existsSync(join(dir, 'checkpoint', 'state.json')) &&
        existsSync(started) &&
        readFileSync(started, 'utf8') === JSON.stringify(args);
      process.stderr.write(`\n== ${key}: slimtrain ${args.join(' ')}${resume ? ' --resume' : ''}\n`);
      if (!resume) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        writeFileAtomic(started, JSON.stringify(args));
      }
      const { json, seconds } = await runCommand(key, [...args, resume ? '--resume' : '--overwrite'], threads);
      results[key] = {
        command: args,
        wallSeconds: seconds,
        threads: threads ?? (Number(process.env.OMP_NUM_THREADS) || cpus().length),
        rowsAtOnce,
        ...(resume ? { resumed: true } : {}),
        ...summarise(args[0], json),
      };
      save();
    }
  };
  await Promise.all(Array.from({ length: rowsAtOnce }, worker));
}

const engine = await initEngine({ announce: false });
for (const task of tasks) {
  await trainTask(task);
  await timeTask(task);
  section(task, true);
  writeTable();
}
