import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** The number of elements of a tensor of this shape (1 for a scalar's []). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** What `predict` or `apply` (on tensors) gave, as a list: a model with several outputs (a detector's) gives one already. */
export const outputList = (y: tf.Tensor | tf.Tensor[] | tfl.SymbolicTensor | tfl.SymbolicTensor[]): tf.Tensor[] =>
  (Array.isArray(y) ? y : [y]) as tf.Tensor[];
