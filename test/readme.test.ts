// The README's figures are what the code prints: its demo block against a run of
// `npm run demo`'s command now, on the backend the README names beside the block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoArguments, demoFigures, demoProcessor, lineShape, printed, processor, readmePath } from '../bench/readme.js';
import { cli } from './helpers/cli.js';
import { nativeAvailable } from './helpers/backends.js';

test("demoFigures keeps a run's figures and leaves out its seconds, peak memory, speeds and files", () => {
  const output = [
    'model  test acc',
    'slim   99.03%',
    '',
    '119 of 226 groups exactly zero; 51.8 s of sparse training; peak memory 412 MB',
    'MACs count convolutions',
    '',
    'measured   sparse  slim',
    'wrote runs/demo/slim/model.json',
  ].join('\n');
  assert.equal(
    demoFigures(output),
    'model  test acc\nslim   99.03%\n\n119 of 226 groups exactly zero; N s of sparse training; peak memory N\nMACs count convolutions',
  );
  assert.notEqual(demoFigures(output.replace('99.03%', '99.08%')), demoFigures(output));
  assert.equal(lineShape('epoch 2: test 97.12%, 1,204 zero groups, max 4.8e-7'), 'epoch #: test #%, # zero groups, max #');
});

test(
  "the README's demo block is what the seeded demo prints now on the native backend: its figures on the processor it names, its lines elsewhere",
  { skip: !nativeAvailable && 'the README gives native-backend figures and this machine has no native addon' },
  (t) => {
    const readme = readFileSync(readmePath, 'utf8');
    const printedOn = demoProcessor(readme);
    assert.ok(printedOn, 'the README names the backend and the processor beside the block');
    const out = mkdtempSync(join(tmpdir(), 'slimtrain-demo-'));
    // --out elsewhere and no speed table: neither changes the figures compared
    const args = demoArguments().map((a) => (a === 'runs/demo' ? out : a));
    const r = spawnSync(process.execPath, [cli, ...args, '--no-speed', '--backend', 'native'], { encoding: 'utf8', timeout: 600_000 });
    rmSync(out, { recursive: true, force: true });
    assert.equal(r.status, 0, r.stderr);
    const [now, written] = [demoFigures(r.stdout), demoFigures(printed(readme, 'demo'))];
    if (printedOn === processor()) {
      assert.equal(now, written, 'the README is out of date: run npm run readme');
    } else {
      // another processor trains to other figures from the same seed; the lines must still be the ones the README shows
      t.diagnostic(`the README's figures are from ${printedOn}, this is ${processor()}: comparing the lines without their figures`);
      const shapes = (text: string) => text.split('\n').map((line) => lineShape(line).replace(/\s+/g, ' '));
      assert.deepEqual(shapes(now), shapes(written), 'the README is out of date: run npm run readme');
    }
  },
);
