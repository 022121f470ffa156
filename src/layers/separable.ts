// SeparableConv2D: a depthwise part (its slices join the input channels' groups)
// then a pointwise part that owns the output channels; the activation acts after
// the pointwise part. ONNX: a grouped Conv, then a 1x1 Conv.
import { convWeights, depthwiseWeights } from '../onnx/builder.js';
import { shapeSize } from '../util/shape.js';
import { convAttrs, positions, writeConv } from './conv.js';
import { depthwiseChannels } from './depthwise.js';
import type { LayerRule } from './rule.js';

export const separableConv2d: LayerRule = {
  classes: ['SeparableConv2D'],
  ownsWeights: true,
  widthKey: 'filters',
  channels(f) {
    const mid = depthwiseChannels(f);
    f.consume(mid, 'pointwise_kernel', 2);
    return f.produce('pointwise_kernel', f.channelsOut);
  },
  macs: (node, shape) => (shapeSize(shape('depthwise_kernel')!) + shapeSize(shape('pointwise_kernel')!)) * positions(node),
  widths: (shape) => ({ in: shape('depthwise_kernel')[2], out: shape('pointwise_kernel')[3] }),
  onnx(e) {
    const { node: n, g } = e;
    const w = e.weights();
    const dwShape = n.weights[0].shape;
    const attrs = convAttrs(n);
    const depthwise = g.node(
      'Conv',
      [
        e.inputs[0].name,
        g.floats(`${n.name}/depthwise_kernel`, [dwShape[2] * dwShape[3], 1, dwShape[0], dwShape[1]], depthwiseWeights(w[0], dwShape)),
      ],
      `${n.name}/depthwise`,
      { ...attrs, group: dwShape[2] },
    );
    const pw = n.weights[1].shape;
    const bias = n.config.useBias ? Float32Array.from(w[2]) : undefined;
    const pointwise = { kernel_shape: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], group: 1 };
    return writeConv(e, depthwise, convWeights(w[1], pw), [pw[3], pw[2], pw[0], pw[1]], pointwise, bias);
  },
};
