// The training loop: a plain custom loop over mini-batches (tf.variableGrads and an
// Optimizer), so that a sparse optimizer can take each step instead of SGD.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batchCount, batches, type Augmentation, type Batch } from '../data/batches.js';
import type { DataSplits, ImageSet, Normalization } from '../data/datasets.js';
import { Rng } from '../util/random.js';
import { stepCounter, StopRequested, unstoppable, type ProgressListener } from '../util/progress.js';
import { createOptimizer, type OptimizerConfig } from '../optim/dense.js';
import type { Optimizer } from '../optim/optimizer.js';
import { epochSchedule, type ScheduleName } from './schedules.js';
import type { Checkpoint, TrainingState } from './checkpoint.js';
import { NumericalFault, RunState } from './run_state.js';
import type { EpochMetrics, EvalResult, TrainCallbacks } from './metrics.js';
import { applyFreeze } from './frozen.js';
import { classificationLoss, outputKind, outputKinds, teacherLosses } from './losses.js';
import { outputList } from '../util/shape.js';
import { agreementKind, batchAgreement, checkTeacher, evaluateAgainst, TeacherOutputs, type Distillation } from './distill.js';

export type { BatchProgress, EpochMetrics, EvalResult, JobCallbacks, TrainCallbacks } from './metrics.js';
export { NumericalFault } from './run_state.js';

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  seed: number;
  /** a configuration, or an optimizer made by the caller (who then disposes of it) */
  optimizer: OptimizerConfig | Optimizer;
  lr: number;
  schedule: ScheduleName;
  warmupEpochs?: number;
  /** 'step' schedule: epochs at which the rate is multiplied by gamma */
  milestones?: number[];
  gamma?: number;
  augmentation?: Augmentation;
  /** continue from this checkpoint (same data, model and settings) */
  resume?: Checkpoint;
  /** called with a checkpoint at the end of every epoch, and when shouldStop stops the run */
  onCheckpoint?(checkpoint: Checkpoint): void;
  /** asked after every step; true ends the run after a checkpoint (a signal, say) */
  shouldStop?(): boolean;
  /** learn from a teacher's outputs too (on unlabelled data: only) */
  distill?: Distillation;
}

/** Thrown by train() when shouldStop ended the run; the checkpoint was handed to onCheckpoint. */
export class TrainingStopped extends StopRequested {
  override name = 'TrainingStopped';
  constructor(
    readonly epoch: number,
    readonly step: number,
  ) {
    super(`training stopped in epoch ${epoch} after step ${step}`);
  }
}

/** Labels as a one-hot float tensor with `classes` columns. */
function oneHotLabels(labels: Uint8Array, classes: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), classes), 'float32') as tf.Tensor2D;
}

function batchTensor(batch: Batch, shape: readonly number[]): tf.Tensor4D {
  return tf.tensor4d(batch.x, [batch.size, shape[0], shape[1], shape[2]]);
}

function countCorrect(output: tf.Tensor, labels: Uint8Array): number {
  return tf.tidy(() => tf.sum(tf.equal(tf.argMax(output, -1), tf.tensor1d(labels, 'int32'))).dataSync()[0]);
}

function predictedClasses(output: tf.Tensor): Int32Array {
  const classes = tf.argMax(output, -1);
  try {
    return classes.dataSync() as Int32Array;
  } finally {
    classes.dispose();
  }
}

export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

export interface StepResult {
  loss: number;
  correct: number;
}

/**
 * One optimisation step on one mini-batch; returns the batch loss and correct count.
 * With a teacher: the teacher term blended with the label loss, or alone on
 * unlabelled data, where "correct" counts agreement with the teacher.
 */
export function trainStep(
  model: tfl.LayersModel,
  variables: tf.Variable[],
  optimizer: Optimizer,
  batch: Batch,
  inputShape: readonly number[],
  lr: number,
  teacher?: TeacherOutputs,
  agreement = false,
): StepResult {
  const labelled = !teacher || teacher.distill.weight < 1;
  const labelLoss = labelled ? classificationLoss(model) : undefined;
  // only a run with a teacher needs the outputs' kinds: the plain step does no more than before
  const distillLoss = teacher && teacherLosses(outputKinds(model), teacher.distill.temperature);
  const classes = model.outputs[0].shape[1] as number;
  let outputs: tf.Tensor[] = [];
  let targets: tf.Tensor[] = [];
  const loss = tf.tidy(() => {
    const x = batchTensor(batch, inputShape);
    const y = labelled ? oneHotLabels(batch.labels, classes) : undefined;
    if (teacher) targets = teacher.of(x, batch.indices).map((t) => tf.keep(t));
    const { value, grads } = tf.variableGrads(() => {
      const outs = outputList(model.apply(x, { training: true }));
      outputs = outs.map((o) => tf.keep(o));
      if (!teacher) return labelLoss!(outs[0], y!);
      const taught = distillLoss!(outs, targets);
      if (!labelled) return taught;
      const w = teacher.distill.weight;
      return tf.add(tf.mul(taught, w), tf.mul(labelLoss!(outs[0], y!), 1 - w)) as tf.Scalar;
    }, variables);
    optimizer.step(
      variables,
      variables.map((v) => grads[v.name]),
      lr,
    );
    return value;
  });
  const correct = agreement ? batchAgreement(agreementKind(model), outputs, targets) : countCorrect(outputs[0], batch.labels);
  const result = { loss: loss.dataSync()[0], correct };
  tf.dispose([loss, ...outputs, ...targets]);
  return result;
}

