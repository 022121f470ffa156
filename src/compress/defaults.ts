// The settings a compress job takes when it is not told otherwise: one place for the
// CLI's flag defaults and the library's compress().
import type { CompressJob } from './types.js';

export const compressDefaults = {
  epochs: 2,
  batchSize: 32,
  lr: 0.05,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 5e-4,
  schedule: 'cosine',
  warmupEpochs: 0.5,
  gamma: 0.1,
  seed: 0,
  method: 'hspg',
  lambda: 1e-3,
} as const satisfies Partial<CompressJob>;

/** Where a speed target (or roundChannels 'auto') measures, unless told: apart, as a job may give them only with a target. */
export const speedDefaults = { runtime: 'ort', speedBatch: 64 } as const satisfies Partial<CompressJob>;
