// A scatter plot as a standalone SVG file, for pictures committed beside
// BENCHMARKS.md (GitHub shows SVG inline): one mark per point with a vertical bar
// for its spread, a horizontal reference line, linear axes with round ticks, and a
// legend. Colours from the Tableau 10 palette, as the HTML report uses.

export interface ScatterPoint {
  label: string;
  x: number;
  y: number;
  /** the bar's ends (default: none) */
  yLow?: number;
  yHigh?: number;
  /** filled mark; an open circle otherwise */
  filled: boolean;
}

export interface Scatter {
  title: string;
  xLabel: string;
  yLabel: string;
  /** a horizontal line across the plot */
  line?: { label: string; y: number };
  points: ScatterPoint[];
}

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** about `count` round tick values covering [lo, hi] */
export function ticks(lo: number, hi: number, count = 6): number[] {
  const raw = (hi - lo) / count || 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toFixed(10)));
  return out;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function scatterSvg(plot: Scatter): string {
  const labels = [...plot.points.map((p) => p.label), plot.line?.label ?? ''];
  // wide enough for the longest legend label (about 7 px a character at 12 px)
  const width = Math.max(880, 64 + 400 + 48 + 7 * Math.max(...labels.map((l) => l.length)));
  const height = 420;
  const left = 64;
  const top = 40;
  const plotWidth = 400;
  const plotHeight = 320;
  const ys = plot.points.flatMap((p) => [p.y, p.yLow ?? p.y, p.yHigh ?? p.y]).concat(plot.line ? [plot.line.y] : []);
  const xs = plot.points.map((p) => p.x).concat([1]);
  const pad = (lo: number, hi: number) => Math.max((hi - lo) * 0.08, 0.05);
  const yLo = Math.min(...ys) - pad(Math.min(...ys), Math.max(...ys));
  const yHi = Math.max(...ys) + pad(Math.min(...ys), Math.max(...ys));
  const xLo = Math.min(...xs) - pad(Math.min(...xs), Math.max(...xs));
  const xHi = Math.max(...xs) + pad(Math.min(...xs), Math.max(...xs));
  const px = (x: number) => left + ((x - xLo) / (xHi - xLo)) * plotWidth;
  const py = (y: number) => top + plotHeight - ((y - yLo) / (yHi - yLo)) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="bold">${escape(plot.title)}</text>`,
    `<rect x="${left}" y="${top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`,
  ];
  for (const t of ticks(xLo, xHi)) {
    parts.push(`<line x1="${px(t)}" y1="${top}" x2="${px(t)}" y2="${top + plotHeight}" stroke="#eee"/>`);
    parts.push(`<text x="${px(t)}" y="${top + plotHeight + 16}" text-anchor="middle">${t}x</text>`);
  }
  for (const t of ticks(yLo, yHi)) {
    parts.push(`<line x1="${left}" y1="${py(t)}" x2="${left + plotWidth}" y2="${py(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 6}" y="${py(t) + 4}" text-anchor="end">${t}</text>`);
  }
  parts.push(`<text x="${left + plotWidth / 2}" y="${top + plotHeight + 36}" text-anchor="middle">${escape(plot.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escape(plot.yLabel)}</text>`);
  const legendX = left + plotWidth + 24;
  let legendY = top + 8;
  if (plot.line) {
    const y = py(plot.line.y);
    parts.push(`<line x1="${left}" y1="${y}" x2="${left + plotWidth}" y2="${y}" stroke="#333" stroke-dasharray="6 4"/>`);
    parts.push(`<line x1="${legendX}" y1="${legendY}" x2="${legendX + 16}" y2="${legendY}" stroke="#333" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${legendX + 24}" y="${legendY + 4}">${escape(plot.line.label)}</text>`);
    legendY += 20;
  }
  plot.points.forEach((p, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const x = px(p.x);
    if (p.yLow !== undefined && p.yHigh !== undefined && p.yHigh > p.yLow)
      parts.push(`<line x1="${x}" y1="${py(p.yLow)}" x2="${x}" y2="${py(p.yHigh)}" stroke="${colour}" stroke-width="2"/>`);
    const mark = (cx: number, cy: number) =>
      `<circle cx="${cx}" cy="${cy}" r="5" fill="${p.filled ? colour : '#fff'}" stroke="${colour}" stroke-width="2"/>`;
    parts.push(mark(x, py(p.y)));
    parts.push(mark(legendX + 8, legendY));
    parts.push(`<text x="${legendX + 24}" y="${legendY + 4}">${escape(p.label)}</text>`);
    legendY += 20;
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
