// A compress job's target, read once from its settings (targetSparsity,
// targetMacsRatio, or targetSpeedup with its runtime and batch): what the methods with
// a target aim at, how it is said, and where a speed is measured.
import { runtimeLabel, type Runtime } from '../metrics/speed.js';
import { speedDefaults } from './defaults.js';
import type { CompressJob } from './types.js';

/** Where a speed is measured: a runtime at a batch size. */
export interface SpeedSetting {
  runtime: Runtime;
  batch: number;
}

export type Target =
  /** a share of the prunable groups */
  | { kind: 'sparsity'; fraction: number }
  /** dense MACs over slim MACs */
  | { kind: 'macs'; ratio: number }
  /** the slim model's speed-up in a runtime, predicted from latency tables */
  | ({ kind: 'speedup'; ratio: number } & SpeedSetting);

/** Where `job` measures speed: its speed target's runtime and batch, or (roundChannels 'auto') the same defaults. */
export function speedSetting(job: Pick<CompressJob, 'runtime' | 'speedBatch'>): SpeedSetting {
  return { runtime: job.runtime ?? speedDefaults.runtime, batch: job.speedBatch ?? speedDefaults.speedBatch };
}

/** The target `job` gives, if any (checkCompressJob refuses two). */
export function targetOf(
  job: Pick<CompressJob, 'targetSparsity' | 'targetMacsRatio' | 'targetSpeedup' | 'runtime' | 'speedBatch'>,
): Target | undefined {
  if (job.targetSpeedup !== undefined) return { kind: 'speedup', ratio: job.targetSpeedup, ...speedSetting(job) };
  if (job.targetMacsRatio !== undefined) return { kind: 'macs', ratio: job.targetMacsRatio };
  if (job.targetSparsity !== undefined) return { kind: 'sparsity', fraction: job.targetSparsity };
  return undefined;
}

/** The dense-to-slim ratio of the cost a target counts (MACs, or latency); none for a sparsity. */
export function costRatio(target: Target | undefined): number | undefined {
  return target && target.kind !== 'sparsity' ? target.ratio : undefined;
}

/** A target as people say it: "a 2x speed-up (ONNX Runtime at batch 64)", "3x fewer MACs", "a group sparsity of 0.5". */
export function describeTarget(target: Target): string {
  switch (target.kind) {
    case 'speedup':
      return `a ${target.ratio}x speed-up (${runtimeLabel(target.runtime)} at batch ${target.batch})`;
    case 'macs':
      return `${target.ratio}x fewer MACs`;
    case 'sparsity':
      return `a group sparsity of ${target.fraction}`;
  }
}
