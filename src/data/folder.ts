// The user's own images: a folder with one subfolder per class (JPEG, PNG, WebP), as
// torchvision's ImageFolder and Keras's image_dataset_from_directory read them.
// Images are decoded and resized with sharp (libvips), once: the decoded set is
// cached in a binary file keyed by the files' names, sizes and times and the target
// shape, so later epochs and later runs read it back instead of decoding again.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import { makeDir, writeFileAtomic } from '../util/files.js';
import { stepCounter, type ProgressListener } from '../util/progress.js';
import { Rng } from '../util/random.js';
import { chooseNormalization, takeIndices, type DataSplits, type ImageSet, type NormalizationChoice } from './datasets.js';
import { DataError } from './errors.js';

export const resizeModes = ['fill', 'cover'] as const;
export type Resize = (typeof resizeModes)[number];

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];

export interface ImageFolderOptions {
  /** [height, width, channels] every image is resized to; channels 1 (greyscale) or 3 (RGB) */
  shape: [number, number, number];
  /**
   * 'fill' (default): stretch each image to the shape; 'cover': scale its shorter side
   * to fit and crop the centre (torchvision's Resize(size) + CenterCrop(size)), keeping its aspect
   */
  resize?: Resize;
  /** a separate validation folder with the same class subfolders */
  val?: string;
  /** without `val`: the fraction of each class held out for validation (default 0.2), drawn with `seed` */
  valSplit?: number;
  seed?: number;
  /** 'dataset' (the training images' per-channel statistics, default), 'imagenet', 'none' ([0, 1] pixels), or given values */
  normalization?: NormalizationChoice;
  /** folder for the decoded-image cache (default $XDG_CACHE_HOME or ~/.cache, then slimtrain/images); false: no cache */
  cacheDir?: string | false;
  /** told how many images are decoded (not when they come from the cache) */
  onProgress?: ProgressListener;
}

export interface ImageFolderData extends DataSplits {
  /** class names, in label order (sorted subfolder names) */
  classes: string[];
  /** images that could not be decoded, with why; they are left out */
  skipped: { path: string; reason: string }[];
  /** decoded images read back from the cache (true) or decoded now */
  cached: boolean;
}

interface Listing {
  classes: string[];
  files: { path: string; label: number }[];
}

/**
 * Class subfolders and their image files, sorted; an empty class or folder is an
 * error. A folder of images without subfolders is unlabelled: no classes, every label 0.
 */
function listFolder(dir: string, classes?: string[]): Listing {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (e) {
    throw new DataError(`cannot read image folder ${dir}: ${(e as Error).message.replace(/^[A-Z]+: /, '')}`);
  }
  const found = entries.filter((name) => !name.startsWith('.') && statSync(join(dir, name)).isDirectory());
  const images = (folder: string) =>
    readdirSync(folder)
      .sort()
      .filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase()));
  if (found.length === 0) {
    const unlabelled = images(dir).map((f) => ({ path: join(dir, f), label: 0 }));
    if (unlabelled.length === 0 || classes?.length)
      throw new DataError(
        `image folder ${dir} has no class subfolders${unlabelled.length ? '' : ' and no images'}: put each class's images in a subfolder named after it (${dir}/cat/1.jpg, ${dir}/dog/2.jpg, ...)`,
      );
    return { classes: [], files: unlabelled };
  }
  if (classes && found.join('\n') !== classes.join('\n')) {
    throw new DataError(
      `validation folder ${dir} has classes ${found.join(', ')}, the training folder ${classes.join(', ')}: they must match`,
    );
  }
  const files = found.flatMap((name, label) => {
    const inClass = images(join(dir, name));
    if (inClass.length === 0) {
      throw new DataError(`class folder ${join(dir, name)} has no images (${IMAGE_EXTENSIONS.join(', ')}); add some or remove the folder`);
    }
    return inClass.map((f) => ({ path: join(dir, name, f), label }));
  });
  return { classes: found, files };
}

