// Runs an ONNX model in ONNX Runtime (a runtime slimtrain did not write) on seeded
// inputs and compares its outputs with a TensorFlow.js model's: an exported model
// against its source, or an imported model against the file it came from.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { exportedInterface, onnxDims, toOnnxLayout, type OnnxInterface } from './interface.js';
import { OnnxExportError } from './builder.js';
import { createSession } from './runtime.js';

export interface OnnxCheck {
  maxAbsDiff: number;
  /** the bound it had to stay under: tolerance x max(1, max |TensorFlow.js output|) */
  bound: number;
  samples: number;
  runtime: string;
}

export interface OnnxCheckOptions {
  samples?: number;
  tolerance?: number;
  /** the ONNX model's names and layouts; default: exportOnnx's (input, output, ..., in TensorFlow.js's layout) */
  interface?: OnnxInterface;
}

/** Throws OnnxExportError when ONNX Runtime's outputs differ beyond float32 round-off. */
export async function checkOnnx(model: tfl.LayersModel, onnxBytes: Uint8Array, options: OnnxCheckOptions = {}): Promise<OnnxCheck> {
  const ort = await import('onnxruntime-node');
  const io = options.interface ?? exportedInterface(model);
  // a file exported with a fixed batch size takes only that
  const fixedBatch = io.inputs[0]?.shape[0];
  const samples = fixedBatch !== undefined && fixedBatch > 0 ? fixedBatch : (options.samples ?? 4);
  const xs = model.inputs.map((input, i) =>
    tf.randomNormal([samples, ...((input.shape as (number | null)[]).slice(1) as number[])], 0, 1, 'float32', 17 + i),
  );
  const predicted = tf.tidy(() => model.predict(xs.length === 1 ? xs[0] : xs)) as tf.Tensor | tf.Tensor[];
  const expected = (Array.isArray(predicted) ? predicted : [predicted]).map((t, k) => toOnnxLayout(t, io.outputs[k]));
  tf.dispose(predicted);
  const feeds = Object.fromEntries(
    xs.map((x, i) => [io.inputs[i].name, new ort.Tensor('float32', toOnnxLayout(x, io.inputs[i]), onnxDims(io.inputs[i], x.shape))]),
  );
  tf.dispose(xs);
  const session = await createSession(onnxBytes).catch((e: Error) => {
    throw new OnnxExportError(`ONNX Runtime refused the model (${e.message.split('\n')[0]})`);
  });
  try {
    const out = await session.run(feeds);
    let maxAbsDiff = 0;
    let maxAbs = 0;
    expected.forEach((values, k) => {
      const got = out[io.outputs[k].name]?.data as Float32Array | undefined;
      if (!got || got.length !== values.length) {
        throw new OnnxExportError(
          `ONNX Runtime gave ${got?.length ?? 0} values for output '${io.outputs[k].name}', TensorFlow.js ${values.length}`,
        );
      }
      values.forEach((v, i) => {
        maxAbsDiff = Math.max(maxAbsDiff, Number.isNaN(got[i] - v) ? Infinity : Math.abs(v - got[i]));
        maxAbs = Math.max(maxAbs, Math.abs(v));
      });
    });
    const bound = (options.tolerance ?? 1e-4) * Math.max(1, maxAbs);
    if (!(maxAbsDiff <= bound)) {
      throw new OnnxExportError(
        `ONNX Runtime's outputs differ from TensorFlow.js's by up to ${maxAbsDiff.toExponential(2)} (bound ${bound.toExponential(2)})`,
      );
    }
    return { maxAbsDiff, bound, samples, runtime: `onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim() };
  } finally {
    await session.release();
  }
}
