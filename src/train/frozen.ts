// Frozen layers as Keras has them (docs/DESIGN.md, "Frozen layers"): a layer with
// trainable false keeps its weights, its channels are never removed, and a frozen
// BatchNormalization normalises with its moving statistics and leaves them as they
// are, in training too (Keras 2.1.3 and later; TensorFlow.js would update them).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

export interface FreezeOptions {
  /** layers to freeze besides those the model marks trainable: false */
  freeze?: readonly string[];
  /** train every layer, also those the model marks trainable: false */
  trainFrozen?: boolean;
}

const inferenceWhenFrozen = new WeakSet<tfl.layers.Layer>();

/**
 * A frozen BatchNormalization over the last axis, from its moving statistics, written
 * out: tf.batchNorm without a scale or a centre has no gradient, and the layers in
 * front of a frozen one still train. Undefined for another axis (TensorFlow.js's
 * inference call serves).
 */
function normalised(layer: tfl.layers.Layer, inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | undefined {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  const config = layer.getConfig() as { axis: number | number[]; epsilon: number };
  const axis = Array.isArray(config.axis) ? config.axis : [config.axis];
  if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== x.rank - 1)) return undefined;
  const weight = (role: string) => layer.weights.find((w) => w.originalName.split('/').pop() === role)?.read();
  const [mean, variance, gamma, beta] = ['moving_mean', 'moving_variance', 'gamma', 'beta'].map(weight);
  return tf.tidy(() => {
    let y = tf.mul(tf.sub(x, mean!), tf.rsqrt(tf.add(variance!, config.epsilon)));
    if (gamma) y = tf.mul(y, gamma);
    return beta ? tf.add(y, beta) : y;
  });
}

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
    layer.call = (inputs, kwargs) =>
      layer.trainable
        ? classCall().call(layer, inputs, kwargs)
        : (normalised(layer, inputs) ?? classCall().call(layer, inputs, { ...kwargs, training: false }));
  }
}