/** Decodes and resizes one image to `shape`, as HWC uint8. */
async function decode(path: string, [h, w, c]: [number, number, number], resize: Resize): Promise<Uint8Array> {
  let image = sharp(path, { failOn: 'error' }).resize(w, h, { fit: resize, position: 'centre' }).removeAlpha();
  image = c === 1 ? image.greyscale() : image.toColourspace('srgb');
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== c || data.length !== h * w * c) throw new Error(`decoded to ${info.channels} channels, not ${c}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

const MAGIC = 'SLIMTRAIN-IMAGES-1';
const DECODES_IN_FLIGHT = 8;

/** the cache file of these files at this shape and resizing: any change to a file's name, size or time makes a new one */
function cachePath(cacheDir: string, files: Listing['files'], shape: number[], resize: Resize): string {
  const hash = createHash('sha256');
  // 'fill' keys as before it had a name, so caches made then still serve
  hash.update(JSON.stringify(resize === 'fill' ? shape : { shape, resize }));
  for (const f of files) {
    const s = statSync(f.path);
    hash.update(`${f.path}\u0000${s.size}\u0000${s.mtimeMs}\u0000${f.label}\n`);
  }
  return join(cacheDir, `${hash.digest('hex').slice(0, 32)}.bin`);
}

interface Decoded {
  labels: Uint8Array;
  images: Uint8Array;
  skipped: { path: string; reason: string }[];
}

function readCache(path: string): Decoded | undefined {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch {
    return undefined;
  }
  const end = raw.indexOf(10);
  const header = JSON.parse(raw.subarray(0, end).toString('utf8')) as {
    magic: string;
    count: number;
    size: number;
    skipped: Decoded['skipped'];
  };
  if (header.magic !== MAGIC || raw.length !== end + 1 + header.count * (1 + header.size)) return undefined;
  const body = new Uint8Array(raw.buffer, raw.byteOffset + end + 1, raw.length - end - 1);
  return { labels: body.slice(0, header.count), images: body.slice(header.count), skipped: header.skipped };
}

function writeCache(path: string, d: Decoded, size: number): void {
  const header = Buffer.from(`${JSON.stringify({ magic: MAGIC, count: d.labels.length, size, skipped: d.skipped })}\n`);
  writeFileAtomic(path, header, d.labels, d.images);
}

/** Decodes every listed image (or reads them back from the cache); undecodable ones are skipped. */
async function decodeAll(
  dir: string,
  listing: Listing,
  shape: [number, number, number],
  resize: Resize,
  cacheDir: string | false,
  onProgress?: ProgressListener,
): Promise<Decoded & { cached: boolean }> {
  const size = shape[0] * shape[1] * shape[2];
  const cache = cacheDir === false ? undefined : cachePath(cacheDir, listing.files, shape, resize);
  const hit = cache && readCache(cache);
  if (hit) return { ...hit, cached: true };
  // several decodes in flight keep libvips's threads busy; results stay in file order
  const results = new Array<Uint8Array | Error>(listing.files.length);
  const tick = stepCounter(onProgress, `decoding ${dir}`, listing.files.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < listing.files.length; i = next++) {
      results[i] = await decode(listing.files[i].path, shape, resize).catch((e: Error) => e);
      tick();
    }
  };
  await Promise.all(Array.from({ length: DECODES_IN_FLIGHT }, worker));
  const kept: { label: number; pixels: Uint8Array }[] = [];
  const skipped: Decoded['skipped'] = [];
  results.forEach((r, i) => {
    const f = listing.files[i];
    if (r instanceof Error) skipped.push({ path: f.path, reason: r.message });
    else kept.push({ label: f.label, pixels: r });
  });
  const images = new Uint8Array(kept.length * size);
  kept.forEach((k, i) => images.set(k.pixels, i * size));
  const decoded = { labels: Uint8Array.from(kept, (k) => k.label), images, skipped };
  if (cache && cacheDir) {
    try {
      makeDir(cacheDir);
      writeCache(cache, decoded, size);
    } catch {
      // an unwritable cache only costs decoding again next time
    }
  }
  return { ...decoded, cached: false };
}

function imageSet(name: string, d: Decoded, indices: number[], shape: [number, number, number], numClasses: number): ImageSet {
  return takeIndices({ name, images: d.images, labels: d.labels, count: d.labels.length, shape, numClasses }, indices, name);
}

/** Per class, a seeded `fraction` of its images for validation (at least one where the class has two or more). */
function splitIndices(labels: Uint8Array, fraction: number, seed: number): { train: number[]; val: number[] } {
  const rng = new Rng(seed);
  const train: number[] = [];
  const val: number[] = [];
  const byClass = new Map<number, number[]>();
  labels.forEach((l, i) => byClass.set(l, [...(byClass.get(l) ?? []), i]));
  for (const members of byClass.values()) {
    const order = rng.permutation(members.length).map((k) => members[k]);
    const n = members.length > 1 ? Math.max(1, Math.round(fraction * members.length)) : 0;
    val.push(...order.slice(0, n));
    train.push(...order.slice(n));
  }
  return { train, val };
}

/** `indices` in a seeded random order, so that the first N images (--subset) span the classes */
function shuffled(indices: number[], seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from(rng.permutation(indices.length), (k) => indices[k]);
}

export async function loadImageFolder(dir: string, options: ImageFolderOptions): Promise<ImageFolderData> {
  const { shape } = options;
  const seed = options.seed ?? 0;
  if (shape[2] !== 1 && shape[2] !== 3) throw new DataError(`images can be read with 1 (greyscale) or 3 (RGB) channels, not ${shape[2]}`);
  const fraction = options.valSplit ?? 0.2;
  if (!options.val && !(fraction > 0 && fraction < 1)) throw new DataError(`the validation split must be in (0, 1), got ${fraction}`);
  const cacheDir = options.cacheDir ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'slimtrain', 'images');
  const listing = listFolder(dir);
  if (listing.classes.length > 256)
    throw new DataError(`image folder ${dir} has ${listing.classes.length} classes; slimtrain takes up to 256`);
  const resize = options.resize ?? 'fill';
  const decoded = await decodeAll(dir, listing, shape, resize, cacheDir, options.onProgress);
  const numClasses = listing.classes.length;
  let train: ImageSet;
  let test: ImageSet;
  let skipped = decoded.skipped;
  let cached = decoded.cached;
  if (options.val) {
    const valDecoded = await decodeAll(options.val, listFolder(options.val, listing.classes), shape, resize, cacheDir, options.onProgress);
    train = imageSet(`${dir}/train`, decoded, shuffled([...decoded.labels.keys()], seed), shape, numClasses);
    test = imageSet(`${options.val}/val`, valDecoded, shuffled([...valDecoded.labels.keys()], seed + 1), shape, numClasses);
    skipped = [...skipped, ...valDecoded.skipped];
    cached &&= valDecoded.cached;
  } else {
    const split = splitIndices(decoded.labels, fraction, seed);
    train = imageSet(`${dir}/train`, decoded, shuffled(split.train, seed), shape, numClasses);
    test = imageSet(`${dir}/val`, decoded, shuffled(split.val, seed + 1), shape, numClasses);
  }
  if (train.count === 0)
    throw new DataError(
      `image folder ${dir}: no image could be read (${skipped.length} skipped, e.g. ${skipped[0]?.path}: ${skipped[0]?.reason})`,
    );
  const normalization = chooseNormalization(options.normalization, train);
  return { name: dir, train, test, normalization, classes: listing.classes, skipped, cached };
}
