// The run report: compress writes DIR/report.html; headless Chromium opens it with
// the network cut off and finds every chart drawn, no script errors, and the tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { initEngine } from '../src/engine/index.js';
import { runCompressJob } from '../src/compress/job.js';
import { chromiumMissing, launchChromium } from './helpers/chromium.js';
import { slowerNote } from '../src/report/tables.js';

await initEngine({ announce: false });

test(
  'compress writes report.html: self-contained, every chart drawn in headless Chromium, tables filled',
  { skip: chromiumMissing() },
  async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'slimtrain-report-')), 'run');
    const r = await runCompressJob({
      model: 'lenet5',
      data: 'mnist',
      subset: 1000,
      epochs: 2,
      batchSize: 32,
      seed: 1,
      lr: 0.05,
      schedule: 'cosine',
      method: 'hspg',
      lambda: 1,
      epsilon: 0.5,
      baseline: true,
      measureSpeed: false,
      out,
    });
    const html = readFileSync(r.out!.report, 'utf8');
    assert.ok(!/(src|href)=["']?(https?:)?\/\//.test(html), 'no external resources');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      // the report must not need the network: anything but the file itself is refused
      const url = pathToFileURL(r.out!.report).href;
      const requested: string[] = [];
      await page.route(
        '**/*',
        (route) => (requested.push(route.request().url()), route.request().url() === url ? route.continue() : route.abort()),
      );
      await page.goto(url);
      assert.deepEqual(errors, []);
      assert.deepEqual(requested, [url]);
      const charts = await page.evaluate(() =>
        [...document.querySelectorAll('canvas')].map((c) => {
          const pixels = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let painted = 0;
          for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
          const chart = (
            window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: { data: unknown[] }[] } } | undefined } }
          ).Chart.getChart(c);
          return { id: c.id, painted: painted / (c.width * c.height), points: chart?.data.datasets.map((d) => d.data.length) ?? [] };
        }),
      );
      assert.deepEqual(
        charts.map((c) => c.id),
        ['loss', 'accuracy', 'sparsity', 'norms', 'layers'],
      );
      for (const c of charts) assert.ok(c.painted > 0.02, `${c.id}: ${(100 * c.painted).toFixed(1)}% of the canvas painted`);
      assert.deepEqual(charts.find((c) => c.id === 'loss')!.points, [2, 2, 2], 'train, test and the dense baseline, one point per epoch');
      assert.deepEqual(charts.find((c) => c.id === 'layers')!.points, [5, 5], "kept and removed for LeNet-5's five layers");
      assert.equal(await page.$('a[href="browser.html"]'), null, 'opened as a file, the report links to no page that is not there');
      const text = await page.textContent('body');
      assert.match(text!, /Run slimtrain serve on this folder/);
      assert.match(text!, new RegExp(`${r.ratios.macs.toFixed(2)}x fewer MACs`));
      const layerRows = await page.$$eval('table:nth-of-type(2) tbody tr', (rows) =>
        rows.map((row) => [...row.children].map((td) => td.textContent)),
      );
      assert.deepEqual(
        layerRows.map((row) => row[0]),
        ['conv1', 'conv2', 'fc1', 'fc2', 'predictions'],
      );
      assert.ok(
        layerRows.some((row) => Number(row[4]) > 0),
        'some layer lost channels',
      );
    } finally {
      await browser.close();
    }
  },
);

test("the summary warns where the slim model measured slower than the sparse one, beyond the rounds' spread, and names the flags that fix it", () => {
  const ratio = (r: number, spread = 0.05, noisy = false) => ({ ratio: r, spread, rounds: 5, noisy });
  const note = slowerNote({ batch: 64, ort: ratio(0.75), tfjs: ratio(1.47) });
  assert.match(note ?? '', /slower than the sparse one in ONNX Runtime \(0\.75x\) at batch 64/);
  assert.match(note ?? '', /--round-channels auto --runtime ort/);
  assert.doesNotMatch(note ?? '', /TensorFlow\.js/);
  // within its spread of 1, noisy, or already rounded for that runtime: nothing to say
  assert.equal(slowerNote({ batch: 64, ort: ratio(0.97, 0.08), tfjs: ratio(1.2) }), undefined);
  assert.equal(slowerNote({ batch: 64, ort: ratio(0.5, 0.3, true), tfjs: ratio(1.2) }), undefined);
  assert.equal(slowerNote({ batch: 64, ort: ratio(0.75), tfjs: ratio(1.2) }, 'ort'), undefined);
});
