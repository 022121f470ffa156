// npm run bench:compress [-- --quick] [--tasks lenet5,vgg-small,resnet20,resnet56,reference] [--seeds N] [--jobs N]
//   [--runs DIR] [--table FILE] [--fresh]
// The methods against their baselines, each row one `slimtrain` command with the
// task's fixed epoch budget, run with seeds 0..N-1 (default 3): dense training, HSPG,
// Prox-SG, DHSPG and HESSO at MACs targets (a target, not a lambda, for every group
// method), DHSPG at a measured speed-up target, OBProx-SG and L1-norm filter pruning
// with fine-tuning. No layer is frozen. Every seed-0 model is then reloaded and timed
// in TensorFlow.js and ONNX Runtime beside the task's seed-0 dense model. The table
// (means and spreads over the seeds) goes to BENCHMARKS.md with a picture per task
// (accuracy against MACs reduction) in docs/bench/; --quick: a smoke run on subsets
// with one seed, written under runs/ unless --table says otherwise.
// Rows finished are kept in RUNS/results.json: an interrupted benchmark started again
// skips them, and a row stopped mid-training resumes from its checkpoint.
// --jobs N trains N rows of a task at once, each on cores/N threads: on small models
// two one-thread trainings get through nearly twice the work of one two-thread one.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { describeBackend, initEngine } from '../src/engine/index.js';
import { loadModel, writeFileAtomic } from '../src/io/model_files.js';
import { countModel } from '../src/metrics/count.js';
import { measureModelSpeed, type ModelSpeed } from '../src/metrics/speed.js';
import { formatTable } from '../src/util/table.js';
import { scatterSvg } from './scatter.js';
import { pct, thousands, times as ratio } from '../src/util/format.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    tasks: { type: 'string' },
    seeds: { type: 'string' },
    runs: { type: 'string' },
    table: { type: 'string' },
    fresh: { type: 'boolean', default: false },
    jobs: { type: 'string', default: '1' },
  },
});
const positiveInteger = (flag: string, value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer, got '${value}'`);
  return n;
};
const jobs = positiveInteger('--jobs', values.jobs!);
const quick = values.quick;
const seeds = Array.from({ length: positiveInteger('--seeds', values.seeds ?? (quick ? '1' : '3')) }, (_, i) => i);
const runsDir = values.runs ?? (quick ? 'runs/bench-quick' : 'runs/bench');
const tablePath = values.table ?? (quick ? join(runsDir, 'BENCHMARKS.md') : 'BENCHMARKS.md');
/** pictures go beside the table: docs/bench for BENCHMARKS.md */
const pictureDir = tablePath === 'BENCHMARKS.md' ? join('docs', 'bench') : dirname(tablePath);
const cli = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'src', 'cli', 'main.js');

interface Method {
  id: string;
  label: string;
  /** a group-sparsity method of this project (not a baseline) */
  ours?: boolean;
  args(task: Task): string[];
}

interface Task {
  id: string;
  title: string;
  model: string;
  data: string;
  epochs: number;
  /** training settings beside the defaults */
  settings?: string[];
  methods: Method[];
  /** what the reference implementation measured on this task, quoted under the table */
  reference?: string;
}

const target = (method: string, ratio: number, extra: string[] = []) => [
  'compress',
  '--optimizer',
  method,
  '--target-macs-ratio',
  String(ratio),
  ...extra,
];
const dense: Method = { id: 'dense', label: 'dense (SGD)', args: () => ['train'] };
/** `speedup`: what the task's speed target asks, within what its layer floors allow in ONNX Runtime at batch 64 */
const standardMethods = (epsilon: number, speedup: number): Method[] => [
  dense,
  { id: 'hspg-3', label: 'HSPG, target 3x MACs', ours: true, args: () => target('hspg', 3, ['--epsilon', String(epsilon)]) },
  { id: 'proxsg-3', label: 'Prox-SG, target 3x MACs', ours: true, args: () => target('proxsg', 3) },
  { id: 'dhspg-3', label: 'DHSPG, target 3x MACs', ours: true, args: () => target('dhspg', 3, ['--epsilon', String(epsilon)]) },
  { id: 'dhspg-5', label: 'DHSPG, target 5x MACs', ours: true, args: () => target('dhspg', 5, ['--epsilon', String(epsilon)]) },
  { id: 'hesso-3', label: 'HESSO, target 3x MACs', ours: true, args: () => target('hesso', 3) },
  {
    id: 'dhspg-speed',
    label: `DHSPG, target ${speedup}x speed-up (ONNX Runtime, batch 64)`,
    ours: true,
    args: () => ['compress', '--optimizer', 'dhspg', '--target-speedup', String(speedup), '--epsilon', String(epsilon)],
  },
  { id: 'obproxsg', label: 'OBProx-SG (l1, unstructured)', args: () => ['compress', '--optimizer', 'obproxsg', '--lambda', '0.0005'] },
  { id: 'l1-prune', label: 'L1 filter pruning + fine-tuning, 3x MACs', args: () => ['prune', '--macs-ratio', '3'] },
];

/** OTO's task (docs/DESIGN.md, "Measured facts"): SGD 0.1, momentum 0.9 without Nesterov, weight decay 5e-4, cosine, batch 64 */
const referenceSettings = [
  '--lr',
  '0.1',
  '--batch-size',
  '64',
  '--momentum',
  '0.9',
  '--no-nesterov',
  '--weight-decay',
  '5e-4',
  '--schedule',
  'cosine',
];

const allTasks: Task[] = [
  { id: 'lenet5', title: 'LeNet-5 / MNIST', model: 'lenet5', data: 'mnist', epochs: 5, methods: standardMethods(0.1, 1.5) },
  {
    id: 'vgg-small',
    title: 'VGG-small / Fashion-MNIST',
    model: 'vgg-small',
    data: 'fashion-mnist',
    epochs: 4,
    methods: standardMethods(0.3, 2.5),
  },
  {
    id: 'resnet20',
    title: 'ResNet-20 / Fashion-MNIST',
    model: 'resnet20',
    data: 'fashion-mnist',
    epochs: 6,
    methods: standardMethods(0.1, 2),
  },
  {
    id: 'resnet56',
    title: 'ResNet-56 / Fashion-MNIST',
    model: 'resnet56',
    data: 'fashion-mnist',
    epochs: 6,
    methods: standardMethods(0.1, 2),
  },
  {
    id: 'reference',
    title: "VGG-small / Fashion-MNIST at OTO's settings",
    model: 'vgg-small',
    data: 'fashion-mnist',
    epochs: 15,
    settings: referenceSettings,
    methods: [
      dense,
      { id: 'dhspg-6.3', label: 'DHSPG, target 6.3x MACs', ours: true, args: () => target('dhspg', 6.3) },
      { id: 'hesso-6.3', label: 'HESSO, target 6.3x MACs', ours: true, args: () => target('hesso', 6.3) },
      { id: 'proxsg-6.3', label: 'Prox-SG, target 6.3x MACs', ours: true, args: () => target('proxsg', 6.3) },
    ],
    reference:
      "The reference implementation on this task and budget, run here with its own PyTorch code (OTOv2's DHSPG and OTOv3's HESSO): " +
      'dense VGG-small 92.79% in 15 epochs; DHSPG with target group sparsity 0.7 zeroed 11.5% of the groups, 1.2x fewer MACs at 92.82%; ' +
      'HESSO in 6 epochs cut the MACs 6.3x at 90.75%.',
  },
];

const selected = values.tasks ? values.tasks.split(',') : allTasks.map((t) => t.id);
const unknown = selected.filter((id) => !allTasks.some((t) => t.id === id));
if (unknown.length) throw new Error(`--tasks: unknown ${unknown.join(', ')}; use ${allTasks.map((t) => t.id).join(', ')}`);
const tasks = allTasks.filter((t) => selected.includes(t.id));

const rowKey = (task: Task, method: Method, seed: number) => `${task.id}/${method.id}/seed${seed}`;
const rowDir = (task: Task, method: Method, seed: number) => join(runsDir, task.id, method.id, `seed${seed}`);

/** the command of one row, as a user would type it */
function command(task: Task, method: Method, seed: number): string[] {
  const epochs = quick ? 1 : task.epochs;
  const args = method.args(task);
  const speed = args[0] === 'compress' ? ['--no-speed'] : [];
  return [
    ...args,
    '--model',
    task.model,
    '--data',
    task.data,
    '--epochs',
    String(epochs),
    ...(task.settings ?? []),
    ...(quick ? ['--subset', '3000'] : []),
    '--seed',
    String(seed),
    ...speed,
    '--out',
    rowDir(task, method, seed),
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
  /** a speed target's prediction */
  predictedSpeedup?: number;
  /** OpenMP threads of the command, and how many rows trained at once */
  threads?: number;
  rowsAtOnce?: number;
  /** resumed from a checkpoint: the wall time covers only the part after the resume */
  resumed?: boolean;
  params: number;
  macs: number;
  /** seed 0, filled by the timing pass: dense time / this model's time at batch 64 (each the best of 5 rounds' medians) */
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
    const env = { ...process.env };
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

/** where a row's final model is */
function modelPath(task: Task, method: Method, seed: number): string {
  const dir = rowDir(task, method, seed);
  return method.id !== 'dense' && method.id !== 'l1-prune' ? join(dir, 'slim', 'model.json') : join(dir, 'model.json');
}

async function summarise(kind: string, json: Record<string, unknown>, model: string): Promise<Omit<RowResult, 'command' | 'wallSeconds'>> {
  const { model: m } = await loadModel(model);
  const { params, macs } = countModel(m);
  m.dispose();
  if (kind === 'train') return { accuracy: (json.test as { accuracy: number }).accuracy, params, macs };
  if (kind === 'prune') return { accuracy: (json.pruned as { accuracy: number }).accuracy, params, macs };
  const history = json.history as { density?: number }[];
  const sparse = json.sparse as { zeroGroups: number; groups: number };
  return {
    accuracy: (json.slim as { accuracy: number }).accuracy,
    density: history[history.length - 1]?.density,
    zeroGroups: sparse.zeroGroups,
    groups: sparse.groups,
    predictedSpeedup: (json.speedTarget as { predicted?: number } | undefined)?.predicted,
    params,
    macs,
  };
}

const save = () => writeFileAtomic(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
const batch64 = (s: ModelSpeed, runtime: string) => s.timings.find((t) => t.runtime.startsWith(runtime))!.medianMs;

/**
 * Each seed-0 model timed against the task's seed-0 dense model in alternating
 * rounds, so that both see the same machine. This machine's neighbours steal the CPU
 * in bursts that last many runs, so each model's time is its best round's median,
 * the speed-up the ratio of those.
 */
async function timeTask(task: Task, rounds = 5): Promise<void> {
  const { model: denseModel } = await loadModel(modelPath(task, dense, 0));
  try {
    for (const method of task.methods) {
      const r = results[rowKey(task, method, 0)];
      if (r.speedup) continue;
      process.stderr.write(`timing ${task.id}/${method.id} against dense\n`);
      const { model } = await loadModel(modelPath(task, method, 0));
      const best = { dense: { tfjs: Infinity, ort: Infinity }, model: { tfjs: Infinity, ort: Infinity } };
      for (let i = 0; i < rounds; i++) {
        for (const [which, m] of [
          ['dense', denseModel],
          ['model', model],
        ] as const) {
          const s = await measureModelSpeed(m, { batchSizes: [64] });
          best[which] = {
            tfjs: Math.min(best[which].tfjs, batch64(s, 'TensorFlow.js')),
            ort: Math.min(best[which].ort, batch64(s, 'ONNX')),
          };
        }
      }
      r.speedup = { tfjs: best.dense.tfjs / best.model.tfjs, ort: best.dense.ort / best.model.ort };
      model.dispose();
      save();
    }
  } finally {
    denseModel.dispose();
  }
}

const minutes = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(0)} s`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** sample standard deviation; 0 for one value */
const spread = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const points = (x: number) => (100 * x).toFixed(2);

/** a method's rows over the seeds */
function seedRows(task: Task, method: Method): RowResult[] {
  return seeds.map((seed) => results[rowKey(task, method, seed)]);
}

interface MethodSummary {
  method: Method;
  rows: RowResult[];
  accuracy: number;
  accuracySpread: number;
  macsRatio: number;
}

function summaries(task: Task): MethodSummary[] {
  const denseMacs = mean(seedRows(task, dense).map((r) => r.macs));
  return task.methods.map((method) => {
    const rows = seedRows(task, method);
    const accuracies = rows.map((r) => r.accuracy);
    return {
      method,
      rows,
      accuracy: mean(accuracies),
      accuracySpread: spread(accuracies),
      macsRatio: mean(rows.map((r) => denseMacs / r.macs)),
    };
  });
}

function section(task: Task, print = false): string {
  const all = summaries(task);
  const base = all[0];
  const howRun = [...new Set(task.methods.flatMap((m) => seedRows(task, m).map(wallSetting)))];
  const accuracyText = (s: MethodSummary) => (seeds.length > 1 ? `${pct(s.accuracy)} ± ${points(s.accuracySpread)}` : pct(s.accuracy));
  const rows = all.map((s) => {
    const first = s.rows[0];
    const notes = [
      first.zeroGroups !== undefined ? `${Math.round(mean(s.rows.map((r) => r.zeroGroups!)))}/${first.groups} groups zero` : '',
      first.density !== undefined ? `weight density ${pct(mean(s.rows.map((r) => r.density!)))}` : '',
      first.predictedSpeedup !== undefined ? `predicted ${ratio(mean(s.rows.map((r) => r.predictedSpeedup!)))} speed-up` : '',
      howRun.length > 1 ? `trained ${wallSetting(first)}` : '',
      s.rows.some((r) => r.resumed) ? 'resumed: wall time after the resume only' : '',
    ]
      .filter(Boolean)
      .join('; ');
    const macsRatios = s.rows.map((r) => mean(base.rows.map((d) => d.macs)) / r.macs);
    return [
      s.method.label,
      accuracyText(s),
      points(s.accuracy - base.accuracy),
      thousands(Math.round(mean(s.rows.map((r) => r.params)))),
      seeds.length > 1 && spread(macsRatios) > 0.005 ? `${ratio(s.macsRatio)} ± ${spread(macsRatios).toFixed(2)}` : ratio(s.macsRatio),
      ratio(first.speedup!.tfjs),
      ratio(first.speedup!.ort),
      minutes(mean(s.rows.map((r) => r.wallSeconds))),
      notes,
    ];
  });
  const ours = all.filter((s) => s.method.ours);
  // in hundredths of a point, as the table shows them, so float round-off cannot flip the verdict
  const close = (s: MethodSummary, within: number) => Math.round((base.accuracy - s.accuracy) * 1e4) <= within * 100;
  const qualifying = ours.filter((s) => s.macsRatio >= 3 && close(s, 0.5));
  const describe = (s: MethodSummary) => `${s.method.label} (${ratio(s.macsRatio)}, ${points(s.accuracy - base.accuracy)} points)`;
  const verdict = qualifying.length
    ? `At 3x or more fewer MACs within 0.5 point of dense (means over ${seeds.length} seed${seeds.length > 1 ? 's' : ''}): ${qualifying.map(describe).join(', ')}.`
    : `No group-sparsity row reaches 3x fewer MACs within 0.5 point of dense here (${ours.map(describe).join('; ')}).`;
  // a baseline holds its ground where no row of ours is at least as accurate with at least as few MACs
  const baselines = all.filter((s) => s.method.id !== 'dense' && !s.method.ours);
  const unmatched = baselines.filter((b) => !ours.some((g) => g.accuracy >= b.accuracy && g.macsRatio >= b.macsRatio));
  const versus = baselines.length
    ? unmatched.length
      ? `Baselines that no group-sparsity row matches in accuracy and MACs at once: ${unmatched.map((b) => `${b.method.label}: ${pct(b.accuracy)} at ${b.macsRatio > 1.005 ? `${ratio(b.macsRatio)} fewer MACs` : 'no fewer MACs'}`).join('; ')}.`
      : 'Every baseline is matched or beaten by a group-sparsity row on both accuracy and MACs.'
    : '';
  const header = ['method', 'test acc', 'Δ points', 'params', 'MACs ÷', 'speed-up TF.js b64', 'speed-up ORT b64', 'wall', 'notes'];
  const wall =
    howRun.length === 1
      ? `Wall times (mean per seed): rows trained ${howRun[0]}.`
      : 'Wall times (mean per seed): the rows were trained in different settings (see the notes); compare wall times only between rows trained alike.';
  if (print) process.stdout.write(`\n${task.title}\n${formatTable({ header, rows })}\n${verdict}\n${versus}\n${wall}\n`);
  const picture = join(pictureDir, `${task.id}.svg`);
  writeFileAtomic(picture, picturePoints(task, all));
  const commands = task.methods.map((m) => `slimtrain ${results[rowKey(task, m, 0)].command.join(' ')}`).join('\n');
  const budget = quick ? ' (quick: 1 epoch, first 3000 images of each split)' : `, ${task.epochs} epochs`;
  return [
    `## ${task.title}${budget}`,
    markdownTable(header, rows),
    `![${task.title}: test accuracy against MACs reduction](${relative(dirname(tablePath), picture)})`,
    verdict,
    versus,
    task.reference ?? '',
    wall,
    `<details><summary>commands (seed 0; the other seeds change --seed and the folder)</summary>\n\n\`\`\`sh\n${commands}\n\`\`\`\n</details>`,
  ]
    .filter(Boolean)
    .join('\n\n');
}

/** The task's picture: one mark per method at its mean, bars across the seeds, dense as a line. */
function picturePoints(task: Task, all: MethodSummary[]): string {
  const [base, ...others] = all;
  return scatterSvg({
    title: `${task.title}${quick ? ' (quick)' : `, ${task.epochs} epochs, ${seeds.length} seed${seeds.length > 1 ? 's' : ''}`}`,
    xLabel: 'MACs reduction (dense / slim)',
    yLabel: 'test accuracy (%)',
    line: { label: `dense ${pct(base.accuracy)}`, y: 100 * base.accuracy },
    points: others.map((s) => ({
      label: s.method.label,
      x: s.macsRatio,
      y: 100 * s.accuracy,
      yLow: 100 * Math.min(...s.rows.map((r) => r.accuracy)),
      yHigh: 100 * Math.max(...s.rows.map((r) => r.accuracy)),
      filled: s.method.ours === true,
    })),
  });
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

/** a task whose every row and seed is trained, with its current command, and whose seed-0 rows are timed */
const complete = (task: Task) =>
  task.methods.every(
    (m) =>
      results[rowKey(task, m, 0)]?.speedup &&
      seeds.every((seed) => JSON.stringify(results[rowKey(task, m, seed)]?.command) === JSON.stringify(command(task, m, seed))),
  );

/** The table of every task finished, in this run or an earlier one (--tasks reruns some, keeps the rest). */
function writeTable(): void {
  const finished = allTasks.filter(complete);
  const machine = `${cpus()[0].model}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${describeBackend(engine)}`;
  const doc = `# Benchmarks: slimtrain compress against its baselines

Produced by \`npm run bench:compress${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}.
Machine: ${machine}.

Each row is one \`slimtrain\` command (listed under each table) with the task's epoch
budget, run with seeds ${seeds.join(', ')}. Accuracy is on the full test split: the
mean over the seeds ± the sample standard deviation; "Δ points" is the difference of
the means from the dense row. Every group-sparsity method is given a target, not a
lambda; no layer is frozen. Params and MACs count the final model: the slim model for
the group-sparsity methods, the pruned and fine-tuned model for L1 pruning (which
spends half its budget training dense, then prunes and fine-tunes). The speed-ups are
the task's seed-0 dense model's time at batch 64 over the row's seed-0 model's,
measured in one process after the task's training in 5 rounds that alternate the two
models (15 timed runs per round; each model's time is its best round's median, since
other tenants of this machine steal the CPU in bursts). The dense row is timed
against a second copy of itself: how far its figures are from 1.00x is the noise of
the measurement (0.83x to 1.11x has been seen on VGG-small). The timing runs with
OMP_WAIT_POLICY=PASSIVE (slimtrain sets it for itself unless the environment sets
another): with OpenMP's default spin-waiting, the native backend's batch-64 LeNet-5
inference flipped between 1.4 and 16 ms from round to round on this 2-core VM
(TensorFlow.js on the backend above; ONNX Runtime's CPU provider on the exported ONNX
file). Wall time is the whole command: loading data, training, evaluation, building
and checking the slim model, writing the files. OBProx-SG penalises single weights
(l1), not groups: its "weight density" is the fraction of non-zero weights, a saving
the slim model cannot turn into speed. In each picture a filled mark is a
group-sparsity method of slimtrain, an open one a baseline; the bars span the seeds.

${finished.map((t) => section(t)).join('\n\n')}${
    finished.length < allTasks.length
      ? `\n\n(${allTasks
          .filter((t) => !finished.includes(t))
          .map((t) => t.title)
          .join(', ')}: not finished yet)`
      : ''
  }
`;
  writeFileAtomic(tablePath, doc);
  process.stderr.write(`wrote ${tablePath}\n`);
}

/** Trains the rows (methods x seeds) of a task not yet in the results, up to --jobs at once. */
async function trainTask(task: Task): Promise<void> {
  const pending = task.methods
    .flatMap((method) => seeds.map((seed) => ({ method, seed })))
    .filter(({ method, seed }) => {
      const r = results[rowKey(task, method, seed)];
      return !r || JSON.stringify(r.command) !== JSON.stringify(command(task, method, seed));
    });
  const rowsAtOnce = Math.min(jobs, pending.length);
  // rows side by side share the cores; a row alone gets them all
  const threads = rowsAtOnce > 1 ? Math.max(1, Math.floor(cpus().length / rowsAtOnce)) : undefined;
  const worker = async () => {
    for (let row = pending.shift(); row; row = pending.shift()) {
      const { method, seed } = row;
      const key = rowKey(task, method, seed);
      const args = command(task, method, seed);
      const dir = rowDir(task, method, seed);
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
        ...(await summarise(args[0], json, modelPath(task, method, seed))),
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
