// One entrance for training data: a data set by name (mnist, fashion-mnist, cifar10,
// cifar100) or the user's own folder of images, resized to the model's input.
import { chooseNormalization, isDatasetName, loadDataset, type DataSplits, type NormalizationChoice } from './datasets.js';
import { thousands } from '../util/format.js';
import { DataError } from './errors.js';
import { loadImageFolder, type Resize } from './folder.js';
import type { ProgressListener } from '../util/progress.js';

export interface DataSpec {
  /** a data set's name, or a folder with one subfolder of images per class */
  data: string;
  /** image folders: a separate validation folder with the same classes */
  val?: string;
  /** image folders without `val`: the share of each class held out for validation (default 0.2) */
  valSplit?: number;
  /** default: the training images' statistics */
  normalization?: NormalizationChoice;
  /** image folders: 'fill' (stretch, default) or 'cover' (centre crop, aspect kept) */
  resize?: Resize;
}

/** How a job reads an image folder: DataSpec less the data's name, plus the size for a zoo model. */
export interface DataOptions extends Omit<DataSpec, 'data'> {
  /** a zoo model trained on an image folder: the size to read the images at (default: an ImageNet architecture's own, else 32x32x3) */
  inputShape?: [number, number, number];
}

export interface LoadedData extends DataSplits {
  /** image folders: the class names in label order */
  classes?: string[];
  /** image folders: images that could not be decoded, left out */
  skipped: { path: string; reason: string }[];
  /** image folders: decoded images read back from the cache */
  cached?: boolean;
}

/** One line on what was read, and what could not be. */
export function describeData(data: LoadedData): string {
  const counts = `${thousands(data.train.count)} for training, ${thousands(data.test.count)} for testing`;
  if (!data.classes) return `${data.name}: ${counts}`;
  const how = data.cached ? 'decoded images read from the cache' : 'decoded now, cached for later runs';
  const skipped = data.skipped.length
    ? `; skipped ${data.skipped.length} unreadable image${data.skipped.length > 1 ? 's' : ''}: ` +
      data.skipped
        .slice(0, 3)
        .map((s) => `${s.path} (${s.reason})`)
        .join(', ') +
      (data.skipped.length > 3 ? ', ...' : '')
    : '; skipped 0 images';
  const classes = data.classes.length ? `${data.classes.length} classes` : 'unlabelled';
  return `${data.name}: ${classes}, ${counts} (${how})${skipped}`;
}

/** Loads `spec.data`; an image folder is resized to `shape` ([height, width, channels]) and split with `seed`. */
export async function loadData(
  spec: DataSpec,
  shape: [number, number, number],
  seed = 0,
  onProgress?: ProgressListener,
): Promise<LoadedData> {
  if (isDatasetName(spec.data)) {
    if (spec.val !== undefined || spec.valSplit !== undefined || spec.resize !== undefined) {
      throw new DataError(`--val, --val-split and --resize apply to image folders; ${spec.data} has its own test split and size`);
    }
    const data = loadDataset(spec.data);
    const normalization = spec.normalization ? chooseNormalization(spec.normalization, data.train) : data.normalization;
    return { ...data, normalization, skipped: [] };
  }
  const { val, valSplit, normalization, resize } = spec;
  return loadImageFolder(spec.data, { shape, val, valSplit, seed, normalization, resize, onProgress });
}
