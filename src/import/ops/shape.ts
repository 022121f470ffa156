// Layout-only operators: Flatten, Reshape (and Squeeze and Unsqueeze, reshapes that
// name axes of size 1), Transpose, Concat, Pad with zeros,
// Dropout, Identity; Shape and Constant give constants for the folding in
// constants.ts. A Reshape or Transpose that is not a flatten, an NHWC <-> NCHW
// switch or part of a channel shuffle works on the values in ONNX's order (a map is
// permuted to CHW first) and gives a 'flat' value; a Reshape to [C, H, W] that a
// convolution or pool reads gives a map.
import * as tfl from '@tensorflow/tfjs-layers';
import { concatWithZeros, groupedView, shuffled } from './channels.js';
import { zeroPadded } from './conv.js';
import { onnxSampleShape, tensorLike, tensorOf, type OpContext, type OpConverter, type TensorValue, type Value } from '../context.js';
import { attributes, type OnnxNode } from '../onnx_model.js';
import { axesOf, axisOf, squeezedDims } from '../constants.js';

/** A pooled (N, C, 1, 1) value, held as (N, C), as the (N, 1, 1, C) map it stands for; any other value as it is. */
export function asMap(c: OpContext, x: TensorValue): TensorValue {
  if (x.layout !== 'nc11') return x;
  const t = c.apply((name) => tfl.layers.reshape({ name, targetShape: [1, 1, x.t.shape[1] as number] }), x, [], '_map');
  return { ...x, t, layout: 'nchw' };
}

/** (N, C, H, W) -> (N, C*H*W): a flattened map remembers [C, H, W] so the next Gemm can reorder its rows. */
function flatten(c: OpContext, x: TensorValue): TensorValue {
  if (x.layout === 'flat' && x.t.shape.length === 2) return x;
  if (x.layout === 'flat')
    return tensorLike(
      x,
      c.apply((name) => tfl.layers.flatten({ name }), x),
      { producer: c.node },
    );
  if (x.layout === 'nc11') return { ...x, layout: 'flat' };
  const [channels, h, w] = onnxSampleShape(x);
  const t = c.apply((name) => tfl.layers.flatten({ name }), x);
  return tensorOf(t, 'flat', { nonNegative: x.nonNegative, flatFrom: h * w > 1 ? [channels, h, w] : undefined, producer: c.node });
}

const flattenOp: OpConverter = (c) => {
  if (c.attrs.int('axis', 1) !== 1)
    c.fail(`Flatten at axis ${c.attrs.int('axis', 1)} is not supported; at axis 1 (keeping the batch) it is`);
  return flatten(c, c.tensor(0));
};

const reshape: OpConverter = (c) => {
  const x = c.tensor(0);
  const target = Array.from((c.constant(1) ?? c.fail('its target shape is computed from values, not shapes')).data);
  const sample = onnxSampleShape(x);
  const size = sample.reduce((a, b) => a * b, 1);
  // the batch: taken from the input (NaN from Shape, 0 = copy) or the exported batch size
  const rest = target.slice(1).map((d, i) => (d === 0 ? sample[i] : d));
  if (rest.some(Number.isNaN)) c.fail('its target shape depends on the batch size beyond the first axis');
  const known = rest.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return reshapeTo(
    c,
    x,
    rest.map((d) => (d === -1 ? size / known : d)),
  );
};

/**
 * x as one sample of shape `dims` (ONNX's order, same size): a Reshape's, a Squeeze's or
 * an Unsqueeze's result, named `output` (the last of a folded chain's)
 */
