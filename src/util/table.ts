/** A table as data: drawn as text here, as HTML in report/html.ts. */
export interface Table {
  header: string[];
  rows: (string | number)[][];
}

/** Formats a table as aligned text; columns of numbers are right-aligned. */
export function formatTable({ header, rows }: Table): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const numeric = header.map(
    (_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || /^([-+]?[\d.,]+[%x]?)?$/.test(String(r[c] ?? ''))),
  );
  const line = (r: string[]) =>
    r
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
