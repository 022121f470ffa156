// Bad input, as a user gives it on the command line: each case exits non-zero with a
// message that names the file, layer or flag and what to do, and leaves no files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { encodeCifar, encodeIdx } from '../src/data/index.js';
import { saveModel } from '../src/io/model_files.js';
import { buildZooModel } from '../src/models/zoo.js';
import { runWith } from './helpers/cli.js';

await initEngine({ backend: 'cpu' });
const base = mkdtempSync(join(tmpdir(), 'slimtrain-bad-'));

/** a folder holding a copy of the valid lenet5 files, changed by `damage` */
async function modelFolder(name: string, damage: (dir: string) => void = () => {}): Promise<string> {
  const dir = join(base, name);
  cpSync(join(base, 'valid'), dir, { recursive: true });
  damage(dir);
  return join(dir, 'model.json');
}

await saveModel(buildZooModel('lenet5', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 }), join(base, 'valid'));
await saveModel(buildZooModel('lenet5', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 }), join(base, 'colour'));
await saveModel(buildZooModel('lenet5', { inputShape: [28, 28, 1], numClasses: 7, seed: 1 }), join(base, 'seven'));
{
  const input = tfl.input({ shape: [28, 28, 1] });
  let y = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input) as tfl.SymbolicTensor;
  y = tfl.layers.gaussianNoise({ stddev: 0.1, name: 'odd' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.flatten({ name: 'flat' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.dense({ units: 10, name: 'out' }).apply(y) as tfl.SymbolicTensor;
  await saveModel(tfl.model({ inputs: input, outputs: y }), join(base, 'noise'));
}
{
  // as Keras writes a DeepLab backbone: TensorFlow.js builds the layer and computes without the dilation
  const input = tfl.input({ shape: [28, 28, 1] });
  let y = tfl.layers.depthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: 'same', name: 'dw' }).apply(input) as tfl.SymbolicTensor;
  y = tfl.layers.flatten({ name: 'flat' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.dense({ units: 10, name: 'out' }).apply(y) as tfl.SymbolicTensor;
  await saveModel(tfl.model({ inputs: input, outputs: y }), join(base, 'dilated'));
}

// data folders for $SLIMTRAIN_DATA: a Fashion-MNIST whose training images stop early,
// and a CIFAR-10 whose first batch is cut short and whose test batch has a bad label
const idxData = join(base, 'data-idx');
mkdirSync(join(idxData, 'fashion-mnist'), { recursive: true });
const images = (n: number) => encodeIdx([n, 28, 28], new Uint8Array(n * 784));
const labels = (n: number) => encodeIdx([n], new Uint8Array(n));
writeFileSync(join(idxData, 'fashion-mnist', 'train-images-idx3-ubyte'), images(10).subarray(0, 16 + 5 * 784));
writeFileSync(join(idxData, 'fashion-mnist', 'train-labels-idx1-ubyte'), labels(10));
writeFileSync(join(idxData, 'fashion-mnist', 't10k-images-idx3-ubyte'), images(10));
writeFileSync(join(idxData, 'fashion-mnist', 't10k-labels-idx1-ubyte'), labels(10));
const cifarData = join(base, 'data-cifar');
const cifarDir = join(cifarData, 'cifar10', 'cifar-10-batches-bin');
mkdirSync(cifarDir, { recursive: true });
const cifarBatch = (n: number, label = 3) => encodeCifar(new Uint8Array(n * 3072), new Uint8Array(n).fill(label), 'cifar10');
writeFileSync(join(cifarDir, 'data_batch_1.bin'), cifarBatch(4).subarray(0, 3 * 3073 + 100));
for (const b of [2, 3, 4, 5]) writeFileSync(join(cifarDir, `data_batch_${b}.bin`), cifarBatch(4));
writeFileSync(join(cifarDir, 'test_batch.bin'), cifarBatch(4, 12));

const badModel = {
  'not JSON': await modelFolder('not-json', (d) => writeFileSync(join(d, 'model.json'), 'this is not json')),
  truncated: await modelFolder('truncated', (d) =>
    writeFileSync(join(d, 'model.json'), readFileSync(join(d, 'model.json')).subarray(0, 700)),
  ),
  'no weights': await modelFolder('no-weights', (d) => writeFileSync(join(d, 'weights.bin'), '')),
  'short weights': await modelFolder('short', (d) =>
    writeFileSync(join(d, 'weights.bin'), readFileSync(join(d, 'weights.bin')).subarray(0, 1000)),
  ),
  'missing weights': await modelFolder('missing-weights', (d) => rmSync(join(d, 'weights.bin'))),
};
interface Case {
  what: string;
  args: string[];
  code: number;
  message: RegExp;
  env?: Record<string, string>;
}

const compress = (...args: string[]) => ['compress', '--data', 'mnist', '--epochs', '1', '--subset', '64', '--no-speed', ...args];
// a Keras HDF5 file and a Keras 3 .keras archive, as their first bytes say
writeFileSync(join(base, 'model.h5'), Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]));
writeFileSync(join(base, 'model.keras'), Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(64)]));
const cases: Case[] = [
  {
    what: 'an ONNX file with free height and width and no --input-shape',
    args: compress(
      '--from',
      join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'onnx', 'resnet_free_size.onnx'),
      '--normalize',
      'none',
    ),
    code: 1,
    message: /resnet_free_size\.onnx: input 'image' has free sizes \[\?, 3, \?, \?\]; give the size to work at with --input-shape/,
  },
  {
    what: '--input-shape that does not fit the file',
    args: compress(
      '--from',
      join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'onnx', 'resnet_free_size.onnx'),
      '--normalize',
      'none',
      '--input-shape',
      '1x28x28',
    ),
    code: 1,
    message: /input 'image' has the shape \[\?, 3, \?, \?\]; --input-shape 1x28x28 does not fit it/,
  },
  {
    what: 'a Keras HDF5 file',
    args: compress('--from', join(base, 'model.h5')),
    code: 1,
    message: /model\.h5 is a Keras HDF5 file \(\.h5\): convert it first with `tensorflowjs_converter --input_format keras/,
  },
  {
    what: 'a Keras 3 .keras file',
    args: compress('--from', join(base, 'model.keras')),
    code: 1,
    message: /model\.keras is a zip archive, as a Keras 3 \.keras file is: .*export it to ONNX/,
  },
  {
    what: 'model.json that is not JSON',
    args: compress('--from', badModel['not JSON']),
    code: 1,
    message: /not-json\/model\.json is not valid JSON \(.*\); is it a TensorFlow\.js model\.json\?/,
  },
  {
    what: 'truncated model.json',
    args: compress('--from', badModel.truncated),
    code: 1,
    message: /truncated\/model\.json is not valid JSON \(.*\)/,
  },
  {
    what: 'missing weights file',
    args: compress('--from', badModel['missing weights']),
    code: 1,
    message: /cannot read weights file .*missing-weights\/weights\.bin named by .*missing-weights\/model\.json: no such file/,
  },
  {
    what: 'empty weights file',
    args: compress('--from', badModel['no weights']),
    code: 1,
    message:
      /weights of .*no-weights\/model\.json hold 0 bytes but its manifest needs 246824; the weights file is truncated or belongs to another model/,
  },
  {
    what: 'short weights file',
    args: compress('--from', badModel['short weights']),
    code: 1,
    message: /weights of .*short\/model\.json hold 1000 bytes but its manifest needs 246824/,
  },
  {
    what: 'a layer slimtrain cannot analyse',
    args: compress('--from', join(base, 'noise', 'model.json')),
    code: 1,
    message: /layer 'odd' has class GaussianNoise, which slimtrain cannot analyse yet\. Mark it unprunable with --freeze odd/,
  },
  {
    what: 'a dilated DepthwiseConv2D, which TensorFlow.js would run without its dilation',
    args: compress('--from', join(base, 'dilated', 'model.json')),
    code: 1,
    message:
      /dilated\/model\.json: layer dw \(DepthwiseConv2D\) has dilation_rate \[2,2\], which TensorFlow\.js ignores: .*export the model to ONNX/,
  },
  {
    what: 'images that do not fit the model',
    args: compress('--from', join(base, 'colour', 'model.json')),
    code: 1,
    message:
      /data set mnist has images of shape \[28, 28, 1\] but model '.*' takes inputs of shape \[32, 32, 3\]; use a data set of that shape, or a zoo model/,
  },
  {
    what: 'classes that do not fit the model',
    args: ['train', '--model', join(base, 'seven', 'model.json'), '--data', 'mnist', '--epochs', '1', '--subset', '64'],
    code: 1,
    message: /data set mnist has 10 classes but model '.*' outputs 7; use a data set with 7 classes/,
  },
  {
    what: 'truncated IDX file',
    args: compress('--model', 'lenet5', '--data', 'fashion-mnist'),
    env: { SLIMTRAIN_DATA: idxData },
    code: 1,
    message: /fashion-mnist\/train-images-idx3-ubyte: truncated: header shape \[10, 28, 28\] needs 7840 data bytes, file has 3920/,
  },
  {
    what: 'truncated CIFAR batch',
    args: compress('--model', 'lenet5', '--data', 'cifar10'),
    env: { SLIMTRAIN_DATA: cifarData },
    code: 1,
    message: /data_batch_1\.bin: .*3073/,
  },
  {
    what: 'unknown flag',
    args: compress('--model', 'lenet5', '--lamda', '0.1'),
    code: 2,
    message: /unknown option '--lamda'\s+\(Did you mean --lambda\?\)/,
  },
  {
    what: 'negative learning rate',
    args: compress('--model', 'lenet5', '--lr', '-0.1'),
    code: 2,
    message: /option '--lr <rate>' argument '-0\.1' is invalid\. expected a positive number/,
  },
  {
    what: 'epsilon of 1',
    args: compress('--model', 'lenet5', '--epsilon', '1'),
    code: 2,
    message: /option '--epsilon <e>' argument '1' is invalid\. expected a number in \[0, 1\)/,
  },
  {
    what: 'negative epsilon',
    args: compress('--model', 'lenet5', '--epsilon', '-0.2'),
    code: 2,
    message: /'--epsilon <e>' argument '-0\.2' is invalid\. expected a number in \[0, 1\)/,
  },
  {
    what: 'target sparsity of 1',
    args: compress('--model', 'lenet5', '--optimizer', 'dhspg', '--target-sparsity', '1'),
    code: 2,
    message: /'--target-sparsity <s>' argument '1' is invalid\. expected a number in \[0, 1\)/,
  },
  {
    what: 'negative target sparsity',
    args: compress('--model', 'lenet5', '--optimizer', 'dhspg', '--target-sparsity', '-0.5'),
    code: 2,
    message: /'--target-sparsity <s>' argument '-0\.5' is invalid/,
  },
  {
    what: 'negative lambda',
    args: compress('--model', 'lenet5', '--lambda', '-1'),
    code: 2,
    message: /'--lambda <l>' argument '-1' is invalid\. expected a non-negative number/,
  },
  {
    what: 'zero epochs',
    args: compress('--model', 'lenet5', '--epochs', '0'),
    code: 2,
    message: /'--epochs <n>' argument '0' is invalid\. expected a positive integer/,
  },
  {
    what: 'a word for a number',
    args: compress('--model', 'lenet5', '--batch-size', 'lots'),
    code: 2,
    message: /'--batch-size <n>' argument 'lots' is invalid\. expected a positive integer/,
  },
  {
    what: 'target MACs ratio below 1',
    args: compress('--model', 'lenet5', '--optimizer', 'dhspg', '--target-macs-ratio', '0.5'),
    code: 2,
    message: /--target-macs-ratio must be above 1, got 0\.5/,
  },
  {
    what: 'zero pruning periods',
    args: compress('--model', 'lenet5', '--optimizer', 'dhspg', '--target-sparsity', '0.5', '--prune-periods', '0'),
    code: 2,
    message: /'--prune-periods <n>' argument '0' is invalid\. expected a positive integer/,
  },
  {
    what: 'unknown allocation',
    args: compress('--model', 'lenet5', '--optimizer', 'dhspg', '--target-sparsity', '0.5', '--allocation', 'even'),
    code: 2,
    message: /argument 'even' is invalid\. Allowed choices are global, uniform/,
  },
  {
    what: 'a target beyond what the layer floors allow',
    args: compress('--model', 'lenet5', '--optimizer', 'hspg', '--target-macs-ratio', '40'),
    code: 1,
    message:
      /40x fewer MACs cannot be met on lenet5: removing every group the layer floors allow .* gives \d+\.\d\dx; ask for at most that/,
  },
  {
    what: 'dhspg without a target',
    args: compress('--model', 'lenet5', '--optimizer', 'dhspg'),
    code: 2,
    message: /--optimizer dhspg needs --target-sparsity, --target-macs-ratio or --target-speedup/,
  },
  {
    what: '--resume with nothing to resume',
    args: compress('--model', 'lenet5', '--resume'),
    code: 1,
    message: /no checkpoint in .*checkpoint: nothing to resume/,
  },
  {
    what: 'a model file that does not exist',
    args: compress('--from', join(base, 'nowhere', 'model.json')),
    code: 1,
    message: /cannot read model file .*nowhere\/model\.json: no such file$/m,
  },
];

for (const [i, c] of cases.entries()) {
  test(`bad input: ${c.what} exits ${c.code}, says what is wrong and what to do, and writes nothing`, () => {
    const out = join(base, `out-${i}`);
    // --resume needs its folder; the others must not create theirs
    if (c.args.includes('--resume')) mkdirSync(out);
    const r = runWith(c.env ?? {}, ...c.args, '--out', out);
    assert.equal(r.code, c.code, `exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, c.message);
    assert.ok(
      !existsSync(out) || readdirSync(out).length === 0,
      `left ${existsSync(out) ? readdirSync(out).join(', ') : ''} in the output folder`,
    );
  });
}
