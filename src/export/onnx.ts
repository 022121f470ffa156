// TensorFlow.js LayersModel -> ONNX (opset 13), through the layer graph.
//
// The ONNX model takes and gives tensors in the TensorFlow.js layout (NHWC input,
// the model's own output layout), so callers feed it the same arrays; inside, one
// Transpose moves to NCHW, which ONNX's Conv and pooling want, and Flatten moves back
// to NHWC order first so Dense weights keep their meaning. Batch norm is folded into
// the convolution before it where that is exact (the convolution has no activation
// and feeds nothing else). The file is encoded with protobufjs (onnx-proto).
import onnxProto from 'onnx-proto';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildLayerGraph, type GraphNode } from '../graph/layer_graph.js';

const { onnx } = onnxProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;

export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

export interface OnnxExportOptions {
  /** fold BatchNormalization into the preceding convolution where exact (default true) */
  foldBatchNorm?: boolean;
  /** the name written into the model's producer field */
  producer?: string;
}

const OPSET = 13;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

type Attr = number | number[] | string;

/** Accumulates nodes and initializers; names are unique per layer. */
class GraphBuilder {
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
interface Value {
  name: string;
  nchw: boolean;
}

const activations: Record<string, string | null> = {
  linear: null,
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softmax: 'Softmax',
  elu: 'Elu',
  relu6: 'Clip',
  selu: 'Selu',
  softplus: 'Softplus',
};

function activate(g: GraphBuilder, input: string, activation: string | undefined, name: string): string {
  const act = activation ?? 'linear';
  if (!(act in activations)) throw new OnnxExportError(`activation '${act}' of layer '${name}' has no ONNX export`);
  const op = activations[act];
  if (op == null) return input;
  if (op === 'Clip')
    return g.node(
      'Clip',
      [input, g.floats(`${name}/clip_min`, [], Float32Array.of(0)), g.floats(`${name}/clip_max`, [], Float32Array.of(6))],
      `${name}/${act}`,
    );
  return g.node(op, [input], `${name}/${act}`, op === 'Softmax' ? { axis: -1 } : {});
}

/** TensorFlow's 'same'/'valid' padding as ONNX's explicit [top, left, bottom, right]. */
function pads(inH: number, inW: number, k: number[], s: number[], d: number[], padding: string): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  const total = (n: number, i: number) => {
    const out = Math.ceil(n / s[i]);
    return Math.max(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - n);
  };
  const th = total(inH, 0);
  const tw = total(inW, 1);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

const pair = (v: unknown): number[] => (Array.isArray(v) ? (v as number[]) : [v as number, v as number]);

/** [kh, kw, in, out] (TensorFlow.js) -> [out, in, kh, kw] (ONNX). */
function convWeights(w: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
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
function depthwiseWeights(w: Float32Array, [kh, kw, c, m]: number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let ch = 0; ch < c; ch++)
        for (let k = 0; k < m; k++) {
          out[((ch * m + k) * kh + i) * kw + j] = w[((i * kw + j) * c + ch) * m + k];
        }
  return out;
}

/** Writes `model` as an ONNX ModelProto; returns the encoded bytes. */
export function exportOnnx(model: tfl.LayersModel, options: OnnxExportOptions = {}): Uint8Array {
  const fold = options.foldBatchNorm ?? true;
  const graph = buildLayerGraph(model);
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) {
    throw new OnnxExportError(
      `ONNX export handles models with one input and one output; '${model.name}' has ${graph.inputs.length} and ${graph.outputs.length}`,
    );
  }
  const consumers = new Map<string, string[]>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n.name]);
  const weightsOf = (n: GraphNode): Float32Array[] =>
    model
      .getLayer(n.name)
      .getWeights()
      .map((t) => t.dataSync() as Float32Array);
  const g = new GraphBuilder();
  const values = new Map<string, Value>();
  const folded = new Set<string>();
  const inputNode = graph.byName.get(graph.inputs[0])!;
  const inputRank = inputNode.outputShape.length;

  for (const n of graph.nodes) {
    const c = n.config;
    const x = n.inputs.length > 0 ? values.get(n.inputs[0])! : undefined;
    const set = (name: string, nchw: boolean) => values.set(n.name, { name, nchw });
    if (n.isInput) {
      set(inputRank === 3 ? g.node('Transpose', ['input'], `${n.name}/nchw`, { perm: [0, 3, 1, 2] }) : 'input', inputRank === 3);
      continue;
    }
    if (folded.has(n.name)) {
      values.set(n.name, x!);
      continue;
    }
    switch (n.className) {
      case 'Conv2D':
      case 'DepthwiseConv2D':
      case 'SeparableConv2D': {
        const w = weightsOf(n);
        const [inH, inW] = n.inputShapes[0];
        const k = pair(c.kernelSize);
        const s = pair(c.strides);
        const d = pair(c.dilationRate);
        const attrs = { kernel_shape: k, strides: s, dilations: d, pads: pads(inH, inW, k, s, d, c.padding as string) };
        const useBias = c.useBias as boolean;
        let input = x!.name;
        let kernel: Float32Array;
        let kernelShape: number[];
        let group = 1;
        if (n.className === 'SeparableConv2D') {
          const [dw, pw] = [w[0], w[1]];
          const dwShape = n.weights[0].shape;
          input = g.node(
            'Conv',
            [input, g.floats(`${n.name}/depthwise_kernel`, [dwShape[2] * dwShape[3], 1, k[0], k[1]], depthwiseWeights(dw, dwShape))],
            `${n.name}/depthwise`,
            { ...attrs, group: dwShape[2] },
          );
          kernelShape = n.weights[1].shape;
          kernel = convWeights(pw, kernelShape);
          Object.assign(attrs, { kernel_shape: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0] });
        } else if (n.className === 'DepthwiseConv2D') {
          const shape = n.weights[0].shape;
          kernel = depthwiseWeights(w[0], shape);
          kernelShape = [shape[0], shape[1], 1, shape[2] * shape[3]];
          group = shape[2];
        } else {
          kernelShape = n.weights[0].shape;
          kernel = convWeights(w[0], kernelShape);
        }
        const outChannels = kernelShape[3];
        const inPerGroup = kernelShape[2];
        let bias = useBias ? Float32Array.from(w[n.className === 'SeparableConv2D' ? 2 : 1]) : new Float32Array(outChannels);
        const next = consumers.get(n.name) ?? [];
        const bn = next.length === 1 ? graph.byName.get(next[0])! : undefined;
        const linear = (c.activation ?? 'linear') === 'linear';
        if (fold && linear && bn?.className === 'BatchNormalization' && [-1, 3].includes(bn.config.axis as number)) {
          const [gamma, beta, mean, variance] = batchNormParams(bn, weightsOf(bn), outChannels);
          const eps = bn.config.epsilon as number;
          const per = kernel.length / outChannels;
          for (let o = 0; o < outChannels; o++) {
            const scale = gamma[o] / Math.sqrt(variance[o] + eps);
            for (let i = 0; i < per; i++) kernel[o * per + i] *= scale;
            bias[o] = (bias[o] - mean[o]) * scale + beta[o];
          }
          folded.add(bn.name);
        } else if (!useBias) {
          bias = new Float32Array(0);
        }
        const inputs = [input, g.floats(`${n.name}/kernel`, [outChannels, inPerGroup, kernelShape[0], kernelShape[1]], kernel)];
        if (bias.length > 0) inputs.push(g.floats(`${n.name}/bias`, [outChannels], bias));
        set(activate(g, g.node('Conv', inputs, `${n.name}/conv`, { ...attrs, group }), c.activation as string, n.name), true);
        break;
      }
      case 'BatchNormalization': {
        if (x!.nchw ? ![-1, 3].includes(c.axis as number) : ![-1, 1].includes(c.axis as number)) {
          throw new OnnxExportError(`layer '${n.name}' normalises axis ${c.axis}; ONNX export handles the channel axis only`);
        }
        const channels = n.outputShape[n.outputShape.length - 1];
        const [gamma, beta, mean, variance] = batchNormParams(n, weightsOf(n), channels);
        const p = (role: string, v: Float32Array) => g.floats(`${n.name}/${role}`, [channels], v);
        set(
          g.node(
            'BatchNormalization',
            [x!.name, p('gamma', gamma), p('beta', beta), p('mean', mean), p('variance', variance)],
            `${n.name}/bn`,
            { epsilon: c.epsilon as number },
          ),
          x!.nchw,
        );
        break;
      }
      case 'Dense': {
        const w = weightsOf(n);
        const [inUnits, units] = n.weights[0].shape;
        const inputs = [x!.name, g.floats(`${n.name}/kernel`, [inUnits, units], w[0])];
        if (c.useBias) inputs.push(g.floats(`${n.name}/bias`, [units], w[1]));
        set(activate(g, g.node('Gemm', inputs, `${n.name}/gemm`), c.activation as string, n.name), false);
        break;
      }
      case 'Flatten': {
        const nhwc = x!.nchw ? g.node('Transpose', [x!.name], `${n.name}/nhwc`, { perm: [0, 2, 3, 1] }) : x!.name;
        set(g.node('Flatten', [nhwc], `${n.name}/flatten`, { axis: 1 }), false);
        break;
      }
      case 'ReLU': {
        const max = c.maxValue as number | null | undefined;
        set(
          max == null
            ? g.node('Relu', [x!.name], `${n.name}/relu`)
            : g.node(
                'Clip',
                [x!.name, g.floats(`${n.name}/min`, [], Float32Array.of(0)), g.floats(`${n.name}/max`, [], Float32Array.of(max))],
                `${n.name}/clip`,
              ),
          x!.nchw,
        );
        break;
      }
      case 'Activation':
        set(activate(g, x!.name, c.activation as string, n.name), x!.nchw);
        break;
      case 'Dropout':
      case 'SpatialDropout2D':
        values.set(n.name, x!);
        break;
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const [inH, inW] = n.inputShapes[0];
        const k = pair(c.poolSize);
        const s = pair(c.strides ?? c.poolSize);
        const attrs: Record<string, Attr> = { kernel_shape: k, strides: s, pads: pads(inH, inW, k, s, [1, 1], c.padding as string) };
        if (n.className === 'AveragePooling2D') attrs.count_include_pad = 0;
        set(g.node(n.className === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x!.name], `${n.name}/pool`, attrs), true);
        break;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        const pooled = g.node(n.className === 'GlobalMaxPooling2D' ? 'GlobalMaxPool' : 'GlobalAveragePool', [x!.name], `${n.name}/pool`);
        set(g.node('Flatten', [pooled], `${n.name}/flatten`, { axis: 1 }), false);
        break;
      }
      case 'ZeroPadding2D': {
        const [[t, b], [l, r]] = (c.padding as number[][]).map(pair);
        set(g.node('Pad', [x!.name, g.ints(`${n.name}/pads`, [0, 0, t, l, 0, 0, b, r])], `${n.name}/pad`), true);
        break;
      }
      case 'Add':
      case 'Multiply':
      case 'Average':
      case 'Maximum':
      case 'Minimum': {
        const op = { Add: 'Sum', Multiply: 'Mul', Average: 'Mean', Maximum: 'Max', Minimum: 'Min' }[n.className]!;
        const ins = n.inputs.map((i) => values.get(i)!);
        if (op === 'Mul') {
          let acc = ins[0].name;
          ins.slice(1).forEach((v, i) => (acc = g.node('Mul', [acc, v.name], `${n.name}/mul${i}`)));
          set(acc, ins[0].nchw);
        } else {
          set(
            g.node(
              op,
              ins.map((v) => v.name),
              `${n.name}/${op.toLowerCase()}`,
            ),
            ins[0].nchw,
          );
        }
        break;
      }
      case 'Concatenate': {
        const ins = n.inputs.map((i) => values.get(i)!);
        const rank = n.outputShape.length + 1;
        const axis = ((c.axis as number) + rank) % rank;
        set(
          g.node(
            'Concat',
            ins.map((v) => v.name),
            `${n.name}/concat`,
            { axis: ins[0].nchw ? [0, 2, 3, 1][axis] : axis },
          ),
          ins[0].nchw,
        );
        break;
      }
      default:
        throw new OnnxExportError(
          `layer '${n.name}' (${n.className}) has no ONNX export; supported: Conv2D, DepthwiseConv2D, SeparableConv2D, Dense, BatchNormalization, ReLU, Activation, pooling, Flatten, Dropout, ZeroPadding2D, Add, Multiply, Average, Maximum, Minimum, Concatenate`,
        );
    }
  }

  const out = values.get(graph.outputs[0])!;
  g.node(out.nchw ? 'Transpose' : 'Identity', [out.name], 'output', out.nchw ? { perm: [0, 2, 3, 1] } : {});
  const outputNode = graph.byName.get(graph.outputs[0])!;
  const tensorType = (shape: number[]) => ({
    tensorType: {
      elemType: FLOAT,
      shape: { dim: [{ dimParam: 'batch' }, ...shape.map((d) => (d > 0 ? { dimValue: d } : { dimParam: 'unknown' }))] },
    },
  });
  const proto = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: options.producer ?? 'slimtrain',
    graph: {
      name: model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [{ name: 'input', type: tensorType(inputNode.outputShape) }],
      output: [{ name: 'output', type: tensorType(outputNode.outputShape) }],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** gamma, beta, moving mean, moving variance, with the defaults of a layer without scale or centre. */
function batchNormParams(n: GraphNode, w: Float32Array[], channels: number): Float32Array[] {
  const byRole = new Map(n.weights.map((info) => [info.role, w[info.index]]));
  return [
    byRole.get('gamma') ?? new Float32Array(channels).fill(1),
    byRole.get('beta') ?? new Float32Array(channels),
    byRole.get('moving_mean')!,
    byRole.get('moving_variance')!,
  ];
}
