// A per-layer view of a model's groups, for people (tables, pictures) and scripts.
import type * as tfl from '@tensorflow/tfjs-layers';
import { countNode } from '../layers/count.js';
import { zeroInvariantGroups, type ChannelGroup, type Partition, type PartitionOptions } from './groups.js';

export interface LayerAnalysis {
  name: string;
  className: string;
  inputs: string[];
  outputShape: number[];
  params: number;
  nonTrainableParams: number;
  macs: number;
  /** the model marks the layer trainable: false */
  frozen: boolean;
  /** groups with slices in this layer */
  groups: number;
  prunable: number;
  /** why the others are not */
  reasons: string[];
}

export interface ModelAnalysis {
  partition: Partition;
  layers: LayerAnalysis[];
  totals: {
    params: number;
    /** parameters of frozen layers (part of params) */
    frozenParams: number;
    nonTrainableParams: number;
    macs: number;
    groups: number;
    prunable: number;
    /** prunable groups tied across two or more producing layers (residual or depthwise families) */
    tiedGroups: number;
  };
}

export function analyzeModel(model: tfl.LayersModel, options: PartitionOptions = {}): ModelAnalysis {
  const partition = zeroInvariantGroups(model, options);
  const byLayer = new Map<string, ChannelGroup[]>();
  for (const g of partition.groups) {
    for (const layer of new Set(g.slices.map((s) => s.layer))) byLayer.set(layer, [...(byLayer.get(layer) ?? []), g]);
  }
  const layers = partition.graph.nodes.map((node): LayerAnalysis => {
    const groups = byLayer.get(node.name) ?? [];
    return {
      ...countNode(node),
      inputs: node.inputs,
      frozen: node.config.trainable === false,
      groups: groups.length,
      prunable: groups.filter((g) => g.prunable).length,
      reasons: [...new Set(groups.flatMap((g) => g.reasons))],
    };
  });
  const sum = (f: (l: LayerAnalysis) => number) => layers.reduce((n, l) => n + f(l), 0);
  return {
    partition,
    layers,
    totals: {
      params: sum((l) => l.params),
      frozenParams: sum((l) => (l.frozen ? l.params : 0)),
      nonTrainableParams: sum((l) => l.nonTrainableParams),
      macs: sum((l) => l.macs),
      groups: partition.groups.length,
      prunable: partition.groups.filter((g) => g.prunable).length,
      tiedGroups: partition.groups.filter((g) => g.prunable && g.channels.length > 1).length,
    },
  };
}
