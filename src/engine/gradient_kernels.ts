// Gradient kernels for backends that lack them (the wasm backend has no
// Conv2DBackpropFilter and no depthwise backprops) or compute them wrongly (its
// MaxPoolGrad; the cpu backend's ResizeNearestNeighborGrad). The convolution ones are composed from forward kernels the backend
// does have, as docs/DESIGN.md, "Traps", describes:
// - the filter gradient is a convolution of the input with the output gradient as
//   its filter (batch and channel axes swapped, stride and dilation swapped);
// - the depthwise input gradient is a depthwise convolution of the zero-inserted
//   output gradient with the flipped filter.
import {
  backend_util,
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelBackend,
  type KernelConfig,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

type Pair = [number, number];
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** Runs another kernel of the same backend; the caller owns (and must release) the result. */
class KernelRunner {
  private readonly temps: TensorInfo[] = [];
  constructor(
    private readonly backend: KernelBackend,
    private readonly backendName: string,
  ) {}

  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(kernelName, this.backendName);
    if (kernel == null) {
      throw new Error(`backend '${this.backendName}' has no ${kernelName} kernel, needed by slimtrain's gradient kernels`);
    }
    const out = kernel.kernelFunc({ inputs, attrs, backend: this.backend }) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (size.every((s, i) => s === x.shape[i])) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  /** Releases every intermediate except `keep`, which is returned to the engine. */
  finish(keep: TensorInfo): TensorInfo {
    for (const t of this.temps) {
      if (t !== keep) this.backend.disposeData(t.dataId);
    }
    return keep;
  }
}

/** Pads in {top, bottom, left, right}; negative values are crops, done on the output. */
interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * A stride-`stride`, dilation-`dilation` (depthwise or regular) convolution with
 * arbitrary, possibly negative padding, cropped to `outHeight` x `outWidth`.
 */
function paddedConv(
  r: KernelRunner,
  depthwise: boolean,
  x: TensorInfo,
  filter: TensorInfo,
  stride: Pair,
  dilation: Pair,
  pad: Padding,
  outHeight: number,
  outWidth: number,
): TensorInfo {
  const explicit: ExplicitPad = [
    [0, 0],
    [Math.max(pad.top, 0), Math.max(pad.bottom, 0)],
    [Math.max(pad.left, 0), Math.max(pad.right, 0)],
    [0, 0],
  ];
  // A negative top/left pad skips input rows: with stride 1 those are the first
  // output rows of the unpadded convolution. Callers only pass negatives with stride 1.
  const cropTop = Math.max(-pad.top, 0);
  const cropLeft = Math.max(-pad.left, 0);
  const out = r.run(depthwise ? 'DepthwiseConv2dNative' : 'Conv2D', { x, filter }, {
    strides: stride,
    pad: explicit,
    dilations: dilation,
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
  } as unknown as NamedAttrMap);
  const [b, , , c] = out.shape;
  return r.slice(out, [0, cropTop, cropLeft, 0], [b, outHeight, outWidth, c]);
}

interface FilterGradGeometry {
  convInfo: backend_util.Conv2DInfo;
  /** bottom/right padding that makes the swapped convolution produce at least the filter size */
  bottom: number;
  right: number;
}

function filterGradGeometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: NamedAttrMap,
  depthwise: boolean,
): FilterGradGeometry {
  const { strides, pad, dimRoundingMode } = attrs as unknown as {
    strides: number | Pair;
    pad: 'valid' | 'same' | number | ExplicitPad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const dilations = (attrs.dilations ?? 1) as number | Pair;
  const convInfo = backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations, pad, dimRoundingMode, depthwise);
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth } = convInfo;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth, padInfo } = convInfo;
  const bottom = Math.max(0, (filterHeight - 1) * dilationHeight + (outHeight - 1) * strideHeight + 1 - inHeight - padInfo.top);
  const right = Math.max(0, (filterWidth - 1) * dilationWidth + (outWidth - 1) * strideWidth + 1 - inWidth - padInfo.left);
  return { convInfo, bottom, right };
}

