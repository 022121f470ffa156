// DHSPG, OTOv2 (docs/DESIGN.md, "Optimizers"): a target instead of a lambda to tune.
// At pruning start the groups to remove are chosen by redundancy (importance.ts)
// and allocation (allocation.ts); only they are penalised, with a lambda adapted so
// each step shrinks them, and half-space projections send them to zero by pruneEnd.
// The rest train without a penalty. With several pruning periods, each period
// re-scores the groups still alive and takes its share of the target.
import * as tf from '@tensorflow/tfjs-core';
import type { GroupIndex } from '../group_index.js';
import type { Tensors, Variables } from '../group_ops.js';
import { redundancyScores } from '../importance.js';
import type { OptimizerState } from '../optimizer.js';
import { checkPerGroup, SparseOptimizer, type SparseCommon, type SparseState } from '../sparse_optimizer.js';
import { checkTarget, chooseTowardsTarget, type ChoiceSettings } from '../target.js';
import { checkEpsilon } from './hspg.js';
import type { MethodSpec } from '../method_spec.js';

export interface DhspgConfig extends SparseCommon, ChoiceSettings {
  method: 'dhspg';
  /** half-space threshold in [0, 1) (default 0) */
  epsilon?: number;
  /** the step at which the penalised groups are chosen (default 0) */
  pruneStart?: number;
  /** the step from which penalised groups are projected to zero (default: pruneStart) */
  projectionStart?: number;
  /** the step by which every penalised group is zero (a last projection closes any gap; default: never) */
  pruneEnd?: number;
  /** split [pruneStart, pruneEnd) into this many periods (default 1) */
  prunePeriods?: number;
}

export const dhspgSpec: MethodSpec<DhspgConfig> = {
  settings: ['weighting', 'epsilon', 'switchEpoch', 'pruneStartEpoch', 'pruneEndEpoch', 'prunePeriods', 'allocation'],
  target: 'needs',
  costWeighting: false,
  config: (job, b) => {
    const pruneStart = job.pruneStartEpoch ?? job.epochs / 40;
    return {
      method: 'dhspg',
      ...b.common,
      ...b.choice(),
      epsilon: job.epsilon,
      pruneStart: b.at(pruneStart),
      // projections start with the pruning unless told otherwise
      projectionStart: b.at(job.switchEpoch ?? pruneStart),
      pruneEnd: b.at(job.pruneEndEpoch ?? job.epochs * 0.15),
      prunePeriods: job.prunePeriods,
    };
  },
};

export interface DhspgState extends SparseState {
  /** 1 for the groups chosen to be penalised (in this period or an earlier one) */
  penalised: number[] | null;
  /** the pruning periods whose groups have been chosen */
  periodsChosen?: number;
}

export class Dhspg extends SparseOptimizer {
  private readonly epsilon: number;
  private readonly periods: number;
  private penalised: Uint8Array | null = null;
  private periodsChosen = 0;

  constructor(
    index: GroupIndex,
    readonly config: DhspgConfig,
  ) {
    super(index, 'dhspg', config);
    this.epsilon = checkEpsilon(config.epsilon);
    checkTarget(config.target, 'dhspg');
    this.periods = config.prunePeriods ?? 1;
    if (!(Number.isInteger(this.periods) && this.periods >= 1))
      throw new Error(`the number of pruning periods must be a whole number >= 1, got ${this.periods}`);
    checkPerGroup('groupLayers', config.groupLayers, index.groupCount);
  }

  protected update(x: Variables, d: Tensors, lr: number): void {
    const c = this.config;
    const start = c.pruneStart ?? 0;
    if (this.t < start) {
      this.ops.assignPlainStep(x, d, lr);
      return;
    }
    const end = c.pruneEnd ?? Infinity;
    // periods split [start, end); without an end there is only one
    const period = Number.isFinite(end)
      ? Math.min(this.periods - 1, Math.floor(((this.t - start) * this.periods) / Math.max(1, end - start)))
      : 0;
    // a new period projects the groups chosen so far (zero groups stay zero) and chooses the next share
    let earlier: Uint8Array | null = null;
    if (this.penalised === null || (this.t < end && this.periodsChosen <= period)) {
      earlier = this.penalised ?? new Uint8Array(this.ops.groupCount);
      this.penalised = this.choosePenalised(x, d, earlier, (period + 1) / this.periods);
      this.periodsChosen = period + 1;
    }
    const penalised = this.penalised;
    const norm = this.ops.norms(x);
    if (this.t >= end) {
      // the pruning period is over: any penalised group still non-zero is projected now
      this.ops.assignPlainStep(
        x,
        d,
        lr,
        norm.map((_, g) => (penalised[g] ? 0 : 1)),
      );
      return;
    }
    const lambdas = this.adaptedLambdas(x, d, norm, penalised);
    const alive = norm.map((n, g) => (n === 0 || earlier?.[g] ? 0 : 1));
    if (this.t < (c.projectionStart ?? start)) {
      // before projections start: the penalised step alone (zero groups stay zero)
      this.ops.assignScaled(
        x,
        this.ops.penalisedStep(
          x,
          d,
          lr,
          norm.map((n, g) => (n > 0 ? lambdas[g] / n : 0)),
        ),
        alive,
      );
      return;
    }
    this.ops.halfSpaceStep(x, d, lr, { lambdas, epsilon: this.epsilon, projected: (g) => lambdas[g] > 0, alive, norm });
  }

  /**
   * lambda_g for the penalised groups (0 for the rest): lambda, unless <x, d> < 0,
   * where the plain step grows the group; then a lambda in (lb, ub) makes the step
   * shrink it while staying a descent direction.
   */
  private adaptedLambdas(x: Variables, d: Tensors, norm: Float64Array, penalised: Uint8Array): Float64Array {
    const inner = this.ops.dots(x, d);
    const dNorm2 = this.ops.dots(d, d);
    return norm.map((n, g) => {
      if (!penalised[g] || n === 0) return 0;
      if (inner[g] >= 0) return this.lambdas[g];
      const lb = -inner[g] / n;
      const ub = (-dNorm2[g] * n) / inner[g];
      return Math.min(Math.max(this.lambdas[g], lb * 1.1), 0.5 * (lb + ub));
    });
  }

  /** Beside the `chosen` groups, those to remove next until `share` of the target is met, by redundancy. */
  private choosePenalised(x: Variables, d: Tensors, chosen: Uint8Array, share: number): Uint8Array {
    return chooseTowardsTarget(this.removability(x, d, chosen, redundancyScores), chosen, share, this.config);
  }

  override getState(): DhspgState {
    return { ...super.getState(), penalised: this.penalised ? Array.from(this.penalised) : null, periodsChosen: this.periodsChosen };
  }

  override setState(saved: OptimizerState, variables: readonly tf.Variable[]): void {
    super.setState(saved, variables);
    const state = saved as DhspgState;
    this.penalised = state.penalised ? Uint8Array.from(state.penalised) : null;
    // states saved before pruning periods existed chose their one period at once
    this.periodsChosen = state.periodsChosen ?? (this.penalised ? 1 : 0);
  }
}
