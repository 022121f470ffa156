// Elementwise kernels with broadcasting, comparisons, selection, and the
// gradients of ReLU, swish and clipping, by OpenMP loops.
import { backend_util } from '@tensorflow/tfjs-core';
import { shapeSize } from '../../../util/shape.js';
import { allFloat, allocate, output, values, type NativeKernel } from '../kernel.js';

/**
 * Per-dimension read strides of an operand of `shape` broadcast to `outShape`, with
 * dimensions merged where both operands step through them alike (so a channel vector
 * against an NHWC tensor becomes a [rows, channels] loop and equal shapes one flat run).
 */
function broadcastLoop(aShape: number[], bShape: number[], outShape: number[]) {
  const strides = (shape: number[]) => {
    const out = new Array<number>(outShape.length).fill(0);
    let step = 1;
    for (let i = shape.length - 1, d = outShape.length - 1; i >= 0; i--, d--) {
      out[d] = shape[i] === 1 ? 0 : step;
      step *= shape[i];
    }
    return out;
  };
  const as = strides(aShape);
  const bs = strides(bShape);
  const dims: { size: number; a: number; b: number }[] = [];
  outShape.forEach((n, d) => {
    if (n === 1) return;
    const last = dims[dims.length - 1];
    const merges = (s: number, ls: number) => (s === 0 && ls === 0) || (s !== 0 && ls === s * n);
    if (last && merges(as[d], last.a) && merges(bs[d], last.b)) {
      last.size *= n;
      last.a = as[d];
      last.b = bs[d];
    } else {
      dims.push({ size: n, a: as[d], b: bs[d] });
    }
  });
  if (dims.length === 0) dims.push({ size: 1, a: 0, b: 0 });
  return {
    shape: Int32Array.from(dims, (d) => d.size),
    a: Int32Array.from(dims, (d) => d.a),
    b: Int32Array.from(dims, (d) => d.b),
  };
}

/** op(a, b) with broadcasting; `names` are the kernel's two inputs, in order */
export function binary(op: number, names: [string, string] = ['a', 'b']): NativeKernel {
  return (addon, inputs, _attrs, backend) => {
    const [a, b] = names.map((n) => inputs[n]);
    if (!allFloat(a, b)) return null;
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (shapeSize(outShape) === 0) return null;
    const loop = broadcastLoop(a.shape, b.shape, outShape);
    const out = allocate(backend, shapeSize(outShape));
    addon.binary(op, values(backend, a), loop.a, values(backend, b), loop.b, out, loop.shape);
    return output(backend, outShape, out);
  };
}

/** a comparison of float32 tensors with broadcasting, as a bool tensor */
export function compare(op: number): NativeKernel {
  return (addon, inputs, _attrs, backend) => {
    const { a, b } = inputs;
    if (!allFloat(a, b)) return null;
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (shapeSize(outShape) === 0) return null;
    const loop = broadcastLoop(a.shape, b.shape, outShape);
    const out = new Uint8Array(shapeSize(outShape));
    addon.compare(op, values(backend, a), loop.a, values(backend, b), loop.b, out, loop.shape);
    return backend.makeTensorInfo(outShape, 'bool', out);
  };
}

/** Select (tf.where) with a condition the size of its float32 branches */
export const select: NativeKernel = (addon, inputs, _attrs, backend) => {
  const { condition, t, e } = inputs;
  const size = shapeSize(t.shape);
  const flags = backend.data.get(condition.dataId).values;
  if (!allFloat(t, e) || !(flags instanceof Uint8Array) || size === 0 || shapeSize(condition.shape) !== size) return null;
  const out = allocate(backend, size);
  addon.select(flags, values(backend, t), values(backend, e), out);
  return output(backend, t.shape, out);
};

export function unary(op: number): NativeKernel {
  return (addon, inputs, attrs, backend) => {
    const { x } = inputs;
    if (!allFloat(x) || shapeSize(x.shape) === 0) return null;
    const y = allocate(backend, shapeSize(x.shape));
    addon.unary(op, values(backend, x), y, (attrs.alpha as number | undefined) ?? 0);
    return output(backend, x.shape, y);
  };
}

// kernels of our own, which only the native backend has (engine/fused_training.ts uses them)
export const ReluGrad = 'SlimtrainReluGrad';
/** x * sigmoid(x), the swish activation as one kernel (TensorFlow.js composes it from three) */
export const Swish = 'SlimtrainSwish';
export const SwishGrad = 'SlimtrainSwishGrad';
export const Relu6Grad = 'SlimtrainRelu6Grad';
export const ClipByValueGrad = 'SlimtrainClipByValueGrad';

/** dx = dy * f'(x) for an elementwise f: op 0 ReLU, 1 swish */
export const unaryGrad =
  (op: number): NativeKernel =>
  (addon, inputs, _attrs, backend) => {
    const { dy, x } = inputs;
    if (!allFloat(dy, x)) return null;
    const dx = allocate(backend, shapeSize(x.shape));
    addon.unaryGrad(op, values(backend, dy), values(backend, x), dx);
    return output(backend, x.shape, dx);
  };

/** dy where lo <= x <= hi (attrs: clipValueMin, clipValueMax), or, for Relu6, where 0 < x <= 6 */
export const clipGrad =
  (relu6: boolean): NativeKernel =>
  (addon, inputs, attrs, backend) => {
    const { dy, x } = inputs;
    if (!allFloat(dy, x)) return null;
    const [lo, hi] = relu6 ? [0, 6] : [attrs.clipValueMin as number, attrs.clipValueMax as number];
    const dx = allocate(backend, shapeSize(x.shape));
    addon.clipGrad(values(backend, dy), values(backend, x), lo, hi, relu6, dx);
    return output(backend, x.shape, dx);
  };

export const clipByValue: NativeKernel = (addon, inputs, attrs, backend) => {
  const { x } = inputs;
  if (x.dtype !== 'float32') return null;
  const y = allocate(backend, shapeSize(x.shape));
  addon.clip(values(backend, x), attrs.clipValueMin as number, attrs.clipValueMax as number, y);
  return output(backend, x.shape, y);
};
