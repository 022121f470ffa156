// The group-sparsity optimizers of ../shared/DESIGN.md 1.2-1.5 on top of a
// GroupIndex: Prox-SG, HSPG, OBProx-SG and DHSPG, each with an SGD-momentum or Adam
// direction. Groups that reach exactly zero stay exactly zero. Weight decay acts
// only on parameters outside every group (the group penalty regularises the rest).
import * as tf from '@tensorflow/tfjs-core';
import { AdamDirection, MomentumDirection, type Direction, type Optimizer, type OptimizerState } from '../train/optimizers.js';
import type { GroupIndex } from './group_index.js';

export const sparseMethods = ['proxsg', 'hspg', 'obproxsg', 'dhspg'] as const;
export type SparseMethod = (typeof sparseMethods)[number];

export interface SparseConfig {
  method: SparseMethod;
  /** group-lasso (or, for obproxsg, l1) weight */
  lambda: number;
  /** half-space projection threshold in [0, 1) (hspg, dhspg) */
  epsilon?: number;
  /**
   * hspg: the step at which half-space steps replace Prox-SG (N_P);
   * obproxsg: the step at which orthant steps replace Prox-SG;
   * dhspg: the step from which groups are projected to zero.
   */
  switchStep?: number;
  direction?: 'sgd' | 'adam';
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  /** dhspg: the fraction of groups to make zero, in [0, 1) */
  targetSparsity?: number;
  /**
   * dhspg, instead of targetSparsity: choose groups in order of redundancy times
   * groupMacs (what each saves alone) until removing them together saves this
   * fraction of totalMacs, as `removedMacs` (the exact joint saving) says
   */
  targetMacs?: {
    fraction: number;
    groupMacs: ArrayLike<number>;
    totalMacs: number;
    removedMacs: (groups: number[]) => number;
  };
  /**
   * dhspg: the layer each group belongs to. Given, every layer gives up the same
   * fraction of its groups, the best candidates of each layer first (Torch-Pruning's
   * local pruning); without it one ranking over all groups decides
   */
  groupLayers?: ArrayLike<number>;
  /** dhspg: the step at which the penalised groups are chosen */
  pruneStart?: number;
  /** dhspg: the step by which every penalised group is zero (a last projection closes any gap) */
  pruneEnd?: number;
  /**
   * dhspg: split [pruneStart, pruneEnd) into this many periods (default 1); each
   * period scores the groups still alive, penalises the next 1/periods of the target
   * and ends by projecting them to zero, so later choices see the network without them
   */
  prunePeriods?: number;
  /**
   * proxsg/hspg: the step at which the penalty stops; from then on zero groups stay
   * zero and the others train freely (default: never)
   */
  penaltyEnd?: number;
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
}

export interface SparseState extends OptimizerState {
  method: SparseMethod;
  penalised: number[] | null;
  /** dhspg: the pruning periods whose groups have been chosen */
  periodsChosen?: number;
}

function checkConfig(c: SparseConfig): void {
  if (!(sparseMethods as readonly string[]).includes(c.method)) {
    throw new Error(`unknown sparse optimizer '${c.method}': use one of ${sparseMethods.join(', ')}`);
  }
  if (!(c.lambda >= 0) || !Number.isFinite(c.lambda)) throw new Error(`lambda must be a non-negative number, got ${c.lambda}`);
  const eps = c.epsilon ?? 0;
  if (!(eps >= 0 && eps < 1)) throw new Error(`epsilon must be in [0, 1), got ${eps}`);
  if (c.method === 'dhspg' && c.targetMacs === undefined) {
    const t = c.targetSparsity;
    if (t === undefined || !(t >= 0 && t < 1)) throw new Error(`dhspg needs a target sparsity in [0, 1), got ${t}`);
  }
  const periods = c.prunePeriods ?? 1;
  if (!(Number.isInteger(periods) && periods >= 1)) throw new Error(`the number of pruning periods must be a whole number >= 1, got ${periods}`);
  if (c.targetMacs && !(c.targetMacs.fraction > 0 && c.targetMacs.fraction < 1)) {
    throw new Error(`the MACs fraction to remove must be in (0, 1), got ${c.targetMacs.fraction}`);
  }
}

