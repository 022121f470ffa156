// Step directions: what turns a gradient into the step an optimizer takes (plain
// gradient, heavy-ball or Nesterov momentum, Adam). A direction owns its state: its
// buffers (one slot per variable) and its step count, saved and restored together
// so a resumed run continues bit for bit. Both the dense optimizers (train/) and
// the group-sparse ones (optim/) take their steps along a Direction.
import * as tf from '@tensorflow/tfjs-core';

export type SlotSnapshot = Record<string, { shape: number[]; values: Float32Array }>;

/** What a direction needs to continue: steps taken and its buffers by `variable/slot`. */
export interface DirectionState {
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

  /** a copy of the buffers, by slot key */
  snapshot(): SlotSnapshot {
    const out: SlotSnapshot = {};
    for (const [key, s] of this.slots) out[key] = { shape: s.shape, values: (s.dataSync() as Float32Array).slice() };
    return out;
  }

  /** Restores a snapshot; its keys name the variables as `variable/slot`. */
  restoreAll(snapshot: SlotSnapshot, variables: readonly tf.Variable[]): void {
    for (const [key, value] of Object.entries(snapshot)) {
      const slash = key.lastIndexOf('/');
      const v = variables.find((x) => x.name === key.slice(0, slash));
      if (!v) throw new Error(`saved optimizer state names variable '${key.slice(0, slash)}', which the model does not have`);
      this.get(v, key.slice(slash + 1)).assign(tf.tensor(value.values, value.shape));
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) s.dispose();
    this.slots.clear();
  }
}

/** Turns gradients into step directions (call `direction` inside tf.tidy). */
export abstract class Direction {
  protected readonly slots = new SlotStore();
  /** steps begun */
  protected steps = 0;

  /** once per optimisation step, before `direction` */
  beginStep(): void {
    this.steps++;
  }

  abstract direction(v: tf.Variable, g: tf.Tensor): tf.Tensor;

  getState(): DirectionState {
    return { step: this.steps, slots: this.slots.snapshot() };
  }

  setState(state: DirectionState, variables: readonly tf.Variable[]): void {
    this.steps = state.step;
    this.slots.restoreAll(state.slots, variables);
  }

  dispose(): void {
    this.slots.dispose();
  }
}

/** SGD direction: the gradient, or its heavy-ball / Nesterov momentum average. */
export class MomentumDirection extends Direction {
  constructor(
    private readonly momentum = 0,
    private readonly nesterov = false,
  ) {
    super();
    if (nesterov && momentum <= 0) throw new Error('Nesterov momentum needs momentum > 0');
  }

  direction(v: tf.Variable, g: tf.Tensor): tf.Tensor {
    if (this.momentum === 0) return g;
    const buf = this.slots.get(v, 'momentum');
    const next = tf.add(tf.mul(buf, this.momentum), g);
    buf.assign(next);
    return this.nesterov ? tf.add(g, tf.mul(next, this.momentum)) : next;
  }
}

/** Adam direction: bias-corrected m / (sqrt(v) + eps). */
export class AdamDirection extends Direction {
  constructor(
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    super();
  }

  direction(v: tf.Variable, g: tf.Tensor): tf.Tensor {
    const m = this.slots.get(v, 'm');
    const s = this.slots.get(v, 'v');
    const mNext = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
    const sNext = tf.add(tf.mul(s, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
    m.assign(mNext);
    s.assign(sNext);
    const c1 = 1 - this.beta1 ** this.steps;
    const c2 = 1 - this.beta2 ** this.steps;
    return tf.div(tf.div(mNext, c1), tf.add(tf.sqrt(tf.div(sNext, c2)), this.epsilon));
  }
}

export const directionNames = ['sgd', 'adam'] as const;
export type DirectionName = (typeof directionNames)[number];

export interface DirectionConfig {
  direction?: DirectionName;
  momentum?: number;
  nesterov?: boolean;
}

export function createDirection(config: DirectionConfig): Direction {
  return config.direction === 'adam' ? new AdamDirection() : new MomentumDirection(config.momentum ?? 0, config.nesterov ?? false);
}

/** The buffers a direction keeps per variable (what a checkpoint holds beside the weights). */
export function slotsPerVariable(config: DirectionConfig): number {
  return config.direction === 'adam' ? 2 : (config.momentum ?? 0) === 0 ? 0 : 1;
}
