// What a target-driven method (DHSPG, HESSO) removes: a share of the groups or of the
// MACs, and the choice of the next groups towards it given a priority per group
// (an importance criterion, importance.ts) and an allocation (allocation.ts).
import { removalOrder, takeUntil, type Allocation } from './allocation.js';

/** What to remove: a fraction of the groups, or of the MACs. */
export type PruneTarget =
  | { kind: 'groups'; fraction: number }
  | {
      kind: 'macs';
      /** of totalMacs, in (0, 1) */
      fraction: number;
      /** what each group saves alone */
      groupMacs: ArrayLike<number>;
      totalMacs: number;
      /** the exact joint saving of removing these groups together */
      removedMacs: (groups: readonly number[]) => number;
    };

export function checkTarget(target: PruneTarget, method: string): void {
  const f = target.fraction;
  if (target.kind === 'groups' && !(f >= 0 && f < 1)) throw new Error(`${method} needs a target sparsity in [0, 1), got ${f}`);
  if (target.kind === 'macs' && !(f > 0 && f < 1)) throw new Error(`the MACs fraction to remove must be in (0, 1), got ${f}`);
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
 * Beside the `chosen` groups, those to remove next until `share` of the target is
 * met: `removability` (higher = remove sooner; Infinity for zero groups, which cost
 * nothing) times, towards a MACs target, the compute the group costs over the mean.
 */
export function chooseTowardsTarget(
  removability: ArrayLike<number>,
  chosen: Uint8Array,
  share: number,
  settings: ChoiceSettings,
): Uint8Array {
  const G = chosen.length;
  const { target } = settings;
  const cost = (g: number) => (target.kind === 'macs' ? target.groupMacs[g] / (target.totalMacs / G) : 1);
  const priority = Float64Array.from({ length: G }, (_, g) => (removability[g] === Infinity ? Infinity : removability[g] * cost(g)));
  const candidates = [...chosen.keys()].filter((g) => !chosen[g]);
  const order = removalOrder(candidates, priority, {
    allocation: settings.allocation ?? 'global',
    layers: settings.groupLayers,
    minKept: settings.minKept,
    removed: chosen,
  });
  const picked = [...chosen.keys()].filter((g) => chosen[g]);
  const done =
    target.kind === 'macs'
      ? (p: readonly number[]) => target.removedMacs(p) >= share * target.fraction * target.totalMacs
      : (p: readonly number[]) => p.length >= Math.round(share * target.fraction * G);
  const result = new Uint8Array(G);
  for (const g of takeUntil(order, picked, done)) result[g] = 1;
  return result;
}