function reshapeTo(c: OpContext, x: TensorValue, dims: number[], output = c.node.outputs[0]): TensorValue {
  const sample = onnxSampleShape(x);
  const size = sample.reduce((a, b) => a * b, 1);
  if (x.grouped) {
    if (dims.join() === sample.join()) return { ...x, grouped: undefined };
    c.fail(
      `reshaping a 5-D view [${x.grouped},${sample.slice(1)}] of the channels to [${dims}] is not supported; back to [${sample}] (a channel shuffle) it is`,
    );
  }
  const view = groupedView(x, dims);
  if (view) return view;
  if (dims.length === 1 && dims[0] === size) return flatten(c, x);
  // a map for the convolutions and pools that read it: held as NHWC
  const image = dims.length === 3 && c.consumers(output).some((n) => IMAGE_READERS.has(n.opType));
  if (dims.join() === sample.join() && (x.layout !== 'flat' || !image)) return x;
  // a vector as (N, C, 1, 1): an SE gate's, however it got there (one Reshape, or Unsqueezes one axis at a time)
  if (x.layout === 'flat' && !x.flatFrom && dims.length === 3 && dims[1] === 1 && dims[2] === 1) {
    return { ...flatten(c, x), layout: 'nc11' };
  }
  // a map's height and width reshaped for a convolution or pool, its channels kept (a row
  // turned into a column): one reshape of NHWC keeps each channel's positions in order,
  // and the channels removable
  if (image && x.layout === 'nchw' && dims[0] === sample[0]) {
    const t = c.apply((name) => tfl.layers.reshape({ name, targetShape: [dims[1], dims[2], dims[0]] }), x);
    return tensorOf(t, 'nchw', { nonNegative: x.nonNegative, producer: c.node });
  }
  if (x.flatFrom) c.fail(`reshaping the flattened map [${x.flatFrom}] to [${dims}] is not supported; flattening to (N, -1) is`);
  const ordered = inOnnxOrder(c, x);
  if (image) {
    const [channels, h, w] = dims;
    if (channels === 1 || h * w === 1) return tensorOf(reshaped(c, ordered, [h, w, channels]).t, 'nchw', { producer: c.node });
    const chw = reshaped(c, ordered, dims);
    return tensorOf(
      c.apply((name) => tfl.layers.permute({ name, dims: [2, 3, 1] }), chw, [], '_hwc'),
      'nchw',
      { producer: c.node },
    );
  }
  return { ...reshaped(c, ordered, dims), layout: 'flat', flatFrom: undefined, producer: c.node };
}

/** the axes a Squeeze or Unsqueeze node names (constants.ts axesOf); a later node's may come from a Constant node not converted yet */
function namedAxes(c: OpContext, node: OnnxNode): number[] | undefined {
  const input = c.opset >= 13 ? node.inputs[1] : undefined;
  const producer = input ? c.producer(input) : undefined;
  const axes = input
    ? (c.constantNamed(input) ?? (producer?.opType === 'Constant' ? attributes(producer, c.node.name).tensor('value') : undefined))
    : undefined;
  if (input && !axes) c.fail(`the axes of '${node.name}' are computed, not constant`);
  return axesOf([undefined, axes], attributes(node, c.node.name), c.opset);
}

/** one sample's ONNX shape after a Squeeze or Unsqueeze node; the batch axis stays first */
function squeezedShape(c: OpContext, node: OnnxNode, sample: number[]): number[] {
  // the batch is of no known size: a Squeeze without axes keeps it
  const dims = [NaN, ...sample];
  const axes = namedAxes(c, node);
  if (node.opType === 'Unsqueeze' && !axes?.length) c.fail(`'${node.name}' names no axes to insert`);
  const out = squeezedDims(node.opType, dims, axes);
  // the batch (NaN) no longer first: axis 0 squeezed, or an axis inserted before it
  if (!Number.isNaN(out[0])) c.fail(`'${node.name}' squeezes or inserts the batch axis (axis 0); slimtrain keeps the batch first`);
  const wide = node.opType === 'Squeeze' ? (axes ?? []).map((a) => axisOf(a, dims.length)).filter((a) => dims[a] !== 1) : [];
  if (wide.length) c.fail(`'${node.name}' squeezes axes [${wide}] of [N,${sample}], which are not of size 1`);
  return out.slice(1);
}

/**
 * Squeeze and Unsqueeze: reshapes that name axes of size 1. A chain of them (a pool
 * squeezed one axis at a time, a gate unsqueezed back) becomes one reshape, so that
 * no (N, C, 1) step stands between a vector and the channels it gates.
 */
const squeezeOrUnsqueeze: OpConverter = (c) => {
  const x = c.tensor(0);
  let dims = squeezedShape(c, c.node, onnxSampleShape(x));
  const chain: OnnxNode[] = [];
  let out = c.node.outputs[0];
  for (let next = c.consumers(out); next.length === 1 && ['Squeeze', 'Unsqueeze'].includes(next[0].opType); next = c.consumers(out)) {
    dims = squeezedShape(c, next[0], dims);
    chain.push(next[0]);
    out = next[0].outputs[0];
  }
  const result = reshapeTo(c, x, dims, out);
  for (const node of chain) c.absorb(node, [result]);
  return result;
};

