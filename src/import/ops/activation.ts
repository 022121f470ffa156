// Activations: elementwise, so each keeps its input's layout. ReLU6 arrives as
// Clip(0, 6); PyTorch's hardsigmoid as HardSigmoid(alpha = 1/6), which
// TensorFlow.js's fixed hardSigmoid (0.2x + 0.5) is not, so it becomes a Rescaling
// and a ReLU capped at 1; HardSwish is x times that.
import * as tfl from '@tensorflow/tfjs-layers';
import { tensorLike, type OpContext, type OpConverter, type TensorValue } from '../context.js';

const FLOAT_MAX = 3.4e38;

/** A Keras activation by name; `nonNegative`: its outputs are >= 0. */
const keras =
  (activation: string, nonNegative = false): OpConverter =>
  (c) => {
    const x = c.tensor(0);
    const t = c.apply((name) => tfl.layers.activation({ name, activation: activation as 'relu' }), x);
    return tensorLike(x, t, { nonNegative, producer: c.node });
  };

function relu(c: OpContext, x: TensorValue, maxValue?: number, suffix?: string): TensorValue {
  const t = c.apply((name) => tfl.layers.reLU({ name, maxValue }), x, [], suffix);
  return tensorLike(x, t, { nonNegative: true, producer: c.node });
}

/** clip(alpha x + beta, 0, 1) */
function hardSigmoid(c: OpContext, x: TensorValue, alpha: number, beta: number): TensorValue {
  if (Math.abs(alpha - 0.2) < 1e-7 && Math.abs(beta - 0.5) < 1e-7) return keras('hardSigmoid', true)(c) as TensorValue;
  const scaled = c.apply((name) => tfl.layers.rescaling({ name, scale: alpha, offset: beta }), x, [], '_scale');
  return relu(c, tensorLike(x, scaled), 1);
}

const clip: OpConverter = (c) => {
  const x = c.tensor(0);
  const bound = (input: number, attr: string, fallback: number) => {
    const v = c.node.inputs[input] ? c.constant(input) : undefined;
    return v ? v.data[0] : c.attrs.has(attr) ? c.attrs.float(attr, fallback) : fallback;
  };
  const [min, max] = [bound(1, 'min', -FLOAT_MAX), bound(2, 'max', FLOAT_MAX)];
  if (min !== 0) c.fail(`Clip(${min}, ${max}) is not supported; Clip(0, max) (ReLU, ReLU6) is`);
  return relu(c, x, max >= FLOAT_MAX ? undefined : max);
};

const leakyRelu: OpConverter = (c) => {
  const x = c.tensor(0);
  const t = c.apply((name) => tfl.layers.leakyReLU({ name, alpha: c.attrs.float('alpha', 0.01) }), x);
  return tensorLike(x, t, { nonNegative: false, producer: c.node });
};

const elu: OpConverter = (c) => {
  const x = c.tensor(0);
  const t = c.apply((name) => tfl.layers.elu({ name, alpha: c.attrs.float('alpha', 1) }), x);
  return tensorLike(x, t, { nonNegative: false, producer: c.node });
};

const softmax: OpConverter = (c) => {
  const x = c.tensor(0);
  const rank = x.layout === 'flat' ? x.t.shape.length : 4;
  // the default axis changed from 1 to -1 in opset 13
  const axis = c.attrs.int('axis', c.opset < 13 ? 1 : -1);
  const channels = x.layout === 'flat' ? rank - 1 : 1;
  if ((axis + rank) % rank !== channels) c.fail(`softmax over axis ${axis} is not supported; over the channels (axis ${channels}) it is`);
  return keras('softmax', true)(c);
};

const hardSwish: OpConverter = (c) => {
  const x = c.tensor(0);
  const gate = hardSigmoid(c, x, 1 / 6, 0.5);
  const t = c.apply((name) => tfl.layers.multiply({ name }), [x, gate], [], '_times');
  return tensorLike(x, t, { nonNegative: false, producer: c.node });
};

export const activationOps: Record<string, OpConverter> = {
  Relu: (c) => relu(c, c.tensor(0)),
  Clip: clip,
  LeakyRelu: leakyRelu,
  Elu: elu,
  Sigmoid: keras('sigmoid', true),
  Tanh: keras('tanh'),
  Softplus: keras('softplus', true),
  Softsign: keras('softsign'),
  Exp: keras('exponential', true),
  HardSigmoid: (c) => hardSigmoid(c, c.tensor(0), c.attrs.float('alpha', 0.2), c.attrs.float('beta', 0.5)),
  HardSwish: hardSwish,
  // the operator (opset 20), or the chains patterns.ts folds into it
  Gelu: (c) => keras(c.attrs.string('approximate', 'none') === 'tanh' ? 'gelu_new' : 'gelu')(c),
  Softmax: softmax,
};
