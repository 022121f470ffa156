// Moving data: slices, concatenation and its split, padding, transposes, and
// nearest-neighbour resizing with its exact adjoint.
import { backend_util, slice_util, util } from '@tensorflow/tfjs-core';
import { shapeSize } from '../../../util/shape.js';
import { nearestSources } from '../../gradient_kernels.js';
import { allFloat, allocate, output, values, type NativeKernel } from '../kernel.js';

/** a shape of rank 1 to 4 as 4-D, leading ones added (the same layout in memory) */
const as4d = (shape: readonly number[], fill = 1) => Int32Array.from([...new Array<number>(4 - shape.length).fill(fill), ...shape]);

/** Slice of a float32 tensor of rank up to 4 (PadV2's gradient; batches cut from a data set) */
export const slice: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x } = inputs;
  if (x.dtype !== 'float32' || x.shape.length > 4 || x.shape.length === 0) return null;
  const [begin, size] = slice_util.parseSliceParams(x as never, attrs.begin as number[], attrs.size as number[]);
  const y = allocate(backend, shapeSize(size));
  addon.slice(values(backend, x), as4d(x.shape), as4d(begin, 0), as4d(size), y);
  return output(backend, size, y);
};

/**
 * A shape of any rank as 4-D with the same layout in memory: [1, before axis, axis,
 * after axis], or [1, 1, before axis, axis] when nothing follows the axis, so the
 * innermost copy is a run along the axis (a channel concatenation in NHWC copies
 * each pixel's channels at once, not one float at a time). `at(offset)` places an
 * offset along the axis in that view.
 */
function axisView(shape: readonly number[], axis: number, size = shape[axis]) {
  const before = shapeSize(shape.slice(0, axis));
  const after = shapeSize(shape.slice(axis + 1));
  return after === 1
    ? { shape: Int32Array.of(1, 1, before, size), at: (offset: number) => Int32Array.of(0, 0, 0, offset) }
    : { shape: Int32Array.of(1, before, size, after), at: (offset: number) => Int32Array.of(0, 0, offset, 0) };
}

/** Concat of float32 tensors of any rank, along any axis: each input copied into its place */
export const concat: NativeKernel = (addon, inputs, attrs, backend) => {
  const xs = Object.values(inputs);
  if (xs.length === 0 || xs[0].shape.length === 0 || xs.some((x) => x.dtype !== 'float32' || x.shape.length !== xs[0].shape.length)) {
    return null;
  }
  const axis = util.parseAxisParam(attrs.axis as number, xs[0].shape)[0];
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((n, x) => n + x.shape[axis], 0);
  const y = allocate(backend, shapeSize(shape));
  const out = axisView(shape, axis);
  let offset = 0;
  for (const x of xs) {
    if (shapeSize(x.shape) > 0) addon.place(values(backend, x), axisView(x.shape, axis).shape, out.at(offset), out.shape, y);
    offset += x.shape[axis];
  }
  return output(backend, shape, y);
};

/** SplitV (Concat's gradient), any rank: each part a Slice along the axis */
export const splitV: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x } = inputs;
  if (x.dtype !== 'float32' || x.shape.length === 0) return null;
  const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x as never, attrs.numOrSizeSplits as number[] | number, axis);
  const whole = axisView(x.shape, axis);
  let offset = 0;
  return sizes.map((n) => {
    const size = x.shape.map((d, i) => (i === axis ? n : d));
    const y = allocate(backend, shapeSize(size));
    if (n > 0) addon.slice(values(backend, x), whole.shape, whole.at(offset), axisView(x.shape, axis, n).shape, y);
    offset += n;
    return output(backend, size, y);
  });
};

/** Pad with a constant (PadV2: ZeroPadding2D, the padding before 'valid' convolutions) */
export const pad: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x } = inputs;
  if (x.dtype !== 'float32' || x.shape.length > 4 || x.shape.length === 0) return null;
  const paddings = attrs.paddings as [number, number][];
  const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const y = allocate(backend, shapeSize(shape));
  addon.pad(
    values(backend, x),
    as4d(x.shape),
    as4d(
      paddings.map((p) => p[0]),
      0,
    ),
    as4d(shape),
    attrs.constantValue as number,
    y,
  );
  return output(backend, shape, y);
};

export const transpose: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x } = inputs;
  const perm = attrs.perm as number[];
  if (x.dtype !== 'float32' || x.shape.length === 0 || x.shape.length > 6 || shapeSize(x.shape) === 0) return null;
  const shape = perm.map((p) => x.shape[p]);
  const y = allocate(backend, shapeSize(shape));
  addon.transpose(values(backend, x), Int32Array.from(x.shape), Int32Array.from(perm), y);
  return output(backend, shape, y);
};

export const resizeNearest: NativeKernel = (addon, inputs, attrs, backend) => {
  const { images } = inputs;
  const [outH, outW] = attrs.size as [number, number];
  if (images.dtype !== 'float32' || images.shape.length !== 4 || shapeSize(images.shape) === 0 || outH * outW === 0) return null;
  const [n, h, w, c] = images.shape;
  const y = allocate(backend, n * outH * outW * c);
  addon.resizeNearest(
    values(backend, images),
    Int32Array.from(images.shape),
    nearestSources(h, outH, attrs),
    nearestSources(w, outW, attrs),
    y,
  );
  return output(backend, [n, outH, outW, c], y);
};

/** the exact adjoint of the forward resize, as gradient_kernels.ts's (TensorFlow.js's cpu kernel is wrong) */
export const resizeNearestGrad: NativeKernel = (addon, inputs, attrs, backend) => {
  const { images, dy } = inputs;
  if (!allFloat(images, dy) || images.shape.length !== 4 || shapeSize(images.shape) === 0 || shapeSize(dy.shape) === 0) return null;
  const [, h, w] = images.shape;
  const dx = allocate(backend, shapeSize(images.shape));
  addon.resizeNearestGrad(
    values(backend, dy),
    Int32Array.from(images.shape),
    nearestSources(h, dy.shape[1], attrs),
    nearestSources(w, dy.shape[2], attrs),
    dx,
  );
  return output(backend, images.shape, dx);
};
