// Output folders are checked before any work starts: a run must not train for hours
// and then fail to save, nor silently mix its files with an earlier run's.
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { freeBytes } from '../util/files.js';
import { sizeText } from '../util/format.js';

export class OutputError extends Error {
  override name = 'OutputError';
}

/**
 * Makes sure `dir` can take this run's files: it must not hold files already
 * (unless `overwrite`, or `resume`, which continues the run saved there) and must be
 * writable. A missing folder is not created here, only where it would go checked,
 * so a run that fails before writing anything leaves nothing behind.
 */
export function prepareOutputDir(dir: string, options: { overwrite?: boolean; resume?: boolean } = {}): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new OutputError(`output folder ${dir} is a file; choose another --out`);
    const entries = readdirSync(dir);
    if (entries.length > 0 && !options.overwrite && !options.resume) {
      throw new OutputError(
        `output folder ${dir} already holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}; choose another --out, or pass --overwrite to replace its files`,
      );
    }
  }
  let existing = resolve(dir);
  while (!existsSync(existing)) existing = dirname(existing);
  const probe = join(existing, `.slimtrain-write-test-${process.pid}`);
  try {
    if (!statSync(existing).isDirectory()) throw new Error(`${existing} is a file`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    throw new OutputError(`cannot write to output folder ${dir}: ${(e as Error).message.replace(/^[A-Z]+: /, '')}`);
  }
}

/** A file or folder a run will write, and how large it may become. */
export interface PlannedWrite {
  what: string;
  bytes: number;
}

/**
 * Refuses a run whose files would not fit on the disk that holds `dir`: before the
 * work, not hours into it. `present`: bytes already there that the run replaces (a
 * resumed run's checkpoint).
 */
export function checkFreeSpace(dir: string, writes: readonly PlannedWrite[], present = 0): void {
  const needed = writes.reduce((n, w) => n + w.bytes, 0) - present;
  const free = freeBytes(resolve(dir));
  if (needed <= free) return;
  const parts = writes.map((w) => `${w.what} ${sizeText(w.bytes)}`).join(', ');
  throw new OutputError(
    `not enough space for this run in ${dir}: it writes up to ${sizeText(needed)} (${parts}${present ? `, less ${sizeText(present)} there already` : ''}) ` +
      `and the disk has ${sizeText(free)} free; free space there, or choose --out on another disk`,
  );
}
