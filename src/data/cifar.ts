// The CIFAR-10 / CIFAR-100 binary format: fixed-size records of label byte(s)
// followed by 32x32 pixels stored as three planes (R, G, B). We return HWC order.
import { readFileSync } from 'node:fs';
import { DataError } from './errors.js';

export const CIFAR_SIDE = 32;
const PIXELS = CIFAR_SIDE * CIFAR_SIDE;
const IMAGE_BYTES = 3 * PIXELS;

export type CifarVariant = 'cifar10' | 'cifar100';

export interface CifarBatch {
  /** N x 32 x 32 x 3, HWC, uint8 */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** CIFAR-100 records carry a coarse and a fine label; we use the fine one. */
function labelBytes(variant: CifarVariant): number {
  return variant === 'cifar10' ? 1 : 2;
}

export function numClasses(variant: CifarVariant): number {
  return variant === 'cifar10' ? 10 : 100;
}

export function parseCifar(bytes: Uint8Array, variant: CifarVariant, source: string): CifarBatch {
  const record = labelBytes(variant) + IMAGE_BYTES;
  if (bytes.length === 0 || bytes.length % record !== 0) {
    throw new DataError(
      `${source}: ${bytes.length} bytes is not a whole number of ${variant} records (${record} bytes each); ` +
        'the file is truncated or not in the CIFAR binary format',
    );
  }
  const count = bytes.length / record;
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  const classes = numClasses(variant);
  for (let i = 0; i < count; i++) {
    const base = i * record;
    const label = bytes[base + labelBytes(variant) - 1];
    if (label >= classes) {
      throw new DataError(`${source}: record ${i} has label ${label}, outside 0..${classes - 1}; the file is corrupt`);
    }
    labels[i] = label;
    const pixels = base + labelBytes(variant);
    const out = i * IMAGE_BYTES;
    for (let p = 0; p < PIXELS; p++) {
      images[out + 3 * p] = bytes[pixels + p];
      images[out + 3 * p + 1] = bytes[pixels + PIXELS + p];
      images[out + 3 * p + 2] = bytes[pixels + 2 * PIXELS + p];
    }
  }
  return { images, labels, count };
}

export function readCifar(paths: string[], variant: CifarVariant): CifarBatch {
  const parts = paths.map((path) => {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new DataError(`cannot read ${path}: ${(e as Error).message}`);
    }
    return parseCifar(bytes, variant, path);
  });
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let offset = 0;
  for (const p of parts) {
    images.set(p.images, offset * IMAGE_BYTES);
    labels.set(p.labels, offset);
    offset += p.count;
  }
  return { images, labels, count };
}

/** Encodes HWC uint8 images and labels as CIFAR binary records (for fixtures and tests). */
export function encodeCifar(images: Uint8Array, labels: Uint8Array, variant: CifarVariant): Uint8Array {
  const lb = labelBytes(variant);
  const record = lb + IMAGE_BYTES;
  const out = new Uint8Array(labels.length * record);
  for (let i = 0; i < labels.length; i++) {
    const base = i * record;
    if (variant === 'cifar100') out[base] = Math.floor(labels[i] / 5); // a stand-in coarse label
    out[base + lb - 1] = labels[i];
    for (let p = 0; p < PIXELS; p++) {
      for (let ch = 0; ch < 3; ch++) out[base + lb + ch * PIXELS + p] = images[i * IMAGE_BYTES + 3 * p + ch];
    }
  }
  return out;
}
