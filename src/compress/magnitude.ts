// The baseline the method is compared with: L1-norm filter pruning (Li et al.,
// "Pruning Filters for Efficient ConvNets", 2017) in the same framework. Train
// dense, remove in every layer the same fraction of groups with the smallest mean
// |kernel weight| (importance and allocation shared with DHSPG, src/optim) until the
// MACs target is met, then fine-tune the slim model for the rest of the epoch budget.
import type * as tfl from '@tensorflow/tfjs-layers';
import { predictRemoval, zeroInvariantGroups, type ChannelGroup, type Partition } from '../graph/groups.js';
import { groupLayerIds, keptFloors, removalOrder, takeUntil, type Allocation } from '../optim/allocation.js';
import { l1Magnitudes } from '../optim/importance.js';
import { countModel } from '../layers/count.js';
import { constructSlimModel } from '../slim/construct.js';
import { zeroOutGroups } from '../slim/zero.js';
import { evaluate, train, type EpochMetrics, type JobCallbacks, type TrainConfig } from '../train/loop.js';
import { resolveModelAndData } from '../models/resolve.js';
import type { DataOptions } from '../data/load.js';
import { applyFreeze } from '../train/frozen.js';
import type { ModelFileOptions } from '../models/resolve.js';
import { compressDefaults } from './defaults.js';

export interface MagnitudePruneJob extends Omit<TrainConfig, 'optimizer'>, DataOptions, ModelFileOptions {
  model: string;
  /** a data set's name, or a folder with one subfolder of images per class */
  data: string;
  /** dense MACs / pruned MACs to reach */
  macsRatio: number;
  /** epochs of dense training before pruning (default: half); the rest fine-tunes */
  pruneEpoch?: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  freeze?: string[];
  /** train every layer, also those the model marks trainable: false */
  trainFrozen?: boolean;
  /** 'uniform' (default): the same share of every layer; 'global': the smallest magnitudes anywhere */
  allocation?: Allocation;
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

/**
 * Removes groups with the smallest L1 magnitude until the MACs fall by `ratio`:
 * 'uniform' (Li et al.'s setting, the default) takes the same share of every layer,
 * 'global' ranks all groups together. Every layer keeps at least one group.
 */
export function chooseByMagnitude(
  partition: Partition,
  magnitudes: number[],
  macs: number,
  ratio: number,
  allocation: Allocation = 'uniform',
): ChannelGroup[] {
  const prunable = partition.groups.filter((g) => g.prunable);
  const layers = groupLayerIds(prunable);
  const order = removalOrder(
    prunable.map((_, i) => i),
    magnitudes.map((m) => -m),
    { allocation, layers, minKept: keptFloors(prunable, layers) },
  );
  const goal = macs * (1 - 1 / ratio);
  const picked = takeUntil(
    order,
    [],
    (p) =>
      predictRemoval(
        partition.graph,
        p.map((i) => prunable[i]),
      ).macs >= goal,
  );
  return picked.map((i) => prunable[i]);
}

export async function runMagnitudePruneJob(job: MagnitudePruneJob, callbacks: JobCallbacks = {}): Promise<MagnitudePruneResult> {
  if (!(job.macsRatio > 1)) throw new Error(`the MACs ratio must be above 1, got ${job.macsRatio}`);
  const { model, data } = await resolveModelAndData(job, callbacks);
  const pruneEpoch = job.pruneEpoch ?? Math.max(1, Math.floor(job.epochs / 2));
  const optimizer = {
    name: 'sgd' as const,
    momentum: job.momentum ?? compressDefaults.momentum,
    nesterov: job.nesterov,
    weightDecay: job.weightDecay,
  };
  callbacks.onStage?.('dense training');
  applyFreeze(model, job);
  const history = await train(model, data, { ...job, epochs: pruneEpoch, optimizer }, callbacks);
  const before = countModel(model);
  const denseAccuracy = history.length ? history[history.length - 1].testAccuracy : evaluate(model, data.test, data.normalization).accuracy;

  callbacks.onStage?.('L1-norm filter pruning');
  const partition = zeroInvariantGroups(model, { freeze: job.freeze });
  const prunable = partition.groups.filter((g) => g.prunable);
  const chosen = chooseByMagnitude(partition, l1Magnitudes(model, prunable), before.macs, job.macsRatio, job.allocation);
  zeroOutGroups(model, chosen);
  const slim = await constructSlimModel(model, { partition });
  model.dispose();

  const rest = job.epochs - pruneEpoch;
  if (rest > 0) {
    callbacks.onStage?.('fine-tuning');
    history.push(
      ...(await train(slim.model, data, { ...job, epochs: rest, optimizer }, callbacks)).map((m) => ({
        ...m,
        epoch: m.epoch + pruneEpoch,
      })),
    );
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
