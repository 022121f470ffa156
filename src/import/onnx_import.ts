// ONNX -> a trainable TensorFlow.js LayersModel. The graph is walked once in order;
// each node is folded to a constant (constants.ts) or converted by its operator's
// converter (registry.ts), NCHW values held as NHWC and weights transposed once. The
// import always checks itself: the file runs in ONNX Runtime and the model in
// TensorFlow.js on seeded inputs, and a model whose outputs differ beyond float32
// round-off is refused.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { checkOnnx, type OnnxCheck } from '../onnx/check.js';
import type { OnnxInterface, OnnxTensorSpec } from '../onnx/interface.js';
import { CONSTANT_FOLDS } from './constants.js';
import { foldPatterns } from './patterns.js';
import { onnxSampleShape, tensorOf, type OpContext, type TensorValue, type Value } from './context.js';
import {
  attributes,
  inferenceVersion,
  OnnxGraphIndex,
  OnnxImportError,
  parseOnnx,
  type Constant,
  type OnnxNode,
  type ParsedOnnx,
} from './onnx_model.js';
import { OP_CONVERTERS, supportedOnnxOps, UNSUPPORTED_HINTS } from './registry.js';
import { stepCounter, StopRequested, type ProgressListener } from '../util/progress.js';

export { OnnxImportError } from './onnx_model.js';

export interface ImportedOnnx {
  model: tfl.LayersModel;
  interface: OnnxInterface;
  opset: number;
  producer: string;
  /** exported in training mode: checked against the file run in inference mode (running statistics, no dropout) */
  trainingMode: boolean;
  /** ONNX Runtime on the file against TensorFlow.js on the model */
  check: OnnxCheck;
}

const layerName = (s: string) => s.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'node';

/** an ONNX shape for people: free dimensions as '?' */
const shown = (shape: readonly number[]) => `[${shape.map((d) => (d > 0 ? d : '?')).join(', ')}]`;

/**
 * The sizes a graph input takes: its own, with the free ones (other than the batch)
 * from `given` (one sample's dims in ONNX order, e.g. [3, 640, 640]).
 */
function fixedSample(spec: { name: string; shape: number[] }, file: string, given?: readonly number[]): number[] {
  const [, ...sample] = spec.shape;
  if (given) {
    if (given.length !== sample.length || sample.some((d, i) => d > 0 && d !== given[i])) {
      throw new OnnxImportError(
        `${file}: input '${spec.name}' has the shape ${shown(spec.shape)}; --input-shape ${given.join('x')} does not fit it (give one sample's ${sample.length} sizes in ONNX order, the fixed ones as they are)`,
      );
    }
    return [...given];
  }
  if (sample.some((d) => d <= 0)) {
    throw new OnnxImportError(
      `${file}: input '${spec.name}' has free sizes ${shown(spec.shape)}; give the size to work at with --input-shape ` +
        `(API: { modelInputShape: [...] }), e.g. --input-shape ${sample.map((d) => (d > 0 ? d : 224)).join('x')}`,
    );
  }
  return sample;
}

/**
 * A graph input as a tensor. An image input is (N, C, H, W), unless `asItIs`: the
 * file turns it to NCHW first (tf2onnx's TensorFlow and Keras exports) or only
 * reshapes it, and TensorFlow.js takes it as it is; any other rank is taken as it is.
 */
function graphInput(
  spec: { name: string; shape: number[] },
  file: string,
  given: readonly number[] | undefined,
  asItIs: boolean,
): TensorValue {
  const sample = fixedSample(spec, file, given);
  if (asItIs && sample.length === 3) return tensorOf(tfl.input({ shape: sample, name: layerName(spec.name) }), 'flat');
  if (sample.length === 3) return tensorOf(tfl.input({ shape: [sample[1], sample[2], sample[0]], name: layerName(spec.name) }), 'nchw');
  // (N, F), and sequences such as (N, T, F): as they are
  if (sample.length > 0) return tensorOf(tfl.input({ shape: sample, name: layerName(spec.name) }), 'flat');
  const shown = spec.shape.map((d) => (d < 0 ? '?' : d)).join(', ');
  throw new OnnxImportError(`${file}: input '${spec.name}' has shape [${shown}]; slimtrain imports tensors with a batch axis`);
}

function spec(name: string, v: TensorValue): OnnxTensorSpec {
  return { name, shape: [-1, ...onnxSampleShape(v)], layout: v.layout };
}

/** The graph's values as they are computed, and who makes and reads each. */
class GraphState extends OnnxGraphIndex {
  readonly values = new Map<string, Value>();
  readonly absorbed = new Map<OnnxNode, Value[]>();
  private readonly usedNames = new Set<string>();

