// Zero-invariant groups (docs/DESIGN.md, "Zero-invariant groups"): the sets of weight slices that,
// once all exactly zero, let a channel or unit be removed without changing any
// output. Channels are traced through the layer graph; joins merge them (union-find).
import type * as tfl from '@tensorflow/tfjs-layers';
import { layerMacs } from '../layers/count.js';
import { activationOffset } from '../layers/activation.js';
import { ruleFor, supportedLayerClasses } from '../layers/registry.js';
import type { ChannelFlow, Offset } from '../layers/rule.js';
import { buildLayerGraph, GraphError, type GraphNode, type LayerGraph } from '../layers/layer_graph.js';
import { shapeSize } from '../util/shape.js';

/** Slices of one weight along one axis. */
export interface WeightSlice {
  layer: string;
  role: string;
  /** engine variable name */
  variable: string;
  axis: number;
  indices: number[];
}

export interface ChannelGroup {
  id: number;
  prunable: boolean;
  /** why the group cannot be removed (empty when prunable) */
  reasons: string[];
  /** output channels (or units) it removes from each producing layer */
  channels: { layer: string; indices: number[] }[];
  /** the regularised slices: all of them exactly zero means the group can go */
  slices: WeightSlice[];
  /** batch-norm moving statistics, sliced along but not regularised */
  statSlices: WeightSlice[];
  /** untrained entries set to zero with the group (the moving mean of a BatchNormalization without a scale); part of statSlices */
  resetSlices: WeightSlice[];
  /** input slices of the layers that consume the channels */
  consumerSlices: WeightSlice[];
  /** number of scalars in `slices` */
  size: number;
  /** trainable parameters and MACs that removing this group alone saves */
  savings: { params: number; macs: number };
}

export interface Partition {
  graph: LayerGraph;
  groups: ChannelGroup[];
  /** for every layer, the group (id) each of its output channels belongs to; -1: none (never removed) */
  outputGroups: Map<string, number[]>;
}

export interface PartitionOptions {
  /**
   * layers kept whole besides those with weights the model marks trainable: false;
   * their channels are never removed, unsupported classes become opaque
   */
  freeze?: string[];
}

export { supportedLayerClasses } from '../layers/registry.js';

interface Entry {
  layer: string;
  role: string;
  variable: string;
  axis: number;
  index: number;
}

/** One channel as it flows through the graph; merged channels share a root. */
class Channels {
  private parent: number[] = [];
  readonly owned: Entry[][] = [];
  readonly stats: Entry[][] = [];
  readonly resets: Entry[][] = [];
  readonly consumers: Entry[][] = [];
  readonly reasons: string[][] = [];
  readonly produced: { layer: string; index: number }[][] = [];

  create(reason?: string): number {
    const id = this.parent.length;
    this.parent.push(id);
    this.owned.push([]);
    this.stats.push([]);
    this.resets.push([]);
    this.consumers.push([]);
    this.reasons.push(reason ? [reason] : []);
    this.produced.push([]);
    return id;
  }

  find(x: number): number {
    while (this.parent[x] !== x) {
      this.parent[x] = this.parent[this.parent[x]];
      x = this.parent[x];
    }
    return x;
  }

  union(a: number, b: number): number {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return ra;
    this.parent[rb] = ra;
    for (const list of [this.owned, this.stats, this.resets, this.consumers, this.reasons, this.produced] as unknown[][][]) {
      list[ra].push(...list[rb]);
      list[rb] = [];
    }
    return ra;
  }

  block(x: number, reason: string): void {
    const r = this.find(x);
    if (!this.reasons[r].includes(reason)) this.reasons[r].push(reason);
  }

  get count(): number {
    return this.parent.length;
  }
}

function weightOf(node: GraphNode, role: string) {
  return node.weights.find((w) => w.role === role);
}

function lastAxis(node: GraphNode, role: string): number {
  return weightOf(node, role)!.shape.length - 1;
}

