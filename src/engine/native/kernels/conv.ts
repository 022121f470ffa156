// Convolutions, depthwise ones too: forward (fused with bias and activation), and
// the gradients of the input and the weights, by oneDNN.
import { backend_util, type NamedAttrMap } from '@tensorflow/tfjs-core';
import { shapeSize } from '../../../util/shape.js';
import { activationCodes, allFloat, allocate, output, values, type Inputs, type NativeKernel, type Pair } from '../kernel.js';

function convShape(info: backend_util.Conv2DInfo, depthwise: boolean): Int32Array {
  return Int32Array.of(
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
    depthwise ? 1 : 0,
  );
}

function convInfo(xShape: number[], filterShape: number[], attrs: NamedAttrMap, depthwise: boolean): backend_util.Conv2DInfo | null {
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') return null;
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as Pair,
    (attrs.dilations as Pair | undefined) ?? 1,
    attrs.pad as 'same' | 'valid' | number | backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
  );
}

export function convForward(depthwise: boolean, fused: boolean): NativeKernel {
  return (addon, inputs, attrs, backend) => {
    const { x, filter } = inputs;
    const { bias, preluActivationWeights } = inputs as Partial<Inputs>;
    const activation = fused ? ((attrs.activation as string | undefined) ?? 'linear') : 'linear';
    const code = activationCodes[activation];
    if (code === undefined || preluActivationWeights != null || !allFloat(x, filter, bias)) return null;
    const info = convInfo(x.shape, filter.shape, attrs, depthwise);
    if (info == null || (bias != null && shapeSize(bias.shape) !== info.outChannels)) return null;
    const y = allocate(backend, info.batchSize * info.outHeight * info.outWidth * info.outChannels);
    addon.convForward(
      convShape(info, depthwise),
      values(backend, x),
      values(backend, filter),
      bias ? values(backend, bias) : null,
      y,
      code,
      (attrs.leakyreluAlpha as number | undefined) ?? 0.2,
    );
    return output(backend, info.outShape, y);
  };
}

export function convBackwardData(depthwise: boolean): NativeKernel {
  return (addon, inputs, attrs, backend) => {
    const { dy, filter } = inputs;
    if (!allFloat(dy, filter)) return null;
    const inputShape = attrs.inputShape as number[];
    const info = convInfo(inputShape, filter.shape, attrs, depthwise);
    if (info == null) return null;
    const dx = allocate(backend, shapeSize(inputShape));
    addon.convBackwardData(convShape(info, depthwise), values(backend, dy), values(backend, filter), dx);
    return output(backend, inputShape, dx);
  };
}

export function convBackwardWeights(depthwise: boolean): NativeKernel {
  return (addon, inputs, attrs, backend) => {
    const { x, dy } = inputs;
    if (!allFloat(x, dy)) return null;
    const filterShape = attrs.filterShape as number[];
    const info = convInfo(x.shape, filterShape, attrs, depthwise);
    if (info == null) return null;
    const dw = allocate(backend, shapeSize(filterShape));
    addon.convBackwardWeights(convShape(info, depthwise), values(backend, x), values(backend, dy), dw);
    return output(backend, filterShape, dw);
  };
}
