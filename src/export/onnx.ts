// TensorFlow.js LayersModel -> ONNX (opset 13), through the layer graph; each layer
// is written by its rule (src/layers).
//
// By default the ONNX model takes and gives tensors in the TensorFlow.js layout (NHWC
// input, the model's own output layout), so callers feed it the same arrays (several
// inputs and outputs in the model's order: input, input_1, ...; output, output_1, ...);
// inside, one Transpose moves to NCHW, which ONNX's Conv and pooling want, and Flatten
// moves back to NHWC order first so Dense weights keep their meaning. A model imported
// from ONNX is written with its original interface instead: the same names, NCHW in
// and out. Batch norm is folded into
// the convolution before it where that is exact (the convolution has no activation
// and feeds nothing else).
import onnxProto from 'onnx-proto';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildLayerGraph, type GraphNode } from '../layers/layer_graph.js';
import { exportableLayerClasses, ruleFor } from '../layers/registry.js';
import { exportedInterface } from '../onnx/interface.js';
import { FLOAT, OnnxExportError, OnnxGraph, OPSET, type OnnxExportOptions, type OnnxValue } from '../onnx/builder.js';

export { OnnxExportError, type OnnxExportOptions } from '../onnx/builder.js';

const { onnx } = onnxProto;

/** Writes `model` as an ONNX ModelProto; returns the encoded bytes. */
export function exportOnnx(model: tfl.LayersModel, options: OnnxExportOptions = {}): Uint8Array {
  const fold = options.foldBatchNorm ?? true;
  const graph = buildLayerGraph(model);
  const consumers = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const weightsOf = (n: GraphNode): Float32Array[] =>
    model
      .getLayer(n.name)
      .getWeights()
      .map((t) => t.dataSync() as Float32Array);
  const g = new OnnxGraph();
  const values = new Map<string, OnnxValue>();
  const folded = new Set<string>();
  const io = options.interface ?? exportedInterface(model);
  const inputSpec = new Map(graph.inputs.map((name, i) => [name, io.inputs[i]]));

  for (const n of graph.nodes) {
    const inputs = n.inputs.map((i) => values.get(i)!);
    if (n.isInput) {
      const { name, layout } = inputSpec.get(n.name)!;
      const nchw = n.outputShape.length === 3;
      const transpose = nchw && layout !== 'nchw';
      values.set(n.name, { name: transpose ? g.node('Transpose', [name], `${n.name}/nchw`, { perm: [0, 3, 1, 2] }) : name, nchw });
      continue;
    }
    if (folded.has(n.name)) {
      values.set(n.name, inputs[0]);
      continue;
    }
    const write = ruleFor(n.className)?.onnx;
    if (!write) {
      throw new OnnxExportError(`layer '${n.name}' (${n.className}) has no ONNX export; supported: ${exportableLayerClasses.join(', ')}`);
    }
    values.set(
      n.name,
      write({
        node: n,
        g,
        inputs,
        weights: (node = n) => weightsOf(node),
        consumers: () => consumers.get(n.name) ?? [],
        foldBatchNorm: fold,
        fold: (layer) => folded.add(layer),
      }),
    );
  }

  graph.outputs.forEach((layer, k) => {
    const out = values.get(layer)!;
    const { name, layout, shape } = io.outputs[k];
    if (layout === 'nc11') g.node('Reshape', [out.name, g.ints(`${name}/shape`, [0, ...shape.slice(1)])], name);
    else if (out.nchw === (layout === 'nchw')) g.node('Identity', [out.name], name);
    else g.node('Transpose', [out.name], name, { perm: out.nchw ? [0, 2, 3, 1] : [0, 3, 1, 2] });
  });
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
      // the batch is free whatever the interface says
      input: io.inputs.map(({ name, shape }) => ({ name, type: tensorType(shape.slice(1)) })),
      output: io.outputs.map(({ name, shape }) => ({ name, type: tensorType(shape.slice(1)) })),
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}
