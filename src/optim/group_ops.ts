// The operations every group-sparse method is built from (docs/DESIGN.md,
// "Optimizers"): per-group inner products and norms, the plain and the penalised
// step, group soft-thresholding and the half-space projection. Each takes the
// variables `x` and their step directions `d` by variable name; call inside tf.tidy.
import * as tf from '@tensorflow/tfjs-core';
import type { GroupIndex } from './group_index.js';

export type Tensors = Map<string, tf.Tensor>;
export type Variables = Map<string, tf.Variable>;

export class GroupOps {
  constructor(readonly index: GroupIndex) {}

  get groupCount(): number {
    return this.index.groupCount;
  }

  /** per-group inner products <a_g, b_g> */
  dots(a: Tensors, b: Tensors): Float64Array {
    const grouped = [...a].filter(([n]) => this.index.grouped(n));
    return this.index.groupSums(new Map(grouped.map(([n, t]) => [n, tf.mul(t, b.get(n)!)] as const)));
  }

  /** group norms ||t_g|| */
  norms(t: Tensors): Float64Array {
    return this.dots(t, t).map(Math.sqrt);
  }

  /** u = x - lr d */
  plainStep(x: Variables, d: Tensors, lr: number): Tensors {
    const u: Tensors = new Map();
    for (const [name, v] of x) u.set(name, tf.sub(v, tf.mul(d.get(name)!, lr)));
    return u;
  }

  /** x - lr (d + coef_g x) with a per-group coefficient coef_g (lambda_g / ||x_g|| for the group-lasso gradient) */
  penalisedStep(x: Variables, d: Tensors, lr: number, coef: ArrayLike<number>): Tensors {
    const xt: Tensors = new Map();
    for (const [name, v] of x) {
      let s = d.get(name)!;
      if (this.index.grouped(name)) s = tf.add(s, tf.mul(v, this.index.broadcast(name, coef, 0)));
      xt.set(name, tf.sub(v, tf.mul(s, lr)));
    }
    return xt;
  }

  /** x_g <- factor_g * t_g for grouped entries, t elsewhere */
  assignScaled(x: Variables, t: Tensors, factor: ArrayLike<number>): void {
    for (const [name, v] of x) {
      const value = t.get(name)!;
      v.assign(this.index.grouped(name) ? tf.mul(value, this.index.broadcast(name, factor, 1)) : value);
    }
  }

  /** the untrained entries of the groups that are zero in `x` now go to zero too */
  zeroResets(x: Variables): void {
    if (this.index.resets.length === 0) return;
    const alive = this.norms(x).map((n) => (n === 0 ? 0 : 1));
    for (const r of this.index.resets) {
      const keep = Float32Array.from(r.groupOf, (g) => (g < 0 ? 1 : alive[g]));
      if (keep.every((k) => k === 1)) continue;
      const shape = r.variable.shape.map((d, a) => (a === r.axis ? d : 1));
      r.variable.assign(tf.mul(r.variable, tf.tensor(keep, shape)));
    }
  }

  /** the plain step for every variable (no penalty, no projection) */
  assignPlainStep(x: Variables, d: Tensors, lr: number, factor?: ArrayLike<number>): void {
    this.assignScaled(x, this.plainStep(x, d, lr), factor ?? new Float64Array(this.groupCount).fill(1));
  }

  /** the plain step, except that zero groups stay zero (a method's penalty has ended) */
  survivorStep(x: Variables, d: Tensors, lr: number): void {
    this.assignPlainStep(
      x,
      d,
      lr,
      this.norms(x).map((n) => (n === 0 ? 0 : 1)),
    );
  }

  /**
   * Prox-SG: u = x - lr d, then x_g <- max(0, 1 - lr lambda_g / ||u_g||) u_g. Of the
   * non-zero groups this would zero, those `admit` refuses take the plain step.
   */
  proxStep(x: Variables, d: Tensors, lr: number, lambdas: ArrayLike<number>, admit?: Admit): void {
    const u = this.plainStep(x, d, lr);
    const factor = this.norms(u).map((n, g) => {
      const threshold = lr * lambdas[g];
      return n > threshold ? 1 - threshold / n : 0;
    });
    if (admit) refuse(factor, this.norms(x), admit);
    this.assignScaled(x, u, factor);
  }

  /**
   * Half-space step: xt = x - lr (d + lambda_g x/||x||); groups with `projected(g)`
   * whose xt leaves the half-space {<z, x_g> >= eps ||x_g||^2} go to zero. Zero
   * groups and groups with `alive` 0 go (or stay) at zero whatever the step.
   */
  halfSpaceStep(
    x: Variables,
    d: Tensors,
    lr: number,
    step: {
      lambdas: ArrayLike<number>;
      epsilon: number;
      projected: (g: number) => boolean;
      alive?: ArrayLike<number>;
      /** ||x_g||, where the caller has it already (each norm reads every grouped variable back) */
      norm?: Float64Array;
      /** of the non-zero groups the step would project, those it may (a target's budget); default all */
      admit?: Admit;
    },
  ): void {
    const norm = step.norm ?? this.norms(x);
    const xt = this.penalisedStep(
      x,
      d,
      lr,
      norm.map((n, g) => (n > 0 ? step.lambdas[g] / n : 0)),
    );
    const dots = this.dots(xt, x);
    const factor = norm.map((n, g) => {
      if (n === 0 || step.alive?.[g] === 0) return 0; // zero groups stay zero
      return step.projected(g) && dots[g] < step.epsilon * n * n ? 0 : 1;
    });
    if (step.admit) refuse(factor, norm, step.admit);
    this.assignScaled(x, xt, factor);
  }
}

/** Given the non-zero groups a step would send to zero, those it may. */
export type Admit = (candidates: number[]) => ReadonlySet<number>;

/** The groups a step would newly zero (factor 0, norm > 0) that `admit` refuses keep their step (factor 1). */
function refuse(factor: Float64Array, norm: ArrayLike<number>, admit: Admit): void {
  const candidates = [...factor.keys()].filter((g) => factor[g] === 0 && norm[g] > 0);
  if (candidates.length === 0) return;
  const admitted = admit(candidates);
  for (const g of candidates) if (!admitted.has(g)) factor[g] = 1;
}
