// Add, Sub, Mul, Div, Max, Min. Two computed tensors: Add and Multiply layers, Sub as
// an Add of the negated second (a pooled (N, C, 1, 1) gate is reshaped to broadcast
// over the map); x * sigmoid(x) is SiLU
// (Keras swish). A tensor and a constant: a scalar becomes a Rescaling, a
// per-channel constant (normalisation inside the model) a 1x1 depthwise convolution,
// arrays over positions (a detector's box decoding) a ConstantAffine.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Constant } from '../onnx_model.js';
import { ConstantAffine } from '../../layers/constant_affine.js';
import { asMap } from './shape.js';
import { onnxSampleShape, tensorLike, type OpContext, type OpConverter, type TensorValue } from '../context.js';

type Op = 'Add' | 'Sub' | 'Mul' | 'Div';

/** x (op) k for a scalar k, or k (op) x when `constFirst`, as scale * x + offset */
function affine(c: OpContext, op: Op, k: number, constFirst: boolean): { scale: number; offset: number } {
  if (op === 'Add') return { scale: 1, offset: k };
  if (op === 'Mul') return { scale: k, offset: 0 };
  if (op === 'Sub') return constFirst ? { scale: -1, offset: k } : { scale: 1, offset: -k };
  if (constFirst) c.fail('dividing a constant by a tensor is not supported');
  return { scale: 1 / k, offset: 0 };
}

function withConstant(c: OpContext, op: Op, x: TensorValue, k: Constant, constFirst: boolean): TensorValue {
  const size = k.data.length;
  if (size === 1) {
    const { scale, offset } = affine(c, op, k.data[0], constFirst);
    const t = c.apply((name) => tfl.layers.rescaling({ name, scale, offset }), x);
    return tensorLike(x, t, { nonNegative: x.nonNegative && scale >= 0 && offset >= 0, producer: c.node });
  }
  const channels = x.t.shape.at(-1) as number;
  const perChannel = x.layout === 'nchw' && size === channels && k.dims.filter((d) => d !== 1).length === 1 && k.dims.at(-3) === channels;
  const scale = new Float32Array(size);
  const offset = new Float32Array(size);
  for (let i = 0; i < size; i++) ({ scale: scale[i], offset: offset[i] } = affine(c, op, k.data[i], constFirst));
  if (!perChannel) return withConstantArrays(c, x, k.dims, scale, offset);
  const weights = [tf.tensor4d(scale, [1, 1, channels, 1]), tf.tensor1d(offset)];
  const t = c.apply((name) => tfl.layers.depthwiseConv2d({ name, kernelSize: 1, useBias: true }), x, weights);
  return tensorLike(x, t, { nonNegative: false, producer: c.node });
}

/**
 * x * scale + offset with arrays over the positions of a value held in ONNX's order
 * (an SSD head's prior boxes, which its box decoding multiplies and adds): a
 * ConstantAffine, whose arrays broadcast as ONNX broadcasts `dims` over one sample.
 */
function withConstantArrays(c: OpContext, x: TensorValue, dims: number[], scale: Float32Array, offset: Float32Array): TensorValue {
  const sample = onnxSampleShape(x);
  // right-aligned against (N, ...sample), as ONNX broadcasts
  const aligned = [...new Array<number>(Math.max(0, sample.length + 1 - dims.length)).fill(1), ...dims];
  const fits = aligned.length === sample.length + 1 && aligned[0] === 1 && aligned.slice(1).every((d, i) => d === 1 || d === sample[i]);
  if (x.layout !== 'flat' || !fits) {
    c.fail(
      `a constant of shape [${dims}] with a tensor of shape [N,${sample}] is supported as a scalar, one value per channel ([C, 1, 1]), ` +
        'or arrays over the positions of a tensor that is not an image (an SSD head after its Reshape)',
    );
  }
  const shape = aligned.slice(1);
  const weights = [tf.tensor(scale, shape), tf.tensor(offset, shape)];
  const t = c.apply((name) => new ConstantAffine({ name, shape }), x, weights);
  return tensorLike(x, t, { nonNegative: false, producer: c.node });
}

/** A pooled (N, C) gate as (N, 1, 1, C), so it broadcasts over an (N, H, W, C) map. */
const broadcastable = (c: OpContext, a: TensorValue, b: TensorValue): TensorValue => (b.layout === 'nchw' ? asMap(c, a) : a);

const isSigmoidOf = (c: OpContext, gate: string, x: string) => {
  const p = c.producer(gate);
  return p?.opType === 'Sigmoid' && p.inputs[0] === x;
};

