// Parameters and multiply-accumulates per layer. MACs follow docs/DESIGN.md, "Zero-invariant groups"
// (convolutions and dense layers only), computed from kernel shapes and output
// sizes, so the same function prices a model and a planned slim version of it.
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildLayerGraph, type GraphNode } from './layer_graph.js';
import { ruleFor } from './registry.js';
import { shapeSize } from '../util/shape.js';

export interface LayerCount {
  name: string;
  className: string;
  outputShape: number[];
  params: number;
  nonTrainableParams: number;
  macs: number;
}

export interface ModelCount {
  layers: LayerCount[];
  params: number;
  nonTrainableParams: number;
  macs: number;
}

/**
 * MACs of `node` when its weights have `shapes` (by role); shapes default to the
 * layer's own. Each layer's rule prices it (src/layers); layers without a price
 * (pooling, activations, joins) count 0.
 */
export function layerMacs(node: GraphNode, shapes: Map<string, number[]> = new Map()): number {
  const macs = ruleFor(node.className)?.macs;
  return macs ? macs(node, (role) => shapes.get(role) ?? node.weights.find((w) => w.role === role)?.shape) : 0;
}

export function countNode(node: GraphNode): LayerCount {
  return {
    name: node.name,
    className: node.className,
    outputShape: node.outputShape,
    params: node.weights.filter((w) => w.trainable).reduce((n, w) => n + shapeSize(w.shape), 0),
    nonTrainableParams: node.weights.filter((w) => !w.trainable).reduce((n, w) => n + shapeSize(w.shape), 0),
    macs: layerMacs(node),
  };
}

export function countModel(model: tfl.LayersModel): ModelCount {
  const layers = buildLayerGraph(model).nodes.map(countNode);
  return {
    layers,
    params: layers.reduce((n, l) => n + l.params, 0),
    nonTrainableParams: layers.reduce((n, l) => n + l.nonTrainableParams, 0),
    macs: layers.reduce((n, l) => n + l.macs, 0),
  };
}