/** Loss and accuracy of `model` (inference mode) over a whole image set. */
export function evaluate(
  model: tfl.LayersModel,
  set: ImageSet,
  normalization: Normalization,
  batchSize = 256,
  onProgress?: ProgressListener,
): EvalResult {
  const lossFn = classificationLoss(model);
  const classes = model.outputs[0].shape[1] as number;
  let lossSum = 0;
  let seen = 0;
  const predictions = new Int32Array(set.count);
  const tick = stepCounter(onProgress, `testing on ${set.count} images`, set.count);
  for (const batch of batches(set, { batchSize, normalization })) {
    tf.tidy(() => {
      const out = model.predict(batchTensor(batch, set.shape)) as tf.Tensor;
      lossSum += lossFn(out, oneHotLabels(batch.labels, classes)).dataSync()[0] * batch.size;
      predictions.set(predictedClasses(out), seen);
      seen += batch.size;
    });
    tick(batch.size);
  }
  const correct = predictions.reduce((n, c, i) => n + (c === set.labels[i] ? 1 : 0), 0);
  return { loss: lossSum / set.count, accuracy: correct / set.count, count: set.count, predictions };
}

/** Where there are no labels (or the model outputs maps) a run measures agreement with its teacher instead of accuracy. */
export function byAgreement(model: tfl.LayersModel, data: DataSplits, distill?: Distillation): distill is Distillation {
  return distill !== undefined && (data.test.numClasses === 0 || agreementKind(model) === 'map');
}

/** How a run measures a model on the test split: against the labels, or by its agreement with the teacher (byAgreement). */
export function evaluateOnTest(
  model: tfl.LayersModel,
  data: DataSplits,
  distill?: Distillation,
  onProgress?: ProgressListener,
): EvalResult {
  if (byAgreement(model, data, distill))
    return evaluateAgainst(model, distill.teacher, data.test, data.normalization, distill.temperature, undefined, onProgress);
  return evaluate(model, data.test, data.normalization, undefined, onProgress);
}

/** Checks that the data fit the model; names both shapes when they do not. Unlabelled data need a teacher. */
export function checkDataFitsModel(model: tfl.LayersModel, data: DataSplits, distill?: Distillation): void {
  const modelShape = model.inputs[0].shape.slice(1);
  const dataShape = data.train.shape;
  if (modelShape.length !== 3 || modelShape.some((d, i) => d !== null && d !== dataShape[i])) {
    throw new Error(
      `data set ${data.name} has images of shape [${dataShape.join(', ')}] but model '${model.name}' ` +
        `takes inputs of shape [${modelShape.join(', ')}]; use a data set of that shape, or a zoo model (--model), which is built for the data`,
    );
  }
  if (distill) checkTeacher(model, distill.teacher);
  // learning from the teacher alone reads no labels: neither their presence nor their classes matter
  if (distill?.weight === 1) return;
  if (data.train.numClasses === 0)
    throw new Error(
      `${data.name} has no labels (images without class subfolders): learn from the original model instead (compress --from FILE --distill-only)`,
    );
  if (model.outputs.length > 1)
    throw new Error(
      `model '${model.name}' has ${model.outputs.length} outputs (${model.outputs.map((o) => `[${o.shape.slice(1).join(', ')}]`).join(', ')}); ` +
        'labels train a model with one output of class scores: learn from the original model instead (compress --from FILE --distill-only)',
    );
  if (outputKind(model) === 'map')
    throw new Error(
      `model '${model.name}' outputs a map of shape [${model.outputs[0].shape.slice(1).join(', ')}], not class scores, so labels cannot train it: learn from the original model instead (compress --from FILE --distill-only)`,
    );
  const classes = model.outputs[0].shape[1];
  if (classes !== data.train.numClasses) {
    throw new Error(
      `data set ${data.name} has ${data.train.numClasses} classes but model '${model.name}' outputs ${classes}; use a data set with ${classes} classes, or a zoo model (--model), which is built for the data`,
    );
  }
}

/** What a run holds from its first epoch to its last. */
interface Run {
  model: tfl.LayersModel;
  data: DataSplits;
  config: TrainConfig;
  callbacks: TrainCallbacks;
  variables: tf.Variable[];
  optimizer: Optimizer;
  schedule: (step: number) => number;
  rng: Rng;
  teacher?: TeacherOutputs;
  /** accuracies are agreement with the teacher (byAgreement) */
  agreement: boolean;
  stepsPerEpoch: number;
  state: RunState;
  history: EpochMetrics[];
  /** optimizer steps taken */
  step: number;
}

/** the running sums of an epoch's loss, right answers and images */
type EpochSums = TrainingState['partial'];

