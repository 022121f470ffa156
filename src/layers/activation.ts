// Activation layers act on each channel alone: channels pass through. Where f(0) is
// not 0 (sigmoid, softplus) a zero channel comes out as a constant: an offset that
// blocks it at a consumer's weights unless a Multiply by a zero channel cancels it
// (a squeeze-and-excitation gate). Softmax over channels mixes them.
import { activate, OnnxExportError } from '../export/onnx_builder.js';
import type { LayerRule } from './rule.js';

/** Activations f with f(0) = 0 that act on each channel alone. */
export const ZERO_INVARIANT_ACTIVATIONS = new Set([
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'tanh',
  'softsign',
  'swish',
  'mish',
  'gelu',
  'gelu_new',
]);

export const activation: LayerRule = {
  classes: ['Activation'],
  channelWise: true,
  channels(f) {
    const offset = f.activationProblem();
    if (offset) f.setOffsets(f.inputs[0].map(() => offset));
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
  channels: (f) => f.inputs[0],
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

/** activation layers with a parameter, f(0) = 0 */
export const parametricActivations: LayerRule = {
  classes: Object.keys(ONNX_ACTIVATION),
  channelWise: true,
  channels: (f) => f.inputs[0],
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
