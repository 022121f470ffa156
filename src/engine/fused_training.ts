// Training-mode batch norm and ReLU gradients as single native kernels.
//
// TensorFlow.js layers trains BatchNormalization through tf.moments and the
// FusedBatchNorm formula: about 25 elementwise kernels over the full activation per
// layer and step, forward and backward. On the native backend one kernel computes
// the batch statistics and the output, and one computes all three gradients (with
// the paths through the batch mean and variance), as PyTorch and TensorFlow do.
// The layer computes exactly what it computed before; the tests compare it with the
// cpu backend's unfused path.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BatchNormTraining, BatchNormTrainingGrad, ReluGrad } from './native.js';

const run = (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}) =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs);

const batchNormTrainingGrad: tf.GradConfig = {
  kernelName: BatchNormTraining,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dmean, dvariance] = dys as tf.Tensor[];
    const [x, gamma, mean, variance] = saved;
    // one kernel gives all three; the thunks hand out its outputs
    const [dx, dgamma, dbeta] = run(BatchNormTrainingGrad, { dy, x, gamma, mean, variance, dmean, dvariance }, attrs) as tf.Tensor[];
    return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
  },
};

/** TensorFlow.js's Relu gradient is step, cast and multiply; on native it is one kernel. */
const reluGrad: tf.GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    if (tf.getBackend() === 'native') return { x: () => run(ReluGrad, { dy: dy as tf.Tensor, x }) as tf.Tensor };
    return { x: () => tf.mul(dy as tf.Tensor, tf.cast(tf.step(x), 'float32')) };
  },
};

interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tfl.LayerVariable;
  beta: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}
type Call = (this: BatchNormLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }) => tf.Tensor;

let installed = false;

/**
 * Registers the gradients and routes BatchNormalization's training-mode call through
 * the fused kernel while the native backend is active (over the channel axis, with
 * both scale and centre; any other form keeps TensorFlow.js's own path).
 */
export function installFusedTraining(): void {
  if (installed) return;
  installed = true;
  tf.registerGradient(batchNormTrainingGrad);
  tf.registerGradient(reluGrad);
  const proto = Object.getPrototypeOf(tfl.layers.batchNormalization({})) as { call: Call };
  const original = proto.call;
  proto.call = function (this: BatchNormLayer, inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const lastAxis = this.axis === -1 || this.axis === x.rank - 1;
    if (!kwargs?.training || tf.getBackend() !== 'native' || !lastAxis || !this.center || !this.scale || x.dtype !== 'float32') {
      return original.call(this, inputs, kwargs);
    }
    return tf.tidy(() => {
      const [y, mean, variance] = run(
        BatchNormTraining,
        { x, gamma: this.gamma.read(), beta: this.beta.read() },
        { epsilon: this.epsilon },
      ) as tf.Tensor[];
      // the moving averages exactly as tfjs-layers updates them
      const update = (variable: tfl.LayerVariable, value: tf.Tensor) =>
        tf.tidy(() => {
          const old = variable.read();
          variable.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - this.momentum)));
        });
      update(this.movingMean, mean);
      update(this.movingVariance, variance);
      return y;
    });
  };
}
