// Constant folding: the shape arithmetic exporters write around Reshape and Pad
// (Shape -> Gather -> Unsqueeze -> Concat, ConstantOfShape -> Slice -> Transpose, ...)
// evaluated at import on plain arrays. The batch size is not known at import: Shape
// gives it as NaN, and whatever is computed from it stays NaN.
import type { Attributes, Constant } from './onnx_model.js';

type Fold = (inputs: (Constant | undefined)[], attrs: Attributes, opset: number) => Constant;

const sizeOf = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
const stridesOf = (dims: number[]) => dims.map((_, i) => sizeOf(dims.slice(i + 1)));
const isFloat = (c: Constant) => c.data instanceof Float32Array;
const values = (c: Constant | undefined) => (c ? Array.from(c.data) : []);
export const axisOf = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** A constant of `dims` whose element at each index is `at(index)`; float when `float`. */
function build(dims: number[], float: boolean, at: (index: number[]) => number): Constant {
  const size = sizeOf(dims);
  const strides = stridesOf(dims);
  const out = float ? new Float32Array(size) : new Array<number>(size);
  for (let k = 0; k < size; k++) out[k] = at(dims.map((d, i) => Math.floor(k / strides[i]) % d));
  return { dims, data: out };
}

const read = (c: Constant, index: number[]) => c.data[index.reduce((acc, v, i) => acc + v * stridesOf(c.dims)[i], 0)];

/** numpy broadcasting of two constants */
function broadcast(a: Constant, b: Constant, f: (x: number, y: number) => number): Constant {
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (d: number[]) => [...new Array<number>(rank - d.length).fill(1), ...d];
  const [da, db] = [pad(a.dims), pad(b.dims)];
  const dims = da.map((d, i) => Math.max(d, db[i]));
  const pick = (c: Constant, d: number[], index: number[]) =>
    read(
      { ...c, dims: d },
      index.map((v, i) => (d[i] === 1 ? 0 : v)),
    );
  return build(dims, isFloat(a) || isFloat(b), (index) => f(pick(a, da, index), pick(b, db, index)));
}

/** Unsqueeze/Squeeze take their axes as an attribute before opset 13, as an input since. */
export const axesOf = (inputs: (Constant | undefined)[], attrs: Attributes, opset: number): number[] | undefined =>
  opset >= 13 ? (inputs[1] ? values(inputs[1]) : undefined) : attrs.has('axes') ? attrs.ints('axes', []) : undefined;

/** `dims` after a Squeeze (without axes: of every axis of size 1) or an Unsqueeze of `axes` */
export function squeezedDims(opType: string, dims: readonly number[], axes: number[] | undefined): number[] {
  if (opType === 'Unsqueeze') {
    const rank = dims.length + (axes?.length ?? 0);
    const out = [...dims];
    for (const a of (axes ?? []).map((a) => axisOf(a, rank)).sort((p, q) => p - q)) out.splice(a, 0, 1);
    return out;
  }
  const gone = axes?.map((a) => axisOf(a, dims.length));
  return dims.filter((d, i) => (gone ? !gone.includes(i) : d !== 1));
}

const arithmetic =
  (f: (x: number, y: number) => number): Fold =>
  ([a, b]) =>
    broadcast(a!, b!, f);

/**
 * What a Slice takes along each axis it names, for data of shape `dims`: starts,
 * ends, axes and steps are inputs from opset 10 (`args`: the inputs after the data),
 * attributes before.
 */
export function sliceRanges(
  args: (Constant | undefined)[],
  attrs: Attributes,
  opset: number,
  dims: readonly number[],
): { axis: number; begin: number; step: number; count: number }[] {
  const list = (name: string): Constant | undefined =>
    attrs.has(name) ? { dims: [attrs.ints(name, []).length], data: attrs.ints(name, []) } : undefined;
  const [starts, ends, axesIn, stepsIn] = opset < 10 ? [list('starts'), list('ends'), list('axes')] : args;
  const axes = axesIn ? values(axesIn).map((a) => axisOf(a, dims.length)) : values(starts).map((_, i) => i);
  const steps = stepsIn ? values(stepsIn) : axes.map(() => 1);
  return axes.map((axis, i) => {
    const n = dims[axis];
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
    const step = steps[i];
    // ONNX clamps starts to [0, n] going forward and to [0, n - 1] going back; ends to [-1, n - 1] going back
    const begin = step > 0 ? clamp(values(starts)[i], 0, n) : clamp(values(starts)[i], 0, n - 1);
    const end = step > 0 ? clamp(values(ends)[i], 0, n) : clamp(values(ends)[i], -1, n - 1);
    return { axis, begin, step, count: Math.max(0, Math.ceil((end - begin) / step)) };
  });
}

