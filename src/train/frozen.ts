// Frozen layers as Keras has them (docs/DESIGN.md, "Frozen layers"): a layer with
// trainable false keeps its weights, its channels are never removed, and a frozen
// BatchNormalization normalises with its moving statistics and leaves them as they
// are, in training too (Keras 2.1.3 and later; TensorFlow.js would update them).
import type * as tfl from '@tensorflow/tfjs-layers';

export interface FreezeOptions {
  /** layers to freeze besides those the model marks trainable: false */
  freeze?: readonly string[];
  /** train every layer, also those the model marks trainable: false */
  trainFrozen?: boolean;
}

const inferenceWhenFrozen = new WeakSet<tfl.layers.Layer>();

/** Sets which layers of `model` train and makes its frozen BatchNormalization layers run in inference mode. */
export function applyFreeze(model: tfl.LayersModel, options: FreezeOptions = {}): void {
  if (options.trainFrozen) for (const layer of model.layers) layer.trainable = true;
  for (const name of options.freeze ?? []) {
    const layer = model.layers.find((l) => l.name === name);
    if (layer) layer.trainable = false;
  }
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization' || inferenceWhenFrozen.has(layer)) continue;
    inferenceWhenFrozen.add(layer);
    // the class's call as it is when the layer runs (the engine routes training-mode batch norm)
    const classCall = () => (Object.getPrototypeOf(layer) as tfl.layers.Layer).call;
    layer.call = (inputs, kwargs) => classCall().call(layer, inputs, layer.trainable ? kwargs : { ...kwargs, training: false });
  }
}
