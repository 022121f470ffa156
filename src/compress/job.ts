// `slimtrain compress`: train once with a group-sparsity optimizer, remove the zero
// groups, check the slim model, and report what was gained. The job runs as stages
// with typed hand-offs, each callable alone: train sparse (sparse_stage.ts) -> build
// and verify slim (slim_stage.ts) -> measure (metrics/speed.ts) -> write the files
// (artifacts.ts).
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DataSplits } from '../data/datasets.js';
import { countModel } from '../layers/count.js';
import { compareSpeeds, measureModelSpeed, runtimeLabel } from '../metrics/speed.js';
import { zeroGroups } from '../slim/construct.js';
import { loadModelFile, resolveModel, resolveModelAndData, type ResolvedModel } from '../models/resolve.js';
import { isZooName } from '../models/zoo.js';
import { checkpointBytes, checkpointing, jobFingerprint, resumingFrom, type Checkpointing } from '../train/checkpoint.js';
import { checkFreeSpace } from '../io/output.js';
import { byAgreement, checkDataFitsModel, evaluateOnTest, train, type TrainConfig } from '../train/loop.js';
import { distillDefaults, evaluateAgainst, type Distillation } from '../train/distill.js';
import type { JobCallbacks, TrainCallbacks } from '../train/metrics.js';
import { writeArtifacts } from './artifacts.js';
import { buildVerifiedSlim, fastestRounding } from './slim_stage.js';
import { checkCompressJob, trainSparse, type SparseTrained } from './sparse_stage.js';
import type { CompressJob, CompressResult, ModelSummary, SpeedTargetResult } from './types.js';
import { applyFreeze } from '../train/frozen.js';
import { stoppingProgress, unstoppable } from '../util/progress.js';
import { speedSetting, targetOf } from './target.js';
import { compressDefaults } from './defaults.js';
import { compressWrites } from './space.js';
import { peakMemory } from '../util/memory.js';
import { pct } from '../util/format.js';

export type * from './types.js';

/**
 * Settings that act only after training: a resumed run may change them. Where a
 * speed-up is measured shapes training only for a speed target.
 */
const afterTraining = (job: CompressJob) => [
  'out',
  'measureSpeed',
  'roundChannels',
  'float16',
  ...(job.targetSpeedup === undefined ? ['runtime', 'speedBatch'] : []),
];

/** an accuracy a classifier all but reaches by guessing: below twice chance */
const nearChance = (accuracy: number, chance: number) => accuracy < 2 * chance;

function summary(model: tfl.LayersModel, accuracy: number, loss: number): ModelSummary {
  const c = countModel(model);
  return { accuracy, loss, params: c.params, macs: c.macs };
}

/** The training settings of a job: what train() takes besides the optimizer and checkpoints. */
function trainSettings(job: CompressJob, distill: Distillation | undefined): Omit<TrainConfig, 'optimizer' | 'resume' | 'onCheckpoint'> {
  const { resume: _resume, distill: _distill, ...settings } = job;
  return { ...settings, distill };
}

/**
 * The teacher of a job that distils: the caller's model, the job's teacher file, or
 * a fresh copy of the model file it starts from (the original, before training).
 * `owned`: the job made it and disposes of it.
 */
async function teacherOf(job: CompressJob, inputs: CompressInputs): Promise<{ distill: Distillation; owned: boolean } | undefined> {
  if (!job.distill) return undefined;
  const settings = { weight: job.distillWeight ?? distillDefaults.weight, temperature: job.temperature ?? distillDefaults.temperature };
  if (inputs.teacher) return { distill: { teacher: inputs.teacher, ...settings }, owned: false };
  if (job.teacher) return { distill: { teacher: (await loadModelFile(job.teacher, job)).model, ...settings }, owned: true };
  if (isZooName(job.model))
    throw new Error(
      `distillation learns from a trained model, and ${job.model} is built untrained: start from the trained model (--from FILE) or name a teacher (--teacher FILE)`,
    );
  return { distill: { teacher: await inputs.fresh(), ...settings }, owned: true };
}

