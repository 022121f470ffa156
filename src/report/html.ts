// DIR/report.html of a compress run: one self-contained file (Chart.js inlined, no
// network) with the training curves, the channels each layer kept, the before/after
// table, the measured speed and the run's configuration.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { countModel } from '../layers/count.js';
import { ruleFor } from '../layers/registry.js';
import type { ModelSpeed, Runtime, SpeedUps } from '../metrics/speed.js';
import type { Agreement, EpochMetrics } from '../train/metrics.js';
import type { GroupStats } from '../optim/sparse.js';
import { agreementText, pct, times } from '../util/format.js';
import type { Table } from '../util/table.js';
import { beforeAfterTable, layerWidthTable, slowerNote, speedTable, type LayerWidth, type ModelFigures } from './tables.js';

export type { LayerWidth } from './tables.js';

export interface ReportData {
  title: string;
  /** the sparse optimizer */
  method: string;
  config: Record<string, unknown>;
  history: (EpochMetrics & GroupStats)[];
  /** the model the run started from, before training (a model the user brought) */
  original?: ModelFigures;
  baseline?: ModelFigures & { history: EpochMetrics[] };
  sparse: ModelFigures & { groups: number; zeroGroups: number };
  slim: ModelFigures;
  ratios: { params: number; macs: number };
  check: { maxAbsDiff: number; bound: number };
  predictionMismatches: number;
  /** with a teacher: the slim model's agreement with it on the test images */
  agreement?: Agreement;
  trainSeconds: number;
  speed?: { sparse: ModelSpeed; slim: ModelSpeed; speedUps: SpeedUps };
  /** with a speed target or rounding: the runtime the channels were rounded for */
  speedTarget?: { runtime: Runtime };
  layers: LayerWidth[];
}

/** Output channels of every layer with a width (its rule's widthKey: filters, units), before (sparse) and after (slim). */
export function layerWidths(sparse: tfl.LayersModel, slim: tfl.LayersModel): LayerWidth[] {
  const after = new Map(countModel(slim).layers.map((l) => [l.name, l]));
  return countModel(sparse)
    .layers.filter((l) => ruleFor(l.className)?.widthKey !== undefined && after.has(l.name))
    .map((l) => {
      const a = after.get(l.name)!;
      return {
        name: l.name,
        className: l.className,
        before: l.outputShape[l.outputShape.length - 1],
        after: a.outputShape[a.outputShape.length - 1],
        macsBefore: l.macs,
        macsAfter: a.macs,
      };
    });
}

