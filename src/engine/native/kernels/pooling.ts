// Max and average pooling of NHWC maps, and their gradients.
import { backend_util, type NamedAttrMap } from '@tensorflow/tfjs-core';
import { shapeSize } from '../../../util/shape.js';
import { allFloat, allocate, output, values, type NativeKernel, type Pair } from '../kernel.js';

function poolInfo(xShape: number[], attrs: NamedAttrMap): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize as Pair,
    attrs.strides as Pair,
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
}

function poolShape(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.of(
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  );
}

/** max or average pooling of a float32 NHWC map */
export const pool =
  (op: 'maxPool' | 'avgPool'): NativeKernel =>
  (addon, inputs, attrs, backend) => {
    const { x } = inputs;
    if (!allFloat(x) || x.shape.length !== 4) return null;
    const info = poolInfo(x.shape, attrs);
    const y = allocate(backend, shapeSize(info.outShape));
    addon[op](poolShape(info), values(backend, x), y);
    return output(backend, info.outShape, y);
  };

export const maxPoolGrad: NativeKernel = (addon, inputs, attrs, backend) => {
  const { dy, input } = inputs;
  if (!allFloat(dy, input) || input.shape.length !== 4) return null;
  const info = poolInfo(input.shape, attrs);
  const dx = allocate(backend, shapeSize(input.shape));
  addon.maxPoolGrad(poolShape(info), values(backend, dy), values(backend, input), dx);
  return output(backend, input.shape, dx);
};

/** divides each window's gradient by the inputs its forward pass counted (the cpu kernel divides by the window size) */
export const avgPoolGrad: NativeKernel = (addon, inputs, attrs, backend) => {
  const { dy, input } = inputs;
  if (!allFloat(dy, input) || input.shape.length !== 4) return null;
  const info = poolInfo(input.shape, attrs);
  const dx = allocate(backend, shapeSize(input.shape));
  addon.avgPoolGrad(poolShape(info), values(backend, dy), dx);
  return output(backend, input.shape, dx);
};