export class SparseOptimizer implements Optimizer {
  readonly name: string;
  private readonly dir: Direction;
  private t = 0;
  /** dhspg: 1 for the groups chosen to be penalised (in this period or an earlier one) */
  private penalised: Uint8Array | null = null;
  /** dhspg: how many pruning periods have chosen their groups */
  private periodsChosen = 0;
  private readonly masks = new Map<string, tf.Tensor>();
  /** lambda of each group */
  private readonly lambdas: Float64Array;

  constructor(
    readonly index: GroupIndex,
    readonly config: SparseConfig,
  ) {
    checkConfig(config);
    if (config.groupLayers && config.groupLayers.length !== index.groupCount) {
      throw new Error(`groupLayers has ${config.groupLayers.length} entries for ${index.groupCount} groups`);
    }
    if (config.groupWeights && config.groupWeights.length !== index.groupCount) {
      throw new Error(`groupWeights has ${config.groupWeights.length} entries for ${index.groupCount} groups`);
    }
    this.lambdas = Float64Array.from({ length: index.groupCount }, (_, g) => config.lambda * (config.groupWeights?.[g] ?? 1));
    this.name = config.method;
    this.dir = config.direction === 'adam' ? new AdamDirection() : new MomentumDirection(config.momentum ?? 0, config.nesterov ?? false);
  }

  /** optimisation steps taken */
  get stepCount(): number {
    return this.t;
  }

  private membership(name: string): tf.Tensor {
    let m = this.masks.get(name);
    if (!m) {
      m = tf.keep(this.index.membership(name));
      this.masks.set(name, m);
    }
    return m;
  }

  /** weight decay on the entries outside every group */
  private decayed(v: tf.Variable, g: tf.Tensor): tf.Tensor {
    const wd = this.config.weightDecay ?? 0;
    if (wd === 0) return g;
    if (!this.index.grouped(v.name)) return tf.add(g, tf.mul(v, wd));
    return tf.add(g, tf.mul(tf.mul(v, tf.sub(1, this.membership(v.name))), wd));
  }

