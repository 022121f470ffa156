// How numbers read in tables, progress lines and the report: one place, one look.

/** 0.9123 -> '91.23%' */
export const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

/** 1234567 -> '1,234,567' */
export const thousands = (x: number): string => x.toLocaleString('en-US');

/** 3.1234 -> '3.12x' (a ratio: speed-up, or how many times smaller) */
export const times = (x: number): string => `${x.toFixed(2)}x`;

/** agreement with a teacher (train/metrics.ts Agreement): 'top-1 agreement 98.20%', 'relative error 5.43e-2' */
export const agreementText = (a: { metric: string; value: number }): string =>
  `${a.metric} ${a.metric === 'relative error' ? a.value.toExponential(2) : pct(a.value)}`;

/** a speed-up measured in rounds (metrics/speed.ts compareSpeed): '2.95x ± 3%', '(noisy)' where the rounds disagreed */
export const measuredTimes = (m: { ratio: number; spread: number; noisy: boolean }): string =>
  `${times(m.ratio)} ± ${(50 * m.spread).toFixed(0)}%${m.noisy ? ' (noisy)' : ''}`;

/** `bytes` as people read a file size: 412 kB, 3.1 MB, 1.24 GB. */
export function sizeText(bytes: number): string {
  const [unit, scale] = bytes >= 1e9 ? ['GB', 1e9] : bytes >= 1e6 ? ['MB', 1e6] : ['kB', 1e3];
  const v = bytes / scale;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${unit}`;
}
