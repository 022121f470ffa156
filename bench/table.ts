// npm run bench:table: BENCHMARKS.md and its pictures (docs/bench/<task>.svg) from
// the committed results (bench/results, results.ts), in seconds: no model is loaded.
// A task's table gives every row with results: the mean over its seeds ± the sample
// standard deviation, the seed-0 speed-ups with their spread, the rows still to run,
// and rows whose code has changed since they ran, marked with their commit.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NOISY, type MeasuredRatio } from '../src/metrics/speed.js';
import { measuredTimes, pct, thousands, times } from '../src/util/format.js';
import { changedSince, mean, pointsFromStart, readSeeds, type RowResult } from './results.js';
import { scatterSvg } from './scatter.js';
import { seedsOf, tasks, type Row, type Task } from './tasks.js';

const PICTURES = join('docs', 'bench');
/** a speed target is met when the measured speed-up is within this share of it, measured with a spread under SETTLED */
const SPEED_TOLERANCE = 0.15;
const SETTLED = 0.1;

/** sample standard deviation; 0 for one value */
const sd = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const points = (x: number) => (100 * x).toFixed(2);
const minutes = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(0)} s`);

interface Summary {
  row: Row;
  results: RowResult[];
  accuracy: number;
  spread: number;
  macsRatio: number;
  /** points from the models the row started from (pointsFromStart) */
  delta: number;
}

function macsRatioOf(r: RowResult, denseMacs: number | undefined): number {
  if (r.macsRatio !== undefined) return r.macsRatio;
  return denseMacs !== undefined && r.macs ? denseMacs / r.macs : 1;
}

function summarise(task: Task): Summary[] {
  const denseResults = readSeeds(task.id, 'dense');
  const denseMacs = denseResults.find((r) => r.macs)?.macs;
  return task.rows
    .map((row) => ({ row, results: readSeeds(task.id, row.id) }))
    .filter((s) => s.results.length > 0)
    .map(({ row, results }) => ({
      row,
      results,
      accuracy: mean(results.map((r) => r.accuracy)),
      spread: sd(results.map((r) => r.accuracy)),
      macsRatio: mean(results.map((r) => macsRatioOf(r, denseMacs))),
      delta: pointsFromStart(results, denseResults),
    }));
}

function speedCell(m: MeasuredRatio | undefined, single: number | undefined): string {
  if (m) return measuredTimes(m);
  return single !== undefined ? `${times(single)} (one figure)` : '';
}

/** the commits a row's results ran at, with a mark where the code has changed since */
function provenance(results: RowResult[]): string {
  const commits = [...new Set(results.map((r) => r.commit))];
  return commits
    .map((c) => {
      const newer = changedSince(c);
      return newer ? `run at ${c}, code changed since (${newer})` : `run at ${c}`;
    })
    .join('; ');
}

const NOT_RECORDED = 'processor not recorded';

/** the processor a machine string starts with; the earliest results did not record it */
function processorOf(machine: string): string {
  const first = machine.split(',')[0];
  return /^\d+ cores$/.test(first) ? NOT_RECORDED : first;
}

/** which processor the row's seeds ran on, where the task's rows ran on more than one */
function processorNote(s: Summary, processors: string[]): string {
  if (processors.length < 2) return '';
  const bySeeds = new Map<string, number[]>();
  for (const r of s.results) {
    const processor = processorOf(r.machine);
    bySeeds.set(processor, [...(bySeeds.get(processor) ?? []), r.seed]);
  }
  if (bySeeds.size === 1) return `ran on ${[...bySeeds.keys()][0]}`;
  return [...bySeeds].map(([p, seeds]) => `seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')} ran on ${p}`).join('; ');
}

function notes(s: Summary, processors: string[]): string {
  const first = s.results[0];
  const avg = (f: (r: RowResult) => number | undefined) => mean(s.results.map((r) => f(r) ?? NaN));
  return [
    first.zeroGroups !== undefined ? `${Math.round(avg((r) => r.zeroGroups))}/${first.groups} groups zero` : '',
    first.density !== undefined ? `weight density ${pct(avg((r) => r.density))}` : '',
    first.agreement ? `${first.agreement.metric} with the dense model ${pct(avg((r) => r.agreement?.value))}` : '',
    first.predictedSpeedup !== undefined ? `predicted ${times(avg((r) => r.predictedSpeedup))} speed-up` : '',
    s.results.some((r) => r.resumed) ? 'resumed: wall time after the resume only' : '',
    first.transcribed ? `transcribed from ${first.transcribed}` : '',
    ...s.results.filter((r) => r.note).map((r) => `seed ${r.seed}: ${r.note}`),
    processorNote(s, processors),
    provenance(s.results),
  ]
    .filter(Boolean)
    .join('; ');
}

