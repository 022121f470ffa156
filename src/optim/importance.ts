// Importance criteria: how removable each group is, apart from how groups are then
// allocated (allocation.ts) and how they are driven to zero (the methods). Like
// Torch-Pruning's importance module, a criterion only scores.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ChannelGroup } from '../graph/groups.js';
import { shapeSize } from '../util/shape.js';

/**
 * OTOv2's redundancy score (docs/DESIGN.md, "DHSPG"), higher = more redundant, for
 * the `scored` groups (non-zero norm): 0.5 x the min-max normalised cosine between
 * the group and its step direction (the step points towards the origin) plus 0.5 x
 * the normalised inverse of its root-mean-square value (the group is small). Per
 * scalar, so a family tied across many layers does not look small for being large.
 */
export function redundancyScores(scored: readonly number[], groups: GroupStatistics): Map<number, number> {
  const { norm, directionNorm, inner, sizes } = groups;
  const normalised = (value: (g: number) => number) => {
    const v = scored.map(value);
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    return scored.map((_, i) => (hi > lo ? (v[i] - lo) / (hi - lo) : 0));
  };
  const cosine = normalised((g) => (directionNorm[g] > 0 ? inner[g] / (norm[g] * directionNorm[g]) : 0));
  const smallness = normalised((g) => Math.sqrt(sizes[g]) / norm[g]);
  return new Map(scored.map((g, i) => [g, 0.5 * cosine[i] + 0.5 * smallness[i]]));
}

/** What the criteria read of each group: its norm, its step direction's norm, their inner product, its size. */
export interface GroupStatistics {
  norm: ArrayLike<number>;
  directionNorm: ArrayLike<number>;
  inner: ArrayLike<number>;
  sizes: ArrayLike<number>;
}

const KERNEL_ROLES = new Set(['kernel', 'depthwise_kernel', 'pointwise_kernel']);

/**
 * Li et al.'s L1 criterion, higher = more important: mean |w| over a group's kernel
 * slices (per scalar, so layers of different fan-in compare).
 */
export function l1Magnitudes(model: tfl.LayersModel, groups: readonly ChannelGroup[]): number[] {
  const values = new Map(model.weights.map((w) => [w.name, { data: w.read().dataSync(), shape: w.shape as number[] }]));
  return groups.map((g) => {
    let sum = 0;
    let count = 0;
    for (const s of g.slices.filter((x) => KERNEL_ROLES.has(x.role))) {
      const { data, shape } = values.get(s.variable)!;
      const inner = shapeSize(shape.slice(s.axis + 1));
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
 * HESSO's default importance (OTOv3), higher = more important, for the `scored`
 * groups: the mean of five min-max normalised criteria, after OTOv3's defaults:
 * magnitude ||x_g||, average magnitude ||x_g|| / sqrt(|g|) (per scalar), alignment
 * 1 - cos(x_g, d_g) (a step along x_g shrinks the group), and the first- and
 * second-order Taylor terms |<x_g, d_g>| and <x_g, d_g>^2 / 2 (the loss change of
 * removing the group, with the step direction standing for the gradient).
 */
export function hessoImportance(scored: readonly number[], groups: GroupStatistics): Map<number, number> {
  const { norm, directionNorm, inner, sizes } = groups;
  const criteria: ((g: number) => number)[] = [
    (g) => norm[g],
    (g) => norm[g] / Math.sqrt(sizes[g]),
    (g) => 1 - (directionNorm[g] > 0 ? inner[g] / (norm[g] * directionNorm[g]) : 0),
    (g) => Math.abs(inner[g]),
    (g) => 0.5 * inner[g] * inner[g],
  ];
  const total = new Float64Array(scored.length);
  for (const criterion of criteria) {
    const v = scored.map(criterion);
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    v.forEach((x, i) => (total[i] += (hi > lo ? (x - lo) / (hi - lo) : 0) / criteria.length));
  }
  return new Map(scored.map((g, i) => [g, total[i]]));
}
