// Gemm, and MatMul with a stored weight (plus the Add of its bias) -> Dense, over the
// last axis of a vector or a sequence. When
// the input is a flattened feature map, the weight rows are put into TensorFlow.js's
// channel-last order here, once.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { tensorOf, type OpContext, type OpConverter, type TensorValue } from '../context.js';

/** [K, M] rows in ONNX's (C, H, W) order -> rows in (H, W, C) order. */
function channelLastRows(kernel: tf.Tensor2D, x: TensorValue): tf.Tensor2D {
  if (!x.flatFrom) return kernel;
  const [channels, h, w] = x.flatFrom;
  const units = kernel.shape[1];
  return tf.reshape(tf.transpose(tf.reshape(kernel, [channels, h, w, units]), [1, 2, 0, 3]), [channels * h * w, units]);
}

function dense(c: OpContext, x: TensorValue, kernel: tf.Tensor2D, bias: tf.Tensor1D | undefined): TensorValue {
  if (x.layout === 'nchw') c.fail('its input is an (N, C, H, W) map; flatten it first');
  const [inputs, units] = kernel.shape;
  // a sequence (N, T, F) is multiplied along its last axis, as a Dense layer does
  if (x.t.shape.at(-1) !== inputs) c.fail(`its weight has ${inputs} rows for an input of ${x.t.shape.at(-1)} features`);
  const weights = [channelLastRows(kernel, x), ...(bias ? [bias] : [])];
  const t = c.apply((name) => tfl.layers.dense({ name, units, useBias: bias !== undefined }), x, weights);
  return tensorOf(t, 'flat', { producer: c.node });
}

const gemm: OpConverter = (c) => {
  const x = c.tensor(0);
  const b = c.constant(1) ?? c.fail('its weight B is computed, not stored');
  if (c.attrs.int('transA', 0) !== 0) c.fail('transA=1 is not supported');
  const alpha = c.attrs.float('alpha', 1);
  const beta = c.attrs.float('beta', 1);
  const stored = tf.tensor2d(b.data, b.dims as [number, number], 'float32');
  const kernel = tf.mul(c.attrs.int('transB', 0) ? tf.transpose(stored) : stored, alpha) as tf.Tensor2D;
  const cv = c.constant(2);
  const units = kernel.shape[1];
  const bias = cv ? tf.tensor1d(Array.from({ length: units }, (_, j) => cv.data[cv.data.length === 1 ? 0 : j] * beta)) : undefined;
  return dense(c, x, kernel, bias);
};

/** MatMul(x, W) with W stored; an Add of a stored [M] vector right after it becomes the bias. */
const matMul: OpConverter = (c) => {
  const x = c.tensor(0);
  const w = c.constant(1) ?? c.fail('only a product with a stored weight matrix is supported');
  if (w.dims.length !== 2) c.fail(`its weight has shape [${w.dims}]; a 2-D weight is supported`);
  const readers = c.consumers(c.node.outputs[0]);
  const add = readers.length === 1 && readers[0].opType === 'Add' ? readers[0] : undefined;
  const other = add?.inputs.find((name) => name !== c.node.outputs[0]);
  const biasValue = other !== undefined ? c.constantNamed(other) : undefined;
  const useBias = biasValue !== undefined && biasValue.data.length === w.dims[1];
  const result = dense(c, x, tf.tensor2d(w.data, w.dims as [number, number], 'float32'), useBias ? tf.tensor1d(biasValue.data) : undefined);
  if (useBias) c.absorb(add!, [result]);
  return result;
};

export const denseOps: Record<string, OpConverter> = { Gemm: gemm, MatMul: matMul };