function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** the goal's verdict, from the means */
function goalVerdict(task: Task, all: Summary[]): string {
  const goal = task.goal;
  const base = all.find((s) => s.row.id === 'dense');
  if (!goal || !base) return '';
  // in hundredths of a point, as the table shows them, so float round-off cannot flip the verdict
  const within = (s: Summary) => Math.round(-s.delta * 1e4) <= goal.within * 100;
  const candidates = all.filter((s) => s.row.ours && !s.row.speedTarget && s.macsRatio >= goal.macsRatio * 0.995);
  const describe = (s: Summary) =>
    `${s.row.label}: ${points(s.delta)} points at ${times(s.macsRatio)} over ${s.results.length} seed${s.results.length > 1 ? 's' : ''}`;
  const head = `Goal: at least ${goal.macsRatio}x fewer MACs at no more than ${goal.within} point below dense (means over the seeds).`;
  if (!candidates.length) return `${head} No row has results yet.`;
  const met = candidates.filter(within);
  return `${head} ${met.length ? `Met by ${met.map(describe).join('; ')}.` : 'Not met.'}${
    candidates.length > met.length
      ? ` Short: ${candidates
          .filter((s) => !within(s))
          .map(describe)
          .join('; ')}.`
      : ''
  }`;
}

function speedVerdicts(all: Summary[]): string {
  return all
    .filter((s) => s.row.speedTarget)
    .map((s) => {
      const t = s.row.speedTarget!;
      const m = s.results.find((r) => r.seed === 0)?.speedup?.[t.runtime];
      if (!m) return `${s.row.label}: not timed yet.`;
      const close = Math.abs(m.ratio - t.ratio) <= SPEED_TOLERANCE * t.ratio;
      const verdict = close && m.spread < SETTLED ? 'met' : !close ? 'not met' : 'not settled';
      return `${s.row.label}: measured ${times(m.ratio)} (spread ${pct(m.spread)}, ${m.rounds} rounds) against ${t.ratio}x asked: ${verdict} (within ${100 * SPEED_TOLERANCE}% with a spread under ${100 * SETTLED}%).`;
    })
    .join('\n\n');
}

function pendingRows(task: Task): string {
  if (task.retired) return '';
  const missing = task.rows.flatMap((row) => {
    const have = new Set(readSeeds(task.id, row.id).map((r) => r.seed));
    const seeds = seedsOf(task, row).filter((s) => !have.has(s));
    return seeds.length ? [`${row.id} (seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')})`] : [];
  });
  return missing.length ? `Pending: ${missing.join(', ')}; \`npm run bench:compress -- --rows ${task.id}\` runs them.` : '';
}

function picture(task: Task, all: Summary[]): string {
  const base = all.find((s) => s.row.id === 'dense');
  const others = all.filter((s) => s !== base);
  const svg = scatterSvg({
    title: `${task.title}, ${task.epochs} epochs`,
    xLabel: 'MACs reduction (dense / slim)',
    yLabel: 'test accuracy (%)',
    line: base ? { label: `dense ${pct(base.accuracy)}`, y: 100 * base.accuracy } : undefined,
    points: others.map((s) => ({
      label: s.row.label,
      x: s.macsRatio,
      y: 100 * s.accuracy,
      yLow: 100 * Math.min(...s.results.map((r) => r.accuracy)),
      yHigh: 100 * Math.max(...s.results.map((r) => r.accuracy)),
      filled: s.row.ours === true,
    })),
  });
  mkdirSync(PICTURES, { recursive: true });
  writeFileSync(join(PICTURES, `${task.id}.svg`), svg);
  return `![${task.title}: test accuracy against MACs reduction](docs/bench/${task.id}.svg)`;
}

