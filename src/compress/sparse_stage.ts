// Stage 1 of compress: train the model with a group-sparse optimizer. The job's
// settings, given in epochs, become one method's optimizer settings in steps.
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batchCount } from '../data/batches.js';
import type { DataSplits } from '../data/datasets.js';
import { zeroInvariantGroups, type Partition } from '../graph/groups.js';
import { macsCost, type CostModel } from '../metrics/cost.js';
import { latencyCost, measureLatencyTable } from '../metrics/latency.js';
import { runtimeLabel } from '../metrics/speed.js';
import { calibrateLatency } from './calibrate.js';
import { countModel } from '../layers/count.js';
import { groupLayerIds, keptFloors } from '../optim/allocation.js';
import { GroupIndex } from '../optim/group_index.js';
import {
  createSparseOptimizer,
  methodSpec,
  sparseMethods,
  TARGET_BY,
  type GroupStats,
  type PruneTarget,
  type SparseConfig,
  type SparseMethod,
} from '../optim/sparse.js';
import { reachableShare, type ChoiceSettings } from '../optim/target.js';
import { evaluateOnTest, train, trainableVariables, type TrainConfig } from '../train/loop.js';
import type { Checkpointing } from '../train/checkpoint.js';
import type { EvalResult, JobCallbacks } from '../train/metrics.js';
import type { CompressEpoch, CompressJob } from './types.js';
import { applyFreeze } from '../train/frozen.js';
import { costRatio, describeTarget, targetOf, type Target } from './target.js';
import { unstoppable } from '../util/progress.js';

export interface SparseTrained {
  model: tfl.LayersModel;
  partition: Partition;
  /** what the target counted: the MACs, or the latency the tables predict */
  cost: CostModel;
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

/** The targets, one of which a method with a target takes, and the settings of a speed target. */
const TARGETS = ['targetSparsity', 'targetMacsRatio', 'targetSpeedup', 'runtime', 'speedBatch'] as const;

/** The method settings of a compress job `method` reads (beside lambda, the step direction and SGD's). */
function settingsOf(method: SparseMethod): (keyof CompressJob)[] {
  const spec = methodSpec(method);
  return [...(spec.target === 'none' ? [] : TARGETS), ...spec.settings];
}

/** The method settings `job` gives that its method does not read: each would silently do nothing. */
export function settingsIgnoredBy(job: CompressJob): (keyof CompressJob)[] {
  const all = new Set(sparseMethods.flatMap(settingsOf));
  const read = new Set(settingsOf(job.method));
  return [...all].filter((k) => job[k] !== undefined && !read.has(k));
}

/**
 * Refuses a job whose settings contradict each other; `nameOf` says a setting as the
 * caller knows it (the CLI: as its flag). Settings the method does not read are
 * left alone here (a program may share one job object across methods); the CLI
 * refuses them with settingsIgnoredBy.
 */
export function checkCompressJob(job: CompressJob, nameOf: (setting: keyof CompressJob) => string = (k) => k): void {
  const given = (['targetSparsity', 'targetMacsRatio', 'targetSpeedup'] as const).filter((k) => job[k] !== undefined);
  const targets = `${nameOf('targetSparsity')}, ${nameOf('targetMacsRatio')} or ${nameOf('targetSpeedup')}`;
  const spec = methodSpec(job.method);
  if (spec.target === 'needs' && given.length === 0) throw new Error(`${nameOf('method')} ${job.method} needs ${targets}`);
  if (given.length > 1) throw new Error(`give one of ${targets}, not ${given.map(nameOf).join(' and ')}`);
  for (const k of ['runtime', 'speedBatch'] as const)
    if (job[k] !== undefined && job.targetSpeedup === undefined && job.roundChannels !== 'auto')
      throw new Error(`${nameOf(k)} says where ${nameOf('targetSpeedup')} (or ${nameOf('roundChannels')} auto) measures: give one`);
  spec.check?.({ ...job, targeted: given.length > 0 }, nameOf);
  for (const k of ['targetMacsRatio', 'targetSpeedup'] as const) {
    const ratio = job[k];
    if (ratio !== undefined && !(ratio > 1)) throw new Error(`${nameOf(k)} must be above 1, got ${ratio}`);
  }
  if (job.float16 && !job.out) throw new Error(`${nameOf('float16')} writes DIR/slim-float16: give ${nameOf('out')} DIR`);
  if (job.resume && !job.out) throw new Error(`${nameOf('resume')} continues the run saved in ${nameOf('out')} DIR: give ${nameOf('out')}`);
}

/**
 * The optimizer settings of `job` for a model whose prunable groups are
 * `partition`'s, at `stepsPerEpoch`. DHSPG chooses after a short dense start and is
 * done early, so the slim network has most of the budget to train (docs/DESIGN.md,
 * "Measured facts").
 */
export function sparseConfig(job: CompressJob, partition: Partition, cost: CostModel, stepsPerEpoch: number): SparseConfig {
  const prunable = partition.groups.filter((g) => g.prunable);
  const at = (epoch: number) => Math.round(epoch * stepsPerEpoch);
  const groupMacs = prunable.map((g) => g.savings.macs);
  const target = targetOf(job);
  const spec = methodSpec(job.method);
  // a penalty aimed at MACs weighs each group by the compute it frees
  const weighting = job.weighting ?? (spec.costWeighting && costRatio(target) !== undefined ? 'sqrt-macs' : 'uniform');
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
    const ratio = costRatio(target);
    const prune: PruneTarget =
      ratio !== undefined
        ? {
            kind: 'cost',
            unit: cost.unit,
            fraction: 1 - 1 / ratio,
            groupCost: cost.unit === 'MACs' ? groupMacs : prunable.map((g) => cost.saved([g])),
            total: cost.total,
            removed: (ids) => cost.saved(ids.map((i) => prunable[i])),
          }
        : { kind: 'groups', fraction: target?.kind === 'sparsity' ? target.fraction : NaN };
    const layers = groupLayerIds(prunable);
    const settings: ChoiceSettings = {
      target: prune,
      allocation: job.allocation,
      groupLayers: layers,
      minKept: keptFloors(prunable, layers),
    };
    checkReachable(settings, prunable.length, job, target);
    return settings;
  };
  // with a target the penalty ends once it is met, at the latest by the penalty's end
  const penalty = (from: number) =>
    target
      ? { lambdaTarget: { ...choice(), from, by: at(job.penaltyEndEpoch ?? job.epochs * TARGET_BY) } }
      : { penaltyEnd: job.penaltyEndEpoch === undefined ? undefined : at(job.penaltyEndEpoch) };
  return spec.config(job, { at, common, choice, penalty });
}

