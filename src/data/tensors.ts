// Data a library caller brings: {xs, ys} tensors, or a tf.data.Dataset whose
// elements are {xs, ys} examples or batches. They are read once into image sets of
// float pixels, used as given (the caller has preprocessed them), so the training
// loop shuffles and batches them as it does the built-in sets.
import type * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../util/random.js';
import { takeIndices, type DataSplits, type ImageSet } from './datasets.js';
import { DataError } from './errors.js';

/** Images as [count, height, width, channels] and their labels: class indices [count] or one-hot [count, classes]. */
export interface TensorData {
  xs: tf.Tensor;
  ys: tf.Tensor;
}

/** What is read of a tf.data.Dataset (typed by shape, so no dependency on @tensorflow/tfjs-data). */
export interface DatasetLike {
  forEachAsync(f: (element: unknown) => void): Promise<void>;
}

export type DataSource = TensorData | DatasetLike;

/** Training data and the held-out data accuracy is measured on (and the slim model checked against). */
export interface SplitSources {
  train: DataSource;
  test: DataSource;
}

function isDataset(source: DataSource): source is DatasetLike {
  return typeof (source as DatasetLike).forEachAsync === 'function';
}

function isTensorLike(v: unknown): v is tf.Tensor {
  return typeof v === 'object' && v !== null && Array.isArray((v as tf.Tensor).shape) && typeof (v as tf.Tensor).dataSync === 'function';
}

/** Class indices from labels given as indices or one-hot rows (one example's: a scalar or one row). */
function labelsOf(ys: tf.Tensor, batched: boolean, what: string): number[] {
  const values = ys.dataSync();
  const oneHot = ys.rank === (batched ? 2 : 1);
  if (!oneHot && ys.rank !== (batched ? 1 : 0))
    throw new DataError(
      `${what}: ys must be class indices or one-hot rows, got shape [${ys.shape.join(', ')}] for ${batched ? 'a batch' : 'one example'}`,
    );
  if (!oneHot) return Array.from(values);
  const classes = ys.shape[ys.rank - 1];
  const labels: number[] = [];
  for (let i = 0; i < values.length / classes; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[i * classes + c] > values[i * classes + best]) best = c;
    labels.push(best);
  }
  return labels;
}

/** One image set from a source; `numClasses` is the model's output width. */
export async function readSource(source: DataSource, name: string, numClasses: number): Promise<ImageSet> {
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  let shape: [number, number, number] | undefined;
  const add = (xs: unknown, ys: unknown, what: string) => {
    if (!isTensorLike(xs) || !isTensorLike(ys)) throw new DataError(`${what}: expected {xs, ys} tensors`);
    const batched = xs.rank === 4;
    if (!batched && xs.rank !== 3)
      throw new DataError(
        `${what}: xs must be images [n, height, width, channels] or one image [height, width, channels], got shape [${xs.shape.join(', ')}]`,
      );
    const imageShape = xs.shape.slice(batched ? 1 : 0) as [number, number, number];
    if (shape && imageShape.some((d, i) => d !== shape![i]))
      throw new DataError(`${what}: images of shape [${imageShape.join(', ')}] after images of shape [${shape.join(', ')}]`);
    shape = imageShape;
    const count = batched ? xs.shape[0] : 1;
    const ysLabels = labelsOf(ys, batched, what);
    if (ysLabels.length !== count) throw new DataError(`${what}: ${count} images but ${ysLabels.length} labels`);
    chunks.push(Float32Array.from(xs.dataSync()));
    // one at a time: spreading a large array into push overflows the call stack
    for (const l of ysLabels) {
      if (!Number.isInteger(l) || l < 0 || l >= numClasses)
        throw new DataError(`${what}: label ${l} is not a class of a model with ${numClasses} outputs (0 to ${numClasses - 1})`);
      labels.push(l);
    }
  };
  if (isDataset(source)) {
    let n = 0;
    await source.forEachAsync((element) => {
      const e = element as { xs?: unknown; ys?: unknown };
      add(e?.xs, e?.ys, `${name}, element ${n++}`);
    });
  } else {
    add(source.xs, source.ys, name);
  }
  if (!shape || labels.length === 0) throw new DataError(`${name}: no examples`);
  const images = new Float32Array(labels.length * shape[0] * shape[1] * shape[2]);
  let offset = 0;
  for (const c of chunks) {
    images.set(c, offset);
    offset += c.length;
  }
  return { name, images, labels: Uint8Array.from(labels), count: labels.length, shape, numClasses };
}

/**
 * Training and test sets from the caller's data: given as both, or as one source of
 * which a seeded random `validationSplit` share is held out for testing. Float pixels
 * are used as given: the normalisation is the identity.
 */
export async function splitsFromSources(
  data: DataSource | SplitSources,
  options: { numClasses: number; validationSplit?: number; seed?: number; name?: string },
): Promise<DataSplits> {
  const name = options.name ?? 'data';
  let train: ImageSet;
  let test: ImageSet;
  if ('train' in data && 'test' in data) {
    train = await readSource(data.train, `${name} (train)`, options.numClasses);
    test = await readSource(data.test, `${name} (test)`, options.numClasses);
    if (test.shape.some((d, i) => d !== train.shape[i]))
      throw new DataError(`${name}: test images of shape [${test.shape.join(', ')}], training images of shape [${train.shape.join(', ')}]`);
  } else {
    const split = options.validationSplit ?? 0.1;
    if (!(split > 0 && split < 1)) throw new DataError(`validationSplit must be in (0, 1), got ${split}`);
    const all = await readSource(data, name, options.numClasses);
    const held = Math.round(all.count * split);
    if (held < 1 || held >= all.count)
      throw new DataError(`${name}: ${all.count} examples cannot be split ${split} for testing; give more examples or {train, test}`);
    const order = new Rng(options.seed ?? 0).permutation(all.count);
    test = takeIndices(all, order.subarray(0, held), `${name} (held out)`);
    train = takeIndices(all, order.subarray(held), `${name} (train)`);
  }
  const channels = train.shape[2];
  return { name, train, test, normalization: { mean: new Array<number>(channels).fill(0), std: new Array<number>(channels).fill(1) } };
}
