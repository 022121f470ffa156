#!/usr/bin/env node
// Builds the optional native kernels (native/) with node-gyp. As npm's install step it
// never fails the install: without a compiler, OpenBLAS or oneDNN slimtrain runs on
// wasm and `slimtrain doctor` says why. `npm run build:native` (--strict) does fail.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const strict = process.argv.includes('--strict');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (process.env.SLIMTRAIN_SKIP_NATIVE && !strict) {
  console.warn('slimtrain: SLIMTRAIN_SKIP_NATIVE is set; native kernels not built, slimtrain will use wasm');
  process.exit(0);
}

// npm hands its bundled node-gyp to install scripts; run directly, use npm's or one on PATH
const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = [process.env.npm_config_node_gyp, bundled].find((p) => p && existsSync(p));
const [command, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
// Node's headers ship with Node on most installs; node-gyp would otherwise download them
const nodedir = process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined);
const result = spawnSync(command, [...args, 'rebuild', '--directory', join(root, 'native'), ...(nodedir ? [`--nodedir=${nodedir}`] : [])], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
});

if (result.status === 0) {
  console.log('slimtrain: native kernels built (native/build/Release/slimtrain_native.node)');
  process.exit(0);
}
const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
const reason =
  result.error?.message ??
  output
    .split('\n')
    .filter((l) => /error|not found|cannot find/i.test(l))
    .slice(0, 5)
    .join('\n');
console.warn(
  `slimtrain: native kernels not built; slimtrain will use wasm.\n${reason}\n` +
    'To build them: apt-get install g++ libopenblas-dev libdnnl-dev, then npm run build:native',
);
process.exit(strict ? 1 : 0);
