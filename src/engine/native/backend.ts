// The 'native' backend: TensorFlow.js's cpu backend (same tensor storage, same
// kernels for everything else) whose kernels that dominate training are replaced by
// the addon's (kernels/, registered by ../native.ts), with a pool of output buffers.
import { backend_util, type DataId, type DataType } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
/**
 * Reuses the output buffers of the native kernels once their tensors are disposed,
 * as PyTorch's caching allocator does: a fresh multi-megabyte buffer per kernel
 * costs page faults and drives V8 into a full garbage collection every few steps.
 * A buffer is reused only when no registered tensor refers to it any more and its
 * array was never handed out (readSync marks it escaped); views of it that other
 * kernels register count as references.
 */
class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly references = new Map<ArrayBufferLike, number>();
  private readonly owned = new WeakSet<ArrayBufferLike>();
  private readonly escaped = new WeakSet<ArrayBufferLike>();
  private freeBytes = 0;
  constructor(private readonly limitBytes: number) {}

  /** An uninitialised buffer of `length` floats; kernels write every element. */
  take(length: number): Float32Array {
    if (length < 4096) return new Float32Array(length);
    const reused = this.free.get(length)?.pop();
    if (reused) {
      this.freeBytes -= reused.byteLength;
      return reused;
    }
    // at this size Buffer.allocUnsafe gives the buffer its own ArrayBuffer and skips the zero fill
    const bytes = Buffer.allocUnsafe(length * 4);
    const array = new Float32Array(bytes.buffer, bytes.byteOffset, length);
    this.owned.add(array.buffer);
    return array;
  }

  /** A tensor now refers to `values`. */
  register(values: unknown): void {
    const buffer = (values as { buffer?: ArrayBufferLike } | null)?.buffer;
    if (buffer && this.owned.has(buffer)) this.references.set(buffer, (this.references.get(buffer) ?? 0) + 1);
  }

  /** A tensor that referred to `values` is gone; the last one returns the buffer to the pool. */
  release(values: unknown): void {
    const buffer = (values as { buffer?: ArrayBufferLike } | null)?.buffer;
    if (!buffer || !this.owned.has(buffer)) return;
    const left = (this.references.get(buffer) ?? 1) - 1;
    if (left > 0) {
      this.references.set(buffer, left);
      return;
    }
    this.references.delete(buffer);
    if (this.escaped.has(buffer) || this.freeBytes + buffer.byteLength > this.limitBytes) return;
    const length = buffer.byteLength / 4;
    const list = this.free.get(length) ?? [];
    list.push(new Float32Array(buffer, 0, length));
    this.free.set(length, list);
    this.freeBytes += buffer.byteLength;
  }

  /** Someone outside the backend holds `values`: never reuse its buffer. */
  escape(values: unknown): void {
    const buffer = (values as { buffer?: ArrayBufferLike } | null)?.buffer;
    if (buffer && this.owned.has(buffer)) this.escaped.add(buffer);
  }

  clear(): void {
    this.free.clear();
    this.freeBytes = 0;
  }
}

export class NativeBackend extends MathBackendCPU {
  /** @internal */
  readonly pool = new BufferPool(512 * 2 ** 20);

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    this.pool.register(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: DataId, values: backend_util.BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.pool.register(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const values = super.readSync(dataId);
    this.pool.escape(this.data.get(dataId)?.values);
    return values;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const released = super.disposeData(dataId, force);
    if (released && values !== undefined && !this.data.has(dataId)) this.pool.release(values);
    return released;
  }

  override dispose(): void {
    this.pool.clear();
    super.dispose();
  }
}
