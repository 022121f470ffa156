// DenseNet-121 (Huang et al. 2017) as tf.keras.applications builds it: pre-activation
// (BN - ReLU - conv) dense layers of a 1x1 bottleneck to 128 and a 3x3 to 32 new
// channels, each concatenated onto its block's input; transitions halve the channels
// and average-pool. 7,978,856 trainable parameters at 1000 classes, as torchvision's
// densenet121.
import { Builder, input, model, type Sym, type ZooOptions } from './builder.js';

const BLOCKS = [6, 12, 24, 16];
const GROWTH = 32;

function denseLayer(b: Builder, x: Sym, p: string): Sym {
  let y = b.relu(b.bn(x, `${p}_0_bn`), `${p}_0_relu`);
  y = b.conv(y, 4 * GROWTH, `${p}_1_conv`, { kernel: 1, bias: false });
  y = b.relu(b.bn(y, `${p}_1_bn`), `${p}_1_relu`);
  y = b.conv(y, GROWTH, `${p}_2_conv`, { bias: false });
  return b.concat([x, y], `${p}_concat`);
}

function transition(b: Builder, x: Sym, p: string): Sym {
  let y = b.relu(b.bn(x, `${p}_bn`), `${p}_relu`);
  y = b.conv(y, Math.floor((x.shape[3] as number) / 2), `${p}_conv`, { kernel: 1, bias: false });
  return b.avgPool(y, `${p}_pool`, 2, 2);
}

export function densenet121(o: ZooOptions): ReturnType<typeof model> {
  const b = new Builder(o.seed ?? 0);
  const x = input(o);
  let y = b.stem7x7(x);
  BLOCKS.forEach((layers, i) => {
    for (let k = 0; k < layers; k++) y = denseLayer(b, y, `conv${i + 2}_block${k + 1}`);
    if (i < BLOCKS.length - 1) y = transition(b, y, `pool${i + 2}`);
  });
  y = b.relu(b.bn(y, 'bn'), 'relu');
  y = b.globalAvgPool(y);
  return model(x, b.dense(y, o.numClasses, 'predictions'), 'densenet121');
}
