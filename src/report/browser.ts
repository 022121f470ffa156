// DIR/browser.html, served by `slimtrain serve DIR`: loads the run's sparse and slim
// TensorFlow.js models in the visitor's browser and times them there with every
// backend the browser has (WebGPU, WebGL, wasm), beside the MACs ratio. The
// TensorFlow.js bundles come from the server (report/serve.ts), never from a CDN.

/** The scripts the page loads, in order: served from the packages under /tfjs/ */
export const browserBundles = [
  ['@tensorflow/tfjs-core', 'dist/tf-core.min.js'],
  ['@tensorflow/tfjs-backend-cpu', 'dist/tf-backend-cpu.min.js'],
  ['@tensorflow/tfjs-layers', 'dist/tf-layers.min.js'],
  ['@tensorflow/tfjs-backend-webgl', 'dist/tf-backend-webgl.min.js'],
  ['@tensorflow/tfjs-backend-webgpu', 'dist/tf-backend-webgpu.min.js'],
  ['@tensorflow/tfjs-backend-wasm', 'dist/tf-backend-wasm.min.js'],
] as const;

/** The wasm backend's binaries, which its script fetches from the same folder */
export const wasmBinaries = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

/**
 * Median ms of `models` on `x` (then disposed), run in the page: 3 warm-up runs each,
 * then `repeats` runs taking turns, so that a slower stretch weighs on both alike.
 */
async function timePair(x: { dispose(): void }, models: { predict(x: unknown): Output | Output[] }[], repeats: number): Promise<number[]> {
  const once = async (m: (typeof models)[number]) => {
    const start = performance.now();
    const y = m.predict(x);
    // a model with several outputs (a detector's scores and boxes) gives a list
    const ys = Array.isArray(y) ? y : [y];
    for (const t of ys) await t.data();
    ys.forEach((t) => t.dispose());
    return performance.now() - start;
  };
  for (let i = 0; i < 3; i++) for (const m of models) await once(m);
  const ms = models.map(() => [] as number[]);
  for (let i = 0; i < repeats; i++) for (const [k, m] of models.entries()) ms[k].push(await once(m));
  x.dispose();
  return ms.map((xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  });
}

/** a tensor, as the page uses it */
type Output = { data(): Promise<unknown>; dispose(): void };

/** What the page uses of the global `tf` that the bundles define */
type Tf = {
  setBackend(b: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  loadLayersModel(url: string): Promise<{
    inputs: { shape: (number | null)[] }[];
    predict(x: unknown): Output | Output[];
    dispose(): void;
  }>;
  randomNormal(shape: number[]): { dispose(): void };
  wasm?: { setWasmPaths(p: string): void };
  env(): { getBool(flag: string): boolean };
};

/** The measurement, run in the page; its results go in the table and in window.slimtrainBrowser for scripts. */
function measure(settings: { backends: string[]; batches: number[]; repeats: number }): void {
  const tf = (window as unknown as { tf: Tf }).tf;
  const state: { done: boolean; macsRatio?: number; results: Record<string, unknown>[]; errors: string[] } = {
    done: false,
    results: [],
    errors: [],
  };
  (window as unknown as { slimtrainBrowser: typeof state }).slimtrainBrowser = state;
  const body = document.getElementById('results')!;
  const status = document.getElementById('status')!;
  const cell = (text: string) => Object.assign(document.createElement('td'), { textContent: text });
  const row = (cells: string[]) => {
    const tr = document.createElement('tr');
    cells.forEach((c) => tr.appendChild(cell(c)));
    body.appendChild(tr);
  };
  const run = async () => {
    const metrics = (await (await fetch('metrics.json')).json()) as { ratios?: { macs: number } };
    state.macsRatio = metrics.ratios?.macs;
    tf.wasm?.setWasmPaths('tfjs/');
    for (const backend of settings.backends) {
      status.textContent = `measuring with ${backend}…`;
      let ok = false;
      try {
        ok = backend !== 'webgpu' || 'gpu' in navigator ? await tf.setBackend(backend) : false;
        if (ok) await tf.ready();
      } catch (e) {
        state.errors.push(`${backend}: ${(e as Error).message}`);
        ok = false;
      }
      if (!ok || tf.getBackend() !== backend) {
        row([backend, '', 'not available in this browser', '', '', '']);
        state.results.push({ backend, available: false });
        continue;
      }
      const models = { sparse: await tf.loadLayersModel('sparse/model.json'), slim: await tf.loadLayersModel('slim/model.json') };
      const shape = models.sparse.inputs[0].shape.slice(1) as number[];
      for (const batch of settings.batches) {
        const ms = await timePair(tf.randomNormal([batch, ...shape]), [models.sparse, models.slim], settings.repeats);
        const r = {
          backend,
          available: true,
          batch,
          sparseMs: ms[0],
          slimMs: ms[1],
          speedup: ms[0] / ms[1],
        };
        state.results.push(r);
        row([
          backend,
          String(batch),
          r.sparseMs.toFixed(2),
          r.slimMs.toFixed(2),
          `${r.speedup.toFixed(2)}x`,
          state.macsRatio ? `${state.macsRatio.toFixed(2)}x` : '',
        ]);
      }
      models.sparse.dispose();
      models.slim.dispose();
    }
    status.textContent = `medians of ${settings.repeats} runs after 3 warm-up runs, the two models taking turns; ${navigator.userAgent}`;
  };
  run()
    .catch((e: Error) => {
      state.errors.push(e.message);
      status.textContent = `the measurement failed: ${e.message}`;
    })
    .finally(() => {
      state.done = true;
      document.body.dataset.done = 'true';
    });
}

/** The page; `repeats` timed runs per model, backend and batch size. */
export function renderBrowserPage(options: { repeats?: number } = {}): string {
  const settings = { backends: ['webgpu', 'webgl', 'wasm'], batches: [1, 64], repeats: options.repeats ?? 20 };
  const scripts = browserBundles
    .map(([pkg, file]) => `<script src="tfjs/${file.split('/').pop()}" data-package="${pkg}"></script>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>slimtrain · sparse and slim model in this browser</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 900px; color: #222; padding: 0 16px; }
  table { border-collapse: collapse; margin: 8px 0; }
  th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right; }
  th:first-child, td:first-child { text-align: left; }
  #status { color: #555; }
</style>
</head>
<body>
<h1>The sparse and the slim model in this browser</h1>
<p>Both models are loaded from this run's <code>sparse/</code> and <code>slim/</code> folders and timed here, with each
TensorFlow.js backend this browser offers. The sparse model has the dense model's shape (its zero groups still computed).
See also the run's <a href="report.html">report</a>.</p>
<table>
<thead><tr><th>backend</th><th>batch</th><th>sparse (ms)</th><th>slim (ms)</th><th>speed-up</th><th>MACs ratio</th></tr></thead>
<tbody id="results"></tbody>
</table>
<p id="status">loading TensorFlow.js…</p>
${scripts}
<script>
${timePair.toString()}
(${measure.toString()})(${JSON.stringify(settings)});
</script>
</body>
</html>
`;
}
