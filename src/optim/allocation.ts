// Allocation: given how removable each group is (importance.ts), which groups to
// remove and in what order. 'global' ranks all groups together; 'uniform' has every
// layer give up the same share of its groups, the best candidates of each layer
// first (Li et al.'s setting, Torch-Pruning's local pruning). DHSPG chooses the
// groups it penalises this way, and the L1 pruning baseline the filters it removes.
import type { ChannelGroup } from '../graph/groups.js';

export const allocations = ['global', 'uniform'] as const;
export type Allocation = (typeof allocations)[number];

/**
 * The share of its channels a tied family (channels joined across layers: a ResNet
 * stage's residual stream) always keeps. Removing one of its channels removes it from
 * every block of the stage at once, and the MACs that saves make such groups the
 * first choice of any compute-driven order: without a floor the stream of a stage
 * goes down to one or two channels and the network collapses (docs/DESIGN.md,
 * "Tied families").
 */
export const TIED_FAMILY_FLOOR = 0.5;
export const LAYER_FLOOR = 0.25;

/** A number per group naming the layers whose channels it removes: groups of one layer share it. */
export function groupLayerIds(groups: readonly ChannelGroup[]): number[] {
  const ids = new Map<string, number>();
  return groups.map((g) => {
    const key = g.channels.map((c) => c.layer).join('+') || g.slices[0]?.layer || '';
    if (!ids.has(key)) ids.set(key, ids.size);
    return ids.get(key)!;
  });
}

/**
 * How many groups each layer (groupLayerIds) keeps at the least: one for a single
 * layer (a layer with no channel left would cut the network), TIED_FAMILY_FLOOR of
 * them for a tied family.
 */
export function keptFloors(groups: readonly ChannelGroup[], layers: ArrayLike<number>, tiedFloor = TIED_FAMILY_FLOOR): Map<number, number> {
  const size = new Map<number, number>();
  const tied = new Set<number>();
  groups.forEach((g, i) => {
    size.set(layers[i], (size.get(layers[i]) ?? 0) + 1);
    if (new Set(g.channels.map((c) => c.layer)).size > 1) tied.add(layers[i]);
  });
  return new Map([...size].map(([layer, n]) => [layer, Math.max(1, Math.ceil((tied.has(layer) ? tiedFloor : LAYER_FLOOR) * n))]));
}

export interface RemovalOrderOptions {
  allocation: Allocation;
  /** the layer of every group (groupLayerIds); without it 'uniform' cannot work and no layer is protected */
  layers?: ArrayLike<number>;
  /** groups each layer keeps at the least (keptFloors; default 1) */
  minKept?: ReadonlyMap<number, number>;
  /** groups already removed (1) */
  removed?: ArrayLike<number>;
}

/**
 * `candidates` in the order to remove them: highest `priority` first, ties by group
 * number. 'uniform' orders first by the fraction of its layer each removal would
 * reach. Given the layers, a layer's last group (or the floor `minKept` sets) is
 * never offered: a layer with no channel left would cut the network.
 */
export function removalOrder(candidates: readonly number[], priority: ArrayLike<number>, options: RemovalOrderOptions): number[] {
  let order = [...candidates].sort((a, b) => priority[b] - priority[a] || a - b);
  const layers = options.layers;
  if (!layers) {
    if (options.allocation === 'uniform') throw new Error("'uniform' allocation needs the layer of every group");
    return order;
  }
  const size = new Map<number, number>();
  const taken = new Map<number, number>();
  for (let g = 0; g < layers.length; g++) {
    size.set(layers[g], (size.get(layers[g]) ?? 0) + 1);
    if (options.removed?.[g]) taken.set(layers[g], (taken.get(layers[g]) ?? 0) + 1);
  }
  const reach = new Map<number, number>();
  const allowed = new Set<number>();
  for (const g of order) {
    const layer = layers[g];
    taken.set(layer, (taken.get(layer) ?? 0) + 1);
    reach.set(g, taken.get(layer)! / size.get(layer)!);
    if (taken.get(layer)! <= size.get(layer)! - (options.minKept?.get(layer) ?? 1)) allowed.add(g);
  }
  order = order.filter((g) => allowed.has(g));
  if (options.allocation === 'uniform') {
    order = order
      .map((g, i) => [g, i] as const)
      .sort((a, b) => reach.get(a[0])! - reach.get(b[0])! || a[1] - b[1])
      .map(([g]) => g);
  }
  return order;
}

/**
 * `picked` extended by the shortest prefix of `order` after which `done` holds (all
 * of `order` if it never does). `done` must only turn true as groups are added (a
 * count, MACs saved), which lets the prefix be found by bisection.
 */
export function takeUntil(order: readonly number[], picked: readonly number[], done: (picked: readonly number[]) => boolean): number[] {
  const withPrefix = (k: number) => [...picked, ...order.slice(0, k)];
  if (done(picked)) return [...picked];
  let lo = 0;
  let hi = order.length;
  if (!done(withPrefix(hi))) return withPrefix(hi);
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (done(withPrefix(mid))) hi = mid;
    else lo = mid;
  }
  return withPrefix(hi);
}
