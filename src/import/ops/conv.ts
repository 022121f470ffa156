// Conv: plain -> Conv2D, depthwise (group = input channels) -> DepthwiseConv2D,
// other groups -> slimtrain's GroupedConv2D (layers/grouped_conv.ts); a
// 1x1 convolution of a globally pooled (N, C, 1, 1) value (a squeeze-and-excitation
// gate) -> Dense. ONNX's explicit pads become TensorFlow's 'same' where they agree,
// else a ZeroPadding2D in front of a 'valid' convolution.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { pads as tfSamePads } from '../../onnx/builder.js';
import { GroupedConv2D } from '../../layers/grouped_conv.js';
import { tensorOf, type OpContext, type OpConverter, type TensorValue } from '../context.js';

/** ONNX [top, left, bottom, right] pads of a sliding window over x (attribute `pads` or `auto_pad`). */
export function windowPads(c: OpContext, x: TensorValue, kernel: number[], strides: number[], dilations: number[]): number[] {
  const [h, w] = x.t.shape.slice(1, 3) as number[];
  const autoPad = c.attrs.string('auto_pad', 'NOTSET');
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  if (autoPad === 'SAME_UPPER') return tfSamePads(h, w, kernel, strides, dilations, 'same');
  if (autoPad === 'SAME_LOWER') {
    const [t, l, b, r] = tfSamePads(h, w, kernel, strides, dilations, 'same');
    return [b, r, t, l];
  }
  const p = c.attrs.ints('pads', [0, 0, 0, 0]);
  if (p.length !== 4) c.fail(`pads [${p}] are not those of a 2-D window`);
  if (p.some((v) => v < 0)) c.fail(`negative pads [${p}] (cropping) are not supported`);
  return [p[0], p[1], p[2], p[3]];
}

/** x with [top, left, bottom, right] zeros around each map (ZeroPadding2D) */
export function zeroPadded(c: OpContext, x: TensorValue, [t, l, b, r]: number[], suffix = ''): TensorValue {
  const padding: [[number, number], [number, number]] = [
    [t, b],
    [l, r],
  ];
  return { ...x, t: c.apply((name) => tfl.layers.zeroPadding2d({ name, padding }), x, [], suffix), producer: c.node };
}

/** TensorFlow's padding for `pads`: 'same' or 'valid', with a ZeroPadding2D first when neither matches. */
export function spatialPadding(c: OpContext, x: TensorValue, pads: number[], kernel: number[], strides: number[], dilations: number[]) {
  const [h, w] = x.t.shape.slice(1, 3) as number[];
  if (pads.every((p) => p === 0)) return { x, padding: 'valid' as const };
  if (tfSamePads(h, w, kernel, strides, dilations, 'same').every((p, i) => p === pads[i])) return { x, padding: 'same' as const };
  return { x: zeroPadded(c, x, pads, '_pad'), padding: 'valid' as const };
}

const conv: OpConverter = (c) => {
  const x = c.tensor(0);
  const w = c.constant(1) ?? c.fail('the weights are computed, not stored');
  const bias = c.constant(2);
  const [out, inPerGroup, kh, kw] = w.dims;
  if (w.dims.length !== 4) c.fail(`only 2-D convolutions are supported (weights [${w.dims}])`);
  const group = c.attrs.int('group', 1);
  const strides = c.attrs.ints('strides', [1, 1]) as [number, number];
  const dilations = c.attrs.ints('dilations', [1, 1]) as [number, number];
  const weights = tf.tensor(w.data, w.dims, 'float32');
  const biasWeights = bias ? [tf.tensor(bias.data, [out], 'float32')] : [];
  const useBias = bias !== undefined;

  if (x.layout === 'nc11') {
    if (kh !== 1 || kw !== 1 || group !== 1) c.fail('a convolution of a globally pooled value must be 1x1 and not grouped');
    const kernel = tf.transpose(tf.reshape(weights, [out, inPerGroup]));
    const t = c.apply((name) => tfl.layers.dense({ name, units: out, useBias }), x, [kernel, ...biasWeights]);
    return tensorOf(t, 'nc11', { producer: c.node });
  }
  if (x.layout !== 'nchw') c.fail('the input is not an image-shaped (N, C, H, W) tensor');
  if (strides.some((s) => s > 1) && dilations.some((d) => d > 1)) {
    c.fail(`strides [${strides}] with dilations [${dilations}]: TensorFlow.js convolutions take one or the other`);
  }
  const channels = x.t.shape[3] as number;
  const kernel: [number, number] = [kh, kw];
  const padded = spatialPadding(c, x, windowPads(c, x, kernel, strides, dilations), kernel, strides, dilations);
  const common = { kernelSize: kernel, strides, dilationRate: dilations, padding: padded.padding, useBias };
  if (group === 1) {
    const t = c.apply((name) => tfl.layers.conv2d({ name, filters: out, ...common }), padded.x, [
      tf.transpose(weights, [2, 3, 1, 0]),
      ...biasWeights,
    ]);
    return tensorOf(t, 'nchw', { producer: c.node });
  }
  // TensorFlow.js's DepthwiseConv2D ignores its dilation rate: a dilated one (DeepLab's
  // and PAN's backbones at output stride 16) is a GroupedConv2D of one channel a part
  if (group === channels && inPerGroup === 1 && dilations.every((d) => d === 1)) {
    const multiplier = out / channels;
    const kernelTf = tf.transpose(tf.reshape(weights, [channels, multiplier, kh, kw]), [2, 3, 0, 1]);
    const t = c.apply((name) => tfl.layers.depthwiseConv2d({ name, depthMultiplier: multiplier, ...common }), padded.x, [
      kernelTf,
      ...biasWeights,
    ]);
    return tensorOf(t, 'nchw', { producer: c.node });
  }
  if (channels % group !== 0 || out % group !== 0 || inPerGroup !== channels / group)
    c.fail(`group=${group} does not divide its ${channels} input channels into parts of ${inPerGroup} and its ${out} filters`);
  const t = c.apply((name) => new GroupedConv2D({ name, filters: out, groups: group, ...common }), padded.x, [
    tf.transpose(weights, [2, 3, 1, 0]),
    ...biasWeights,
  ]);
  return tensorOf(t, 'nchw', { producer: c.node });
};

