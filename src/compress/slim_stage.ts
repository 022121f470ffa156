// Stage 2 of compress: build the slim model from the sparse one and verify it. The
// construction compares outputs on its own batch (slim/construct.ts); here the
// whole test split must also be classified the same. Asked to, it first finds the
// multiple of channels per layer the runtime runs fastest.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DataSplits } from '../data/datasets.js';
import type { Partition } from '../graph/groups.js';
import { runtimeName, timeModel, WARM_UP, type Runtime } from '../metrics/speed.js';
import { stepCounter, type ProgressListener } from '../util/progress.js';
import { constructSlimModel, type SlimResult } from '../slim/construct.js';
import type { EvalResult } from '../train/metrics.js';

export interface SlimBuilt extends SlimResult {
  eval: EvalResult;
  /** test images whose predicted class differs between the sparse and the slim model */
  predictionMismatches: number;
}

export function countMismatches(a: Int32Array, b: Int32Array): number {
  return a.reduce((n, c, i) => n + (c === b[i] ? 0 : 1), 0);
}

export async function buildVerifiedSlim(
  sparse: { model: tfl.LayersModel; partition: Partition; eval: EvalResult },
  data: DataSplits,
  measure: (model: tfl.LayersModel) => EvalResult,
  roundTo?: number,
): Promise<SlimBuilt> {
  const slim = await constructSlimModel(sparse.model, { partition: sparse.partition, roundTo });
  const slimEval = measure(slim.model);
  const predictionMismatches = countMismatches(sparse.eval.predictions, slimEval.predictions);
  // A flipped prediction or two can come from float32 round-off between near-equal
  // logits; more means the slim model is not the sparse one.
  if (predictionMismatches > Math.max(1, data.test.count / 1000)) {
    slim.model.dispose();
    throw new Error(`the slim model predicts a different class than the sparse model for ${predictionMismatches} test images`);
  }
  return { ...slim, eval: slimEval, predictionMismatches };
}

/** the multiples of channels per layer a rounding search tries */
const ROUNDINGS = [1, 2, 4, 8, 16];
/** a multiple above 1 must run at least this much faster than none: timings vary by a few percent */
const ROUNDING_GAIN = 1.03;
/** timed runs per multiple, after 3 warm-up runs */
const REPEATS = 15;

/**
 * The multiple of channels per layer (zero channels kept to fill) whose slim model
 * runs fastest in `runtime` at `batch`, measured: kernels run fastest on widths their
 * SIMD blocks divide, by how much depends on the runtime and the layer.
 */
export async function fastestRounding(
  sparse: { model: tfl.LayersModel; partition: Partition },
  runtime: Runtime,
  batch: number,
  onProgress?: ProgressListener,
): Promise<{ roundTo: number; tried: { roundTo: number; ms: number }[] }> {
  const runs = WARM_UP + REPEATS;
  const tick = stepCounter(
    onProgress,
    `timing the slim model at each multiple of channels (${runtimeName(runtime)}, batch ${batch})`,
    ROUNDINGS.length * runs,
  );
  const shape = (sparse.model.inputs[0].shape as (number | null)[]).slice(1) as number[];
  const x = tf.randomNormal([batch, ...shape], 0, 1, 'float32', 7);
  const tried: { roundTo: number; ms: number }[] = [];
  const seen = new Set<string>();
  try {
    for (const roundTo of ROUNDINGS) {
      const slim = await constructSlimModel(sparse.model, { partition: sparse.partition, roundTo });
      try {
        // a multiple every layer already meets gives the same model
        const widths = slim.removed
          .map((g) => g.id)
          .sort((a, b) => a - b)
          .join();
        if (seen.has(widths)) {
          tick(runs);
          continue;
        }
        seen.add(widths);
        tried.push({ roundTo, ms: (await timeModel(slim.model, runtime, [x], REPEATS, tick))[0] });
      } finally {
        slim.model.dispose();
      }
    }
  } finally {
    x.dispose();
  }
  const best = tried.reduce((a, b) => (b.ms < a.ms ? b : a));
  return { roundTo: best.ms * ROUNDING_GAIN < tried[0].ms ? best.roundTo : 1, tried };
}
