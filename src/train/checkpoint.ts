// Training checkpoints: everything a run needs to continue bit for bit (weights,
// optimizer buffers and step, the shuffling RNG, where in the epoch it stopped, the
// metrics so far), written atomically: the new checkpoint goes to DIR.next and
// replaces DIR only once complete, so the previous one survives a crash mid-write.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { OptimizerState } from '../optim/optimizer.js';
import { shapeSize } from '../util/shape.js';
import type { EpochMetrics } from './metrics.js';

export interface TrainingState {
  version: 1;
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

/** Writes DIR/state.json and DIR/weights.bin by way of DIR.next; the old DIR goes only after. */
export function writeCheckpoint(dir: string, checkpoint: Checkpoint): void {
  const next = `${dir}.next`;
  const previous = `${dir}.prev`;
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  const bytes = new Uint8Array(checkpoint.weights.reduce((n, w) => n + w.byteLength, 0));
  let at = 0;
  for (const w of checkpoint.weights) {
    bytes.set(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), at);
    at += w.byteLength;
  }
  writeFileSync(`${next}/weights.bin`, bytes);
  writeFileSync(`${next}/state.json`, JSON.stringify(checkpoint.state));
  if (existsSync(dir)) renameSync(dir, previous);
  renameSync(next, dir);
  rmSync(previous, { recursive: true, force: true });
}

export function checkpointExists(dir: string): boolean {
  return existsSync(`${dir}/state.json`) || existsSync(`${dir}.prev/state.json`);
}

/** Reads DIR (or DIR.prev, when a crash came between the two renames). */
export function readCheckpoint(dir: string): Checkpoint {
  const from = existsSync(`${dir}/state.json`) ? dir : existsSync(`${dir}.prev/state.json`) ? `${dir}.prev` : undefined;
  if (!from) throw new CheckpointError(`no checkpoint in ${dir}: nothing to resume (checkpoints are written by runs with --out)`);
  let state: TrainingState;
  try {
    state = JSON.parse(readFileSync(`${from}/state.json`, 'utf8')) as TrainingState;
  } catch (e) {
    throw new CheckpointError(`${from}/state.json is not a readable checkpoint: ${(e as Error).message}`);
  }
  if (state.version !== 1) throw new CheckpointError(`${from}/state.json has version ${state.version}; this slimtrain reads version 1`);
  const raw = readFileSync(`${from}/weights.bin`);
  const expected = state.weights.reduce((n, w) => n + 4 * shapeSize(w.shape), 0);
  if (raw.length !== expected)
    throw new CheckpointError(`${from}/weights.bin holds ${raw.length} bytes, the state needs ${expected}: the checkpoint is damaged`);
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  let at = 0;
  const weights = state.weights.map((w) => {
    const n = shapeSize(w.shape);
    const v = all.slice(at, at + n);
    at += n;
    return v;
  });
  return { state, weights };
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
    onCheckpoint: (c) => writeCheckpoint(dir, { ...c, state: { ...c.state, job: fingerprint, epochStats: epochStats?.() } }),
  };
}

/** Where a resumed run goes on from, in a line. */
export function resumingFrom(dir: string, checkpoint: Checkpoint): string {
  const s = checkpoint.state;
  const where = s.batchInEpoch ? `in epoch ${s.epoch + 1} after its batch ${s.batchInEpoch}` : `at the start of epoch ${s.epoch + 1}`;
  return `resuming from ${dir}: ${s.epoch} epoch${s.epoch === 1 ? '' : 's'} done, going on ${where} (${s.step} steps in all)`;
}
