// The benchmark's results as data: one JSON file per row and seed,
// bench/results/<task>/<row>/seed-<n>.json, committed. The runner (compress.ts)
// writes them one by one as rows finish; the table (table.ts) reads them all.
// A result records the commit it ran on: a row whose code has changed since (the
// folders listed in AFFECTING) is marked with that commit until it is run again. A
// commit there that cannot change any figure (a message, a new option off by
// default) is listed in NEUTRAL_FILE with why, and does not count.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MeasuredRatio } from '../src/metrics/speed.js';

export const RESULTS_DIR = join('bench', 'results');

export interface RowResult {
  task: string;
  row: string;
  seed: number;
  /** the slimtrain command as typed (the folder under runs/bench) */
  command: string[];
  /** the commit the code ran at, and when the run ended */
  commit: string;
  date: string;
  machine: string;
  /** OpenMP threads of the command, and how many rows trained at once */
  threads: number;
  rowsAtOnce: number;
  /** the whole command; unknown for some transcribed rows */
  wallSeconds?: number;
  accuracy: number;
  params?: number;
  macs?: number;
  /** dense MACs / this model's; for transcribed rows whose MACs were not kept */
  macsRatio?: number;
  zeroGroups?: number;
  groups?: number;
  /** obproxsg: non-zero fraction of the grouped weights */
  density?: number;
  /** a from-trained row: the test accuracy of the model it started from, measured by the run before training */
  original?: number;
  /** with a teacher: the slim model's agreement with it on the test split */
  agreement?: { metric: string; value: number };
  /** a speed target's prediction */
  predictedSpeedup?: number;
  /** seed 0: the task's dense model's time at batch 64 over this model's */
  speedup?: { tfjs: MeasuredRatio; ort: MeasuredRatio };
  /** speed-ups measured before ratios had a spread (one best-of-rounds figure) */
  speedupSingle?: { tfjs: number; ort: number };
  /** a result not produced by the runner: where it was copied from */
  transcribed?: string;
  /** resumed from a checkpoint: the wall time covers only the part after the resume */
  resumed?: boolean;
  /** what a reader of the figures must know that they do not say */
  note?: string;
}

export function resultPath(task: string, row: string, seed: number): string {
  return join(RESULTS_DIR, task, row, `seed-${seed}.json`);
}

export function readResult(task: string, row: string, seed: number): RowResult | undefined {
  const path = resultPath(task, row, seed);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as RowResult) : undefined;
}

/** every seed of a row that has a result, in seed order */
export function readSeeds(task: string, row: string): RowResult[] {
  const dir = join(RESULTS_DIR, task, row);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^seed-(\d+)\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b)
    .map((seed) => readResult(task, row, seed)!);
}

/** the mean of the figures of a row's seeds */
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * A row's accuracy less that of the models it started from, mean over its seeds: each
 * run's own measure of its start, else the dense row's model of its seed; the dense
 * row's mean where a seed has neither.
 */
export function pointsFromStart(results: RowResult[], dense: RowResult[]): number {
  const denseBySeed = new Map(dense.map((r) => [r.seed, r.accuracy]));
  const starts = results.map((r) => r.original ?? denseBySeed.get(r.seed));
  return starts.every((s) => s !== undefined)
    ? mean(results.map((r, i) => r.accuracy - starts[i]!))
    : mean(results.map((r) => r.accuracy)) - mean(dense.map((r) => r.accuracy));
}

/** written whole or not at all */
export function writeResult(result: RowResult): void {
  const path = resultPath(result.task, result.row, result.seed);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** Commits that touch AFFECTING but change no figure: one per line, the hash first, then why. */
export const NEUTRAL_FILE = join('bench', 'neutral-commits.txt');

function neutralCommits(): string[] {
  if (!existsSync(NEUTRAL_FILE)) return [];
  return readFileSync(NEUTRAL_FILE, 'utf8')
    .split('\n')
    .map((line) => line.split(/\s/)[0])
    .filter((hash) => /^[0-9a-f]{7,40}$/.test(hash));
}

/** The code a benchmark row's figures depend on: a change here makes older results stale. */
export const AFFECTING = ['src/optim', 'src/graph', 'src/layers', 'src/train', 'src/compress', 'src/slim', 'src/models', 'src/metrics'];

export function currentCommit(): string {
  return git(['rev-parse', '--short', 'HEAD']);
}

function git(args: string[]): string {
  return execFileSync('git', args, { encoding: 'utf8' }).trim();
}

const staleCache = new Map<string, string | undefined>();
/**
 * The newest commit after `commit` that changed code the results depend on, if any
 * (commit itself unknown to this clone: reported as such).
 */
export function changedSince(commit: string): string | undefined {
  if (!staleCache.has(commit)) {
    let newest: string | undefined;
    try {
      const neutral = neutralCommits();
      const since = git(['log', '--format=%H', `${commit}..HEAD`, '--', ...AFFECTING])
        .split('\n')
        .filter(Boolean);
      newest = since.find((hash) => !neutral.some((n) => hash.startsWith(n)))?.slice(0, 7);
    } catch {
      newest = 'unknown';
    }
    staleCache.set(commit, newest);
  }
  return staleCache.get(commit);
}