export const CONSTANT_FOLDS: Record<string, Fold> = {
  Identity: ([x]) => x!,
  Cast: ([x], attrs) => {
    const float = [1, 10, 11, 16].includes(attrs.int('to', 1));
    return { dims: x!.dims, data: float ? Float32Array.from(x!.data) : Array.from(x!.data, (v) => (Number.isNaN(v) ? v : Math.trunc(v))) };
  },
  Add: arithmetic((x, y) => x + y),
  Sub: arithmetic((x, y) => x - y),
  Mul: arithmetic((x, y) => x * y),
  // integer division truncates (a chunk's size, (C + 1) / 2, from a Shape)
  Div: ([a, b]) => broadcast(a!, b!, isFloat(a!) || isFloat(b!) ? (x, y) => x / y : (x, y) => Math.trunc(x / y)),
  Unsqueeze: (inputs, attrs, opset) => ({
    dims: squeezedDims('Unsqueeze', inputs[0]!.dims, axesOf(inputs, attrs, opset)),
    data: inputs[0]!.data,
  }),
  Squeeze: (inputs, attrs, opset) => ({
    dims: squeezedDims('Squeeze', inputs[0]!.dims, axesOf(inputs, attrs, opset)),
    data: inputs[0]!.data,
  }),
  Concat(inputs, attrs) {
    const parts = inputs.filter((c): c is Constant => c !== undefined);
    const axis = axisOf(attrs.int('axis', 0), parts[0].dims.length);
    const dims = [...parts[0].dims];
    dims[axis] = parts.reduce((n, c) => n + c.dims[axis], 0);
    return build(dims, parts.some(isFloat), (index) => {
      let k = index[axis];
      const part = parts.find((c) => (k < c.dims[axis] ? true : ((k -= c.dims[axis]), false)))!;
      return read(
        part,
        index.map((v, i) => (i === axis ? k : v)),
      );
    });
  },
  Gather([data, indices], attrs) {
    const axis = axisOf(attrs.int('axis', 0), data!.dims.length);
    const idx = indices!;
    const dims = [...data!.dims.slice(0, axis), ...idx.dims, ...data!.dims.slice(axis + 1)];
    return build(dims, isFloat(data!), (index) => {
      const at = read(idx, index.slice(axis, axis + idx.dims.length));
      const source = [...index.slice(0, axis), at < 0 ? at + data!.dims[axis] : at, ...index.slice(axis + idx.dims.length)];
      return read(data!, source);
    });
  },
  Slice(inputs, attrs, opset) {
    const data = inputs[0]!;
    const begin = data.dims.map(() => 0);
    const step = data.dims.map(() => 1);
    const dims = [...data.dims];
    for (const r of sliceRanges(inputs.slice(1), attrs, opset, data.dims)) {
      begin[r.axis] = r.begin;
      step[r.axis] = r.step;
      dims[r.axis] = r.count;
    }
    return build(dims, isFloat(data), (index) =>
      read(
        data,
        index.map((v, i) => begin[i] + v * step[i]),
      ),
    );
  },
  Transpose([x], attrs) {
    const rank = x!.dims.length;
    const perm = attrs.ints('perm', [...Array(rank).keys()].reverse());
    const dims = perm.map((p) => x!.dims[p]);
    return build(dims, isFloat(x!), (index) => {
      const source = new Array<number>(rank);
      perm.forEach((p, i) => (source[p] = index[i]));
      return read(x!, source);
    });
  },
  Reshape([x, shape]) {
    const target = values(shape).map((d, i) => (d === 0 ? x!.dims[i] : d));
    const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    return { dims: target.map((d) => (d === -1 ? sizeOf(x!.dims) / known : d)), data: x!.data };
  },
  ConstantOfShape([shape], attrs) {
    const value = attrs.tensor('value') ?? { dims: [1], data: new Float32Array(1) };
    return build(values(shape), isFloat(value), () => value.data[0]);
  },
};