/** Stage 0, optional: the dense model trained with the same settings and plain SGD, for comparison. */
export async function trainBaseline(
  job: CompressJob,
  distill: Distillation | undefined,
  dense: tfl.LayersModel,
  data: DataSplits,
  checkpoints: Partial<Checkpointing>,
  callbacks: TrainCallbacks,
): Promise<NonNullable<CompressResult['baseline']>> {
  try {
    const optimizer = {
      name: 'sgd',
      momentum: job.momentum ?? compressDefaults.momentum,
      nesterov: job.nesterov,
      weightDecay: job.weightDecay,
    } as const;
    // the baseline trains what the sparse run trains
    applyFreeze(dense, job);
    const history = await train(dense, data, { ...trainSettings(job, distill), optimizer, ...checkpoints }, callbacks);
    const last = history[history.length - 1];
    return { ...summary(dense, last.testAccuracy, last.testLoss), history };
  } finally {
    dense.dispose();
  }
}

/**
 * With a speed target or roundChannels 'auto': the speed-up the latency tables
 * predict for the zero groups, and the fastest multiple of channels, measured.
 */
async function roundingFor(job: CompressJob, sparse: SparseTrained, callbacks: JobCallbacks): Promise<SpeedTargetResult | undefined> {
  const target = targetOf(job);
  const auto = job.roundChannels === 'auto' || (job.roundChannels === undefined && target?.kind === 'speedup');
  if (!auto) return undefined;
  const { runtime, batch } = speedSetting(job);
  callbacks.onStage?.(`choosing the multiple of channels per layer that runs fastest (${runtimeLabel(runtime)}, batch ${batch})`);
  const rounding = await fastestRounding(sparse, runtime, batch, callbacks.onProgress);
  const zero = zeroGroups(sparse.model, sparse.partition.groups);
  const speedup = target?.kind === 'speedup' ? target.ratio : undefined;
  const predicted = speedup === undefined ? undefined : sparse.cost.total / (sparse.cost.total - sparse.cost.saved(zero));
  const checked = sparse.cost.checks?.map((p) => ({ predicted: 1 / p.predicted, measured: 1 / p.measured }));
  return { runtime, batch, target: speedup, predicted, ...(checked ? { checked } : {}), ...rounding };
}

/**
 * A job's model and data, resolved: the data, the first model (with what its file
 * said of it), and a fresh copy of the starting model for each later stage.
 */
export interface CompressInputs {
  data: DataSplits;
  first: ResolvedModel;
  fresh(): Promise<tfl.LayersModel>;
  /** the caller's teacher model, when the job distils from one (kept, not disposed of) */
  teacher?: tfl.LayersModel;
}

/** The job as the CLI gives it: a model and data named by strings. */
export async function runCompressJob(job: CompressJob, callbacks: JobCallbacks = {}, teacher?: tfl.LayersModel): Promise<CompressResult> {
  checkCompressJob(job);
  const onProgress = stoppingProgress(callbacks.onProgress, job.shouldStop);
  const first = await resolveModelAndData(job, { onStage: callbacks.onStage, onProgress });
  const { data } = first;
  const fresh = async () =>
    (await resolveModel(job.model, { inputShape: data.train.shape, numClasses: data.train.numClasses }, job.seed, job, onProgress)).model;
  return compressInputs(job, { data, first, fresh, teacher }, callbacks);
}

/**
 * The job, already checked (checkCompressJob) before its inputs were resolved, on
 * those inputs. The result holds the sparse and the slim model, the caller's to
 * dispose; on an error neither is left behind.
 */
