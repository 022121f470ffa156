// ChannelSelect: output channel k is input channel indices[k], or a channel of zeros
// where indices[k] is -1. One layer for what ONNX files do to channels without weights:
// a channel shuffle (ShuffleNet's Reshape-Transpose-Reshape), a Split or channel
// Slice, a Concat with zeros (BlazeFace's channel padding). TensorFlow.js has no such
// layer, so it is a class of slimtrain's, registered with TensorFlow.js's serializer
// (docs/DESIGN.md, "Layers of slimtrain's own"). Channels keep their group through
// it; slimming renumbers the indices. ONNX: Gather along the channel axis (after a
// Pad of one zero channel when zeros are taken).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerRule } from './rule.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

export interface ChannelSelectArgs extends LayerArgs {
  /** for each output channel, the input channel it is, or -1 for zeros */
  indices: number[];
}

/** consecutive output channels that are consecutive input channels (`from` on), or zeros (`from` -1) */
interface Run {
  from: number;
  length: number;
}

function runsOf(indices: number[]): Run[] {
  const runs: Run[] = [];
  for (const i of indices) {
    const last = runs.at(-1);
    const continues = last && (i < 0 ? last.from < 0 : last.from >= 0 && i === last.from + last.length);
    if (continues) last.length++;
    else runs.push({ from: i, length: 1 });
  }
  return runs;
}

export class ChannelSelect extends tfl.layers.Layer {
  static readonly className = 'ChannelSelect';
  readonly indices: number[];
  /**
   * a selection of a few runs (a Split, a channel Slice, channel padding) as slices:
   * their gradient is a Pad, where a gather's is a segment sum, which on the native
   * backend runs in JavaScript and cost a detector's box decoding a third of its step
   */
  private readonly runs?: Run[];
  /** the indices as the gather takes them (-1 pointing at the appended zero channel), made once */
  private picked?: tf.Tensor1D;

  constructor(args: ChannelSelectArgs) {
    super(args);
    if (!Array.isArray(args.indices) || args.indices.length === 0 || args.indices.some((i) => !Number.isInteger(i) || i < -1)) {
      throw new Error(`ChannelSelect '${args.name ?? ''}': indices must be a non-empty list of channel numbers (or -1 for zeros)`);
    }
    this.indices = [...args.indices];
    const runs = runsOf(this.indices);
    if (runs.length <= 4 || this.indices.length >= 8 * runs.length) this.runs = runs;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const channels = (inputShape as tfl.Shape).at(-1)!;
    const beyond = this.indices.find((i) => i >= channels);
    if (beyond !== undefined) throw new Error(`ChannelSelect '${this.name}': index ${beyond} is beyond the input's ${channels} channels`);
    // only the gather reads them
    if (!this.runs)
      this.picked = tf.keep(
        tf.tensor1d(
          this.indices.map((i) => (i < 0 ? channels : i)),
          'int32',
        ),
      );
    super.build(inputShape);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return [...(inputShape as tfl.Shape).slice(0, -1), this.indices.length];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (this.runs) {
        const lead = x.shape.slice(0, -1);
        const parts = this.runs.map(({ from, length }) =>
          from < 0 ? tf.zeros([...lead, length]) : tf.slice(x, [...lead.map(() => 0), from], [...lead, length]),
        );
        return parts.length === 1 ? parts[0] : tf.concat(parts, -1);
      }
      // a zero channel appended at the end is where -1 points
      const source = this.indices.includes(-1) ? tf.pad(x, [...x.shape.slice(0, -1).map((): [number, number] => [0, 0]), [0, 1]]) : x;
      return tf.gather(source, this.picked!, x.rank - 1);
    });
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    this.picked?.dispose();
    return super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), indices: [...this.indices] };
  }
}
tf.serialization.registerClass(ChannelSelect);

export const channelSelect: LayerRule = {
  classes: [ChannelSelect.className],
  channels(f) {
    const indices = f.node.config.indices as number[];
    const zeros = f.zeros(indices.filter((i) => i < 0).length);
    return indices.map((i) => (i < 0 ? zeros.pop()! : f.inputs[0][i]));
  },
  slimConfig(config, kept) {
    // an output channel is the input channel it selects (same group): both go or both stay
    const position: number[] = [];
    kept.inputs[0].reduce((n, k, i) => ((position[i] = n), n + (k ? 1 : 0)), 0);
    config.indices = (config.indices as number[]).filter((_, k) => kept.output[k]).map((i) => (i < 0 ? -1 : position[i]));
  },
  onnx(e) {
    const { node: n, g } = e;
    const x = e.inputs[0];
    const indices = n.config.indices as number[];
    const rank = n.outputShape.length + 1;
    const axis = x.nchw ? 1 : rank - 1;
    let source = x.name;
    if (indices.includes(-1)) {
      const pads = new Array<number>(2 * rank).fill(0);
      pads[rank + axis] = 1;
      source = g.node('Pad', [x.name, g.ints(`${n.name}/pads`, pads)], `${n.name}/zeros`);
    }
    const channels = n.inputShapes[0].at(-1)!;
    const picked = g.ints(
      `${n.name}/indices`,
      indices.map((i) => (i < 0 ? channels : i)),
    );
    return { name: g.node('Gather', [source, picked], `${n.name}/gather`, { axis }), nchw: x.nchw };
  },
};
