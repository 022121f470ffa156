// Parameters and multiply-accumulates per layer. MACs follow docs/DESIGN.md, "Zero-invariant groups"
// (convolutions and dense layers only), computed from kernel shapes and output
// sizes, so the same function prices a model and a planned slim version of it.
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildLayerGraph, type GraphNode } from '../graph/layer_graph.js';
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

/** Output positions a kernel is applied at: spatial size for convs, leading axes for Dense. */
function positions(node: GraphNode): number {
  return shapeSize(node.outputShape.slice(0, -1));
}

/**
 * MACs of `node` when its weights have `shapes` (by role); shapes default to the
 * layer's own. Layers that are not convolutions or dense count 0.
 */
export function layerMacs(node: GraphNode, shapes: Map<string, number[]> = new Map()): number {
  const shape = (role: string) => shapes.get(role) ?? node.weights.find((w) => w.role === role)?.shape;
  switch (node.className) {
    case 'Conv2D':
    case 'Dense':
      return shapeSize(shape('kernel')!) * positions(node);
    case 'DepthwiseConv2D':
      return shapeSize(shape('depthwise_kernel')!) * positions(node);
    case 'SeparableConv2D':
      return (shapeSize(shape('depthwise_kernel')!) + shapeSize(shape('pointwise_kernel')!)) * positions(node);
    default:
      return 0;
  }
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