export async function compressInputs(job: CompressJob, inputs: CompressInputs, callbacks: JobCallbacks = {}): Promise<CompressResult> {
  // a stop request ends decoding and timing as it ends training
  callbacks = { ...callbacks, onProgress: stoppingProgress(callbacks.onProgress, job.shouldStop) };
  const { data, first } = inputs;
  // the first model built serves the first stage; a later stage starts from a fresh copy
  let unused: ResolvedModel | undefined = first;
  const startingModel = async () => {
    const model = unused?.model ?? (await inputs.fresh());
    unused = undefined;
    return model;
  };
  const fingerprint = jobFingerprint(job, afterTraining(job));
  // the sparse stage may not have begun when a run with a baseline stopped
  const checkpoints = (name: string, required: boolean, epochStats?: () => unknown[]) => {
    if (!job.out) return {};
    const dir = join(job.out, name);
    const found = checkpointing(dir, fingerprint, job.resume ? (required ? 'required' : 'if-present') : false, epochStats);
    if (found.resume) callbacks.onStage?.(resumingFrom(dir, found.resume, job.epochs));
    return found;
  };

  let teacher: Awaited<ReturnType<typeof teacherOf>>;
  try {
    teacher = await teacherOf(job, inputs);
  } catch (e) {
    unused?.model.dispose();
    throw e;
  }
  const distill = teacher?.distill;
  try {
    // before any training or measuring: data without labels, or a teacher of another shape
    checkDataFitsModel(first.model, data, distill);
    if (job.out) {
      const present = job.resume ? checkpointBytes(join(job.out, 'checkpoint')) + checkpointBytes(join(job.out, 'checkpoint-dense')) : 0;
      checkFreeSpace(job.out, compressWrites(job, first.model, first.metadata.weights?.bytes), present);
    }
    let baseline: CompressResult['baseline'];
    if (job.baseline) {
      callbacks.onStage?.('dense baseline');
      baseline = await trainBaseline(job, distill, await startingModel(), data, checkpoints('checkpoint-dense', true), callbacks);
    }
    if (distill)
      callbacks.onStage?.(
        `distilling from ${job.teacher ?? 'the original model'} (weight ${distill.weight}, temperature ${distill.temperature})`,
      );
    return await trainAndSlim(job, data, first, await startingModel(), distill, baseline, checkpoints, callbacks);
  } finally {
    if (teacher?.owned) teacher.distill.teacher.dispose();
  }
}

/**
 * A model the user brings (a file, or the caller's model), tested as it is before any
 * training: what the slim model's accuracy is weighed against. Not for a zoo model,
 * which starts untrained, nor where a run measures agreement with the teacher (the
 * original agrees with itself).
 */
function originalFigures(
  job: CompressJob,
  data: DataSplits,
  model: tfl.LayersModel,
  distill: Distillation | undefined,
  measure: (m: tfl.LayersModel) => { accuracy: number; loss: number },
  callbacks: JobCallbacks,
): ModelSummary | undefined {
  if (isZooName(job.model) || byAgreement(model, data, distill)) return undefined;
  const e = measure(model);
  // a trained model near chance was most likely fed images normalised otherwise than in its training
  const chance = 1 / data.test.numClasses;
  const hint = nearChance(e.accuracy, chance)
    ? ` (chance is ${pct(chance)}: if it was trained, check that its images are normalised as in its training: --normalize, --mean and --std)`
    : '';
  callbacks.onStage?.(`the original model, before training: test accuracy ${pct(e.accuracy)}${hint}`);
  return summary(model, e.accuracy, e.loss);
}

/**
 * A trained model near chance where the original it started from was well above it:
 * training diverged without a NaN (seen with distillation at lr 0.05 on a model without
 * batch normalisation), which a lower learning rate mends.
 */
