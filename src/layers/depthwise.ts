// DepthwiseConv2D: channel i passes through (times the depth multiplier m); its
// kernel slice kernel[:, :, i, :] and biases i*m..i*m+m-1 join the group of the
// channel it filters. ONNX: a grouped Conv.
import { depthwiseWeights } from '../onnx/builder.js';
import { shapeSize } from '../util/shape.js';
import { convAttrs, positions, writeConv } from './conv.js';
import type { ChannelFlow, LayerRule } from './rule.js';

/** a depthwise kernel: channel i of the input owns kernel[:, :, i, :]; its m outputs are the same channel */
export function depthwiseChannels(f: ChannelFlow): number[] {
  const m = f.node.weights.find((w) => w.role === 'depthwise_kernel')!.shape[3];
  const out: number[] = [];
  f.inputs[0].forEach((id, i) => {
    f.own(id, 'depthwise_kernel', 2, i);
    for (let q = 0; q < m; q++) out.push(id);
  });
  return out;
}

export const depthwiseConv2d: LayerRule = {
  classes: ['DepthwiseConv2D'],
  ownsWeights: true,
  channels(f) {
    const out = depthwiseChannels(f);
    // the bias of output channel i*m+q goes with input channel i
    out.forEach((id, k) => f.own(id, 'bias', 0, k));
    // a zero kernel cancels what comes in; then only the activation can add a constant
    const offset = f.activationAt();
    f.setOffsets(out.map(() => offset));
    return out;
  },
  macs: (node, shape) => shapeSize(shape('depthwise_kernel')!) * positions(node),
  widths: (shape) => ({ in: shape('depthwise_kernel')[2], out: shape('depthwise_kernel')[2] * shape('depthwise_kernel')[3] }),
  onnx(e) {
    const w = e.weights();
    const [kh, kw, c, m] = e.node.weights[0].shape;
    const bias = e.node.config.useBias ? Float32Array.from(w[1]) : undefined;
    const kernel = depthwiseWeights(w[0], [kh, kw, c, m]);
    return writeConv(e, e.inputs[0].name, kernel, [c * m, 1, kh, kw], { ...convAttrs(e.node), group: c }, bias);
  },
};
