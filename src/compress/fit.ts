// The group-sparse methods inside a caller's own model.fit: an optimizer that
// TensorFlow.js's compile() takes (a tf.Optimizer whose steps are the sparse
// method's) and a callback that sets it up when fit() says how many steps an epoch
// has, sets the learning rate of each step and reports the groups in fit's logs.
// The method's stages (HSPG's switch, DHSPG's choice and projections) are placed
// in steps as compress places them (sparse_stage.ts).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Partition } from '../graph/groups.js';
import type { CostModel } from '../metrics/cost.js';
import { createSparseOptimizer, type GroupStats, type SparseMethod, type SparseOptimizer } from '../optim/sparse.js';
import { epochSchedule, type LearningRateSchedule } from '../train/schedules.js';
import { compressDefaults } from './defaults.js';
import { checkCompressJob, sparseConfig, sparseSetup, targetCost } from './sparse_stage.js';
import { zeroGroups } from '../slim/construct.js';
import type { CompressJob } from './types.js';
import { targetOf } from './target.js';

/** The method settings compress takes, as sparseTraining takes them; epochs and steps come from fit(). */
export interface SparseFitOptions extends Partial<
  Pick<
    CompressJob,
    | 'lambda'
    | 'epsilon'
    | 'direction'
    | 'momentum'
    | 'nesterov'
    | 'weightDecay'
    | 'switchEpoch'
    | 'penaltyEndEpoch'
    | 'targetSparsity'
    | 'targetMacsRatio'
    | 'targetSpeedup'
    | 'runtime'
    | 'speedBatch'
    | 'pruneStartEpoch'
    | 'pruneEndEpoch'
    | 'allocation'
    | 'prunePeriods'
    | 'freeze'
    | 'trainFrozen'
    | 'weighting'
    | 'lr'
    | 'schedule'
    | 'warmupEpochs'
    | 'milestones'
    | 'gamma'
  >
> {
  /** the sparse method (default hspg, as compress) */
  optimizer?: SparseMethod;
  /** steps per epoch, for fitDataset without batchesPerEpoch (fit() with tensors tells it) */
  stepsPerEpoch?: number;
  /** false: the callback leaves `optimizer.learningRate` as the caller sets it (default: our schedule, as compress) */
  useSchedule?: boolean;
}

/** The optimizer compile() takes; each step is the sparse method's, at the rate the callback set. */
export class SparseFitOptimizer extends tf.Optimizer {
  static readonly className = 'SlimtrainSparse';
  /** set by the callback before every step from the schedule */
  learningRate: number;
  /** @internal the method's optimizer, which the callback builds when fit() starts */
  sparse?: SparseOptimizer;

  constructor(
    private readonly variables: tf.Variable[],
    learningRate: number,
  ) {
    super();
    this.learningRate = learningRate;
  }

  applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    if (!this.sparse)
      throw new Error(
        "slimtrain's sparse optimizer trains only inside model.fit with its callback: pass sparseTraining(...).callback in fit's callbacks",
      );
    const byName = Array.isArray(variableGradients)
      ? new Map(variableGradients.map((g) => [g.name, g.tensor]))
      : new Map(Object.entries(variableGradients));
    // a variable fit() did not differentiate (none of the loss depends on it) steps with a zero gradient
    const zeros: tf.Tensor[] = [];
    const grads = this.variables.map((v) => byName.get(v.name) ?? zeros[zeros.push(tf.zerosLike(v)) - 1]);
    try {
      this.sparse.step(this.variables, grads, this.learningRate);
    } finally {
      tf.dispose(zeros);
    }
    this.incrementIterations();
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate };
  }

  override dispose(): void {
    this.sparse?.dispose();
    this.sparse = undefined;
  }
}

/** Sets the optimizer up when fit() starts, sets each step's learning rate, and puts the group figures in fit's logs. */
export class SparseFitCallback extends tfl.Callback {
  private schedule?: LearningRateSchedule;

