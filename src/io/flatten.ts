// A model with models inside it (a backbone under a new head, the transfer-learning
// pattern) rebuilt as one flat functional model that computes the same function:
// each nested model's layers take its place in the outer graph. Everything
// downstream (groups, slimming, counting, ONNX) then sees plain layers. Works on
// the Keras-style topology JSON, then copies the weights layer by layer.
import * as tfl from '@tensorflow/tfjs-layers';

type Ref = [string, number, number, ...unknown[]];

interface LayerJson {
  class_name: string;
  name?: string;
  config: Record<string, unknown> & { name?: string; layers?: LayerJson[] };
  inbound_nodes?: Ref[][];
}

/** class names of models, which may also appear as layers of another model */
export const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

export class NestedModelError extends Error {
  override name = 'NestedModelError';
}

const isModel = (l: LayerJson) => MODEL_CLASSES.has(l.class_name);

/** A Sequential config ({name, layers} or a bare list) as the layers of a functional model, each fed by the one before. */
function asFunctional(model: LayerJson): { layers: LayerJson[]; inputs: Ref[]; outputs: Ref[] } {
  const config = model.config as unknown;
  if (model.class_name !== 'Sequential') {
    const c = config as { layers: LayerJson[]; input_layers: Ref[]; output_layers: Ref[] };
    return { layers: c.layers, inputs: c.input_layers, outputs: c.output_layers };
  }
  const listed = (Array.isArray(config) ? config : (config as { layers: LayerJson[] }).layers).map((l) => ({
    ...l,
    name: l.config.name,
  }));
  const first = listed[0];
  const inputName = `${first.config.name}_input`;
  const layers: LayerJson[] = [];
  if (first.class_name !== 'InputLayer') {
    const shape = first.config.batch_input_shape;
    layers.push({ class_name: 'InputLayer', name: inputName, config: { name: inputName, batch_input_shape: shape, dtype: 'float32' } });
  }
  let previous: Ref | undefined = first.class_name === 'InputLayer' ? undefined : [inputName, 0, 0, {}];
  for (const l of listed) {
    layers.push({ ...l, inbound_nodes: previous ? [[previous]] : [] });
    previous = [l.config.name!, 0, 0, {}];
  }
  const inputs: Ref[] = [[layers[0].config.name!, 0, 0]];
  return { layers, inputs, outputs: [previous!] };
}

/** Every layer name at every depth, counted, so that only clashing inner names get a prefix. */
function countNames(model: LayerJson, counts = new Map<string, number>()): Map<string, number> {
  for (const l of asFunctional(model).layers) {
    const name = l.config.name!;
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (isModel(l)) countNames(l, counts);
  }
  return counts;
}

/** True when some layer of the topology is itself a model. */
export function hasNestedModels(topology: unknown): boolean {
  return asFunctional(topology as LayerJson).layers.some(isModel);
}

interface Flattened {
  topology: Record<string, unknown>;
  /** flat layer name -> the path of names to the original layer (outer model first) */
  origins: Map<string, string[]>;
}

/** The topology with every nested model's layers inlined in its place. */
export function flattenTopology(topology: unknown): Flattened {
  const root = topology as LayerJson;
  const counts = countNames(root);
  const origins = new Map<string, string[]>();
  const layers: LayerJson[] = [];

  /** inlines `model`'s layers; `inputs` feed its input layers (the outer model: its own input layers stay) */
  const expand = (model: LayerJson, path: string[], inputs: Ref[] | undefined): Ref[] => {
    const { layers: own, inputs: inputLayers, outputs } = asFunctional(model);
    // where each [layer, node, tensor] of this model now comes from: a flat layer's
    // node 0 (same tensor), or for a nested model's outputs and inputs, a given tensor
    const nodes = new Map<string, string>();
    const tensors = new Map<string, Ref>();
    const at = (...parts: (string | number)[]) => parts.join('\u0000');
    const lookup = (r: Ref): Ref => {
      const tensor = tensors.get(at(r[0], r[1], r[2]));
      if (tensor) return [tensor[0], tensor[1], tensor[2], ...r.slice(3)] as Ref;
      const flat = nodes.get(at(r[0], r[1]));
      if (flat === undefined)
        throw new NestedModelError(`layer ${r[0]} of model ${[root.config.name, ...path].join('/')} is used before it is defined`);
      return [flat, 0, r[2], ...r.slice(3)] as Ref;
    };
    if (inputs) {
      if (inputs.length !== inputLayers.length) {
        throw new NestedModelError(`model ${path.join('/')} takes ${inputLayers.length} inputs but is given ${inputs.length}`);
      }
      inputLayers.forEach((r, i) => tensors.set(at(r[0], r[1], r[2]), inputs[i]));
    }
    for (const l of own) {
      const name = l.config.name!;
      if (l.class_name === 'InputLayer' && inputs) continue;
      const calls = l.inbound_nodes ?? [];
      if (isModel(l)) {
        if (calls.length !== 1) {
          throw new NestedModelError(
            `model ${name}, used as a layer, is applied ${calls.length} times; a shared backbone is not supported: apply it once`,
          );
        }
        // a model's own inputs-to-outputs node is its node 0; its first call is node 1
        expand(l, [...path, name], calls[0].map(lookup)).forEach((out, k) => tensors.set(at(name, 1, k), out));
        continue;
      }
      if (calls.length > 1) throw new NestedModelError(`layer ${name} is applied ${calls.length} times; shared layers are not supported`);
      const flatName = path.length && counts.get(name)! > 1 ? `${path.join('_')}_${name}` : name;
      origins.set(flatName, [...path, name]);
      layers.push({
        class_name: l.class_name,
        name: flatName,
        config: { ...l.config, name: flatName },
        inbound_nodes: calls.map((c) => c.map(lookup)),
      });
      nodes.set(at(name, 0), flatName);
    }
    return outputs.map(lookup);
  };

  const outputs = expand(root, [], undefined);
  const { inputs } = asFunctional(root);
  return {
    topology: {
      class_name: 'Model',
      config: { name: root.config.name ?? 'model', layers, input_layers: inputs, output_layers: outputs.map((r) => r.slice(0, 3)) },
    },
    origins,
  };
}

/** `model` itself when nothing in it is a model, else the same function as one flat functional model. */
export async function flattenModel(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  const topology = model.toJSON(null, false) as unknown;
  if (!hasNestedModels(topology)) return model;
  const { topology: flat, origins } = flattenTopology(topology);
  const flatModel = (await tfl.models.modelFromJSON({ modelTopology: flat } as never)) as tfl.LayersModel;
  for (const layer of flatModel.layers) {
    const path = origins.get(layer.name);
    if (!path || layer.weights.length === 0) continue;
    let original: tfl.layers.Layer = model.getLayer(path[0]);
    for (const name of path.slice(1)) original = (original as unknown as tfl.LayersModel).getLayer(name);
    layer.setWeights(original.getWeights());
  }
  return flatModel;
}
