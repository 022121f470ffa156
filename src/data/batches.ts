// Mini-batches as float32 NHWC arrays: seeded shuffling, normalisation and the
// standard augmentation for small images (random crop after zero padding, flip).
import type { Rng } from '../util/random.js';
import type { ImageSet, Normalization } from './datasets.js';

export interface Augmentation {
  /** pixels of zero padding before a random crop back to the original size (0: none) */
  cropPadding: number;
  horizontalFlip: boolean;
}

export interface BatchOptions {
  batchSize: number;
  normalization: Normalization;
  /** shuffles with this generator when given; otherwise keeps the stored order */
  rng?: Rng;
  /** needs `rng` */
  augmentation?: Augmentation;
  /** drop a last batch smaller than batchSize */
  dropRemainder?: boolean;
}

export interface Batch {
  /** size x height x width x channels */
  x: Float32Array;
  labels: Uint8Array;
  /** which images of the set, in order (batches() says; a batch made by hand may not) */
  indices?: Int32Array;
  size: number;
}

/** The standard CIFAR recipe: pad 4, random 32x32 crop, random horizontal flip. */
export const cifarAugmentation: Augmentation = { cropPadding: 4, horizontalFlip: true };

/** channel, stored value -> normalised float */
type PixelMap = (channel: number, value: number) => number;

/**
 * How stored values become normalised floats. Bytes are pixels in [0, 255], looked
 * up in one table per channel (kept for the plain copy, the hot loop); floats were
 * preprocessed by the caller and are normalised as they are.
 */
interface Normalizer {
  tables?: Float32Array[];
  pixel: PixelMap;
}

function normalizer(images: ImageSet['images'], norm: Normalization): Normalizer {
  if (images instanceof Float32Array) return { pixel: (c, v) => (v - norm.mean[c]) / norm.std[c] };
  const tables = norm.mean.map((m, c) => {
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = (v / 255 - m) / norm.std[c];
    return table;
  });
  return { tables, pixel: (c, v) => tables[c][v] };
}

export function batchCount(set: ImageSet, options: Pick<BatchOptions, 'batchSize' | 'dropRemainder'>): number {
  return options.dropRemainder ? Math.floor(set.count / options.batchSize) : Math.ceil(set.count / options.batchSize);
}

export function* batches(set: ImageSet, options: BatchOptions): Generator<Batch> {
  const [h, w, c] = set.shape;
  const imageSize = h * w * c;
  if (options.augmentation && !options.rng) throw new Error('augmentation needs a random generator');
  if (options.normalization.mean.length !== c) {
    throw new Error(`normalisation has ${options.normalization.mean.length} channels, ${set.name} has ${c}`);
  }
  const norm = normalizer(set.images, options.normalization);
  const tables = norm.tables;
  const order = options.rng ? options.rng.permutation(set.count) : null;
  const total = batchCount(set, options);
  for (let b = 0; b < total; b++) {
    const start = b * options.batchSize;
    const size = Math.min(options.batchSize, set.count - start);
    const x = new Float32Array(size * imageSize);
    const labels = new Uint8Array(size);
    const indices = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const index = order ? order[start + i] : start + i;
      indices[i] = index;
      labels[i] = set.labels[index];
      const src = set.images.subarray(index * imageSize, (index + 1) * imageSize);
      const dst = x.subarray(i * imageSize, (i + 1) * imageSize);
      if (options.augmentation) {
        augmentInto(dst, src, set.shape, norm.pixel, options.augmentation, options.rng!);
      } else {
        if (tables) for (let p = 0; p < imageSize; p++) dst[p] = tables[p % c][src[p]];
        else for (let p = 0; p < imageSize; p++) dst[p] = norm.pixel(p % c, src[p]);
      }
    }
    yield { x, labels, indices, size };
  }
}

function augmentInto(
  dst: Float32Array,
  src: ImageSet['images'],
  [h, w, c]: [number, number, number],
  pixel: PixelMap,
  aug: Augmentation,
  rng: Rng,
): void {
  const pad = aug.cropPadding;
  const dy = pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
  const dx = pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
  const flip = aug.horizontalFlip && rng.next() < 0.5;
  for (let y = 0; y < h; y++) {
    const sy = y + dy;
    for (let x = 0; x < w; x++) {
      const sxRaw = x + dx;
      const sx = flip ? w - 1 - sxRaw : sxRaw;
      const out = (y * w + x) * c;
      const inside = sy >= 0 && sy < h && sxRaw >= 0 && sxRaw < w;
      for (let ch = 0; ch < c; ch++) {
        // zero padding happens on the raw pixels, as torchvision's RandomCrop does
        dst[out + ch] = pixel(ch, inside ? src[(sy * w + sx) * c + ch] : 0);
      }
    }
  }
}
