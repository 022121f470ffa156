// OBProx-SG (docs/DESIGN.md, "Optimizers"), unstructured l1: elementwise
// soft-thresholding until the orthant start, then steps inside the current orthant
// where a coordinate whose sign would change goes to zero.
import * as tf from '@tensorflow/tfjs-core';
import type { GroupIndex } from '../group_index.js';
import type { Tensors, Variables } from '../group_ops.js';
import { SparseOptimizer, type GroupStats, type SparseCommon } from '../sparse_optimizer.js';
import type { MethodSpec } from '../method_spec.js';

export interface ObProxSgConfig extends SparseCommon {
  method: 'obproxsg';
  /** the step at which orthant steps replace Prox-SG steps (default 0) */
  orthantStart?: number;
}

export const obProxSgSpec: MethodSpec<ObProxSgConfig> = {
  settings: ['switchEpoch'],
  target: 'none',
  costWeighting: false,
  config: (job, b) => ({ method: 'obproxsg', ...b.common, orthantStart: b.at(job.switchEpoch ?? job.epochs / 4) }),
};

export class ObProxSg extends SparseOptimizer {
  constructor(
    index: GroupIndex,
    readonly config: ObProxSgConfig,
  ) {
    super(index, 'obproxsg', config);
  }

  protected update(x: Variables, d: Tensors, lr: number): void {
    if (this.t >= (this.config.orthantStart ?? 0)) this.orthantStep(x, d, lr);
    else this.l1ProxStep(x, d, lr);
  }

  /** x <- sign(u) max(|u| - lr lambda, 0) on the grouped variables, u = x - lr d */
  private l1ProxStep(x: Variables, d: Tensors, lr: number): void {
    const u = this.ops.plainStep(x, d, lr);
    const threshold = lr * this.config.lambda;
    for (const [name, v] of x) {
      const value = u.get(name)!;
      v.assign(this.index.grouped(name) ? tf.mul(tf.sign(value), tf.relu(tf.sub(tf.abs(value), threshold))) : value);
    }
  }

  /** zeta = sign(x); xt = x - lr (d + lambda zeta); coordinates whose sign changes go to zero */
  private orthantStep(x: Variables, d: Tensors, lr: number): void {
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

  /** the group statistics and the fraction of non-zero scalars in the grouped variables */
  override stats(variables: readonly tf.Variable[]): GroupStats {
    const stats = super.stats(variables);
    const grouped = variables.filter((v) => this.index.grouped(v.name));
    const nonZero = grouped.reduce((n, v) => n + tf.tidy(() => tf.sum(tf.cast(tf.notEqual(v, 0), 'float32')).dataSync()[0]), 0);
    const total = grouped.reduce((n, v) => n + v.size, 0);
    return { ...stats, density: total ? nonZero / total : 1 };
  }
}
