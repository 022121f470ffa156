// Training checkpoints: everything a run needs to continue bit for bit (weights,
// optimizer buffers and step, the shuffling RNG, where in the epoch it stopped, the
// metrics so far), written atomically: the new checkpoint goes to DIR.next and
// replaces DIR only once complete, so the previous one survives a crash or a full
// disk mid-write. The arrays are binary files beside a small JSON state, so that a
// model of tens of millions of parameters writes and reads without large strings.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { OptimizerState } from '../optim/optimizer.js';
import { makeDir, rename, writeFileAtomic, WriteError } from '../util/files.js';
import { shapeSize } from '../util/shape.js';
import type { EpochMetrics } from './metrics.js';

/** the format writeCheckpoint writes: 2 since optimizer buffers are binary */
export const CHECKPOINT_VERSION = 2;

export interface TrainingState {
  version: typeof CHECKPOINT_VERSION;
  /** epochs completed */
  epoch: number;
  /** optimizer steps taken */
  step: number;
  /** batches of the next epoch already trained (0 at an epoch boundary) */
  batchInEpoch: number;
  /** the shuffling RNG at the start of that epoch */
  rng: number[];
  /** running sums of the partly trained epoch */
  partial: { lossSum: number; correct: number; images: number };
  optimizer: OptimizerState;
  history: EpochMetrics[];
  /** every model weight (trainable or not), in model.weights order */
  weights: { name: string; shape: number[] }[];
  /** the settings the run was started with; a resumed run must share them */
  job?: unknown;
  /** per-epoch figures the caller keeps beside history (compress: group sparsity) */
  epochStats?: unknown[];
}

export interface Checkpoint {
  state: TrainingState;
  weights: Float32Array[];
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export function snapshotWeights(model: tfl.LayersModel): Pick<Checkpoint, 'weights'> & { specs: TrainingState['weights'] } {
  return {
    weights: model.weights.map((w) => Float32Array.from(w.read().dataSync())),
    specs: model.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[] })),
  };
}

export function restoreWeights(model: tfl.LayersModel, checkpoint: Checkpoint): void {
  const specs = checkpoint.state.weights;
  if (specs.length !== model.weights.length) {
    throw new CheckpointError(
      `the checkpoint holds ${specs.length} weights, the model has ${model.weights.length}: it belongs to another model`,
    );
  }
  model.weights.forEach((w, i) => {
    const spec = specs[i];
    if (spec.name !== w.originalName || spec.shape.join('x') !== (w.shape as number[]).join('x')) {
      throw new CheckpointError(`checkpoint weight ${i} is ${spec.name} [${spec.shape}], the model's is ${w.originalName} [${w.shape}]`);
    }
    w.write(tf.tensor(checkpoint.weights[i], spec.shape));
  });
}

/** a tensor's place in a checkpoint: which tensors-NNN.bin, and the byte it starts at (float32) */
interface TensorPlace {
  shape: number[];
  shard: number;
  offset: number;
}

/** The largest tensors-NNN.bin a checkpoint writes (a larger tensor gets a file of its own). */
const SHARD_BYTES = 64 << 20;

const shardFile = (dir: string, shard: number) => join(dir, `tensors-${String(shard).padStart(3, '0')}.bin`);

/** Packs float32 arrays into shards of at most SHARD_BYTES, by reference: nothing is copied until written. */
class ShardPacker {
  readonly shards: Float32Array[][] = [[]];
  private filled = 0;

  place(values: Float32Array, shape: number[]): TensorPlace {
    if (this.filled > 0 && this.filled + values.byteLength > SHARD_BYTES) {
      this.shards.push([]);
      this.filled = 0;
    }
    const place = { shape, shard: this.shards.length - 1, offset: this.filled };
    this.shards[this.shards.length - 1].push(values);
    this.filled += values.byteLength;
    return place;
  }
}

/**
 * Writes the checkpoint into DIR by way of DIR.next, which replaces DIR only once
 * complete (the old DIR goes only after): state.json holds the state, with each
 * weight's and optimizer buffer's place in the binary tensors-NNN.bin beside it. Each
 * array goes from memory straight to its file. A failed write removes DIR.next and
 * leaves DIR as it was.
 */
