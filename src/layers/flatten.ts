// Flatten after a conv (NHWC): channel c owns rows (h*W + w)*C + c of what follows,
// so the flat output repeats the channel ids at every position. ONNX: back to NHWC
// order first, so a following Dense keeps its row order.
import { shapeSize } from '../util/shape.js';
import type { LayerRule } from './rule.js';

export const flatten: LayerRule = {
  classes: ['Flatten'],
  channels(f) {
    const spatial = shapeSize(f.node.inputShapes[0].slice(0, -1));
    const out: number[] = [];
    for (let p = 0; p < spatial; p++) out.push(...f.inputs[0]);
    return out;
  },
  onnx(e) {
    const { node: n, g } = e;
    const x = e.inputs[0];
    const nhwc = x.nchw ? g.node('Transpose', [x.name], `${n.name}/nhwc`, { perm: [0, 2, 3, 1] }) : x.name;
    return { name: g.node('Flatten', [nhwc], `${n.name}/flatten`, { axis: 1 }), nchw: false };
  },
};
