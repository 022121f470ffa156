// A model's layers as a graph: who feeds whom, output shapes, and weights by role.
// Works for Sequential and functional LayersModels, built in code or loaded.
import type * as tfl from '@tensorflow/tfjs-layers';

export interface WeightInfo {
  /** 'kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance', 'depthwise_kernel', ... */
  role: string;
  /** the engine variable's name, as the optimizers see it */
  variable: string;
  shape: number[];
  /** a parameter (trainable or frozen), not a running statistic */
  trainable: boolean;
  /** index in layer.getWeights() */
  index: number;
}

export interface GraphNode {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** producer node names, in the order the layer takes its inputs */
  inputs: string[];
  /** output shape without the batch axis */
  outputShape: number[];
  /** input shapes without the batch axis */
  inputShapes: number[][];
  weights: WeightInfo[];
  isInput: boolean;
  isOutput: boolean;
}

export interface LayerGraph {
  /** in topological order: every node after its inputs */
  nodes: GraphNode[];
  byName: Map<string, GraphNode>;
  inputs: string[];
  outputs: string[];
}

export class GraphError extends Error {
  override name = 'GraphError';
}

function withoutBatch(shape: unknown): number[] {
  const s = shape as (number | null)[];
  return s.slice(1).map((d) => (d === null ? -1 : d));
}

/** weights that are running statistics, never parameters */
const STATISTICS = new Set(['moving_mean', 'moving_variance']);

function roleOf(originalName: string): string {
  return originalName.split('/').pop()!.replace(/_\d+$/, '');
}

export function buildLayerGraph(model: tfl.LayersModel): LayerGraph {
  const nodes: GraphNode[] = [];
  const byName = new Map<string, GraphNode>();
  const outputs = model.outputs.map((t) => t.sourceLayer.name);
  const inputLayers = model.inputs.map((t) => t.sourceLayer);

  const add = (layer: tfl.layers.Layer, inputs: string[]) => {
    if (layer.inboundNodes.length > 1) {
      throw new GraphError(
        `layer '${layer.name}' (${layer.getClassName()}) is applied ${layer.inboundNodes.length} times; ` +
          'shared layers are not supported',
      );
    }
    const inbound = layer.inboundNodes[0];
    const node: GraphNode = {
      name: layer.name,
      className: layer.getClassName(),
      config: layer.getConfig() as Record<string, unknown>,
      inputs,
      outputShape: withoutBatch(layer.outputShape),
      inputShapes: inbound ? inbound.inputShapes.map((s) => withoutBatch(s)) : [],
      weights: layer.weights.map((w, index) => ({
        role: roleOf(w.originalName),
        variable: w.name,
        shape: w.shape as number[],
        // a parameter, frozen or not: freezing a layer marks its variables untrainable, loading a frozen one does not
        trainable: w.trainable || (!layer.trainable && !STATISTICS.has(roleOf(w.originalName))),
        index,
      })),
      isInput: inputLayers.includes(layer),
      isOutput: outputs.includes(layer.name),
    };
    nodes.push(node);
    byName.set(node.name, node);
  };

  // Sequential models keep their InputLayer out of model.layers.
  for (const layer of inputLayers) if (!model.layers.includes(layer)) add(layer, []);
  for (const layer of model.layers) {
    const inbound = layer.inboundNodes[0];
    add(layer, inbound ? inbound.inboundLayers.map((l) => l.name) : []);
  }
  for (const node of nodes) {
    for (const input of node.inputs) {
      if (!byName.has(input)) throw new GraphError(`layer '${node.name}' reads from '${input}', which is not part of the model`);
    }
  }
  return { nodes, byName, inputs: inputLayers.map((l) => l.name), outputs };
}
