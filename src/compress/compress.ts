// The library's compress(): the job `slimtrain compress` runs, on the caller's model
// object and data in memory (or a model and data named as on the command line),
// with progress callbacks and an AbortSignal that stops it cleanly.
import type * as tfl from '@tensorflow/tfjs-layers';
import { subsetSplits } from '../data/datasets.js';
import { splitsFromSources, type DataSource, type SplitSources } from '../data/tensors.js';
import { cloneModel } from '../io/model_files.js';
import type { SparseMethod } from '../optim/sparse.js';
import { StopRequested } from '../util/progress.js';
import { compressDefaults } from './defaults.js';
import { compressInputs, runCompressJob } from './job.js';
import type { JobCallbacks } from '../train/metrics.js';
import { checkCompressJob } from './sparse_stage.js';
import type { CompressJob, CompressResult } from './types.js';

/** A built-in data set's name or an image folder (as `--data` takes them), tensors, or a tf.data.Dataset. */
export type CompressData = string | DataSource | SplitSources;

export interface CompressOptions extends Partial<Omit<CompressJob, 'model' | 'data' | 'method' | 'shouldStop' | 'teacher'>>, JobCallbacks {
  /** with distill: the model to learn from, as a file or a model object (default: the model given, before training) */
  teacher?: string | tfl.LayersModel;
  /** the sparse optimizer (default hspg, as the CLI's --optimizer) */
  optimizer?: SparseMethod;
  /** data given as one source: the share held out, at random (seeded), for accuracy and the slim check (default 0.1) */
  validationSplit?: number;
  /** aborting stops training after the current step (with a checkpoint in `out`); compress() then rejects with the signal's reason */
  signal?: AbortSignal;
}

/**
 * Trains `model` (or a copy: the caller's model is left as it was) with a
 * group-sparse optimizer, removes the zero groups and checks that the slim model
 * computes what the sparse one does. The result holds both models, the caller's to
 * dispose, and the figures `slimtrain compress --json` prints.
 */
export async function compress(
  model: tfl.LayersModel | string,
  data: CompressData,
  options: CompressOptions = {},
): Promise<CompressResult> {
  const { optimizer, validationSplit, signal, onStage, onProgress, onEpochBegin, onBatchEnd, onEpochEnd, teacher, ...settings } = options;
  signal?.throwIfAborted();
  const job: CompressJob = {
    ...compressDefaults,
    ...settings,
    teacher: typeof teacher === 'string' ? teacher : undefined,
    method: optimizer ?? compressDefaults.method,
    model: typeof model === 'string' ? model : model.name,
    data: typeof data === 'string' ? data : 'data',
    shouldStop: signal ? () => signal.aborted : undefined,
  };
  // an abort between stages (slim construction, speed measurement) stops at the next one
  const callbacks: JobCallbacks = {
    onStage: (message) => {
      signal?.throwIfAborted();
      onStage?.(message);
    },
    onProgress,
    onEpochBegin,
    onBatchEnd,
    onEpochEnd,
  };
  try {
    const teacherModel = typeof teacher === 'object' ? teacher : undefined;
    if (typeof model === 'string' || typeof data === 'string') {
      if (typeof model !== 'string' || typeof data !== 'string')
        throw new Error(
          'compress(): give the model and the data both as objects, or both as names (a zoo model or file, a data set or folder)',
        );
      return await runCompressJob(job, callbacks, teacherModel);
    }
    checkCompressJob(job);
    const numClasses = model.outputs[0].shape[model.outputs[0].shape.length - 1];
    if (typeof numClasses !== 'number') throw new Error(`compress(): model '${model.name}' has no fixed number of outputs`);
    const splits = subsetSplits(await splitsFromSources(data, { numClasses, validationSplit, seed: job.seed }), job.subset);
    callbacks.onStage!(`data: ${splits.train.count} examples for training, ${splits.test.count} for testing`);
    const first = { model: await cloneModel(model), metadata: {} };
    return await compressInputs(job, { data: splits, first, fresh: () => cloneModel(model), teacher: teacherModel }, callbacks);
  } catch (e) {
    if (e instanceof StopRequested && signal?.aborted) throw signal.reason;
    throw e;
  }
}
