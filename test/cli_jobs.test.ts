// The CLI's pure part: flags in, the library's job out, without training anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Command, OptionValues } from '@commander-js/extra-typings';
import { buildProgram } from '../src/cli/program.js';
import { UsageError } from '../src/cli/options.js';
import { compressCommand, compressJob, type CompressOptions } from '../src/cli/commands/compress.js';
import { pruneCommand, pruneJob, type PruneOptions } from '../src/cli/commands/prune.js';
import { trainCommand, trainJob, type TrainOptions } from '../src/cli/commands/train.js';
import { cli } from './helpers/cli.js';

/** The typed flags `args` give `command`, parsed as the CLI would but with the action replaced. */
function flags<O>(command: Command<unknown[], OptionValues>, ...args: string[]): O {
  const parsed = command.exitOverride().configureOutput({ writeErr: () => {} });
  parsed.action(() => {});
  parsed.parse(args, { from: 'user' });
  return parsed.opts() as O;
}

const compress = (...args: string[]) => compressJob(flags<CompressOptions>(compressCommand(), '--data', 'mnist', ...args));

test('compress flags become the library job: method settings, momentum, training schedule', () => {
  const job = compress(
    '--model',
    'vgg-small',
    '--optimizer',
    'dhspg',
    '--target-macs-ratio',
    '3',
    '--epsilon',
    '0.3',
    '--allocation',
    'uniform',
    '--prune-periods',
    '2',
    '--epochs',
    '4',
    '--no-nesterov',
    '--freeze',
    'a,b',
    '--freeze',
    'c',
  );
  assert.equal(job.method, 'dhspg');
  assert.equal(job.model, 'vgg-small');
  assert.equal(job.targetMacsRatio, 3);
  assert.equal(job.epsilon, 0.3);
  assert.equal(job.allocation, 'uniform');
  assert.equal(job.prunePeriods, 2);
  assert.equal(job.epochs, 4);
  assert.equal(job.nesterov, false);
  assert.equal(job.momentum, 0.9);
  assert.deepEqual(job.freeze, ['a', 'b', 'c']);
  assert.equal(job.measureSpeed, true);
  assert.equal(job.schedule, 'cosine');
  // settings dhspg does not read stay unset
  assert.equal(job.penaltyEndEpoch, undefined);
  assert.equal(job.targetSparsity, undefined);
  const hspg = compress(
    '--from',
    'some/model.json',
    '--lambda',
    '0.05',
    '--weighting',
    'sqrt-macs',
    '--penalty-end',
    '3',
    '--no-speed',
    '--momentum',
    '0',
  );
  assert.equal(hspg.method, 'hspg');
  assert.equal(hspg.model, 'some/model.json');
  assert.equal(hspg.penaltyEndEpoch, 3);
  assert.equal(hspg.weighting, 'sqrt-macs');
  assert.equal(hspg.measureSpeed, false);
  // Nesterov needs momentum
  assert.equal(hspg.nesterov, false);
});

