// The kinds of model users bring: tf.sequential() saved by model.save, and (to come)
// models nested as layers. Each must load, analyse, slim and export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { loadModel } from '../src/io/model_files.js';
import { zeroInvariantGroups } from '../src/graph/groups.js';
import { constructSlimModel } from '../src/slim/construct.js';
import { zeroOutGroups } from '../src/slim/zero.js';
import { exportOnnx } from '../src/export/onnx.js';
import { checkOnnx } from '../src/onnx/check.js';
import { run } from './helpers/cli.js';

await initEngine({ backend: 'cpu', announce: false });

/** Writes `model` as tf.Sequential().save('file://DIR') does in tfjs-node: model.json + weights.bin. */
async function saveAsTfjs(model: tfl.LayersModel, dir: string): Promise<string> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return join(dir, 'model.json');
}

/** `slimtrain compress --from path` for one short epoch on MNIST, as a user would run it; its JSON result */
function compressFrom(path: string): { slim: { params: number } } {
  const r = run('compress', '--from', path, '--data', 'mnist', '--epochs', '1', '--subset', '256', '--no-speed', '--json', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function sequentialCnn(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 8,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tfl.initializers.heNormal({ seed: 1 }),
      }),
      tfl.layers.batchNormalization(),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 12, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: 2 }) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 24, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: 3 }) }),
      tfl.layers.dense({ units: 10, kernelInitializer: tfl.initializers.heNormal({ seed: 4 }) }),
    ],
  });
}

test('a tf.sequential() model saved by model.save loads, analyses, slims to the same function and exports', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-sequential-'));
  const path = await saveAsTfjs(sequentialCnn(), dir);
  const { model } = await loadModel(path);
  const partition = zeroInvariantGroups(model);
  const prunable = partition.groups.filter((g) => g.prunable);
  // conv 8 + conv 12 + dense 24 (the output layer stays)
  assert.equal(prunable.length, 44);
  zeroOutGroups(
    model,
    prunable.filter((_, i) => i % 2 === 0),
  );
  const slim = await constructSlimModel(model, { partition });
  assert.equal(slim.removed.length, 22);
  assert.ok(slim.check.maxAbsDiff <= slim.check.bound);
  assert.equal(slim.after.macs, slim.before.macs - slim.predictedSavings.macs);
  const onnx = await checkOnnx(slim.model, exportOnnx(slim.model));
  assert.ok(onnx.maxAbsDiff <= onnx.bound);
  // and through the CLI, as a user would
  const analyze = run('analyze', path, '--quiet');
  assert.equal(analyze.code, 0, analyze.stderr);
  assert.match(analyze.stdout, /44 prunable/);
  assert.ok(compressFrom(path).slim.params > 0);
  const exported = run('export', path, '--onnx', join(dir, 'sequential.onnx'), '--quiet');
  assert.equal(exported.code, 0, exported.stderr);
  slim.model.dispose();
  model.dispose();
});

/**
 * A backbone (functional, itself holding a Sequential block) nested under a head. An
 * inner ReLU shares its name with an outer one (weight names must stay unique: the
 * weights are named by layer, and TensorFlow.js refuses duplicates).
 */
function transferModel(): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.heNormal({ seed });
  const block = tfl.sequential({
    name: 'block',
    layers: [
      tfl.layers.conv2d({
        inputShape: [12, 12, 6],
        filters: 6,
        kernelSize: 3,
        padding: 'same',
        name: 'block_conv',
        kernelInitializer: init(1),
      }),
      tfl.layers.batchNormalization({ name: 'bn' }),
      tfl.layers.reLU({ name: 'relu' }),
    ],
  });
  const bin = tfl.input({ shape: [28, 28, 1], name: 'backbone_input' });
  let b = tfl.layers
    .conv2d({ filters: 6, kernelSize: 5, strides: 2, name: 'conv', kernelInitializer: init(2) })
    .apply(bin) as tfl.SymbolicTensor;
  b = block.apply(b) as tfl.SymbolicTensor;
  const backbone = tfl.model({ inputs: bin, outputs: b, name: 'backbone' });
  const input = tfl.input({ shape: [28, 28, 1], name: 'image' });
  let y = backbone.apply(input) as tfl.SymbolicTensor;
  y = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.dense({ units: 16, name: 'head_dense', kernelInitializer: init(3) }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.reLU({ name: 'relu' }).apply(y) as tfl.SymbolicTensor;
  y = tfl.layers.dense({ units: 10, name: 'predictions', kernelInitializer: init(4) }).apply(y) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: y, name: 'transfer' });
}

