// Conv2D: output channel j is kernel[:, :, :, j] and bias[j]; it reads its input
// channels through kernel[:, :, i, :]. Written to ONNX as Conv, with a following
// BatchNormalization folded in where that is exact.
import { batchNormParams, convWeights, pads, pair, activate, type OnnxValue } from '../onnx/builder.js';
import type { GraphNode } from './layer_graph.js';
import { shapeSize } from '../util/shape.js';
import type { LayerRule, OnnxEmit } from './rule.js';

/** spatial positions a kernel is applied at */
export const positions = (node: GraphNode) => shapeSize(node.outputShape.slice(0, -1));

/**
 * The ONNX Conv of Conv2D, DepthwiseConv2D and SeparableConv2D's pointwise part:
 * `kernel` in ONNX layout [out, in/group, kh, kw], the layer's bias, an exact
 * BatchNormalization after it folded in, then the activation.
 */
export function writeConv(
  e: OnnxEmit,
  input: string,
  kernel: Float32Array,
  [outChannels, inPerGroup, kh, kw]: number[],
  attrs: Record<string, number | number[]>,
  bias: Float32Array | undefined,
): OnnxValue {
  const { node: n, g } = e;
  const next = e.consumers();
  const bn = next.length === 1 ? next[0] : undefined;
  const linear = (n.config.activation ?? 'linear') === 'linear';
  let b = bias;
  if (e.foldBatchNorm && linear && bn?.className === 'BatchNormalization' && [-1, 3].includes(bn.config.axis as number)) {
    const [gamma, beta, mean, variance] = batchNormParams(bn, e.weights(bn), outChannels);
    const eps = bn.config.epsilon as number;
    const per = kernel.length / outChannels;
    b = Float32Array.from(b ?? new Float32Array(outChannels));
    for (let o = 0; o < outChannels; o++) {
      const scale = gamma[o] / Math.sqrt(variance[o] + eps);
      for (let i = 0; i < per; i++) kernel[o * per + i] *= scale;
      b[o] = (b[o] - mean[o]) * scale + beta[o];
    }
    e.fold(bn.name);
  }
  const inputs = [input, g.floats(`${n.name}/kernel`, [outChannels, inPerGroup, kh, kw], kernel)];
  if (b) inputs.push(g.floats(`${n.name}/bias`, [outChannels], b));
  const conv = g.node('Conv', inputs, `${n.name}/conv`, attrs);
  return { name: activate(g, conv, n.config.activation as string, n.name, true), nchw: true };
}

/** kernel_shape, strides, dilations and pads of a Conv2D-like layer */
export function convAttrs(n: GraphNode): Record<string, number[]> {
  const [inH, inW] = n.inputShapes[0];
  const k = pair(n.config.kernelSize);
  const s = pair(n.config.strides);
  const d = pair(n.config.dilationRate);
  return { kernel_shape: k, strides: s, dilations: d, pads: pads(inH, inW, k, s, d, n.config.padding as string) };
}

export const conv2d: LayerRule = {
  classes: ['Conv2D'],
  ownsWeights: true,
  widthKey: 'filters',
  channels(f) {
    f.consume(f.inputs[0], 'kernel', 2);
    return f.produce('kernel', f.channelsOut);
  },
  macs: (node, shape) => shapeSize(shape('kernel')!) * positions(node),
  widths: (shape) => ({ in: shape('kernel')[2], out: shape('kernel')[3] }),
  onnx(e) {
    const w = e.weights();
    const shape = e.node.weights[0].shape;
    const bias = e.node.config.useBias ? Float32Array.from(w[1]) : undefined;
    return writeConv(
      e,
      e.inputs[0].name,
      convWeights(w[0], shape),
      [shape[3], shape[2], shape[0], shape[1]],
      { ...convAttrs(e.node), group: 1 },
      bias,
    );
  },
};
