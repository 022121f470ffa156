// Groups as the optimizers see them: for each variable, the axis its groups run
// along and which group every index along that axis belongs to. Per-group sums
// (norms, inner products) are reduced in tensors along the other axes, then summed
// per group in JS on vectors no longer than a layer's width.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ChannelGroup } from '../graph/groups.js';

export interface GroupedVariable {
  name: string;
  shape: number[];
  axis: number;
  /** group number (0..groupCount-1) of each index along `axis`; -1: in no group */
  groupOf: Int32Array;
}

/** A plain description of groups over variables: what tests and models both produce. */
export interface GroupSpec {
  /** per group, its slices: variable name, axis, indices */
  groups: { variable: string; axis: number; indices: number[] }[][];
  /** per group, untrained entries set to zero when the group is (a moving mean without a BN scale) */
  resets?: { variable: tf.Variable; axis: number; indices: number[] }[][];
}

/** An untrained variable whose entries follow their group to zero. */
export interface ResetVariable {
  variable: tf.Variable;
  axis: number;
  /** group of each index along `axis`; -1: in no group */
  groupOf: Int32Array;
}

export class GroupIndex {
  readonly groupCount: number;
  /** by variable name */
  readonly variables = new Map<string, GroupedVariable>();
  /** scalars per group */
  readonly sizes: Float64Array;
  readonly resets: ResetVariable[] = [];

  constructor(spec: GroupSpec, shapes: Map<string, number[]>) {
    this.groupCount = spec.groups.length;
    this.sizes = new Float64Array(this.groupCount);
    spec.groups.forEach((slices, g) => {
      for (const s of slices) {
        const shape = shapes.get(s.variable);
        if (!shape) throw new Error(`group ${g} names variable '${s.variable}', which is not being optimised`);
        let v = this.variables.get(s.variable);
        if (!v) {
          v = { name: s.variable, shape, axis: s.axis, groupOf: new Int32Array(shape[s.axis]).fill(-1) };
          this.variables.set(s.variable, v);
        }
        if (v.axis !== s.axis) throw new Error(`variable '${s.variable}' is grouped along two axes (${v.axis}, ${s.axis})`);
        const width = shape.reduce((n, d, a) => (a === s.axis ? n : n * d), 1);
        for (const i of s.indices) {
          if (v.groupOf[i] !== -1 && v.groupOf[i] !== g)
            throw new Error(`index ${i} of '${s.variable}' is in groups ${v.groupOf[i]} and ${g}`);
          v.groupOf[i] = g;
          this.sizes[g] += width;
        }
      }
    });
    const resets = new Map<tf.Variable, ResetVariable>();
    spec.resets?.forEach((slices, g) =>
      slices.forEach(({ variable, axis, indices }) => {
        let r = resets.get(variable);
        if (!r) resets.set(variable, (r = { variable, axis, groupOf: new Int32Array(variable.shape[axis]).fill(-1) }));
        for (const i of indices) r.groupOf[i] = g;
      }),
    );
    this.resets = [...resets.values()];
  }

  /** The prunable groups of a partition over `model`'s trainable variables, in the order given (group number = position). */
  static fromChannelGroups(groups: readonly ChannelGroup[], model: tfl.LayersModel): GroupIndex {
    const variables = new Map(model.weights.map((w) => [w.name, w.read() as tf.Variable]));
    const shapes = new Map(model.trainableWeights.map((w) => [w.name, w.shape as number[]]));
    const resets = groups.map((g) =>
      g.resetSlices.map((s) => ({ variable: variables.get(s.variable)!, axis: s.axis, indices: s.indices })),
    );
    return new GroupIndex({ groups: groups.map((g) => g.slices), resets }, shapes);
  }

  grouped(name: string): GroupedVariable | undefined {
    return this.variables.get(name);
  }

  /** sum over each group of f(name) reduced to the group axis, e.g. squares or products */
  groupSums(perVariable: Map<string, tf.Tensor>): Float64Array {
    const out = new Float64Array(this.groupCount);
    for (const [name, t] of perVariable) {
      const v = this.variables.get(name);
      if (!v) continue;
      const axes = v.shape.map((_, a) => a).filter((a) => a !== v.axis);
      const summed = axes.length ? tf.sum(t, axes) : t;
      const reduced = summed.dataSync();
      if (summed !== t) summed.dispose();
      for (let i = 0; i < reduced.length; i++) if (v.groupOf[i] >= 0) out[v.groupOf[i]] += reduced[i];
    }
    return out;
  }

  /**
   * A tensor broadcastable against variable `name` holding `perGroup[g]` at indices
   * of group g and `outside` elsewhere.
   */
  broadcast(name: string, perGroup: ArrayLike<number>, outside: number): tf.Tensor {
    const v = this.variables.get(name)!;
    const values = new Float32Array(v.groupOf.length);
    for (let i = 0; i < values.length; i++) values[i] = v.groupOf[i] >= 0 ? perGroup[v.groupOf[i]] : outside;
    const shape = v.shape.map((d, a) => (a === v.axis ? d : 1));
    return tf.tensor(values, shape);
  }
}
