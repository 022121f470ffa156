// ConstantAffine: y = x * scale + offset, with scale and offset constant arrays that
// broadcast over one sample (a detector's prior boxes and variances, as an SSD head
// decodes its boxes). TensorFlow.js's Rescaling takes numbers only, so it is a class
// of slimtrain's (docs/DESIGN.md, "Layers of slimtrain's own"); the arrays are weights
// that do not train, so they travel in weights.bin. Values differ from position to
// position, so a zero channel does not stay zero: the layer is opaque to the group
// analysis. ONNX: Mul, then Add, in the order the values are held.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerRule } from './rule.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

export interface ConstantAffineArgs extends LayerArgs {
  /** the arrays' shape: one sample's, or one that broadcasts to it (sizes of 1) */
  shape: number[];
}

export class ConstantAffine extends tfl.layers.Layer {
  static readonly className = 'ConstantAffine';
  readonly shape: number[];
  private scale?: tfl.LayerVariable;
  private offset?: tfl.LayerVariable;

  constructor(args: ConstantAffineArgs) {
    super(args);
    if (!Array.isArray(args.shape) || args.shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new Error(`ConstantAffine '${args.name ?? ''}': shape must be a list of positive sizes`);
    }
    this.shape = [...args.shape];
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const sample = (inputShape as tfl.Shape).slice(1);
    const fits =
      this.shape.length <= sample.length && this.shape.every((d, i) => d === 1 || d === sample[sample.length - this.shape.length + i]);
    if (!fits) throw new Error(`ConstantAffine '${this.name}': arrays of shape [${this.shape}] do not broadcast over a sample [${sample}]`);
    this.scale = this.addWeight('scale', this.shape, 'float32', tfl.initializers.ones(), undefined, false);
    this.offset = this.addWeight('offset', this.shape, 'float32', tfl.initializers.zeros(), undefined, false);
    super.build(inputShape);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return inputShape as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.add(tf.mul(x, this.scale!.read()), this.offset!.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), shape: [...this.shape] };
  }
}
tf.serialization.registerClass(ConstantAffine);

export const constantAffine: LayerRule = {
  classes: [ConstantAffine.className],
  channels(f) {
    return f.opaque(`${f.node.name} scales and shifts each position by its own constants: a zero channel does not stay zero`);
  },
  onnx(e) {
    const { node: n, g } = e;
    const x = e.inputs[0];
    const shape = n.config.shape as number[];
    const [scale, offset] = e.weights();
    // the arrays are in the order TensorFlow.js holds the values: a map as NHWC
    const held = x.nchw ? g.node('Transpose', [x.name], `${n.name}/nhwc`, { perm: [0, 2, 3, 1] }) : x.name;
    const y = g.node('Mul', [held, g.floats(`${n.name}/scale`, shape, scale)], `${n.name}/mul`);
    return { name: g.node('Add', [y, g.floats(`${n.name}/offset`, shape, offset)], `${n.name}/add`), nchw: false };
  },
};