function section(task: Task): string {
  const all = summarise(task);
  if (!all.length) return `## ${task.title}, ${task.epochs} epochs\n\nNo results yet. ${pendingRows(task)}`;
  const base = all.find((s) => s.row.id === 'dense');
  const processors = [...new Set(all.flatMap((s) => s.results.map((r) => processorOf(r.machine))))];
  const header = ['row', 'seeds', 'test acc', 'Δ points', 'params', 'MACs ÷', 'speed-up ORT b64', 'speed-up TF.js b64', 'wall', 'notes'];
  const rows = all.map((s) => {
    const zero = s.results.find((r) => r.seed === 0);
    const params = s.results.filter((r) => r.params).map((r) => r.params!);
    return [
      s.row.label,
      s.results.map((r) => r.seed).join(', '),
      s.results.length > 1 ? `${pct(s.accuracy)} ± ${points(s.spread)}` : pct(s.accuracy),
      base ? points(s.delta) : '',
      params.length ? thousands(Math.round(mean(params))) : '',
      times(s.macsRatio),
      speedCell(zero?.speedup?.ort, zero?.speedupSingle?.ort),
      speedCell(zero?.speedup?.tfjs, zero?.speedupSingle?.tfjs),
      s.results.every((r) => r.wallSeconds) ? minutes(mean(s.results.map((r) => r.wallSeconds!))) : '',
      notes(s, processors),
    ];
  });
  const settings = [
    ...new Set(all.flatMap((s) => s.results.map((r) => `${r.rowsAtOnce} at a time on ${r.threads} thread${r.threads > 1 ? 's' : ''}`))),
  ];
  const commands = all.map((s) => {
    const r = s.results.find((x) => x.seed === 0) ?? s.results[0];
    return `slimtrain ${r.command.join(' ')}`;
  });
  return [
    `## ${task.title}, ${task.epochs} epochs`,
    task.retired ? `*${task.retired}*` : '',
    markdownTable(header, rows),
    picture(task, all),
    goalVerdict(task, all),
    task.goalNote ?? '',
    speedVerdicts(all),
    task.reference ?? '',
    pendingRows(task),
    `Wall time is the whole command (mean per seed); rows trained ${settings.join(', or ')}.`,
    `<details><summary>commands (seed 0; the other seeds change --seed and the folder)</summary>\n\n\`\`\`sh\n${commands.join('\n')}\n\`\`\`\n</details>`,
  ]
    .filter(Boolean)
    .join('\n\n');
}

const machines = [...new Set(tasks.flatMap((t) => t.rows.flatMap((r) => readSeeds(t.id, r.id).map((x) => x.machine))))];
const doc = `# Benchmarks: slimtrain compress against its baselines

Generated by \`npm run bench:table\` from the results committed in \`bench/results/\`
(one file per row and seed, written by \`npm run bench:compress\`). ${
  machines.length > 1
    ? `Machines (where a task's rows ran on more than one, each row's notes name its processor):\n\n${machines.map((m) => `- ${processorOf(m) === NOT_RECORDED ? `${NOT_RECORDED}: ` : ''}${m}`).join('\n')}`
    : `Machine: ${machines[0]}.`
}

The from-trained tasks start where most users start: a dense model trained at the
task's settings (the dense row), compressed with \`compress --from dense --distill\`
at the same settings, learning from the dense model's outputs as well as the labels
(docs/DESIGN.md, "Distillation"). Accuracy is on the full test split: the mean over
the seeds ± the sample standard deviation; "Δ points" is the mean difference from
the model a from-trained row started from (its accuracy as the run measured it before
training, or the dense model of the same seed), or from the dense row's mean where it
lacks the row's seeds. Params and MACs count the final model (the slim model for the
group-sparsity methods). The speed-ups are the task's seed-0 dense model's time at
batch 64 over the row's seed-0 model's, in TensorFlow.js (native backend) and ONNX
Runtime, measured in alternating rounds until the latest 5 rounds agree within 10%
(or 5 minutes pass): the figure is their median, "±" half their range over it, and
a ratio whose rounds stay more than ${100 * NOISY}% apart is marked noisy. A row whose
code (optimizer, groups, layers, training) has changed since it ran says so beside
its commit.

${tasks.map(section).join('\n\n')}
`;
writeFileSync('BENCHMARKS.md', doc);
process.stderr.write(`wrote BENCHMARKS.md and ${PICTURES}/*.svg from bench/results\n`);
