// Pattern folding before conversion (docs/DESIGN.md, "ONNX import"): exporters write
// some layers out as chains of elementwise nodes. Each pattern here finds such a
// chain and puts one node in its place, of an ONNX operator a converter reads:
//
//   LayerNormalization  ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div
//                       (then Mul by a scale, Add of a bias)
//   Gelu                x * 0.5 * (1 + erf(x / sqrt 2))
//   Gelu (tanh)         x * 0.5 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))
//
// A chain folds only when its inner values are read by nothing else.
import type onnxProto from 'onnx-proto';
import { OnnxGraphIndex, type OnnxNode, type ParsedOnnx } from './onnx_model.js';

type Attribute = onnxProto.onnx.IAttributeProto;

/** The graph as the patterns read it. */
class Chains extends OnnxGraphIndex {
  readonly outputs = new Set(this.parsed.outputs.map((o) => o.name));

  scalar(name: string): number | undefined {
    const c = this.constant(name);
    return c && c.data.length === 1 ? Number(c.data[0]) : undefined;
  }

  /** the one node reading `name`, when only it does and the graph does not output it */
  onlyReader(name: string, opType?: string): OnnxNode | undefined {
    const readers = this.consumers.get(name) ?? [];
    if (readers.length !== 1 || this.outputs.has(name)) return undefined;
    return opType === undefined || readers[0].opType === opType ? readers[0] : undefined;
  }

  /** the input of binary `node` other than `name`, when it is a scalar near `value` */
  otherIs(node: OnnxNode, name: string, value: number): boolean {
    const other = node.inputs.find((i) => i !== name) ?? name;
    const k = this.scalar(other);
    return k !== undefined && Math.abs(k - value) <= 1e-4 * Math.max(1, Math.abs(value));
  }

  producedBy(name: string, opType: string): OnnxNode | undefined {
    const p = this.producers.get(name);
    return p?.opType === opType ? p : undefined;
  }
}

interface Fold {
  /** the nodes the chain replaces */
  nodes: OnnxNode[];
  /** the node that takes their place, where the last of them was */
  by: OnnxNode;
}

const node = (like: OnnxNode, opType: string, inputs: string[], attrs: Attribute[]): OnnxNode => ({
  name: like.name,
  opType,
  inputs,
  outputs: [like.outputs[0]],
  attrs: new Map(attrs.map((a) => [a.name!, a])),
});

/** ReduceMean's axes: an attribute before opset 18, an input from 18 */
function axesOf(g: Chains, n: OnnxNode): number[] | undefined {
  const a = n.attrs.get('axes')?.ints;
  if (a?.length) return a.map(Number);
  const c = n.inputs[1] ? g.constant(n.inputs[1]) : undefined;
  return c ? Array.from(c.data, Number) : undefined;
}

function layerNorm(g: Chains, mean: OnnxNode): Fold | undefined {
  if (mean.opType !== 'ReduceMean') return undefined;
  const x = mean.inputs[0];
  const axes = axesOf(g, mean);
  const sub = g.onlyReader(mean.outputs[0], 'Sub');
  if (!axes || !sub || sub.inputs[0] !== x || sub.inputs[1] !== mean.outputs[0]) return undefined;
  const centred = sub.outputs[0];
  const readers = g.consumers.get(centred) ?? [];
  const square = readers.find(
    (n) =>
      (n.opType === 'Pow' && n.inputs[0] === centred && g.otherIs(n, centred, 2)) ||
      (n.opType === 'Mul' && n.inputs.every((i) => i === centred)),
  );
  const div = readers.find((n) => n.opType === 'Div' && n.inputs[0] === centred);
  if (readers.length !== 2 || !square || !div || g.outputs.has(centred)) return undefined;
  const variance = g.onlyReader(square.outputs[0], 'ReduceMean');
  if (!variance || axesOf(g, variance)?.join() !== axes.join()) return undefined;
  const plus = g.onlyReader(variance.outputs[0], 'Add');
  const epsilon = plus && g.scalar(plus.inputs.find((i) => i !== variance.outputs[0]) ?? '');
  const root = plus && g.onlyReader(plus.outputs[0], 'Sqrt');
  if (epsilon === undefined || !root || g.onlyReader(root.outputs[0]) !== div || div.inputs[1] !== root.outputs[0]) return undefined;
  const nodes = [mean, sub, square, variance, plus!, root, div];
  const inputs = [x, '', ''];
  let last = div;
  // the learned scale (Mul), then bias (Add), where they follow: constants each
  for (const [opType, slot] of [
    ['Mul', 1],
    ['Add', 2],
  ] as const) {
    const next = g.onlyReader(last.outputs[0], opType);
    const param = next?.inputs.find((i) => i !== last.outputs[0]);
    if (!next || !param || !g.constant(param)) break;
    nodes.push(next);
    inputs[slot] = param;
    last = next;
  }
  return {
    nodes,
    by: node(last, 'LayerNormalization', inputs, [
      { name: 'epsilon', f: epsilon },
      { name: 'axes', ints: axes },
    ]),
  };
}