/** operators that read their input as an image (N, C, H, W) */
const IMAGE_READERS = new Set([
  'Conv',
  'ConvTranspose',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'BatchNormalization',
  'Resize',
  'Upsample',
  'Pad',
]);

/**
 * x with its values in ONNX's order: a map with several channels and pixels is
 * permuted from NHWC to CHW; `shaped`: also with ONNX's [C, H, W] shape where the
 * values are already in that order (a Transpose reads the axes; a Reshape only the order)
 */
function inOnnxOrder(c: OpContext, x: TensorValue, shaped = false): TensorValue {
  if (x.layout !== 'nchw') return x;
  const [h, w, channels] = x.t.shape.slice(1) as number[];
  if (channels > 1 && h * w > 1) return { ...x, t: c.apply((name) => tfl.layers.permute({ name, dims: [3, 1, 2] }), x, [], '_chw') };
  return shaped ? reshaped(c, x, [channels, h, w]) : x;
}

/** x (values in ONNX's order) as one sample of shape `dims` */
function reshaped(c: OpContext, x: TensorValue, dims: number[]): TensorValue {
  if (x.t.shape.slice(1).join() === dims.join()) return x;
  return { ...x, t: c.apply((name) => tfl.layers.reshape({ name, targetShape: dims }), x, [], '_reshape') };
}

/** where ONNX axis `axis` of x lies in the tensor that holds it; undefined where no axis of it does */
function heldAxis(x: TensorValue, axis: number): number | undefined {
  if (x.layout === 'nchw') return [0, 3, 1, 2][axis];
  if (x.layout === 'nc11') return axis === 1 ? 1 : undefined;
  return axis;
}

const concat: OpConverter = (c) => {
  const values = c.node.inputs.map((_, i) => c.value(i));
  const first = values.find((v): v is TensorValue => v?.kind === 'tensor') ?? c.tensor(0);
  const rank = first.layout === 'flat' ? first.t.shape.length : 4;
  const axis = (c.attrs.int('axis', 1) + rank) % rank;
  const held = heldAxis(first, axis);
  if (axis === 0 || held === undefined)
    c.fail(`Concat along axis ${axis} of a ${rank}-D tensor is not supported; along any axis but the batch it is`);
  const channels = held === first.t.shape.length - 1;
  // zeros beside maps: channel padding (BlazeFace)
  if (values.some((v) => v?.kind === 'const')) {
    if (!channels) c.fail(`a constant input is supported only in a Concat along the channels, not along axis ${axis}`);
    return concatWithZeros(c, axis);
  }
  const xs = c.node.inputs.map((_, i) => c.tensor(i));
  // a Concat of one input (DenseNet's first block, as torch.onnx writes it) is that input
  if (xs.length === 1) return xs[0];
  if (xs.some((x) => x.layout !== xs[0].layout || x.flatFrom)) c.fail('its inputs differ in layout or are flattened maps');
  // along the channels a join the group analysis sees through; along other axes (an
  // SSD head's anchors) one it treats as opaque
  const t = c.apply((name) => tfl.layers.concatenate({ name, axis: channels ? -1 : held }), xs);
  return tensorLike(xs[0], t, { nonNegative: xs.every((x) => x.nonNegative), producer: c.node });
};

const pad: OpConverter = (c) => {
  const x = c.tensor(0);
  if (c.attrs.string('mode', 'constant') !== 'constant')
    c.fail(`Pad in mode '${c.attrs.string('mode', '')}' is not supported; zero padding is`);
  const pads = c.node.inputs[1] ? Array.from(c.constant(1)!.data) : c.attrs.ints('pads', []);
  const value = c.node.inputs[2] ? c.constant(2)!.data[0] : c.attrs.float('value', 0);
  if (x.layout !== 'nchw' || pads.length !== 8) c.fail('only padding of an image-shaped (N, C, H, W) tensor is supported');
  const [n0, c0, t, l, n1, c1, b, r] = pads;
  if (n0 || c0 || n1 || c1 || value !== 0) c.fail(`pads [${pads}] with value ${value}: only zero padding of height and width is supported`);
  if ([t, l, b, r].some((p) => p < 0)) c.fail(`negative pads [${pads}] (cropping) are not supported`);
  return zeroPadded(c, x, [t, l, b, r]);
};

