// Stage 2 of compress: build the slim model from the sparse one and verify it. The
// construction compares outputs on its own batch (slim/construct.ts); here the
// whole test split must also be classified the same.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DataSplits } from '../data/datasets.js';
import type { Partition } from '../graph/groups.js';
import { constructSlimModel, type SlimResult } from '../slim/construct.js';
import { evaluate } from '../train/loop.js';
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
  roundTo?: number,
): Promise<SlimBuilt> {
  const slim = await constructSlimModel(sparse.model, { partition: sparse.partition, roundTo });
  const slimEval = evaluate(slim.model, data.test, data.normalization);
  const predictionMismatches = countMismatches(sparse.eval.predictions, slimEval.predictions);
  // A flipped prediction or two can come from float32 round-off between near-equal
  // logits; more means the slim model is not the sparse one.
  if (predictionMismatches > Math.max(1, data.test.count / 1000)) {
    slim.model.dispose();
    throw new Error(`the slim model predicts a different class than the sparse model for ${predictionMismatches} test images`);
  }
  return { ...slim, eval: slimEval, predictionMismatches };
}
