// The result tables, built once and drawn twice: as text in the terminal
// (util/table.ts formatTable) and as HTML in report.html (report/html.ts).
import { runtimeLabel, runtimes, type MeasuredRatio, type ModelSpeed, type Runtime, type SpeedUps } from '../metrics/speed.js';
import type { EpochMetrics } from '../train/metrics.js';
import { measuredTimes, pct, thousands, times } from '../util/format.js';
import type { Table } from '../util/table.js';

export interface ModelFigures {
  accuracy: number;
  params: number;
  macs: number;
}

const FIGURES_HEADER = ['model', 'test acc', 'params', 'MACs', 'params /', 'MACs /'];

function figuresRow(label: string, m: ModelFigures, ratios?: { params: number; macs: number }): string[] {
  return [
    label,
    pct(m.accuracy),
    thousands(m.params),
    thousands(m.macs),
    ratios ? times(ratios.params) : '',
    ratios ? times(ratios.macs) : '',
  ];
}

const UNIT = { params: 1, macs: 1 };

/** the original before training and the dense baseline (where a run has them), sparse and slim: accuracy, size, dense-to-slim ratios */
export function beforeAfterTable(r: {
  method: string;
  original?: ModelFigures;
  baseline?: ModelFigures;
  sparse: ModelFigures;
  slim: ModelFigures;
  ratios: { params: number; macs: number };
  /** a run measured by agreement with its teacher says so in its header */
  history?: readonly Pick<EpochMetrics, 'agreement'>[];
}): Table {
  const rows = [figuresRow(`sparse (${r.method})`, r.sparse, UNIT), figuresRow('slim', r.slim, r.ratios)];
  const header = r.history?.[0]?.agreement ? FIGURES_HEADER.map((h) => (h === 'test acc' ? 'agreement' : h)) : FIGURES_HEADER;
  const before = [
    ...(r.original ? [figuresRow('original, before training', r.original, UNIT)] : []),
    ...(r.baseline ? [figuresRow('dense baseline', r.baseline)] : []),
  ];
  return { header, rows: [...before, ...rows] };
}

/** the L1 pruning baseline: dense before pruning, then pruned and fine-tuned */
export function pruneTable(r: { dense: ModelFigures; pruned: ModelFigures; ratios: { params: number; macs: number } }): Table {
  return {
    header: FIGURES_HEADER,
    rows: [figuresRow('dense (before pruning)', r.dense, UNIT), figuresRow('L1-pruned + fine-tuned', r.pruned, r.ratios)],
  };
}

/**
 * Two measured models side by side (ratio = first / second: a speed-up, or how many
 * times smaller), or one alone: params, MACs, each runtime and batch, file sizes.
 * `speedUps`, measured in alternating rounds, replace the ratio of single medians at
 * their batch size.
 */
export function speedTable(a: { label: string; speed: ModelSpeed }, b?: { label: string; speed: ModelSpeed }, speedUps?: SpeedUps): Table {
  const row = (label: string, x: number, y: number | undefined, show: (v: number) => string, ratio?: MeasuredRatio) => [
    label,
    show(x),
    ...(y === undefined ? [] : [show(y), ratio ? measuredTimes(ratio) : times(x / y)]),
  ];
  const measured = (timing: ModelSpeed['timings'][number]) =>
    speedUps && timing.batch === speedUps.batch ? speedUps[timing.runtime.startsWith('ONNX') ? 'ort' : 'tfjs'] : undefined;
  const [s, t] = [a.speed, b?.speed];
  const rows = [row('params', s.params, t?.params, thousands), row('MACs', s.macs, t?.macs, thousands)];
  s.timings.forEach((timing, i) =>
    rows.push(
      row(`${timing.runtime}, batch ${timing.batch} (ms)`, timing.medianMs, t?.timings[i].medianMs, (v) => v.toFixed(3), measured(timing)),
    ),
  );
  const sizes = [
    ['tfjsBytes', 'TensorFlow.js files'],
    ['tfjsGzipBytes', '  gzip'],
    ['onnxBytes', 'ONNX file'],
    ['onnxGzipBytes', '  gzip'],
  ] as const;
  for (const [key, label] of sizes) rows.push(row(`${label} (bytes)`, s.sizes[key], t?.sizes[key], thousands));
  return { header: b ? ['measured', a.label, b.label, `${a.label} / ${b.label}`] : ['measured', a.label], rows };
}

/** one row per epoch of a training run */
export function historyTable(history: readonly EpochMetrics[]): Table {
  return {
    header: ['epoch', 'lr', 'train loss', 'train acc', 'test loss', 'test acc', 'img/s', 'seconds'],
    rows: history.map((m) => [
      m.epoch,
      m.lr.toPrecision(3),
      m.trainLoss.toFixed(4),
      pct(m.trainAccuracy),
      m.testLoss.toFixed(4),
      pct(m.testAccuracy),
      m.imagesPerSecond.toFixed(0),
      m.seconds.toFixed(1),
    ]),
  };
}

/** a layer whose output channels compression can remove */
export interface LayerWidth {
  name: string;
  className: string;
  before: number;
  after: number;
  macsBefore: number;
  macsAfter: number;
}

export function layerWidthTable(layers: readonly LayerWidth[]): Table {
  return {
    header: ['layer', 'class', 'channels before', 'kept', 'removed', 'MACs before', 'MACs after'],
    rows: layers.map((l) => [l.name, l.className, l.before, l.after, l.before - l.after, thousands(l.macsBefore), thousands(l.macsAfter)]),
  };
}

/**
 * Where a slim model measured slower than the model it came from, beyond the rounds'
 * spread: fewer MACs at widths a runtime's fastest kernels do not take (docs/DESIGN.md,
 * "Speed targets"); not for the runtime its channels were already rounded for.
 */
export function slowerNote(speedUps: SpeedUps, roundedFor?: Runtime): string | undefined {
  const slower = runtimes.filter((k) => !speedUps[k].noisy && speedUps[k].ratio * (1 + speedUps[k].spread / 2) < 1 && k !== roundedFor);
  if (slower.length === 0) return undefined;
  const where = slower.map((k) => `${runtimeLabel(k)} (${speedUps[k].ratio.toFixed(2)}x)`).join(' and ');
  return (
    `the slim model ran slower than the sparse one in ${where} at batch ${speedUps.batch}: channel counts that are not a multiple of 8 ` +
    `can miss a runtime's fastest kernels; --round-channels auto --runtime ${slower[0]} keeps the multiple measured fastest, ` +
    `and --target-speedup aims at a speed-up instead of MACs`
  );
}
