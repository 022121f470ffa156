// Dense: unit j is kernel[:, j] and bias[j]; it reads its inputs through kernel[i, :].
// On a 4-D input it acts on the last axis at every position. ONNX: Gemm.
import { activate } from '../onnx/builder.js';
import { shapeSize } from '../util/shape.js';
import { positions } from './conv.js';
import type { LayerRule } from './rule.js';

export const dense: LayerRule = {
  classes: ['Dense'],
  ownsWeights: true,
  widthKey: 'units',
  channels(f) {
    f.consume(f.inputs[0], 'kernel', 0);
    return f.produce('kernel', f.channelsOut);
  },
  macs: (node, shape) => shapeSize(shape('kernel')!) * positions(node),
  widths: (shape) => ({ in: shape('kernel')[0], out: shape('kernel')[1] }),
  onnx(e) {
    const { node: n, g } = e;
    const w = e.weights();
    const [inUnits, units] = n.weights[0].shape;
    const x = e.inputs[0];
    const kernel = g.floats(`${n.name}/kernel`, [inUnits, units], w[0]);
    const bias = n.config.useBias ? g.floats(`${n.name}/bias`, [units], w[1]) : undefined;
    const act = (y: string, nchw: boolean) => ({ name: activate(g, y, n.config.activation as string, n.name, nchw), nchw });
    if (n.inputShapes[0].length === 1)
      return act(g.node('Gemm', bias ? [x.name, kernel, bias] : [x.name, kernel], `${n.name}/gemm`), false);
    // on a feature map (or a sequence) Dense acts on the last axis at every position: MatMul in NHWC order
    const nhwc = x.nchw ? g.node('Transpose', [x.name], `${n.name}/nhwc`, { perm: [0, 2, 3, 1] }) : x.name;
    let y = g.node('MatMul', [nhwc, kernel], `${n.name}/matmul`);
    if (bias) y = g.node('Add', [y, bias], `${n.name}/bias_add`);
    return x.nchw ? act(g.node('Transpose', [y], `${n.name}/nchw`, { perm: [0, 3, 1, 2] }), true) : act(y, false);
  },
};
