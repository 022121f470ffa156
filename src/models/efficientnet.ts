// EfficientNet-B0 (Tan & Le 2019) as tf.keras.applications builds it: MBConv blocks
// with swish, squeeze-and-excitation gates (global pool - 1x1 swish - 1x1 sigmoid -
// multiply) and a ZeroPadding2D before each stride-2 'valid' depthwise convolution;
// 5,288,548 trainable parameters at 1000 classes, as torchvision's efficientnet_b0.
// Keras's input rescaling and dropout are left out: data is normalised before it
// arrives, and dropout is not what is measured here.
import { Builder, correctPad, input, model, type Sym, type ZooOptions } from './builder.js';

/** (kernel, repeats, output channels, expansion, first stride) per stage */
const STAGES: [number, number, number, number, number][] = [
  [3, 1, 16, 1, 1],
  [3, 2, 24, 6, 2],
  [5, 2, 40, 6, 2],
  [3, 3, 80, 6, 2],
  [5, 3, 112, 6, 1],
  [5, 4, 192, 6, 2],
  [3, 1, 320, 6, 1],
];

function mbConv(b: Builder, x: Sym, kernel: number, filters: number, t: number, strides: number, p: string): Sym {
  const channels = x.shape[3] as number;
  let y = x;
  if (t !== 1) {
    y = b.conv(y, channels * t, `${p}expand_conv`, { kernel: 1, bias: false });
    y = b.activation(b.bn(y, `${p}expand_bn`), `${p}expand_activation`, 'swish');
  }
  if (strides === 2) y = b.zeroPad(y, `${p}dwconv_pad`, correctPad(y, kernel));
  y = b.depthwise(y, `${p}dwconv`, strides, { kernel, padding: strides === 2 ? 'valid' : 'same' });
  y = b.activation(b.bn(y, `${p}bn`), `${p}activation`, 'swish');
  // squeeze and excite, to a quarter of the block's input channels
  const squeezed = Math.max(1, Math.floor(channels / 4));
  let se = b.globalAvgPool(y, `${p}se_squeeze`);
  se = b.reshape(se, `${p}se_reshape`, [1, 1, channels * t]);
  se = b.activation(b.conv(se, squeezed, `${p}se_reduce`, { kernel: 1 }), `${p}se_reduce_activation`, 'swish');
  se = b.activation(b.conv(se, channels * t, `${p}se_expand`, { kernel: 1 }), `${p}se_expand_activation`, 'sigmoid');
  y = b.multiply([y, se], `${p}se_excite`);
  y = b.conv(y, filters, `${p}project_conv`, { kernel: 1, bias: false });
  y = b.bn(y, `${p}project_bn`);
  return strides === 1 && channels === filters ? b.add([y, x], `${p}add`) : y;
}

export function efficientNetB0(o: ZooOptions): ReturnType<typeof model> {
  const b = new Builder(o.seed ?? 0);
  const x = input(o);
  let y = b.zeroPad(x, 'stem_conv_pad', correctPad(x, 3));
  y = b.conv(y, 32, 'stem_conv', { strides: 2, padding: 'valid', bias: false });
  y = b.activation(b.bn(y, 'stem_bn'), 'stem_activation', 'swish');
  STAGES.forEach(([kernel, repeats, filters, t, s], stage) => {
    for (let k = 0; k < repeats; k++) {
      const p = `block${stage + 1}${String.fromCharCode(97 + k)}_`;
      y = mbConv(b, y, kernel, filters, t, k === 0 ? s : 1, p);
    }
  });
  y = b.conv(y, 1280, 'top_conv', { kernel: 1, bias: false });
  y = b.activation(b.bn(y, 'top_bn'), 'top_activation', 'swish');
  y = b.globalAvgPool(y);
  return model(x, b.dense(y, o.numClasses, 'predictions'), 'efficientnet-b0');
}
