// What a target-driven method (DHSPG, HESSO) removes: a share of the groups or of the
// MACs, and the choice of the next groups towards it given a priority per group
// (an importance criterion, importance.ts) and an allocation (allocation.ts).
import { removalOrder, takeUntil, type Allocation } from './allocation.js';

/** What to remove: a fraction of the groups, or of a cost (the MACs, a predicted latency). */
export type PruneTarget =
  | { kind: 'groups'; fraction: number }
  | {
      kind: 'cost';
      /** what is counted, for messages: 'MACs', 'latency' */
      unit: string;
      /** of `total`, in (0, 1) */
      fraction: number;
      /** what each group saves alone */
      groupCost: ArrayLike<number>;
      total: number;
      /** the exact joint saving of removing these groups together */
      removed: (groups: readonly number[]) => number;
    };

export function checkTarget(target: PruneTarget, method: string): void {
  const f = target.fraction;
  if (target.kind === 'groups' && !(f >= 0 && f < 1)) throw new Error(`${method} needs a target sparsity in [0, 1), got ${f}`);
  if (target.kind === 'cost' && !(f > 0 && f < 1)) throw new Error(`the ${target.unit} fraction to remove must be in (0, 1), got ${f}`);
}

export interface ChoiceSettings {
  target: PruneTarget;
  /** default 'global' */
  allocation?: Allocation;
  /** the layer of every group (allocation.ts groupLayerIds); needed by 'uniform', and keeps every layer alive */
  groupLayers?: ArrayLike<number>;
  /** groups each layer keeps at the least (allocation.ts keptFloors): tied families keep a share */
  minKept?: ReadonlyMap<number, number>;
}

/**
 * `removability` (higher = remove sooner; Infinity for zero groups, which cost nothing)
 * times, towards a cost target (MACs, latency), what the group costs over the mean.
 */
export function targetPriority(target: PruneTarget, removability: ArrayLike<number>): Float64Array {
  const G = removability.length;
  const cost = (g: number) => (target.kind === 'cost' ? target.groupCost[g] / (target.total / G) : 1);
  return Float64Array.from({ length: G }, (_, g) => (removability[g] === Infinity ? Infinity : removability[g] * cost(g)));
}

/** Whether a set of groups removes `share` of the target (a count, or the exact cost they save together). */
export function targetMet(target: PruneTarget, groupCount: number, share: number): (groups: readonly number[]) => boolean {
  return target.kind === 'cost'
    ? (p) => target.removed(p) >= share * target.fraction * target.total
    : (p) => p.length >= Math.round(share * target.fraction * groupCount);
}

/**
 * Beside the `chosen` groups, `candidates` (default: all others) to remove next, by
 * targetPriority and the allocation, never below a layer's floor, until `share` of
 * the target is met.
 */
export function chooseTowardsTarget(
  removability: ArrayLike<number>,
  chosen: Uint8Array,
  share: number,
  settings: ChoiceSettings,
  candidates: readonly number[] = [...chosen.keys()].filter((g) => !chosen[g]),
): Uint8Array {
  const G = chosen.length;
  const order = removalOrder(candidates, targetPriority(settings.target, removability), {
    allocation: settings.allocation ?? 'global',
    layers: settings.groupLayers,
    minKept: settings.minKept,
    removed: chosen,
  });
  const picked = [...chosen.keys()].filter((g) => chosen[g]);
  const result = new Uint8Array(G);
  for (const g of takeUntil(order, picked, targetMet(settings.target, G, share))) result[g] = 1;
  return result;
}

/**
 * The most a target can get: the share of it that removing every group the floors
 * allow achieves (1 or more: reachable). A choice can never remove more, so a target
 * beyond it would take every layer to its floor and still fall short.
 */
export function reachableShare(settings: ChoiceSettings, groupCount: number): number {
  const all = Array.from({ length: groupCount }, (_, g) => g);
  const most = removalOrder(all, new Float64Array(groupCount).fill(1), {
    allocation: 'global',
    layers: settings.groupLayers,
    minKept: settings.minKept,
  });
  const target = settings.target;
  return target.kind === 'cost'
    ? target.removed(most) / (target.fraction * target.total)
    : most.length / Math.round(target.fraction * groupCount);
}
