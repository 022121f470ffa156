// First-order optimizers with PyTorch semantics (so results compare with the
// reference numbers): coupled L2 weight decay, heavy-ball or Nesterov momentum,
// Adam with optional decoupled decay (AdamW). The learning rate is passed to each
// step, so schedules live outside. A Direction turns a gradient into the step
// direction; the sparse optimizers (src/optim) reuse the same directions.
import * as tf from '@tensorflow/tfjs-core';

export interface Optimizer {
  readonly name: string;
  /** Updates each variable from its gradient with learning rate `lr`. */
  step(variables: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void;
  /** Everything a resumed run needs to continue bit for bit: step count and buffers. */
  getState(): OptimizerState;
  setState(state: OptimizerState, variables: readonly tf.Variable[]): void;
  dispose(): void;
}

export type SlotSnapshot = Record<string, { shape: number[]; values: number[] }>;

export interface OptimizerState {
  name: string;
  step: number;
  slots: SlotSnapshot;
}

let slotSerial = 0;

/** A named buffer per variable, created at first use and kept across steps. */
export class SlotStore {
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

  /** the buffers as plain arrays, by slot key */
  snapshot(): SlotSnapshot {
    const out: SlotSnapshot = {};
    for (const [key, s] of this.slots) out[key] = { shape: s.shape, values: Array.from(s.dataSync()) };
    return out;
  }

  restore(v: tf.Variable, slot: string, values: { shape: number[]; values: number[] }): void {
    this.get(v, slot).assign(tf.tensor(values.values, values.shape));
  }

  /** Restores a snapshot; its keys name the variables as `variable/slot`. */
  restoreAll(snapshot: SlotSnapshot, variables: readonly tf.Variable[]): void {
    for (const [key, value] of Object.entries(snapshot)) {
      const slash = key.lastIndexOf('/');
      const v = variables.find((x) => x.name === key.slice(0, slash));
      if (!v) throw new Error(`saved optimizer state names variable '${key.slice(0, slash)}', which the model does not have`);
      this.restore(v, key.slice(slash + 1), value);
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) s.dispose();
    this.slots.clear();
  }
}

/** Turns gradients into step directions (call inside tf.tidy). */
export interface Direction {
  /** once per optimisation step, before `direction` */
  beginStep(): void;
  direction(v: tf.Variable, g: tf.Tensor): tf.Tensor;
  readonly slots: SlotStore;
}

/** SGD direction: the gradient, or its heavy-ball / Nesterov momentum average. */
export class MomentumDirection implements Direction {
  readonly slots = new SlotStore();
  constructor(
    private readonly momentum = 0,
    private readonly nesterov = false,
  ) {
    if (nesterov && momentum <= 0) throw new Error('Nesterov momentum needs momentum > 0');
  }

  beginStep(): void {}

  direction(v: tf.Variable, g: tf.Tensor): tf.Tensor {
    if (this.momentum === 0) return g;
    const buf = this.slots.get(v, 'momentum');
    const next = tf.add(tf.mul(buf, this.momentum), g);
    buf.assign(next);
    return this.nesterov ? tf.add(g, tf.mul(next, this.momentum)) : next;
  }
}

/** Adam direction: bias-corrected m / (sqrt(v) + eps). */
export class AdamDirection implements Direction {
  readonly slots = new SlotStore();
  private t = 0;
  constructor(
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {}

  beginStep(): void {
    this.t++;
  }

  direction(v: tf.Variable, g: tf.Tensor): tf.Tensor {
    const m = this.slots.get(v, 'm');
    const s = this.slots.get(v, 'v');
    const mNext = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
    const sNext = tf.add(tf.mul(s, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
    m.assign(mNext);
    s.assign(sNext);
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    return tf.div(tf.div(mNext, c1), tf.add(tf.sqrt(tf.div(sNext, c2)), this.epsilon));
  }

  get step(): number {
    return this.t;
  }

  set step(t: number) {
    this.t = t;
  }
}

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
    if (variables.length !== grads.length) {
      throw new Error(`optimizer got ${grads.length} gradients for ${variables.length} variables`);
    }
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
    return { name: this.name, step: this.dir instanceof AdamDirection ? this.dir.step : 0, slots: this.dir.slots.snapshot() };
  }

  setState(state: OptimizerState, variables: readonly tf.Variable[]): void {
    if (state.name !== this.name) throw new Error(`optimizer state of ${state.name} cannot resume ${this.name}`);
    if (this.dir instanceof AdamDirection) this.dir.step = state.step;
    this.dir.slots.restoreAll(state.slots, variables);
  }

  dispose(): void {
    this.dir.slots.dispose();
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
    super(decoupled ? 'adamw' : 'adam', new AdamDirection(options.beta1, options.beta2, options.epsilon), options.weightDecay ?? 0, decoupled);
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