test('a backbone nested under a new head (nested two deep, a clashing name) loads as one flat model computing the same, and compresses', async () => {
  const original = transferModel();
  // BN statistics away from their initial values, so that copying them matters
  const bn = (original.getLayer('backbone') as tfl.LayersModel).getLayer('block') as tfl.LayersModel;
  bn.getLayer('bn').setWeights(
    bn
      .getLayer('bn')
      .getWeights()
      .map((w, i) => tf.add(w, tf.scalar(0.1 * (i + 1)))),
  );
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-nested-'));
  const path = await saveAsTfjs(original, dir);
  const { model } = await loadModel(path);
  assert.ok(!model.layers.some((l) => l instanceof tfl.LayersModel), 'no layer of the loaded model is a model');
  assert.deepEqual(
    model.layers.map((l) => l.name),
    ['image', 'conv', 'block_conv', 'bn', 'backbone_block_relu', 'gap', 'head_dense', 'relu', 'predictions'],
  );
  const x = tf.randomNormal([3, 28, 28, 1], 0, 1, 'float32', 5);
  const diff = tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, original.predict(x) as tf.Tensor))).dataSync()[0];
  assert.ok(diff < 1e-5, `flat vs nested outputs differ by ${diff}`);
  const partition = zeroInvariantGroups(model);
  assert.equal(partition.groups.filter((g) => g.prunable).length, 6 + 6 + 16);
  const onnx = await checkOnnx(model, exportOnnx(model));
  assert.ok(onnx.maxAbsDiff <= onnx.bound);
  compressFrom(path);
  for (const args of [
    ['analyze', path],
    ['export', path, '--onnx', join(dir, 'transfer.onnx')],
  ]) {
    const r = run(...args, '--quiet');
    assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
  }
  tf.dispose(x);
  model.dispose();
  original.dispose();
});

test('a backbone applied twice is refused with the reason, not a raw error', async () => {
  const bin = tfl.input({ shape: [8] });
  const backbone = tfl.model({ inputs: bin, outputs: tfl.layers.dense({ units: 4 }).apply(bin) as tfl.SymbolicTensor, name: 'shared' });
  const a = tfl.input({ shape: [8] });
  const b = tfl.input({ shape: [8] });
  const joined = tfl.layers
    .add()
    .apply([backbone.apply(a) as tfl.SymbolicTensor, backbone.apply(b) as tfl.SymbolicTensor]) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: [a, b], outputs: tfl.layers.dense({ units: 2 }).apply(joined) as tfl.SymbolicTensor });
  const path = await saveAsTfjs(model, mkdtempSync(join(tmpdir(), 'slimtrain-shared-')));
  await assert.rejects(() => loadModel(path), /model shared, used as a layer, is applied 2 times; a shared backbone is not supported/);
});

test('a model with two inputs and two outputs: groups, exact slim model, ONNX export with input/input_1 and output/output_1', async () => {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const conv = (filters: number, seed: number) =>
    tfl.layers.conv2d({
      filters,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(seed),
      biasInitializer: init(seed + 50),
    });
  const a = tfl.input({ shape: [8, 8, 3], name: 'left' });
  const b = tfl.input({ shape: [8, 8, 3], name: 'right' });
  const joined = tfl.layers.add().apply([conv(4, 1).apply(a), conv(4, 2).apply(b)] as tfl.SymbolicTensor[]) as tfl.SymbolicTensor;
  const trunk = tfl.layers.globalAveragePooling2d({}).apply(conv(6, 3).apply(joined) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const classes = tfl.layers.dense({ units: 3, name: 'classes', kernelInitializer: init(4) }).apply(trunk) as tfl.SymbolicTensor;
  const box = tfl.layers.dense({ units: 4, name: 'box', kernelInitializer: init(5) }).apply(trunk) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: [a, b], outputs: [classes, box] });
  const partition = zeroInvariantGroups(model);
  const prunable = partition.groups.filter((g) => g.prunable);
  // the two 4-channel convs are tied by the add into 4 families; the 6-channel conv: 6
  assert.equal(prunable.length, 4 + 6);
  zeroOutGroups(
    model,
    prunable.filter((_, i) => i % 2 === 1),
  );
  const slim = await constructSlimModel(model, { partition });
  assert.ok(slim.check.maxAbsDiff <= slim.check.bound);
  assert.equal(slim.after.macs, slim.before.macs - slim.predictedSavings.macs);
  for (const m of [model, slim.model]) {
    const check = await checkOnnx(m, exportOnnx(m));
    assert.ok(check.maxAbsDiff <= check.bound);
  }
  slim.model.dispose();
  model.dispose();
});
