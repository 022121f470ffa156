// `slimtrain serve DIR`: the files of a compress run on localhost, with browser.html
// (report/browser.ts) and the TensorFlow.js bundles it loads, so the run's models can
// be timed in a browser with nothing fetched from elsewhere. Cross-origin isolated,
// so that the wasm backend may use threads.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { browserBundles, renderBrowserPage, wasmBinaries } from './browser.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** tfjs/<file> -> the file in its package */
function bundleFiles(): Map<string, string> {
  const require = createRequire(import.meta.url);
  const files = new Map<string, string>();
  const packageDir = (pkg: string) => dirname(require.resolve(`${pkg}/package.json`));
  for (const [pkg, file] of browserBundles) files.set(file.split('/').pop()!, join(packageDir(pkg), file));
  for (const wasm of wasmBinaries) files.set(wasm, join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist', wasm));
  return files;
}

export interface RunServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves `dir` (a compress --out folder) on `host`:`port` (0: any free port). */
export async function serveRun(dir: string, options: { port?: number; host?: string; repeats?: number } = {}): Promise<RunServer> {
  const root = resolve(dir);
  for (const needed of ['sparse/model.json', 'slim/model.json', 'metrics.json'])
    if (!existsSync(join(root, needed)))
      throw new Error(`${join(root, needed)} is missing: serve takes the folder a 'slimtrain compress --out DIR' run wrote`);
  const bundles = bundleFiles();
  const page = renderBrowserPage({ repeats: options.repeats });
  const server = createServer((req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    };
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { ...headers, 'Content-Type': type });
      res.end(body);
    };
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'text/plain', 'malformed address\n');
    }
    if (path === '/' || path === '/browser.html') return send(200, TYPES['.html'], page);
    let file: string | undefined;
    if (path.startsWith('/tfjs/')) file = bundles.get(path.slice('/tfjs/'.length));
    else {
      const candidate = normalize(join(root, path));
      if (candidate.startsWith(root + sep) && existsSync(candidate) && statSync(candidate).isFile()) file = candidate;
    }
    if (!file) return send(404, 'text/plain', `not found: ${path}\n`);
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((done, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(new Error(e.code === 'EADDRINUSE' ? `port ${options.port} is in use: give another with --port` : e.message)),
    );
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', done);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/`,
    server,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
