// MaxPool and AveragePool -> MaxPooling2D / AveragePooling2D. ONNX pools see explicit
// pads and may round their output size up (ceil_mode); TensorFlow.js pools are
// 'valid' or 'same'. Pads that are neither become a ZeroPadding2D in front, which is
// exact for max pooling of non-negative values (after ReLU) and for average pooling
// that counts the padding. GlobalAveragePool, GlobalMaxPool and ReduceMean over H, W.
import * as tfl from '@tensorflow/tfjs-layers';
import { pads as tfSamePads } from '../../onnx/builder.js';
import { tensorLike, tensorOf, type OpContext, type OpConverter, type TensorValue } from '../context.js';
import { windowPads, zeroPadded } from './conv.js';

/** ONNX's output length of a pooling window (ONNX Runtime's and PyTorch's rule for ceil mode). */
function outputLength(n: number, k: number, s: number, before: number, after: number, ceil: boolean): number {
  const span = n + before + after - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + before) out -= 1;
  return out;
}

const pool =
  (kind: 'max' | 'average'): OpConverter =>
  (c) => {
    const x = c.tensor(0);
    if (x.layout !== 'nchw') c.fail('the input is not an image-shaped (N, C, H, W) tensor');
    if (c.node.outputs[1] && c.consumers(c.node.outputs[1]).length) c.fail('its indices output is not supported');
    const kernel = c.attrs.ints('kernel_shape', []);
    const strides = c.attrs.ints('strides', [1, 1]);
    if (c.attrs.ints('dilations', [1, 1]).some((d) => d !== 1)) c.fail('dilated pooling is not supported');
    const ceil = c.attrs.int('ceil_mode', 0) === 1;
    const countPad = c.attrs.int('count_include_pad', 0) === 1;
    const [h, w] = x.t.shape.slice(1, 3) as number[];
    const [pt, pl, pb, pr] = windowPads(c, x, kernel, strides, [1, 1]);
    const out = [outputLength(h, kernel[0], strides[0], pt, pb, ceil), outputLength(w, kernel[1], strides[1], pl, pr, ceil)];
    // bottom/right padding a valid pool needs to give `out` windows starting where ONNX's start
    const after = [0, 1].map((i) => Math.max(0, (out[i] - 1) * strides[i] + kernel[i] - [h, w][i] - [pt, pl][i]));
    const make = (padding: 'valid' | 'same') => (name: string) =>
      kind === 'max'
        ? tfl.layers.maxPooling2d({ name, poolSize: kernel as [number, number], strides: strides as [number, number], padding })
        : tfl.layers.averagePooling2d({ name, poolSize: kernel as [number, number], strides: strides as [number, number], padding });
    const result = (t: ReturnType<OpContext['apply']>) => tensorLike(x, t, { producer: c.node });

    if (pt === 0 && pl === 0 && after.every((a) => a === 0)) return result(c.apply(make('valid'), x));
    const same = tfSamePads(h, w, kernel, strides, [1, 1], 'same');
    const sameOut = [Math.ceil(h / strides[0]), Math.ceil(w / strides[1])];
    // TensorFlow's 'same' leaves the padding out of the max and the mean
    if ((kind === 'max' || !countPad) && same[0] === pt && same[1] === pl && sameOut.every((o, i) => o === out[i])) {
      return result(c.apply(make('same'), x));
    }
    const zeroPadExact = kind === 'max' ? x.nonNegative : countPad && after[0] <= pb && after[1] <= pr;
    if (!zeroPadExact) {
      c.fail(
        kind === 'max'
          ? `pads [${pt}, ${pl}, ${pb}, ${pr}] on an input that may be negative: only a max pool after ReLU (or with TensorFlow's 'same' pads) is supported`
          : `pads [${pt}, ${pl}, ${pb}, ${pr}] with count_include_pad=0 are not supported; count_include_pad=1 or no padding is`,
      );
    }
    return result(c.apply(make('valid'), zeroPadded(c, x, [pt, pl, after[0], after[1]], '_pad')));
  };

const globalPool =
  (kind: 'max' | 'average', keepDims: (c: OpContext) => boolean): OpConverter =>
  (c) => {
    const x = c.tensor(0);
    if (x.layout !== 'nchw') c.fail('the input is not an image-shaped (N, C, H, W) tensor');
    const make = (name: string) => (kind === 'max' ? tfl.layers.globalMaxPooling2d({ name }) : tfl.layers.globalAveragePooling2d({ name }));
    return tensorOf(c.apply(make, x), keepDims(c) ? 'nc11' : 'flat', { nonNegative: x.nonNegative, producer: c.node });
  };

/** ReduceMean over the two spatial axes: a global average pool (the squeeze of SE blocks). */
const reduceMean: OpConverter = (c) => {
  const x: TensorValue = c.tensor(0);
  const axes = c.opset >= 18 && c.node.inputs[1] ? Array.from(c.constant(1)!.data) : c.attrs.ints('axes', []);
  const spatial = axes.map((a) => (a + 4) % 4).sort();
  if (x.layout !== 'nchw' || spatial.join() !== '2,3')
    c.fail(`ReduceMean over axes [${axes}] is not supported; over H and W ([2, 3]) it is`);
  return globalPool('average', (cc) => cc.attrs.int('keepdims', 1) === 1)(c);
};

export const poolingOps: Record<string, OpConverter> = {
  MaxPool: pool('max'),
  AveragePool: pool('average'),
  GlobalAveragePool: globalPool('average', () => true),
  GlobalMaxPool: globalPool('max', () => true),
  ReduceMean: reduceMean,
};
