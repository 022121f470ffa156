// Permute: moves axes. Where the channel axis stays last, channels pass; otherwise
// values move across channels and its inputs are not removable. ONNX: Transpose in
// NHWC order.
import type { LayerRule } from './rule.js';

export const permute: LayerRule = {
  classes: ['Permute'],
  channels(f) {
    const dims = f.node.config.dims as number[];
    return dims.at(-1) === dims.length ? f.inputs[0] : f.opaque(`${f.node.name} moves the channel axis (dims ${JSON.stringify(dims)})`);
  },
  onnx(e) {
    const { node: n, g } = e;
    const x = e.inputs[0];
    const dims = n.config.dims as number[];
    const nhwc = x.nchw ? g.node('Transpose', [x.name], `${n.name}/nhwc`, { perm: [0, 2, 3, 1] }) : x.name;
    const y = g.node('Transpose', [nhwc], `${n.name}/permute`, { perm: [0, ...dims] });
    if (n.outputShape.length !== 3) return { name: y, nchw: false };
    return { name: g.node('Transpose', [y], `${n.name}/nchw`, { perm: [0, 3, 1, 2] }), nchw: true };
  },
};
