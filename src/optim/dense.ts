// First-order optimizers with PyTorch semantics (so results compare with the
// reference numbers): coupled L2 weight decay, heavy-ball or Nesterov momentum,
// Adam with optional decoupled decay (AdamW).
import * as tf from '@tensorflow/tfjs-core';
import { AdamDirection, MomentumDirection, slotsPerVariable, type Direction } from './direction.js';
import { checkGradientCount, type Optimizer, type OptimizerState } from './optimizer.js';

export interface SgdOptions {
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
  /** AdamW: decay the weights directly instead of adding weightDecay * w to the gradient */
  decoupledWeightDecay?: boolean;
}

/** x <- x - lr * direction(grad + wd * x), or with decoupled decay x <- x(1 - lr wd) - lr * direction(grad). */
class DirectionalOptimizer implements Optimizer {
  constructor(
    readonly name: string,
    private readonly dir: Direction,
    private readonly weightDecay: number,
    private readonly decoupled: boolean,
  ) {}

  step(variables: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void {
    checkGradientCount(variables, grads);
    this.dir.beginStep();
    tf.tidy(() => {
      variables.forEach((v, i) => {
        const coupled = this.weightDecay !== 0 && !this.decoupled;
        const g = coupled ? tf.add(grads[i], tf.mul(v, this.weightDecay)) : grads[i];
        const w = this.decoupled && this.weightDecay !== 0 ? tf.mul(v, 1 - lr * this.weightDecay) : v;
        v.assign(tf.sub(w, tf.mul(this.dir.direction(v, g), lr)));
      });
    });
  }

  getState(): OptimizerState {
    return { name: this.name, ...this.dir.getState() };
  }

  setState(state: OptimizerState, variables: readonly tf.Variable[]): void {
    if (state.name !== this.name) throw new Error(`optimizer state of ${state.name} cannot resume ${this.name}`);
    this.dir.setState(state, variables);
  }

  dispose(): void {
    this.dir.dispose();
  }
}

export class Sgd extends DirectionalOptimizer {
  constructor(options: SgdOptions = {}) {
    super('sgd', new MomentumDirection(options.momentum ?? 0, options.nesterov ?? false), options.weightDecay ?? 0, false);
  }
}

export class Adam extends DirectionalOptimizer {
  constructor(options: AdamOptions = {}) {
    const decoupled = options.decoupledWeightDecay ?? false;
    super(
      decoupled ? 'adamw' : 'adam',
      new AdamDirection(options.beta1, options.beta2, options.epsilon),
      options.weightDecay ?? 0,
      decoupled,
    );
  }
}

export const optimizerNames = ['sgd', 'adam', 'adamw'] as const;
export type OptimizerName = (typeof optimizerNames)[number];

export interface OptimizerConfig {
  name: OptimizerName;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/** The buffers `config`'s optimizer keeps per variable. */
export function optimizerSlots(config: OptimizerConfig): number {
  return slotsPerVariable({ direction: config.name === 'sgd' ? 'sgd' : 'adam', momentum: config.momentum });
}

export function createOptimizer(config: OptimizerConfig): Optimizer {
  switch (config.name) {
    case 'sgd':
      return new Sgd(config);
    case 'adam':
    case 'adamw':
      return new Adam({ weightDecay: config.weightDecay, decoupledWeightDecay: config.name === 'adamw' });
    default:
      throw new Error(`unknown optimizer '${config.name as string}': use one of ${optimizerNames.join(', ')}`);
  }
}
