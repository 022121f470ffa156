// The model zoo: stock tf.layers functional models with Keras-style layer names, in
// the forms the compression literature reports on (CIFAR-style VGG and ResNet).
// Every model ends in a linear Dense layer named 'predictions' that gives logits.
import * as tfl from '@tensorflow/tfjs-layers';
import { Builder, input, model, type Sym, type ZooOptions } from './builder.js';
import { densenet121 } from './densenet.js';
import { efficientNetB0 } from './efficientnet.js';
import { inceptionV3 } from './inceptionv3.js';
import { mobilenetV2 } from './mobilenetv2.js';
import { resnet50 } from './resnet50.js';

export type { ZooOptions } from './builder.js';

/** LeCun et al.'s 300-100 MLP. */
export function mlp(o: ZooOptions): tfl.LayersModel {
  const b = new Builder(o.seed ?? 0);
  const x = input(o);
  let y = b.flatten(x);
  y = b.dense(y, 300, 'fc1', 'relu');
  y = b.dense(y, 100, 'fc2', 'relu');
  return model(x, b.dense(y, o.numClasses, 'predictions'), 'mlp');
}

/** LeNet-5 with ReLU and max pooling: conv 6@5x5 (same) - pool - conv 16@5x5 - pool - 120 - 84. */
export function lenet5(o: ZooOptions): tfl.LayersModel {
  const b = new Builder(o.seed ?? 0);
  const x = input(o);
  let y = b.conv(x, 6, 'conv1', { kernel: 5, activation: 'relu' });
  y = b.maxPool(y, 'pool1');
  y = b.conv(y, 16, 'conv2', { kernel: 5, padding: 'valid', activation: 'relu' });
  y = b.maxPool(y, 'pool2');
  y = b.flatten(y);
  y = b.dense(y, 120, 'fc1', 'relu');
  y = b.dense(y, 84, 'fc2', 'relu');
  return model(x, b.dense(y, o.numClasses, 'predictions'), 'lenet5');
}

/** Conv(3x3, bias) - BN - ReLU - MaxPool blocks of 32, 64, 128 filters, then a linear classifier. */
export function vggSmall(o: ZooOptions): tfl.LayersModel {
  const b = new Builder(o.seed ?? 0);
  const x = input(o);
  let y = x;
  [32, 64, 128].forEach((filters, i) => {
    const block = `block${i + 1}`;
    y = b.conv(y, filters, `${block}_conv`);
    y = b.bn(y, `${block}_bn`);
    y = b.relu(y, `${block}_relu`);
    y = b.maxPool(y, `${block}_pool`);
  });
  y = b.flatten(y);
  return model(x, b.dense(y, o.numClasses, 'predictions'), 'vgg-small');
}

const VGG16_BLOCKS = [
  [64, 64],
  [128, 128],
  [256, 256, 256],
  [512, 512, 512],
  [512, 512, 512],
];

/**
 * VGG16 in its CIFAR form: 13 3x3 convolutions (with bias), five max pools, one
 * linear classifier on 512 features. Pools use 'same' padding so 28x28 inputs work.
 */
function vgg16Like(o: ZooOptions, batchNorm: boolean): tfl.LayersModel {
  const b = new Builder(o.seed ?? 0);
  const x = input(o);
  let y = x;
  VGG16_BLOCKS.forEach((filters, i) => {
    filters.forEach((f, j) => {
      const name = `block${i + 1}_conv${j + 1}`;
      if (batchNorm) {
        y = b.conv(y, f, name);
        y = b.bn(y, `${name}_bn`);
        y = b.relu(y, `${name}_relu`);
      } else {
        y = b.conv(y, f, name, { activation: 'relu' });
      }
    });
    y = b.maxPool(y, `block${i + 1}_pool`, 'same');
  });
  y = tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(y) as Sym;
  return model(x, b.dense(y, o.numClasses, 'predictions'), batchNorm ? 'vgg16-bn' : 'vgg16');
}

export const vgg16 = (o: ZooOptions) => vgg16Like(o, false);
export const vgg16Bn = (o: ZooOptions) => vgg16Like(o, true);

