// BatchNormalization, kept as a layer (an export with training=TrainingMode.PRESERVE
// or TRAINING); the default eval-mode export has folded it into the convolutions.
// LayerNormalization: the operator (opset 17), or the chain patterns.ts folds into
// it (its `axes`), over the last axes of a vector or sequence, or over the channels
// of a map.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { tensorLike, type OpConverter } from '../context.js';

const batchNormalization: OpConverter = (c) => {
  const x = c.tensor(0);
  if (x.flatFrom && x.flatFrom[1] * x.flatFrom[2] > 1) c.fail('batch norm of a flattened feature map is not supported');
  const params = [1, 2, 3, 4].map((i) => c.constant(i) ?? c.fail(`input ${i} (scale, bias, mean, variance) is computed, not stored`));
  const unused = c.node.outputs.slice(1).find((o) => o && c.consumers(o).length > 0);
  if (unused) c.fail(`its training output '${unused}' is read by other nodes; export the model in eval mode`);
  const [gamma, beta, mean, variance] = params.map((p) => tf.tensor1d(p.data, 'float32'));
  const epsilon = c.attrs.float('epsilon', 1e-5);
  const momentum = c.attrs.float('momentum', 0.9);
  const t = c.apply((name) => tfl.layers.batchNormalization({ name, axis: -1, epsilon, momentum }), x, [gamma, beta, mean, variance]);
  return tensorLike(x, t, { nonNegative: false, producer: c.node });
};

const layerNormalization: OpConverter = (c) => {
  const x = c.tensor(0);
  const rank = x.layout === 'flat' ? x.t.shape.length : 4;
  const given = c.attrs.has('axes') ? c.attrs.ints('axes', []) : undefined;
  const first = (c.attrs.int('axis', -1) + rank) % rank;
  const axes = (given ?? Array.from({ length: rank - first }, (_, i) => first + i)).map((a) => (a + rank) % rank).sort();
  // TensorFlow.js holds a map's channels last; a vector or sequence as ONNX does
  const channelsOnly = x.layout !== 'flat' && axes.join() === '1';
  const trailing = x.layout === 'flat' && !x.flatFrom && axes.every((a, i) => a === rank - axes.length + i);
  if (!channelsOnly && !trailing)
    c.fail(
      `normalising axes [${axes}] of a ${x.layout === 'flat' ? 'vector' : 'map'} is not supported; the last axes of a vector, or the channels of a map, are`,
    );
  const axis = channelsOnly ? [rank - 1] : axes;
  const shape = axis.map((a) => x.t.shape[a] as number);
  // one value per normalised entry, along the normalised axes (a map's channels as [C] or [C, 1, 1])
  const onnxShape = channelsOnly ? [shape[0]] : shape;
  const param = (i: number, fill: number) => {
    const k = c.node.inputs[i] ? c.constant(i) : undefined;
    if (!k) return tf.fill(shape, fill);
    const dims = [...k.dims];
    while (dims.length > onnxShape.length && dims[0] === 1) dims.shift();
    if (channelsOnly) while (dims.length > 1 && dims.at(-1) === 1) dims.pop();
    if (dims.join() !== onnxShape.join())
      c.fail(`its ${i === 1 ? 'scale' : 'bias'} has shape [${k.dims}]; one value per normalised entry ([${onnxShape}]) is supported`);
    return tf.tensor(k.data, shape, 'float32');
  };
  const epsilon = c.attrs.float('epsilon', 1e-5);
  const t = c.apply((name) => tfl.layers.layerNormalization({ name, axis, epsilon }), x, [param(1, 1), param(2, 0)]);
  return tensorLike(x, t, { nonNegative: false, producer: c.node });
};

export const normalizationOps: Record<string, OpConverter> = {
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
};
