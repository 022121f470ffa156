// What every zoo architecture is built from: seeded initializers and Keras layers
// under stable, Keras-style names.
import * as tfl from '@tensorflow/tfjs-layers';

export interface ZooOptions {
  /** height, width, channels */
  inputShape: [number, number, number];
  numClasses: number;
  /** seeds every initializer, so the same seed gives the same weights */
  seed?: number;
}

export type Sym = tfl.SymbolicTensor;
type Initializer = ReturnType<typeof tfl.initializers.heNormal>;
type Padding = 'same' | 'valid';
type Pair = number | [number, number];

/** Hands out seeded initializers, one seed per weight, in build order. */
class Initializers {
  private next: number;
  constructor(seed: number) {
    // TensorFlow.js treats seed 0 as "no seed", so never hand it out
    this.next = seed * 1000 + 1;
  }
  /** He normal for layers followed by ReLU (the ResNet/VGG convention) */
  he(): Initializer {
    return tfl.initializers.heNormal({ seed: this.next++ });
  }
  glorot(): Initializer {
    return tfl.initializers.glorotUniform({ seed: this.next++ });
  }
}

/** Common builder state: names are unique and stable, weights seeded. */
export class Builder {
  readonly init: Initializers;
  constructor(seed: number) {
    this.init = new Initializers(seed);
  }

  conv(
    x: Sym,
    filters: number,
    name: string,
    o: { kernel?: Pair; strides?: number; padding?: Padding; bias?: boolean; activation?: 'relu' | 'linear' } = {},
  ): Sym {
    return tfl.layers
      .conv2d({
        filters,
        kernelSize: o.kernel ?? 3,
        strides: o.strides ?? 1,
        padding: o.padding ?? 'same',
        useBias: o.bias ?? true,
        activation: o.activation ?? 'linear',
        kernelInitializer: this.init.he(),
        name,
      })
      .apply(x) as Sym;
  }

  depthwise(x: Sym, name: string, strides: number, o: { kernel?: number; padding?: Padding } = {}): Sym {
    return tfl.layers
      .depthwiseConv2d({
        kernelSize: o.kernel ?? 3,
        strides,
        padding: o.padding ?? 'same',
        useBias: false,
        depthwiseInitializer: this.init.he(),
        name,
      })
      .apply(x) as Sym;
  }

  /** `scale: false` leaves gamma out, as Keras's InceptionV3 does */
  bn(x: Sym, name: string, o: { scale?: boolean } = {}): Sym {
    return tfl.layers.batchNormalization({ name, momentum: 0.9, epsilon: 1e-5, scale: o.scale ?? true }).apply(x) as Sym;
  }

  relu(x: Sym, name: string, maxValue?: number): Sym {
    return tfl.layers.reLU({ name, maxValue }).apply(x) as Sym;
  }

  activation(x: Sym, name: string, activation: 'relu' | 'swish' | 'sigmoid'): Sym {
    return tfl.layers.activation({ activation, name }).apply(x) as Sym;
  }

  dense(x: Sym, units: number, name: string, activation: 'relu' | 'linear' = 'linear'): Sym {
    return tfl.layers
      .dense({
        units,
        activation,
        kernelInitializer: activation === 'relu' ? this.init.he() : this.init.glorot(),
        name,
      })
      .apply(x) as Sym;
  }

  maxPool(x: Sym, name: string, padding: Padding = 'valid', o: { size?: number; strides?: number } = {}): Sym {
    return tfl.layers.maxPooling2d({ poolSize: o.size ?? 2, strides: o.strides ?? 2, padding, name }).apply(x) as Sym;
  }

  avgPool(x: Sym, name: string, size: number, strides: number, padding: Padding = 'valid'): Sym {
    return tfl.layers.averagePooling2d({ poolSize: size, strides, padding, name }).apply(x) as Sym;
  }

  /** [[top, bottom], [left, right]] zero rows and columns, Keras's ZeroPadding2D */
  zeroPad(x: Sym, name: string, padding: [[number, number], [number, number]]): Sym {
    return tfl.layers.zeroPadding2d({ padding, name }).apply(x) as Sym;
  }

  /**
   * The ImageNet stem of ResNet and DenseNet: a 7x7 stride-2 convolution of 64 filters
   * (no bias) - BN - ReLU, then a 3x3 stride-2 max pool, both padded as PyTorch pads
   * them (ZeroPadding2D, then 'valid', as Keras writes it)
   */
  stem7x7(x: Sym): Sym {
    let y = this.zeroPad(x, 'conv1_pad', [
      [3, 3],
      [3, 3],
    ]);
    y = this.conv(y, 64, 'conv1_conv', { kernel: 7, strides: 2, padding: 'valid', bias: false });
    y = this.relu(this.bn(y, 'conv1_bn'), 'conv1_relu');
    y = this.zeroPad(y, 'pool1_pad', [
      [1, 1],
      [1, 1],
    ]);
    return this.maxPool(y, 'pool1_pool', 'valid', { size: 3, strides: 2 });
  }

  globalAvgPool(x: Sym, name = 'avg_pool'): Sym {
    return tfl.layers.globalAveragePooling2d({ name }).apply(x) as Sym;
  }

  add(xs: Sym[], name: string): Sym {
    return tfl.layers.add({ name }).apply(xs) as Sym;
  }

  multiply(xs: Sym[], name: string): Sym {
    return tfl.layers.multiply({ name }).apply(xs) as Sym;
  }

  reshape(x: Sym, name: string, targetShape: number[]): Sym {
    return tfl.layers.reshape({ targetShape, name }).apply(x) as Sym;
  }

  concat(xs: Sym[], name: string): Sym {
    return tfl.layers.concatenate({ name }).apply(xs) as Sym;
  }

  flatten(x: Sym, name = 'flatten'): Sym {
    return tfl.layers.flatten({ name }).apply(x) as Sym;
  }
}

export function input(o: ZooOptions): Sym {
  return tfl.input({ shape: o.inputShape, name: 'input' });
}

export function model(inputs: Sym, outputs: Sym, name: string): tfl.LayersModel {
  return tfl.model({ inputs, outputs, name });
}

/**
 * The padding Keras's applications put before a stride-2 'valid' convolution
 * (`correct_pad`): k//2 on each side, one fewer at the top and left of an even size.
 */
export function correctPad(x: Sym, kernel: number): [[number, number], [number, number]] {
  const [h, w] = x.shape.slice(1, 3) as number[];
  const half = Math.floor(kernel / 2);
  return [
    [half - (1 - (h % 2)), half],
    [half - (1 - (w % 2)), half],
  ];
}
