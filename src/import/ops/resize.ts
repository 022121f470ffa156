// Resize (opsets 10-18) and Upsample (7-9). By whole factors where TensorFlow.js's
// UpSampling2D computes the same -> UpSampling2D: nearest neighbour repeats each
// value when the coordinate mode and rounding map output x to input floor(x / s)
// (asymmetric with floor: PyTorch's 'nearest', Upsample; half_pixel with rounding:
// TensorFlow's; tf_half_pixel_for_nn with floor), and its bilinear is asymmetric
// (Upsample's). Everything else, PyTorch's bilinear align_corners=False (half_pixel)
// and True, other sizes and downsampling -> slimtrain's Resize2D.
import * as tfl from '@tensorflow/tfjs-layers';
import { Resize2D, RESIZE_COORDINATES, RESIZE_ROUNDING, type ResizeCoordinates, type ResizeRounding } from '../../layers/resize.js';
import { onnxSampleShape, tensorLike, type OpContext, type OpConverter } from '../context.js';
import { asMap } from './shape.js';

/** coordinate mode and nearest rounding under which nearest upsampling by a whole factor repeats each value */
const REPEATS: Record<string, readonly string[]> = {
  asymmetric: ['floor'],
  half_pixel: ['round_prefer_floor', 'round_prefer_ceil'],
  pytorch_half_pixel: ['round_prefer_floor', 'round_prefer_ceil'],
  tf_half_pixel_for_nn: ['floor'],
};

/** the scales of (N, C, H, W): from `scales`, or from `sizes` over the input's sizes (then `sizes` too) */
function scalesOf(c: OpContext, dims: number[]): { scales: number[]; sizes?: number[] } {
  const isUpsample = c.node.opType === 'Upsample';
  if (isUpsample && c.opset < 9) return { scales: Array.from(c.node.attrs.get('scales')?.floats ?? []) };
  const [scalesAt, sizesAt] = isUpsample || c.opset < 11 ? [1, -1] : [2, 3];
  const scales = c.node.inputs[scalesAt] ? Array.from(c.constant(scalesAt)!.data) : [];
  if (scales.length > 0) return { scales };
  const sizes = sizesAt > 0 && c.node.inputs[sizesAt] ? Array.from(c.constant(sizesAt)!.data) : [];
  if (sizes.length !== 4) return c.fail('it gives neither scales nor sizes for the four axes');
  // the batch size is unknown at import (NaN from Shape): the batch keeps its size
  return { scales: sizes.map((s, i) => (i === 0 ? 1 : s / dims[i])), sizes };
}

const resize: OpConverter = (c) => {
  // a pooled value spread over a map (DeepLab's image pooling, a PAN's global branch)
  const x = asMap(c, c.tensor(0));
  if (x.layout !== 'nchw') c.fail(`the input is not an image-shaped (N, C, H, W) tensor but one of shape [N,${onnxSampleShape(x)}]`);
  const [h, w, channels] = x.t.shape.slice(1) as number[];
  const { scales, sizes } = scalesOf(c, [1, channels, h, w]);
  const [sn, sc, sh, sw] = scales;
  if (scales.length !== 4 || sn !== 1 || sc !== 1) c.fail(`scales [${scales}]: only resizing height and width is supported`);
  if (c.attrs.has('axes')) c.fail('Resize with axes (opset 18) is not supported; scales or sizes for all four axes are');
  const policy = c.attrs.string('keep_aspect_ratio_policy', 'stretch');
  if (policy !== 'stretch') c.fail(`keep_aspect_ratio_policy '${policy}' is not supported; 'stretch' is`);
  const mode = c.attrs.string('mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear')
    c.fail(`resizing in mode '${mode}' is not supported; nearest and linear are`);
  if (c.attrs.int('antialias', 0) !== 0) c.fail('antialiased resizing is not supported');
  // Upsample has no coordinate modes: its nearest is a floor, its linear asymmetric
  const old = c.node.opType === 'Upsample' || c.opset < 11;
  const coordinates = old ? 'asymmetric' : c.attrs.string('coordinate_transformation_mode', 'half_pixel');
  const rounding = old ? 'floor' : c.attrs.string('nearest_mode', 'round_prefer_floor');
  const interpolation = mode === 'nearest' ? 'nearest' : 'bilinear';
  const whole = [sh, sw].every((s) => Number.isInteger(s) && s >= 1);
  // the same size: the identity, but where the coordinates shift (tf_half_pixel_for_nn samples at i + 0.5)
  const identity = interpolation === 'bilinear' ? coordinates !== 'tf_half_pixel_for_nn' : REPEATS[coordinates]?.includes(rounding);
  if (sh === 1 && sw === 1 && identity) return x;
  // UpSampling2D where it computes the same: nearest repeats, bilinear with asymmetric coordinates
  if (whole && (interpolation === 'nearest' ? REPEATS[coordinates]?.includes(rounding) : coordinates === 'asymmetric')) {
    const t = c.apply((name) => tfl.layers.upSampling2d({ name, size: [sh, sw], interpolation }), x);
    return tensorLike(x, t, { producer: c.node });
  }
  if (!(RESIZE_COORDINATES as readonly string[]).includes(coordinates) || !(RESIZE_ROUNDING as readonly string[]).includes(rounding)) {
    c.fail(
      `coordinate_transformation_mode '${coordinates}' with nearest_mode '${rounding}' is not supported; the modes ${RESIZE_COORDINATES.join(', ')} with the roundings ${RESIZE_ROUNDING.join(', ')} are`,
    );
  }
  const size: [number, number] = sizes ? [sizes[2], sizes[3]] : [Math.floor(h * sh), Math.floor(w * sw)];
  const layer = (name: string) =>
    new Resize2D({
      name,
      size,
      // where the file gives scales, the coordinates follow them (they may differ from the size ratio)
      scales: sizes ? undefined : [sh, sw],
      interpolation,
      coordinates: coordinates as ResizeCoordinates,
      rounding: rounding as ResizeRounding,
    });
  return tensorLike(x, c.apply(layer, x), { producer: c.node });
};

export const resizeOps: Record<string, OpConverter> = { Resize: resize, Upsample: resize };
