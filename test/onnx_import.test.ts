// ONNX import of models PyTorch exported (test/fixtures/onnx, made by
// scripts/onnx_fixtures.py): each imports, reproduces PyTorch's own output for the
// stored probe, passes its ONNX Runtime self-check, and slims with a seeded half of
// its prunable groups removed into an ONNX file that keeps the original interface
// (input name, NCHW) and matches the sparse model in ONNX Runtime. Files slimtrain
// cannot import exactly are refused with the node and what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { initEngine } from '../src/engine/index.js';
import { exportOnnx } from '../src/export/onnx.js';
import { checkOnnx } from '../src/onnx/check.js';
import { zeroInvariantGroups } from '../src/graph/groups.js';
import { importOnnx, OnnxImportError } from '../src/import/onnx_import.js';
import { fromOnnxLayout, toOnnxLayout } from '../src/onnx/interface.js';
import { Rng } from '../src/util/random.js';
import { slimHalf } from './helpers/groups.js';

await initEngine();

const DIR = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'onnx');
interface Fixture {
  name: string;
  description: string;
  opset: number;
  input: number[];
  output: number[];
  /** prunable groups the file must have, where the fixture says */
  prunable?: number;
  /** how the input is held: 'nchw' (default), or 'flat' for an NHWC input TensorFlow.js takes as it is */
  layout?: 'nchw' | 'flat';
}
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as {
  models: Fixture[];
  free: Fixture[];
  /** files slimtrain cannot import exactly, each with (a regular expression of) what its error says */
  refused: (Fixture & { error: string })[];
};
const floats = (file: string) => {
  const b = readFileSync(join(DIR, file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

for (const f of manifest.models) {
  test(`ONNX import: ${f.name} (${f.description}, opset ${f.opset}) computes what PyTorch computed and slims into a drop-in ONNX file`, async () => {
    const imported = await importOnnx(join(DIR, `${f.name}.onnx`));
    const { model } = imported;
    assert.ok(imported.check.maxAbsDiff <= imported.check.bound);
    assert.equal(imported.trainingMode, f.name.endsWith('_train'));
    assert.deepEqual(imported.interface.inputs[0], { name: 'image', shape: [-1, ...f.input.slice(1)], layout: f.layout ?? 'nchw' });

    const x = fromOnnxLayout(floats(`${f.name}.input.bin`), f.input, imported.interface.inputs[0]);
    const y = model.predict(x) as tf.Tensor;
    const got = toOnnxLayout(y, imported.interface.outputs[0]);
    const want = floats(`${f.name}.output.bin`);
    tf.dispose([x, y]);
    assert.equal(got.length, want.length);
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    want.forEach((v, i) => assert.ok(Math.abs(v - got[i]) <= 1e-4 * scale, `output ${i}: PyTorch ${v}, slimtrain ${got[i]}`));

    const partition = zeroInvariantGroups(model);
    const prunable = partition.groups.filter((g) => g.prunable);
    assert.ok(prunable.length > 0, 'no prunable groups found');
    if (f.prunable !== undefined) assert.equal(prunable.length, f.prunable);
    const slim = await slimHalf(model, partition, new Rng(3));
    assert.ok(slim.after.macs < slim.before.macs);
    const bytes = exportOnnx(slim.model, { interface: imported.interface });
    await checkOnnx(slim.model, bytes, { interface: imported.interface });
    // the slim file takes what the original took: the same input name, NCHW, any batch size
    const session = await ort.InferenceSession.create(bytes);
    assert.deepEqual(session.inputNames, ['image']);
    assert.deepEqual(session.outputNames, ['logits']);
    const out = await session.run({ image: new ort.Tensor('float32', floats(`${f.name}.input.bin`), f.input) });
    assert.deepEqual(out.logits.dims, f.output);
    await session.release();
    slim.model.dispose();
    model.dispose();
  });
}

for (const f of manifest.free) {
  test(`ONNX import: ${f.name} (${f.description}) is refused without a size, imports at --input-shape, and slims at that size`, async () => {
    const file = join(DIR, `${f.name}.onnx`);
    await assert.rejects(importOnnx(file), (e: Error) => {
      assert.ok(e instanceof OnnxImportError);
      assert.match(
        e.message,
        /input 'image' has free sizes \[\?, 3, \?, \?\]; give the size to work at with --input-shape .*e\.g\. --input-shape 3x224x224/,
      );
      return true;
    });
    const imported = await importOnnx(file, { inputShape: f.input.slice(1) });
    const { model } = imported;
    // written back at the size given: padding and cropping are those of that size
    assert.deepEqual(imported.interface.inputs[0].shape, [-1, ...f.input.slice(1)]);
    const x = fromOnnxLayout(floats(`${f.name}.input.bin`), f.input, imported.interface.inputs[0]);
    const got = toOnnxLayout(model.predict(x) as tf.Tensor, imported.interface.outputs[0]);
    const want = floats(`${f.name}.output.bin`);
    want.forEach((v, i) =>
      assert.ok(Math.abs(v - got[i]) <= 1e-4 * Math.max(1, Math.abs(v)), `output ${i}: PyTorch ${v}, slimtrain ${got[i]}`),
    );
    tf.dispose(x);

    const partition = zeroInvariantGroups(model);
    const slim = await slimHalf(model, partition, new Rng(4));
    const session = await ort.InferenceSession.create(exportOnnx(slim.model, { interface: imported.interface }));
    const out = await session.run({ image: new ort.Tensor('float32', floats(`${f.name}.input.bin`), f.input) });
    assert.deepEqual(out.logits.dims, f.output);
    await session.release();
    slim.model.dispose();
    model.dispose();
  });
}

for (const f of manifest.refused) {
  test(`ONNX import refuses ${f.name}, naming the file, the node, the operator and what is supported, and imports nothing`, async () => {
    await assert.rejects(importOnnx(join(DIR, `${f.name}.onnx`)), (e: Error) => {
      assert.ok(e instanceof OnnxImportError, e.message);
      assert.match(e.message, new RegExp(`${f.name}\\.onnx: node '[^']+' \\(\\w+\\): `));
      assert.match(e.message, new RegExp(f.error));
      assert.doesNotMatch(e.message, /TensorFlow\.js could not build/);
      return true;
    });
  });
}

test('ONNX import says what a quantized or half-precision file is and what to do, and names a strided slice of a map as a Focus layer', async () => {
  const { onnx } = onnxProto;
  const resnet = () => onnx.ModelProto.decode(readFileSync(join(DIR, 'resnet.onnx')));
  const refuses = async (model: onnxProto.onnx.ModelProto, says: RegExp) => {
    const file = join(tmpdir(), `slimtrain-refused-${process.pid}.onnx`);
    writeFileSync(file, onnx.ModelProto.encode(model).finish());
    await assert.rejects(importOnnx(file), (e: Error) => {
      assert.ok(e instanceof OnnxImportError, e.message);
      assert.match(e.message, says);
      return true;
    });
  };
  const { INT8, FLOAT16 } = onnx.TensorProto.DataType;
  for (const [type, bytes, says] of [
    [
      INT8,
      1,
      /tensor '[^']+' has data type INT8; the file is quantized \(int8 weights, zero points\): .*export the model before quantizing it/,
    ],
    [FLOAT16, 2, /tensor '[^']+' has data type FLOAT16; the file holds FLOAT16 weights: .*export the model in float32/],
  ] as const) {
    const model = resnet();
    const weight = model.graph!.initializer!.find((t) => t.dims!.length === 4)!;
    const count = weight.dims!.reduce((n: number, d) => n * Number(d), 1);
    Object.assign(weight, { dataType: type, rawData: new Uint8Array(count * bytes) });
    await refuses(model, says);
  }
  // every other row of the image, as YOLOv5's Focus layer takes it
  const model = resnet();
  const graph = model.graph!;
  const first = graph.node!.find((n) => n.input!.includes('image'))!;
  first.input = first.input!.map((i) => (i === 'image' ? 'rows' : i));
  for (const [name, value] of [
    ['starts', 0],
    ['ends', 32],
    ['axes', 2],
    ['steps', 2],
  ] as const)
    graph.initializer!.push({ name, dims: [1], dataType: onnx.TensorProto.DataType.INT64, int64Data: [value] });
  graph.node!.unshift({ opType: 'Slice', name: 'focus', input: ['image', 'starts', 'ends', 'axes', 'steps'], output: ['rows'] });
  await refuses(model, /node 'focus' \(Slice\): slicing along axis 2 with step 2 \(a Focus layer's space-to-depth\) is not supported/);
});

test('ONNX import refuses an operator it does not import, naming the node, the operator and what it imports', async () => {
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(readFileSync(join(DIR, 'resnet.onnx')));
  const relu = model.graph!.node!.find((n) => n.opType === 'Relu')!;
  relu.opType = 'LpNormalization';
  const file = join(tmpdir(), `slimtrain-lpnorm-${process.pid}.onnx`);
  writeFileSync(file, onnx.ModelProto.encode(model).finish());
  await assert.rejects(importOnnx(file), (e: Error) => {
    assert.ok(e instanceof OnnxImportError);
    assert.match(e.message, /lpnorm-\d+\.onnx: node '[^']*' \(LpNormalization\): operator LpNormalization is not supported/);
    assert.match(e.message, /slimtrain imports Add, AveragePool, BatchNormalization/);
    return true;
  });
  // several: all named at once, each with its count, first node and hint, before any complaint about shapes
  const relus = model.graph!.node!.filter((n) => n.opType === 'Relu');
  relus[0].opType = 'If';
  relus[1].opType = 'If';
  model.graph!.input![0].type!.tensorType!.shape!.dim![2] = { dimParam: 'height' };
  writeFileSync(file, onnx.ModelProto.encode(model).finish());
  await assert.rejects(importOnnx(file), (e: Error) => {
    assert.ok(e instanceof OnnxImportError);
    assert.match(
      e.message,
      /lpnorm-\d+\.onnx uses 2 operators slimtrain does not import: LpNormalization \(node '[^']*'\): Replace it in the model or export without it; If \(2 nodes, first '[^']*'\): control flow is not imported/,
    );
    return true;
  });
});

test('ONNX import of a file exported with a fixed batch size (torch.onnx.export without dynamic_axes) checks at that size; exported back, it takes any batch size', async () => {
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(readFileSync(join(DIR, 'squeezenet.onnx')));
  for (const v of [...model.graph!.input!, ...model.graph!.output!]) v.type!.tensorType!.shape!.dim![0] = { dimValue: 1 };
  const path = join(tmpdir(), `slimtrain-fixed-batch-${process.pid}.onnx`);
  writeFileSync(path, onnx.ModelProto.encode(model).finish());
  const imported = await importOnnx(path);
  assert.equal(imported.check.samples, 1);
  assert.deepEqual(imported.interface.inputs[0].shape, [1, 3, 35, 35]);
  const bytes = exportOnnx(imported.model, { interface: imported.interface });
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ image: new ort.Tensor('float32', floats('squeezenet.input.bin'), [2, 3, 35, 35]) });
  assert.deepEqual(out.logits.dims, [2, 10]);
  await session.release();
  imported.model.dispose();
});

test('ONNX import refuses files that are not ONNX models or use an opset outside 7-21, and reads a file stamped with opset 21', async () => {
  const dir = tmpdir();
  const junk = join(dir, `slimtrain-junk-${process.pid}.onnx`);
  writeFileSync(junk, 'this is not a protobuf');
  await assert.rejects(importOnnx(junk), /is not an ONNX model .*torch\.onnx\.export|holds no ONNX graph/);
  await assert.rejects(importOnnx(join(dir, 'no-such-file.onnx')), /cannot read .*no-such-file\.onnx/);

  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(readFileSync(join(DIR, 'resnet.onnx')));
  model.opsetImport = [{ domain: '', version: 6 }];
  const old = join(dir, `slimtrain-opset6-${process.pid}.onnx`);
  writeFileSync(old, onnx.ModelProto.encode(model).finish());
  await assert.rejects(importOnnx(old), /uses ONNX opset 6; slimtrain reads opsets 7-21: convert it with onnx\.version_converter/);
  model.opsetImport = [{ domain: '', version: 22 }];
  writeFileSync(old, onnx.ModelProto.encode(model).finish());
  await assert.rejects(importOnnx(old), /uses ONNX opset 22; slimtrain reads opsets 7-21/);
  // the operators of this file read the same at opset 21 (ONNX Runtime checks them against that opset's schemas)
  model.opsetImport = [{ domain: '', version: 21 }];
  writeFileSync(old, onnx.ModelProto.encode(model).finish());
  const imported = await importOnnx(old);
  assert.equal(imported.opset, 21);
  imported.model.dispose();
});