function conv2DBackpropFilter(inputs: NamedTensorInfoMap, attrs: NamedAttrMap, backend: KernelBackend, backendName: string): TensorInfo {
  const r = new KernelRunner(backend, backendName);
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const filterShape = attrs.filterShape as unknown as [number, number, number, number];
  const { convInfo, bottom, right } = filterGradGeometry(x.shape as [number, number, number, number], filterShape, attrs, false);
  // dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s + kh*d - pt, ..., ci] * dy[n,oh,ow,co]:
  // a convolution over "images" ci with "channels" n, filter dy[oh,ow,n,co],
  // stride d and dilation s.
  const xT = r.transpose(x, [3, 1, 2, 0]);
  const dyT = r.transpose(dy, [1, 2, 0, 3]);
  const out = paddedConv(
    r,
    false,
    xT,
    dyT,
    [convInfo.dilationHeight, convInfo.dilationWidth],
    [convInfo.strideHeight, convInfo.strideWidth],
    { top: convInfo.padInfo.top, left: convInfo.padInfo.left, bottom, right },
    convInfo.filterHeight,
    convInfo.filterWidth,
  );
  return r.finish(r.transpose(out, [1, 2, 0, 3]));
}

function depthwiseBackpropFilter(inputs: NamedTensorInfoMap, attrs: NamedAttrMap, backend: KernelBackend, backendName: string): TensorInfo {
  const r = new KernelRunner(backend, backendName);
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const filterShape = attrs.filterShape as unknown as [number, number, number, number];
  const [n, h, w, c] = x.shape;
  const [kh, kw, , m] = filterShape;
  const { convInfo, bottom, right } = filterGradGeometry(x.shape as [number, number, number, number], filterShape, attrs, true);
  const { outHeight, outWidth } = convInfo;
  // One depthwise convolution over n*c channels of a single image; the batch sum
  // is taken afterwards.
  const xT = r.reshape(r.transpose(x, [1, 2, 0, 3]), [1, h, w, n * c]);
  const dy5 = r.reshape(dy, [n, outHeight, outWidth, c, m]);
  const dyT = r.reshape(r.transpose(dy5, [1, 2, 0, 3, 4]), [outHeight, outWidth, n * c, m]);
  const out = paddedConv(
    r,
    true,
    xT,
    dyT,
    [convInfo.dilationHeight, convInfo.dilationWidth],
    [convInfo.strideHeight, convInfo.strideWidth],
    { top: convInfo.padInfo.top, left: convInfo.padInfo.left, bottom, right },
    kh,
    kw,
  );
  const perImage = r.reshape(out, [kh, kw, n, c * m]);
  const summed = r.run('Sum', { x: perImage }, { axis: [2], keepDims: false });
  return r.finish(r.reshape(summed, filterShape));
}

/**
 * The input gradient of a regular or depthwise convolution: a stride-1 convolution of
 * the zero-inserted output gradient with the flipped filter (for a regular one also
 * transposed, so that it maps output channels back to input channels).
 */
