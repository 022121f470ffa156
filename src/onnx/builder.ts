// The pieces every layer's ONNX writer uses: the graph being built (nodes and
// initializers), where a value stands (NCHW or not), activations, TensorFlow padding
// as ONNX pads, and kernels in ONNX's layout. Encoded with protobufjs (onnx-proto).
import onnxProto from 'onnx-proto';
import type { OnnxInterface } from './interface.js';

const { onnx } = onnxProto;
export type INodeProto = onnxProto.onnx.INodeProto;
export type ITensorProto = onnxProto.onnx.ITensorProto;

export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

export interface OnnxExportOptions {
  /** fold BatchNormalization into the preceding convolution where exact (default true) */
  foldBatchNorm?: boolean;
  /** the name written into the model's producer field */
  producer?: string;
  /**
   * names and layouts to give the file (an imported model's, so its slim model drops in
   * where the original ran); default: input, input_1, ... and output, ... in TensorFlow.js's layout
   */
  interface?: OnnxInterface;
}

export const OPSET = 13;
export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;

export type Attr = number | number[] | string;

/** Accumulates nodes and initializers; names are unique per layer. */
export class OnnxGraph {
  readonly nodes: INodeProto[] = [];
  readonly initializers: ITensorProto[] = [];

  node(op: string, inputs: string[], output: string, attrs: Record<string, Attr> = {}): string {
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'string') return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) };
      if (Array.isArray(v)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
      return Number.isInteger(v) && name !== 'epsilon' && name !== 'alpha' && name !== 'min' && name !== 'max'
        ? { name, type: onnx.AttributeProto.AttributeType.INT, i: v }
        : { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v };
    });
    this.nodes.push({ opType: op, input: inputs, output: [output], name: output, attribute });
    return output;
  }

  floats(name: string, dims: number[], values: Float32Array): string {
    const bytes = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: bytes });
    return name;
  }

  ints(name: string, values: number[]): string {
    this.initializers.push({ name, dims: [values.length], dataType: INT64, int64Data: values });
    return name;
  }
}

/** Where a tensor of the ONNX graph stands: its name and whether it is a 4-D NCHW activation. */
export interface OnnxValue {
  name: string;
  nchw: boolean;
}

/** Writes activation f(x) for a layer named n; `axis` is where the channels are (for softmax). */
type ActivationWriter = (g: OnnxGraph, x: string, n: string, axis: number) => string;
const op =
  (type: string, attrs: Record<string, Attr> = {}): ActivationWriter =>
  (g, x, n) =>
    g.node(type, [x], `${n}/${type.toLowerCase()}`, attrs);
const times = (g: OnnxGraph, x: string, fx: string, n: string) => g.node('Mul', [x, fx], `${n}/times_x`);
const scalar = (g: OnnxGraph, name: string, v: number) => g.floats(name, [], Float32Array.of(v));

function geluTanh(g: OnnxGraph, x: string, n: string): string {
  const cube = g.node('Pow', [x, scalar(g, `${n}/three`, 3)], `${n}/cube`);
  const inner = g.node('Add', [x, g.node('Mul', [cube, scalar(g, `${n}/k`, 0.044715)], `${n}/cubek`)], `${n}/inner`);
  const t = g.node('Tanh', [g.node('Mul', [inner, scalar(g, `${n}/c`, Math.sqrt(2 / Math.PI))], `${n}/scaled`)], `${n}/tanh`);
  const cdf = g.node('Mul', [g.node('Add', [t, scalar(g, `${n}/one`, 1)], `${n}/tanh1`), scalar(g, `${n}/half`, 0.5)], `${n}/cdf`);
  return times(g, x, cdf, n);
}