function chartJs(): string {
  const require = createRequire(import.meta.url);
  return readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function htmlTable({ header, rows }: Table): string {
  const cells = (r: (string | number)[], tag: string) => r.map((c) => `<${tag}>${escapeHtml(String(c))}</${tag}>`).join('');
  return `<table><thead><tr>${cells(header, 'th')}</tr></thead><tbody>${rows.map((r) => `<tr>${cells(r, 'td')}</tr>`).join('')}</tbody></table>`;
}

const STYLE = `<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; padding: 0 16px; }
  h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
  .lead { color: #555; margin-top: 0; }
  table { border-collapse: collapse; margin: 8px 0; }
  th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right; }
  th:first-child, td:first-child { text-align: left; }
  .charts { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
  .chart { position: relative; height: 260px; }
  .wide { position: relative; height: 320px; }
  code { background: #f4f4f4; padding: 1px 4px; }
</style>`;

/** what the page runs: the link to browser.html where it leads somewhere, and the charts from the report data */
const PAGE_SCRIPT = `// browser.html exists only where slimtrain serve serves this folder: opened as a file, the link would lead nowhere
if (location.protocol === 'file:') {
  const link = document.getElementById('browser-page');
  link.replaceWith(Object.assign(document.createElement('code'), { textContent: 'browser.html' }));
}
(() => {
  const d = JSON.parse(document.getElementById('report-data').textContent);
  const epochs = d.history.map((h) => h.epoch);
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  const line = (id, title, datasets, y = {}) => new Chart(document.getElementById(id), {
    type: 'line',
    data: { labels: epochs, datasets },
    options: { plugins: { title: { display: true, text: title } }, scales: { x: { title: { display: true, text: 'epoch' } }, y } },
  });
  const series = (label, values, color, dashed) => ({ label, data: values, borderColor: color, backgroundColor: color, borderDash: dashed ? [6, 4] : [], pointRadius: 3 });
  const base = (key) => (d.baseline ? d.baseline.map((h) => h[key]) : null);
  const withBaseline = (list, key, label, color) => (d.baseline ? [...list, series(label, base(key), color, true)] : list);
  line('loss', 'loss', withBaseline([
    series('train (sparse run)', d.history.map((h) => h.trainLoss), '#1f77b4'),
    series('test (sparse run)', d.history.map((h) => h.testLoss), '#ff7f0e'),
  ], 'testLoss', 'test (dense baseline)', '#999'));
  line('accuracy', d.history[0]?.agreement ? 'agreement with the teacher' : 'accuracy', withBaseline([
    series('train (sparse run)', d.history.map((h) => h.trainAccuracy), '#1f77b4'),
    series('test (sparse run)', d.history.map((h) => h.testAccuracy), '#ff7f0e'),
  ], 'testAccuracy', 'test (dense baseline)', '#999'));
  line('sparsity', 'groups exactly zero', [series('group sparsity', d.history.map((h) => h.groupSparsity), '#2ca02c')], { min: 0, max: 1 });
  line('norms', 'sum of group norms', [series('sum of ||x_g||', d.history.map((h) => h.normSum), '#9467bd')], { beginAtZero: true });
  new Chart(document.getElementById('layers'), {
    type: 'bar',
    data: {
      labels: d.layers.map((l) => l.name),
      datasets: [
        { label: 'kept', data: d.layers.map((l) => l.after), backgroundColor: '#1f77b4' },
        { label: 'removed', data: d.layers.map((l) => l.before - l.after), backgroundColor: '#d3d3d3' },
      ],
    },
    options: { plugins: { title: { display: true, text: 'output channels per layer' } }, scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'channels' } } } },
  });
  document.body.dataset.charts = String(Chart.instances ? Object.keys(Chart.instances).length : 0);
})();
`;

/** the headline: how much smaller, how accurate, how exact */
function lead(data: ReportData): string {
  return `<p class="lead">${times(data.ratios.macs)} fewer MACs and ${times(data.ratios.params)} fewer parameters;
${data.history[0]?.agreement ? 'agreement with the teacher' : 'test accuracy'} ${pct(data.slim.accuracy)}${data.original ? ` (the original ${pct(data.original.accuracy)})` : ''}${data.baseline ? ` (dense ${pct(data.baseline.accuracy)})` : ''}.
${data.sparse.zeroGroups} of ${data.sparse.groups} groups exactly zero. The slim model gives the sparse model's outputs
(max |diff| ${data.check.maxAbsDiff.toExponential(2)}, bound ${data.check.bound.toExponential(2)};
${data.predictionMismatches} test predictions differ).${data.agreement ? ` Against the teacher on the test images: ${agreementText(data.agreement)}.` : ''} ${data.trainSeconds.toFixed(0)} s of sparse training.</p>`;
}

/** the tables, the browser note and the chart canvases */
function sections(data: ReportData): string {
  const config = Object.entries(data.config)
    .filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
  const speed =
    data.speed && speedTable({ label: 'sparse', speed: data.speed.sparse }, { label: 'slim', speed: data.speed.slim }, data.speed.speedUps);
  const slower = data.speed && slowerNote(data.speed.speedUps, data.speedTarget?.runtime);
  return `<h2>Before and after</h2>
${htmlTable(beforeAfterTable(data))}
${speed ? `<h2>Measured speed and size</h2>\n${htmlTable(speed)}\n<p>medians of 15 runs after 3 warm-up runs; at batch 64 the speed-up is measured in alternating rounds until they agree within 10% (± half their range; marked noisy over 20%)</p>${slower ? `\n<p><strong>${escapeHtml(slower)}</strong></p>` : ''}` : ''}

<h2>In your browser</h2>
<p>Run <code>slimtrain serve</code> on this folder and open the address it prints: <a id="browser-page" href="browser.html">browser.html</a>
loads the sparse and the slim model in your browser and times them with each backend it has (WebGPU, WebGL, wasm).</p>

<h2>Training</h2>
<div class="charts">
  <div class="chart"><canvas id="loss" role="img" aria-label="loss per epoch"></canvas></div>
  <div class="chart"><canvas id="accuracy" role="img" aria-label="accuracy per epoch"></canvas></div>
  <div class="chart"><canvas id="sparsity" role="img" aria-label="group sparsity per epoch"></canvas></div>
  <div class="chart"><canvas id="norms" role="img" aria-label="sum of group norms per epoch"></canvas></div>
</div>

<h2>Channels kept per layer</h2>
<div class="wide"><canvas id="layers" role="img" aria-label="channels kept and removed per layer"></canvas></div>
${htmlTable(layerWidthTable(data.layers))}

<h2>Configuration</h2>
${htmlTable({ header: ['setting', 'value'], rows: config })}`;
}

/** The whole report as one HTML document. */
export function renderReport(data: ReportData): string {
  // the data the charts draw, safe inside a script element
  const chartData = JSON.stringify({ history: data.history, baseline: data.baseline?.history ?? null, layers: data.layers }).replace(
    /</g,
    '\\u003c',
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(data.title)} · slimtrain report</title>
${STYLE}
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
${lead(data)}

${sections(data)}

<script>${chartJs()}</script>
<script type="application/json" id="report-data">${chartData}</script>
<script>
${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