/** the end of `... * 0.5 * (1 + inner)` around `inner` (the output of Erf or Tanh) of x */
function geluEnd(g: Chains, inner: OnnxNode, x: string): { nodes: OnnxNode[]; last: OnnxNode } | undefined {
  const plus = g.onlyReader(inner.outputs[0], 'Add');
  if (!plus || !g.otherIs(plus, inner.outputs[0], 1)) return undefined;
  const times = g.onlyReader(plus.outputs[0], 'Mul');
  const other = times?.inputs.find((i) => i !== plus.outputs[0]);
  if (!times || !other) return undefined;
  if (other === x) {
    // (x * (1 + inner)) * 0.5
    const half = g.onlyReader(times.outputs[0], 'Mul');
    return half && g.otherIs(half, times.outputs[0], 0.5) ? { nodes: [plus, times, half], last: half } : undefined;
  }
  // (x * 0.5) * (1 + inner)
  const halfX = g.producedBy(other, 'Mul');
  if (!halfX || !halfX.inputs.includes(x) || !g.otherIs(halfX, x, 0.5) || g.onlyReader(other) !== times) return undefined;
  return { nodes: [halfX, plus, times], last: times };
}

function geluErf(g: Chains, erf: OnnxNode): Fold | undefined {
  if (erf.opType !== 'Erf') return undefined;
  const scaled = g.producers.get(erf.inputs[0]);
  const x = scaled?.inputs[0];
  const byRoot2 = scaled?.opType === 'Div' && g.otherIs(scaled, x!, Math.SQRT2);
  const timesRoot = scaled?.opType === 'Mul' && g.otherIs(scaled, x!, Math.SQRT1_2);
  if (!scaled || !x || !(byRoot2 || timesRoot) || g.onlyReader(scaled.outputs[0]) !== erf) return undefined;
  const end = geluEnd(g, erf, x);
  return (
    end && {
      nodes: [scaled, erf, ...end.nodes],
      by: node(end.last, 'Gelu', [x], [{ name: 'approximate', s: new TextEncoder().encode('none') }]),
    }
  );
}

/** the nodes computing `name` = x^3: Pow(x, 3), or x * (x * x) in either order */
function cubeOf(g: Chains, name: string, x: string): OnnxNode[] | undefined {
  const p = g.producers.get(name);
  if (p?.opType === 'Pow') return p.inputs[0] === x && g.otherIs(p, x, 3) ? [p] : undefined;
  if (p?.opType !== 'Mul' || !p.inputs.includes(x)) return undefined;
  const square = g.producedBy(p.inputs.find((i) => i !== x) ?? '', 'Mul');
  return square && square.inputs.every((i) => i === x) ? [square, p] : undefined;
}

function geluTanh(g: Chains, tanh: OnnxNode): Fold | undefined {
  if (tanh.opType !== 'Tanh') return undefined;
  const scaled = g.producedBy(tanh.inputs[0], 'Mul');
  const sum = scaled && g.producers.get(scaled.inputs.find((i) => g.producers.get(i)?.opType === 'Add') ?? '');
  if (!scaled || !sum || !g.otherIs(scaled, sum.outputs[0], Math.sqrt(2 / Math.PI))) return undefined;
  // x + 0.044715 * x^3, either order
  const cubeTerm = sum.inputs.map((i) => g.producedBy(i, 'Mul')).find((m) => m !== undefined);
  const x = sum.inputs.find((i) => i !== cubeTerm?.outputs[0]);
  const cubeOut = cubeTerm?.inputs.find((i) => g.producers.has(i) && g.producers.get(i)!.opType !== 'Constant');
  const cube = x && cubeOut ? cubeOf(g, cubeOut, x) : undefined;
  if (!cubeTerm || !x || !cube || !g.otherIs(cubeTerm, cubeOut!, 0.044715)) return undefined;
  const inner = [...cube, cubeTerm, sum, scaled];
  if (inner.some((n) => g.onlyReader(n.outputs[0]) === undefined)) return undefined;
  const end = geluEnd(g, tanh, x);
  return (
    end && {
      nodes: [...inner, tanh, ...end.nodes],
      by: node(end.last, 'Gelu', [x], [{ name: 'approximate', s: new TextEncoder().encode('tanh') }]),
    }
  );
}

const PATTERNS = [layerNorm, geluErf, geluTanh];

/** The graph's nodes with every chain a pattern recognises folded into one node. */
export function foldPatterns(parsed: ParsedOnnx, file: string): OnnxNode[] {
  const g = new Chains(parsed, file);
  const replaced = new Map<OnnxNode, OnnxNode | undefined>();
  for (const n of parsed.nodes) {
    if (replaced.has(n)) continue;
    for (const pattern of PATTERNS) {
      const fold = pattern(g, n);
      if (!fold || fold.nodes.some((m) => replaced.has(m))) continue;
      for (const m of fold.nodes) replaced.set(m, undefined);
      const last = fold.nodes.reduce((a, b) => (parsed.nodes.indexOf(b) > parsed.nodes.indexOf(a) ? b : a));
      replaced.set(last, fold.by);
      break;
    }
  }
  return parsed.nodes.flatMap((n) => (replaced.has(n) ? (replaced.get(n) ? [replaced.get(n)!] : []) : [n]));
}
