// Rescaling: y = x * scale + offset on every value. With offset 0 a zero channel
// stays zero and channels pass; an offset (the only way to subtract in TensorFlow.js)
// makes a zero channel a constant, which blocks it at a consumer. ONNX: Mul, then Add.
import { offsetThrough } from './activation.js';
import type { LayerRule } from './rule.js';

export const rescaling: LayerRule = {
  classes: ['Rescaling'],
  channelWise: true,
  channels(f) {
    const scale = (f.node.config.scale as number | undefined) ?? 1;
    const offset = (f.node.config.offset as number | undefined) ?? 0;
    const why = `${f.node.name} adds an offset (${offset}): a zero channel does not stay zero`;
    f.setOffsets(f.inputOffsets[0].map((o) => offsetThrough((v) => v * scale + offset, o, why)));
    return f.inputs[0];
  },
  onnx(e) {
    const { node: n, g } = e;
    const x = e.inputs[0];
    const scale = (n.config.scale as number | undefined) ?? 1;
    const offset = (n.config.offset as number | undefined) ?? 0;
    let y = g.node('Mul', [x.name, g.floats(`${n.name}/scale`, [], Float32Array.of(scale))], `${n.name}/mul`);
    if (offset !== 0) y = g.node('Add', [y, g.floats(`${n.name}/offset`, [], Float32Array.of(offset))], `${n.name}/add`);
    return { name: y, nchw: x.nchw };
  },
};
