// How a compress job becomes one method's configuration: each method file exports a
// MethodSpec (the job settings it reads, whether it takes a target, its config in
// steps), so that adding a method is a file and a line in sparse.ts. The job's
// settings come in epochs; a MethodBuild turns them into steps and holds what every
// method shares.
import type { Allocation } from './allocation.js';
import type { PenaltyCommon } from './penalty_method.js';
import type { SparseCommon } from './sparse_optimizer.js';
import type { ChoiceSettings } from './target.js';

/** The job settings a method may read beside lambda, the step direction and SGD's; epochs may be fractional. */
export interface MethodSettings {
  epochs: number;
  /** hspg, dhspg: the half-space threshold in [0, 1) (default 0) */
  epsilon?: number;
  /**
   * hspg/obproxsg: epoch at which the second stage starts (default: a quarter of the
   * epochs); dhspg: at which projections start (default: pruneStartEpoch)
   */
  switchEpoch?: number;
  /** proxsg/hspg: epoch at which the penalty stops and the surviving groups train freely */
  penaltyEndEpoch?: number;
  /** dhspg/hesso: epochs at which pruning starts and by which the chosen groups are zero */
  pruneStartEpoch?: number;
  pruneEndEpoch?: number;
  /** dhspg/hesso: periods the pruning is split into, each choosing and removing its share of the target (default 1) */
  prunePeriods?: number;
  /**
   * with a target: 'global' ranks all groups together; 'uniform' takes the same fraction of
   * every layer's groups (default 'global')
   */
  allocation?: Allocation;
  /**
   * 'uniform': one lambda for every group (the papers' setting); 'macs': lambda scaled
   * by the MACs a group costs over the mean, so the penalty targets compute
   */
  weighting?: 'uniform' | 'macs' | 'sqrt-macs';
}

/** proxsg/hspg given a target meet it by this share of the epochs (unless penaltyEndEpoch says otherwise) */
export const TARGET_BY = 0.5;

/** What every method's configuration is built from, for one job and model. */
export interface MethodBuild {
  /** the step at which `epoch` (fractional) starts */
  at(epoch: number): number;
  /** lambda, the step direction, SGD's settings and the group weights */
  common: SparseCommon;
  /** the target's choice: what to remove and how it is allocated (refused when no choice can meet it) */
  choice(): ChoiceSettings;
  /** a penalty method's end: towards the target from step `from`, or at penaltyEndEpoch */
  penalty(from: number): Pick<PenaltyCommon, 'lambdaTarget' | 'penaltyEnd'>;
}

export interface MethodSpec<Config> {
  /** the job settings it reads (beside lambda, the step direction and SGD's); the CLI refuses the others */
  settings: readonly (keyof MethodSettings)[];
  /** 'needs' a target (targetSparsity, targetMacsRatio or targetSpeedup), 'takes' one, or 'none' */
  target: 'needs' | 'takes' | 'none';
  /** a group penalty that, aimed at a cost target, weighs each group by the compute it frees (weighting 'sqrt-macs' by default) */
  costWeighting: boolean;
  config(job: MethodSettings, build: MethodBuild): Config;
  /** refuses settings that contradict each other for this method; `nameOf` says a setting as the caller knows it */
  check?(job: MethodSettings & { targeted: boolean }, nameOf: (setting: keyof MethodSettings) => string): void;
}
