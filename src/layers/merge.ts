// Joins. Elementwise ones (Add, Multiply, Average, Maximum, Minimum) tie channel j of
// every input: they go together or not at all (a ResNet stage is one family). A zero
// in any input of a Multiply zeroes its output, so a gate that is not zero at zero
// (sigmoid) goes with the channel it gates: the features' producers and the gate's
// unit are one group (squeeze-and-excitation). A channel-axis Concatenate keeps each
// input's channels, at offsets.
import type { LayerRule, Offset } from './rule.js';

const ELEMENTWISE_OP: Record<string, string> = { Add: 'Sum', Multiply: 'Mul', Average: 'Mean', Maximum: 'Max', Minimum: 'Min' };

/** what each join gives of its inputs' values at a zero group */
const COMBINE: Record<string, (vs: number[]) => number> = {
  Add: (vs) => vs.reduce((a, b) => a + b, 0),
  // a product is zero when one factor is, even one the analysis cannot tell (NaN)
  Multiply: (vs) => (vs.includes(0) ? 0 : vs.reduce((a, b) => a * b, 1)),
  Average: (vs) => vs.reduce((a, b) => a + b, 0) / vs.length,
  Maximum: (vs) => Math.max(...vs),
  Minimum: (vs) => Math.min(...vs),
};

function joined(className: string, offsets: (Offset | undefined)[]): Offset | undefined {
  const value = COMBINE[className](offsets.map((o) => o?.value ?? 0));
  if (value === 0) return undefined;
  const given = offsets.filter((o): o is Offset => o !== undefined);
  return { value, reason: given.map((o) => o.reason).join('; ') };
}

export const elementwiseJoin: LayerRule = {
  classes: Object.keys(ELEMENTWISE_OP),
  channels(f) {
    const widths = new Set(f.inputs.map((m) => m.length));
    if (widths.size !== 1) return f.opaque(`${f.node.name} broadcasts inputs of different widths`);
    const out = f.inputs[0].map((id, i) => f.inputs.reduce((acc, m) => f.union(acc, m[i]), id));
    f.setOffsets(
      out.map((_, i) =>
        joined(
          f.node.className,
          f.inputOffsets.map((o) => o[i]),
        ),
      ),
    );
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
