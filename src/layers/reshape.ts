// Reshape that keeps the channel axis (the squeeze-and-excitation gate [C] ->
// [1, 1, C], or [H, W, C] -> [H*W, C]): channels pass. Any other reshape moves values
// across channels: its inputs are not removable. ONNX: Reshape in NHWC order.
import { shapeSize } from '../util/shape.js';
import type { LayerRule } from './rule.js';

export const reshape: LayerRule = {
  classes: ['Reshape'],
  channels(f) {
    const from = f.node.inputShapes[0];
    const to = f.node.outputShape;
    const target = f.node.config.targetShape as (number | null)[] | undefined;
    // the slim model infers the channel axis (-1); another inferred axis would make that ambiguous
    if (target?.slice(0, -1).some((d) => d === -1 || d === null))
      return f.opaque(`${f.node.name} infers a dimension other than the channels`);
    const keeps = from.at(-1) === to.at(-1) && shapeSize(from.slice(0, -1)) === shapeSize(to.slice(0, -1));
    return keeps ? f.inputs[0] : f.opaque(`${f.node.name} reshapes [${from}] to [${to}], moving values across channels`);
  },
  slimConfig(config, kept) {
    const target = config.target_shape as number[];
    config.target_shape = [...target.slice(0, -1), kept.output.filter(Boolean).length];
  },
  onnx(e) {
    const { node: n, g } = e;
    const x = e.inputs[0];
    const nhwc = x.nchw ? g.node('Transpose', [x.name], `${n.name}/nhwc`, { perm: [0, 2, 3, 1] }) : x.name;
    const y = g.node('Reshape', [nhwc, g.ints(`${n.name}/shape`, [0, ...n.outputShape])], `${n.name}/reshape`);
    if (n.outputShape.length !== 3) return { name: y, nchw: false };
    return { name: g.node('Transpose', [y], `${n.name}/nchw`, { perm: [0, 3, 1, 2] }), nchw: true };
  },
};