  /** @internal sparseTraining() makes it */
  constructor(
    private readonly setup: (
      stepsPerEpoch: number,
      epochs: number,
    ) => Promise<{ sparse: SparseOptimizer; schedule?: LearningRateSchedule }>,
    private readonly fitOptimizer: SparseFitOptimizer,
    private readonly stats: () => GroupStats,
    private readonly stepsPerEpoch?: number,
  ) {
    super();
  }

  override async onTrainBegin(): Promise<void> {
    // a later fit() call continues the same run: the method's step count, its choice and its zero groups
    if (this.fitOptimizer.sparse) return;
    const p = this.params as { epochs?: number; samples?: number | null; steps?: number | null; batchSize?: number | null };
    const steps = this.stepsPerEpoch ?? p.steps ?? (p.samples && p.batchSize ? Math.ceil(p.samples / p.batchSize) : undefined);
    if (!steps || !p.epochs)
      throw new Error(
        "sparseTraining: fit() did not say how many steps an epoch has: give fitDataset's batchesPerEpoch, or sparseTraining's stepsPerEpoch",
      );
    const { sparse, schedule } = await this.setup(steps, p.epochs);
    this.fitOptimizer.sparse = sparse;
    this.schedule = schedule;
  }

  override async onBatchBegin(): Promise<void> {
    if (this.schedule && this.fitOptimizer.sparse) this.fitOptimizer.learningRate = this.schedule(this.fitOptimizer.sparse.stepCount);
  }

  override async onEpochEnd(_epoch: number, logs?: tfl.Logs): Promise<void> {
    if (!logs) return;
    const s = this.stats();
    Object.assign(logs, { zeroGroups: s.zeroGroups, groupSparsity: s.groupSparsity, lr: this.fitOptimizer.learningRate });
  }
}

export interface SparseTraining {
  /** for model.compile({ optimizer }) */
  optimizer: SparseFitOptimizer;
  /** for model.fit(x, y, { callbacks: [callback] }) */
  callback: SparseFitCallback;
  /** the model's prunable groups, as compress finds them */
  partition: Partition;
  /** zero groups and group sparsity now */
  stats(): GroupStats;
  /**
   * with targetSpeedup: the speed-up the latency tables (measured when fit() starts)
   * predict for the groups zero now; constructSlimModel then removes them
   */
  predictedSpeedup(): number | undefined;
}

/**
 * Group-sparse training of `model` by the caller's own model.fit: compile with
 * `optimizer`, fit with `callback`, then constructSlimModel(model) removes the
 * zero groups. The model must be built (its weights made) before this is called.
 */
export function sparseTraining(model: tfl.LayersModel, options: SparseFitOptions = {}): SparseTraining {
  const { optimizer: method, stepsPerEpoch, useSchedule = true, ...settings } = options;
  const { partition, variables, index } = sparseSetup(model, settings);
  const job = (epochs: number): CompressJob => ({
    ...compressDefaults,
    ...settings,
    method: method ?? compressDefaults.method,
    epochs,
    model: model.name,
    data: 'fit',
  });
  checkCompressJob(job(1));
  const fitOptimizer = new SparseFitOptimizer(variables, settings.lr ?? compressDefaults.lr);
  let cost: CostModel | undefined;
  // a speed target measures its latency tables when fit() starts, on the model as built
  const setup = async (steps: number, epochs: number) => {
    const j = job(epochs);
    cost = await targetCost(model, partition, j);
    const sparse = createSparseOptimizer(index, sparseConfig(j, partition, cost, steps));
    const schedule = useSchedule ? epochSchedule(j, steps) : undefined;
    return { sparse, schedule };
  };
  const stats = () => {
    if (!fitOptimizer.sparse) throw new Error('sparseTraining: no statistics before fit() has started');
    return fitOptimizer.sparse.stats(variables);
  };
  const predictedSpeedup = () => {
    if (targetOf(settings)?.kind !== 'speedup' || !cost) return undefined;
    return cost.total / (cost.total - cost.saved(zeroGroups(model, partition.groups)));
  };
  return {
    optimizer: fitOptimizer,
    callback: new SparseFitCallback(setup, fitOptimizer, stats, stepsPerEpoch),
    partition,
    stats,
    predictedSpeedup,
  };
}
