// Joins. Elementwise ones (Add, Multiply, Average, Maximum, Minimum) tie channel j of
// every input: they go together or not at all (a ResNet stage is one family). A zero
// in any input of a Multiply zeroes its output, so a gate that is not zero at zero
// (sigmoid) goes with the channel it gates: the features' producers and the gate's
// unit are one group (squeeze-and-excitation). A channel-axis Concatenate keeps each
// input's channels, at offsets.
import type { LayerRule } from './rule.js';

const ELEMENTWISE_OP: Record<string, string> = { Add: 'Sum', Multiply: 'Mul', Average: 'Mean', Maximum: 'Max', Minimum: 'Min' };

export const elementwiseJoin: LayerRule = {
  classes: Object.keys(ELEMENTWISE_OP),
  channels(f) {
    const widths = new Set(f.inputs.map((m) => m.length));
    if (widths.size !== 1) return f.opaque(`${f.node.name} broadcasts inputs of different widths`);
    const out = f.inputs[0].map((id, i) => f.inputs.reduce((acc, m) => f.union(acc, m[i]), id));
    if (f.node.className === 'Multiply') {
      // a product is zero when one factor is: constant only where every factor is
      f.setOffsets(out.map((_, i) => (f.inputOffsets.every((o) => o[i]) ? f.inputOffsets.map((o) => o[i]).join('; ') : undefined)));
    }
    return out;
  },
  onnx(e) {
    const { node: n, g, inputs } = e;
    const op = ELEMENTWISE_OP[n.className];
    if (op !== 'Mul')
      return {
        name: g.node(
          op,
          inputs.map((v) => v.name),
          `${n.name}/${op.toLowerCase()}`,
        ),
        nchw: inputs[0].nchw,
      };
    let acc = inputs[0].name;
    inputs.slice(1).forEach((v, i) => (acc = g.node('Mul', [acc, v.name], `${n.name}/mul${i}`)));
    return { name: acc, nchw: inputs[0].nchw };
  },
};

export const concatenate: LayerRule = {
  classes: ['Concatenate'],
  channels(f) {
    const axis = f.node.config.axis as number;
    if (axis !== -1 && axis !== f.node.outputShape.length) return f.opaque(`${f.node.name} concatenates along axis ${axis}, not channels`);
    return f.inputs.flat();
  },
  onnx(e) {
    const { node: n, g, inputs } = e;
    const rank = n.outputShape.length + 1;
    const axis = ((n.config.axis as number) + rank) % rank;
    const name = g.node(
      'Concat',
      inputs.map((v) => v.name),
      `${n.name}/concat`,
      { axis: inputs[0].nchw ? [0, 2, 3, 1][axis] : axis },
    );
    return { name, nchw: inputs[0].nchw };
  },
};