export function writeCheckpoint(dir: string, checkpoint: Checkpoint): void {
  const next = `${dir}.next`;
  const previous = `${dir}.prev`;
  rmSync(next, { recursive: true, force: true });
  try {
    makeDir(next);
    const packer = new ShardPacker();
    const { state } = checkpoint;
    const weights = state.weights.map((w, i) => ({ name: w.name, ...packer.place(checkpoint.weights[i], w.shape) }));
    const slots = Object.fromEntries(Object.entries(state.optimizer.slots).map(([key, s]) => [key, packer.place(s.values, s.shape)]));
    packer.shards.forEach((arrays, i) =>
      writeFileAtomic(shardFile(next, i), ...arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength))),
    );
    const file = { ...state, version: CHECKPOINT_VERSION, weights, optimizer: { ...state.optimizer, slots } };
    writeFileAtomic(join(next, 'state.json'), JSON.stringify(file));
    if (existsSync(dir)) rename(dir, previous);
    rename(next, dir);
  } catch (e) {
    // the old checkpoint back in its place, if the swap had begun
    if (!existsSync(dir) && existsSync(previous)) renameSync(previous, dir);
    rmSync(next, { recursive: true, force: true });
    throw e;
  }
  rmSync(previous, { recursive: true, force: true });
}

/** The bytes the checkpoint in `dir` takes on disk (0 when there is none). */
export function checkpointBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

/** The bytes of one checkpoint of `model` whose optimizer keeps `slots` buffers per trainable weight. */
export function checkpointSize(model: tfl.LayersModel, slots: number): number {
  const size = (weights: tfl.LayerVariable[]) => weights.reduce((n, w) => n + shapeSize(w.shape as number[]), 0);
  return 4 * (size(model.weights) + slots * size(model.trainableWeights)) + (64 << 10);
}

/** Where the checkpoint of DIR lies: DIR, or DIR.prev when a crash came between the two renames of a swap. */
function checkpointFolder(dir: string): string | undefined {
  return existsSync(`${dir}/state.json`) ? dir : existsSync(`${dir}.prev/state.json`) ? `${dir}.prev` : undefined;
}

export function checkpointExists(dir: string): boolean {
  return checkpointFolder(dir) !== undefined;
}

/** Reads a shard file, viewed as float32 without a copy, and its size in bytes. */
function readShard(path: string): { floats: Float32Array; bytes: number } {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(`${path} cannot be read (${(e as Error).message}): the checkpoint is damaged`);
  }
  const bytes = raw.byteOffset % 4 === 0 ? raw : Buffer.from(raw);
  return { floats: new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4)), bytes: raw.byteLength };
}

/** The arrays at `places`, each a view into its shard file, read once. */
function readPlaces(from: string, places: TensorPlace[]): Float32Array[] {
  const shards = new Map<number, ReturnType<typeof readShard>>();
  return places.map((p) => {
    let shard = shards.get(p.shard);
    if (!shard) shards.set(p.shard, (shard = readShard(shardFile(from, p.shard))));
    const start = p.offset / 4;
    const end = start + shapeSize(p.shape);
    if (!Number.isInteger(start) || end > shard.floats.length)
      throw new CheckpointError(
        `${shardFile(from, p.shard)} holds ${shard.bytes} bytes, the state needs ${4 * end}: the checkpoint is damaged`,
      );
    return shard.floats.subarray(start, end);
  });
}

/** A version 1 checkpoint (weights.bin, optimizer buffers as JSON numbers): read, for runs begun before version 2. */
function readVersion1(from: string, state: TrainingState): Checkpoint {
  const raw = readFileSync(`${from}/weights.bin`);
  const expected = state.weights.reduce((n, w) => n + 4 * shapeSize(w.shape), 0);
  if (raw.length !== expected)
    throw new CheckpointError(`${from}/weights.bin holds ${raw.length} bytes, the state needs ${expected}: the checkpoint is damaged`);
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  let at = 0;
  const weights = state.weights.map((w) => all.subarray(at, (at += shapeSize(w.shape))));
  const saved = state.optimizer.slots as unknown as Record<string, { shape: number[]; values: number[] }>;
  const slots = Object.fromEntries(Object.entries(saved).map(([k, s]) => [k, { shape: s.shape, values: Float32Array.from(s.values) }]));
  return { state: { ...state, version: CHECKPOINT_VERSION, optimizer: { ...state.optimizer, slots } }, weights };
}

/** Reads DIR (or DIR.prev, when a crash came between the two renames). */
export function readCheckpoint(dir: string): Checkpoint {
  const from = checkpointFolder(dir);
  if (!from) throw new CheckpointError(`no checkpoint in ${dir}: nothing to resume (checkpoints are written by runs with --out)`);
  let file: Omit<TrainingState, 'version' | 'weights' | 'optimizer'> & {
    version: number;
    weights: (TensorPlace & { name: string })[];
    optimizer: OptimizerState & { slots: Record<string, TensorPlace> };
  };
  try {
    file = JSON.parse(readFileSync(`${from}/state.json`, 'utf8')) as typeof file;
  } catch (e) {
    throw new CheckpointError(`${from}/state.json is not a readable checkpoint: ${(e as Error).message}`);
  }
  if (file.version === 1) return readVersion1(from, file as unknown as TrainingState);
  if (file.version !== CHECKPOINT_VERSION)
    throw new CheckpointError(`${from}/state.json has version ${file.version}; this slimtrain reads versions 1 and ${CHECKPOINT_VERSION}`);
  const slotKeys = Object.keys(file.optimizer.slots);
  const arrays = readPlaces(from, [...file.weights, ...slotKeys.map((k) => file.optimizer.slots[k])]);
  const slots = Object.fromEntries(
    slotKeys.map((k, i) => [k, { shape: file.optimizer.slots[k].shape, values: arrays[file.weights.length + i] }]),
  );
  return {
    state: {
      ...file,
      version: CHECKPOINT_VERSION,
      weights: file.weights.map((w) => ({ name: w.name, shape: w.shape })),
      optimizer: { ...file.optimizer, slots },
    },
    weights: arrays.slice(0, file.weights.length),
  };
}

