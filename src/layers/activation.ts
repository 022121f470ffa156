// Activation layers act on each channel alone: channels pass through, unless f(0) is
// not 0 (sigmoid, softplus), where a zero channel would not stay zero. Softmax over
// channels mixes them.
import { activate } from '../export/onnx_builder.js';
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
    const blocked = f.activationProblem();
    if (blocked) f.block(f.inputs[0], blocked);
    return f.inputs[0];
  },
  onnx: (e) => ({ name: activate(e.g, e.inputs[0].name, e.node.config.activation as string, e.node.name), nchw: e.inputs[0].nchw }),
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

/** activations with f(0) = 0 and no ONNX writer yet */
export const otherActivations: LayerRule = {
  classes: ['LeakyReLU', 'ELU', 'ThresholdedReLU'],
  channelWise: true,
  channels: (f) => f.inputs[0],
};

export const softmax: LayerRule = {
  classes: ['Softmax'],
  channels: (f) => f.opaque(`${f.node.name} (Softmax) mixes channels`),
};
