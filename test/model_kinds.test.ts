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
import { checkOnnx } from '../src/export/onnx_check.js';
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
  const compress = run(
    'compress',
    '--from',
    path,
    '--data',
    'mnist',
    '--epochs',
    '1',
    '--subset',
    '256',
    '--no-speed',
    '--json',
    '--quiet',
  );
  assert.equal(compress.code, 0, compress.stderr);
  assert.ok(JSON.parse(compress.stdout).slim.params > 0);
  slim.model.dispose();
  model.dispose();
});
