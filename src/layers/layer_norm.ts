// LayerNormalization over the channel axis mixes channels: a zero channel shifts the
// mean and variance every other channel is normalised with, so its inputs cannot be
// removed. ONNX (opset 13 has no LayerNormalization): the formula, over the channel
// axis.
import { OnnxExportError } from '../onnx/builder.js';
import type { LayerRule } from './rule.js';

export const layerNormalization: LayerRule = {
  classes: ['LayerNormalization'],
  channels: (f) => f.opaque(`${f.node.name} (LayerNormalization) normalises across channels`),
  onnx(e) {
    const { node: n, g } = e;
    const x = e.inputs[0];
    const rank = n.outputShape.length + 1;
    const axis = n.config.axis as number | number[];
    const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a + rank) % rank);
    if (axes.length !== 1 || axes[0] !== rank - 1) {
      throw new OnnxExportError(`layer '${n.name}' normalises axes ${JSON.stringify(axis)}; ONNX export handles the last axis only`);
    }
    const channels = n.outputShape[n.outputShape.length - 1];
    // in NCHW the channel axis is 1, and per-channel parameters broadcast as [C, 1, 1]
    const attrs = { axes: [x.nchw ? 1 : -1] };
    const dims = x.nchw ? [channels, 1, 1] : [channels];
    const name = (s: string) => `${n.name}/${s}`;
    const mean = g.node('ReduceMean', [x.name], name('mean'), attrs);
    const centred = g.node('Sub', [x.name, mean], name('centred'));
    const variance = g.node('ReduceMean', [g.node('Mul', [centred, centred], name('square'))], name('variance'), attrs);
    const eps = g.floats(name('epsilon'), [], Float32Array.of(n.config.epsilon as number));
    let y = g.node(
      'Div',
      [centred, g.node('Sqrt', [g.node('Add', [variance, eps], name('variance_eps'))], name('std'))],
      name('normalised'),
    );
    const w = e.weights();
    const byRole = new Map(n.weights.map((info) => [info.role, w[info.index]]));
    const gamma = byRole.get('gamma');
    const beta = byRole.get('beta');
    if (gamma) y = g.node('Mul', [y, g.floats(name('gamma'), dims, gamma)], name('scaled'));
    if (beta) y = g.node('Add', [y, g.floats(name('beta'), dims, beta)], name('shifted'));
    return { name: y, nchw: x.nchw };
  },
};
