// A training run as a checkpoint holds it, and back: the weights, the optimizer's
// buffers, the step, the shuffling RNG, where in the epoch the run is and its history.
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Optimizer, OptimizerState } from '../optim/optimizer.js';
import type { Rng } from '../util/random.js';
import { CHECKPOINT_VERSION, restoreWeights, snapshotWeights, type Checkpoint, type TrainingState } from './checkpoint.js';
import type { EpochMetrics } from './metrics.js';

/** A NaN or infinite loss or weight: the run stops, naming the step and what to change. */
export class NumericalFault extends Error {
  override name = 'NumericalFault';
}

/** an optimizer state with each buffer's variable renamed (slots are keyed 'variable/slot') */
function renameSlots(state: OptimizerState, rename: (name: string) => string): OptimizerState {
  return {
    ...state,
    slots: Object.fromEntries(
      Object.entries(state.slots).map(([key, v]) => {
        const slash = key.lastIndexOf('/');
        return [`${rename(key.slice(0, slash))}/${key.slice(slash + 1)}`, v];
      }),
    ),
  };
}

/**
 * Captures a run into a Checkpoint and restores one. Optimizer buffers are saved under
 * their variable's position, as engine names differ between model instances.
 */
export class RunState {
  private readonly position: Map<string, string>;

  constructor(
    private readonly model: tfl.LayersModel,
    private readonly optimizer: Optimizer,
    private readonly variables: tf.Variable[],
  ) {
    this.position = new Map(variables.map((v, i) => [v.name, String(i)]));
  }

  /** Puts back the checkpoint's weights, optimizer buffers and shuffling RNG. */
  restore(checkpoint: Checkpoint, rng: Rng): void {
    restoreWeights(this.model, checkpoint);
    this.optimizer.setState(
      renameSlots(checkpoint.state.optimizer, (i) => this.variables[Number(i)]?.name ?? `#${i}`),
      this.variables,
    );
    rng.setState(checkpoint.state.rng);
  }

  /** The run now; a non-finite weight is a NumericalFault and never reaches a checkpoint, so the last good one stays. */
  capture(at: Omit<TrainingState, 'version' | 'optimizer' | 'weights' | 'history'>, history: EpochMetrics[]): Checkpoint {
    const { weights, specs } = snapshotWeights(this.model);
    const bad = weights.findIndex((w) => !w.every(Number.isFinite));
    if (bad >= 0) {
      throw new NumericalFault(
        `weight ${specs[bad].name} holds NaN or infinite values after step ${at.step}: lower the learning rate or the penalty (--lambda); the last checkpoint holds the last good state`,
      );
    }
    const optimizer = renameSlots(this.optimizer.getState(), (n) => this.position.get(n)!);
    return { state: { version: CHECKPOINT_VERSION, ...at, optimizer, history: history.slice(), weights: specs }, weights };
  }
}
