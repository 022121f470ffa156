// Layers that move or copy values within each channel: channels pass through
// unchanged. ONNX: Dropout is the identity at inference; ZeroPadding2D is Pad.
import { pair } from '../export/onnx_builder.js';
import type { LayerRule } from './rule.js';

export const dropout: LayerRule = {
  classes: ['Dropout', 'SpatialDropout2D'],
  channelWise: true,
  channels: (f) => f.inputs[0],
  onnx: (e) => e.inputs[0],
};

export const zeroPadding2d: LayerRule = {
  classes: ['ZeroPadding2D'],
  channelWise: true,
  channels: (f) => f.inputs[0],
  onnx(e) {
    const [[t, b], [l, r]] = (e.node.config.padding as number[][]).map(pair);
    return {
      name: e.g.node('Pad', [e.inputs[0].name, e.g.ints(`${e.node.name}/pads`, [0, 0, t, l, 0, 0, b, r])], `${e.node.name}/pad`),
      nchw: true,
    };
  },
};

/** channel-wise, no ONNX writer yet */
export const spatial: LayerRule = {
  classes: ['Cropping2D', 'UpSampling2D'],
  channelWise: true,
  channels: (f) => f.inputs[0],
};