/**
 * Trains one epoch, from batch `skip` on with the sums `partial` of the batches before
 * (a run resumed inside the epoch replays its shuffle). Asked to stop, it hands a
 * checkpoint to onCheckpoint and throws TrainingStopped.
 */
async function trainEpoch(run: Run, epoch: number, skip: number, partial: EpochSums): Promise<EpochSums & { lr: number; seconds: number }> {
  const { config, callbacks, data } = run;
  callbacks.onEpochBegin?.(epoch, run.stepsPerEpoch);
  const start = performance.now();
  let { lossSum, correct, images } = partial;
  const epochRng = run.rng.getState();
  let lr = run.schedule(run.step);
  let batchIndex = 0;
  for (const batch of batches(data.train, {
    batchSize: config.batchSize,
    normalization: data.normalization,
    rng: run.rng,
    augmentation: config.augmentation,
  })) {
    if (batchIndex < skip) {
      batchIndex++;
      continue;
    }
    lr = run.schedule(run.step);
    const r = trainStep(run.model, run.variables, run.optimizer, batch, data.train.shape, lr, run.teacher, run.agreement);
    if (!Number.isFinite(r.loss)) {
      throw new NumericalFault(
        `loss became ${r.loss} at epoch ${epoch}, step ${run.step + 1}: lower the learning rate (now ${lr}) or the penalty (--lambda); the last checkpoint holds the last good state`,
      );
    }
    run.step++;
    lossSum += r.loss * batch.size;
    correct += r.correct;
    images += batch.size;
    batchIndex++; // not inside the optional call below, which skips its arguments without a callback
    callbacks.onBatchEnd?.({
      epoch,
      batch: batchIndex,
      batches: run.stepsPerEpoch,
      images,
      loss: lossSum / images,
      accuracy: correct / images,
      seconds: (performance.now() - start) / 1000,
    });
    // let signal handlers and timers run between steps
    await new Promise((resolve) => setImmediate(resolve));
    if (config.shouldStop?.() && batchIndex < run.stepsPerEpoch) {
      const at = { epoch: epoch - 1, step: run.step, batchInEpoch: batchIndex, rng: epochRng, partial: { lossSum, correct, images } };
      config.onCheckpoint?.(run.state.capture(at, run.history));
      throw new TrainingStopped(epoch, run.step);
    }
  }
  return { lossSum, correct, images, lr, seconds: (performance.now() - start) / 1000 };
}

/** Trains `model` in place and evaluates it on the test split after every epoch. */
export async function train(
  model: tfl.LayersModel,
  data: DataSplits,
  config: TrainConfig,
  callbacks: TrainCallbacks = {},
): Promise<EpochMetrics[]> {
  checkDataFitsModel(model, data, config.distill);
  applyFreeze(model);
  const owned = !('step' in config.optimizer);
  const optimizer = 'step' in config.optimizer ? config.optimizer : createOptimizer(config.optimizer);
  const variables = trainableVariables(model);
  const stepsPerEpoch = batchCount(data.train, { batchSize: config.batchSize });
  const resume = config.resume;
  const run: Run = {
    model,
    data,
    config,
    callbacks,
    variables,
    optimizer,
    schedule: epochSchedule(config, stepsPerEpoch),
    rng: new Rng(config.seed),
    teacher: config.distill && new TeacherOutputs(config.distill, data.train.count, config.augmentation !== undefined),
    agreement: byAgreement(model, data, config.distill),
    stepsPerEpoch,
    state: new RunState(model, optimizer, variables),
    history: resume ? resume.state.history.slice() : [],
    step: resume?.state.step ?? 0,
  };
  if (resume) run.state.restore(resume, run.rng);
  try {
    for (let epoch = (resume?.state.epoch ?? 0) + 1; epoch <= config.epochs; epoch++) {
      const inside = resume && epoch === resume.state.epoch + 1 && resume.state.batchInEpoch > 0 ? resume.state : undefined;
      const from = inside ? inside.partial : { lossSum: 0, correct: 0, images: 0 };
      const e = await trainEpoch(run, epoch, inside?.batchInEpoch ?? 0, from);
      const test = evaluateOnTest(model, data, config.distill, unstoppable(callbacks.onProgress));
      const metrics: EpochMetrics = {
        epoch,
        ...(run.agreement ? { agreement: true } : {}),
        lr: e.lr,
        trainLoss: e.lossSum / e.images,
        trainAccuracy: e.correct / e.images,
        testLoss: test.loss,
        testAccuracy: test.accuracy,
        seconds: e.seconds,
        imagesPerSecond: (e.images - from.images) / e.seconds,
      };
      run.history.push(metrics);
      callbacks.onEpochEnd?.(metrics);
      const at = { epoch, step: run.step, batchInEpoch: 0, rng: run.rng.getState(), partial: { lossSum: 0, correct: 0, images: 0 } };
      config.onCheckpoint?.(run.state.capture(at, run.history));
      if (config.shouldStop?.() && epoch < config.epochs) throw new TrainingStopped(epoch + 1, run.step);
    }
  } finally {
    if (owned) optimizer.dispose();
  }
  return run.history;
}
