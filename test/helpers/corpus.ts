// A corpus of architectures built the way users build them, Sequential and
// functional, small enough to check in seconds: plain CNNs and MLPs, ResNet v1 and
// v2, MobileNet V1/V2/V3-style, EfficientNet-style, DenseNet-BC-style, Inception,
// SqueezeNet, a U-Net-style segmenter, an autoencoder, a two-input two-output model,
// a backbone nested under a new head, and single-feature nets (dilation, PReLU,
// separable convs, layer norm, joins, padding and cropping, upsampling).
import * as tfl from '@tensorflow/tfjs-layers';

type T = tfl.SymbolicTensor;
export type Initializer = ReturnType<typeof tfl.initializers.glorotUniform>;

/** seeded initialisers, one per call, so every model is the same every run */
function seeds(base: number): () => Initializer {
  let serial = 0;
  return () => tfl.initializers.glorotUniform({ seed: base * 1000 + ++serial });
}

const SIDE = 16;
const CLASSES = 5;

/** builders of the layers the corpus uses, on one seed sequence */
function kit(base: number) {
  const init = seeds(base);
  const at = (layer: tfl.layers.Layer, x: T | T[]) => layer.apply(x) as T;
  const conv = (x: T, filters: number, o: { k?: number; s?: number; act?: string; bias?: boolean; d?: number } = {}) =>
    at(
      tfl.layers.conv2d({
        filters,
        kernelSize: o.k ?? 3,
        strides: o.s ?? 1,
        dilationRate: o.d ?? 1,
        padding: 'same',
        useBias: o.bias ?? true,
        activation: (o.act ?? 'linear') as 'relu',
        kernelInitializer: init(),
        biasInitializer: init(),
      }),
      x,
    );
  const bn = (x: T) => at(tfl.layers.batchNormalization({ gammaInitializer: init(), betaInitializer: init() }), x);
  const relu = (x: T, max?: number) => at(tfl.layers.reLU({ maxValue: max }), x);
  const dw = (x: T, o: { s?: number; m?: number; act?: string } = {}) =>
    at(
      tfl.layers.depthwiseConv2d({
        kernelSize: 3,
        strides: o.s ?? 1,
        depthMultiplier: o.m ?? 1,
        padding: 'same',
        activation: (o.act ?? 'linear') as 'relu',
        depthwiseInitializer: init(),
        biasInitializer: init(),
      }),
      x,
    );
  const dense = (x: T, units: number, act = 'linear') =>
    at(tfl.layers.dense({ units, activation: act as 'relu', kernelInitializer: init(), biasInitializer: init() }), x);
  const gap = (x: T) => at(tfl.layers.globalAveragePooling2d({}), x);
  const add = (xs: T[]) => at(tfl.layers.add(), xs);
  const concat = (xs: T[]) => at(tfl.layers.concatenate(), xs);
  const pool = (x: T, max = true) => at((max ? tfl.layers.maxPooling2d : tfl.layers.averagePooling2d)({ poolSize: 2 }), x);
  /** squeeze and excitation with a gate activation */
  const se = (x: T, channels: number, squeeze: number, gate = 'sigmoid') => {
    let s = dense(gap(x), squeeze, 'relu');
    s = at(tfl.layers.reshape({ targetShape: [1, 1, channels] }), dense(s, channels, gate));
    return at(tfl.layers.multiply(), [x, s]);
  };
  /** MobileNetV3's hard swish: x * relu6(x + 3) / 6 */
  const hardSwish = (x: T) => {
    const gate = at(tfl.layers.rescaling({ scale: 1 / 6 }), relu(at(tfl.layers.rescaling({ scale: 1, offset: 3 }), x), 6));
    return at(tfl.layers.multiply(), [x, gate]);
  };
  const head = (x: T) => dense(gap(x), CLASSES);
  return { init, at, conv, bn, relu, dw, dense, gap, add, concat, pool, se, hardSwish, head };
}

