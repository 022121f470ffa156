// First-order optimizers with PyTorch semantics (so results compare with the
// reference numbers): coupled L2 weight decay, heavy-ball or Nesterov momentum,
// Adam with optional decoupled decay (AdamW). The learning rate is passed to each
// step, so schedules live outside.
import * as tf from '@tensorflow/tfjs-core';

export interface Optimizer {
  readonly name: string;
  /** Updates each variable from its gradient with learning rate `lr`. */
  step(variables: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void;
  dispose(): void;
}

export interface SgdOptions {
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

let slotSerial = 0;

/** A named buffer per variable, created at first use and kept across steps. */
class SlotStore {
  private readonly slots = new Map<string, tf.Variable>();

  get(v: tf.Variable, slot: string): tf.Variable {
    const key = `${v.name}/${slot}`;
    let s = this.slots.get(key);
    if (!s) {
      // engine variable names must be unique across optimizers
      s = tf.variable(tf.zerosLike(v), false, `${key}#${slotSerial++}`);
      this.slots.set(key, s);
    }
    return s;
  }

  dispose(): void {
    for (const s of this.slots.values()) s.dispose();
    this.slots.clear();
  }
}

function checkLengths(variables: readonly tf.Variable[], grads: readonly tf.Tensor[]): void {
  if (variables.length !== grads.length) {
    throw new Error(`optimizer got ${grads.length} gradients for ${variables.length} variables`);
  }
}

export class Sgd implements Optimizer {
  readonly name = 'sgd';
  private readonly slots = new SlotStore();
  private readonly momentum: number;
  private readonly nesterov: boolean;
  private readonly weightDecay: number;

  constructor(options: SgdOptions = {}) {
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    if (this.nesterov && this.momentum <= 0) throw new Error('Nesterov momentum needs momentum > 0');
  }

  step(variables: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void {
    checkLengths(variables, grads);
    tf.tidy(() => {
      variables.forEach((v, i) => {
        let g = grads[i];
        if (this.weightDecay !== 0) g = tf.add(g, tf.mul(v, this.weightDecay));
        if (this.momentum !== 0) {
          const buf = this.slots.get(v, 'momentum');
          const next = tf.add(tf.mul(buf, this.momentum), g);
          buf.assign(next);
          g = this.nesterov ? tf.add(g, tf.mul(next, this.momentum)) : next;
        }
        v.assign(tf.sub(v, tf.mul(g, lr)));
      });
    });
  }

  dispose(): void {
    this.slots.dispose();
  }
}

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
  /** AdamW: decay the weights directly instead of adding weightDecay * w to the gradient */
  decoupledWeightDecay?: boolean;
}

export class Adam implements Optimizer {
  readonly name: string;
  private readonly slots = new SlotStore();
  private t = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly weightDecay: number;
  private readonly decoupled: boolean;

  constructor(options: AdamOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.decoupled = options.decoupledWeightDecay ?? false;
    this.name = this.decoupled ? 'adamw' : 'adam';
  }

  step(variables: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void {
    checkLengths(variables, grads);
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      variables.forEach((v, i) => {
        let g = grads[i];
        let w: tf.Tensor = v;
        if (this.weightDecay !== 0) {
          if (this.decoupled) w = tf.mul(v, 1 - lr * this.weightDecay);
          else g = tf.add(g, tf.mul(v, this.weightDecay));
        }
        const m = this.slots.get(v, 'm');
        const s = this.slots.get(v, 'v');
        const mNext = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const sNext = tf.add(tf.mul(s, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        m.assign(mNext);
        s.assign(sNext);
        const denom = tf.add(tf.sqrt(tf.div(sNext, c2)), this.epsilon);
        v.assign(tf.sub(w, tf.mul(tf.div(mNext, denom), lr / c1)));
      });
    });
  }

  dispose(): void {
    this.slots.dispose();
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