/** named in `freeze`, or one of Keras's frozen layers (trainable: false; a weightless one such as Add freezes nothing) */
function isFrozen(node: GraphNode, freeze: ReadonlySet<string>): boolean {
  return freeze.has(node.name) || (node.config.trainable === false && node.weights.length > 0);
}

/**
 * Every layer whose class the analysis does not know, reported at once with the
 * --freeze that lets the rest of the model be compressed (a frozen layer of any class
 * is opaque: the channels around it are kept whole).
 */
function checkSupported(graph: LayerGraph, freeze: ReadonlySet<string>): void {
  const supported = new Set(supportedLayerClasses);
  const unknown = graph.nodes.filter((n) => !n.isInput && !isFrozen(n, freeze) && !supported.has(n.className));
  if (unknown.length === 0) return;
  const names = unknown.map((n) => n.name);
  const each = unknown.map((n) => `layer '${n.name}' has class ${n.className}`).join('; ');
  const one = unknown.length === 1;
  throw new GraphError(
    `${one ? each : `${unknown.length} layers are of classes slimtrain cannot analyse yet: ${each}`}` +
      `${one ? ', which slimtrain cannot analyse yet' : ''}. Mark ${one ? 'it' : 'them'} unprunable with --freeze ${names.join(',')} ` +
      `(API: { freeze: [${names.map((n) => `'${n}'`).join(', ')}] }); the rest of the model is still compressed.`,
  );
}

/** A --freeze name the model does not have, refused with the names it has. */
function checkFreezeNames(graph: LayerGraph, freeze: ReadonlySet<string>): void {
  const missing = [...freeze].find((name) => !graph.byName.has(name));
  if (missing !== undefined)
    throw new GraphError(
      `cannot freeze '${missing}': the model has no layer of that name (layers: ${graph.nodes.map((n) => n.name).join(', ')})`,
    );
}

/** The channels a node puts out: fresh at an input, opaque where frozen, else as its layer rule says. */
function nodeChannels(node: GraphNode, flow: ChannelFlow, frozen: boolean, fresh: (n: number, reason?: string) => number[]): number[] {
  const rule = ruleFor(node.className);
  if (node.isInput) return fresh(flow.channelsOut, 'network input');
  if (frozen && !rule?.ownsWeights && !rule?.channelWise) return flow.opaque(`feeds frozen layer ${node.name}`);
  if (rule) return rule.channels(flow);
  throw new GraphError(`layer '${node.name}' has class ${node.className}, which slimtrain cannot analyse yet`);
}

