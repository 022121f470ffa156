// What the training loop asks of an optimizer, dense or group-sparse. The learning
// rate is passed to each step, so schedules live outside (train/schedules.ts).
import type * as tf from '@tensorflow/tfjs-core';
import type { DirectionState } from './direction.js';

export interface Optimizer {
  readonly name: string;
  /** Updates each variable from its gradient with learning rate `lr`. */
  step(variables: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void;
  /** Everything a resumed run needs to continue bit for bit: step count and buffers. */
  getState(): OptimizerState;
  setState(state: OptimizerState, variables: readonly tf.Variable[]): void;
  dispose(): void;
}

/** A checkpoint's record of an optimizer: its name and its direction's state (methods may add fields). */
export interface OptimizerState extends DirectionState {
  name: string;
}

export function checkGradientCount(variables: readonly tf.Variable[], grads: readonly tf.Tensor[]): void {
  if (variables.length !== grads.length) throw new Error(`optimizer got ${grads.length} gradients for ${variables.length} variables`);
}