export function collapseWarning(original: ModelSummary | undefined, accuracy: number, classes: number, lr: number): string | undefined {
  const chance = 1 / classes;
  if (!original || nearChance(original.accuracy, chance) || !nearChance(accuracy, chance)) return undefined;
  return (
    `the trained model scores ${pct(accuracy)} where the original scored ${pct(original.accuracy)} (chance is ${pct(chance)}): ` +
    `training diverged; run again with a lower learning rate (--lr ${Number((lr / 5).toPrecision(2))})`
  );
}

/** Stages 1-4 of compressInputs on `model`, the caller's to dispose of with the result (disposed of here on an error). */
async function trainAndSlim(
  job: CompressJob,
  data: DataSplits,
  first: ResolvedModel,
  model: tfl.LayersModel,
  distill: Distillation | undefined,
  baseline: CompressResult['baseline'],
  checkpoints: (name: string, required: boolean, epochStats?: () => unknown[]) => Partial<Checkpointing>,
  callbacks: JobCallbacks,
): Promise<CompressResult> {
  // the test passes show their progress, and run to their end
  const measure = (m: tfl.LayersModel) => evaluateOnTest(m, data, distill, unstoppable(callbacks.onProgress));
  let slimBuilt: tfl.LayersModel | undefined;
  try {
    const original = originalFigures(job, data, model, distill, measure, callbacks);
    callbacks.onStage?.(`${job.method} training`);
    const sparse = await trainSparse(
      model,
      data,
      job,
      trainSettings(job, distill),
      (stats) => checkpoints('checkpoint', !job.baseline, stats),
      callbacks,
    );
    const collapsed = collapseWarning(original, sparse.eval.accuracy, data.test.numClasses, job.lr ?? compressDefaults.lr);
    if (collapsed) callbacks.onStage?.(collapsed);

    const speedTarget = await roundingFor(job, sparse, callbacks);
    callbacks.onStage?.('building the slim model');
    const slim = await buildVerifiedSlim(sparse, data, measure, speedTarget?.roundTo ?? (job.roundChannels as number | undefined));
    slimBuilt = slim.model;
    const result: CompressResult = {
      history: sparse.history,
      original,
      baseline,
      sparse: {
        ...summary(model, sparse.eval.accuracy, sparse.eval.loss),
        groups: sparse.stats.groups,
        zeroGroups: sparse.stats.zeroGroups,
      },
      slim: summary(slim.model, slim.eval.accuracy, slim.eval.loss),
      ratios: { params: slim.before.params / slim.after.params, macs: slim.before.macs / slim.after.macs },
      check: slim.check,
      predictionMismatches: slim.predictionMismatches,
      agreement:
        distill &&
        (slim.eval.agreement ?? evaluateAgainst(slim.model, distill.teacher, data.test, data.normalization, distill.temperature).agreement),
      removedGroups: slim.removed.length,
      trainSeconds: sparse.history.reduce((s, e) => s + e.seconds, 0),
      sparseModel: model,
      slimModel: slim.model,
      speedTarget,
      peakMemory: 0,
    };
    if (job.measureSpeed !== false) {
      callbacks.onStage?.('measuring speed and size (TensorFlow.js, ONNX Runtime)');
      result.speed = {
        sparse: await measureModelSpeed(model, { onProgress: callbacks.onProgress }),
        slim: await measureModelSpeed(slim.model, { onProgress: callbacks.onProgress }),
        // the speed-up itself in alternating rounds, so that it holds on a busy machine
        speedUps: await compareSpeeds(model, slim.model, { maxSeconds: 60, onProgress: callbacks.onProgress }),
      };
    }
    result.peakMemory = peakMemory();
    if (job.out) {
      const models = {
        sparse: model,
        slim: slim.model,
        slimPredictions: slim.eval.predictions,
        measure,
        onnx: first.metadata.onnx,
        input: first.metadata.weights,
      };
      result.out = await writeArtifacts(job.out, job, data, models, result, callbacks.onStage);
    }
    return result;
  } catch (e) {
    model.dispose();
    slimBuilt?.dispose();
    throw e;
  }
}
