// `slimtrain compress`: train once with a group-sparsity optimizer, remove the zero
// groups, check the slim model, and report what was gained.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadDataset, subsetSplits } from '../data/datasets.js';
import { predictRemoval, zeroInvariantGroups, type ChannelGroup } from '../graph/groups.js';
import { loadModel, saveModel, WEIGHTS_FILE, writeFileAtomic } from '../io/model_files.js';
import { GroupIndex } from '../optim/group_index.js';
import { SparseOptimizer, type GroupStats, type SparseMethod } from '../optim/sparse.js';
import { constructSlimModel, type SlimCheck } from '../slim/construct.js';
import { batchCount } from '../data/batches.js';
import { countModel } from '../metrics/count.js';
import { measureModelSpeed, type ModelSpeed } from '../metrics/speed.js';
import { exportOnnx } from '../export/onnx.js';
import { layerWidths, renderReport } from '../report/html.js';
import { checkOnnx } from '../export/onnx_check.js';
import { evaluate, train, trainableVariables, type EpochMetrics, type TrainCallbacks, type TrainConfig } from '../train/loop.js';
import { checkpointing, jobFingerprint, resolveModel } from '../train/job.js';
import { CheckpointError } from '../train/checkpoint.js';

export interface CompressJob extends Omit<TrainConfig, 'optimizer' | 'resume' | 'onCheckpoint'> {
  /** zoo name, or a model.json to start from */
  model: string;
  data: string;
  method: SparseMethod;
  lambda: number;
  epsilon?: number;
  direction?: 'sgd' | 'adam';
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  /** hspg/obproxsg: epoch at which the second stage starts (default: a quarter of the epochs); dhspg: at which projections start (default: pruneStartEpoch) */
  switchEpoch?: number;
  /** proxsg/hspg: epoch at which the penalty stops and the surviving groups train freely */
  penaltyEndEpoch?: number;
  /** dhspg */
  targetSparsity?: number;
  /** dhspg, instead of targetSparsity: dense MACs / slim MACs to aim for */
  targetMacsRatio?: number;
  /** dhspg: epochs at which penalising starts and by which the chosen groups are zero */
  pruneStartEpoch?: number;
  pruneEndEpoch?: number;
  /**
   * dhspg: 'global' ranks all groups together; 'uniform' takes the same fraction of
   * every layer's groups (default 'global')
   */
  allocation?: 'global' | 'uniform';
  /** dhspg: periods the pruning is split into, each choosing and removing its share of the target (default 1) */
  prunePeriods?: number;
  freeze?: string[];
  /**
   * 'uniform': one lambda for every group (the papers' setting); 'macs': lambda scaled
   * by the MACs a group costs over the mean, so the penalty targets compute
   */
  weighting?: 'uniform' | 'macs' | 'sqrt-macs';
  subset?: number;
  /** also train the dense model with the same settings (plain SGD) for comparison */
  baseline?: boolean;
  /** measure latency, throughput and file sizes of the sparse and slim models (default true) */
  measureSpeed?: boolean;
  /** keep a multiple of this many channels per layer in the slim model (default 1) */
  roundChannels?: number;
  /** with out: also write DIR/slim-float16 (half-precision weights) and report its accuracy */
  float16?: boolean;
  /** folder for the results; checkpoints go to OUT/checkpoint (and OUT/checkpoint-dense for the baseline) */
  out?: string;
  /** continue the run whose checkpoints are in OUT (same settings) */
  resume?: boolean;
}

/** Settings that act only after training: a resumed run may change them. */
const afterTraining = ['out', 'measureSpeed', 'roundChannels', 'float16'] as const;

export type CompressEpoch = EpochMetrics & GroupStats;

export interface ModelSummary {
  accuracy: number;
  loss: number;
  params: number;
  macs: number;
}

export interface CompressResult {
  history: CompressEpoch[];
  baseline?: ModelSummary & { history: EpochMetrics[] };
  sparse: ModelSummary & { groups: number; zeroGroups: number };
  slim: ModelSummary;
  /** full / slim */
  ratios: { params: number; macs: number };
  check: SlimCheck;
  /** test images whose predicted class differs between the sparse and the slim model */
  predictionMismatches: number;
  removedGroups: number;
  trainSeconds: number;
  slimModel: tfl.LayersModel;
  /** measured in TensorFlow.js and ONNX Runtime, unless measureSpeed is false */
  speed?: { sparse: ModelSpeed; slim: ModelSpeed };
  /** the slim model stored with float16 weights, reloaded and evaluated */
  float16?: { accuracy: number; loss: number; weightBytes: number; float32WeightBytes: number; predictionMismatches: number };
  out?: { sparse: string; slim: string; onnx: string; metrics: string; report: string; float16?: string };
}

