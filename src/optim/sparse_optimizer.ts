// What every group-sparse method shares: the step direction (SGD momentum or Adam),
// weight decay on every parameter as in plain SGD (a zero group stays zero under
// it), per-group lambdas, statistics and checkpoint state. Each method
// (methods/*.ts) supplies its update from the variables and their directions.
import * as tf from '@tensorflow/tfjs-core';
import { createDirection, type Direction, type DirectionConfig } from './direction.js';
import { GroupOps, type Tensors, type Variables } from './group_ops.js';
import type { GroupIndex } from './group_index.js';
import type { GroupStatistics } from './importance.js';
import { checkGradientCount, type Optimizer, type OptimizerState } from './optimizer.js';

/** Settings every method takes. */
export interface SparseCommon extends DirectionConfig {
  /** group-lasso (or, for obproxsg, l1) weight */
  lambda: number;
  weightDecay?: number;
  /** per-group multipliers of lambda (default 1): e.g. proportional to the MACs a group costs */
  groupWeights?: ArrayLike<number>;
}

export interface GroupStats {
  groups: number;
  zeroGroups: number;
  /** fraction of groups that are exactly zero */
  groupSparsity: number;
  /** sum over groups of ||x_g||_2 */
  normSum: number;
  /** obproxsg: fraction of non-zero scalars in the grouped variables */
  density?: number;
  /** proxsg/hspg with a target: lambda as adapted so far */
  lambda?: number;
}

export interface SparseState extends OptimizerState {
  method: string;
}

export abstract class SparseOptimizer implements Optimizer {
  protected readonly ops: GroupOps;
  protected readonly dir: Direction;
  /** lambda of each group */
  protected readonly lambdas: Float64Array;
  /** optimisation steps taken */
  protected t = 0;

  constructor(
    readonly index: GroupIndex,
    readonly name: string,
    private readonly common: SparseCommon,
  ) {
    if (!(common.lambda >= 0) || !Number.isFinite(common.lambda))
      throw new Error(`lambda must be a non-negative number, got ${common.lambda}`);
    checkPerGroup('groupWeights', common.groupWeights, index.groupCount);
    this.ops = new GroupOps(index);
    this.lambdas = Float64Array.from({ length: index.groupCount }, (_, g) => common.lambda * (common.groupWeights?.[g] ?? 1));
    this.dir = createDirection(common);
  }

  get stepCount(): number {
    return this.t;
  }

  /**
   * How removable each group is, for a target-driven choice: Infinity for zero groups
   * (they cost nothing to remove), `score` for the other groups not yet `chosen`
   * (higher = remove sooner), which it ranks among themselves.
   */
  protected removability(
    x: Variables,
    d: Tensors,
    chosen: Uint8Array,
    score: (scored: readonly number[], stats: GroupStatistics) => Map<number, number>,
  ): Float64Array {
    const norm = this.ops.norms(x);
    const scored = [...norm.keys()].filter((g) => !chosen[g] && norm[g] > 0);
    const scores = score(scored, { norm, directionNorm: this.ops.norms(d), inner: this.ops.dots(x, d), sizes: this.index.sizes });
    const removability = new Float64Array(norm.length).fill(Infinity);
    for (const g of scored) removability[g] = scores.get(g)!;
    return removability;
  }

  /** The method's update of `x` given the step directions `d` (inside tf.tidy). */
  protected abstract update(x: Variables, d: Tensors, lr: number): void;

  step(variables: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void {
    checkGradientCount(variables, grads);
    this.dir.beginStep();
    const x: Variables = new Map();
    const d: Tensors = new Map();
    variables.forEach((v, i) => {
      x.set(v.name, v);
      d.set(v.name, tf.keep(tf.tidy(() => this.dir.direction(v, this.decayed(v, grads[i])))));
    });
    try {
      tf.tidy(() => {
        this.update(x, d, lr);
        // a zero channel's stale moving mean would make it a constant in inference
        this.ops.zeroResets(x);
      });
    } finally {
      tf.dispose([...d.values()]);
    }
    this.t++;
  }

  /**
   * Coupled weight decay on every entry, grouped or not, as the dense optimizer and
   * OTO's reference implementation apply it: the groups that survive are the slim
   * network, and without decay they trained worse (docs/DESIGN.md, "Optimizers").
   */
  private decayed(v: tf.Variable, g: tf.Tensor): tf.Tensor {
    const wd = this.common.weightDecay ?? 0;
    return wd === 0 ? g : tf.add(g, tf.mul(v, wd));
  }

  /** Zero groups, group sparsity and the sum of group norms of `variables` now. */
  stats(variables: readonly tf.Variable[]): GroupStats {
    tf.engine().startScope();
    try {
      const norm = this.ops.norms(new Map(variables.map((v) => [v.name, v as tf.Tensor])));
      const zeroGroups = norm.filter((n) => n === 0).length;
      return {
        groups: norm.length,
        zeroGroups,
        groupSparsity: norm.length ? zeroGroups / norm.length : 0,
        normSum: norm.reduce((a, b) => a + b, 0),
      };
    } finally {
      tf.engine().endScope();
    }
  }

  getState(): SparseState {
    return { name: this.name, method: this.name, ...this.dir.getState(), step: this.t };
  }

  setState(saved: OptimizerState, variables: readonly tf.Variable[]): void {
    const state = saved as SparseState;
    if (state.method !== this.name) throw new Error(`state of a ${state.method} run cannot resume ${this.name}`);
    this.t = state.step;
    this.dir.setState(state, variables);
  }

  dispose(): void {
    this.dir.dispose();
  }
}

/** A per-group setting must have one entry per group. */
export function checkPerGroup(name: string, values: ArrayLike<number> | undefined, groupCount: number): void {
  if (values && values.length !== groupCount) throw new Error(`${name} has ${values.length} entries for ${groupCount} groups`);
}
