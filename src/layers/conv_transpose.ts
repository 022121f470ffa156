// Conv2DTranspose (the decoder half of U-Nets and autoencoders): kernel [kh, kw, out,
// in]. Output channel j is kernel[:, :, j, :] and bias[j]; it reads input channel i
// through kernel[:, :, :, i]. Each input position is spread over a kh x kw window:
// MACs = kernel size x input positions. ONNX: ConvTranspose, TensorFlow's padding as
// pads plus output_padding.
import { activate, OnnxExportError, pair } from '../onnx/builder.js';
import { shapeSize } from '../util/shape.js';
import type { LayerRule } from './rule.js';

/** [kh, kw, out, in] (TensorFlow.js) -> [in, out, kh, kw] (ONNX ConvTranspose) */
function transposeWeights(w: Float32Array, [kh, kw, co, ci]: number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let o = 0; o < co; o++) for (let c = 0; c < ci; c++) out[((c * co + o) * kh + i) * kw + j] = w[((i * kw + j) * co + o) * ci + c];
  return out;
}

export const conv2dTranspose: LayerRule = {
  classes: ['Conv2DTranspose'],
  ownsWeights: true,
  widthKey: 'filters',
  channels(f) {
    f.consume(f.inputs[0], 'kernel', 3);
    return f.produce('kernel', f.channelsOut, 2);
  },
  macs: (node, shape) => shapeSize(shape('kernel')!) * shapeSize(node.inputShapes[0].slice(0, -1)),
  widths: (shape) => ({ in: shape('kernel')[3], out: shape('kernel')[2] }),
  onnx(e) {
    const { node: n, g } = e;
    if (pair(n.config.dilationRate ?? 1).some((d) => d !== 1))
      throw new OnnxExportError(`layer '${n.name}': a dilated Conv2DTranspose has no ONNX export`);
    const w = e.weights();
    const shape = n.weights[0].shape;
    const [kh, kw, co, ci] = shape;
    const k = [kh, kw];
    const s = pair(n.config.strides);
    // TensorFlow: 'same' gives in * s, 'valid' in * s + max(k - s, 0); ONNX: s (in - 1) + k - pads + output_padding
    const total = k.map((ki, i) => (n.config.padding === 'same' ? Math.max(ki - s[i], 0) : 0));
    const before = total.map((t) => Math.floor(t / 2));
    const attrs = {
      kernel_shape: k,
      strides: s,
      pads: [before[0], before[1], total[0] - before[0], total[1] - before[1]],
      output_padding: k.map((ki, i) => Math.max(s[i] - ki, 0)),
    };
    const inputs = [e.inputs[0].name, g.floats(`${n.name}/kernel`, [ci, co, kh, kw], transposeWeights(w[0], shape))];
    if (n.config.useBias) inputs.push(g.floats(`${n.name}/bias`, [co], w[1]));
    const conv = g.node('ConvTranspose', inputs, `${n.name}/convtranspose`, attrs);
    return { name: activate(g, conv, n.config.activation as string, n.name, true), nchw: true };
  },
};
