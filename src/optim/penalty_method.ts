// The penalty methods (Prox-SG, HSPG) and their target (docs/DESIGN.md, "A target
// for the penalty methods"). lambda sets how much such a method removes only through
// the task, so it would need tuning per model; given a target, lambda is adapted
// during training instead: raised while the zero groups lag a linear schedule towards
// the target. No step zeroes past the target or below a
// layer's floor (the groups a step would zero are admitted best-first, target.ts).
// Once the target is met the penalty ends: zero groups stay zero and the rest train
// freely. If the deadline comes first, one projection closes the gap.
import type * as tf from '@tensorflow/tfjs-core';
import type { Admit, Tensors, Variables } from './group_ops.js';
import type { GroupIndex } from './group_index.js';
import type { OptimizerState } from './optimizer.js';
import { SparseOptimizer, type GroupStats, type SparseCommon, type SparseState } from './sparse_optimizer.js';
import { checkTarget, chooseTowardsTarget, targetMet, type ChoiceSettings } from './target.js';

export interface PenaltyTargetSettings extends ChoiceSettings {
  /** the step from which the schedule rises from nothing to the whole target (default 0) */
  from?: number;
  /** the step by which the target is met */
  by: number;
}

export interface PenaltyCommon extends SparseCommon {
  /** the step at which the penalty stops; from then on zero groups stay zero and the others train freely (default: never) */
  penaltyEnd?: number;
  /** a target instead of a fixed lambda: lambda is adapted from `lambda` on */
  lambdaTarget?: PenaltyTargetSettings;
}

/** What a run towards a target carries across a checkpoint. */
export interface PenaltyTargetState {
  lambdaScale: number;
  met: boolean;
  zeroAtCheck: number;
}

interface PenaltyState extends SparseState {
  target?: PenaltyTargetState;
}

/** lambda rises by this factor at most ADAPT_CHECKS times over the schedule */
const ADAPT_RATE = 1.25;
const ADAPT_CHECKS = 100;

/** How far the zero groups are towards a target, and which groups a step may zero. */
export class PenaltyTarget {
  /**
   * lambdaScale multiplies every group's lambda; met: the target is met, or its
   * deadline has passed (the penalty is over); zeroAtCheck: zero groups at the last
   * schedule check
   */
  state: PenaltyTargetState = { lambdaScale: 1, met: false, zeroAtCheck: -1 };
  private readonly from: number;
  private readonly interval: number;
  private readonly reached: (groups: readonly number[]) => boolean;

  constructor(
    readonly settings: PenaltyTargetSettings,
    private readonly sizes: ArrayLike<number>,
    method: string,
  ) {
    checkTarget(settings.target, method);
    this.from = settings.from ?? 0;
    if (!(settings.by > this.from))
      throw new Error(`${method} needs steps to reach its target: from step ${this.from} by step ${settings.by}`);
    this.interval = Math.max(1, Math.round((settings.by - this.from) / ADAPT_CHECKS));
    this.reached = targetMet(settings.target, sizes.length, 1);
  }

  get deadline(): number {
    return this.settings.by;
  }

  /**
   * At schedule checks from `from` on, lambda rises while the zero groups lag the
   * schedule and none reached zero since the last check: groups take a while to shrink
   * once lambda is high enough, and rising on meanwhile would overshoot. It never
   * falls: groups ahead of the schedule only end the penalty sooner.
   */
  adapt(t: number, norm: ArrayLike<number>): void {
    const state = this.state;
    if (state.met || t < this.from || (t - this.from) % this.interval !== 0) return;
    const due = (t - this.from) / (this.settings.by - this.from);
    const zero = zeroIndices(norm);
    if (this.progress(zero) < due && zero.length === state.zeroAtCheck) state.lambdaScale *= ADAPT_RATE;
    state.zeroAtCheck = zero.length;
  }