test('compress refuses a flag its optimizer would ignore, naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--optimizer', 'hspg', '--prune-periods', '3'], /--prune-periods: not read by --optimizer hspg/],
    [
      ['--optimizer', 'obproxsg', '--allocation', 'uniform', '--target-sparsity', '0.5'],
      /--target-sparsity, --allocation: not read by --optimizer obproxsg; leave them out/,
    ],
    [
      ['--optimizer', 'hspg', '--target-macs-ratio', '3', '--switch-epoch', '2', '--penalty-end', '2'],
      /with a target, hspg's half-space steps \(--switch-epoch 2\) must start before --penalty-end 2/,
    ],
    [['--optimizer', 'obproxsg', '--weighting', 'macs'], /--weighting: not read by --optimizer obproxsg/],
    [['--optimizer', 'proxsg', '--epsilon', '0.1'], /--epsilon: not read by --optimizer proxsg/],
    [['--optimizer', 'dhspg', '--target-sparsity', '0.5', '--penalty-end', '2'], /--penalty-end: not read by --optimizer dhspg/],
    [['--optimizer', 'dhspg'], /--optimizer dhspg needs --target-sparsity, --target-macs-ratio or --target-speedup/],
    [
      ['--optimizer', 'dhspg', '--target-sparsity', '0.5', '--target-macs-ratio', '2'],
      /give one of --target-sparsity, --target-macs-ratio or --target-speedup, not --target-sparsity and --target-macs-ratio/,
    ],
    [['--runtime', 'tfjs'], /--runtime says where --target-speedup \(or --round-channels auto\) measures: give one/],
    [['--optimizer', 'hesso', '--target-speedup', '1'], /--target-speedup must be above 1, got 1/],
    [['--optimizer', 'obproxsg', '--target-speedup', '2'], /--target-speedup: not read by --optimizer obproxsg/],
    [['--float16'], /--float16 writes DIR\/slim-float16: give --out DIR/],
    [['--resume'], /--resume continues the run saved in --out DIR/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => compress('--model', 'lenet5', ...args),
      (e: Error) => e instanceof UsageError && message.test(e.message),
      args.join(' '),
    );
  }
  assert.throws(() => compress(), /compress needs --model \(a zoo model\) or --from/);
  assert.throws(() => compress('--model', 'lenet5', '--from', 'x/model.json'), /not both/);
});

test('train and prune flags become their jobs; prune allocates uniformly unless told global', () => {
  const t = trainJob(
    flags<TrainOptions>(trainCommand(), '--model', 'mlp', '--data', 'mnist', '--optimizer', 'adamw', '--augment', '--subset', '100'),
  );
  assert.deepEqual(t.optimizer, { name: 'adamw', momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  assert.deepEqual(t.augmentation, { cropPadding: 4, horizontalFlip: true });
  assert.equal(t.subset, 100);
  const prune = (...args: string[]) =>
    pruneJob(flags<PruneOptions>(pruneCommand(), '--model', 'lenet5', '--data', 'mnist', '--macs-ratio', '2', ...args));
  assert.equal(prune().allocation, 'uniform');
  assert.equal(prune('--allocation', 'global').allocation, 'global');
  assert.throws(() => prune('--macs-ratio', '1'), /--macs-ratio must be above 1/);
  assert.throws(() => prune('--prune-periods', '2'), /unknown option '--prune-periods'/);
});

test('every command takes --json, --quiet and --backend', () => {
  const program = buildProgram();
  assert.ok(program.commands.length >= 9);
  for (const command of program.commands) {
    const names = command.options.map((o) => o.long);
    for (const common of ['--json', '--quiet', '--backend']) assert.ok(names.includes(common), `${command.name()} lacks ${common}`);
  }
});

test('output piped into a reader that closes early ends quietly with exit 0', async () => {
  const child = spawn(process.execPath, [cli, 'analyze', 'resnet20', '--input', '32x32x3', '--json', '--quiet']);
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  // like `| head -c 100`: read a little, then close the pipe
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
});

test('distillation flags: --distill with weight and temperature, --distill-only reads no labels, --teacher implies --distill; contradictions are refused', () => {
  const job = compress('--from', 'runs/dense/model.json', '--distill', '--distill-weight', '0.7', '--temperature', '2');
  assert.deepEqual([job.distill, job.distillWeight, job.temperature, job.teacher], [true, 0.7, 2, undefined]);
  assert.equal(compress('--from', 'a/model.json', '--distill-only').distillWeight, 1);
  const taught = compress('--model', 'lenet5', '--teacher', 'big/model.json');
  assert.deepEqual([taught.distill, taught.teacher], [true, 'big/model.json']);
  assert.equal(compress('--model', 'lenet5').distill, undefined);
  assert.throws(
    () => compress('--from', 'a/model.json', '--temperature', '2'),
    (e: Error) => e instanceof UsageError && /add --distill/.test(e.message),
  );
  assert.throws(
    () => compress('--from', 'a/model.json', '--distill-only', '--distill-weight', '0.5'),
    (e: Error) => e instanceof UsageError && /--distill-only .*leave out --distill-weight/.test(e.message),
  );
  assert.throws(() => compress('--from', 'a/model.json', '--distill', '--distill-weight', '1.5'), /--distill-weight/);
});
