// Runs an exported ONNX model in ONNX Runtime (a runtime slimtrain did not write) on
// seeded inputs and compares its outputs with TensorFlow.js's.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { OnnxExportError } from './onnx.js';

export interface OnnxCheck {
  maxAbsDiff: number;
  /** the bound it had to stay under: tolerance x max(1, max |TensorFlow.js output|) */
  bound: number;
  samples: number;
  runtime: string;
}

/** Throws OnnxExportError when ONNX Runtime's outputs differ beyond float32 round-off. */
export async function checkOnnx(
  model: tfl.LayersModel,
  onnxBytes: Uint8Array,
  options: { samples?: number; tolerance?: number } = {},
): Promise<OnnxCheck> {
  const ort = await import('onnxruntime-node');
  const samples = options.samples ?? 4;
  const shape = (model.inputs[0].shape as (number | null)[]).slice(1) as number[];
  const x = tf.randomNormal([samples, ...shape], 0, 1, 'float32', 17);
  const expected = Float32Array.from((tf.tidy(() => model.predict(x)) as tf.Tensor).dataSync());
  const input = Float32Array.from(x.dataSync());
  tf.dispose(x);
  const session = await ort.InferenceSession.create(onnxBytes);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', input, [samples, ...shape]) });
    const got = out.output.data as Float32Array;
    if (got.length !== expected.length)
      throw new OnnxExportError(`ONNX Runtime gave ${got.length} outputs, TensorFlow.js ${expected.length}`);
    let maxAbsDiff = 0;
    let maxAbs = 0;
    expected.forEach((v, i) => {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(v - got[i]));
      maxAbs = Math.max(maxAbs, Math.abs(v));
    });
    const bound = (options.tolerance ?? 1e-4) * Math.max(1, maxAbs);
    if (!(maxAbsDiff <= bound)) {
      throw new OnnxExportError(
        `ONNX Runtime's outputs differ from TensorFlow.js's by up to ${maxAbsDiff.toExponential(2)} (bound ${bound.toExponential(2)}); the export is wrong, nothing was written`,
      );
    }
    return { maxAbsDiff, bound, samples, runtime: `onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim() };
  } finally {
    await session.release();
  }
}