/**
 * ConvTranspose -> a 'valid' Conv2DTranspose, then a Cropping2D to ONNX's output:
 * its pads cut the full output's start and end, output_padding adds back at the end.
 * Where those rows are beyond the valid output (k2/s2 with output_padding 1), zero
 * rows at the end of the input make them: they hold the bias only, as ONNX's do.
 */
const convTranspose: OpConverter = (c) => {
  const x = c.tensor(0);
  if (x.layout !== 'nchw') c.fail('the input is not an image-shaped (N, C, H, W) tensor');
  const w = c.constant(1) ?? c.fail('the weights are computed, not stored');
  if (w.dims.length !== 4) c.fail(`only 2-D transposed convolutions are supported (weights [${w.dims}])`);
  const [, out, kh, kw] = w.dims;
  if (c.attrs.int('group', 1) !== 1) c.fail('grouped transposed convolutions are not supported');
  if (c.attrs.ints('dilations', [1, 1]).some((d) => d !== 1)) c.fail('dilated transposed convolutions are not supported');
  if (c.attrs.has('output_shape')) c.fail('an output_shape attribute is not supported; pads and output_padding are');
  const autoPad = c.attrs.string('auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') c.fail(`auto_pad ${autoPad} is not supported; explicit pads are`);
  const strides = c.attrs.ints('strides', [1, 1]) as [number, number];
  const [pt, pl, pb, pr] = autoPad === 'VALID' ? [0, 0, 0, 0] : c.attrs.ints('pads', [0, 0, 0, 0]);
  const outputPadding = c.attrs.ints('output_padding', [0, 0]);
  const bias = c.constant(2);
  const [h, wIn] = x.t.shape.slice(1, 3) as number[];
  const kernel = [kh, kw];
  if ([pt, pl, pb, pr].some((p) => p < 0)) c.fail(`negative pads [${[pt, pl, pb, pr]}] are not supported`);
  // rows the valid output has beyond ONNX's end; where ONNX's reach further (output_padding past
  // the end pad), zero input rows at the end add s rows each, which hold the bias only, as ONNX's do
  const extra = [0, 0];
  const cut = [0, 1].map((i) => {
    const valid = [h, wIn][i] * strides[i] + Math.max(kernel[i] - strides[i], 0);
    const onnx = ([h, wIn][i] - 1) * strides[i] + kernel[i] - [pt, pl][i] - [pb, pr][i] + outputPadding[i];
    const beyond = valid - [pt, pl][i] - onnx;
    extra[i] = beyond < 0 ? Math.ceil(-beyond / strides[i]) : 0;
    return beyond + extra[i] * strides[i];
  });
  const input = extra.some((e) => e > 0) ? zeroPadded(c, x, [0, 0, extra[0], extra[1]], '_pad') : x;
  const weights = [tf.transpose(tf.tensor(w.data, w.dims, 'float32'), [2, 3, 1, 0])];
  if (bias) weights.push(tf.tensor(bias.data, [out], 'float32'));
  const layer = (name: string) =>
    tfl.layers.conv2dTranspose({ name, filters: out, kernelSize: [kh, kw], strides, padding: 'valid', useBias: bias !== undefined });
  let y = tensorOf(c.apply(layer, input, weights), 'nchw', { producer: c.node });
  if (pt || pl || cut[0] || cut[1]) {
    const cropping: [[number, number], [number, number]] = [
      [pt, cut[0]],
      [pl, cut[1]],
    ];
    y = { ...y, t: c.apply((name) => tfl.layers.cropping2D({ name, cropping }), y, [], '_crop') };
  }
  return y;
};

export const convOps: Record<string, OpConverter> = { Conv: conv, ConvTranspose: convTranspose };
