// slimtrain at a terminal: run under a pseudo-terminal (util-linux's `script`), with
// Ctrl-C typed into it as a user types it, so that the tty's line discipline sends
// SIGINT to the whole foreground process group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cli } from './helpers/cli.js';
import { rate, stepLine } from '../src/cli/progress.js';

interface TerminalRun {
  code: number | null;
  /** what the terminal showed, escape sequences and all */
  screen: string;
  /** milliseconds from Ctrl-C to the exit */
  afterCtrlC?: number;
}

/** Runs slimtrain on a pseudo-terminal; once the screen matches `ctrlCAt`, types Ctrl-C. */
function onTerminal(args: string[], ctrlCAt?: RegExp): Promise<TerminalRun> {
  // `exec`: script runs the command with $SHELL -c, and dash (Debian's /bin/sh, what
  // script uses where SHELL is unset) stays as node's parent, takes the Ctrl-C too and
  // dies of it, so the exit code would be the shell's 130 and not slimtrain's
  const command = `exec ${[process.execPath, cli, ...args].map((a) => `'${a}'`).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let typed: number | undefined;
  child.stdout.on('data', (d: Buffer) => {
    screen += d.toString();
    if (ctrlCAt && typed === undefined && ctrlCAt.test(screen)) {
      typed = performance.now();
      child.stdin.write('\x03');
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, screen, afterCtrlC: typed === undefined ? undefined : performance.now() - typed });
    });
  });
}

test('Ctrl-C at a terminal: compress finishes the step, writes its checkpoint, stops its bar and exits 130 within seconds', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'slimtrain-tty-')), 'run');
  const r = await onTerminal(
    ['compress', '--model', 'lenet5', '--data', 'mnist', '--epochs', '3', '--subset', '6000', '--out', out],
    // a few batches into the first epoch's bar
    /epoch 1\/3 \[[^\]]*\] [1-9]\d\/\d+/,
  );
  assert.equal(r.code, 130, r.screen.slice(-2000));
  assert.ok(r.afterCtrlC! < 10_000, `exited ${r.afterCtrlC!.toFixed(0)} ms after Ctrl-C`);
  assert.match(r.screen, /stopped by SIGINT; checkpoint written in/);
  assert.ok(existsSync(join(out, 'checkpoint')), 'the checkpoint is there to resume from');
  // nothing drawn after the last message: the bar's timer has stopped
  assert.ok(!/epoch 1\/3 \[/.test(r.screen.slice(r.screen.lastIndexOf('stopped by SIGINT'))), 'the bar was redrawn after the stop');
  rmSync(dirname(out), { recursive: true, force: true });
});

test('Ctrl-C at a terminal outside training (timing a model) quits at once with 130 and gives the cursor back', async () => {
  const r = await onTerminal(['bench', 'resnet20', '--repeats', '1000'], /timing resnet20 \[/);
  assert.equal(r.code, 130, r.screen.slice(-2000));
  assert.ok(r.afterCtrlC! < 5_000, `exited ${r.afterCtrlC!.toFixed(0)} ms after Ctrl-C`);
  const after = r.screen.slice(r.screen.lastIndexOf('timing resnet20 ['));
  assert.ok(after.includes('\x1b[?25h'), 'the cursor was shown again');
});

test('a long step shows a bar with its count and time left at a terminal', async () => {
  const r = await onTerminal(['bench', 'lenet5', '--repeats', '30']);
  assert.equal(r.code, 0, r.screen.slice(-2000));
  assert.match(r.screen, /timing lenet5 \[[█░]+\] \d+\/132 \| eta \d+s/);
  assert.match(r.screen, /speed-up|ratio|TensorFlow\.js/);
});

test('off a terminal a long step is a line with its count, share and time left; slow models print img/s with a decimal', () => {
  assert.equal(stepLine({ step: 'decoding photos', done: 250, total: 1000 }, 10), '-- decoding photos: 250/1000 (25%), about 30 s left');
  assert.equal(stepLine({ step: 'decoding photos', done: 1000, total: 1000 }, 40), '-- decoding photos: 1000/1000 (100%)');
  assert.equal(stepLine({ step: 'timing', done: 1, total: 100 }, 120), '-- timing: 1/100 (1%), about 3.3 h left');
  assert.equal(rate(0.43), '0.4');
  assert.equal(rate(7.25), '7.3');
  assert.equal(rate(1234.4), '1234');
});

test('Ctrl-C at a terminal ends slimtrain serve: the server closes and the exit code is 0', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'slimtrain-tty-serve-')), 'run');
  const made = await onTerminal([
    'compress',
    '--model',
    'lenet5',
    '--data',
    'mnist',
    '--epochs',
    '1',
    '--subset',
    '300',
    '--no-speed',
    '--out',
    out,
  ]);
  assert.equal(made.code, 0, made.screen.slice(-2000));
  // any free port: a developer's machine may well have something on the default 8080
  const r = await onTerminal(['serve', out, '--port', '0'], /Ctrl-C to stop/);
  assert.equal(r.code, 0, r.screen.slice(-2000));
  assert.ok(r.afterCtrlC! < 5_000, `exited ${r.afterCtrlC!.toFixed(0)} ms after Ctrl-C`);
  rmSync(dirname(out), { recursive: true, force: true });
});
