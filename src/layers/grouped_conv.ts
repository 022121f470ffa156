// GroupedConv2D: a convolution whose input and output channels are cut into `groups`
// equal parts, part g of the output reading only part g of the input (ResNeXt,
// RegNet, many detectors). TensorFlow.js has plain and depthwise convolutions only,
// so this is a class of slimtrain's, registered with TensorFlow.js's serializer
// (docs/DESIGN.md, "Layers of slimtrain's own"); it runs one convolution per group.
// kernel [kh, kw, in/groups, filters] as Keras's Conv2D(groups=...) holds it.
//
// Channel rule: removing one channel would leave the parts unequal, so a whole part
// goes or stays: the output channels of part g (kernel[..., j], bias[j]) and the
// input channels of part g are one group. The input channels' weights are inside the
// part's kernel columns, so the producer's slices and those columns are all there is.
// ONNX: Conv with `group`.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { convWeights, pair } from '../onnx/builder.js';
import { shapeSize } from '../util/shape.js';
import { convAttrs, positions, writeConv } from './conv.js';
import type { LayerRule } from './rule.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

export interface GroupedConv2DArgs extends LayerArgs {
  filters: number;
  kernelSize: number | [number, number];
  groups: number;
  strides?: number | [number, number];
  padding?: 'valid' | 'same';
  dilationRate?: number | [number, number];
  useBias?: boolean;
  activation?: string;
}

const pairOf = (v: number | number[] | undefined): [number, number] => pair(v ?? 1) as [number, number];

export class GroupedConv2D extends tfl.layers.Layer {
  static readonly className = 'GroupedConv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly groups: number;
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  readonly dilationRate: [number, number];
  readonly useBias: boolean;
  readonly activation: string;
  private kernel?: tfl.LayerVariable;
  private bias?: tfl.LayerVariable;
  private readonly activate: tfl.layers.Layer;

  constructor(args: GroupedConv2DArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = pairOf(args.kernelSize);
    this.groups = args.groups;
    this.strides = pairOf(args.strides);
    this.padding = args.padding ?? 'valid';
    this.dilationRate = pairOf(args.dilationRate);
    this.useBias = args.useBias ?? true;
    this.activation = args.activation ?? 'linear';
    if (!Number.isInteger(this.groups) || this.groups < 1 || this.filters % this.groups !== 0) {
      throw new Error(`GroupedConv2D '${args.name ?? ''}': groups ${this.groups} must divide filters ${this.filters}`);
    }
    this.activate = tfl.layers.activation({ activation: this.activation as 'linear' });
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const channels = (inputShape as tfl.Shape).at(-1)!;
    if (channels % this.groups !== 0) {
      throw new Error(`GroupedConv2D '${this.name}': groups ${this.groups} must divide the input's ${channels} channels`);
    }
    const [kh, kw] = this.kernelSize;
    this.kernel = this.addWeight('kernel', [kh, kw, channels / this.groups, this.filters], 'float32', tfl.initializers.glorotUniform({}));
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros());
    super.build(inputShape);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [n, h, w] = inputShape as tfl.Shape;
    const size = (d: number | null, i: 0 | 1) => {
      if (d === null) return null;
      const reach = (this.kernelSize[i] - 1) * this.dilationRate[i] + 1;
      return this.padding === 'same' ? Math.ceil(d / this.strides[i]) : Math.ceil((d - reach + 1) / this.strides[i]);
    };
    return [n, size(h, 0), size(w, 1), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const parts = tf.split(x, this.groups, 3);
      const kernels = tf.split(this.kernel!.read() as tf.Tensor4D, this.groups, 3);
      const each = parts.map((p, g) =>
        tf.conv2d(p as tf.Tensor4D, kernels[g] as tf.Tensor4D, this.strides, this.padding, 'NHWC', this.dilationRate),
      );
      let y: tf.Tensor = this.groups === 1 ? each[0] : tf.concat(each, 3);
      if (this.bias) y = tf.add(y, this.bias.read());
      return this.activate.apply(y) as tf.Tensor;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      groups: this.groups,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      useBias: this.useBias,
      activation: this.activation,
    };
  }
}
tf.serialization.registerClass(GroupedConv2D);

export const groupedConv2d: LayerRule = {
  classes: [GroupedConv2D.className],
  ownsWeights: true,
  widthKey: 'filters',
  channels(f) {
    const groups = f.node.config.groups as number;
    const out = f.produce('kernel', f.channelsOut);
    const outPer = f.channelsOut / groups;
    const inPer = f.inputs[0].length / groups;
    out.forEach((id, j) => f.union(id, out[j - (j % outPer)]));
    // part g's outputs are zero once its kernel columns and biases are, whatever its inputs are
    f.inputs[0].forEach((id, i) => f.union(id, out[Math.floor(i / inPer) * outPer]));
    return out;
  },
  slimConfig(config, kept) {
    const perPart = (config.filters as number) / (config.groups as number);
    config.groups = kept.output.filter(Boolean).length / perPart;
  },
  macs: (node, shape) => shapeSize(shape('kernel')!) * positions(node),
  onnx(e) {
    const w = e.weights();
    const shape = e.node.weights[0].shape;
    const bias = e.node.config.useBias ? Float32Array.from(w[1]) : undefined;
    const attrs = { ...convAttrs(e.node), group: e.node.config.groups as number };
    return writeConv(e, e.inputs[0].name, convWeights(w[0], shape), [shape[3], shape[2], shape[0], shape[1]], attrs, bias);
  },
};