/**
 * He et al.'s CIFAR ResNet (6n+2 layers): a 16-filter stem, three stages of n basic
 * blocks with 16, 32, 64 filters, projection shortcuts (1x1 conv + BN) where the
 * shape changes, global average pooling and a linear classifier.
 */
function cifarResNet(o: ZooOptions, blocksPerStage: number, name: string): tfl.LayersModel {
  const b = new Builder(o.seed ?? 0);
  const x = input(o);
  let y = b.conv(x, 16, 'conv1', { bias: false });
  y = b.bn(y, 'conv1_bn');
  y = b.relu(y, 'conv1_relu');
  let channels = 16;
  [16, 32, 64].forEach((filters, s) => {
    for (let k = 0; k < blocksPerStage; k++) {
      const strides = s > 0 && k === 0 ? 2 : 1;
      const p = `stage${s + 1}_block${k + 1}`;
      let shortcut = y;
      if (strides !== 1 || channels !== filters) {
        shortcut = b.conv(y, filters, `${p}_shortcut_conv`, { kernel: 1, strides, bias: false });
        shortcut = b.bn(shortcut, `${p}_shortcut_bn`);
      }
      let r = b.conv(y, filters, `${p}_conv1`, { strides, bias: false });
      r = b.bn(r, `${p}_bn1`);
      r = b.relu(r, `${p}_relu1`);
      r = b.conv(r, filters, `${p}_conv2`, { bias: false });
      r = b.bn(r, `${p}_bn2`);
      y = tfl.layers.add({ name: `${p}_add` }).apply([r, shortcut]) as Sym;
      y = b.relu(y, `${p}_out`);
      channels = filters;
    }
  });
  y = tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(y) as Sym;
  return model(x, b.dense(y, o.numClasses, 'predictions'), name);
}

export const resnet20 = (o: ZooOptions) => cifarResNet(o, 3, 'resnet20');
export const resnet56 = (o: ZooOptions) => cifarResNet(o, 9, 'resnet56');

/** (expansion t, output channels c, repeats n, first stride s), as in the MobileNetV2 paper */
const MOBILENETV2_SMALL: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 1],
  [6, 32, 3, 2],
  [6, 64, 2, 2],
  [6, 96, 1, 1],
];

/**
 * A small MobileNetV2 for 28-32 pixel inputs: inverted residual blocks (1x1 expand -
 * 3x3 depthwise - 1x1 linear projection, BN and ReLU6), identity shortcuts where the
 * shape allows, a 1x1 head of 256 channels, global average pooling.
 */
export function mobilenetV2Small(o: ZooOptions): tfl.LayersModel {
  const b = new Builder(o.seed ?? 0);
  const x = input(o);
  let y = b.conv(x, 32, 'stem_conv', { bias: false });
  y = b.bn(y, 'stem_bn');
  y = b.relu(y, 'stem_relu', 6);
  let channels = 32;
  let index = 0;
  for (const [t, c, n, s] of MOBILENETV2_SMALL) {
    for (let k = 0; k < n; k++) {
      const strides = k === 0 ? s : 1;
      const p = `block${++index}`;
      let r = y;
      if (t !== 1) {
        r = b.conv(r, channels * t, `${p}_expand`, { kernel: 1, bias: false });
        r = b.bn(r, `${p}_expand_bn`);
        r = b.relu(r, `${p}_expand_relu`, 6);
      }
      r = b.depthwise(r, `${p}_depthwise`, strides);
      r = b.bn(r, `${p}_depthwise_bn`);
      r = b.relu(r, `${p}_depthwise_relu`, 6);
      r = b.conv(r, c, `${p}_project`, { kernel: 1, bias: false });
      r = b.bn(r, `${p}_project_bn`);
      y = strides === 1 && channels === c ? (tfl.layers.add({ name: `${p}_add` }).apply([y, r]) as Sym) : r;
      channels = c;
    }
  }
  y = b.conv(y, 256, 'head_conv', { kernel: 1, bias: false });
  y = b.bn(y, 'head_bn');
  y = b.relu(y, 'head_relu', 6);
  y = tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(y) as Sym;
  return model(x, b.dense(y, o.numClasses, 'predictions'), 'mobilenetv2-small');
}

