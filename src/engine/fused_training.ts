// Training-mode batch norm, ReLU gradients and swish as single native kernels.
//
// TensorFlow.js layers trains BatchNormalization through tf.moments and the
// FusedBatchNorm formula: about 25 elementwise kernels over the full activation per
// layer and step, forward and backward. On the native backend one kernel computes
// the batch statistics and the output, and one computes all three gradients (with
// the paths through the batch mean and variance), as PyTorch and TensorFlow do.
// Swish (x * sigmoid(x), TensorFlow.js: three kernels forward, about eight backward)
// is one kernel each way, and a ReLU layer with maxValue 6 runs the Relu6 kernel
// instead of Relu then ClipByValue. The layers compute exactly what they computed
// before; the tests compare them with the cpu backend's unfused path.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BatchNormTraining, BatchNormTrainingGrad, ClipByValueGrad, Relu6Grad, ReluGrad, Swish, SwishGrad } from './native.js';

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

/**
 * The gradient of an elementwise op of x: one native kernel on native, TensorFlow.js's
 * own composition (`elsewhere`) on the other backends.
 */
const elementwiseGrad = (
  kernelName: string,
  nativeKernel: string,
  elsewhere: (dy: tf.Tensor, x: tf.Tensor, attrs: tf.NamedAttrMap) => tf.Tensor,
): tf.GradConfig => ({
  kernelName,
  inputsToSave: ['x'],
  gradFunc: (dy, [x], attrs) => ({
    x: () =>
      tf.getBackend() === 'native'
        ? (run(nativeKernel, { dy: dy as tf.Tensor, x }, attrs) as tf.Tensor)
        : elsewhere(dy as tf.Tensor, x, attrs as tf.NamedAttrMap),
  }),
});

/** TensorFlow.js composes these from 3 to 5 kernels each: step, cast, comparisons, select */
const elementwiseGrads = [
  elementwiseGrad(tf.Relu, ReluGrad, (dy, x) => tf.mul(dy, tf.cast(tf.step(x), 'float32'))),
  elementwiseGrad(tf.Relu6, Relu6Grad, (dy, x) => tf.mul(dy, tf.cast(tf.mul(tf.lessEqual(x, 6), tf.step(x)), 'float32'))),
  // a ReLU layer with maxValue (Keras's ReLU(6.))
  elementwiseGrad(tf.ClipByValue, ClipByValueGrad, (dy, x, attrs) =>
    tf.where(
      tf.logicalAnd(tf.greaterEqual(x, attrs.clipValueMin as number), tf.lessEqual(x, attrs.clipValueMax as number)),
      dy,
      tf.zerosLike(dy),
    ),
  ),
];

/** swish runs only on native, so its gradient is always the native one */
const swishGrad: tf.GradConfig = {
  kernelName: Swish,
  inputsToSave: ['x'],
  gradFunc: (dy, [x]) => ({ x: () => run(SwishGrad, { dy: dy as tf.Tensor, x }) as tf.Tensor }),
};

type Apply = (this: unknown, x: tf.Tensor, alpha?: number) => tf.Tensor;

/** Keras's swish activation (alpha 1, float32, on native) as the fused kernel. */
function patchSwish(): void {
  const layer = tfl.layers.activation({ activation: 'swish' }) as unknown as { activation: object };
  const proto = Object.getPrototypeOf(layer.activation) as { apply: Apply };
  const original = proto.apply;
  proto.apply = function (x, alpha = 1) {
    if (alpha !== 1 || tf.getBackend() !== 'native' || x.dtype !== 'float32' || x.size === 0) return original.call(this, x, alpha);
    return run(Swish, { x }) as tf.Tensor;
  };
}

type ReluCall = (this: { maxValue?: number | null }, inputs: tf.Tensor | tf.Tensor[], kwargs: object) => tf.Tensor;

