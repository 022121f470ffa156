// Activation layers act on each channel alone: channels pass through. Where f(0) is
// not 0 (sigmoid, softplus) a zero channel comes out as a constant: an offset that
// blocks it at a consumer's weights unless a Multiply by a zero channel cancels it
// (a squeeze-and-excitation gate). Offsets are values: f of an offset is computed, so
// relu(x + 0.4) - 0.4 (a max(x, -0.4)) is zero at zero again. Softmax over channels
// mixes them.
import * as tf from '@tensorflow/tfjs-core';
import { activate, OnnxExportError } from '../onnx/builder.js';
import type { LayerRule, Offset } from './rule.js';

/**
 * TensorFlow.js 4.22 writes the activation 'gelu_new' (GELU, tanh form) into a
 * model.json as it is and reads it back as 'geluNew' (it turns config values from
 * snake_case to camelCase), a name it does not know: the same function under that
 * name lets such a file load, and it is written and read as 'geluNew' from then on.
 */
class GeluNewAsRead extends tf.serialization.Serializable {
  static readonly className = 'geluNew';
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() =>
      tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))))),
    );
  }
  getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}
tf.serialization.registerClass(GeluNewAsRead);

/** Keras's `exponential` activation, which TensorFlow.js lacks: e^x (a detector's box sizes, ONNX Exp) */
class Exponential extends tf.serialization.Serializable {
  static readonly className = 'exponential';
  apply(x: tf.Tensor): tf.Tensor {
    return tf.exp(x);
  }
  getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}
tf.serialization.registerClass(Exponential);

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const erf = (v: number) => {
  // Abramowitz and Stegun 7.1.26: only whether it is 0 matters here, and erf(0) = 0 exactly
  const t = 1 / (1 + 0.3275911 * Math.abs(v));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-v * v);
  return v === 0 ? 0 : Math.sign(v) * y;
};

/** Keras activations that act on each channel alone, as functions */
const ACTIVATIONS: Record<string, (v: number) => number> = {
  linear: (v) => v,
  relu: (v) => Math.max(v, 0),
  relu6: (v) => Math.min(Math.max(v, 0), 6),
  elu: (v) => (v > 0 ? v : Math.exp(v) - 1),
  selu: (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1)),
  tanh: Math.tanh,
  softsign: (v) => v / (1 + Math.abs(v)),
  swish: (v) => v * sigmoid(v),
  mish: (v) => v * Math.tanh(Math.log1p(Math.exp(v))),
  gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
  gelu_new: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
  geluNew: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
  sigmoid,
  hardSigmoid: (v) => Math.min(Math.max(0.2 * v + 0.5, 0), 1),
  softplus: (v) => Math.log1p(Math.exp(v)),
  exponential: Math.exp,
};

/**
 * `f` at a channel that is `input` (0 when undefined) when its group is zero: undefined
 * where the result is 0; NaN where f is not known.
 */
export function offsetThrough(f: ((v: number) => number) | undefined, input: Offset | undefined, why: string): Offset | undefined {
  // what is not known stays not known, whatever f gives NaN (a threshold would give 0)
  if (input && Number.isNaN(input.value)) return input;
  const value = f ? f(input?.value ?? 0) : NaN;
  if (value === 0) return undefined;
  return { value, reason: input && input.value !== 0 ? input.reason : why };
}

/** a Keras activation (by name) at `input`, as `offsetThrough` */
export function activationOffset(name: string, layer: string, input?: Offset): Offset | undefined {
  return offsetThrough(ACTIVATIONS[name], input, `activation '${name}' of ${layer} is not zero at zero`);
}

export const activation: LayerRule = {
  classes: ['Activation'],
  channelWise: true,
  channels(f) {
    f.setOffsets(f.inputOffsets[0].map((o) => f.activationAt(o)));
    return f.inputs[0];
  },
  onnx: (e) => ({
    name: activate(e.g, e.inputs[0].name, e.node.config.activation as string, e.node.name, e.inputs[0].nchw),
    nchw: e.inputs[0].nchw,
  }),
};

export const relu: LayerRule = {
  classes: ['ReLU'],
  channelWise: true,
  channels(f) {
    const max = (f.node.config.maxValue as number | null | undefined) ?? Infinity;
    f.setOffsets(
      f.inputOffsets[0].map((o) => offsetThrough((v) => Math.min(Math.max(v, 0), max), o, `${f.node.name} is not zero at zero`)),
    );
    return f.inputs[0];
  },
  onnx(e) {
    const { node: n, g } = e;
    const x = e.inputs[0];
    const max = n.config.maxValue as number | null | undefined;
    const name =
      max == null
        ? g.node('Relu', [x.name], `${n.name}/relu`)
        : g.node(
            'Clip',
            [x.name, g.floats(`${n.name}/min`, [], Float32Array.of(0)), g.floats(`${n.name}/max`, [], Float32Array.of(max))],
            `${n.name}/clip`,
          );
    return { name, nchw: x.nchw };
  },
};

const ONNX_ACTIVATION: Record<string, [op: string, param: string]> = {
  LeakyReLU: ['LeakyRelu', 'alpha'],
  ELU: ['Elu', 'alpha'],
  ThresholdedReLU: ['ThresholdedRelu', 'theta'],
};

const PARAMETRIC: Record<string, (p: number) => (v: number) => number> = {
  LeakyReLU: (alpha) => (v) => (v >= 0 ? v : alpha * v),
  ELU: (alpha) => (v) => (v > 0 ? v : alpha * (Math.exp(v) - 1)),
  ThresholdedReLU: (theta) => (v) => (v > theta ? v : 0),
};

/** activation layers with a parameter, f(0) = 0 */
export const parametricActivations: LayerRule = {
  classes: Object.keys(ONNX_ACTIVATION),
  channelWise: true,
  channels(f) {
    const fn = PARAMETRIC[f.node.className](f.node.config[ONNX_ACTIVATION[f.node.className][1]] as number);
    f.setOffsets(f.inputOffsets[0].map((o) => offsetThrough(fn, o, `${f.node.name} is not zero at zero`)));
    return f.inputs[0];
  },
  onnx(e) {
    const { node: n, g } = e;
    const [op, param] = ONNX_ACTIVATION[n.className];
    return {
      name: g.node(op, [e.inputs[0].name], `${n.name}/${op.toLowerCase()}`, { alpha: n.config[param] as number }),
      nchw: e.inputs[0].nchw,
    };
  },
};

export const softmax: LayerRule = {
  classes: ['Softmax'],
  channels: (f) => f.opaque(`${f.node.name} (Softmax) mixes channels`),
  onnx(e) {
    const { node: n, g } = e;
    const axis = n.config.axis as number | number[] | undefined;
    // TensorFlow.js counts the batch axis: on [N, C] its default axis 1 is the last
    const rank = n.outputShape.length + 1;
    const a = Array.isArray(axis) && axis.length === 1 ? axis[0] : (axis ?? -1);
    const last = typeof a === 'number' && (a + rank) % rank === rank - 1;
    if (!last) throw new OnnxExportError(`layer '${n.name}': ONNX export handles a softmax over the last (channel) axis`);
    // per pixel over the channels of an NCHW tensor: its axis 1
    const x = e.inputs[0];
    return { name: g.node('Softmax', [x.name], `${n.name}/softmax`, { axis: x.nchw ? 1 : -1 }), nchw: x.nchw };
  },
};