export interface ZooEntry {
  build: (o: ZooOptions) => tfl.LayersModel;
  description: string;
  /** the input the architecture was designed for: MNIST's, CIFAR's or ImageNet's */
  inputShape: [number, number, number];
}

const MNIST: [number, number, number] = [28, 28, 1];
const CIFAR: [number, number, number] = [32, 32, 3];
const IMAGENET: [number, number, number] = [224, 224, 3];

export const zoo = {
  mlp: { build: mlp, description: 'MLP 784-300-100-classes (ReLU)', inputShape: MNIST },
  lenet5: { build: lenet5, description: 'LeNet-5: two 5x5 convolutions, three dense layers', inputShape: MNIST },
  'vgg-small': { build: vggSmall, description: 'three conv-BN-ReLU-pool blocks (32, 64, 128), linear classifier', inputShape: CIFAR },
  vgg16: { build: vgg16, description: 'VGG16, CIFAR form (13 convs, 512-feature classifier)', inputShape: CIFAR },
  'vgg16-bn': { build: vgg16Bn, description: 'VGG16 with batch normalisation, CIFAR form', inputShape: CIFAR },
  resnet20: { build: resnet20, description: 'ResNet-20 for CIFAR (3 stages x 3 basic blocks)', inputShape: CIFAR },
  resnet56: { build: resnet56, description: 'ResNet-56 for CIFAR (3 stages x 9 basic blocks)', inputShape: CIFAR },
  'mobilenetv2-small': {
    build: mobilenetV2Small,
    description: 'small MobileNetV2 (inverted residuals, depthwise convs)',
    inputShape: CIFAR,
  },
  mobilenetv2: { build: mobilenetV2, description: "MobileNetV2 1.0, as Keras's applications build it", inputShape: IMAGENET },
  resnet50: { build: resnet50, description: "ResNet-50 (bottlenecks, 7x7 stem), torchvision's form", inputShape: IMAGENET },
  inceptionv3: {
    build: inceptionV3,
    description: "Inception-v3 (BN without scale, concatenations), as Keras's applications build it",
    inputShape: [299, 299, 3],
  },
  'efficientnet-b0': {
    build: efficientNetB0,
    description: 'EfficientNet-B0 (swish, squeeze-and-excitation gates)',
    inputShape: IMAGENET,
  },
  densenet121: { build: densenet121, description: 'DenseNet-121 (dense blocks of concatenations)', inputShape: IMAGENET },
} satisfies Record<string, ZooEntry>;

export type ZooName = keyof typeof zoo;
export const zooNames = Object.keys(zoo) as ZooName[];

export function isZooName(name: string): name is ZooName {
  return Object.hasOwn(zoo, name);
}

/** The input a zoo model was designed for; undefined for a name that is not in the zoo. */
export function zooInputShape(name: string): [number, number, number] | undefined {
  return isZooName(name) ? (zoo[name] as ZooEntry).inputShape : undefined;
}

/**
 * The input of a zoo model designed for ImageNet (at 224x224x3 or 299x299x3, with
 * 1000 classes); undefined for the MNIST and CIFAR ones.
 */
export function imagenetInputShape(name: string): [number, number, number] | undefined {
  const designed = zooInputShape(name);
  return designed === MNIST || designed === CIFAR ? undefined : designed;
}

/** The size an image folder is read at for a zoo model: its own where that is in colour, else CIFAR's 32x32x3. */
export function folderInputShape(name: string): [number, number, number] {
  const designed = zooInputShape(name);
  return designed && designed[2] === 3 ? designed : CIFAR;
}

export function buildZooModel(name: string, o: ZooOptions): tfl.LayersModel {
  if (!isZooName(name)) throw new Error(`unknown model '${name}': use one of ${zooNames.join(', ')}`);
  return zoo[name].build(o);
}
