// Operators that move, pick or pad channels without weights, each a ChannelSelect
// (layers/channel_select.ts): Split and Slice along the channels (a Slice of a map's
// height and width is a Cropping2D), Concat with zeros
// (channel padding), and the channel shuffle written as Reshape (N, G, C/G, H, W) ->
// Transpose [0, 2, 1, 3, 4] -> Reshape back. Between those three nodes the value is
// held as it was, marked `grouped`: what it stands for in ONNX is the 5-D view.
import * as tfl from '@tensorflow/tfjs-layers';
import { ChannelSelect } from '../../layers/channel_select.js';
import { sliceRanges } from '../constants.js';
import { tensorLike, type OpContext, type OpConverter, type TensorValue } from '../context.js';

/** the ONNX axis that holds the channels of `x` (its last axis in TensorFlow.js) */
export function channelAxis(x: TensorValue): number {
  return x.layout === 'flat' ? x.t.shape.length - 1 : 1;
}

/** `x` with output channel k = input channel indices[k] (-1: zeros) */
export function selectChannels(c: OpContext, x: TensorValue, indices: number[], suffix = ''): TensorValue {
  if (indices.length === x.t.shape.at(-1) && indices.every((i, k) => i === k)) return x;
  if (indices.length === 0) c.fail('it takes no channels: an empty tensor has nothing to train');
  if (x.flatFrom) c.fail('it picks features of a flattened map; slimtrain picks channels of maps and features of vectors');
  const t = c.apply((name) => new ChannelSelect({ name, indices }), x, [], suffix);
  return tensorLike(x, t, { producer: c.node });
}

const range = (from: number, count: number, step = 1) => Array.from({ length: count }, (_, k) => from + k * step);

const split: OpConverter = (c) => {
  const x = c.tensor(0);
  const rank = x.layout === 'flat' ? x.t.shape.length : 4;
  const axis = (c.attrs.int('axis', 0) + rank) % rank;
  if (axis !== channelAxis(x)) c.fail(`Split along axis ${axis} is not supported; along the channels (axis ${channelAxis(x)}) it is`);
  const channels = x.t.shape.at(-1) as number;
  const outputs = c.node.outputs.length;
  // sizes: an attribute before opset 13, an input from 13; equal parts without them
  const given = c.opset < 13 ? c.attrs.ints('split', []) : Array.from(c.constant(1)?.data ?? []);
  const per = Math.ceil(channels / outputs);
  const sizes = given.length ? given : range(0, outputs).map((k) => Math.min(per, channels - per * k));
  if (sizes.length !== outputs || sizes.reduce((a, b) => a + b, 0) !== channels)
    c.fail(`split sizes [${sizes}] do not cut ${channels} channels into ${outputs} parts`);
  let from = 0;
  return sizes.map((n, k) => {
    const part = selectChannels(c, x, range(from, n), `_${k}`);
    from += n;
    return part;
  });
};

/** Slice along the channels (a ChannelSelect) and, of a map, along height and width with step 1 (a Cropping2D) */
const slice: OpConverter = (c) => {
  const x = c.tensor(0);
  // the batch size is not known: a slice of it is whole when it starts at 0 and runs to the end
  const dims =
    x.layout === 'nchw'
      ? [Infinity, x.t.shape[3] as number, x.t.shape[1] as number, x.t.shape[2] as number]
      : [Infinity, ...(x.t.shape.slice(1) as number[])];
  const args = [1, 2, 3, 4].map((i) => (c.node.inputs[i] ? c.constant(i) : undefined));
  let indices = range(0, x.t.shape.at(-1) as number);
  const cropping: [[number, number], [number, number]] = [
    [0, 0],
    [0, 0],
  ];
  for (const r of sliceRanges(args, c.attrs, c.opset, dims)) {
    const whole = r.step === 1 && r.begin === 0 && (r.count === dims[r.axis] || (r.axis === 0 && r.count >= 2 ** 31 - 1));
    if (r.axis === channelAxis(x)) indices = range(r.begin, r.count, r.step);
    else if (x.layout === 'nchw' && (r.axis === 2 || r.axis === 3) && r.step === 1 && r.count > 0) {
      cropping[r.axis - 2] = [r.begin, dims[r.axis] - r.begin - r.count];
    } else if (!whole) {
      // a strided slice of height and width is a space-to-depth (YOLOv5's and YOLOX's Focus layer)
      const strided = r.step !== 1 && x.layout === 'nchw' && (r.axis === 2 || r.axis === 3);
      const what = strided ? ` with step ${r.step} (a Focus layer's space-to-depth)` : '';
      c.fail(`slicing along axis ${r.axis}${what} is not supported; along the channels, or a map's height and width with step 1, it is`);
    }
  }
  const picked = selectChannels(c, x, indices);
  if (cropping.flat().every((v) => v === 0)) return picked;
  return tensorLike(
    picked,
    c.apply((name) => tfl.layers.cropping2D({ name, cropping }), picked, [], '_crop'),
    { producer: c.node },
  );
};

