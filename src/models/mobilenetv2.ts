// MobileNetV2 as tf.keras.applications builds it (Sandler et al. 2018, width 1.0):
// the same layers, names and padding (a ZeroPadding2D before each stride-2 'valid'
// depthwise convolution), 3,504,872 trainable parameters at 1000 classes, as
// torchvision's mobilenet_v2.
import { Builder, correctPad, input, model, type Sym, type ZooOptions } from './builder.js';

/** (expansion t, output channels c, repeats n, first stride s), from the paper's Table 2 */
const BLOCKS: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

function invertedResidual(b: Builder, x: Sym, t: number, filters: number, strides: number, id: number): Sym {
  const channels = x.shape[3] as number;
  const p = id === 0 ? 'expanded_conv_' : `block_${id}_`;
  let y = x;
  if (t !== 1) {
    y = b.conv(y, channels * t, `${p}expand`, { kernel: 1, bias: false });
    y = b.bn(y, `${p}expand_BN`);
    y = b.relu(y, `${p}expand_relu`, 6);
  }
  if (strides === 2) y = b.zeroPad(y, `${p}pad`, correctPad(y, 3));
  y = b.depthwise(y, `${p}depthwise`, strides, { padding: strides === 2 ? 'valid' : 'same' });
  y = b.bn(y, `${p}depthwise_BN`);
  y = b.relu(y, `${p}depthwise_relu`, 6);
  y = b.conv(y, filters, `${p}project`, { kernel: 1, bias: false });
  y = b.bn(y, `${p}project_BN`);
  return strides === 1 && channels === filters ? b.add([x, y], `${p}add`) : y;
}

export function mobilenetV2(o: ZooOptions): ReturnType<typeof model> {
  const b = new Builder(o.seed ?? 0);
  const x = input(o);
  let y = b.conv(x, 32, 'Conv1', { strides: 2, bias: false });
  y = b.bn(y, 'bn_Conv1');
  y = b.relu(y, 'Conv1_relu', 6);
  let id = 0;
  for (const [t, c, n, s] of BLOCKS) {
    for (let k = 0; k < n; k++) y = invertedResidual(b, y, t, c, k === 0 ? s : 1, id++);
  }
  y = b.conv(y, 1280, 'Conv_1', { kernel: 1, bias: false });
  y = b.bn(y, 'Conv_1_bn');
  y = b.relu(y, 'out_relu', 6);
  y = b.globalAvgPool(y);
  return model(x, b.dense(y, o.numClasses, 'predictions'), 'mobilenetv2');
}