/** What a training run needs to checkpoint: where to continue from, and where each checkpoint goes. */
export interface Checkpointing {
  resume?: Checkpoint;
  onCheckpoint(checkpoint: Checkpoint): void;
}

/** The settings a resumed run must share with the run it continues: what shapes training. */
export function jobFingerprint(job: object, ignore: readonly string[] = []): Record<string, unknown> {
  const skip = new Set(['resume', 'shouldStop', ...ignore]);
  const kept = Object.entries(job)
    .filter(([k]) => !skip.has(k))
    .map(([k, v]) => [k, k === 'optimizer' && v && typeof v === 'object' && 'step' in v ? v.name : v]);
  return JSON.parse(JSON.stringify(Object.fromEntries(kept))) as Record<string, unknown>;
}

/**
 * Checkpointing for a run that saves to `dir`: the checkpoint to continue from when
 * `resume` asks for one ('required': it must exist; 'if-present': a stage that may
 * not have started yet), refused when made with other settings; and the writer,
 * which stores `fingerprint` and whatever `epochStats` gives.
 */
export function checkpointing(
  dir: string,
  fingerprint: Record<string, unknown>,
  resume: 'required' | 'if-present' | false,
  epochStats?: () => unknown[],
): Checkpointing {
  let from: Checkpoint | undefined;
  if (resume === 'required' || (resume === 'if-present' && checkpointExists(dir))) {
    from = readCheckpoint(dir);
    const saved = (from.state.job ?? {}) as Record<string, unknown>;
    const differ = [...new Set([...Object.keys(saved), ...Object.keys(fingerprint)])].filter(
      (k) => JSON.stringify(saved[k]) !== JSON.stringify(fingerprint[k]),
    );
    if (differ.length > 0) {
      throw new CheckpointError(
        `the checkpoint in ${dir} was made with other settings (${differ.map((k) => `${k}: ${JSON.stringify(saved[k])} then, ${JSON.stringify(fingerprint[k])} now`).join('; ')}); ` +
          'resume with the same command',
      );
    }
  }
  return {
    resume: from,
    onCheckpoint: (c) => {
      try {
        writeCheckpoint(dir, { ...c, state: { ...c.state, job: fingerprint, epochStats: epochStats?.() } });
      } catch (e) {
        if (!(e instanceof WriteError)) throw e;
        const kept = checkpointExists(dir) ? readCheckpointState(dir) : undefined;
        throw e.withContext(
          kept
            ? `The checkpoint in ${dir} is intact and holds the run ${where(kept)}: once the disk takes the next one, the same command with --resume goes on from there`
            : 'No checkpoint was saved yet: run the command again once the disk takes it',
        );
      }
    },
  };
}

/** where a checkpoint's run stands: 'after epoch 3' or 'in epoch 4, after its batch 120' */
function where(s: Pick<TrainingState, 'epoch' | 'batchInEpoch'>): string {
  return s.batchInEpoch ? `in epoch ${s.epoch + 1}, after its batch ${s.batchInEpoch}` : `after epoch ${s.epoch}`;
}

/** The state of the checkpoint in DIR (or DIR.prev) without its arrays. */
function readCheckpointState(dir: string): Pick<TrainingState, 'epoch' | 'batchInEpoch' | 'step'> {
  return JSON.parse(readFileSync(`${checkpointFolder(dir)}/state.json`, 'utf8')) as TrainingState;
}

/** Where a resumed run of `epochs` epochs goes on from, in a line. */
export function resumingFrom(dir: string, checkpoint: Checkpoint, epochs: number): string {
  const s = checkpoint.state;
  if (s.epoch >= epochs) return `resuming from ${dir}: all ${s.epoch} epochs done (${s.step} steps), so no training is left`;
  const next = s.batchInEpoch ? `in epoch ${s.epoch + 1} after its batch ${s.batchInEpoch}` : `at the start of epoch ${s.epoch + 1}`;
  return `resuming from ${dir}: ${s.epoch} epoch${s.epoch === 1 ? '' : 's'} done, going on ${next} (${s.step} steps in all)`;
}
