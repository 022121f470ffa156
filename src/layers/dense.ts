// Dense: unit j is kernel[:, j] and bias[j]; it reads its inputs through kernel[i, :].
// On a 4-D input it acts on the last axis at every position. ONNX: Gemm.
import { activate } from '../export/onnx_builder.js';
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
  onnx(e) {
    const { node: n, g } = e;
    const w = e.weights();
    const [inUnits, units] = n.weights[0].shape;
    const inputs = [e.inputs[0].name, g.floats(`${n.name}/kernel`, [inUnits, units], w[0])];
    if (n.config.useBias) inputs.push(g.floats(`${n.name}/bias`, [units], w[1]));
    return { name: activate(g, g.node('Gemm', inputs, `${n.name}/gemm`), n.config.activation as string, n.name), nchw: false };
  },
};
