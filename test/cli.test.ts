import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { cli, run, runWith } from './helpers/cli.js';

test('--help lists the commands; each command has its own help', () => {
  const top = run('--help');
  assert.equal(top.code, 0);
  assert.match(top.stdout, /train \[options\]/);
  assert.match(top.stdout, /eval \[options\]/);
  const train = run('train', '--help');
  assert.equal(train.code, 0);
  assert.match(train.stdout, /--model <name\|path>/);
  assert.match(train.stdout, /--weight-decay <wd>/);
  assert.equal(run('eval', '--help').code, 0);
});

test('usage errors exit with 2 and say what is wrong', () => {
  const cases: [string[], RegExp][] = [
    [['train', '--model', 'lenet5', '--data', 'mnist', '--bogus'], /unknown option '--bogus'/],
    [['train', '--model', 'lenet5', '--data', 'mnist', '--lr', '-1'], /--lr <rate>' argument '-1' is invalid\. expected a positive number/],
    [['train', '--model', 'lenet5', '--data', 'mnist', '--epochs', '1.5'], /expected a positive integer, got '1\.5'/],
    [['train', '--model', 'lenet5', '--data', 'mnist', '--momentum', '1'], /expected a number in \[0, 1\)/],
    [['train', '--model', 'lenet6', '--data', 'mnist'], /'lenet6' is neither a zoo model/],
    [
      ['train', '--model', 'lenet5', '--data', 'imagenet'],
      /'imagenet' is neither a data set \(mnist, fashion-mnist, cifar10, cifar100\) nor a folder/,
    ],
    [['train', '--model', 'lenet5', '--data', 'mnist', '--mean', '0.5'], /--mean and --std go together: give both/],
    [['train', '--model', 'lenet5', '--data', 'mnist', '--std', '0'], /--std <s>' argument '0' is invalid\. expected a positive number/],
    [['train', '--model', 'lenet5', '--data', 'mnist', '--normalize', 'z'], /Allowed choices are dataset, imagenet, none/],
    [['train', '--data', 'mnist'], /required option '--model <name\|path>' not specified/],
    [['train', '--model', 'lenet5', '--data', 'mnist', '--backend', 'gpu'], /Allowed choices are native, wasm, cpu/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ];
  for (const [args, message] of cases) {
    const r = run(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('a usage error is one line that starts with slimtrain:, as other errors are; --version prints the version', () => {
  const r = run('train', '--model', 'lenet5', '--data', 'mnist', '--epochs', '1.5');
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    "slimtrain: error: option '--epochs <n>' argument '1.5' is invalid. expected a positive integer, got '1.5' (run with --help for usage)\n",
  );
  const version = run('--version');
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(dirname(cli), '..', '..', '..', 'package.json'), 'utf8')).version);
});

test('a job that fails exits with 1 and names the file', () => {
  const r = run('eval', '--model', '/nonexistent/model.json', '--data', 'mnist');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /slimtrain: error: cannot read model file \/nonexistent\/model\.json/);
});

test('results go to stdout (a table, or JSON with --json), progress to stderr; --quiet leaves stderr empty', () => {
  const args = ['train', '--model', 'mlp', '--data', 'mnist', '--epochs', '1', '--subset', '200'];
  const json = run(...args, '--json');
  assert.equal(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).history.length, 1);
  assert.match(json.stderr, /epoch 1: loss \d/);
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-q-'));
  const quiet = run(...args, '--json', '--quiet', '--out', join(dir, 'mlp'));
  assert.equal(quiet.code, 0);
  assert.equal(quiet.stderr, '');
  assert.deepEqual(
    JSON.parse(quiet.stdout).history.map((h: { trainLoss: number }) => h.trainLoss),
    JSON.parse(json.stdout).history.map((h: { trainLoss: number }) => h.trainLoss),
  );
  for (const command of [
    ['eval', '--model', join(dir, 'mlp'), '--data', 'mnist', '--subset', '100'],
    ['export', 'mlp', '--onnx', join(dir, 'm.onnx')],
    ['bench', 'mlp', '--repeats', '1'],
  ]) {
    const r = run(...command, '--quiet');
    assert.equal(r.code, 0, `${command[0]}: ${r.stderr}`);
    assert.equal(r.stderr, '', `${command[0]} --quiet`);
    assert.ok(r.stdout.length > 0, `${command[0]} prints its results`);
  }
});

test('train saves a model that eval scores the same, with the same normalisation', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'slimtrain-cli-')), 'lenet5');
  const t = run('train', '--model', 'lenet5', '--data', 'mnist', '--epochs', '1', '--subset', '2000', '--out', out, '--json');
  assert.equal(t.code, 0, t.stderr);
  const trained = JSON.parse(t.stdout);
  assert.ok(existsSync(join(out, 'model.json')) && existsSync(join(out, 'weights.bin')));
  assert.equal(trained.history.length, 1);
  // a small model's run: at least Node's own tens of MB, well under a gigabyte
  assert.ok(trained.peakMemory > 30e6 && trained.peakMemory < 1e9, `peak memory ${trained.peakMemory} bytes`);
  assert.ok(trained.test.accuracy > 0.5, `accuracy ${trained.test.accuracy} after one epoch on 2000 images`);
  const e = run('eval', '--model', join(out, 'model.json'), '--data', 'mnist', '--subset', '2000', '--json');
  assert.equal(e.code, 0, e.stderr);
  const evaluated = JSON.parse(e.stdout);
  assert.equal(evaluated.normalization, 'model');
  assert.ok(Math.abs(evaluated.accuracy - trained.test.accuracy) < 1e-9, `${evaluated.accuracy} vs ${trained.test.accuracy}`);
  // the table form for people
  const human = run('eval', '--model', out, '--data', 'mnist', '--subset', '100');
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /test \(100 images\): accuracy \d+\.\d\d%/);
});