  /**
   * Of the groups a step from norms `norm` would zero, those it may: smallest per
   * scalar first (costliest first, towards a cost) until the target is met.
   */
  admit(norm: ArrayLike<number>): Admit {
    return (candidates) => {
      const next = this.towardsTarget(norm, candidates);
      if (this.reached(zeroIndices(next.map((n) => 1 - n)))) this.state.met = true;
      return new Set(candidates.filter((g) => next[g]));
    };
  }

  /** The deadline: every group to be zero from now on (the zero ones, and those that close the gap). */
  closeGap(norm: ArrayLike<number>): Uint8Array {
    this.state.met = true;
    return this.towardsTarget(norm);
  }

  private towardsTarget(norm: ArrayLike<number>, candidates?: readonly number[]): Uint8Array {
    const zero = Uint8Array.from({ length: norm.length }, (_, g) => (norm[g] === 0 ? 1 : 0));
    const removability = Float64Array.from({ length: norm.length }, (_, g) =>
      norm[g] === 0 ? Infinity : Math.sqrt(this.sizes[g]) / norm[g],
    );
    return chooseTowardsTarget(removability, zero, 1, this.settings, candidates);
  }

  /** the share of the target the zero `groups` remove */
  private progress(groups: readonly number[]): number {
    const target = this.settings.target;
    return target.kind === 'cost'
      ? target.removed(groups) / (target.fraction * target.total)
      : groups.length / (target.fraction * this.sizes.length);
  }
}

function zeroIndices(norm: ArrayLike<number>): number[] {
  const zero: number[] = [];
  for (let g = 0; g < norm.length; g++) if (norm[g] === 0) zero.push(g);
  return zero;
}

/**
 * A method whose penalty drives groups to zero (Prox-SG, HSPG): it supplies the
 * penalised step; the penalty's end, and the target if there is one, are kept here.
 */
export abstract class PenaltyMethod extends SparseOptimizer {
  protected readonly target?: PenaltyTarget;

  constructor(
    index: GroupIndex,
    name: string,
    private readonly penalty: PenaltyCommon,
  ) {
    super(index, name, penalty);
    if (penalty.lambdaTarget) this.target = new PenaltyTarget(penalty.lambdaTarget, index.sizes, name);
  }

  /** The penalised step with per-group `lambdas` from norms `norm`; `admit` says which groups it may zero. */
  protected abstract penalisedUpdate(
    x: Variables,
    d: Tensors,
    lr: number,
    step: { lambdas: Float64Array; norm: Float64Array; admit?: Admit },
  ): void;

  protected update(x: Variables, d: Tensors, lr: number): void {
    const target = this.target;
    if (this.t >= (this.penalty.penaltyEnd ?? Infinity) || target?.state.met) {
      this.ops.survivorStep(x, d, lr);
      return;
    }
    const norm = this.ops.norms(x);
    if (!target) {
      this.penalisedUpdate(x, d, lr, { lambdas: this.lambdas, norm });
      return;
    }
    if (this.t >= target.deadline) {
      const zero = target.closeGap(norm);
      this.ops.assignPlainStep(
        x,
        d,
        lr,
        zero.map((z) => 1 - z),
      );
      return;
    }
    target.adapt(this.t, norm);
    this.penalisedUpdate(x, d, lr, { lambdas: this.lambdas.map((l) => l * target.state.lambdaScale), norm, admit: target.admit(norm) });
  }

  override stats(variables: readonly tf.Variable[]): GroupStats {
    const stats = super.stats(variables);
    return this.target ? { ...stats, lambda: this.penalty.lambda * this.target.state.lambdaScale } : stats;
  }

  override getState(): PenaltyState {
    return this.target ? { ...super.getState(), target: { ...this.target.state } } : super.getState();
  }

  override setState(saved: OptimizerState, variables: readonly tf.Variable[]): void {
    super.setState(saved, variables);
    const state = (saved as PenaltyState).target;
    if (this.target && state) this.target.state = { ...state };
  }
}
