// Sums and means over a run of axes, and softmax over the last axis.
import { backend_util, util } from '@tensorflow/tfjs-core';
import { shapeSize } from '../../../util/shape.js';
import { allFloat, allocate, output, values, type NativeKernel } from '../kernel.js';

/** Sum or mean over axes that form one run (size-1 dimensions aside): x as [outer, reduce, inner]. */
export function reduce(mean: boolean): NativeKernel {
  return (addon, inputs, attrs, backend) => {
    const { x } = inputs;
    if (!allFloat(x) || shapeSize(x.shape) === 0) return null;
    const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
    const [outShape, reduceShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const runs = x.shape.map((n, d) => (n === 1 ? '' : axes.includes(d) ? 'r' : 'k')).join('');
    if (!/^k*r*k*$/.test(runs)) return null;
    const split = x.shape.map((n, d) => ({ n, d })).filter(({ n }) => n > 1);
    const firstReduced = split.findIndex(({ d }) => axes.includes(d));
    const outer = shapeSize(split.slice(0, firstReduced < 0 ? split.length : firstReduced).map(({ n }) => n));
    const reduceSize = shapeSize(reduceShape);
    const inner = shapeSize(x.shape) / outer / reduceSize;
    const out = allocate(backend, shapeSize(outShape));
    addon.reduceSum(values(backend, x), outer, reduceSize, inner, out, mean ? 1 / reduceSize : 1);
    const shape = attrs.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return output(backend, shape, out);
  };
}

/** softmax over the last axis (the only one TensorFlow.js's kernel takes) */
export const softmax: NativeKernel = (addon, inputs, attrs, backend) => {
  const { logits } = inputs;
  const dim = attrs.dim as number;
  const rank = logits.shape.length;
  if (logits.dtype !== 'float32' || rank === 0 || (dim !== -1 && dim !== rank - 1) || shapeSize(logits.shape) === 0) return null;
  const y = allocate(backend, shapeSize(logits.shape));
  addon.softmax(values(backend, logits), logits.shape[rank - 1], y);
  return output(backend, logits.shape, y);
};