test('analyze prints the per-layer table and totals; --json and --dot for scripts and pictures', () => {
  const table = run('analyze', 'resnet20', '--input', '32x32x3');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /stage1_block1_conv1\s+Conv2D\s+32x32x16\s+2,304\s+2,359,296\s+16\s+16/);
  assert.match(table.stdout, /predictions .* produces the model output \(predictions\)/);
  assert.match(table.stdout, /272,474 parameters .* 458 groups, 448 prunable, 112 of them tied/);
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-analyze-'));
  const dot = join(dir, 'g.dot');
  const json = run('analyze', 'mobilenetv2-small', '--input', '32x32x3', '--json', '--dot', dot);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.totals.prunable, 2248);
  assert.ok(parsed.groups.every((g: { slices: unknown[] }) => g.slices.length > 0));
  assert.match(readFileSync(dot, 'utf8'), /^digraph "mobilenetv2-small" \{[\s\S]*"block2_expand" -> "block2_expand_bn";/);
  // without --input, a zoo model is analysed at the input it was designed for, and says so
  assert.match(run('analyze', 'resnet20').stdout, /resnet20 at input 32x32x3: 272,474 parameters/);
  assert.match(run('analyze', 'lenet5').stdout, /lenet5 at input 28x28x1: 61,706 parameters/);
  const bad = run('analyze', 'lenet5', '--input', '28x28');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /expected HEIGHTxWIDTHxCHANNELS/);
});

test('analyze: an unsupported layer names the --freeze option, which then works', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-freeze-'));
  const script = `
    import * as tfl from '@tensorflow/tfjs-layers';
    import { initEngine, saveModel } from '${join(dirname(cli), '..', 'index.js')}';
    await initEngine({ backend: 'cpu' });
    const input = tfl.input({ shape: [4, 4, 2] });
    let y = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input);
    y = tfl.layers.gaussianNoise({ stddev: 0.1, name: 'odd' }).apply(y);
    y = tfl.layers.flatten({ name: 'flat' }).apply(y);
    y = tfl.layers.dense({ units: 4, name: 'hidden' }).apply(y);
    y = tfl.layers.dense({ units: 2, name: 'out' }).apply(y);
    await saveModel(tfl.model({ inputs: input, outputs: y }), ${JSON.stringify(dir)});
  `;
  const made = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: join(dirname(cli), '..', '..', '..'),
  });
  assert.equal(made.status, 0, made.stderr);
  const model = join(dir, 'model.json');
  const refused = run('analyze', model);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /layer 'odd' has class GaussianNoise, which slimtrain cannot analyse yet\. Mark it unprunable with --freeze odd/,
  );
  const frozen = run('analyze', model, '--freeze', 'odd');
  assert.equal(frozen.code, 0, frozen.stderr);
  assert.match(frozen.stdout, /c1 .* feeds frozen layer odd/);
  assert.match(frozen.stdout, /hidden\s+Dense\s+4\s+196\s+192\s+4\s+4/);
});