const image = (name = 'image') => tfl.input({ shape: [SIDE, SIDE, 3], name });
const functional = (name: string, inputs: T | T[], outputs: T | T[]) => tfl.model({ inputs, outputs, name });

export interface CorpusModel {
  name: string;
  build(): tfl.LayersModel;
}

export const corpus: CorpusModel[] = [
  {
    name: 'Sequential MLP',
    build: () => {
      const k = kit(1);
      return tfl.sequential({
        name: 'seq_mlp',
        layers: [
          tfl.layers.flatten({ inputShape: [SIDE, SIDE, 3] }),
          tfl.layers.dense({ units: 32, activation: 'relu', kernelInitializer: k.init() }),
          tfl.layers.dropout({ rate: 0.2 }),
          tfl.layers.dense({ units: 16, activation: 'tanh', kernelInitializer: k.init() }),
          tfl.layers.dense({ units: CLASSES, kernelInitializer: k.init() }),
        ],
      });
    },
  },
  {
    name: 'Sequential CNN',
    build: () => {
      const k = kit(2);
      return tfl.sequential({
        name: 'seq_cnn',
        layers: [
          tfl.layers.conv2d({ inputShape: [SIDE, SIDE, 3], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: k.init() }),
          tfl.layers.maxPooling2d({ poolSize: 2 }),
          tfl.layers.conv2d({ filters: 12, kernelSize: 3, activation: 'relu', kernelInitializer: k.init() }),
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 16, activation: 'relu', kernelInitializer: k.init() }),
          tfl.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: k.init() }),
        ],
      });
    },
  },
  {
    name: 'Sequential CNN with batch norm and global pooling',
    build: () => {
      const k = kit(3);
      const block = (filters: number, first = false) => [
        tfl.layers.conv2d({
          ...(first ? { inputShape: [SIDE, SIDE, 3] } : {}),
          filters,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
          kernelInitializer: k.init(),
        }),
        tfl.layers.batchNormalization({ gammaInitializer: k.init(), betaInitializer: k.init() }),
        tfl.layers.reLU(),
      ];
      return tfl.sequential({
        name: 'seq_cnn_bn',
        layers: [
          ...block(8, true),
          tfl.layers.maxPooling2d({ poolSize: 2 }),
          ...block(16),
          ...block(16),
          tfl.layers.globalAveragePooling2d({}),
          tfl.layers.dense({ units: CLASSES, kernelInitializer: k.init() }),
        ],
      });
    },
  },
  {
    name: 'VGG-style functional CNN with a dropout head',
    build: () => {
      const k = kit(4);
      const x = image();
      let y = k.pool(k.conv(k.conv(x, 8, { act: 'relu' }), 8, { act: 'relu' }));
      y = k.pool(k.conv(k.conv(y, 16, { act: 'relu' }), 16, { act: 'relu' }));
      y = k.at(tfl.layers.flatten(), y);
      y = k.at(tfl.layers.dropout({ rate: 0.5 }), k.dense(y, 24, 'relu'));
      return functional('vgg_style', x, k.dense(y, CLASSES));
    },
  },
  {
    name: 'ResNet v1 (identity and 1x1 projection shortcuts)',
    build: () => {
      const k = kit(5);
      const block = (x: T, filters: number, stride: number, project: boolean) => {
        let y = k.relu(k.bn(k.conv(x, filters, { s: stride, bias: false })));
        y = k.bn(k.conv(y, filters, { bias: false }));
        const shortcut = project ? k.bn(k.conv(x, filters, { k: 1, s: stride, bias: false })) : x;
        return k.relu(k.add([y, shortcut]));
      };
      const x = image();
      let y = k.relu(k.bn(k.conv(x, 8, { bias: false })));
      y = block(block(y, 8, 1, false), 8, 1, false);
      y = block(block(y, 16, 2, true), 16, 1, false);
      return functional('resnet_v1', x, k.head(y));
    },
  },
  {
    name: 'ResNet v2 (pre-activation)',
    build: () => {
      const k = kit(6);
      const block = (x: T, filters: number, stride: number, project: boolean) => {
        const pre = k.relu(k.bn(x));
        let y = k.conv(pre, filters, { s: stride });
        y = k.conv(k.relu(k.bn(y)), filters);
        return k.add([y, project ? k.conv(pre, filters, { k: 1, s: stride }) : x]);
      };
      const x = image();
      let y = k.conv(x, 8);
      y = block(block(y, 8, 1, false), 16, 2, true);
      return functional('resnet_v2', x, k.head(k.relu(k.bn(y))));
    },
  },
  {
    name: 'MobileNetV1-style (depthwise separable, ReLU6)',
    build: () => {
      const k = kit(7);
      const dwsep = (x: T, filters: number, stride: number) =>
        k.relu(k.bn(k.conv(k.relu(k.bn(k.dw(x, { s: stride })), 6), filters, { k: 1, bias: false })), 6);
      const x = image();
      let y = k.relu(k.bn(k.conv(x, 8, { s: 2, bias: false })), 6);
      y = dwsep(dwsep(dwsep(y, 16, 1), 24, 2), 24, 1);
      return functional('mobilenet_v1', x, k.head(y));
    },
  },
  {
    name: 'MobileNetV2-style inverted residuals',
    build: () => {
      const k = kit(8);
      const inverted = (x: T, cin: number, cout: number, stride: number) => {
        let y = k.relu(k.bn(k.conv(x, cin * 3, { k: 1, bias: false })), 6);
        y = k.relu(k.bn(k.dw(y, { s: stride })), 6);
        y = k.bn(k.conv(y, cout, { k: 1, bias: false }));
        return stride === 1 && cin === cout ? k.add([x, y]) : y;
      };
      const x = image();
      let y = k.relu(k.bn(k.conv(x, 8, { bias: false })), 6);
      y = inverted(inverted(inverted(y, 8, 8, 1), 8, 12, 2), 12, 12, 1);
      return functional('mobilenet_v2', x, k.head(k.relu(k.bn(k.conv(y, 24, { k: 1 })), 6)));
    },
  },
  {
    name: 'MobileNetV3-small-style (hard swish, SE with a hard sigmoid gate)',
    build: () => {
      const k = kit(9);
      const x = image();
      let y = k.hardSwish(k.bn(k.conv(x, 8, { s: 2, bias: false })));
      let z = k.relu(k.bn(k.conv(y, 24, { k: 1, bias: false })));
      z = k.se(k.hardSwish(k.bn(k.dw(z))), 24, 6, 'hardSigmoid');
      y = k.add([y, k.bn(k.conv(z, 8, { k: 1, bias: false }))]);
      return functional('mobilenet_v3_small', x, k.head(k.hardSwish(k.bn(k.conv(y, 16, { k: 1 })))));
    },
  },
  {
    name: 'EfficientNet-B0-style MBConv (swish, SE)',
    build: () => {
      const k = kit(10);
      const mbconv = (x: T, cin: number, cout: number, stride: number) => {
        let y = k.at(tfl.layers.activation({ activation: 'swish' }), k.bn(k.conv(x, cin * 4, { k: 1, bias: false })));
        y = k.at(tfl.layers.activation({ activation: 'swish' }), k.bn(k.dw(y, { s: stride })));
        y = k.se(y, cin * 4, Math.max(1, cin / 4));
        y = k.bn(k.conv(y, cout, { k: 1, bias: false }));
        return stride === 1 && cin === cout ? k.add([x, y]) : y;
      };
      const x = image();
      let y = k.bn(k.conv(x, 8, { s: 2, act: 'swish', bias: false }));
      y = mbconv(mbconv(y, 8, 8, 1), 8, 12, 2);
      return functional('efficientnet_b0_style', x, k.head(y));
    },
  },
  {
    name: 'DenseNet-BC-style (bottleneck layers, concatenation, transition)',
    build: () => {
      const k = kit(11);
      const layer = (x: T) => k.conv(k.relu(k.bn(k.conv(k.relu(k.bn(x)), 16, { k: 1, bias: false }))), 4, { bias: false });
      const x = image();
      let y = k.conv(x, 8, { bias: false });
      for (let i = 0; i < 3; i++) y = k.concat([y, layer(y)]);
      y = k.pool(k.conv(k.relu(k.bn(y)), 10, { k: 1, bias: false }), false);
      for (let i = 0; i < 2; i++) y = k.concat([y, layer(y)]);
      return functional('densenet_bc', x, k.head(k.relu(k.bn(y))));
    },
  },
  {
    name: 'Inception-style block (1x1, 3x3, double 3x3, pool projection)',
    build: () => {
      const k = kit(12);
      const x = image();
      const stem = k.relu(k.conv(x, 8));
      const b1 = k.conv(stem, 4, { k: 1, act: 'relu' });
      const b2 = k.conv(k.conv(stem, 4, { k: 1, act: 'relu' }), 6, { act: 'relu' });
      const b3 = k.conv(k.conv(k.conv(stem, 2, { k: 1, act: 'relu' }), 4, { act: 'relu' }), 4, { act: 'relu' });
      const b4 = k.conv(k.at(tfl.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }), stem), 3, { k: 1, act: 'relu' });
      return functional('inception', x, k.head(k.concat([b1, b2, b3, b4])));
    },
  },
  {
    name: 'SqueezeNet fire modules',
    build: () => {
      const k = kit(13);
      const fire = (x: T, squeeze: number, expand: number) => {
        const s = k.conv(x, squeeze, { k: 1, act: 'relu' });
        return k.concat([k.conv(s, expand, { k: 1, act: 'relu' }), k.conv(s, expand, { act: 'relu' })]);
      };
      const x = image();
      let y = k.pool(k.conv(x, 12, { s: 2, act: 'relu' }));
      y = fire(fire(y, 4, 8), 4, 8);
      // SqueezeNet's classifier is a 1x1 conv to the classes, then global pooling
      return functional('squeezenet', x, k.gap(k.conv(y, CLASSES, { k: 1 })));
    },
  },
  {
    name: 'U-Net-style segmenter (Conv2DTranspose, skip concatenation, per-pixel softmax)',
    build: () => {
      const k = kit(14);
      const x = image();
      const e1 = k.conv(k.conv(x, 8, { act: 'relu' }), 8, { act: 'relu' });
      const e2 = k.conv(k.pool(e1), 16, { act: 'relu' });
      const up = k.at(
        tfl.layers.conv2dTranspose({
          filters: 8,
          kernelSize: 2,
          strides: 2,
          padding: 'same',
          kernelInitializer: k.init(),
          biasInitializer: k.init(),
        }),
        e2,
      );
      const d1 = k.conv(k.concat([up, e1]), 8, { act: 'relu' });
      return functional('unet', x, k.at(tfl.layers.softmax({ axis: -1 }), k.conv(d1, 3, { k: 1 })));
    },
  },
  {
    name: 'convolutional autoencoder (strided encoder, Conv2DTranspose decoder, sigmoid output)',
    build: () => {
      const k = kit(15);
      const x = image();
      let y = k.conv(k.conv(x, 8, { s: 2, act: 'relu' }), 12, { s: 2, act: 'relu' });
      const deconv = (t: T, filters: number, act: string) =>
        k.at(
          tfl.layers.conv2dTranspose({
            filters,
            kernelSize: 3,
            strides: 2,
            padding: 'same',
            activation: act as 'relu',
            kernelInitializer: k.init(),
            biasInitializer: k.init(),
          }),
          t,
        );
      y = deconv(deconv(y, 8, 'relu'), 6, 'relu');
      return functional('autoencoder', x, k.conv(y, 3, { act: 'sigmoid' }));
    },
  },
  {
    name: 'two inputs and two outputs (shared trunk, class and box heads)',
    build: () => {
      const k = kit(16);
      const a = image('left');
      const b = image('right');
      const trunk = k.conv(k.add([k.conv(a, 8, { act: 'relu' }), k.conv(b, 8, { act: 'relu' })]), 12, { act: 'relu' });
      const pooled = k.gap(trunk);
      return functional('two_in_two_out', [a, b], [k.dense(pooled, CLASSES), k.dense(pooled, 4)]);
    },
  },
  {
    name: 'a backbone nested under a new head (transfer learning)',
    build: () => {
      const k = kit(17);
      const bin = image('backbone_input');
      const backbone = functional('backbone', bin, k.pool(k.relu(k.bn(k.conv(k.relu(k.bn(k.conv(bin, 8))), 12)))));
      const x = image();
      const y = k.dense(k.at(tfl.layers.dropout({ rate: 0.3 }), k.gap(backbone.apply(x) as T)), 16, 'relu');
      return functional('transfer', x, k.dense(y, CLASSES));
    },
  },
  {
    name: 'Xception-style separable convolutions with a strided residual',
    build: () => {
      const k = kit(18);
      const sep = (x: T, filters: number) =>
        k.bn(
          k.at(
            tfl.layers.separableConv2d({
              filters,
              kernelSize: 3,
              padding: 'same',
              depthwiseInitializer: k.init(),
              pointwiseInitializer: k.init(),
              biasInitializer: k.init(),
            }),
            x,
          ),
        );
      const x = image();
      const y = k.relu(k.bn(k.conv(x, 8, { s: 2 })));
      const z = k.at(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), sep(k.relu(sep(y, 12)), 12));
      return functional('xception_entry', x, k.head(k.add([z, k.bn(k.conv(y, 12, { k: 1, s: 2 }))])));
    },
  },
  {
    name: 'dilated convolutions (context module)',
    build: () => {
      const k = kit(19);
      const x = image();
      let y = k.conv(x, 8, { act: 'relu' });
      y = k.conv(k.conv(y, 8, { d: 2, act: 'relu' }), 8, { d: 4, act: 'relu' });
      return functional('dilated', x, k.head(y));
    },
  },
  {
    name: 'PReLU, LeakyReLU and ELU activations',
    build: () => {
      const k = kit(20);
      const x = image();
      let y = k.at(tfl.layers.prelu({ sharedAxes: [1, 2], alphaInitializer: k.init() }), k.conv(x, 8));
      y = k.at(tfl.layers.leakyReLU({ alpha: 0.1 }), k.conv(y, 8));
      y = k.at(tfl.layers.elu({}), k.conv(y, 8));
      return functional('prelu_net', x, k.head(y));
    },
  },
  {
    name: 'Dense on 4-D feature maps (per-position projection)',
    build: () => {
      const k = kit(21);
      const x = image();
      const y = k.dense(k.conv(x, 8, { act: 'relu' }), 12, 'gelu');
      return functional('dense_4d', x, k.head(k.dense(y, 10, 'relu')));
    },
  },
  {
    name: 'zero padding, valid convolutions and cropping',
    build: () => {
      const k = kit(22);
      const x = image();
      let y = k.at(tfl.layers.zeroPadding2d({ padding: 2 }), x);
      y = k.at(tfl.layers.conv2d({ filters: 8, kernelSize: 5, padding: 'valid', activation: 'relu', kernelInitializer: k.init() }), y);
      y = k.at(
        tfl.layers.cropping2D({
          cropping: [
            [1, 1],
            [2, 0],
          ],
        }),
        k.conv(y, 10, { act: 'relu' }),
      );
      return functional('pad_crop', x, k.head(y));
    },
  },
  {
    name: 'upsampling decoder (UpSampling2D + convolution)',
    build: () => {
      const k = kit(23);
      const x = image();
      let y = k.pool(k.conv(x, 8, { act: 'relu' }));
      y = k.conv(k.at(tfl.layers.upSampling2d({ size: [2, 2] }), k.conv(y, 12, { act: 'relu' })), 6, { act: 'relu' });
      return functional('upsampling', x, k.head(y));
    },
  },
  {
    name: 'MLP with layer normalization and GELU',
    build: () => {
      const k = kit(24);
      const x = image();
      let y = k.dense(k.at(tfl.layers.flatten(), x), 32, 'gelu');
      y = k.at(tfl.layers.layerNormalization({ gammaInitializer: k.init(), betaInitializer: k.init() }), y);
      return functional('mlp_layernorm', x, k.dense(k.dense(y, 16, 'relu'), CLASSES));
    },
  },
  {
    name: 'branches joined by Average, Maximum and Multiply',
    build: () => {
      const k = kit(25);
      const x = image();
      const stem = k.conv(x, 8, { act: 'relu' });
      const avg = k.at(tfl.layers.average(), [k.conv(stem, 6), k.conv(stem, 6, { k: 1 })]);
      const max = k.at(tfl.layers.maximum(), [k.conv(avg, 6, { act: 'relu' }), k.conv(avg, 6, { k: 1, act: 'relu' })]);
      const mul = k.at(tfl.layers.multiply(), [max, k.conv(avg, 6, { act: 'tanh' })]);
      return functional('joins', x, k.head(mul));
    },
  },
  {
    name: 'average pooling and a global max pooling head',
    build: () => {
      const k = kit(26);
      const x = image();
      const y = k.conv(k.pool(k.conv(x, 8, { act: 'relu' }), false), 12, { act: 'elu' });
      return functional('gmp_head', x, k.dense(k.at(tfl.layers.globalMaxPooling2d({}), y), CLASSES));
    },
  },
  {
    name: 'input rescaling (1/255) and a Keras-style classifier',
    build: () => {
      const k = kit(27);
      const x = image();
      const y = k.conv(k.at(tfl.layers.rescaling({ scale: 1 / 255 }), x), 8, { act: 'relu' });
      return functional('rescaled', x, k.dense(k.at(tfl.layers.flatten(), k.pool(y)), CLASSES, 'softmax'));
    },
  },
  {
    name: 'depthwise convolution with depth multiplier 2',
    build: () => {
      const k = kit(28);
      const x = image();
      const y = k.conv(k.relu(k.bn(k.dw(k.conv(x, 6, { act: 'relu' }), { m: 2 }))), 10, { k: 1, act: 'relu' });
      return functional('depth_multiplier', x, k.head(y));
    },
  },
  {
    name: 'ResNet with SE blocks (SE-ResNet)',
    build: () => {
      const k = kit(29);
      const x = image();
      const stem = k.relu(k.bn(k.conv(x, 8)));
      const body = k.se(k.bn(k.conv(k.relu(k.bn(k.conv(stem, 8))), 8)), 8, 2);
      return functional('se_resnet', x, k.head(k.relu(k.add([stem, body]))));
    },
  },
  {
    name: 'wide-and-deep style: an image branch and a flattened linear branch concatenated',
    build: () => {
      const k = kit(30);
      const x = image();
      const deep = k.gap(k.conv(k.conv(x, 8, { act: 'relu' }), 8, { act: 'relu' }));
      const wide = k.dense(k.at(tfl.layers.flatten(), k.pool(k.pool(x))), 6);
      return functional('wide_and_deep', x, k.dense(k.concat([deep, wide]), CLASSES));
    },
  },
  {
    name: 'tokens: a feature map reshaped to (positions, channels), Dense per token',
    build: () => {
      const k = kit(31);
      const x = image();
      const f = k.conv(k.pool(k.pool(x)), 8, { act: 'relu' });
      const tokens = k.at(tfl.layers.reshape({ targetShape: [16, 8] }), f);
      const y = k.dense(k.dense(tokens, 12, 'gelu'), 6, 'relu');
      return functional('tokens', x, k.dense(k.at(tfl.layers.flatten(), y), CLASSES));
    },
  },
];
