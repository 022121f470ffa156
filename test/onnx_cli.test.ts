// The ONNX entrance as a PyTorch user meets it on the command line: an exported
// model and a folder of PNG images in, a slim ONNX file out that keeps the original
// input name and NCHW layout; and the clear errors for a model whose normalisation
// is not given, a corrupt image, an empty class folder and an unsupported operator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { runWith } from './helpers/cli.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'onnx');
const cache = mkdtempSync(join(tmpdir(), 'slimtrain-cache-'));
const slimtrain = (...args: string[]) => runWith({ XDG_CACHE_HOME: cache }, ...args);

/** DIR/class-<k>/<i>.png: `perClass` seeded noise images of 32x32 for each of `classes` classes */
async function noiseFolder(classes: number, perClass: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-onnx-images-'));
  for (let k = 0; k < classes; k++) {
    mkdirSync(join(dir, `class-${k}`));
    for (let i = 0; i < perClass; i++) {
      const noise = { type: 'gaussian' as const, mean: 40 + 20 * k, sigma: 30 };
      await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 0, g: 0, b: 0 }, noise } })
        .png()
        .toFile(join(dir, `class-${k}`, `${i}.png`));
    }
  }
  return dir;
}

test('compress --from model.onnx --data FOLDER writes a slim ONNX file with the original input name and NCHW layout', async () => {
  const data = await noiseFolder(10, 4);
  writeFileSync(join(data, 'class-3', 'broken.png'), 'not a png');
  const out = join(mkdtempSync(join(tmpdir(), 'slimtrain-onnx-out-')), 'run');
  const args = ['compress', '--from', join(FIXTURES, 'resnet.onnx'), '--data', data, '--val-split', '0.25', '--epochs', '1'];
  const opts = ['--optimizer', 'dhspg', '--target-sparsity', '0.5', '--batch-size', '8', '--no-speed', '--out', out];

  const unnormalised = slimtrain(...args, ...opts);
  assert.equal(unnormalised.code, 1, unnormalised.stderr);
  assert.match(unnormalised.stderr, /resnet\.onnx was trained elsewhere: .*--normalize none .*--mean M --std S/);

  const r = slimtrain(...args, '--normalize', 'none', ...opts, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /10 classes, 30 for training, 10 for testing .*skipped 1 unreadable image: .*broken\.png/);
  const result = JSON.parse(r.stdout) as { ratios: { macs: number }; out: { onnx: string } };
  assert.ok(result.ratios.macs > 1.2, `MACs ratio ${result.ratios.macs}`);

  const session = await ort.InferenceSession.create(readFileSync(join(out, 'slim.onnx')));
  assert.deepEqual(session.inputNames, ['image']);
  assert.deepEqual(session.outputNames, ['logits']);
  const x = new ort.Tensor('float32', new Float32Array(2 * 3 * 32 * 32).fill(0.5), [2, 3, 32, 32]);
  const y = await session.run({ image: x });
  assert.deepEqual(y.logits.dims, [2, 10]);
  await session.release();

  // the saved slim model remembers the interface: exporting it again keeps it
  const again = join(out, 'again.onnx');
  const e = slimtrain('export', join(out, 'slim'), '--onnx', again);
  assert.equal(e.code, 0, e.stderr);
  const reloaded = await ort.InferenceSession.create(readFileSync(again));
  assert.deepEqual(reloaded.inputNames, ['image']);
  await reloaded.release();

  // eval on the same folder scores the held-out split, with the normalisation the run saved
  const ev = slimtrain('eval', '--model', join(out, 'slim'), '--data', data, '--val-split', '0.25', '--json');
  assert.equal(ev.code, 0, ev.stderr);
  assert.equal((JSON.parse(ev.stdout) as { count: number }).count, 10);
});

test('an empty class folder and an unsupported ONNX operator stop compress with a clear error and no output', async () => {
  const data = await noiseFolder(3, 2);
  mkdirSync(join(data, 'empty-class'));
  const out = join(mkdtempSync(join(tmpdir(), 'slimtrain-onnx-out-')), 'run');
  const empty = slimtrain('compress', '--model', 'lenet5', '--data', data, '--epochs', '1', '--out', out);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /class folder .*empty-class has no images \(\.jpg, \.jpeg, \.png, \.webp\); add some or remove the folder/);
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'files were written');

  // a ResNet whose first ReLU is an operator slimtrain does not import
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(readFileSync(join(FIXTURES, 'resnet.onnx')));
  model.graph!.node!.find((n) => n.opType === 'Relu')!.opType = 'LpNormalization';
  const file = join(mkdtempSync(join(tmpdir(), 'slimtrain-onnx-op-')), 'lpnorm.onnx');
  writeFileSync(file, onnx.ModelProto.encode(model).finish());
  rmSync(join(data, 'empty-class'), { recursive: true });
  const unsupported = slimtrain('compress', '--from', file, '--data', data, '--normalize', 'none', '--out', out);
  assert.equal(unsupported.code, 1);
  assert.match(unsupported.stderr, /lpnorm\.onnx: node '[^']*' \(LpNormalization\): operator LpNormalization is not supported/);
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'files were written');

  const imported = slimtrain('import', file, '--out', out);
  assert.equal(imported.code, 1);
  assert.match(imported.stderr, /operator LpNormalization is not supported/);
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'files were written');
});