export function zeroInvariantGroups(model: tfl.LayersModel, options: PartitionOptions = {}): Partition {
  const graph = buildLayerGraph(model);
  const freeze = new Set(options.freeze ?? []);
  checkFreezeNames(graph, freeze);
  checkSupported(graph, freeze);
  const ch = new Channels();
  /** channel ids of each node's output, along its last axis */
  const maps = new Map<string, number[]>();
  /** per node output channel: what it is when its group is zero (undefined: 0) */
  const offsets = new Map<string, (Offset | undefined)[]>();

  const record = (list: Entry[][], id: number, node: GraphNode, role: string, axis: number, index: number) => {
    const w = weightOf(node, role);
    if (w) list[ch.find(id)].push({ layer: node.name, role, variable: w.variable, axis, index });
  };
  const fresh = (n: number, reason?: string) => Array.from({ length: n }, () => ch.create(reason));

  for (const node of graph.nodes) {
    const inputs = node.inputs.map((name) => {
      const m = maps.get(name);
      if (!m) throw new GraphError(`layer '${node.name}' comes before its input '${name}'`);
      return m;
    });
    const inputOffsets = node.inputs.map((name) => offsets.get(name)!);
    const channelsOut = node.outputShape[node.outputShape.length - 1];
    /** offsets of channels this layer produced, and those it set for its output */
    const produced = new Map<number, Offset>();
    let set: readonly (Offset | undefined)[] | undefined;
    const frozen = isFrozen(node, freeze);
    const frozenReason = `${node.name} is frozen${freeze.has(node.name) ? '' : ' (trainable: false)'}`;
    const flow: ChannelFlow = {
      node,
      inputs,
      inputOffsets,
      channelsOut,
      consume(input, role, axis) {
        // a channel that is not zero when its group is would leave its constant in the consumer
        const offset = inputOffsets[inputs.indexOf(input)];
        input.forEach((id, i) => {
          record(ch.consumers, id, node, role, axis, i);
          if (offset?.[i]) ch.block(id, offset[i]!.reason);
        });
      },
      produce(role, units, axis = lastAxis(node, role)) {
        const out = fresh(units);
        const offset = flow.activationAt();
        out.forEach((id, j) => {
          record(ch.owned, id, node, role, axis, j);
          record(ch.owned, id, node, 'bias', 0, j);
          ch.produced[id].push({ layer: node.name, index: j });
          if (offset) produced.set(id, offset);
        });
        return out;
      },
      own(id, role, axis, index) {
        record(ch.owned, id, node, role, axis, index);
        // a frozen weight never goes to zero: the channels it belongs to stay (a frozen separable's depthwise part)
        if (frozen) ch.block(id, frozenReason);
      },
      stat: (id, role, axis, index) => record(ch.stats, id, node, role, axis, index),
      reset(id, role, axis, index) {
        record(ch.stats, id, node, role, axis, index);
        record(ch.resets, id, node, role, axis, index);
      },
      setOffsets: (given) => (set = given),
      block: (ids, reason) => ids.forEach((id) => ch.block(id, reason)),
      opaque(reason) {
        for (const input of inputs) for (const id of input) ch.block(id, reason);
        return fresh(channelsOut, reason);
      },
      zeros: (count) => fresh(count),
      union: (a, b) => ch.union(a, b),
      activationAt: (input) => activationOffset((node.config.activation as string | undefined) ?? 'linear', node.name, input),
    };
    const out = nodeChannels(node, flow, frozen, fresh);
    if (frozen) for (const id of out) ch.block(id, frozenReason);
    if (node.isOutput) for (const id of out) ch.block(id, `produces the model output (${node.name})`);
    maps.set(node.name, out);
    offsets.set(node.name, set ? [...set] : carriedOffsets(out, inputs, inputOffsets, produced));
  }
  const groupOfRoot = new Map<number, number>();
  const groups = collectGroups(ch, graph, groupOfRoot);
  const outputGroups = new Map([...maps].map(([layer, ids]) => [layer, ids.map((id) => groupOfRoot.get(ch.find(id)) ?? -1)]));
  return { graph, groups, outputGroups };
}

/**
 * Offsets of output channels a rule did not set: a channel passed through keeps the
 * offset it had on its input (by channel id: channels tied to it may have others), a
 * produced one the offset its activation gave it. One id with two different offsets
 * (a channel and a shifted copy of it, side by side) is not known (NaN).
 */
function carriedOffsets(
  out: readonly number[],
  inputs: readonly number[][],
  inputOffsets: readonly (Offset | undefined)[][],
  produced: ReadonlyMap<number, Offset>,
): (Offset | undefined)[] {
  const byId = new Map<number, Offset | undefined>();
  inputs.forEach((ids, k) =>
    ids.forEach((id, i) => {
      const offset = inputOffsets[k][i];
      if (!byId.has(id)) byId.set(id, offset);
      else if (byId.get(id)?.value !== offset?.value) {
        const reason = byId.get(id)?.reason ?? offset!.reason;
        byId.set(id, { value: NaN, reason });
      }
    }),
  );
  for (const [id, offset] of produced) byId.set(id, offset);
  return out.map((id) => byId.get(id));
}