/** TensorFlow.js's activations, as its tfjs-layers computes them */
const activations: Record<string, ActivationWriter | null> = {
  linear: null,
  relu: op('Relu'),
  sigmoid: op('Sigmoid'),
  tanh: op('Tanh'),
  elu: op('Elu'),
  selu: op('Selu'),
  softplus: op('Softplus'),
  softsign: op('Softsign'),
  exponential: op('Exp'),
  // tfjs-layers names it hardSigmoid in a model's config, Keras hard_sigmoid
  hardSigmoid: op('HardSigmoid', { alpha: 0.2, beta: 0.5 }),
  hard_sigmoid: op('HardSigmoid', { alpha: 0.2, beta: 0.5 }),
  softmax: (g, x, n, axis) => g.node('Softmax', [x], `${n}/softmax`, { axis }),
  relu6: (g, x, n) => g.node('Clip', [x, scalar(g, `${n}/clip_min`, 0), scalar(g, `${n}/clip_max`, 6)], `${n}/relu6`),
  swish: (g, x, n) => times(g, x, g.node('Sigmoid', [x], `${n}/sigmoid`), n),
  mish: (g, x, n) => times(g, x, g.node('Tanh', [g.node('Softplus', [x], `${n}/softplus`)], `${n}/tanh`), n),
  // x * 0.5 (1 + erf(x / sqrt 2))
  gelu: (g, x, n) => {
    const erf = g.node('Erf', [g.node('Div', [x, scalar(g, `${n}/sqrt2`, Math.SQRT2)], `${n}/scaled`)], `${n}/erf`);
    const cdf = g.node('Mul', [g.node('Add', [erf, scalar(g, `${n}/one`, 1)], `${n}/erf1`), scalar(g, `${n}/half`, 0.5)], `${n}/cdf`);
    return times(g, x, cdf, n);
  },
  // x * 0.5 (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))); read back from a model.json as geluNew
  gelu_new: geluTanh,
  geluNew: geluTanh,
};

/** The layer's `activation` applied to `input`; `nchw`: the channels are axis 1, not the last. */
export function activate(g: OnnxGraph, input: string, activation: string | undefined, name: string, nchw = false): string {
  const act = activation ?? 'linear';
  if (!(act in activations)) throw new OnnxExportError(`activation '${act}' of layer '${name}' has no ONNX export`);
  const write = activations[act];
  return write ? write(g, input, name, nchw ? 1 : -1) : input;
}

/** TensorFlow's 'same'/'valid' padding as ONNX's explicit [top, left, bottom, right]. */
export function pads(inH: number, inW: number, k: number[], s: number[], d: number[], padding: string): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  const total = (n: number, i: number) => {
    const out = Math.ceil(n / s[i]);
    return Math.max(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - n);
  };
  const th = total(inH, 0);
  const tw = total(inW, 1);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

export const pair = (v: unknown): number[] => (Array.isArray(v) ? (v as number[]) : [v as number, v as number]);

/** [kh, kw, in, out] (TensorFlow.js) -> [out, in, kh, kw] (ONNX). */
export function convWeights(w: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < ci; c++)
        for (let o = 0; o < co; o++) {
          out[((o * ci + c) * kh + i) * kw + j] = w[((i * kw + j) * ci + c) * co + o];
        }
  return out;
}

/** [kh, kw, c, m] depthwise -> [c*m, 1, kh, kw] grouped. */
export function depthwiseWeights(w: Float32Array, [kh, kw, c, m]: number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let ch = 0; ch < c; ch++)
        for (let k = 0; k < m; k++) {
          out[((ch * m + k) * kh + i) * kw + j] = w[((i * kw + j) * c + ch) * m + k];
        }
  return out;
}

/** gamma, beta, moving mean, moving variance, with the defaults of a layer without scale or centre. */
export function batchNormParams(
  n: { weights: readonly { role: string; index: number }[] },
  w: Float32Array[],
  channels: number,
): Float32Array[] {
  const byRole = new Map(n.weights.map((info) => [info.role, w[info.index]]));
  return [
    byRole.get('gamma') ?? new Float32Array(channels).fill(1),
    byRole.get('beta') ?? new Float32Array(channels),
    byRole.get('moving_mean')!,
    byRole.get('moving_variance')!,
  ];
}
