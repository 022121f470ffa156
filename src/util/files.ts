// Every file slimtrain writes goes through here, so that a write that fails (a full
// disk, a read-only or failing one, a folder without permission) is a WriteError that
// names the file, the operation and what to do, and leaves no partial file behind.
// Files are written to a temporary name, flushed to the disk and renamed into place:
// a reader sees the old file or the whole new one, never a part.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** What a write does, as the message says it. */
export type WriteOperation = 'create folder' | 'write' | 'flush' | 'rename';

const CAUSES: Record<string, { says: string; todo: string }> = {
  ENOSPC: { says: 'no space left on the device', todo: 'free space on that disk, or write to a folder on another one' },
  EDQUOT: { says: 'disk quota exceeded', todo: 'free space within your quota, or write to a folder on another disk' },
  EACCES: { says: 'permission denied', todo: 'make the folder writable, or write to another folder' },
  EPERM: { says: 'operation not permitted', todo: 'make the folder writable, or write to another folder' },
  EROFS: { says: 'the file system is read-only', todo: 'write to a folder on a writable disk' },
  EIO: { says: 'input/output error (a failing disk or network share)', todo: 'check the disk, or write to a folder on another one' },
  ENOTDIR: { says: 'a part of the path is a file, not a folder', todo: 'choose another folder' },
  EISDIR: { says: 'a folder is in the way', todo: 'remove it or choose another path' },
};

/** A write that failed: `path`, the operation, and the system's code (ENOSPC, EACCES, ...). */
export class WriteError extends Error {
  override name = 'WriteError';
  constructor(
    readonly path: string,
    readonly operation: WriteOperation,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The same failure with what it means for the run appended (what survived, how to go on). */
  withContext(context: string): WriteError {
    return new WriteError(this.path, this.operation, this.code, `${this.message}. ${context}`);
  }
}

function writeError(path: string, operation: WriteOperation, e: unknown): WriteError {
  if (e instanceof WriteError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  const cause = CAUSES[code];
  const says = cause ? `${cause.says} (${code})` : (e as Error).message;
  return new WriteError(path, operation, code, `cannot ${operation} ${path}: ${says}${cause ? `; ${cause.todo}` : ''}`);
}

type WriteFault = (path: string, operation: WriteOperation) => NodeJS.ErrnoException | undefined;
let writeFault: WriteFault | undefined;

/**
 * A test seam: `fault` is called before each operation, and an error it returns is
 * thrown as the operation's own would be; undefined clears it. Tests fail each write
 * point in turn with it.
 * @internal
 */
export function injectWriteFault(fault: WriteFault | undefined): void {
  writeFault = fault;
}

function attempt<T>(path: string, operation: WriteOperation, act: () => T): T {
  try {
    const fault = writeFault?.(path, operation);
    if (fault) throw fault;
    return act();
  } catch (e) {
    throw writeError(path, operation, e);
  }
}

/** Creates `dir` and the folders above it that are missing. */
export function makeDir(dir: string): void {
  attempt(dir, 'create folder', () => mkdirSync(dir, { recursive: true }));
}

/**
 * Writes `chunks` one after another to `path` by way of a temporary file in the same
 * folder, flushed to the disk before the rename. Chunks go straight from their
 * buffers to the file: nothing is joined in memory.
 */
export function writeFileAtomic(path: string, ...chunks: (string | Uint8Array)[]): void {
  const tmp = `${path}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    // errors name the file the caller asked for: the temporary one is gone by then
    fd = attempt(path, 'write', () => openSync(tmp, 'w'));
    for (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      for (let at = 0; at < bytes.byteLength;) at += attempt(path, 'write', () => writeSync(fd!, bytes, at));
    }
    attempt(path, 'flush', () => fsyncSync(fd!));
    closeSync(fd);
    fd = undefined;
    attempt(path, 'rename', () => renameSync(tmp, path));
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw writeError(path, 'write', e);
  }
}

/** Renames `from` to `to` (files or folders, on one file system). */
export function rename(from: string, to: string): void {
  attempt(to, 'rename', () => renameSync(from, to));
}

/** The bytes free to an unprivileged user on the file system that holds `path` (or the nearest folder above that exists). */
export function freeBytes(path: string): number {
  for (let at = path; ; at = dirname(at)) {
    try {
      const s = statfsSync(at);
      return s.bavail * s.bsize;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(at) === at) throw e;
    }
  }
}
