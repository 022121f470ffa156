// What a planned slim model saves, priced for any set of groups removed together: the
// MACs (layers/count.ts) or the latency a measured table predicts (latency.ts). A cost target
// (optim/target.ts) removes a share of one.
import { predictRemoval, type ChannelGroup } from '../graph/groups.js';
import type { LayerGraph } from '../layers/layer_graph.js';

export interface CostModel {
  /** what is counted: 'MACs', 'latency' */
  unit: string;
  /** the model's whole cost */
  total: number;
  /** what removing `groups` together saves */
  saved(groups: readonly ChannelGroup[]): number;
  /** latency only: the whole slim models its predictions were mapped onto (compress/calibrate.ts) */
  checks?: readonly CalibrationPoint[];
}

/** One whole slim model: the share of the model's latency the tables predict it keeps, and the share measured. */
export interface CalibrationPoint {
  predicted: number;
  measured: number;
}

export function macsCost(graph: LayerGraph, totalMacs: number): CostModel {
  return { unit: 'MACs', total: totalMacs, saved: (groups) => predictRemoval(graph, groups).macs };
}