function slicesOf(entries: Entry[]): WeightSlice[] {
  const byKey = new Map<string, WeightSlice>();
  for (const e of entries) {
    const key = `${e.variable}#${e.axis}`;
    let s = byKey.get(key);
    if (!s) {
      s = { layer: e.layer, role: e.role, variable: e.variable, axis: e.axis, indices: [] };
      byKey.set(key, s);
    }
    s.indices.push(e.index);
  }
  for (const s of byKey.values()) s.indices = [...new Set(s.indices)].sort((a, b) => a - b);
  return [...byKey.values()];
}

/** The groups, in id order; `groupOfRoot` gets the group id of each union-find root. */
function collectGroups(ch: Channels, graph: LayerGraph, groupOfRoot: Map<number, number>): ChannelGroup[] {
  const groups: ChannelGroup[] = [];
  for (let id = 0; id < ch.count; id++) {
    if (ch.find(id) !== id || ch.owned[id].length === 0) continue;
    const slices = slicesOf(ch.owned[id]);
    const produced = new Map<string, number[]>();
    for (const p of ch.produced[id]) produced.set(p.layer, [...(produced.get(p.layer) ?? []), p.index]);
    groupOfRoot.set(id, groups.length);
    const group: ChannelGroup = {
      id: groups.length,
      prunable: ch.reasons[id].length === 0,
      reasons: ch.reasons[id],
      channels: [...produced.entries()].map(([layer, indices]) => ({ layer, indices })),
      slices,
      statSlices: slicesOf(ch.stats[id]),
      resetSlices: slicesOf(ch.resets[id]),
      consumerSlices: slicesOf(ch.consumers[id]),
      size: 0,
      savings: { params: 0, macs: 0 },
    };
    group.size = slices.reduce((n, s) => n + s.indices.length * sliceWidth(graph, s), 0);
    group.savings = predictRemoval(graph, [group]);
    groups.push(group);
  }
  return groups;
}

/** scalars per index of a slice: the product of the weight's other axes */
function sliceWidth(graph: LayerGraph, s: WeightSlice): number {
  const w = graph.byName.get(s.layer)!.weights.find((x) => x.variable === s.variable)!;
  return w.shape.reduce((n, d, a) => (a === s.axis ? n : n * d), 1);
}

/** Indices removed from each variable along each axis when `groups` go. */
export function removedIndices(groups: readonly ChannelGroup[]): Map<string, Map<number, Set<number>>> {
  const removed = new Map<string, Map<number, Set<number>>>();
  for (const g of groups) {
    for (const s of [...g.slices, ...g.statSlices, ...g.consumerSlices]) {
      const axes = removed.get(s.variable) ?? new Map<number, Set<number>>();
      const set = axes.get(s.axis) ?? new Set<number>();
      for (const i of s.indices) set.add(i);
      axes.set(s.axis, set);
      removed.set(s.variable, axes);
    }
  }
  return removed;
}

/** The weight shapes (by role) of each layer that removing `groups` together changes. */
export function plannedShapes(graph: LayerGraph, groups: readonly ChannelGroup[]): Map<GraphNode, Map<string, number[]>> {
  const removed = removedIndices(groups);
  const planned = new Map<GraphNode, Map<string, number[]>>();
  for (const node of graph.nodes) {
    if (!node.weights.some((w) => removed.has(w.variable))) continue;
    const shapes = new Map<string, number[]>();
    for (const w of node.weights) {
      const axes = removed.get(w.variable);
      shapes.set(
        w.role,
        w.shape.map((d, a) => d - (axes?.get(a)?.size ?? 0)),
      );
    }
    planned.set(node, shapes);
  }
  return planned;
}

/** Trainable parameters and MACs saved by removing `groups` together (overlaps counted once). */
export function predictRemoval(graph: LayerGraph, groups: readonly ChannelGroup[]): { params: number; macs: number } {
  let params = 0;
  let macs = 0;
  for (const [node, shapes] of plannedShapes(graph, groups)) {
    for (const w of node.weights.filter((x) => x.trainable)) params += shapeSize(w.shape) - shapeSize(shapes.get(w.role)!);
    macs += layerMacs(node) - layerMacs(node, shapes);
  }
  return { params, macs };
}
