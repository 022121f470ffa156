// Prox-SG (docs/DESIGN.md, "Optimizers"): group soft-thresholding of the plain step,
// x_g <- max(0, 1 - lr lambda_g / ||u_g||) u_g with u = x - lr d.
import type { GroupIndex } from '../group_index.js';
import type { Admit, Tensors, Variables } from '../group_ops.js';
import { PenaltyMethod, type PenaltyCommon } from '../penalty_method.js';
import type { MethodSpec } from '../method_spec.js';

export interface ProxSgConfig extends PenaltyCommon {
  method: 'proxsg';
}

export const proxSgSpec: MethodSpec<ProxSgConfig> = {
  settings: ['weighting', 'penaltyEndEpoch', 'allocation'],
  target: 'takes',
  costWeighting: true,
  config: (_job, b) => ({ method: 'proxsg', ...b.common, ...b.penalty(0) }),
};

export class ProxSg extends PenaltyMethod {
  constructor(
    index: GroupIndex,
    readonly config: ProxSgConfig,
  ) {
    super(index, 'proxsg', config);
  }

  protected penalisedUpdate(x: Variables, d: Tensors, lr: number, step: { lambdas: Float64Array; admit?: Admit }): void {
    this.ops.proxStep(x, d, lr, step.lambdas, step.admit);
  }
}
