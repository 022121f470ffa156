// BatchNormalization over the channel axis: channel j owns gamma[j] and beta[j]
// (beta too: a zero channel comes out as beta[j]); the moving statistics are sliced
// along. Zero gamma and beta give 0 whatever comes in. Without gamma (scale=False) a
// zero channel comes out as beta[j] - mean[j]/sqrt(var + eps): the optimizer sets
// mean[j] to 0 when it zeroes the group, and the moving average keeps 0 at 0 (the
// batch mean of a zero channel is 0). Over another axis it mixes channels. ONNX:
// BatchNormalization.
import { batchNormParams, OnnxExportError } from '../onnx/builder.js';
import type { LayerRule } from './rule.js';

export const batchNormalization: LayerRule = {
  classes: ['BatchNormalization'],
  ownsWeights: true,
  channels(f) {
    const axis = f.node.config.axis as number | number[];
    const a = Array.isArray(axis) ? axis : [axis];
    if (a.length !== 1 || (a[0] !== -1 && a[0] !== f.node.outputShape.length)) {
      return f.opaque(`${f.node.name} normalises axis ${JSON.stringify(axis)}, not channels`);
    }
    const hasGamma = f.node.weights.some((w) => w.role === 'gamma');
    f.inputs[0].forEach((id, i) => {
      f.own(id, 'gamma', 0, i);
      f.own(id, 'beta', 0, i);
      if (hasGamma) f.stat(id, 'moving_mean', 0, i);
      else f.reset(id, 'moving_mean', 0, i);
      f.stat(id, 'moving_variance', 0, i);
    });
    // a zero scale cancels what comes in; without one, a constant input stays a constant
    if (hasGamma) f.setOffsets(f.inputs[0].map(() => undefined));
    return f.inputs[0];
  },
  onnx(e) {
    const { node: n, g } = e;
    const x = e.inputs[0];
    if (x.nchw ? ![-1, 3].includes(n.config.axis as number) : ![-1, 1].includes(n.config.axis as number)) {
      throw new OnnxExportError(`layer '${n.name}' normalises axis ${n.config.axis}; ONNX export handles the channel axis only`);
    }
    const channels = n.outputShape[n.outputShape.length - 1];
    const [gamma, beta, mean, variance] = batchNormParams(n, e.weights(), channels);
    const p = (role: string, v: Float32Array) => g.floats(`${n.name}/${role}`, [channels], v);
    const inputs = [x.name, p('gamma', gamma), p('beta', beta), p('mean', mean), p('variance', variance)];
    return { name: g.node('BatchNormalization', inputs, `${n.name}/bn`, { epsilon: n.config.epsilon as number }), nchw: x.nchw };
  },
};
