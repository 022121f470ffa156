// browser.html, as a web developer sees it: `slimtrain serve DIR` on a compress run's
// folder, opened in headless Chromium, times the sparse and slim models with the
// browser's backends, and nothing is fetched from beyond localhost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../src/engine/index.js';
import { runCompressJob } from '../src/compress/job.js';
import { serveRun } from '../src/report/serve.js';
import { chromiumMissing, launchChromium } from './helpers/chromium.js';

interface BrowserResult {
  backend: string;
  available: boolean;
  batch?: number;
  sparseMs?: number;
  slimMs?: number;
  speedup?: number;
}

test(
  'slimtrain serve: browser.html times the sparse and slim models with WebGL and wasm in headless Chromium, all from localhost',
  { skip: chromiumMissing() },
  async () => {
    await initEngine({ announce: false });
    const out = join(mkdtempSync(join(tmpdir(), 'slimtrain-browser-')), 'run');
    const r = await runCompressJob({
      ...{ model: 'lenet5', data: 'mnist', subset: 600, epochs: 1, batchSize: 32, seed: 0, lr: 0.05, schedule: 'cosine' },
      ...{ method: 'dhspg', lambda: 1e-3, targetMacsRatio: 2, measureSpeed: false, out },
    });
    const served = await serveRun(out, { repeats: 3 });
    // SwiftShader: WebGL without a GPU, as headless Chromium on a server has
    const browser = await launchChromium(['--use-angle=swiftshader', '--enable-unsafe-swiftshader']);
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      await page.goto(served.url);
      await page.waitForFunction(() => document.body.dataset.done === 'true', undefined, { timeout: 240_000 });
      const state = (await page.evaluate('window.slimtrainBrowser')) as { results: BrowserResult[]; errors: string[]; macsRatio: number };
      assert.deepEqual(state.errors, []);
      assert.equal(state.macsRatio, r.ratios.macs);
      for (const backend of ['webgl', 'wasm']) {
        const rows = state.results.filter((x) => x.backend === backend && x.available);
        assert.deepEqual(
          rows.map((x) => x.batch),
          [1, 64],
          `${backend} measured at batch 1 and 64`,
        );
        for (const x of rows) assert.ok(x.sparseMs! > 0 && x.slimMs! > 0 && x.speedup === x.sparseMs! / x.slimMs!, JSON.stringify(x));
      }
      const table = await page.locator('#results').innerText();
      assert.match(table, /webgl\s+64\s+[\d.]+\s+[\d.]+\s+[\d.]+x\s+[\d.]+x/);
      assert.match(table, /wasm\s+1\s+/);
      // blob: URLs of the page's own origin are the wasm backend's worker threads
      const elsewhere = requests.filter((u) => !u.startsWith(served.url) && !u.startsWith(`blob:${served.url}`));
      assert.deepEqual(elsewhere, [], 'every request goes to the local server');
      assert.ok(requests.some((u) => u.endsWith('/slim/weights.bin')));
    } finally {
      await browser.close();
      await served.close();
      r.slimModel.dispose();
      r.sparseModel.dispose();
    }
  },
);

test('slimtrain serve refuses a folder that is not a compress run, naming the file it lacks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-not-a-run-'));
  await assert.rejects(serveRun(dir), /sparse\/model\.json is missing: serve takes the folder a 'slimtrain compress --out DIR' run wrote/);
});
