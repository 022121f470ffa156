// PReLU: max(0, x) + alpha * min(0, x), with a learned alpha per channel (and per
// position unless sharedAxes). PReLU(0) = 0, so channels pass; alpha's slice of a
// removed channel is cut along (not regularised). ONNX: PRelu, alpha in NCHW order.
import { offsetThrough } from './activation.js';
import type { LayerRule } from './rule.js';

export const prelu: LayerRule = {
  classes: ['PReLU'],
  ownsWeights: true,
  channels(f) {
    const alpha = f.node.weights.find((w) => w.role === 'alpha')!;
    f.inputs[0].forEach((id, i) => f.stat(id, 'alpha', alpha.shape.length - 1, i));
    // alpha is learned: below zero, the value is not known
    f.setOffsets(f.inputOffsets[0].map((o) => offsetThrough((v) => (v >= 0 ? v : NaN), o, `${f.node.name} is not zero at zero`)));
    return f.inputs[0];
  },
  onnx(e) {
    const { node: n, g } = e;
    const x = e.inputs[0];
    const alpha = e.weights()[0];
    const shape = n.weights[0].shape;
    if (!x.nchw) return { name: g.node('PRelu', [x.name, g.floats(`${n.name}/alpha`, shape, alpha)], `${n.name}/prelu`), nchw: false };
    // [h, w, c] -> [c, h, w], to broadcast against NCHW
    const [h, w, c] = shape;
    const nchw = new Float32Array(alpha.length);
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) nchw[(k * h + i) * w + j] = alpha[(i * w + j) * c + k];
    return { name: g.node('PRelu', [x.name, g.floats(`${n.name}/alpha`, [c, h, w], nchw)], `${n.name}/prelu`), nchw: true };
  },
};
