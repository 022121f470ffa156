// Stage 1 of compress: train the model with a group-sparse optimizer. The job's
// settings, given in epochs, become one method's optimizer settings in steps.
import type * as tfl from '@tensorflow/tfjs-layers';
import { batchCount } from '../data/batches.js';
import type { DataSplits } from '../data/datasets.js';
import { predictRemoval, zeroInvariantGroups, type Partition } from '../graph/groups.js';
import { countModel } from '../metrics/count.js';
import { groupLayerIds, keptFloors } from '../optim/allocation.js';
import { GroupIndex } from '../optim/group_index.js';
import { createSparseOptimizer, type GroupStats, type PruneTarget, type SparseConfig, type SparseMethod } from '../optim/sparse.js';
import type { ChoiceSettings } from '../optim/target.js';
import { evaluate, train, trainableVariables, type TrainConfig } from '../train/loop.js';
import type { Checkpointing } from '../train/checkpoint.js';
import type { EvalResult, TrainCallbacks } from '../train/metrics.js';
import type { CompressEpoch, CompressJob } from './types.js';

export interface SparseTrained {
  model: tfl.LayersModel;
  partition: Partition;
  history: CompressEpoch[];
  stats: GroupStats;
  eval: EvalResult;
}

/** (each group's MACs over the mean) ** power; groups that cost nothing get the smallest non-zero weight */
export function macsWeights(macs: readonly number[], power: number): number[] {
  const mean = macs.reduce((a, b) => a + b, 0) / Math.max(1, macs.length);
  const floor = Math.min(...macs.filter((m) => m > 0), mean);
  return macs.map((m) => (Math.max(m, floor) / (mean || 1)) ** power);
}

/** proxsg/hspg given a target meet it by this share of the epochs (unless penaltyEndEpoch says otherwise) */
const TARGET_BY = 0.5;

function isPenaltyMethod(method: SparseMethod): boolean {
  return method === 'proxsg' || method === 'hspg';
}

/** The method settings of a compress job each method reads (beside lambda and the step direction, which all read). */
const METHOD_SETTINGS = {
  proxsg: ['weighting', 'penaltyEndEpoch', 'targetSparsity', 'targetMacsRatio', 'allocation'],
  hspg: ['weighting', 'epsilon', 'switchEpoch', 'penaltyEndEpoch', 'targetSparsity', 'targetMacsRatio', 'allocation'],
  obproxsg: ['switchEpoch'],
  dhspg: [
    'weighting',
    'epsilon',
    'switchEpoch',
    'targetSparsity',
    'targetMacsRatio',
    'pruneStartEpoch',
    'pruneEndEpoch',
    'prunePeriods',
    'allocation',
  ],
  hesso: ['targetSparsity', 'targetMacsRatio', 'pruneStartEpoch', 'pruneEndEpoch', 'prunePeriods', 'allocation'],
} as const satisfies Record<SparseMethod, readonly (keyof CompressJob)[]>;

/** The method settings `job` gives that its method does not read: each would silently do nothing. */
export function settingsIgnoredBy(job: CompressJob): (keyof CompressJob)[] {
  const all = new Set(Object.values(METHOD_SETTINGS).flat());
  const read = new Set<string>(METHOD_SETTINGS[job.method]);
  return [...all].filter((k) => job[k] !== undefined && !read.has(k));
}

/**
 * Refuses a job whose settings contradict each other; `nameOf` says a setting as the
 * caller knows it (the CLI: as its flag). Settings the method does not read are
 * left alone here (a program may share one job object across methods); the CLI
 * refuses them with settingsIgnoredBy.
 */
export function checkCompressJob(job: CompressJob, nameOf: (setting: keyof CompressJob) => string = (k) => k): void {
  if ((job.method === 'dhspg' || job.method === 'hesso') && job.targetSparsity === undefined && job.targetMacsRatio === undefined) {
    throw new Error(`${nameOf('method')} ${job.method} needs ${nameOf('targetSparsity')} or ${nameOf('targetMacsRatio')}`);
  }
  if (job.targetSparsity !== undefined && job.targetMacsRatio !== undefined) {
    throw new Error(`give ${nameOf('targetSparsity')} or ${nameOf('targetMacsRatio')}, not both`);
  }
  if (job.method === 'hspg' && (job.targetSparsity !== undefined || job.targetMacsRatio !== undefined)) {
    const start = job.switchEpoch ?? job.epochs / 4;
    const by = job.penaltyEndEpoch ?? job.epochs * TARGET_BY;
    if (!(start < by))
      throw new Error(
        `with a target, hspg's half-space steps (${nameOf('switchEpoch')} ${start}) must start before ${nameOf('penaltyEndEpoch')} ${by}`,
      );
  }
  if (job.targetMacsRatio !== undefined && !(job.targetMacsRatio > 1))
    throw new Error(`${nameOf('targetMacsRatio')} must be above 1, got ${job.targetMacsRatio}`);
  if (job.float16 && !job.out) throw new Error(`${nameOf('float16')} writes DIR/slim-float16: give ${nameOf('out')} DIR`);
  if (job.resume && !job.out) throw new Error(`${nameOf('resume')} continues the run saved in ${nameOf('out')} DIR: give ${nameOf('out')}`);
}