function backpropInput(
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
  backend: KernelBackend,
  backendName: string,
  depthwise: boolean,
): TensorInfo {
  const r = new KernelRunner(backend, backendName);
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const inputShape = attrs.inputShape as unknown as [number, number, number, number];
  const { strides, pad, dimRoundingMode } = attrs as unknown as {
    strides: number | Pair;
    pad: 'valid' | 'same' | number | ExplicitPad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const dilations = (attrs.dilations ?? 1) as number | Pair;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    depthwise,
  );
  const [n, h, w, c] = inputShape;
  const [kh, kw, , m] = filter.shape;
  const channels = dy.shape[3];
  if (channels !== (depthwise ? c * m : m)) {
    throw new Error(
      `backprop input: output gradient has ${channels} channels, the filter [${filter.shape}] gives ${depthwise ? c * m : m}`,
    );
  }
  const { outHeight, outWidth, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw, padInfo } = info;

  // Zero-insert the output gradient so that the stride becomes 1.
  let dyUp = dy;
  if (sh > 1 || sw > 1) {
    const spread = r.reshape(dy, [n, outHeight, 1, outWidth, 1, channels]);
    const padded = r.run(
      'PadV2',
      { x: spread },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    dyUp = r.reshape(padded, [n, outHeight * sh, outWidth * sw, channels]);
  }
  const upHeight = dyUp.shape[1];
  const upWidth = dyUp.shape[2];
  // dx[h] = sum_k dyUp[h + pt - k*d] f[k]: a correlation with the flipped filter.
  const flipped = r.run('Reverse', { x: filter }, { dims: [0, 1] });
  const backFilter = depthwise ? r.reshape(flipped, [kh, kw, c * m, 1]) : r.transpose(flipped, [0, 1, 3, 2]);
  const dxAll = paddedConv(
    r,
    depthwise,
    dyUp,
    backFilter,
    [1, 1],
    [dh, dw],
    {
      top: (kh - 1) * dh - padInfo.top,
      bottom: h - 1 + padInfo.top - (upHeight - 1),
      left: (kw - 1) * dw - padInfo.left,
      right: w - 1 + padInfo.left - (upWidth - 1),
    },
    h,
    w,
  );
  if (!depthwise || m === 1) return r.finish(dxAll);
  // depthwise with multiplier m: sum the m gradients of each input channel
  const split = r.reshape(dxAll, [n, h, w, c, m]);
  return r.finish(r.run('Sum', { x: split }, { axis: [4], keepDims: false }));
}

/**
 * MaxPoolGrad written out: the gradient goes to the first maximum of each window
 * (rows, then columns), padding never wins. The wasm backend's own kernel drops the
 * gradient of windows whose values are all negative, so we replace it there.
 */
function maxPoolGrad(inputs: NamedTensorInfoMap, attrs: NamedAttrMap, backend: KernelBackend): TensorInfo {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: number | Pair;
    strides: number | Pair;
    pad: 'valid' | 'same' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth, padInfo } = info;
  const x = backend.readSync(input.dataId) as Float32Array;
  const g = backend.readSync(dy.dataId) as Float32Array;
  const dx = new Float32Array(x.length);
  // channels innermost: contiguous reads, one running maximum per channel
  const best = new Float32Array(c);
  const at = new Int32Array(c);
  for (let b = 0; b < batchSize; b++) {
    const xBase = b * inHeight * inWidth * c;
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = oh * strideHeight - padInfo.top;
      const hStart = Math.max(0, h0);
      const hEnd = Math.min(inHeight, h0 + filterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const w0 = ow * strideWidth - padInfo.left;
        const wStart = Math.max(0, w0);
        const wEnd = Math.min(inWidth, w0 + filterWidth);
        best.fill(-Infinity);
        at.fill(-1);
        for (let h = hStart; h < hEnd; h++) {
          for (let w = wStart; w < wEnd; w++) {
            const base = xBase + (h * inWidth + w) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = x[base + ch];
              if (v > best[ch] || at[ch] < 0) {
                best[ch] = v;
                at[ch] = base + ch;
              }
            }
          }
        }
        const gBase = ((b * outHeight + oh) * outWidth + ow) * c;
        for (let ch = 0; ch < c; ch++) if (at[ch] >= 0) dx[at[ch]] += g[gBase + ch];
      }
    }
  }
  return { dataId: backend.write(dx, input.shape, 'float32'), shape: input.shape, dtype: 'float32' };
}

/**
 * The input row (or column) each output row reads in a nearest resize, computed as
 * TensorFlow.js's forward kernels compute it (align corners, half-pixel centres).
 */
export function nearestSources(inSize: number, outSize: number, attrs: NamedAttrMap): Int32Array {
  const align = (attrs.alignCorners as boolean) && outSize > 1;
  const halfPixel = attrs.halfPixelCenters as boolean;
  const ratio = (align ? inSize - 1 : inSize) / (align ? outSize - 1 : outSize);
  return Int32Array.from({ length: outSize }, (_, i) => {
    const at = halfPixel ? ratio * (i + 0.5) : ratio * i;
    const nearest = Math.min(inSize - 1, align ? Math.round(at) : Math.floor(at));
    return halfPixel ? Math.max(0, nearest) : nearest;
  });
}

