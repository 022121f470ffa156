// Inception-v3 (Szegedy et al. 2016) as tf.keras.applications builds it for 299x299:
// every convolution is conv (no bias) - BN without scale - ReLU, the eleven 'mixed'
// blocks join their branches by concatenation, average-pool branches pad 'same'.
// 23,817,352 trainable parameters at 1000 classes (torchvision's inception_v3 without
// its auxiliary head has the same layers plus the BN scales: 23,834,568).
import { Builder, input, model, type Sym, type ZooOptions } from './builder.js';

type Kernel = [number, number] | number;

/** The builder with Inception's conv-BN-ReLU unit and its branch shapes. */
class Inception extends Builder {
  unit(x: Sym, filters: number, kernel: Kernel, name: string, strides = 1, padding: 'same' | 'valid' = 'same'): Sym {
    const y = this.conv(x, filters, `${name}_conv`, { kernel, strides, padding, bias: false });
    return this.relu(this.bn(y, `${name}_bn`, { scale: false }), `${name}_relu`);
  }

  /** units one after another */
  chain(x: Sym, steps: [number, Kernel][], name: string): Sym {
    return steps.reduce((y, [filters, kernel], i) => this.unit(y, filters, kernel, `${name}_${i + 1}`), x);
  }

  avgBranch(x: Sym, filters: number, name: string): Sym {
    return this.unit(this.avgPool(x, `${name}_pool`, 3, 1, 'same'), filters, 1, `${name}_pool_1x1`);
  }

  reducePool(x: Sym, name: string): Sym {
    return this.maxPool(x, name, 'valid', { size: 3, strides: 2 });
  }

  /** 35 x 35 blocks (mixed0-2) */
  blockA(x: Sym, pool: number, p: string): Sym {
    const branches = [
      this.unit(x, 64, 1, `${p}_1x1`),
      this.chain(
        x,
        [
          [48, 1],
          [64, 5],
        ],
        `${p}_5x5`,
      ),
      this.chain(
        x,
        [
          [64, 1],
          [96, 3],
          [96, 3],
        ],
        `${p}_3x3dbl`,
      ),
      this.avgBranch(x, pool, p),
    ];
    return this.concat(branches, p);
  }

  /** 35 -> 17 (mixed3) */
  reductionA(x: Sym, p: string): Sym {
    const dbl = this.chain(
      x,
      [
        [64, 1],
        [96, 3],
      ],
      `${p}_3x3dbl`,
    );
    const branches = [
      this.unit(x, 384, 3, `${p}_3x3`, 2, 'valid'),
      this.unit(dbl, 96, 3, `${p}_3x3dbl_3`, 2, 'valid'),
      this.reducePool(x, `${p}_pool`),
    ];
    return this.concat(branches, p);
  }

  /** 17 x 17 blocks with factorised 7x7 convolutions (mixed4-7) */
  blockB(x: Sym, c: number, p: string): Sym {
    const branches = [
      this.unit(x, 192, 1, `${p}_1x1`),
      this.chain(
        x,
        [
          [c, 1],
          [c, [1, 7]],
          [192, [7, 1]],
        ],
        `${p}_7x7`,
      ),
      this.chain(
        x,
        [
          [c, 1],
          [c, [7, 1]],
          [c, [1, 7]],
          [c, [7, 1]],
          [192, [1, 7]],
        ],
        `${p}_7x7dbl`,
      ),
      this.avgBranch(x, 192, p),
    ];
    return this.concat(branches, p);
  }

  /** 17 -> 8 (mixed8) */
  reductionB(x: Sym, p: string): Sym {
    const b3 = this.unit(this.unit(x, 192, 1, `${p}_3x3_1`), 320, 3, `${p}_3x3_2`, 2, 'valid');
    const b7 = this.unit(
      this.chain(
        x,
        [
          [192, 1],
          [192, [1, 7]],
          [192, [7, 1]],
        ],
        `${p}_7x7x3`,
      ),
      192,
      3,
      `${p}_7x7x3_4`,
      2,
      'valid',
    );
    return this.concat([b3, b7, this.reducePool(x, `${p}_pool`)], p);
  }

  /** 8 x 8 blocks with expanded filter banks (mixed9-10) */
  blockC(x: Sym, p: string): Sym {
    const split = (z: Sym, name: string) =>
      this.concat([this.unit(z, 384, [1, 3], `${name}_1x3`), this.unit(z, 384, [3, 1], `${name}_3x1`)], `${name}_concat`);
    const branches = [
      this.unit(x, 320, 1, `${p}_1x1`),
      split(this.unit(x, 384, 1, `${p}_3x3`), `${p}_3x3`),
      split(
        this.chain(
          x,
          [
            [448, 1],
            [384, 3],
          ],
          `${p}_3x3dbl`,
        ),
        `${p}_3x3dbl`,
      ),
      this.avgBranch(x, 192, p),
    ];
    return this.concat(branches, p);
  }
}

export function inceptionV3(o: ZooOptions): ReturnType<typeof model> {
  const b = new Inception(o.seed ?? 0);
  const x = input(o);
  let y = b.unit(x, 32, 3, 'stem_1', 2, 'valid');
  y = b.unit(y, 32, 3, 'stem_2', 1, 'valid');
  y = b.reducePool(b.unit(y, 64, 3, 'stem_3'), 'stem_pool1');
  y = b.unit(y, 80, 1, 'stem_4', 1, 'valid');
  y = b.reducePool(b.unit(y, 192, 3, 'stem_5', 1, 'valid'), 'stem_pool2');
  [32, 64, 64].forEach((pool, i) => (y = b.blockA(y, pool, `mixed${i}`)));
  y = b.reductionA(y, 'mixed3');
  [128, 160, 160, 192].forEach((c, i) => (y = b.blockB(y, c, `mixed${i + 4}`)));
  y = b.reductionB(y, 'mixed8');
  y = b.blockC(b.blockC(y, 'mixed9'), 'mixed10');
  y = b.globalAvgPool(y);
  return model(x, b.dense(y, o.numClasses, 'predictions'), 'inceptionv3');
}
