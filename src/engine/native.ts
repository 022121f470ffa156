// The 'native' backend: TensorFlow.js's cpu backend with
// the kernels that dominate training replaced by our N-API addon's (native/):
// oneDNN convolutions, BLAS matrix products, OpenMP elementwise work. The contract
// is native/addon.ts, the backend native/backend.ts, the kernels native/kernels/ by
// family; this file registers them.
import { getKernel, getKernelsForBackend, registerBackend, registerKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { nativeAddon } from './native/addon.js';
import { NativeBackend } from './native/backend.js';
import type { Backend, Inputs, NativeKernel } from './native/kernel.js';
import { convBackwardData, convBackwardWeights, convForward } from './native/kernels/conv.js';
import { matMul } from './native/kernels/matmul.js';
import { binary, clipByValue, clipGrad, compare, select, unary, unaryGrad } from './native/kernels/elementwise.js';
import { reduce, softmax } from './native/kernels/reduce.js';
import { batchNorm, batchNormTraining, batchNormTrainingGrad } from './native/kernels/batchnorm.js';
import { avgPoolGrad, maxPoolGrad, pool } from './native/kernels/pooling.js';
import { concat, pad, resizeNearest, resizeNearestGrad, slice, splitV, transpose } from './native/kernels/shape.js';
import { BatchNormTraining, BatchNormTrainingGrad } from './native/kernels/batchnorm.js';
import { ClipByValueGrad, Relu6Grad, ReluGrad, Swish, SwishGrad } from './native/kernels/elementwise.js';

export { addonPath, nativeAddon, openMpWait, type NativeAddon, type NativeInfo } from './native/addon.js';
export { NativeBackend } from './native/backend.js';
export { BatchNormTraining, BatchNormTrainingGrad, ClipByValueGrad, Relu6Grad, ReluGrad, Swish, SwishGrad };

const nativeKernels: Record<string, NativeKernel> = {
  Conv2D: convForward(false, false),
  FusedConv2D: convForward(false, true),
  DepthwiseConv2dNative: convForward(true, false),
  FusedDepthwiseConv2D: convForward(true, true),
  Conv2DBackpropInput: convBackwardData(false),
  DepthwiseConv2dNativeBackpropInput: convBackwardData(true),
  Conv2DBackpropFilter: convBackwardWeights(false),
  DepthwiseConv2dNativeBackpropFilter: convBackwardWeights(true),
  BatchMatMul: matMul(false),
  _FusedMatMul: matMul(true),
  Add: binary(0),
  Sub: binary(1),
  Multiply: binary(2),
  RealDiv: binary(3),
  SquaredDifference: binary(4),
  Maximum: binary(5),
  Minimum: binary(6),
  EluGrad: binary(7, ['dy', 'y']),
  Greater: compare(0),
  GreaterEqual: compare(1),
  Less: compare(2),
  LessEqual: compare(3),
  Equal: compare(4),
  NotEqual: compare(5),
  Select: select,
  Prelu: binary(8, ['x', 'alpha']),
  Relu: unary(0),
  Relu6: unary(1),
  Step: unary(2),
  Square: unary(3),
  Neg: unary(4),
  Sqrt: unary(5),
  Rsqrt: unary(6),
  Exp: unary(7),
  Log: unary(8),
  Abs: unary(9),
  Sigmoid: unary(10),
  Tanh: unary(12),
  Elu: unary(13),
  LeakyRelu: unary(14),
  Floor: unary(15),
  Erf: unary(16),
  Softmax: softmax,
  Transpose: transpose,
  ResizeNearestNeighbor: resizeNearest,
  ResizeNearestNeighborGrad: resizeNearestGrad,
  Sum: reduce(false),
  Mean: reduce(true),
  FusedBatchNorm: batchNorm,
  MaxPool: pool('maxPool'),
  MaxPoolGrad: maxPoolGrad,
  AvgPool: pool('avgPool'),
  AvgPoolGrad: avgPoolGrad,
  [BatchNormTraining]: batchNormTraining,
  [BatchNormTrainingGrad]: batchNormTrainingGrad,
  [ReluGrad]: unaryGrad(0),
  [Swish]: unary(11),
  [SwishGrad]: unaryGrad(1),
  [Relu6Grad]: clipGrad(true),
  [ClipByValueGrad]: clipGrad(false),
  ClipByValue: clipByValue,
  Slice: slice,
  PadV2: pad,
  Concat: concat,
  SplitV: splitV,
};

export const nativeKernelNames = Object.keys(nativeKernels);

/** calls, per kernel name, that ran the cpu backend's JavaScript kernel on the native backend */
const javascriptCalls = new Map<string, number>();

/**
 * Kernels the native backend ran in the cpu backend's JavaScript since the last call
 * (a kernel it lacks, or a layout its kernel does not cover), with their call counts;
 * the count starts again from zero.
 */
export function takeJavaScriptCalls(): Map<string, number> {
  const calls = new Map(javascriptCalls);
  javascriptCalls.clear();
  return calls;
}

const countJavaScript = (kernelName: string) => javascriptCalls.set(kernelName, (javascriptCalls.get(kernelName) ?? 0) + 1);

let registered = false;

/**
 * Registers the 'native' backend: the cpu backend's kernels, ours in place of the
 * ones we implement. Returns false (and registers nothing) when the addon is missing.
 */
export function registerNativeBackend(): boolean {
  const loadedAddon = nativeAddon();
  if (!('addon' in loadedAddon)) return false;
  if (registered) return true;
  registered = true;
  const { addon } = loadedAddon;
  registerBackend('native', () => new NativeBackend(), 1);
  for (const [kernelName, impl] of Object.entries(nativeKernels)) {
    const cpuKernel = getKernel(kernelName, 'cpu');
    const kernelFunc: KernelConfig['kernelFunc'] = ({ inputs, attrs, backend }) => {
      const out = impl(addon, inputs as Inputs, attrs ?? {}, backend as Backend);
      if (out != null) return out;
      if (cpuKernel == null)
        throw new Error(`native backend: ${kernelName} needs a layout it does not cover, and the cpu backend has no ${kernelName}`);
      countJavaScript(kernelName);
      return cpuKernel.kernelFunc({ inputs, attrs: attrs ?? {}, backend });
    };
    registerKernel({ kernelName, backendName: 'native', kernelFunc });
  }
  for (const config of getKernelsForBackend('cpu')) {
    if (config.kernelName in nativeKernels) continue;
    const kernelFunc: KernelConfig['kernelFunc'] = (args) => {
      countJavaScript(config.kernelName);
      return config.kernelFunc(args);
    };
    registerKernel({ ...config, backendName: 'native', kernelFunc });
  }
  return true;
}