test('compress --target-speedup: measured latency tables on this machine, checked on whole slim models, a choice predicted to meet the target, and the fastest channel multiple', () => {
  const cache = mkdtempSync(join(tmpdir(), 'slimtrain-cache-'));
  const args = ['compress', '--model', 'vgg-small', '--data', 'mnist', '--epochs', '1', '--subset', '500', '--optimizer', 'dhspg'];
  const r = runWith(
    { XDG_CACHE_HOME: cache },
    ...args,
    // the most the floors allow is measured here, so ask for well below it: VGG-small's
    // floors allowed 3.57x on an AMD EPYC, where LeNet-5's allowed 1.09x on an Intel Xeon
    // and 0.98x on the EPYC under the suite's load; ONNX Runtime, since small layers alone
    // in TensorFlow.js at batch 16 take about a call's overhead each, and their tables are noise
    '--target-speedup',
    '1.5',
    '--runtime',
    'ort',
    '--speed-batch',
    '16',
    '--no-speed',
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  const t = result.speedTarget;
  assert.deepEqual([t.runtime, t.batch, t.target], ['ort', 16, 1.5]);
  assert.ok(t.predicted >= 1.5 * 0.999, `predicted ${t.predicted}`);
  // the tables were checked on two whole slim models, the second slimmer than the first
  assert.equal(t.checked.length, 2);
  assert.ok(t.checked[1].predicted > t.checked[0].predicted && t.checked.every((c: { measured: number }) => c.measured > 0));
  assert.equal(t.tried[0].roundTo, 1);
  assert.ok(t.tried.some((x: { roundTo: number; ms: number }) => x.roundTo === t.roundTo && x.ms > 0));
  assert.match(r.stderr, /latency table: ONNX Runtime at batch 16/);
  // the table went to the user's cache
  assert.ok(readdirSync(join(cache, 'slimtrain', 'latency')).some((f) => f.startsWith('ort-')));
  // without a speed target, the MACs target chooses as before and nothing is rounded
  const macs = runWith({ XDG_CACHE_HOME: cache }, ...args, '--target-macs-ratio', '1.6', '--no-speed', '--json');
  assert.equal(macs.code, 0, macs.stderr);
  assert.equal(JSON.parse(macs.stdout).speedTarget, undefined);
  rmSync(cache, { recursive: true, force: true });
});

test('compress: trains sparse, writes sparse, slim and metrics.json; the slim model scores the same', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'slimtrain-compress-')), 'run');
  const r = run(
    'compress',
    '--model',
    'lenet5',
    '--data',
    'mnist',
    '--epochs',
    '1',
    '--subset',
    '2000',
    '--lambda',
    '0.8',
    '--float16',
    '--out',
    out,
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.ok(result.sparse.zeroGroups > 0, `zero groups ${result.sparse.zeroGroups}`);
  assert.equal(result.removedGroups, result.sparse.zeroGroups);
  assert.equal(result.slim.accuracy, result.sparse.accuracy);
  assert.ok(result.ratios.macs > 1 && result.slim.macs < result.sparse.macs);
  assert.ok(result.history[0].groupSparsity > 0 && result.history[0].normSum > 0);
  for (const f of ['slim/model.json', 'slim/weights.bin', 'sparse/model.json', 'sparse/weights.bin', 'slim.onnx', 'metrics.json']) {
    assert.ok(existsSync(join(out, f)), f);
  }
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  assert.equal(metrics.slim.macs, result.slim.macs);
  // measured speed and sizes of both models, in both runtimes, in the result and metrics.json
  for (const model of ['sparse', 'slim'] as const) {
    assert.deepEqual(
      metrics.speed[model].timings.map((t: { runtime: string; batch: number }) => `${t.runtime.split(' ')[0]}@${t.batch}`),
      ['TensorFlow.js@1', 'ONNX@1', 'TensorFlow.js@64', 'ONNX@64'],
    );
    assert.equal(metrics.speed[model].macs, result[model].macs);
  }
  assert.equal(metrics.speed.slim.sizes.onnxBytes, readFileSync(join(out, 'slim.onnx')).length);
  assert.ok(metrics.speed.slim.sizes.tfjsBytes < metrics.speed.sparse.sizes.tfjsBytes);
  // --float16: half the weight bytes, accuracy reported beside the float32 one
  assert.equal(metrics.float16.weightBytes * 2, metrics.float16.float32WeightBytes);
  assert.ok(
    Math.abs(metrics.float16.accuracy - result.slim.accuracy) < 0.01,
    `float16 ${metrics.float16.accuracy} vs ${result.slim.accuracy}`,
  );
  assert.ok(existsSync(join(out, 'slim-float16', 'model.json')));
  // slim: the same slim model from the saved sparse one; rounded widths keep more MACs
  const again1 = run('slim', join(out, 'sparse', 'model.json'), '--out', join(out, 'slim-again'), '--json');
  assert.equal(again1.code, 0, again1.stderr);
  assert.equal(JSON.parse(again1.stdout).after.macs, result.slim.macs);
  const rounded = run('slim', join(out, 'sparse', 'model.json'), '--out', join(out, 'slim-r8'), '--round-channels', '8', '--json');
  assert.equal(rounded.code, 0, rounded.stderr);
  assert.ok(JSON.parse(rounded.stdout).after.macs >= result.slim.macs);
  const e = run('eval', '--model', join(out, 'slim', 'model.json'), '--data', 'mnist', '--subset', '2000', '--json');
  assert.equal(e.code, 0, e.stderr);
  assert.equal(JSON.parse(e.stdout).accuracy, result.slim.accuracy);
  const a = run('analyze', join(out, 'slim', 'model.json'), '--json');
  assert.equal(JSON.parse(a.stdout).totals.macs, result.slim.macs);
  // --from: compress a model the user already has (here: the slim one)
  const again = run(
    'compress',
    '--from',
    join(out, 'slim', 'model.json'),
    '--data',
    'mnist',
    '--epochs',
    '1',
    '--subset',
    '500',
    '--lambda',
    '0.8',
    '--no-speed',
    '--json',
  );
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).sparse.macs, result.slim.macs);
  assert.equal(JSON.parse(again.stdout).speed, undefined, '--no-speed skips the measurements');
});