/** (each group's MACs over the mean) ** power; groups that cost nothing get the smallest non-zero weight */
function macsWeights(macs: number[], power: number): number[] {
  const mean = macs.reduce((a, b) => a + b, 0) / Math.max(1, macs.length);
  const floor = Math.min(...macs.filter((m) => m > 0), mean);
  return macs.map((m) => (Math.max(m, floor) / (mean || 1)) ** power);
}

/** a number per group naming the layers whose channels it removes */
function layerIds(groups: ChannelGroup[]): number[] {
  const ids = new Map<string, number>();
  return groups.map((g) => {
    const key = g.channels.map((c) => c.layer).join('+');
    if (!ids.has(key)) ids.set(key, ids.size);
    return ids.get(key)!;
  });
}

function summary(model: tfl.LayersModel, accuracy: number, loss: number): ModelSummary {
  const c = countModel(model);
  return { accuracy, loss, params: c.params, macs: c.macs };
}

export async function runCompressJob(job: CompressJob, callbacks: TrainCallbacks & { onStage?(message: string): void } = {}): Promise<CompressResult> {
  const data = subsetSplits(loadDataset(job.data), job.subset);
  const shape = { inputShape: data.train.shape, numClasses: data.train.numClasses };
  if (job.resume && !job.out) throw new CheckpointError('--resume needs --out: the checkpoints live in OUT');
  const { resume: _resume, ...settings } = job;
  const fingerprint = jobFingerprint(job, afterTraining);
  // the sparse stage may not have begun when a run with a baseline stopped
  const checkpoints = (name: string, required: boolean, epochStats?: () => unknown[]) =>
    job.out ? checkpointing(join(job.out, name), fingerprint, job.resume ? (required ? 'required' : 'if-present') : false, epochStats) : {};

  let baseline: CompressResult['baseline'];
  if (job.baseline) {
    callbacks.onStage?.('dense baseline');
    const dense = await resolveModel(job.model, shape, job.seed);
    const optimizer = { name: 'sgd', momentum: job.momentum ?? 0.9, nesterov: job.nesterov, weightDecay: job.weightDecay } as const;
    const history = await train(dense, data, { ...settings, optimizer, ...checkpoints('checkpoint-dense', true) }, callbacks);
    const last = history[history.length - 1];
    baseline = { ...summary(dense, last.testAccuracy, last.testLoss), history };
    dense.dispose();
  }

  callbacks.onStage?.(`${job.method} training`);
  const model = await resolveModel(job.model, shape, job.seed);
  const partition = zeroInvariantGroups(model, { freeze: job.freeze });
  const prunable = partition.groups.filter((g) => g.prunable);
  const variables = trainableVariables(model);
  const index = GroupIndex.fromChannelGroups(prunable, new Map(variables.map((v) => [v.name, v.shape])));
  const steps = batchCount(data.train, { batchSize: job.batchSize });
  const at = (epoch: number) => Math.round(epoch * steps);
  // DHSPG chooses after a short dense start and is done early: the slim network then
  // has most of the budget to train (on VGG-small, 4 epochs, 3.3x: 91.86% when done by
  // 15% of the epochs, 91.67% by 75%)
  const pruneStart = job.pruneStartEpoch ?? job.epochs / 40;
  const optimizer = new SparseOptimizer(index, {
    method: job.method,
    lambda: job.lambda,
    epsilon: job.epsilon,
    direction: job.direction,
    momentum: job.momentum,
    nesterov: job.nesterov,
    weightDecay: job.weightDecay,
    targetSparsity: job.targetSparsity,
    targetMacs: job.targetMacsRatio === undefined ? undefined : {
      fraction: 1 - 1 / job.targetMacsRatio,
      groupMacs: prunable.map((g) => g.savings.macs),
      totalMacs: countModel(model).macs,
      removedMacs: (ids) => predictRemoval(partition.graph, ids.map((i) => prunable[i])).macs,
    },
    // dhspg projects from the start of pruning unless told otherwise
    switchStep: at(job.switchEpoch ?? (job.method === 'dhspg' ? pruneStart : job.epochs / 4)),
    pruneStart: at(pruneStart),
    pruneEnd: at(job.pruneEndEpoch ?? job.epochs * 0.15),
    prunePeriods: job.prunePeriods,
    groupLayers: job.allocation === 'uniform' ? layerIds(prunable) : undefined,
    penaltyEnd: job.penaltyEndEpoch === undefined ? undefined : at(job.penaltyEndEpoch),
    groupWeights: job.weighting === undefined || job.weighting === 'uniform'
      ? undefined
      : macsWeights(prunable.map((g) => g.savings.macs), job.weighting === 'sqrt-macs' ? 0.5 : 1),
  });
  let history: CompressEpoch[] = [];
  try {
    const sparseCheckpoints = checkpoints('checkpoint', !job.baseline, () => history);
    if (sparseCheckpoints.resume) history = sparseCheckpoints.resume.state.epochStats as CompressEpoch[];
    await train(model, data, { ...settings, optimizer, ...sparseCheckpoints }, {
      ...callbacks,
      onEpochEnd(m) {
        const epoch = { ...m, ...optimizer.stats(variables) };
        history.push(epoch);
        callbacks.onEpochEnd?.(epoch);
      },
    });
    const sparseStats = optimizer.stats(variables);
    const sparseEval = evaluate(model, data.test, data.normalization);

    callbacks.onStage?.('building the slim model');
    const slim = await constructSlimModel(model, { partition, roundTo: job.roundChannels });
    const slimEval = evaluate(slim.model, data.test, data.normalization);
    const predictionMismatches = sparseEval.predictions.reduce((n, c, i) => n + (c === slimEval.predictions[i] ? 0 : 1), 0);
    // A flipped prediction or two can come from float32 round-off between near-equal
    // logits; more means the slim model is not the sparse one.
    if (predictionMismatches > Math.max(1, data.test.count / 1000)) {
      throw new Error(`the slim model predicts a different class than the sparse model for ${predictionMismatches} test images`);
    }
    const result: CompressResult = {
      history,
      baseline,
      sparse: { ...summary(model, sparseEval.accuracy, sparseEval.loss), groups: sparseStats.groups, zeroGroups: sparseStats.zeroGroups },
      slim: summary(slim.model, slimEval.accuracy, slimEval.loss),
      ratios: { params: slim.before.params / slim.after.params, macs: slim.before.macs / slim.after.macs },
      check: slim.check,
      predictionMismatches,
      removedGroups: slim.removed.length,
      trainSeconds: history.reduce((s, e) => s + e.seconds, 0),
      slimModel: slim.model,
    };
    if (job.measureSpeed !== false) {
      callbacks.onStage?.('measuring speed and size (TensorFlow.js, ONNX Runtime)');
      result.speed = { sparse: await measureModelSpeed(model), slim: await measureModelSpeed(slim.model) };
    }
    if (job.out) {
      const onnxBytes = exportOnnx(slim.model);
      await checkOnnx(slim.model, onnxBytes);
      const metadata = { dataset: data.name, normalization: data.normalization };
      const sparsePath = await saveModel(model, join(job.out, 'sparse'), metadata);
      const slimPath = await saveModel(slim.model, join(job.out, 'slim'), metadata);
      const onnxPath = join(job.out, 'slim.onnx');
      writeFileAtomic(onnxPath, onnxBytes);
      let float16Path: string | undefined;
      if (job.float16) {
        callbacks.onStage?.('float16 weights: saving, reloading, evaluating');
        float16Path = await saveModel(slim.model, join(job.out, 'slim-float16'), metadata, { float16: true });
        const { model: half } = await loadModel(float16Path);
        const halfEval = evaluate(half, data.test, data.normalization);
        half.dispose();
        result.float16 = {
          accuracy: halfEval.accuracy,
          loss: halfEval.loss,
          weightBytes: statSync(join(job.out, 'slim-float16', WEIGHTS_FILE)).size,
          float32WeightBytes: statSync(join(job.out, 'slim', WEIGHTS_FILE)).size,
          predictionMismatches: slimEval.predictions.reduce((n, c, i) => n + (c === halfEval.predictions[i] ? 0 : 1), 0),
        };
      }
      const metricsPath = join(job.out, 'metrics.json');
      const { slimModel: _omit, ...serialisable } = result;
      writeFileAtomic(metricsPath, `${JSON.stringify({ job, ...serialisable }, null, 2)}\n`);
      const reportPath = join(job.out, 'report.html');
      const { shouldStop: _s, resume: _r, ...config } = job;
      writeFileAtomic(reportPath, renderReport({
        ...result,
        title: `${job.model} on ${data.name}, ${job.method}`,
        config: config as Record<string, unknown>,
        layers: layerWidths(model, slim.model),
      }));
      result.out = { sparse: sparsePath, slim: slimPath, onnx: onnxPath, metrics: metricsPath, report: reportPath, float16: float16Path };
    }
    return result;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
