// What slimtrain knows about a layer class, in one place (docs/DESIGN.md, "Layer
// rules"): how channels flow through it (groups and ties), what it costs, which
// config field holds its width, and how it is written to ONNX. One file per layer
// family implements it; registry.ts maps class names to rules, as Torch-Pruning maps
// operators to their pruning functions.
import type { GraphNode } from './layer_graph.js';
import type { OnnxGraph, OnnxValue } from '../onnx/builder.js';

/**
 * What a channel is when its group is zero, where that is not 0 (a sigmoid gives 0.5,
 * a Rescaling its offset): the value (NaN where the analysis cannot tell) and why.
 */
export interface Offset {
  value: number;
  reason: string;
}

/** The group analysis as a rule sees it while the rule's layer is visited. */
export interface ChannelFlow {
  readonly node: GraphNode;
  /** channel ids of each input, along its last axis */
  readonly inputs: number[][];
  /**
   * for each input channel, its offset: what it is when its group is zero; undefined
   * where that is 0. A consumer's weights block such a channel; a Multiply by a zero
   * channel cancels it.
   */
  readonly inputOffsets: readonly (Offset | undefined)[][];
  /** channels of the layer's output (its last axis) */
  readonly channelsOut: number;
  /** the layer reads channel ids `input` through weight `role`, index i along `axis` */
  consume(input: number[], role: string, axis: number): void;
  /** new channels made by weight `role` along `axis` (default: its last), with the bias; offset when the activation is not zero at zero */
  produce(role: string, units: number, axis?: number): number[];
  /** channel `id` also owns index `index` of weight `role` along `axis` (moving statistics: `stat`) */
  own(id: number, role: string, axis: number, index: number): void;
  stat(id: number, role: string, axis: number, index: number): void;
  /** an untrained entry that must be zero once the group is, and is set so by the optimizer (a moving mean without a scale) */
  reset(id: number, role: string, axis: number, index: number): void;
  /**
   * the offset of each output channel. Without this call, output channels carry the
   * offsets of the input channels they are (channel-wise layers) and those `produce`
   * gave them
   */
  setOffsets(offsets: readonly (Offset | undefined)[]): void;
  /** the channels can never be removed, for `reason` */
  block(ids: readonly number[], reason: string): void;
  /** every input channel blocked and fresh, blocked output channels: what the layer does is not channel-wise */
  opaque(reason: string): number[];
  /** `count` new channels that are zero whatever the input (padding): no weights of their own */
  zeros(count: number): number[];
  /** ties two channels: they go together or not at all */
  union(a: number, b: number): number;
  /** the layer's `activation` at a channel whose pre-activation is `input` (default 0) */
  activationAt(input?: Offset): Offset | undefined;
}

/** The ONNX export as a rule sees it while its layer is written. */
export interface OnnxEmit {
  readonly node: GraphNode;
  readonly g: OnnxGraph;
  /** the layer's inputs as already written */
  readonly inputs: OnnxValue[];
  /** the weights of the layer (or of `node`, a consumer being folded in), in getWeights() order */
  weights(node?: GraphNode): Float32Array[];
  /** the layers reading this one's output */
  consumers(): GraphNode[];
  /** fold BatchNormalization into the convolution before it (the export option) */
  readonly foldBatchNorm: boolean;
  /** `layer` (a consumer) has been folded into this one: it passes its input on */
  fold(layer: string): void;
}

/** Which channels a slim model keeps, around one layer. */
export interface KeptChannels {
  /** of the layer's output */
  output: boolean[];
  /** of each input */
  inputs: boolean[][];
}

export interface LayerRule {
  /** the TensorFlow.js class names the rule covers */
  readonly classes: readonly string[];
  /**
   * has weights the rule knows, or acts on each channel alone: frozen, such a layer
   * keeps its channels whole; a frozen layer of any other class cuts the graph there
   */
  readonly ownsWeights?: boolean;
  readonly channelWise?: boolean;
  /** the output channel ids */
  channels(flow: ChannelFlow): number[];
  /** multiply-accumulates, with the weight shapes `shape` gives (slim plans change them); 0 when not given */
  macs?(node: GraphNode, shape: (role: string) => number[] | undefined): number;
  /** input and output channels when the weights have the shapes `shape` gives (a latency table times the layer at other widths) */
  widths?(shape: (role: string) => number[]): { in: number; out: number };
  /** the config field holding the layer's output width, which slimming lowers */
  widthKey?: string;
  /** adjusts a layer's Keras-style config to the channels kept (a Reshape names the channel count; config is as the sparse model has it) */
  slimConfig?(config: Record<string, unknown>, kept: KeptChannels): void;
  /** writes the layer; returns its output. Without it the layer cannot be exported */
  onnx?(e: OnnxEmit): OnnxValue;
}