  step(variables: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void {
    if (variables.length !== grads.length) throw new Error(`optimizer got ${grads.length} gradients for ${variables.length} variables`);
    this.dir.beginStep();
    const x = new Map<string, tf.Variable>();
    const d = new Map<string, tf.Tensor>();
    variables.forEach((v, i) => {
      x.set(v.name, v);
      d.set(v.name, tf.keep(tf.tidy(() => this.dir.direction(v, this.decayed(v, grads[i])))));
    });
    try {
      tf.tidy(() => this.update(x, d, lr));
    } finally {
      tf.dispose([...d.values()]);
    }
    this.t++;
  }

  private update(x: Map<string, tf.Variable>, d: Map<string, tf.Tensor>, lr: number): void {
    const c = this.config;
    const stage2 = this.t >= (c.switchStep ?? 0);
    if ((c.method === 'proxsg' || c.method === 'hspg') && c.penaltyEnd !== undefined && this.t >= c.penaltyEnd) {
      // no penalty and no projection: zero groups stay zero, the rest train freely
      this.halfSpaceStep(x, d, lr, new Float64Array(this.index.groupCount));
      return;
    }
    switch (c.method) {
      case 'proxsg':
        return this.proxStep(x, d, lr);
      case 'hspg':
        if (stage2) this.halfSpaceStep(x, d, lr, null);
        else this.proxStep(x, d, lr);
        return;
      case 'obproxsg':
        return stage2 ? this.orthantStep(x, d, lr) : this.l1ProxStep(x, d, lr);
      case 'dhspg':
        return this.dhspgStep(x, d, lr);
    }
  }

  private plainStep(x: Map<string, tf.Variable>, d: Map<string, tf.Tensor>, lr: number): Map<string, tf.Tensor> {
    const u = new Map<string, tf.Tensor>();
    for (const [name, v] of x) u.set(name, tf.sub(v, tf.mul(d.get(name)!, lr)));
    return u;
  }

  /** per-group inner products <a_g, b_g> */
  private dots(a: Map<string, tf.Tensor>, b: Map<string, tf.Tensor>): Float64Array {
    const grouped = [...a].filter(([n]) => this.index.grouped(n));
    return this.index.groupSums(new Map(grouped.map(([n, t]) => [n, tf.mul(t, b.get(n)!)] as const)));
  }

  /** group norms of the tensors in `t` */
  private norms(t: Map<string, tf.Tensor>): Float64Array {
    return this.dots(t, t).map(Math.sqrt);
  }

  /** x - lr (d + coef_g x) with the per-group coefficient coef_g = lambda_g / ||x_g|| */
  private penalisedStep(x: Map<string, tf.Variable>, d: Map<string, tf.Tensor>, lr: number, coef: ArrayLike<number>): Map<string, tf.Tensor> {
    const xt = new Map<string, tf.Tensor>();
    for (const [name, v] of x) {
      let s = d.get(name)!;
      if (this.index.grouped(name)) s = tf.add(s, tf.mul(v, this.index.broadcast(name, coef, 0)));
      xt.set(name, tf.sub(v, tf.mul(s, lr)));
    }
    return xt;
  }

  /** x_g <- factor_g * t_g for grouped entries, t elsewhere */
  private assignScaled(x: Map<string, tf.Variable>, t: Map<string, tf.Tensor>, factor: ArrayLike<number>): void {
    for (const [name, v] of x) {
      const value = t.get(name)!;
      v.assign(this.index.grouped(name) ? tf.mul(value, this.index.broadcast(name, factor, 1)) : value);
    }
  }

  /** Prox-SG: group soft-thresholding of u = x - lr d */
  private proxStep(x: Map<string, tf.Variable>, d: Map<string, tf.Tensor>, lr: number): void {
    const u = this.plainStep(x, d, lr);
    const factor = this.norms(u).map((n, g) => {
      const threshold = lr * this.lambdas[g];
      return n > threshold ? 1 - threshold / n : 0;
    });
    this.assignScaled(x, u, factor);
  }

  /**
   * Half-space step: s = d + lambda_g x/||x||, then groups whose new value leaves
   * the half-space {<z, x_g> >= eps ||x_g||^2} go to zero. `lambdas` (dhspg) gives
   * a per-group lambda (0: no penalty, no projection); null means lambda for all.
   * Groups with `alive` 0 go to zero whatever the step.
   */
  private halfSpaceStep(x: Map<string, tf.Variable>, d: Map<string, tf.Tensor>, lr: number, lambdas: Float64Array | null, alive?: ArrayLike<number>): void {
    const eps = this.config.epsilon ?? 0;
    const norm = this.norms(x);
    const xt = this.penalisedStep(x, d, lr, norm.map((n, g) => (n > 0 ? (lambdas ?? this.lambdas)[g] / n : 0)));
    const dots = this.dots(xt, x);
    const factor = norm.map((n, g) => {
      if (n === 0 || alive?.[g] === 0) return 0; // zero groups stay zero
      const projected = lambdas === null || lambdas[g] > 0;
      return projected && dots[g] < eps * n * n ? 0 : 1;
    });
    this.assignScaled(x, xt, factor);
  }

  /** OBProx-SG, Prox-SG stage: elementwise soft-thresholding of the grouped variables */
  private l1ProxStep(x: Map<string, tf.Variable>, d: Map<string, tf.Tensor>, lr: number): void {
    const u = this.plainStep(x, d, lr);
    const threshold = lr * this.config.lambda;
    for (const [name, v] of x) {
      const value = u.get(name)!;
      v.assign(this.index.grouped(name) ? tf.mul(tf.sign(value), tf.relu(tf.sub(tf.abs(value), threshold))) : value);
    }
  }

  /** OBProx-SG, orthant stage: step inside the current orthant; sign changes go to zero */
  private orthantStep(x: Map<string, tf.Variable>, d: Map<string, tf.Tensor>, lr: number): void {
    for (const [name, v] of x) {
      const dn = d.get(name)!;
      if (!this.index.grouped(name)) {
        v.assign(tf.sub(v, tf.mul(dn, lr)));
        continue;
      }
      const zeta = tf.sign(v);
      const xt = tf.sub(v, tf.mul(tf.add(dn, tf.mul(zeta, this.config.lambda)), lr));
      v.assign(tf.where(tf.equal(tf.sign(xt), zeta), xt, tf.zerosLike(xt)));
    }
  }

  /** DHSPG: penalise only the chosen groups until the target sparsity is reached */
  private dhspgStep(x: Map<string, tf.Variable>, d: Map<string, tf.Tensor>, lr: number): void {
    const c = this.config;
    const start = c.pruneStart ?? 0;
    if (this.t < start) {
      this.assignScaled(x, this.plainStep(x, d, lr), new Float64Array(this.index.groupCount).fill(1));
      return;
    }
    const periods = c.prunePeriods ?? 1;
    const end = c.pruneEnd ?? Infinity;
    // periods split [start, end); without an end there is only one
    const period = Number.isFinite(end) ? Math.min(periods - 1, Math.floor(((this.t - start) * periods) / Math.max(1, end - start))) : 0;
    // a new period projects the groups chosen so far (zero groups stay zero) and chooses the next share
    let earlier: Uint8Array | null = null;
    if (this.penalised === null || (this.t < end && this.periodsChosen <= period)) {
      earlier = this.penalised ?? new Uint8Array(this.index.groupCount);
      this.penalised = this.choosePenalised(x, d, earlier, (period + 1) / periods);
      this.periodsChosen = period + 1;
    }
    const norm = this.norms(x);
    if (this.t >= end) {
      // the pruning period is over: any penalised group still non-zero is projected now
      const factor = norm.map((_, g) => (this.penalised![g] ? 0 : 1));
      this.assignScaled(x, this.plainStep(x, d, lr), factor);
      return;
    }
    const inner = this.dots(x, d);
    const dNorm2 = this.dots(d, d);
    const lambdas = norm.map((n, g) => {
      if (!this.penalised![g] || n === 0) return 0;
      if (inner[g] >= 0) return this.lambdas[g];
      // <x, d> < 0: the plain step grows the group; pick lambda in (lb, ub) so that
      // the step shrinks it while staying a descent direction
      const lb = -inner[g] / n;
      const ub = (-dNorm2[g] * n) / inner[g];
      return Math.min(Math.max(this.lambdas[g], lb * 1.1), 0.5 * (lb + ub));
    });
    const alive = norm.map((n, g) => (n === 0 || earlier?.[g] ? 0 : 1));
    if (this.t < (c.switchStep ?? start)) {
      // before projections start: the penalised step alone (zero groups stay zero)
      const xt = this.penalisedStep(x, d, lr, norm.map((n, g) => (n > 0 ? lambdas[g] / n : 0)));
      this.assignScaled(x, xt, alive);
      return;
    }
    this.halfSpaceStep(x, d, lr, lambdas, alive);
  }

  /**
   * OTOv2's redundancy score: groups whose direction points towards the origin and
   * whose magnitude per scalar is small come first. Beside the `chosen` ones, take
   * groups in that order until `share` of the target (groups, or MACs saved) is met.
   */
  private choosePenalised(x: Map<string, tf.Variable>, d: Map<string, tf.Tensor>, chosen: Uint8Array, share: number): Uint8Array {
    const G = this.index.groupCount;
    const norm = this.norms(x);
    const dNorm = this.norms(d);
    const inner = this.dots(x, d);
    // zero groups cost nothing to remove and come first; the others are scored among themselves
    const candidates = [...norm.keys()].filter((g) => !chosen[g]);
    const scored = candidates.filter((g) => norm[g] > 0);
    const normalised = (value: (g: number) => number) => {
      const v = scored.map(value);
      const lo = Math.min(...v);
      const hi = Math.max(...v);
      return new Map(scored.map((g, i) => [g, hi > lo ? (v[i] - lo) / (hi - lo) : 0]));
    };
    const nc = normalised((g) => (dNorm[g] > 0 ? inner[g] / (norm[g] * dNorm[g]) : 0));
    const nm = normalised((g) => this.index.sizes[g] / norm[g]);
    const target = this.config.targetMacs;
    // towards a MACs target, redundancy counts in proportion to the compute a group costs
    const meanMacs = target ? target.totalMacs / G : 1;
    const rank = new Float64Array(G).fill(Infinity);
    for (const g of scored) rank[g] = (0.5 * nc.get(g)! + 0.5 * nm.get(g)!) * (target ? target.groupMacs[g] / meanMacs : 1);
    let order = candidates.sort((a, b) => rank[b] - rank[a] || a - b);
    const layers = this.config.groupLayers;
    if (layers) {
      // the fraction of its layer each group's removal would reach: lowest first
      const size = new Map<number, number>();
      const taken = new Map<number, number>();
      for (let g = 0; g < G; g++) {
        size.set(layers[g], (size.get(layers[g]) ?? 0) + 1);
        if (chosen[g]) taken.set(layers[g], (taken.get(layers[g]) ?? 0) + 1);
      }
      const reach = new Float64Array(G);
      for (const g of order) {
        taken.set(layers[g], (taken.get(layers[g]) ?? 0) + 1);
        reach[g] = taken.get(layers[g])! / size.get(layers[g])!;
      }
      order = order.map((g, i) => [g, i] as const).sort((a, b) => reach[a[0]] - reach[b[0]] || a[1] - b[1]).map(([g]) => g);
    }
    const result = Uint8Array.from(chosen);
    const picked = [...result.keys()].filter((g) => result[g]);
    const done = target
      ? () => target.removedMacs(picked) >= share * target.fraction * target.totalMacs
      : () => picked.length >= Math.round(share * this.config.targetSparsity! * G);
    for (const g of order) {
      if (done()) break;
      picked.push(g);
      result[g] = 1;
    }
    return result;
  }

  /** Zero groups, group sparsity and the sum of group norms of `variables` now. */
  stats(variables: readonly tf.Variable[]): GroupStats {
    tf.engine().startScope();
    try {
      const norm = this.norms(new Map(variables.map((v) => [v.name, v as tf.Tensor])));
      const zeroGroups = norm.filter((n) => n === 0).length;
      const stats: GroupStats = {
        groups: norm.length,
        zeroGroups,
        groupSparsity: norm.length ? zeroGroups / norm.length : 0,
        normSum: norm.reduce((a, b) => a + b, 0),
      };
      if (this.config.method === 'obproxsg') {
        let nonZero = 0;
        let total = 0;
        for (const v of variables) {
          if (!this.index.grouped(v.name)) continue;
          nonZero += tf.sum(tf.cast(tf.notEqual(v, 0), 'float32')).dataSync()[0];
          total += v.size;
        }
        stats.density = total ? nonZero / total : 1;
      }
      return stats;
    } finally {
      tf.engine().endScope();
    }
  }

  getState(): SparseState {
    return {
      name: this.name,
      method: this.config.method,
      step: this.t,
      penalised: this.penalised ? Array.from(this.penalised) : null,
      periodsChosen: this.periodsChosen,
      slots: this.dir.slots.snapshot(),
    };
  }

  setState(saved: OptimizerState, variables: readonly tf.Variable[]): void {
    const state = saved as SparseState;
    if (state.method !== this.config.method) throw new Error(`state of a ${state.method} run cannot resume ${this.config.method}`);
    this.t = state.step;
    if (this.dir instanceof AdamDirection) this.dir.step = state.step;
    this.penalised = state.penalised ? Uint8Array.from(state.penalised) : null;
    // states saved before pruning periods existed chose their one period at once
    this.periodsChosen = state.periodsChosen ?? (this.penalised ? 1 : 0);
    this.dir.slots.restoreAll(state.slots, variables);
  }

  dispose(): void {
    this.dir.slots.dispose();
    tf.dispose([...this.masks.values()]);
    this.masks.clear();
  }
}
