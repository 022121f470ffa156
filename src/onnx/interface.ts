// The interface of an imported ONNX model: its input and output names and shapes in
// ONNX's layout, which a slim model exported back to ONNX keeps so it drops in where
// the original ran. Also the moves between that layout and TensorFlow.js's.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * How a TensorFlow.js tensor stands for an ONNX one: NHWC for (N, C, H, W); (N, C)
 * for (N, C, 1, 1); 'flat': the same values in the same order.
 */
export type OnnxLayout = 'nchw' | 'nc11' | 'flat';

export interface OnnxTensorSpec {
  name: string;
  /** ONNX dimensions; the batch is -1 when it is free */
  shape: number[];
  layout: OnnxLayout;
}

export interface OnnxInterface {
  inputs: OnnxTensorSpec[];
  outputs: OnnxTensorSpec[];
}

/** ONNX-layout values of `spec` (batch first) as the TensorFlow.js tensor they stand for. */
export function fromOnnxLayout(data: Float32Array, dims: number[], spec: OnnxTensorSpec): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.tensor(data, dims, 'float32');
    if (spec.layout === 'flat') return t;
    return spec.layout === 'nc11' ? tf.reshape(t, [dims[0], dims[1]]) : tf.transpose(t, [0, 2, 3, 1]);
  });
}

/** A TensorFlow.js tensor's values in the ONNX layout of `spec`. */
export function toOnnxLayout(t: tf.Tensor, spec: OnnxTensorSpec): Float32Array {
  if (spec.layout !== 'nchw') return Float32Array.from(t.dataSync());
  const nchw = tf.transpose(t, [0, 3, 1, 2]);
  try {
    return Float32Array.from(nchw.dataSync());
  } finally {
    nchw.dispose();
  }
}

/** The ONNX dims of `spec` for the TensorFlow.js shape `shape` it is held in (free sizes are read from it). */
export function onnxDims(spec: OnnxTensorSpec, shape: readonly number[]): number[] {
  if (spec.layout === 'nchw') return [shape[0], shape[3], shape[1], shape[2]];
  return spec.layout === 'nc11' ? [shape[0], shape[1], 1, 1] : [...shape];
}

/** The ONNX name of a model's i-th input or output: 'input', 'input_1', ... (the TensorFlow.js order). */
export const onnxName = (kind: 'input' | 'output', i: number) => (i === 0 ? kind : `${kind}_${i}`);

/** exportOnnx's own interface: TensorFlow.js's layout, named input, input_1, ... and output, output_1, ... */
export function exportedInterface(model: tfl.LayersModel): OnnxInterface {
  const spec = (kind: 'input' | 'output') => (t: tfl.SymbolicTensor, i: number) => ({
    name: onnxName(kind, i),
    shape: t.shape.map((d) => d ?? -1),
    layout: 'flat' as const,
  });
  return { inputs: model.inputs.map(spec('input')), outputs: model.outputs.map(spec('output')) };
}
