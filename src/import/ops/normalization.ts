// BatchNormalization, kept as a layer (an export with training=TrainingMode.PRESERVE
// or TRAINING); the default eval-mode export has folded it into the convolutions.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { tensorLike, type OpConverter } from '../context.js';

const batchNormalization: OpConverter = (c) => {
  const x = c.tensor(0);
  if (x.flatFrom && x.flatFrom[1] * x.flatFrom[2] > 1) c.fail('batch norm of a flattened feature map is not supported');
  const params = [1, 2, 3, 4].map((i) => c.constant(i) ?? c.fail(`input ${i} (scale, bias, mean, variance) is computed, not stored`));
  const unused = c.node.outputs.slice(1).find((o) => o && c.consumers(o).length > 0);
  if (unused) c.fail(`its training output '${unused}' is read by other nodes; export the model in eval mode`);
  const [gamma, beta, mean, variance] = params.map((p) => tf.tensor1d(p.data, 'float32'));
  const epsilon = c.attrs.float('epsilon', 1e-5);
  const momentum = c.attrs.float('momentum', 0.9);
  const t = c.apply((name) => tfl.layers.batchNormalization({ name, axis: -1, epsilon, momentum }), x, [gamma, beta, mean, variance]);
  return tensorLike(x, t, { nonNegative: false, producer: c.node });
};

export const normalizationOps: Record<string, OpConverter> = { BatchNormalization: batchNormalization };
