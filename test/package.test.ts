// The package as another project gets it: `npm pack`, the tarball installed into a
// new project as the README says, and the README's library example run there as
// written, with the native addon and with it missing (wasm).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAvailable } from './helpers/backends.js';
import { libraryExample, lineShape, printed } from '../bench/readme.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The README's library section: its shell lines, the tarball they install, its example and what it printed. */
function readmeLibrary(): { shell: string[]; tarball: string; example: string; printedLines: string[] } {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Library'), readme.indexOf('\n## ', readme.indexOf('## Library') + 1));
  const shell = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(shell, "README's Library section has an sh block");
  const tarball = /\S+\/(slimtrain-[\d.]+\.tgz)/.exec(shell);
  assert.ok(tarball, 'the README installs a packed tarball');
  return {
    shell: shell.trim().split('\n'),
    tarball: tarball[1],
    example: libraryExample(readme),
    printedLines: printed(readme, 'library').trim().split('\n'),
  };
}

/** A user's shell: without the npm_* settings the npm running these tests hands its children (this checkout's .npmrc among them). */
const userEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = userEnv) {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `${command} ${args.join(' ')} in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test("the packed tarball installs into a new project as the README says and runs the README's library example, printing what the README shows, with the native addon and without", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-package-'));
  const { shell, tarball, example, printedLines } = readmeLibrary();
  // dist/ is built: the test command compiles before it tests
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root, env: userEnv, encoding: 'utf8' });
  assert.equal(pack.status, 0, pack.stderr);
  assert.doesNotMatch(pack.stderr, /Unknown (project|user|cli) config/, "npm knows every key of this checkout's .npmrc");
  const packed = pack.stdout.trim().split('\n').at(-1)!;
  assert.equal(packed, tarball, 'npm pack writes the file the README installs');
  const project = join(dir, 'project');
  mkdirSync(project);
  for (const line of shell) {
    // the README's lines, with this tarball where the README has the user's clone
    run('sh', ['-c', line.replace(/\S+\/slimtrain-[\d.]+\.tgz/, join(dir, packed))], project);
  }
  assert.equal(JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')).type, 'module');
  writeFileSync(join(project, 'example.js'), example);
  writeFileSync(join(project, 'backend.js'), "import { initEngine } from 'slimtrain';\nconsole.log((await initEngine()).backend);\n");
  const addon = join(project, 'node_modules', 'slimtrain', 'native', 'build');
  assert.equal(existsSync(addon), nativeAvailable, 'the install builds the addon where this checkout could');
  const runs = nativeAvailable ? ['native', 'wasm'] : ['wasm'];
  for (const backend of runs) {
    if (backend === 'wasm') rmSync(addon, { recursive: true, force: true });
    assert.equal(run('node', ['backend.js'], project).trim(), backend);
    rmSync(join(project, 'slim-model'), { recursive: true, force: true });
    const out = run('node', ['example.js'], project);
    assert.deepEqual(
      out.trim().split('\n').map(lineShape),
      printedLines.map(lineShape),
      `${backend}: the example prints what the README shows`,
    );
    const compressed = /compress\(\): ([\d.]+)x fewer MACs at ([\d.]+)%/.exec(out);
    const fitted = /model\.fit: ([\d.]+)x fewer MACs, (\d+) zero groups, max \|slim - sparse\| ([\d.e+-]+)/.exec(out);
    assert.ok(compressed && fitted, `${backend}: the example printed its figures:\n${out}`);
    assert.ok(Number(compressed[1]) >= 2.8 && Number(compressed[2]) > 85, `${backend}: ${compressed[0]}`);
    assert.ok(Number(fitted[1]) >= 2.8 && Number(fitted[3]) < 1e-4, `${backend}: ${fitted[0]}`);
    assert.ok(existsSync(join(project, 'slim-model', 'model.json')), `${backend}: the slim model was saved`);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('npm run docs writes the API reference from the doc comments, every type the API names included', () => {
  const out = mkdtempSync(join(tmpdir(), 'slimtrain-docs-'));
  // typedoc.json treats a warning (an exported name whose types are left out) as an error
  run('npm', ['run', '--silent', 'docs', '--', '--out', out], root);
  const page = readFileSync(join(out, 'functions', 'compress.html'), 'utf8');
  assert.match(page, /removes the zero groups and checks that the slim model/);
  assert.ok(existsSync(join(out, 'functions', 'sparseTraining.html')));
  rmSync(out, { recursive: true, force: true });
});
