// The folders of src/ stand on floors: a module may import from its own folder and
// from folders on lower floors, never from a higher one, so that data flows one way
// (model -> graph -> groups -> optimizer -> slim model -> export/report). `npm run
// check:cycles` runs this after dpdm (which finds cycles between files); the order
// is written here once, and docs/DESIGN.md ("Module map") draws it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** lowest first; folders on one floor do not import each other */
export const FLOORS: readonly (readonly string[])[] = [
  ['util'],
  ['onnx', 'data', 'engine'],
  ['layers'],
  ['io', 'graph', 'export', 'import'],
  ['optim', 'slim', 'metrics', 'models'],
  ['train'],
  ['report'],
  ['compress'],
  ['cli'],
  ['.'],
];

const floorOf = new Map(FLOORS.flatMap((folders, level) => folders.map((f) => [f, level])));

/** src/'s top folder of a path relative to src ('.' for the entry files) */
const folderOf = (path: string) => (path.includes(sep) ? path.split(sep)[0] : '.');

/** Every import of a src file that reaches a folder on its own floor (but another folder) or a higher one. */
export function floorViolations(files: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [file, text] of files) {
    const from = folderOf(file);
    for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
      const to = folderOf(normalize(join(dirname(file), spec)));
      if (to === from) continue;
      const [a, b] = [floorOf.get(from), floorOf.get(to)];
      if (a === undefined || b === undefined) found.push(`${file}: folder ${a === undefined ? from : to} is on no floor (bench/floors.ts)`);
      else if (b >= a) found.push(`${file} imports ${spec}: ${from} (floor ${a}) may not import ${to} (floor ${b})`);
    }
  }
  return found;
}

/** the .ts files under `dir`, by path relative to it */
export function sources(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) out.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
  const violations = floorViolations(sources(src));
  for (const v of violations) process.stderr.write(`${v}\n`);
  process.stdout.write(violations.length ? `${violations.length} imports go up a floor\n` : 'floors: every import goes down\n');
  process.exitCode = violations.length ? 1 : 0;
}