/**
 * The optimizer settings of `job` for a model whose prunable groups are
 * `partition`'s, at `stepsPerEpoch`. DHSPG chooses after a short dense start and is
 * done early, so the slim network has most of the budget to train (docs/DESIGN.md,
 * "Measured facts").
 */
export function sparseConfig(job: CompressJob, partition: Partition, totalMacs: number, stepsPerEpoch: number): SparseConfig {
  const prunable = partition.groups.filter((g) => g.prunable);
  const at = (epoch: number) => Math.round(epoch * stepsPerEpoch);
  const groupMacs = prunable.map((g) => g.savings.macs);
  const targeted = job.targetSparsity !== undefined || job.targetMacsRatio !== undefined;
  // a penalty aimed at MACs weighs each group by the compute it frees
  const weighting = job.weighting ?? (isPenaltyMethod(job.method) && job.targetMacsRatio !== undefined ? 'sqrt-macs' : 'uniform');
  const common = {
    lambda: job.lambda,
    direction: job.direction,
    momentum: job.momentum,
    nesterov: job.nesterov,
    weightDecay: job.weightDecay,
    groupWeights: weighting === 'uniform' ? undefined : macsWeights(groupMacs, weighting === 'sqrt-macs' ? 0.5 : 1),
  };
  // the target-driven methods: what to remove, and how the choice is allocated
  const choice = (): ChoiceSettings => {
    const target: PruneTarget =
      job.targetMacsRatio !== undefined
        ? {
            kind: 'macs',
            fraction: 1 - 1 / job.targetMacsRatio,
            groupMacs,
            totalMacs,
            removedMacs: (ids) =>
              predictRemoval(
                partition.graph,
                ids.map((i) => prunable[i]),
              ).macs,
          }
        : { kind: 'groups', fraction: job.targetSparsity ?? NaN };
    const layers = groupLayerIds(prunable);
    return { target, allocation: job.allocation, groupLayers: layers, minKept: keptFloors(prunable, layers) };
  };
  const secondStage = at(job.switchEpoch ?? job.epochs / 4);
  // with a target the penalty ends once it is met, at the latest by the penalty's end
  const penalty = (from: number) =>
    targeted
      ? { lambdaTarget: { ...choice(), from, by: at(job.penaltyEndEpoch ?? job.epochs * TARGET_BY) } }
      : { penaltyEnd: job.penaltyEndEpoch === undefined ? undefined : at(job.penaltyEndEpoch) };
  switch (job.method) {
    case 'proxsg':
      return { method: 'proxsg', ...common, ...penalty(0) };
    case 'hspg':
      return { method: 'hspg', ...common, epsilon: job.epsilon, halfSpaceStart: secondStage, ...penalty(secondStage) };
    case 'obproxsg':
      return { method: 'obproxsg', ...common, orthantStart: secondStage };
    case 'dhspg': {
      const pruneStart = job.pruneStartEpoch ?? job.epochs / 40;
      return {
        method: 'dhspg',
        ...common,
        ...choice(),
        epsilon: job.epsilon,
        pruneStart: at(pruneStart),
        // projections start with the pruning unless told otherwise
        projectionStart: at(job.switchEpoch ?? pruneStart),
        pruneEnd: at(job.pruneEndEpoch ?? job.epochs * 0.15),
        prunePeriods: job.prunePeriods,
      };
    }
    case 'hesso':
      return {
        method: 'hesso',
        ...common,
        ...choice(),
        pruneStart: at(job.pruneStartEpoch ?? job.epochs / 40),
        pruneEnd: at(job.pruneEndEpoch ?? job.epochs * 0.15),
        prunePeriods: job.prunePeriods,
      };
  }
}

/** Trains `model` in place with the job's sparse optimizer; group statistics join each epoch's metrics. */
export async function trainSparse(
  model: tfl.LayersModel,
  data: DataSplits,
  job: CompressJob,
  settings: Omit<TrainConfig, 'optimizer' | 'resume' | 'onCheckpoint'>,
  checkpoints: (epochStats: () => unknown[]) => Partial<Checkpointing>,
  callbacks: TrainCallbacks = {},
): Promise<SparseTrained> {
  const partition = zeroInvariantGroups(model, { freeze: job.freeze });
  const variables = trainableVariables(model);
  const index = GroupIndex.fromChannelGroups(
    partition.groups.filter((g) => g.prunable),
    new Map(variables.map((v) => [v.name, v.shape])),
  );
  const steps = batchCount(data.train, { batchSize: settings.batchSize });
  const optimizer = createSparseOptimizer(index, sparseConfig(job, partition, countModel(model).macs, steps));
  try {
    let history: CompressEpoch[] = [];
    const checkpointing = checkpoints(() => history);
    if (checkpointing.resume) history = checkpointing.resume.state.epochStats as CompressEpoch[];
    await train(
      model,
      data,
      { ...settings, optimizer, ...checkpointing },
      {
        ...callbacks,
        onEpochEnd(m) {
          const epoch = { ...m, ...optimizer.stats(variables) };
          history.push(epoch);
          callbacks.onEpochEnd?.(epoch);
        },
      },
    );
    return { model, partition, history, stats: optimizer.stats(variables), eval: evaluate(model, data.test, data.normalization) };
  } finally {
    optimizer.dispose();
  }
}