test('compress: flag combinations that cannot work exit with 2', () => {
  const cases: [string[], RegExp][] = [
    [['compress', '--data', 'mnist'], /compress needs --model \(a zoo model\) or --from/],
    [
      ['compress', '--model', 'lenet5', '--data', 'mnist', '--optimizer', 'dhspg'],
      /--optimizer dhspg needs --target-sparsity, --target-macs-ratio or --target-speedup/,
    ],
    [['compress', '--model', 'lenet5', '--data', 'mnist', '--epsilon', '1'], /expected a number in \[0, 1\)/],
    [['compress', '--model', 'lenet5', '--data', 'mnist', '--target-sparsity', '1.5'], /expected a number in \[0, 1\)/],
    [['compress', '--model', 'lenet5', '--data', 'mnist', '--optimizer', 'sgd'], /Allowed choices are proxsg, hspg, obproxsg, dhspg/],
    [['compress', '--model', 'lenet5', '--data', 'mnist', '--float16'], /--float16 writes DIR\/slim-float16: give --out DIR/],
  ];
  for (const [args, message] of cases) {
    const r = run(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('prune: the L1-norm filter pruning baseline reaches its MACs target and fine-tunes', () => {
  const r = run('prune', '--model', 'lenet5', '--data', 'mnist', '--epochs', '4', '--subset', '3000', '--macs-ratio', '2', '--json');
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.ok(result.ratios.macs >= 2, `MACs ratio ${result.ratios.macs}`);
  assert.ok(result.removedGroups > 0);
  assert.equal(result.history.length, 4);
  assert.ok(result.pruned.accuracy > 0.6, `accuracy ${result.pruned.accuracy}`);
  assert.equal(run('prune', '--model', 'lenet5', '--data', 'mnist', '--macs-ratio', '1').code, 2);
});

test('export writes an ONNX file checked in ONNX Runtime; --json for scripts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-export-'));
  const out = join(dir, 'lenet5.onnx');
  const r = run('export', 'lenet5', '--onnx', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.bytes, readFileSync(out).length);
  assert.ok(result.check.maxAbsDiff <= result.check.bound);
  const missing = run('export', join(dir, 'nothing', 'model.json'), '--onnx', join(dir, 'x.onnx'));
  assert.equal(missing.code, 1);
  assert.ok(!existsSync(join(dir, 'x.onnx')), 'a failed export leaves no file');
});

test('doctor names the backend and, where native runs, checks it against the cpu backend', () => {
  const r = run('doctor', '--json');
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  assert.ok(['native', 'wasm'].includes(d.backend));
  if (d.native.loaded) {
    assert.match(d.native.info.onednn, /^\d+\.\d+/);
    assert.match(d.native.info.blas, /OpenBLAS/);
    assert.ok(d.selfCheck.ok, `self-check ${d.selfCheck.maxRelativeDifference}`);
    // idle OpenMP threads sleep: slimtrain asks for it, or the environment chose
    assert.match(d.openMpWait.policy, /OMP_WAIT_POLICY=PASSIVE/);
    const chosen = JSON.parse(runWith({ OMP_WAIT_POLICY: 'ACTIVE' }, 'doctor', '--json').stdout);
    assert.deepEqual(chosen.openMpWait, { policy: 'OMP_WAIT_POLICY=ACTIVE', from: 'environment' });
  } else {
    assert.ok(d.native.error.length > 0);
  }
});

test('bench measures TensorFlow.js and ONNX Runtime at batch 1 and 64 and the file sizes, two models side by side', () => {
  const r = run('bench', 'lenet5', '--vs', 'mlp', '--repeats', '2', '--json');
  assert.equal(r.code, 0, r.stderr);
  const { results } = JSON.parse(r.stdout);
  assert.equal(results.length, 2);
  for (const m of results) {
    assert.deepEqual(
      m.timings.map((t: { batch: number }) => t.batch),
      [1, 1, 64, 64],
    );
    assert.ok(
      m.timings.every((t: { medianMs: number; runtime: string }) => t.medianMs > 0 && /TensorFlow.js|ONNX Runtime/.test(t.runtime)),
    );
    assert.ok(m.sizes.onnxGzipBytes > 0 && m.sizes.onnxGzipBytes < m.sizes.onnxBytes);
    assert.ok(m.sizes.tfjsBytes > 4 * m.params, 'float32 weights plus model.json');
  }
  assert.equal(results[0].macs, 416520);
});

test('SIGINT: train finishes the step, writes a checkpoint, exits 130; --resume ends where a straight run ends', async () => {
  const { spawn } = await import('node:child_process');
  const base = mkdtempSync(join(tmpdir(), 'slimtrain-signal-'));
  const args = ['train', '--model', 'mlp', '--data', 'mnist', '--epochs', '3', '--subset', '12000', '--json'];
  const straight = run(...args, '--out', join(base, 'straight'));
  assert.equal(straight.code, 0, straight.stderr);
  const out = join(base, 'interrupted');
  const child = spawn(process.execPath, [cli, ...args, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  // interrupt once the first epoch's checkpoint exists, somewhere in epoch 2
  while (!existsSync(join(out, 'checkpoint', 'state.json'))) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /checkpoint written in .*interrupted\. Resume with the same command and --resume/);
  assert.match(stderr, /-- mnist: 12,000 for training, 10,000 for testing/, 'the data line counts the images --subset leaves');
  assert.ok(!existsSync(join(out, 'model.json')), 'an interrupted run saves no final model');
  const resumed = run(...args, '--out', out, '--resume');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /-- resuming from .*interrupted\/checkpoint: [12] epochs? done, going on (at the start of|in) epoch [23]/);
  const a = JSON.parse(straight.stdout);
  const b = JSON.parse(resumed.stdout);
  assert.deepEqual(
    b.history.map((h: { trainLoss: number }) => h.trainLoss),
    a.history.map((h: { trainLoss: number }) => h.trainLoss),
  );
  assert.equal(b.test.accuracy, a.test.accuracy);
  const other = run('train', '--model', 'mlp', '--data', 'mnist', '--epochs', '4', '--subset', '12000', '--out', out, '--resume');
  assert.equal(other.code, 1);
  assert.match(other.stderr, /made with other settings \(epochs: 3 then, 4 now\)/);
});

test('SIGINT: compress stops in its sparse stage with exit 130; --resume finishes with the results of a straight run', async () => {
  const { spawn } = await import('node:child_process');
  const base = mkdtempSync(join(tmpdir(), 'slimtrain-signal-'));
  const args = [
    'compress',
    '--model',
    'mlp',
    '--data',
    'mnist',
    '--epochs',
    '3',
    '--subset',
    '6000',
    '--optimizer',
    'hspg',
    '--lambda',
    '0.5',
    '--epsilon',
    '0.3',
    '--baseline',
    '--no-speed',
    '--json',
  ];
  const straight = run(...args);
  assert.equal(straight.code, 0, straight.stderr);
  const out = join(base, 'interrupted');
  const child = spawn(process.execPath, [cli, ...args, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  while (!existsSync(join(out, 'checkpoint', 'state.json'))) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /checkpoint written in .*interrupted\. Resume with the same command and --resume/);
  assert.ok(!existsSync(join(out, 'slim')) && !existsSync(join(out, 'metrics.json')), 'an interrupted run writes no results');
  const resumed = run(...args, '--out', out, '--resume');
  assert.equal(resumed.code, 0, resumed.stderr);
  const a = JSON.parse(straight.stdout);
  const b = JSON.parse(resumed.stdout);
  const figures = (r: { history: { trainLoss: number; groupSparsity: number }[]; slim: unknown; baseline: { accuracy: number } }) => [
    r.history.map((h) => [h.trainLoss, h.groupSparsity]),
    r.slim,
    r.baseline.accuracy,
  ];
  assert.deepEqual(figures(b), figures(a));
  assert.ok(b.sparse.zeroGroups > 0);
  assert.ok(existsSync(join(out, 'slim', 'model.json')));
});

test('an output folder that holds files is refused unless --overwrite; an unwritable one is a clear error; neither gets files', () => {
  const base = mkdtempSync(join(tmpdir(), 'slimtrain-out-'));
  const args = ['train', '--model', 'mlp', '--data', 'mnist', '--epochs', '1', '--subset', '100', '--quiet'];
  const out = join(base, 'run');
  assert.equal(run(...args, '--out', out).code, 0);
  const before = readFileSync(join(out, 'weights.bin'));
  const again = run(...args, '--out', out, '--seed', '5');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /output folder .*run already holds .*; choose another --out, or pass --overwrite/);
  assert.deepEqual(readFileSync(join(out, 'weights.bin')), before, 'the refused run wrote nothing');
  assert.equal(run(...args, '--out', out, '--seed', '5', '--overwrite').code, 0);
  assert.notDeepEqual(readFileSync(join(out, 'weights.bin')), before);
  writeFileSync(join(base, 'a-file'), 'x');
  const unwritable = run(...args, '--out', join(base, 'a-file', 'run'));
  assert.equal(unwritable.code, 1);
  assert.match(unwritable.stderr, /cannot write to output folder .*a-file\/run/);
});
