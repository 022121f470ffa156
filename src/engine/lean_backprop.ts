// Backpropagation that frees as it goes.
//
// TensorFlow.js 4.22 keeps, until a gradient computation ends, every gradient it
// computed on the way (the dy of every op output) and every tensor an op saved for its
// gradient. A training step's peak is then the forward activations plus as much again
// in gradients. PyTorch frees both as soon as an op's backward has run; so does this:
// when the next op's gradient starts, the previous op is done, and its dys and saved
// tensors are disposed. A dy that some gradient handed out more than once (passed
// through unchanged, or given to two inputs) is kept, as is the caller's own dy. Higher-order gradients (a gradient inside a
// gradient) are left as TensorFlow.js does them. The gradients are the same values;
// only their lifetime changes (docs/DESIGN.md, "Memory").
import * as tf from '@tensorflow/tfjs-core';

type Thunks = Record<string, () => tf.Tensor>;
interface TapeNode {
  saved?: tf.Tensor[];
  gradient?: (dys: tf.Tensor[]) => Thunks;
}
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  addTapeNode(...args: unknown[]): void;
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): unknown;
}

interface Backward {
  /** the op whose gradient ran last: what it may free once the next one starts */
  pending?: { dys: tf.Tensor[]; saved: tf.Tensor[] };
  /** how often each tensor came out of a gradient; more than once, another entry may hold it */
  handedOut: Map<tf.Tensor, number>;
  /** the dy the caller gave gradients(), never ours to free */
  callerDy?: tf.Tensor;
}

let backward: Backward | undefined;

function release(b: Backward): void {
  if (!b.pending) return;
  for (const dy of b.pending.dys) if ((b.handedOut.get(dy) ?? 0) <= 1 && dy !== b.callerDy) dy.dispose();
  for (const t of b.pending.saved) t.dispose();
  b.pending = undefined;
}

function freeing(engine: EngineInternals, node: TapeNode): void {
  const gradient = node.gradient;
  if (!gradient) return;
  node.gradient = (dys) => {
    // only first-order gradients: a gradient inside a gradient still needs the tape
    const b = backward;
    if (!b || engine.state.gradientDepth !== 0) return gradient(dys);
    release(b);
    const thunks = gradient(dys);
    b.pending = { dys: dys.filter((d) => d != null), saved: node.saved ?? [] };
    const wrapped: Thunks = {};
    for (const [name, thunk] of Object.entries(thunks)) {
      wrapped[name] = () => {
        const dx = thunk();
        b.handedOut.set(dx, (b.handedOut.get(dx) ?? 0) + 1);
        return dx;
      };
    }
    return wrapped;
  };
}

let installed = false;

/** Makes TensorFlow.js free each op's gradients and saved tensors once its backward ran. */
export function installLeanBackprop(): void {
  if (installed) return;
  installed = true;
  const proto = Object.getPrototypeOf(tf.engine()) as EngineInternals;
  const addTapeNode = proto.addTapeNode;
  proto.addTapeNode = function (this: EngineInternals, ...args: unknown[]) {
    addTapeNode.apply(this, args);
    const tape = this.state.activeTape;
    if (tape && tape.length > 0) freeing(this, tape[tape.length - 1]);
  };
  const gradients = proto.gradients;
  proto.gradients = function (this: EngineInternals, f, xs, dy, allowNoGradients) {
    const outer = backward;
    // a gradient computed inside another's backward leaves the outer one's tape alone
    backward = outer ? undefined : { handedOut: new Map(), callerDy: dy };
    const mine = backward;
    try {
      return gradients.call(this, f, xs, dy, allowNoGradients);
    } finally {
      if (mine) release(mine);
      backward = outer;
    }
  };
}
