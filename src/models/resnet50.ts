// ResNet-50 (He et al. 2016) in torchvision's form: a 7x7 stride-2 stem, 3x3 max
// pool, bottleneck blocks with the stride on the 3x3 convolution ("v1.5"), no
// convolution biases; 25,557,032 trainable parameters at 1000 classes. The stem's
// padding is Keras's (ZeroPadding2D then 'valid'), which is PyTorch's.
import { Builder, input, model, type Sym, type ZooOptions } from './builder.js';

/** (bottleneck width, blocks) per stage; the output is 4x the width */
const STAGES: [number, number][] = [
  [64, 3],
  [128, 4],
  [256, 6],
  [512, 3],
];

function bottleneck(b: Builder, x: Sym, width: number, strides: number, p: string): Sym {
  const filters = 4 * width;
  let shortcut = x;
  if (strides !== 1 || x.shape[3] !== filters) {
    shortcut = b.conv(x, filters, `${p}_0_conv`, { kernel: 1, strides, bias: false });
    shortcut = b.bn(shortcut, `${p}_0_bn`);
  }
  let y = b.conv(x, width, `${p}_1_conv`, { kernel: 1, bias: false });
  y = b.relu(b.bn(y, `${p}_1_bn`), `${p}_1_relu`);
  y = b.conv(y, width, `${p}_2_conv`, { strides, bias: false });
  y = b.relu(b.bn(y, `${p}_2_bn`), `${p}_2_relu`);
  y = b.conv(y, filters, `${p}_3_conv`, { kernel: 1, bias: false });
  y = b.bn(y, `${p}_3_bn`);
  return b.relu(b.add([shortcut, y], `${p}_add`), `${p}_out`);
}

export function resnet50(o: ZooOptions): ReturnType<typeof model> {
  const b = new Builder(o.seed ?? 0);
  const x = input(o);
  let y = b.stem7x7(x);
  STAGES.forEach(([width, blocks], s) => {
    for (let k = 0; k < blocks; k++) y = bottleneck(b, y, width, s > 0 && k === 0 ? 2 : 1, `conv${s + 2}_block${k + 1}`);
  });
  y = b.globalAvgPool(y);
  return model(x, b.dense(y, o.numClasses, 'predictions'), 'resnet50');
}
