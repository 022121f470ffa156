// HSPG, the paper's optimizer (docs/DESIGN.md, "Optimizers"): Prox-SG until the
// half-space start N_P finds a good initial point, then half-space steps that send a
// group to exactly zero when its penalised step leaves {<z, x_g> >= eps ||x_g||^2}.
import type { GroupIndex } from '../group_index.js';
import type { Admit, Tensors, Variables } from '../group_ops.js';
import { PenaltyMethod, type PenaltyCommon } from '../penalty_method.js';
import { TARGET_BY, type MethodSpec } from '../method_spec.js';

export interface HspgConfig extends PenaltyCommon {
  method: 'hspg';
  /** half-space threshold in [0, 1): larger values zero more groups (default 0) */
  epsilon?: number;
  /** the step N_P at which half-space steps replace Prox-SG (default 0) */
  halfSpaceStart?: number;
}

export const hspgSpec: MethodSpec<HspgConfig> = {
  settings: ['weighting', 'epsilon', 'switchEpoch', 'penaltyEndEpoch', 'allocation'],
  target: 'takes',
  costWeighting: true,
  config: (job, b) => {
    const halfSpaceStart = b.at(job.switchEpoch ?? job.epochs / 4);
    return { method: 'hspg', ...b.common, epsilon: job.epsilon, halfSpaceStart, ...b.penalty(halfSpaceStart) };
  },
  check: (job, nameOf) => {
    if (!job.targeted) return;
    const start = job.switchEpoch ?? job.epochs / 4;
    const by = job.penaltyEndEpoch ?? job.epochs * TARGET_BY;
    if (!(start < by))
      throw new Error(
        `with a target, hspg's half-space steps (${nameOf('switchEpoch')} ${start}) must start before ${nameOf('penaltyEndEpoch')} ${by}`,
      );
  },
};

export function checkEpsilon(epsilon: number | undefined): number {
  const eps = epsilon ?? 0;
  if (!(eps >= 0 && eps < 1)) throw new Error(`epsilon must be in [0, 1), got ${eps}`);
  return eps;
}

export class Hspg extends PenaltyMethod {
  private readonly epsilon: number;

  constructor(
    index: GroupIndex,
    readonly config: HspgConfig,
  ) {
    super(index, 'hspg', config);
    this.epsilon = checkEpsilon(config.epsilon);
  }

  protected penalisedUpdate(
    x: Variables,
    d: Tensors,
    lr: number,
    step: { lambdas: Float64Array; norm: Float64Array; admit?: Admit },
  ): void {
    if (this.t >= (this.config.halfSpaceStart ?? 0)) {
      this.ops.halfSpaceStep(x, d, lr, { ...step, epsilon: this.epsilon, projected: () => true });
    } else {
      this.ops.proxStep(x, d, lr, step.lambdas, step.admit);
    }
  }
}
