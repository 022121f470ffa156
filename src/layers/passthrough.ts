// Layers that move or copy values within each channel: channels pass through
// unchanged. ONNX: Dropout is the identity at inference; ZeroPadding2D is Pad.
import { OnnxExportError, pair } from '../onnx/builder.js';
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

export const cropping2d: LayerRule = {
  classes: ['Cropping2D'],
  channelWise: true,
  channels: (f) => f.inputs[0],
  onnx(e) {
    const { node: n, g } = e;
    const [[t, b], [l, r]] = n.config.cropping as number[][];
    const [h, w] = n.inputShapes[0];
    const starts = g.ints(`${n.name}/starts`, [t, l]);
    const ends = g.ints(`${n.name}/ends`, [h - b, w - r]);
    return { name: g.node('Slice', [e.inputs[0].name, starts, ends, g.ints(`${n.name}/axes`, [2, 3])], `${n.name}/crop`), nchw: true };
  },
};

/**
 * nearest-neighbour upsampling repeats each value (ONNX: floor of x / s); TensorFlow.js's
 * bilinear samples at x / s (ONNX's asymmetric coordinates)
 */
export const upSampling2d: LayerRule = {
  classes: ['UpSampling2D'],
  channelWise: true,
  channels: (f) => f.inputs[0],
  onnx(e) {
    const { node: n, g } = e;
    const bilinear = n.config.interpolation === 'bilinear';
    if (!bilinear && n.config.interpolation !== 'nearest') {
      throw new OnnxExportError(
        `layer '${n.name}' upsamples with ${String(n.config.interpolation)} interpolation; ONNX export handles 'nearest' and 'bilinear'`,
      );
    }
    const [sh, sw] = pair(n.config.size);
    const scales = g.floats(`${n.name}/scales`, [4], Float32Array.of(1, 1, sh, sw));
    const attrs: Record<string, string> = bilinear
      ? { mode: 'linear', coordinate_transformation_mode: 'asymmetric' }
      : { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };
    return { name: g.node('Resize', [e.inputs[0].name, '', scales], `${n.name}/resize`, attrs), nchw: true };
  },
};