/**
 * The shuffle's first Reshape: (N, C, H, W) viewed as (N, G, C/G, H, W). `dims` is one
 * sample's target shape; undefined when it is not such a view.
 */
export function groupedView(x: TensorValue, dims: number[]): TensorValue | undefined {
  if (x.layout !== 'nchw' || x.grouped || dims.length !== 4) return undefined;
  const [h, w, channels] = x.t.shape.slice(1) as number[];
  if (dims[0] * dims[1] !== channels || dims[2] !== h || dims[3] !== w) return undefined;
  return { ...x, grouped: [dims[0], dims[1]] };
}

/** The shuffle's Transpose [0, 2, 1, 3, 4]: channel g * (C/G) + j moves to j * G + g. */
export function shuffled(c: OpContext, x: TensorValue, perm: string): TensorValue {
  if (perm !== '0,2,1,3,4')
    c.fail(`transposing a 5-D view of the channels with perm [${perm}] is not supported; a channel shuffle (perm [0, 2, 1, 3, 4]) is`);
  const [groups, per] = x.grouped!;
  const indices = range(0, groups * per).map((k) => (k % groups) * per + Math.floor(k / groups));
  return { ...selectChannels(c, { ...x, grouped: undefined }, indices), grouped: [per, groups] };
}

/** Concat of maps with all-zero constants: the maps side by side, with zero channels where the constants are */
export function concatWithZeros(c: OpContext, axis: number): TensorValue {
  const parts = c.node.inputs.map((_, i) => c.value(i)!);
  const maps = parts.filter((v): v is TensorValue => v.kind === 'tensor');
  if (maps.length === 0) c.fail('it has no computed input');
  const like = maps[0];
  const indices: number[] = [];
  let from = 0;
  for (const v of parts) {
    if (v.kind === 'tensor') {
      indices.push(...range(from, v.t.shape.at(-1) as number));
      from += v.t.shape.at(-1) as number;
      continue;
    }
    const sample = like.layout === 'nchw' ? [like.t.shape[1], like.t.shape[2]] : like.t.shape.slice(1, -1);
    const spatial = like.layout === 'nchw' ? v.dims.slice(2) : v.dims.slice(1, -1);
    if (!Array.from(v.data).every((d) => d === 0) || v.dims[0] !== 1 || spatial.join() !== sample.join()) {
      c.fail(`a constant input of shape [${v.dims}] is supported only when it is zeros of one sample's size (channel padding)`);
    }
    indices.push(...range(0, v.dims[axis]).map(() => -1));
  }
  const joined =
    maps.length === 1
      ? like
      : tensorLike(
          like,
          c.apply((name) => tfl.layers.concatenate({ name, axis: -1 }), maps, [], '_maps'),
        );
  return { ...selectChannels(c, joined, indices), nonNegative: maps.every((m) => m.nonNegative) };
}

export const channelOps: Record<string, OpConverter> = { Split: split, Slice: slice };
