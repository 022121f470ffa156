// The baseline the method is compared with: L1-norm filter pruning (Li et al.,
// "Pruning Filters for Efficient ConvNets", 2017) in the same framework. Train
// dense, remove in every layer the same fraction of groups with the smallest mean
// |kernel weight| until the MACs target is met, then fine-tune the slim model for
// the rest of the epoch budget.
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadDataset, subsetSplits } from '../data/datasets.js';
import { predictRemoval, zeroInvariantGroups, type ChannelGroup, type Partition } from '../graph/groups.js';
import { countModel } from '../metrics/count.js';
import { constructSlimModel } from '../slim/construct.js';
import { zeroOutGroups } from '../slim/zero.js';
import { evaluate, train, type EpochMetrics, type TrainCallbacks, type TrainConfig } from '../train/loop.js';
import { resolveModel } from '../train/job.js';

export interface MagnitudePruneJob extends Omit<TrainConfig, 'optimizer'> {
  model: string;
  data: string;
  /** dense MACs / pruned MACs to reach */
  macsRatio: number;
  /** epochs of dense training before pruning (default: half); the rest fine-tunes */
  pruneEpoch?: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  freeze?: string[];
  subset?: number;
}

export interface MagnitudePruneResult {
  dense: { accuracy: number; params: number; macs: number };
  pruned: { accuracy: number; params: number; macs: number };
  ratios: { params: number; macs: number };
  removedGroups: number;
  history: EpochMetrics[];
  model: tfl.LayersModel;
}

const KERNEL_ROLES = new Set(['kernel', 'depthwise_kernel', 'pointwise_kernel']);

/** mean |w| over a group's kernel slices: Li et al.'s L1 norm, per scalar so layers compare */
export function l1Scores(model: tfl.LayersModel, groups: readonly ChannelGroup[]): number[] {
  const values = new Map(model.weights.map((w) => [w.name, { data: w.read().dataSync(), shape: w.shape as number[] }]));
  return groups.map((g) => {
    let sum = 0;
    let count = 0;
    for (const s of g.slices.filter((x) => KERNEL_ROLES.has(x.role))) {
      const { data, shape } = values.get(s.variable)!;
      const inner = shape.slice(s.axis + 1).reduce((a, b) => a * b, 1);
      const picked = new Set(s.indices);
      for (let k = 0; k < data.length; k++) {
        if (picked.has(Math.floor(k / inner) % shape[s.axis])) {
          sum += Math.abs(data[k]);
          count++;
        }
      }
    }
    return count ? sum / count : Infinity;
  });
}

/**
 * Li et al.'s uniform setting: in every layer, the same fraction of its groups with
 * the smallest scores goes (never all of a layer's). The smallest fraction that
 * brings the MACs down by `ratio` is found by bisection.
 */
export function chooseByScore(partition: Partition, scores: number[], macs: number, ratio: number): ChannelGroup[] {
  const prunable = partition.groups.filter((g) => g.prunable);
  const byLayer = new Map<string, { g: ChannelGroup; score: number }[]>();
  prunable.forEach((g, i) => {
    const layer = g.channels[0]?.layer ?? g.slices[0].layer;
    byLayer.set(layer, [...(byLayer.get(layer) ?? []), { g, score: scores[i] }]);
  });
  for (const list of byLayer.values()) list.sort((a, b) => a.score - b.score);
  const pick = (fraction: number) =>
    [...byLayer.values()].flatMap((list) => list.slice(0, Math.min(list.length - 1, Math.floor(fraction * list.length))).map((e) => e.g));
  const goal = macs * (1 - 1 / ratio);
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    if (predictRemoval(partition.graph, pick(mid)).macs >= goal) hi = mid;
    else lo = mid;
  }
  return pick(hi);
}

export async function runMagnitudePruneJob(job: MagnitudePruneJob, callbacks: TrainCallbacks & { onStage?(message: string): void } = {}): Promise<MagnitudePruneResult> {
  if (!(job.macsRatio > 1)) throw new Error(`the MACs ratio must be above 1, got ${job.macsRatio}`);
  const data = subsetSplits(loadDataset(job.data), job.subset);
  const model = await resolveModel(job.model, { inputShape: data.train.shape, numClasses: data.train.numClasses }, job.seed);
  const pruneEpoch = job.pruneEpoch ?? Math.max(1, Math.floor(job.epochs / 2));
  const optimizer = { name: 'sgd' as const, momentum: job.momentum ?? 0.9, nesterov: job.nesterov, weightDecay: job.weightDecay };
  callbacks.onStage?.('dense training');
  const history = await train(model, data, { ...job, epochs: pruneEpoch, optimizer }, callbacks);
  const before = countModel(model);
  const denseAccuracy = history.length ? history[history.length - 1].testAccuracy : evaluate(model, data.test, data.normalization).accuracy;

  callbacks.onStage?.('L1-norm filter pruning');
  const partition = zeroInvariantGroups(model, { freeze: job.freeze });
  const prunable = partition.groups.filter((g) => g.prunable);
  const chosen = chooseByScore(partition, l1Scores(model, prunable), before.macs, job.macsRatio);
  zeroOutGroups(model, chosen);
  const slim = await constructSlimModel(model, { partition });
  model.dispose();

  const rest = job.epochs - pruneEpoch;
  if (rest > 0) {
    callbacks.onStage?.('fine-tuning');
    history.push(...(await train(slim.model, data, { ...job, epochs: rest, optimizer }, callbacks)).map((m) => ({ ...m, epoch: m.epoch + pruneEpoch })));
  }
  const final = evaluate(slim.model, data.test, data.normalization);
  return {
    dense: { accuracy: denseAccuracy, params: before.params, macs: before.macs },
    pruned: { accuracy: final.accuracy, params: slim.after.params, macs: slim.after.macs },
    ratios: { params: before.params / slim.after.params, macs: before.macs / slim.after.macs },
    removedGroups: slim.removed.length,
    history,
    model: slim.model,
  };
}