/**
 * A ReLU layer with maxValue 6 (Keras's ReLU(6.)) as the Relu6 kernel: TensorFlow.js
 * runs Relu then ClipByValue, two passes each way. The values and the gradient
 * (dy where 0 < x <= 6) are the same on every backend.
 */
function patchRelu6(): void {
  const proto = Object.getPrototypeOf(tfl.layers.reLU({ maxValue: 6 })) as { call: ReluCall };
  const original = proto.call;
  proto.call = function (inputs, kwargs) {
    if (this.maxValue !== 6) return original.call(this, inputs, kwargs);
    return tf.relu6(Array.isArray(inputs) ? inputs[0] : inputs);
  };
}

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

let fused = false;
let patched = false;

/** the moving averages exactly as tfjs-layers updates them */
function updateMovingAverages(layer: BatchNormLayer, mean: tf.Tensor, variance: tf.Tensor): void {
  for (const [variable, value] of [
    [layer.movingMean, mean],
    [layer.movingVariance, variance],
  ] as const) {
    tf.tidy(() => {
      const old = variable.read();
      variable.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - layer.momentum)));
    });
  }
}

/**
 * Training-mode batch norm without a scale or a centre. TensorFlow.js 4.22 reads
 * gamma and beta unconditionally there (a crash: they do not exist), and tf.batchNorm
 * without a scale cannot be differentiated; the formula below can.
 */
function trainWithoutScaleOrCentre(layer: BatchNormLayer, x: tf.Tensor): tf.Tensor {
  const axis = layer.axis >= 0 ? layer.axis : layer.axis + x.rank;
  const reduce = [...Array(x.rank).keys()].filter((a) => a !== axis);
  const shape = x.shape.map((d, a) => (a === axis ? d : 1));
  const { mean, variance } = tf.moments(x, reduce, true);
  let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, layer.epsilon)));
  if (layer.scale) y = tf.mul(y, tf.reshape(layer.gamma.read(), shape));
  if (layer.center) y = tf.add(y, tf.reshape(layer.beta.read(), shape));
  updateMovingAverages(layer, tf.reshape(mean, [x.shape[axis]]), tf.reshape(variance, [x.shape[axis]]));
  return y;
}

/**
 * Routes BatchNormalization's training-mode call: on native, over the channel axis,
 * through the fused kernel (once installFusedTraining has run); elsewhere without
 * scale or centre through our formula; anything else through TensorFlow.js.
 */
export function patchBatchNormalization(): void {
  if (patched) return;
  patched = true;
  const proto = Object.getPrototypeOf(tfl.layers.batchNormalization({})) as { call: Call };
  const original = proto.call;
  proto.call = function (this: BatchNormLayer, inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs?.training) return original.call(this, inputs, kwargs);
    const lastAxis = this.axis === -1 || this.axis === x.rank - 1;
    if (fused && tf.getBackend() === 'native' && lastAxis && x.dtype === 'float32') {
      return tf.tidy(() => {
        // without a scale or a centre (Keras's InceptionV3), a constant 1 or 0 takes its place
        const channels = x.shape[x.rank - 1];
        const gamma = this.scale ? this.gamma.read() : tf.ones([channels]);
        const beta = this.center ? this.beta.read() : tf.zeros([channels]);
        const [y, mean, variance] = run(BatchNormTraining, { x, gamma, beta }, { epsilon: this.epsilon }) as tf.Tensor[];
        updateMovingAverages(this, mean, variance);
        return y;
      });
    }
    if (!this.center || !this.scale) return tf.tidy(() => trainWithoutScaleOrCentre(this, x));
    return original.call(this, inputs, kwargs);
  };
}

/** Registers the native gradients and lets BatchNormalization use the fused kernel on native. */
export function installFusedTraining(): void {
  if (fused) return;
  fused = true;
  tf.registerGradient(batchNormTrainingGrad);
  tf.registerGradient(swishGrad);
  for (const config of elementwiseGrads) tf.registerGradient(config);
  patchBatchNormalization();
  patchSwish();
  patchRelu6();
}
