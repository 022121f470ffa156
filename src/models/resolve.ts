// What a model argument names: a zoo model built fresh, or a saved model.json.
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadModel } from '../io/model_files.js';
import { buildZooModel, isZooName, zooNames } from './zoo.js';

/** A zoo name builds a fresh model for the given input and classes; anything else is a model.json path. */
export async function resolveModel(
  spec: string,
  shape: { inputShape: [number, number, number]; numClasses: number },
  seed = 0,
): Promise<tfl.LayersModel> {
  if (isZooName(spec)) return buildZooModel(spec, { ...shape, seed });
  if (!spec.endsWith('.json') && !spec.includes('/')) {
    throw new Error(`unknown model '${spec}': use a zoo model (${zooNames.join(', ')}) or a path to a model.json`);
  }
  return (await loadModel(spec)).model;
}
