// Reading an ONNX file as torch.onnx.export writes it: the graph's nodes in order,
// its initializers and Constant outputs as plain arrays, attributes by name. Every
// problem becomes an OnnxImportError that names the file and, where there is one,
// the node.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;

export class OnnxImportError extends Error {
  override name = 'OnnxImportError';
}

export const MIN_OPSET = 7;
export const MAX_OPSET = 21;

/** A constant: initializer, Constant node output, or folded shape arithmetic; values as numbers, row-major. */
export interface Constant {
  dims: number[];
  data: Float32Array | number[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, onnxProto.onnx.IAttributeProto>;
}

export interface OnnxGraphInput {
  name: string;
  /** dimensions; a symbolic one (the batch, usually) is -1 */
  shape: number[];
}

export interface ParsedOnnx {
  opset: number;
  producer: string;
  nodes: OnnxNode[];
  initializers: Map<string, Constant>;
  inputs: OnnxGraphInput[];
  outputs: OnnxGraphInput[];
}

const DataType = onnx.TensorProto.DataType;

/** A TensorProto's values; float types as Float32Array, integer types as numbers. */
export function tensorValues(t: ITensorProto, where: string): Constant {
  const dims = (t.dims ?? []).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  switch (t.dataType) {
    case DataType.FLOAT: {
      const data = new Float32Array(count);
      if (view) for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
      else data.set(t.floatData ?? []);
      return { dims, data };
    }
    case DataType.DOUBLE:
      return {
        dims,
        data: Float32Array.from(view ? Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true)) : (t.doubleData ?? [])),
      };
    case DataType.INT64:
      return {
        dims,
        data: view ? Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true))) : (t.int64Data ?? []).map(Number),
      };
    case DataType.INT32:
      return { dims, data: view ? Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true)) : (t.int32Data ?? []).map(Number) };
    case DataType.BOOL:
    case DataType.UINT8:
      return { dims, data: view ? Array.from(raw!) : (t.int32Data ?? []).map(Number) };
    default: {
      const type = DataType[t.dataType ?? 0] ?? String(t.dataType);
      // what the type says about the file, and what to do
      const why =
        t.dataType === DataType.INT8
          ? 'the file is quantized (int8 weights, zero points): slimtrain trains float models, so export the model before quantizing it'
          : t.dataType === DataType.FLOAT16 || t.dataType === DataType.BFLOAT16
            ? `the file holds ${type} weights: slimtrain trains float32 models, so export the model in float32`
            : 'slimtrain reads float32, float64, int32, int64, uint8 and bool tensors';
      throw new OnnxImportError(`${where}: tensor '${t.name ?? ''}' has data type ${type}; ${why}`);
    }
  }
}

function shapeOf(v: IValueInfoProto): number[] {
  const dims = v.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : -1));
}

/** Decodes an ONNX ModelProto; `file` names it in errors. */
export function parseOnnx(bytes: Uint8Array, file: string): ParsedOnnx {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxImportError(`${file} is not an ONNX model (${(e as Error).message}); export it with torch.onnx.export`);
  }
  const graph = model.graph;
  if (!graph || !graph.node?.length) throw new OnnxImportError(`${file} holds no ONNX graph; export it with torch.onnx.export`);
  const opset = Number(model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new OnnxImportError(
      `${file} uses ONNX opset ${opset}; slimtrain reads opsets ${MIN_OPSET}-${MAX_OPSET}: convert it with onnx.version_converter ` +
        "(python3 -c \"import onnx, onnx.version_converter as v; onnx.save(v.convert_version(onnx.load('IN.onnx'), 13), 'OUT.onnx')\"), " +
        'or export it again at an opset in that range',
    );
  }
  const external = graph.initializer?.find((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
  if (external) {
    throw new OnnxImportError(
      `${file} keeps tensor '${external.name}' in an external data file; export the model as one file (under 2 GB)`,
    );
  }
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', tensorValues(t, file)]));
  return {
    opset,
    producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(),
    nodes: graph.node.map((n, i) => ({
      name: n.name || `${n.opType}_${i}`,
      opType: n.opType ?? '',
      inputs: n.input ?? [],
      outputs: n.output ?? [],
      attrs: new Map((n.attribute ?? []).map((a) => [a.name ?? '', a])),
    })),
    initializers,
    // older exporters list the initializers among the inputs too
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map((v) => ({ name: v.name ?? '', shape: shapeOf(v) })),
    outputs: (graph.output ?? []).map((v) => ({ name: v.name ?? '', shape: shapeOf(v) })),
  };
}

/** Typed reads of a node's attributes, with defaults. */
export function attributes(node: OnnxNode, file: string) {
  const get = (name: string) => node.attrs.get(name);
  return {
    int: (name: string, fallback: number): number => {
      const a = get(name);
      return a?.i !== undefined && a.i !== null ? Number(a.i) : fallback;
    },
    float: (name: string, fallback: number): number => get(name)?.f ?? fallback,
    ints: (name: string, fallback: number[]): number[] => {
      const a = get(name);
      return a?.ints && a.ints.length ? a.ints.map(Number) : fallback;
    },
    string: (name: string, fallback: string): string => {
      const s = get(name)?.s;
      return s && s.length ? new TextDecoder().decode(s) : fallback;
    },
    tensor: (name: string): Constant | undefined => {
      const t = get(name)?.t;
      return t ? tensorValues(t, `${file}, node '${node.name}'`) : undefined;
    },
    has: (name: string) => node.attrs.has(name),
  };
}
export type Attributes = ReturnType<typeof attributes>;

/**
 * An export with training=TrainingMode.TRAINING computes batch norm from the batch and
 * drops out at random; slimtrain's model, at inference, uses the running statistics
 * and keeps everything. This gives the file as inference would run it (training_mode
 * off, the training outputs gone), to compare against; undefined when the file
 * already is.
 */
export function inferenceVersion(bytes: Uint8Array): Uint8Array | undefined {
  const model = onnx.ModelProto.decode(bytes);
  let changed = false;
  for (const n of model.graph?.node ?? []) {
    const mode = n.attribute?.find((a) => a.name === 'training_mode');
    if (n.opType === 'BatchNormalization' && mode && Number(mode.i) === 1) {
      mode.i = 0;
      n.output = (n.output ?? []).slice(0, 1);
      changed = true;
    }
    if (n.opType === 'Dropout' && (n.input ?? []).length > 2) {
      n.input = (n.input ?? []).slice(0, 2);
      n.output = (n.output ?? []).slice(0, 1);
      changed = true;
    }
  }
  return changed ? onnx.ModelProto.encode(model).finish() : undefined;
}

/** Who makes and who reads each value of a graph's nodes, and the constants stored or made by Constant nodes. */
export class OnnxGraphIndex {
  readonly producers = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();

  constructor(
    readonly parsed: ParsedOnnx,
    readonly file: string,
  ) {
    for (const n of parsed.nodes) {
      for (const o of n.outputs) this.producers.set(o, n);
      for (const i of n.inputs) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
    }
  }

  /** a stored constant, or the value of a Constant node (before any folding) */
  constant(name: string): Constant | undefined {
    const stored = this.parsed.initializers.get(name);
    if (stored) return stored;
    const p = this.producers.get(name);
    return p?.opType === 'Constant' ? attributes(p, this.file).tensor('value') : undefined;
  }
}
