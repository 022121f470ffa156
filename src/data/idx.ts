// The IDX format of MNIST and Fashion-MNIST: a 4-byte magic number (0, 0, dtype,
// rank), rank big-endian 32-bit dimensions, then the data. Files may be gzipped.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';
import { shapeSize } from '../util/shape.js';

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

/** Parses IDX bytes (raw or gzipped); `source` names the file in error messages. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  let raw = bytes;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (e) {
      throw new DataError(`${source}: corrupt gzip data (${(e as Error).message}); download the file again`);
    }
  }
  if (raw.length < 4) throw new DataError(`${source}: too short to be an IDX file (${raw.length} bytes)`);
  if (raw[0] !== 0 || raw[1] !== 0) {
    throw new DataError(`${source}: bad magic number 0x${Buffer.from(raw.subarray(0, 4)).toString('hex')}; not an IDX file`);
  }
  if (raw[2] !== UNSIGNED_BYTE) {
    throw new DataError(`${source}: IDX data type 0x${raw[2].toString(16)} is not supported (only unsigned bytes, 0x08)`);
  }
  const rank = raw[3];
  if (rank < 1 || rank > 4) throw new DataError(`${source}: IDX rank ${rank} is not supported`);
  const headerBytes = 4 + 4 * rank;
  if (raw.length < headerBytes) throw new DataError(`${source}: truncated IDX header`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const expected = shapeSize(shape);
  const actual = raw.length - headerBytes;
  if (actual !== expected) {
    throw new DataError(
      `${source}: ${actual < expected ? 'truncated' : 'has trailing bytes'}: header shape [${shape.join(', ')}] ` +
        `needs ${expected} data bytes, file has ${actual}; download the file again`,
    );
  }
  return { shape, data: raw.subarray(headerBytes) };
}

export function readIdx(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DataError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return parseIdx(bytes, path);
}

/** Encodes an unsigned-byte IDX array (used to write fixtures and exports). */
export function encodeIdx(shape: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = UNSIGNED_BYTE;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}
