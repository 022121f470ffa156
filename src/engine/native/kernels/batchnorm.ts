// Batch normalisation: inference, and training mode with its gradient (kernels only
// the native backend has, which engine/fused_training.ts uses).
import { type TensorInfo } from '@tensorflow/tfjs-core';
import { shapeSize } from '../../../util/shape.js';
import { allFloat, allocate, output, values, type Backend, type Inputs, type NativeKernel } from '../kernel.js';

export const batchNorm: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x, mean, variance } = inputs;
  const { offset, scale } = inputs as Partial<Inputs>;
  const channels = x.shape[x.shape.length - 1];
  const perChannel = [mean, variance, offset, scale].every((t) => t == null || shapeSize(t.shape) === channels);
  if (!allFloat(x, mean, variance, offset, scale) || !perChannel || shapeSize(x.shape) === 0) return null;
  const y = allocate(backend, shapeSize(x.shape));
  const optional = (t?: TensorInfo) => (t ? values(backend, t) : null);
  addon.batchNorm(
    values(backend, x),
    channels,
    values(backend, mean),
    values(backend, variance),
    optional(offset),
    optional(scale),
    (attrs.varianceEpsilon as number | undefined) ?? 0.001,
    y,
  );
  return output(backend, x.shape, y);
};

// Kernels of our own, which only the native backend has (src/engine/fused_training.ts uses them)
export const BatchNormTraining = 'SlimtrainBatchNormTraining';
export const BatchNormTrainingGrad = 'SlimtrainBatchNormTrainingGrad';

const optional = (backend: Backend, t?: TensorInfo) => (t ? values(backend, t) : null);

/** Training-mode batch norm over the last axis: outputs y, batch mean, biased batch variance. */
export const batchNormTraining: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x } = inputs;
  const { gamma, beta } = inputs as Partial<Inputs>;
  const channels = x.shape[x.shape.length - 1];
  const y = allocate(backend, shapeSize(x.shape));
  const mean = allocate(backend, channels);
  const variance = allocate(backend, channels);
  addon.batchNormTraining(
    values(backend, x),
    channels,
    optional(backend, gamma),
    optional(backend, beta),
    attrs.epsilon as number,
    y,
    mean,
    variance,
  );
  return [output(backend, x.shape, y), output(backend, [channels], mean), output(backend, [channels], variance)];
};

export const batchNormTrainingGrad: NativeKernel = (addon, inputs, attrs, backend) => {
  const { dy, x, mean, variance } = inputs;
  const { gamma, dmean, dvariance } = inputs as Partial<Inputs>;
  const channels = x.shape[x.shape.length - 1];
  const dx = allocate(backend, shapeSize(x.shape));
  const dgamma = allocate(backend, channels);
  const dbeta = allocate(backend, channels);
  addon.batchNormTrainingGrad(
    values(backend, dy),
    values(backend, x),
    channels,
    optional(backend, gamma),
    values(backend, mean),
    values(backend, variance),
    optional(backend, dmean),
    optional(backend, dvariance),
    attrs.epsilon as number,
    dx,
    dgamma,
    dbeta,
  );
  return [output(backend, x.shape, dx), output(backend, [channels], dgamma), output(backend, [channels], dbeta)];
};
