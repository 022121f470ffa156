// Whole jobs as the CLI runs them, usable from the library: pick the model and the
// data, train or evaluate, save.
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DataOptions } from '../data/load.js';
import { rmSync } from 'node:fs';
import { MODEL_FILE, saveModel, WEIGHTS_FILE, type SlimtrainMetadata } from '../io/model_files.js';
import { WriteError } from '../util/files.js';
import { resolveModelAndData } from '../models/resolve.js';
import { CheckpointError, checkpointBytes, checkpointing, checkpointSize, jobFingerprint, resumingFrom } from './checkpoint.js';
import { checkFreeSpace } from '../io/output.js';
import { optimizerSlots } from '../optim/dense.js';
import { checkDataFitsModel, evaluate, train, type EpochMetrics, type EvalResult, type JobCallbacks, type TrainConfig } from './loop.js';
import type { ModelFileOptions } from '../models/resolve.js';
import { peakMemory } from '../util/memory.js';
import { stoppingProgress, type ProgressListener } from '../util/progress.js';

export interface TrainJob extends Omit<TrainConfig, 'resume' | 'onCheckpoint'>, DataOptions, ModelFileOptions {
  model: string;
  /** a data set's name, or a folder with one subfolder of images per class */
  data: string;
  /** folder for model.json + weights.bin; nothing is saved when absent */
  out?: string;
  /** use only the first N images of each split */
  subset?: number;
  /** continue the run whose checkpoint is in OUT/checkpoint (same settings) */
  resume?: boolean;
}

export interface TrainJobResult {
  model: tfl.LayersModel;
  history: EpochMetrics[];
  test: Omit<EvalResult, 'predictions'>;
  savedTo?: string;
  /** the process's peak resident memory, in bytes, up to saving the model */
  peakMemory: number;
}

/**
 * Trains as `job` says. With `out`, a checkpoint goes to OUT/checkpoint after every
 * epoch and when `shouldStop` ends the run (train() then throws TrainingStopped);
 * `resume` continues from it, refusing a checkpoint made with other settings.
 */
export async function runTrainJob(job: TrainJob, callbacks: JobCallbacks = {}): Promise<TrainJobResult> {
  if (job.resume && !job.out) throw new CheckpointError('--resume needs --out: the checkpoint lives in OUT/checkpoint');
  const { model, metadata, data } = await resolveModelAndData(job, {
    onStage: callbacks.onStage,
    onProgress: stoppingProgress(callbacks.onProgress, job.shouldStop),
  });
  const { resume: _resume, ...settings } = job;
  const dir = job.out && join(job.out, 'checkpoint');
  const checkpoints = dir ? checkpointing(dir, jobFingerprint(job), job.resume ? 'required' : false) : undefined;
  if (dir && checkpoints?.resume) callbacks.onStage?.(resumingFrom(dir, checkpoints.resume, job.epochs));
  if (job.out && dir) {
    const params = model.countParams();
    // an optimizer the caller made: priced as Adam's two buffers, the most any keeps
    const slots = 'step' in job.optimizer ? 2 : optimizerSlots(job.optimizer);
    const writes = [
      { what: 'old and new checkpoint', bytes: 2 * checkpointSize(model, slots) },
      { what: 'model', bytes: 4 * params },
    ];
    checkFreeSpace(job.out, writes, job.resume ? checkpointBytes(dir) : 0);
  }
  const history = await train(model, data, { ...settings, ...checkpoints }, callbacks);
  const last = history[history.length - 1];
  const test = last
    ? { loss: last.testLoss, accuracy: last.testAccuracy, count: data.test.count }
    : evaluate(model, data.test, data.normalization);
  const savedTo = job.out
    ? await saveTrained(model, job.out, { dataset: data.name, normalization: data.normalization, onnx: metadata.onnx })
    : undefined;
  return { model, history, test, savedTo, peakMemory: peakMemory() };
}

/** saveModel into OUT, all or none: a failed write leaves the checkpoint, which holds the trained run, to write it from */
async function saveTrained(model: tfl.LayersModel, out: string, metadata: SlimtrainMetadata): Promise<string> {
  try {
    return await saveModel(model, out, metadata);
  } catch (e) {
    for (const file of [MODEL_FILE, WEIGHTS_FILE]) rmSync(join(out, file), { force: true });
    if (!(e instanceof WriteError)) throw e;
    throw e.withContext(
      `Training is done and saved in ${join(out, 'checkpoint')}: once the disk takes it, the same command with --resume writes the model without training again`,
    );
  }
}

export interface EvalJob extends DataOptions, ModelFileOptions {
  model: string;
  /** a data set's name, or a folder with one subfolder of images per class (its held-out split is used) */
  data: string;
  /** image folders: the seed of the validation split (the one training used) */
  seed?: number;
  batchSize?: number;
  subset?: number;
}

/** Evaluates a saved model on a data set's test split, with the normalisation it was trained with. */
export async function runEvalJob(
  job: EvalJob,
  onProgress?: ProgressListener,
): Promise<EvalResult & { normalization: 'model' | 'dataset' }> {
  const { model, metadata, data } = await resolveModelAndData(job, { onProgress });
  checkDataFitsModel(model, data);
  const fromModel = job.normalization === undefined && metadata.normalization !== undefined;
  const result = evaluate(model, data.test, data.normalization, job.batchSize, onProgress);
  return { ...result, normalization: fromModel ? 'model' : 'dataset' };
}
