// Resize (opsets 10-18) and Upsample (7-9) by whole factors -> UpSampling2D. Nearest
// neighbour is an exact repeat of each value when the coordinate mode and rounding
// map output x to input floor(x / s): asymmetric with floor (PyTorch's 'nearest',
// Upsample), half_pixel with rounding (TensorFlow's), tf_half_pixel_for_nn with floor.
// Linear is TensorFlow.js's bilinear only with asymmetric coordinates (Upsample's);
// PyTorch's align_corners=False (half_pixel) has no TensorFlow.js layer and is refused.
import * as tfl from '@tensorflow/tfjs-layers';
import { tensorLike, type OpContext, type OpConverter } from '../context.js';

/** coordinate mode and nearest rounding under which nearest upsampling by a whole factor repeats each value */
const REPEATS: Record<string, readonly string[]> = {
  asymmetric: ['floor'],
  half_pixel: ['round_prefer_floor', 'round_prefer_ceil'],
  pytorch_half_pixel: ['round_prefer_floor', 'round_prefer_ceil'],
  tf_half_pixel_for_nn: ['floor'],
};

/** the scales of (N, C, H, W): from `scales`, or from `sizes` over the input's sizes */
function scalesOf(c: OpContext, dims: number[]): number[] {
  const isUpsample = c.node.opType === 'Upsample';
  if (isUpsample && c.opset < 9) return Array.from(c.node.attrs.get('scales')?.floats ?? []);
  const [scalesAt, sizesAt] = isUpsample || c.opset < 11 ? [1, -1] : [2, 3];
  const scales = c.node.inputs[scalesAt] ? Array.from(c.constant(scalesAt)!.data) : [];
  if (scales.length > 0) return scales;
  const sizes = sizesAt > 0 && c.node.inputs[sizesAt] ? Array.from(c.constant(sizesAt)!.data) : [];
  if (sizes.length !== 4) return c.fail('it gives neither scales nor sizes for the four axes');
  // the batch size is unknown at import (NaN from Shape): the batch keeps its size
  return sizes.map((s, i) => (i === 0 ? 1 : s / dims[i]));
}

const resize: OpConverter = (c) => {
  const x = c.tensor(0);
  if (x.layout !== 'nchw') c.fail('the input is not an image-shaped (N, C, H, W) tensor');
  const [h, w, channels] = x.t.shape.slice(1) as number[];
  const scales = scalesOf(c, [1, channels, h, w]);
  const [sn, sc, sh, sw] = scales;
  if (scales.length !== 4 || sn !== 1 || sc !== 1 || ![sh, sw].every((s) => Number.isInteger(s) && s >= 1)) {
    c.fail(`scales [${scales}]: only upsampling height and width by whole factors is supported`);
  }
  const mode = c.attrs.string('mode', 'nearest');
  // Upsample has no coordinate modes: its nearest is a floor, its linear asymmetric
  const coordinates =
    c.node.opType === 'Upsample' || c.opset < 11 ? 'asymmetric' : c.attrs.string('coordinate_transformation_mode', 'half_pixel');
  const rounding = c.node.opType === 'Upsample' || c.opset < 11 ? 'floor' : c.attrs.string('nearest_mode', 'round_prefer_floor');
  let interpolation: 'nearest' | 'bilinear';
  if (mode === 'nearest') {
    if (!REPEATS[coordinates]?.includes(rounding)) {
      c.fail(
        `nearest resizing with coordinate_transformation_mode '${coordinates}' and nearest_mode '${rounding}' does not repeat each value; asymmetric with floor (PyTorch's mode='nearest') or half_pixel with rounding is supported`,
      );
    }
    interpolation = 'nearest';
  } else if (mode === 'linear' || mode === 'bilinear') {
    if (coordinates !== 'asymmetric') {
      c.fail(
        `linear resizing with coordinate_transformation_mode '${coordinates}' (PyTorch's align_corners=False) has no TensorFlow.js layer; mode='nearest', or linear with asymmetric coordinates, is supported`,
      );
    }
    interpolation = 'bilinear';
  } else {
    return c.fail(`resizing in mode '${mode}' is not supported; nearest and linear are`);
  }
  if (sh === 1 && sw === 1) return x;
  const t = c.apply((name) => tfl.layers.upSampling2d({ name, size: [sh, sw], interpolation }), x);
  return tensorLike(x, t, { producer: c.node });
};

export const resizeOps: Record<string, OpConverter> = { Resize: resize, Upsample: resize };