  constructor(parsed: ParsedOnnx, file: string) {
    super(parsed, file);
    for (const [name, c] of parsed.initializers) this.values.set(name, { kind: 'const', ...c });
  }

  /** a layer name from the node's, unique in the model */
  layerNameFor(node: OnnxNode, suffix: string): string {
    let name = layerName(node.name) + suffix;
    for (let k = 1; this.usedNames.has(name); k++) name = `${layerName(node.name)}${suffix}_${k}`;
    this.usedNames.add(name);
    return name;
  }

  /** Folds the node to a constant, or converts it with its operator's converter. */
  convert(node: OnnxNode): Value[] {
    const fail = (why: string): never => {
      throw new OnnxImportError(`${this.file}: node '${node.name}' (${node.opType}): ${why}`);
    };
    const got = node.inputs.map((name) =>
      name ? (this.values.get(name) ?? fail(`its input '${name}' is not computed before it`)) : undefined,
    );
    if (!['Reshape', 'Transpose'].includes(node.opType) && got.some((v) => v?.kind === 'tensor' && v.grouped)) {
      fail(
        'its input is a 5-D (N, G, C/G, H, W) view of the channels, which slimtrain takes only within a channel shuffle (Reshape, Transpose [0, 2, 1, 3, 4], Reshape back)',
      );
    }
    const attrs = attributes(node, this.file);
    const fold = CONSTANT_FOLDS[node.opType];
    if (fold && got.length > 0 && got.every((v) => v === undefined || v.kind === 'const')) {
      return [{ kind: 'const', ...fold(got as (Constant | undefined)[], attrs, this.parsed.opset) }];
    }
    const convert = OP_CONVERTERS[node.opType];
    if (!convert) fail(notImported(node.opType));
    const context: OpContext = {
      node,
      attrs,
      opset: this.parsed.opset,
      value: (i) => got[i],
      tensor: (i) => {
        const v = got[i];
        return v?.kind === 'tensor'
          ? v
          : fail(`input ${i} ('${node.inputs[i] ?? ''}') must be a computed tensor, not ${v ? 'a constant' : 'absent'}`);
      },
      constant: (i) => {
        const v = got[i];
        return v === undefined || v.kind === 'const' ? v : fail(`input ${i} ('${node.inputs[i]}') must be a stored constant`);
      },
      constantNamed: (name) => {
        const v = this.values.get(name);
        return v?.kind === 'const' ? v : undefined;
      },
      producer: (name) => this.producers.get(name),
      consumers: (name) => this.consumers.get(name) ?? [],
      absorb: (n, vs) => this.absorbed.set(n, vs),
      apply: (make, ins, weights = [], suffix = '') => {
        const layer = make(this.layerNameFor(node, suffix));
        const out = layer.apply(Array.isArray(ins) ? ins.map((v) => v.t) : ins.t) as tfl.SymbolicTensor;
        if (weights.length) layer.setWeights(weights);
        return out;
      },
      fail,
    };
    const result = convert(context);
    return Array.isArray(result) ? result : [result];
  }
}

const unsupportedHint = (op: string) => UNSUPPORTED_HINTS[op] ?? 'Replace it in the model or export without it';
const notImported = (op: string) =>
  `operator ${op} is not supported. ${unsupportedHint(op)}. slimtrain imports ${supportedOnnxOps.join(', ')}`;

/**
 * Every operator the graph uses that slimtrain neither converts nor folds, named at
 * once and before anything else (a recurrent model's shapes would otherwise be
 * complained of first), with where each is used.
 */
function checkOperators(nodes: readonly OnnxNode[], file: string): void {
  const unknown = new Map<string, string[]>();
  for (const n of nodes)
    if (!(n.opType in OP_CONVERTERS) && !(n.opType in CONSTANT_FOLDS)) unknown.set(n.opType, [...(unknown.get(n.opType) ?? []), n.name]);
  if (unknown.size === 0) return;
  const [op, names] = [...unknown][0];
  if (unknown.size === 1 && names.length === 1) {
    throw new OnnxImportError(`${file}: node '${names[0]}' (${op}): ${notImported(op)}`);
  }
  const listed = [...unknown].map(
    ([o, ns]) => `${o} (${ns.length > 1 ? `${ns.length} nodes, first '${ns[0]}'` : `node '${ns[0]}'`}): ${unsupportedHint(o)}`,
  );
  throw new OnnxImportError(
    `${file} uses ${unknown.size > 1 ? `${unknown.size} operators` : 'an operator'} slimtrain does not import: ${listed.join('; ')}. slimtrain imports ${supportedOnnxOps.join(', ')}`,
  );
}

