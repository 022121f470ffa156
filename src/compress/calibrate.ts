// Latency tables checked on whole models (docs/DESIGN.md, "Speed targets"). The tables
// time layers alone, as absolute times taken minutes apart, and the machine's pace
// drifts between them; a speed-up timed as a ratio, the two models in alternating
// rounds, holds far better. So before training, the model is slimmed uniformly to half
// of what the layer floors allow and to all of it, each slim model is timed against the
// model, and the tables' predictions are mapped onto what was measured.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ChannelGroup, Partition } from '../graph/groups.js';
import type { CalibrationPoint, CostModel } from '../metrics/cost.js';
import { compareSpeed, runtimeLabel, type Runtime } from '../metrics/speed.js';
import { groupLayerIds, keptFloors, removalOrder } from '../optim/allocation.js';
import { constructSlimModel } from '../slim/construct.js';
import { zeroOutGroups } from '../slim/zero.js';
import type { ProgressListener } from '../util/progress.js';

/** How many times faster `slim` runs than `model`, measured; calibrateLatency takes another in tests. */
export type RatioMeter = (model: tfl.LayersModel, slim: tfl.LayersModel) => Promise<number>;

export interface CalibrationOptions {
  runtime: Runtime;
  batch: number;
  meter?: RatioMeter;
  onStage?: (stage: string) => void;
  onProgress?: ProgressListener;
}

/** the shares of the removable groups the calibration models remove */
const LEVELS = [0.5, 1];

/** `model` without `groups`, built on a copy of its weights with those groups zeroed */
async function slimmedTo(model: tfl.LayersModel, partition: Partition, groups: readonly ChannelGroup[]): Promise<tfl.LayersModel> {
  const weights = model.getWeights().map((w) => w.clone());
  try {
    zeroOutGroups(model, groups);
    return (await constructSlimModel(model, { partition })).model;
  } finally {
    model.setWeights(weights);
    tf.dispose(weights);
  }
}

/**
 * Piecewise linear through (0, 0), the points and (1, 1), after making the measured
 * shares rise with the predicted ones (a noisy point may not undo an order the
 * tables and the MACs agree on).
 */
export function calibrationMap(points: readonly CalibrationPoint[]): (predicted: number) => number {
  const knots = [{ predicted: 0, measured: 0 }, ...points.filter((p) => p.predicted > 0 && p.predicted < 1), { predicted: 1, measured: 1 }]
    .sort((a, b) => a.predicted - b.predicted)
    .filter((p, i, all) => i === 0 || p.predicted > all[i - 1].predicted);
  for (let k = knots.length - 2; k > 0; k--) knots[k] = { ...knots[k], measured: Math.min(knots[k].measured, knots[k + 1].measured) };
  return (p) => {
    if (p >= 1) return p;
    let k = 1;
    while (knots[k].predicted < p) k++;
    const [a, b] = [knots[k - 1], knots[k]];
    return a.measured + ((b.measured - a.measured) * (p - a.predicted)) / (b.predicted - a.predicted);
  };
}

/**
 * `cost` (a latency table's) with its savings mapped onto speed-ups measured on whole
 * models slimmed uniformly within the layer floors; `checks` holds the points.
 */
export async function calibrateLatency(
  model: tfl.LayersModel,
  partition: Partition,
  cost: CostModel,
  options: CalibrationOptions,
): Promise<CostModel & { checks: CalibrationPoint[] }> {
  const meter =
    options.meter ??
    (async (base, slim) =>
      (
        await compareSpeed(base, slim, options.runtime, {
          batch: options.batch,
          // fewer runs than a result's measurement: this one only has to place two points, on models that may be large
          repeats: 3,
          window: 3,
          maxSeconds: 30,
          onProgress: options.onProgress,
        })
      ).ratio);
  const prunable = partition.groups.filter((g) => g.prunable);
  const layers = groupLayerIds(prunable);
  const order = removalOrder(
    prunable.map((_, g) => g),
    new Float64Array(prunable.length),
    { allocation: 'uniform', layers, minKept: keptFloors(prunable, layers) },
  );
  options.onStage?.(
    `latency table checked on ${LEVELS.length} slimmed models, timed against the model (${runtimeLabel(options.runtime)} at batch ${options.batch})`,
  );
  const points: CalibrationPoint[] = [];
  for (const level of LEVELS) {
    const groups = order.slice(0, Math.round(level * order.length)).map((g) => prunable[g]);
    if (groups.length === 0) continue;
    const slim = await slimmedTo(model, partition, groups);
    try {
      points.push({ predicted: 1 - cost.saved(groups) / cost.total, measured: 1 / (await meter(model, slim)) });
    } finally {
      slim.dispose();
    }
  }
  const map = calibrationMap(points);
  return { ...cost, checks: points, saved: (groups) => cost.total * (1 - map(1 - cost.saved(groups) / cost.total)) };
}
