// Gradient definitions that replace TensorFlow.js's where theirs waste time on
// every training step (same mathematics, checked against autodiff of the plain
// formula in the tests), and the ones it lacks.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Batch normalisation y = (x - mean) * rsqrt(variance + eps) * scale + offset.
 * TensorFlow.js's gradient tiles rsqrt to the full input shape and reduces four
 * times; broadcasting and two shared reductions (sum dy, sum (x - mean) dy) do.
 */
const fusedBatchNormGrad: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
    const [x, mean, variance, savedScale] = saved;
    const g = dy as tf.Tensor;
    const scale = savedScale ?? tf.scalar(1);
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: tf.Tensor) => tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, mean.shape);
    const rsq = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    // computed here, not in the thunks: the engine releases what one thunk makes
    const dyTotal = reduce(g);
    const centredDyTotal = reduce(tf.mul(tf.sub(x, mean), g));
    return {
      x: () => tf.mul(g, tf.mul(rsq, scale)),
      mean: () => tf.mul(tf.neg(tf.mul(rsq, scale)), dyTotal),
      variance: () => tf.mul(tf.mul(tf.mul(tf.pow(rsq, tf.scalar(3)), scale), tf.scalar(-0.5)), centredDyTotal),
      scale: () => tf.mul(rsq, centredDyTotal),
      offset: () => tf.clone(dyTotal),
    };
  },
};

export const replacedGradients = [fusedBatchNormGrad];

/**
 * A comparison is flat almost everywhere: zero gradient to both inputs. TensorFlow.js
 * has none for Greater, so ThresholdedReLU (x * (x > theta)) could not train.
 */
const comparisonGrads: tf.GradConfig[] = [tf.Greater, tf.GreaterEqual, tf.Less, tf.LessEqual].map((kernelName) => ({
  kernelName,
  inputsToSave: ['a', 'b'],
  gradFunc: (_dy, [a, b]) => ({ a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) }),
}));

export function registerFastGradients(): void {
  for (const config of [...replacedGradients, ...comparisonGrads]) tf.registerGradient(config);
}