/**
 * The gradient of a nearest resize as the exact transpose of the forward map: each
 * output pixel's dy is added into the input pixel it read. TensorFlow.js 4.22's cpu
 * kernel reads dy at the input's batch offset (wrong after the first image), and both
 * its cpu and wasm kernels leave half-pixel centres out.
 */
function resizeNearestGrad(inputs: NamedTensorInfoMap, attrs: NamedAttrMap, backend: KernelBackend): TensorInfo {
  const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
  const [batch, inHeight, inWidth, c] = images.shape;
  const [, outHeight, outWidth] = dy.shape;
  const rows = nearestSources(inHeight, outHeight, attrs);
  const cols = nearestSources(inWidth, outWidth, attrs);
  const g = backend.readSync(dy.dataId) as Float32Array;
  const dx = new Float32Array(batch * inHeight * inWidth * c);
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < outHeight; r++) {
      for (let col = 0; col < outWidth; col++) {
        const from = ((b * outHeight + r) * outWidth + col) * c;
        const to = ((b * inHeight + rows[r]) * inWidth + cols[col]) * c;
        for (let ch = 0; ch < c; ch++) dx[to + ch] += g[from + ch];
      }
    }
  }
  return { dataId: backend.write(dx, images.shape, 'float32'), shape: images.shape, dtype: 'float32' };
}

type GradKernel = (inputs: NamedTensorInfoMap, attrs: NamedAttrMap, backend: KernelBackend, backendName: string) => TensorInfo;

const gradientKernels: Record<string, GradKernel> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  Conv2DBackpropInput: (inputs, attrs, backend, name) => backpropInput(inputs, attrs, backend, name, false),
  DepthwiseConv2dNativeBackpropInput: (inputs, attrs, backend, name) => backpropInput(inputs, attrs, backend, name, true),
  MaxPoolGrad: (inputs, attrs, backend) => maxPoolGrad(inputs, attrs, backend),
  ResizeNearestNeighborGrad: (inputs, attrs, backend) => resizeNearestGrad(inputs, attrs, backend),
};

/** The kernel config of one of our gradient kernels for `backendName`. */
export function gradientKernelConfig(kernelName: string, backendName: string): KernelConfig {
  const impl = gradientKernels[kernelName];
  if (impl == null) throw new Error(`slimtrain has no gradient kernel named ${kernelName}`);
  const slimtrainKernel: KernelConfig['kernelFunc'] = ({ inputs, attrs, backend }) =>
    impl(inputs, attrs ?? {}, backend as KernelBackend, backendName);
  return { kernelName, backendName, kernelFunc: slimtrainKernel };
}

export const gradientKernelNames = Object.keys(gradientKernels);

/**
 * Kernels a backend has but that ours replace there: wasm's MaxPoolGrad is wrong,
 * its Conv2DBackpropInput about 8x slower than our composition on its own Conv2D,
 * its ResizeNearestNeighborGrad ignores half-pixel centres; the cpu backend's is
 * wrong after the first image too.
 */
const replacedKernels: Record<string, string[]> = {
  wasm: ['MaxPoolGrad', 'Conv2DBackpropInput', 'ResizeNearestNeighborGrad'],
  cpu: ['ResizeNearestNeighborGrad'],
};

/**
 * Registers our gradient kernels on `backendName` for every one it lacks or that we
 * replace there; returns the names of ours in use there. Its other kernels stay.
 */
export function registerMissingGradientKernels(backendName: string): string[] {
  const ours: string[] = [];
  const replaced = replacedKernels[backendName] ?? [];
  for (const name of gradientKernelNames) {
    const existing = getKernel(name, backendName);
    if (existing != null && existing.kernelFunc.name !== 'slimtrainKernel') {
      if (!replaced.includes(name)) continue;
      unregisterKernel(name, backendName);
    }
    if (existing == null || existing.kernelFunc.name !== 'slimtrainKernel') registerKernel(gradientKernelConfig(name, backendName));
    ours.push(name);
  }
  return ours;
}
