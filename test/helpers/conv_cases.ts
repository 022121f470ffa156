// Convolution shapes for kernel tests: strides 1-3, 'same' and 'valid', dilation,
// odd sizes and batch 1, seeded.
import { Rng } from '../../src/util/random.js';

type Pad = 'same' | 'valid';
export interface Case {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  co: number; // output channels (regular) or channel multiplier (depthwise)
  stride: number;
  dilation: number;
  pad: Pad;
}

export function randomCases(seed: number, count: number): Case[] {
  const rng = new Rng(seed);
  const cases: Case[] = [];
  const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)];
  for (let i = 0; i < count; i++) {
    const stride = pick([1, 2, 3]);
    // TensorFlow.js's forward convolutions take a dilation only with stride 1.
    const dilation = stride === 1 ? pick([1, 2]) : 1;
    const kh = pick([1, 2, 3, 5]);
    const kw = pick([1, 3]);
    const pad: Pad = pick(['same', 'valid']);
    const minH = pad === 'valid' ? (kh - 1) * dilation + 1 : 1;
    const minW = pad === 'valid' ? (kw - 1) * dilation + 1 : 1;
    cases.push({
      n: pick([1, 2, 3]),
      h: minH + rng.int(7),
      w: minW + rng.int(7),
      c: pick([1, 2, 3, 4]),
      kh,
      kw,
      co: pick([1, 2, 3]),
      stride,
      dilation,
      pad,
    });
  }
  return cases;
}

// Always include the shapes the issue names explicitly.
export const fixedCases: Case[] = [
  { n: 1, h: 7, w: 5, c: 3, kh: 3, kw: 3, co: 2, stride: 2, dilation: 1, pad: 'same' },
  { n: 1, h: 9, w: 9, c: 2, kh: 3, kw: 3, co: 2, stride: 1, dilation: 2, pad: 'valid' },
  { n: 2, h: 8, w: 6, c: 4, kh: 5, kw: 3, co: 1, stride: 2, dilation: 1, pad: 'valid' },
  { n: 3, h: 6, w: 6, c: 1, kh: 2, kw: 2, co: 3, stride: 1, dilation: 1, pad: 'same' },
];
