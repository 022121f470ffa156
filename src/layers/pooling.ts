// Pooling acts on each channel alone: channels pass through. ONNX: MaxPool,
// AveragePool, GlobalMaxPool/GlobalAveragePool (then Flatten: Keras drops the
// spatial axes).
import { pads, pair, type Attr } from '../onnx/builder.js';
import type { LayerRule } from './rule.js';

export const pooling2d: LayerRule = {
  classes: ['MaxPooling2D', 'AveragePooling2D'],
  channelWise: true,
  channels: (f) => f.inputs[0],
  onnx(e) {
    const { node: n, g } = e;
    const [inH, inW] = n.inputShapes[0];
    const k = pair(n.config.poolSize);
    const s = pair(n.config.strides ?? n.config.poolSize);
    const attrs: Record<string, Attr> = { kernel_shape: k, strides: s, pads: pads(inH, inW, k, s, [1, 1], n.config.padding as string) };
    if (n.className === 'AveragePooling2D') attrs.count_include_pad = 0;
    return {
      name: g.node(n.className === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [e.inputs[0].name], `${n.name}/pool`, attrs),
      nchw: true,
    };
  },
};

export const globalPooling2d: LayerRule = {
  classes: ['GlobalAveragePooling2D', 'GlobalMaxPooling2D'],
  channelWise: true,
  channels: (f) => f.inputs[0],
  onnx(e) {
    const { node: n, g } = e;
    const pooled = g.node(
      n.className === 'GlobalMaxPooling2D' ? 'GlobalMaxPool' : 'GlobalAveragePool',
      [e.inputs[0].name],
      `${n.name}/pool`,
    );
    return { name: g.node('Flatten', [pooled], `${n.name}/flatten`, { axis: 1 }), nchw: false };
  },
};
