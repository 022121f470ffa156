// A Graphviz picture of the layer graph: one box per layer, coloured by how much of
// it is prunable; layers tied into one family of groups share a colour of border.
import type { ModelAnalysis } from '../graph/analyze.js';

const FAMILY_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function analysisToDot(analysis: ModelAnalysis, title: string): string {
  // families: sets of producing layers tied by a join
  const familyOf = new Map<string, number>();
  const families: string[][] = [];
  for (const g of analysis.partition.groups) {
    if (g.channels.length < 2) continue;
    const layers = g.channels.map((c) => c.layer).sort();
    if (familyOf.has(layers[0])) continue;
    families.push(layers);
    for (const l of layers) familyOf.set(l, families.length - 1);
  }
  const lines = [
    `digraph ${quote(title)} {`,
    '  rankdir=TB;',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
    `  label=${quote(`${title}: ${analysis.totals.prunable} of ${analysis.totals.groups} groups prunable`)};`,
  ];
  for (const l of analysis.layers) {
    const share = l.groups === 0 ? -1 : l.prunable / l.groups;
    const fill = share < 0 ? '#f2f2f2' : share === 1 ? '#c7e9c0' : share === 0 ? '#fcbba1' : '#fdd0a2';
    const family = familyOf.get(l.name);
    const border = family === undefined ? 'black' : FAMILY_COLOURS[family % FAMILY_COLOURS.length];
    const label = [
      l.name,
      `${l.className} [${l.outputShape.join('x')}]`,
      l.params > 0 ? `${l.params.toLocaleString('en-US')} params` : '',
      l.groups > 0 ? `groups: ${l.prunable}/${l.groups} prunable` : '',
      ...l.reasons.map((r) => `not: ${r}`),
    ]
      .filter(Boolean)
      .join('\\n');
    lines.push(
      `  ${quote(l.name)} [label="${label.replace(/"/g, '\\"')}", fillcolor=${quote(fill)}, color=${quote(border)}, penwidth=${family === undefined ? 1 : 3}];`,
    );
  }
  for (const l of analysis.layers) for (const input of l.inputs) lines.push(`  ${quote(input)} -> ${quote(l.name)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
