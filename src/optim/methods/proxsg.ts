// Prox-SG (docs/DESIGN.md, "Optimizers"): group soft-thresholding of the plain step,
// x_g <- max(0, 1 - lr lambda_g / ||u_g||) u_g with u = x - lr d.
import type { GroupIndex } from '../group_index.js';
import type { Tensors, Variables } from '../group_ops.js';
import { penaltyOver, SparseOptimizer, type SparseCommon } from '../sparse_optimizer.js';

export interface ProxSgConfig extends SparseCommon {
  method: 'proxsg';
  /** the step at which the penalty stops; from then on zero groups stay zero and the others train freely (default: never) */
  penaltyEnd?: number;
}

export class ProxSg extends SparseOptimizer {
  constructor(
    index: GroupIndex,
    readonly config: ProxSgConfig,
  ) {
    super(index, 'proxsg', config);
  }

  protected update(x: Variables, d: Tensors, lr: number): void {
    if (penaltyOver(this.config.penaltyEnd, this.t)) this.ops.survivorStep(x, d, lr);
    else this.ops.proxStep(x, d, lr, this.lambdas);
  }
}