/** Refuses a target no choice can meet: every layer at its floor would still fall short. */
function checkReachable(settings: ChoiceSettings, groupCount: number, job: CompressJob, target: Target | undefined): void {
  const share = reachableShare(settings, groupCount);
  if (share >= 1 || !target) return;
  const prune = settings.target;
  // rounded down, so that asking for what the message says is met
  const down = (x: number, digits: number) => (Math.floor(x * 10 ** digits) / 10 ** digits).toFixed(digits);
  const most = prune.kind === 'cost' ? `${down(1 / (1 - share * prune.fraction), 2)}x` : `a sparsity of ${down(share * prune.fraction, 3)}`;
  throw new Error(
    `${describeTarget(target)} cannot be met on ${job.model}: removing every group the layer floors allow (a quarter of each layer, ` +
      `half of a residual stream, docs/DESIGN.md "Tied families and floors") gives ${most}; ask for at most that`,
  );
}

/**
 * What the job's target counts: the latency its tables predict (measured now, or read
 * from the cache) mapped onto whole slimmed models timed now, or the MACs.
 */
export async function targetCost(
  model: tfl.LayersModel,
  partition: Partition,
  job: CompressJob,
  callbacks: JobCallbacks = {},
): Promise<CostModel> {
  const target = targetOf(job);
  if (target?.kind !== 'speedup') return macsCost(partition.graph, countModel(model).macs);
  const { runtime, batch } = target;
  callbacks.onStage?.(`latency table: ${runtimeLabel(runtime)} at batch ${batch}`);
  const table = latencyCost(await measureLatencyTable(model, partition, { runtime, batch, onProgress: callbacks.onProgress }), partition);
  return calibrateLatency(model, partition, table, { runtime, batch, onStage: callbacks.onStage, onProgress: callbacks.onProgress });
}

/**
 * What a sparse method works on, for compress and sparseTraining alike: the model's
 * layers frozen as the job says, its zero-invariant groups, its trainable variables
 * and the index of the prunable groups' slices in them.
 */
export function sparseSetup(
  model: tfl.LayersModel,
  job: Pick<CompressJob, 'freeze' | 'trainFrozen'>,
): { partition: Partition; variables: tf.Variable[]; index: GroupIndex } {
  applyFreeze(model, job);
  const partition = zeroInvariantGroups(model, { freeze: job.freeze });
  const index = GroupIndex.fromChannelGroups(
    partition.groups.filter((g) => g.prunable),
    model,
  );
  return { partition, variables: trainableVariables(model), index };
}

/** Trains `model` in place with the job's sparse optimizer; group statistics join each epoch's metrics. */
export async function trainSparse(
  model: tfl.LayersModel,
  data: DataSplits,
  job: CompressJob,
  settings: Omit<TrainConfig, 'optimizer' | 'resume' | 'onCheckpoint'>,
  checkpoints: (epochStats: () => unknown[]) => Partial<Checkpointing>,
  callbacks: JobCallbacks = {},
): Promise<SparseTrained> {
  const { partition, variables, index } = sparseSetup(model, job);
  const steps = batchCount(data.train, { batchSize: settings.batchSize });
  const cost = await targetCost(model, partition, job, callbacks);
  const optimizer = createSparseOptimizer(index, sparseConfig(job, partition, cost, steps));
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
    return {
      model,
      partition,
      cost,
      history,
      stats: optimizer.stats(variables),
      eval: evaluateOnTest(model, data, settings.distill, unstoppable(callbacks.onProgress)),
    };
  } finally {
    optimizer.dispose();
  }
}