const dropout: OpConverter = (c) => {
  const x = c.tensor(0);
  const ratio = c.node.inputs[1] ? c.constant(1)!.data[0] : c.attrs.float('ratio', 0.5);
  if (c.node.outputs[1] && c.consumers(c.node.outputs[1]).length) c.fail('its mask output is read by other nodes');
  if (!(ratio > 0)) return x;
  return tensorLike(
    x,
    c.apply((name) => tfl.layers.dropout({ name, rate: ratio }), x),
    { producer: c.node },
  );
};

/** Shape of a computed tensor, in ONNX's NCHW order; the batch is unknown here (NaN). */
const shape: OpConverter = (c) => {
  const dims = [NaN, ...onnxSampleShape(c.tensor(0))];
  const end = c.attrs.has('end') ? c.attrs.int('end', dims.length) : dims.length;
  const data = dims.slice(c.attrs.int('start', 0), end);
  return { kind: 'const', dims: [data.length], data };
};

const constant: OpConverter = (c) => {
  const t = c.attrs.tensor('value');
  if (t) return { kind: 'const', ...t };
  if (c.attrs.has('value_float')) return { kind: 'const', dims: [], data: Float32Array.of(c.attrs.float('value_float', 0)) };
  if (c.attrs.has('value_floats'))
    return { kind: 'const', dims: [], data: Float32Array.from(c.node.attrs.get('value_floats')!.floats ?? []) };
  if (c.attrs.has('value_int')) return { kind: 'const', dims: [], data: [c.attrs.int('value_int', 0)] };
  if (c.attrs.has('value_ints')) {
    const data = c.attrs.ints('value_ints', []);
    return { kind: 'const', dims: [data.length], data };
  }
  return c.fail('its value is of a kind slimtrain does not read (sparse or string)');
};

const identity: OpConverter = (c): Value => c.value(0) ?? c.fail('it has no input');

/**
 * The transposes between NHWC and NCHW that TensorFlow and Keras exports (tf2onnx)
 * write around a graph: TensorFlow.js holds images as NHWC, so only what the value
 * stands for changes (an (N, H, W, C) value is 'flat': the same values in the same order).
 */
const transpose: OpConverter = (c) => {
  const x = c.tensor(0);
  const perm = c.attrs.ints('perm', []).join();
  if (x.grouped) return shuffled(c, x, perm);
  if (perm === '0,3,1,2' && x.layout === 'flat' && x.t.shape.length === 4) return { ...x, layout: 'nchw', producer: c.node };
  if (perm === '0,2,3,1' && x.layout === 'nchw') return { ...x, layout: 'flat', flatFrom: undefined, producer: c.node };
  const order = c.attrs.ints('perm', []);
  if (order[0] !== 0) {
    c.fail(
      `transposing with perm [${perm}] is not supported: it moves the batch axis (as multi-head attention does to split its heads), ` +
        'which TensorFlow.js layers cannot; slimtrain imports CNNs and MLPs: export the part of the model before it',
    );
  }
  if (x.flatFrom)
    c.fail(`transposing the features of a flattened map [${x.flatFrom}] with perm [${perm}] is not supported; flatten after it`);
  // a map that convolutions or pools read: one Permute from how x is held to NHWC
  if (order.length === 4 && c.consumers(c.node.outputs[0]).some((n) => IMAGE_READERS.has(n.opType))) {
    // ONNX axis a of an NCHW map is held at axis [_, 3, 1, 2][a]; the result's H, W, C are ONNX axes order[2], order[3], order[1]
    const held = (a: number) => (x.layout === 'nchw' ? [0, 3, 1, 2][a] : a);
    const dims = [order[2], order[3], order[1]].map(held);
    if (dims.join() === '1,2,3') return { ...x, layout: 'nchw', flatFrom: undefined, producer: c.node };
    return tensorOf(
      c.apply((name) => tfl.layers.permute({ name, dims }), x),
      'nchw',
      { producer: c.node },
    );
  }
  // any other order of the axes after the batch: a Permute of the values in ONNX's order
  const ordered = inOnnxOrder(c, x, true);
  const t = c.apply((name) => tfl.layers.permute({ name, dims: order.slice(1) }), ordered);
  return { ...x, t, layout: 'flat', flatFrom: undefined, producer: c.node };
};

export const shapeOps: Record<string, OpConverter> = {
  Flatten: flattenOp,
  Reshape: reshape,
  Squeeze: squeezeOrUnsqueeze,
  Unsqueeze: squeezeOrUnsqueeze,
  Concat: concat,
  Pad: pad,
  Dropout: dropout,
  Shape: shape,
  Constant: constant,
  Identity: identity,
  Transpose: transpose,
};
