// npm run readme: the README's printed figures from real runs on this machine. It runs
// `npm run demo`'s command and the Library section's example, and writes what they
// printed into the code blocks after the README's <!-- printed: NAME --> markers, and
// the demo's wall time into the Quick start. test/readme.test.ts and the package test
// fail when the README drifts from what the code prints.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const readmePath = join(root, 'README.md');

/** `npm run demo`'s slimtrain arguments, from package.json */
export function demoArguments(): string[] {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const command = /node dist\/src\/cli\/main\.js (.*)$/.exec(scripts.demo)?.[1];
  if (!command) throw new Error(`package.json's demo script does not run dist/src/cli/main.js: ${scripts.demo}`);
  return command.split(/\s+/);
}

const marker = (name: string) => `<!-- printed: ${name} -->`;

/** The code block after the README's <!-- printed: NAME --> marker: its opening fence's offset and its text. */
function printedBlock(readme: string, name: string): { start: number; end: number; text: string } {
  const at = readme.indexOf(marker(name));
  if (at < 0) throw new Error(`README.md has no ${marker(name)}`);
  const open = readme.indexOf('```\n', at);
  const start = open + 4;
  const end = readme.indexOf('```', start);
  return { start, end, text: readme.slice(start, end) };
}

export function printed(readme: string, name: string): string {
  return printedBlock(readme, name).text;
}

export function withPrinted(readme: string, name: string, text: string): string {
  const { start, end } = printedBlock(readme, name);
  return readme.slice(0, start) + `${text.trim()}\n` + readme.slice(end);
}

/**
 * What a rerun of the demo on the same backend prints the same: its first table, the
 * groups line and the MACs note, with the seconds of training left out. Speeds and
 * the files written vary from run to run and place to place.
 */
export function demoFigures(output: string): string {
  const lines = output.trim().split('\n');
  const end = lines.findIndex((l) => l.startsWith('measured') || l.startsWith('wrote '));
  return lines
    .slice(0, end < 0 ? lines.length : end)
    .join('\n')
    .replace(/[\d.]+ s of sparse training; peak memory [\d.]+ [kMG]B/, 'N s of sparse training; peak memory N')
    .trim();
}

/**
 * The processor a run's figures belong to, and OpenBLAS's kernel choice where the
 * environment forces one. Training rounds differently on another processor (oneDNN
 * and OpenBLAS pick their kernels by instruction set), so the same seed ends with
 * other figures there: the seeded demo scored 99.08% on an AMD EPYC, and 98.90% on
 * the same machine with OPENBLAS_CORETYPE=Haswell.
 */
export function processor(): string {
  const forced = process.env.OPENBLAS_CORETYPE;
  return (cpus()[0]?.model.trim() ?? 'unknown') + (forced ? ` with OPENBLAS_CORETYPE=${forced}` : '');
}

/** The README's sentence before its demo block, which names the backend and the processor. */
const PRINTED_ON = /On the native backend \(seed 0(?:, (.+?))?\) it printed/;

/** The processor the README says its demo block was printed on. */
export function demoProcessor(readme: string): string | undefined {
  return PRINTED_ON.exec(readme)?.[1];
}

/** A printed line with its figures as placeholders: what the library example prints from run to run. */
export function lineShape(line: string): string {
  return line.replace(/-?\d[\d,.]*(e[+-]?\d+)?/g, '#');
}

/** The README Library section's js block. */
export function libraryExample(readme: string): string {
  const section = readme.slice(readme.indexOf('## Library'), readme.indexOf('\n## ', readme.indexOf('## Library') + 1));
  const example = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!example) throw new Error("README's Library section has no js block");
  return example;
}

function run(args: string[], cwd: string): { stdout: string; seconds: number } {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status}`);
  return { stdout: r.stdout, seconds: (performance.now() - start) / 1000 };
}

const minutes = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${Math.round(s)} s`);

async function main(): Promise<void> {
  let readme = readFileSync(readmePath, 'utf8');
  const backend = run([join(root, 'dist', 'src', 'cli', 'main.js'), 'doctor', '--json'], root).stdout;
  if (!/"backend":\s*"native"/.test(backend)) throw new Error('the README gives native-backend figures: build the native kernels first');
  const demo = run([join(root, 'dist', 'src', 'cli', 'main.js'), ...demoArguments()], root);
  readme = withPrinted(readme, 'demo', demo.stdout);
  readme = readme.replace(/and the demo [\w ]+? on the native backend/, `and the demo ${minutes(demo.seconds)} on the native backend`);
  readme = readme.replace(PRINTED_ON, `On the native backend (seed 0, ${processor()}) it printed`);
  // inside the package, `import 'slimtrain'` resolves to this checkout's build
  const dir = join(root, 'runs', 'readme');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'example.mjs'), libraryExample(readme));
  readme = withPrinted(readme, 'library', run([join(dir, 'example.mjs')], dir).stdout);
  writeFileSync(readmePath, readme);
  process.stdout.write(`README.md: the demo (${minutes(demo.seconds)}) and the library example, as printed now\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
