// Whole jobs as the CLI runs them, usable from the library: pick the model and the
// data, train or evaluate, save.
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadDataset, subsetSplits } from '../data/datasets.js';
import { loadModel, saveModel } from '../io/model_files.js';
import { buildZooModel, isZooName, zooNames } from '../models/zoo.js';
import { CheckpointError, checkpointExists, readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { checkDataFitsModel, evaluate, train, type EpochMetrics, type EvalResult, type TrainCallbacks, type TrainConfig } from './loop.js';

/** A zoo name builds a fresh model for the given input and classes; anything else is a model.json path. */
export async function resolveModel(
  spec: string,
  shape: { inputShape: [number, number, number]; numClasses: number },
  seed = 0,
): Promise<tfl.LayersModel> {
  if (isZooName(spec)) return buildZooModel(spec, { ...shape, seed });
  if (!spec.endsWith('.json') && !spec.includes('/')) {
    throw new Error(`unknown model '${spec}': use a zoo model (${zooNames.join(', ')}) or a path to a model.json`);
  }
  return (await loadModel(spec)).model;
}

export interface TrainJob extends Omit<TrainConfig, 'resume' | 'onCheckpoint'> {
  model: string;
  data: string;
  /** folder for model.json + weights.bin; nothing is saved when absent */
  out?: string;
  /** use only the first N images of each split */
  subset?: number;
  /** continue the run whose checkpoint is in OUT/checkpoint (same settings) */
  resume?: boolean;
}

/** The settings a resumed run must share with the run it continues: what shapes training. */
export function jobFingerprint(job: object, ignore: readonly string[] = []): Record<string, unknown> {
  const skip = new Set(['resume', 'shouldStop', ...ignore]);
  const kept = Object.entries(job).filter(([k]) => !skip.has(k)).map(([k, v]) => [k, k === 'optimizer' && v && typeof v === 'object' && 'step' in v ? v.name : v]);
  return JSON.parse(JSON.stringify(Object.fromEntries(kept))) as Record<string, unknown>;
}

/**
 * Checkpointing for a run that saves to `dir`: the checkpoint to continue from when
 * `resume` asks for one ('required': it must exist; 'if-present': a stage that may
 * not have started yet), refused when made with other settings; and the writer,
 * which stores `fingerprint` and whatever `epochStats` gives.
 */
export function checkpointing(
  dir: string,
  fingerprint: Record<string, unknown>,
  resume: 'required' | 'if-present' | false,
  epochStats?: () => unknown[],
): Pick<TrainConfig, 'resume' | 'onCheckpoint'> {
  let from: Checkpoint | undefined;
  if (resume === 'required' || (resume === 'if-present' && checkpointExists(dir))) {
    from = readCheckpoint(dir);
    const saved = (from.state.job ?? {}) as Record<string, unknown>;
    const differ = [...new Set([...Object.keys(saved), ...Object.keys(fingerprint)])].filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(fingerprint[k]));
    if (differ.length > 0) {
      throw new CheckpointError(
        `the checkpoint in ${dir} was made with other settings (${differ.map((k) => `${k}: ${JSON.stringify(saved[k])} then, ${JSON.stringify(fingerprint[k])} now`).join('; ')}); ` +
          'resume with the same command',
      );
    }
  }
  return {
    resume: from,
    onCheckpoint: (c) => writeCheckpoint(dir, { ...c, state: { ...c.state, job: fingerprint, epochStats: epochStats?.() } }),
  };
}

export interface TrainJobResult {
  model: tfl.LayersModel;
  history: EpochMetrics[];
  test: Omit<EvalResult, 'predictions'>;
  savedTo?: string;
}

/**
 * Trains as `job` says. With `out`, a checkpoint goes to OUT/checkpoint after every
 * epoch and when `shouldStop` ends the run (train() then throws TrainingStopped);
 * `resume` continues from it, refusing a checkpoint made with other settings.
 */
export async function runTrainJob(job: TrainJob, callbacks: TrainCallbacks = {}): Promise<TrainJobResult> {
  const data = subsetSplits(loadDataset(job.data), job.subset);
  const model = await resolveModel(job.model, { inputShape: data.train.shape, numClasses: data.train.numClasses }, job.seed);
  if (job.resume && !job.out) throw new CheckpointError('--resume needs --out: the checkpoint lives in OUT/checkpoint');
  const { resume: _resume, ...settings } = job;
  const history = await train(model, data, {
    ...settings,
    ...(job.out ? checkpointing(join(job.out, 'checkpoint'), jobFingerprint(job), job.resume ? 'required' : false) : {}),
  }, callbacks);
  const last = history[history.length - 1];
  const test = last
    ? { loss: last.testLoss, accuracy: last.testAccuracy, count: data.test.count }
    : evaluate(model, data.test, data.normalization);
  const savedTo = job.out
    ? await saveModel(model, job.out, { dataset: data.name, normalization: data.normalization })
    : undefined;
  return { model, history, test, savedTo };
}

export interface EvalJob {
  model: string;
  data: string;
  batchSize?: number;
  subset?: number;
}

/** Evaluates a saved model on a data set's test split, with the normalisation it was trained with. */
export async function runEvalJob(job: EvalJob): Promise<EvalResult & { normalization: 'model' | 'dataset' }> {
  const data = subsetSplits(loadDataset(job.data), job.subset);
  const { model, metadata } = await loadModel(job.model);
  checkDataFitsModel(model, data);
  const fromModel = metadata.normalization !== undefined;
  const result = evaluate(model, data.test, metadata.normalization ?? data.normalization, job.batchSize);
  return { ...result, normalization: fromModel ? 'model' : 'dataset' };
}