const binary =
  (op: Op): OpConverter =>
  (c) => {
    const [a, b] = [c.value(0) ?? c.fail('it needs two inputs'), c.value(1) ?? c.fail('it needs two inputs')];
    if (a.kind === 'const' && b.kind === 'tensor') return withConstant(c, op, b, a, true);
    if (a.kind === 'tensor' && b.kind === 'const') return withConstant(c, op, a, b, false);
    const [x, y] = [c.tensor(0), c.tensor(1)];
    const [nx, ny] = c.node.inputs;
    if (op === 'Mul' && (isSigmoidOf(c, ny, nx) || isSigmoidOf(c, nx, ny))) {
      const input = isSigmoidOf(c, ny, nx) ? x : y;
      const t = c.apply((name) => tfl.layers.activation({ name, activation: 'swish' }), input);
      return tensorLike(input, t, { nonNegative: false, producer: c.node });
    }
    if (op === 'Div') c.fail('Div of two computed tensors is not supported');
    // x - y as x + (-1) y: TensorFlow.js has no Subtract layer
    const subtrahend =
      op === 'Sub'
        ? tensorLike(
            y,
            c.apply((name) => tfl.layers.rescaling({ name, scale: -1 }), y, [], '_negated'),
          )
        : y;
    const [p, q] = [broadcastable(c, x, subtrahend), broadcastable(c, subtrahend, x)];
    if (p.layout !== q.layout) c.fail(`its inputs have different layouts (${p.layout}, ${q.layout})`);
    const make = (name: string) => (op === 'Mul' ? tfl.layers.multiply({ name }) : tfl.layers.add({ name }));
    const t = c.apply(make, [p, q]);
    const nonNegative = Boolean(op !== 'Sub' && p.nonNegative && q.nonNegative);
    return tensorLike(p.t.shape.length >= q.t.shape.length ? p : q, t, { nonNegative, producer: c.node });
  };

/**
 * max(x, k) = relu(x - k) + k and min(x, k) = k - relu(k - x) for a scalar k: Rescaling,
 * ReLU, Rescaling (the group analysis computes that a zero channel stays zero when k <= 0)
 */
function clampedBy(c: OpContext, op: 'Max' | 'Min', x: TensorValue, k: number): TensorValue {
  const sign = op === 'Max' ? 1 : -1;
  const rescale = (v: TensorValue, suffix: string) =>
    tensorLike(
      v,
      c.apply((name) => tfl.layers.rescaling({ name, scale: sign, offset: -sign * k }), v, [], suffix),
    );
  const r = tensorLike(
    x,
    c.apply((name) => tfl.layers.reLU({ name }), rescale(x, '_shift'), [], '_relu'),
  );
  const y = c.apply((name) => tfl.layers.rescaling({ name, scale: sign, offset: k }), r);
  return tensorLike(x, y, { nonNegative: op === 'Max' ? k >= 0 || x.nonNegative : x.nonNegative && k >= 0, producer: c.node });
}

/** Max and Min of computed tensors of one shape (Keras Maximum, Minimum), or of a tensor and a scalar */
const extreme =
  (op: 'Max' | 'Min'): OpConverter =>
  (c) => {
    const values = c.node.inputs.map((_, i) => c.value(i));
    const scalars = values.filter((v) => v?.kind === 'const');
    if (scalars.length > 0) {
      const tensors = values.filter((v): v is TensorValue => v?.kind === 'tensor');
      if (tensors.length !== 1 || scalars.some((k) => k!.kind === 'const' && k!.data.length !== 1))
        c.fail(`${op} of a tensor and constants is supported for one tensor and scalar constants`);
      const pick = op === 'Max' ? Math.max : Math.min;
      const k = pick(...scalars.map((v) => (v as Constant).data[0]));
      return clampedBy(c, op, tensors[0], k);
    }
    const xs = c.node.inputs.map((_, i) => c.tensor(i));
    if (xs.length === 1) return xs[0];
    if (xs.some((x) => x.layout !== xs[0].layout || x.t.shape.join() !== xs[0].t.shape.join()))
      c.fail(`its inputs differ in shape; ${op} of tensors of one shape is supported`);
    const t = c.apply((name) => (op === 'Max' ? tfl.layers.maximum({ name }) : tfl.layers.minimum({ name })), xs);
    const nonNegative = op === 'Max' ? xs.some((x) => x.nonNegative) : xs.every((x) => x.nonNegative);
    return tensorLike(xs[0], t, { nonNegative, producer: c.node });
  };

export const arithmeticOps: Record<string, OpConverter> = {
  Max: extreme('Max'),
  Min: extreme('Min'),
  Add: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  Div: binary('Div'),
};
