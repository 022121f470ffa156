// HESSO, OTOv3 (docs/DESIGN.md, "Optimizers"): a target instead of a lambda, and no
// penalty at all. Pruning runs in periods; each period scores the live groups by
// importance (importance.ts hessoImportance), takes the least important towards its
// share of the target (target.ts), and fades them out linearly over the period:
// after every plain step they are scaled by (P - t - 1) / (P - t), so at the
// period's last step they are exactly zero. The rest train as with plain SGD
// throughout, and after the last period everything left trains freely.
import * as tf from '@tensorflow/tfjs-core';
import type { GroupIndex } from '../group_index.js';
import type { Tensors, Variables } from '../group_ops.js';
import { hessoImportance, type GroupStatistics } from '../importance.js';
import type { OptimizerState } from '../optimizer.js';
import { checkPerGroup, SparseOptimizer, type SparseCommon, type SparseState } from '../sparse_optimizer.js';
import { checkTarget, chooseTowardsTarget, type ChoiceSettings } from '../target.js';
import type { MethodSpec } from '../method_spec.js';

export interface HessoConfig extends SparseCommon, ChoiceSettings {
  method: 'hesso';
  /** the step at which the first period starts (default 0) */
  pruneStart?: number;
  /** the step by which the last period ends and every chosen group is zero */
  pruneEnd: number;
  /** periods [pruneStart, pruneEnd) is split into (default 1) */
  prunePeriods?: number;
}

export const hessoSpec: MethodSpec<HessoConfig> = {
  settings: ['pruneStartEpoch', 'pruneEndEpoch', 'prunePeriods', 'allocation'],
  target: 'needs',
  costWeighting: false,
  config: (job, b) => ({
    method: 'hesso',
    ...b.common,
    ...b.choice(),
    pruneStart: b.at(job.pruneStartEpoch ?? job.epochs / 40),
    pruneEnd: b.at(job.pruneEndEpoch ?? job.epochs * 0.15),
    prunePeriods: job.prunePeriods,
  }),
};

export interface HessoState extends SparseState {
  /** 1: removed in an earlier period (zero); 2: fading out in this period */
  status: number[] | null;
  /** the period whose groups are fading */
  period: number;
}

const REMOVED = 1;
const FADING = 2;

export class Hesso extends SparseOptimizer {
  private readonly periods: number;
  private readonly start: number;
  private readonly duration: number;
  private status: Uint8Array | null = null;
  private period = -1;

  constructor(
    index: GroupIndex,
    readonly config: HessoConfig,
  ) {
    super(index, 'hesso', config);
    checkTarget(config.target, 'hesso');
    this.periods = config.prunePeriods ?? 1;
    if (!(Number.isInteger(this.periods) && this.periods >= 1))
      throw new Error(`the number of pruning periods must be a whole number >= 1, got ${this.periods}`);
    this.start = config.pruneStart ?? 0;
    this.duration = Math.floor((config.pruneEnd - this.start) / this.periods);
    if (!(this.duration >= 1)) {
      throw new Error(
        `hesso needs at least one step per pruning period: steps ${this.start}-${config.pruneEnd} for ${this.periods} periods`,
      );
    }
    checkPerGroup('groupLayers', config.groupLayers, index.groupCount);
  }

  protected update(x: Variables, d: Tensors, lr: number): void {
    const G = this.ops.groupCount;
    const status = (this.status ??= new Uint8Array(G));
    const elapsed = this.t - this.start;
    const period = elapsed < 0 ? -1 : Math.min(this.periods, Math.floor(elapsed / this.duration));
    if (period !== this.period) {
      // the fading groups of the period that ended are zero now
      status.forEach((s, g) => s === FADING && (status[g] = REMOVED));
      if (period >= 0 && period < this.periods) this.chooseFading(x, d, status, (period + 1) / this.periods);
      this.period = period;
    }
    const t = elapsed - period * this.duration;
    const fade = period >= 0 && period < this.periods ? (this.duration - t - 1) / (this.duration - t) : 0;
    this.ops.assignPlainStep(
      x,
      d,
      lr,
      Float64Array.from(status, (s) => (s === REMOVED ? 0 : s === FADING ? fade : 1)),
    );
  }

  /** Marks as fading the least important live groups until `share` of the target is met. */
  private chooseFading(x: Variables, d: Tensors, status: Uint8Array, share: number): void {
    const chosen = Uint8Array.from(status, (s) => (s ? 1 : 0));
    const leastImportant = (scored: readonly number[], stats: GroupStatistics) =>
      new Map([...hessoImportance(scored, stats)].map(([g, importance]) => [g, 1 - importance]));
    const next = chooseTowardsTarget(this.removability(x, d, chosen, leastImportant), chosen, share, this.config);
    next.forEach((picked, g) => picked && !chosen[g] && (status[g] = FADING));
  }

  override getState(): HessoState {
    return { ...super.getState(), status: this.status ? Array.from(this.status) : null, period: this.period };
  }

  override setState(saved: OptimizerState, variables: readonly tf.Variable[]): void {
    super.setState(saved, variables);
    const state = saved as HessoState;
    this.status = state.status ? Uint8Array.from(state.status) : null;
    this.period = state.period;
  }
}