/** Builds the TensorFlow.js model of a parsed ONNX graph; `file` names it in errors. */
export function buildFromOnnx(
  parsed: ParsedOnnx,
  file: string,
  inputShape?: readonly number[],
): { model: tfl.LayersModel; interface: OnnxInterface } {
  const state = new GraphState({ ...parsed, nodes: foldPatterns(parsed, file) }, file);
  checkOperators(state.parsed.nodes, file);
  // taken as it is: an input turned to NCHW by every reader, or only reshaped to another
  // shape (raw features; an image reshaped to itself, x.view(-1, 1, H, W), stays an image)
  const asItIs = (n: OnnxNode, input: { shape: number[] }) => {
    if (n.opType === 'Transpose') return attributes(n, file).ints('perm', []).join() === '0,3,1,2';
    if (n.opType === 'Flatten') return true;
    if (n.opType !== 'Reshape') return false;
    const target = state.constant(n.inputs[1]);
    const sample = input.shape.slice(1);
    const dims = target
      ? Array.from(target.data, Number)
          .slice(1)
          .map((d, i) => (d === 0 ? sample[i] : d))
      : undefined;
    const itself =
      dims !== undefined && dims.length === sample.length && dims.every((d, i) => d === sample[i] || (d === -1 && sample[i] > 0));
    return !itself;
  };
  const inputs = parsed.inputs.map((i) =>
    graphInput(i, file, inputShape, state.consumers.get(i.name)?.every((n) => asItIs(n, i)) ?? false),
  );
  parsed.inputs.forEach((i, k) => state.values.set(i.name, inputs[k]));
  let built: { model: tfl.LayersModel; interface: OnnxInterface } | undefined;
  // the weights handed to layers are copied into their variables; everything else made here is dropped
  tf.tidy(() => {
    for (const node of state.parsed.nodes) {
      const outputs = state.absorbed.get(node) ?? state.convert(node);
      outputs.forEach((v, k) => node.outputs[k] && state.values.set(node.outputs[k], v));
    }
    const outputs = parsed.outputs.map((o) => {
      const v = state.values.get(o.name);
      if (v?.kind !== 'tensor')
        throw new OnnxImportError(`${file}: output '${o.name}' is ${v ? 'a constant' : 'not computed'}; nothing to train`);
      return v;
    });
    const model = tfl.model({ inputs: inputs.map((v) => v.t), outputs: outputs.map((v) => v.t), name: layerName(basename(file, '.onnx')) });
    // the batch as the file has it; free image sizes as given: the padding and cropping
    // written back are those of that size
    const io = {
      inputs: parsed.inputs.map((i, k) => {
        const s = spec(i.name, inputs[k]);
        return { ...s, shape: [i.shape[0], ...s.shape.slice(1)] };
      }),
      outputs: parsed.outputs.map((o, k) => spec(o.name, outputs[k])),
    };
    built = { model, interface: io };
  });
  return built!;
}

/**
 * Imports an ONNX file (opsets 7-21, as torch.onnx.export and other exporters write it) and checks the
 * result against ONNX Runtime; throws OnnxImportError naming the file and node on
 * anything it cannot import exactly.
 */
export async function importOnnx(
  path: string,
  options: {
    tolerance?: number;
    /** one sample's sizes in ONNX order, for inputs with free sizes */
    inputShape?: readonly number[];
    /** told of the three steps: read and parsed, built, checked in ONNX Runtime */
    onProgress?: ProgressListener;
  } = {},
): Promise<ImportedOnnx> {
  const tick = stepCounter(options.onProgress, `importing ${path}`, 3);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new OnnxImportError(`cannot read ${path}: ${(e as Error).message.replace(/^[A-Z]+: /, '')}`);
  }
  const parsed = parseOnnx(bytes, path);
  tick();
  let built: ReturnType<typeof buildFromOnnx>;
  try {
    built = buildFromOnnx(parsed, path, options.inputShape);
  } catch (e) {
    if (e instanceof OnnxImportError) throw e;
    throw new OnnxImportError(`${path}: TensorFlow.js could not build the imported model (${(e as Error).message})`);
  }
  let inference: Uint8Array | undefined;
  let check: ImportedOnnx['check'];
  try {
    tick();
    inference = inferenceVersion(bytes);
    check = await checkOnnx(built.model, inference ?? bytes, {
      interface: built.interface,
      samples: 2,
      tolerance: options.tolerance,
    });
    tick();
  } catch (e) {
    built.model.dispose();
    if (e instanceof StopRequested) throw e;
    throw new OnnxImportError(`${path}: the import does not compute what the file does: ${(e as Error).message}; nothing was imported`);
  }
  return { ...built, opset: parsed.opset, producer: parsed.producer, trainingMode: inference !== undefined, check };
}
