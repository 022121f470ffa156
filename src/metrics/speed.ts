// Measured speed and size of a model where users deploy it: TensorFlow.js (the active
// backend) and ONNX Runtime, latency at batch 1 and throughput at batch 64, medians
// of repeated runs after warm-up; file sizes raw and gzip-compressed.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { exportOnnx } from '../export/onnx.js';
import { saveModel } from '../io/model_files.js';
import { countModel } from '../layers/count.js';
import { createSession } from '../onnx/runtime.js';
import { outputList } from '../util/shape.js';
import { stepCounter, type ProgressListener } from '../util/progress.js';

export interface Timing {
  runtime: string;
  batch: number;
  medianMs: number;
  imagesPerSecond: number;
  repeats: number;
}

export interface ModelSpeed {
  params: number;
  macs: number;
  timings: Timing[];
  sizes: { tfjsBytes: number; tfjsGzipBytes: number; onnxBytes: number; onnxGzipBytes: number };
}

export interface SpeedOptions {
  batchSizes?: number[];
  /** timed runs per measurement, after 3 warm-up runs */
  repeats?: number;
  /** told how many runs are done */
  onProgress?: ProgressListener;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** warm-up runs before the timed ones */
export const WARM_UP = 3;

/** a turn of the event loop, outside the timed runs: a signal (Ctrl-C) is handled between runs, not after the last */
const between = () => new Promise((resolve) => setImmediate(resolve));

async function time(run: () => Promise<void> | void, repeats: number, onRun?: () => void): Promise<number> {
  for (let i = 0; i < WARM_UP; i++) {
    await run();
    onRun?.();
    await between();
  }
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await run();
    ms.push(performance.now() - start);
    onRun?.();
    await between();
  }
  return median(ms);
}

function tfjsFileBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + readFileSync(join(dir, f)).length, 0);
}

export const runtimes = ['ort', 'tfjs'] as const;
export type Runtime = (typeof runtimes)[number];

/** the runtime as people name it */
export function runtimeLabel(runtime: Runtime): string {
  return runtime === 'ort' ? 'ONNX Runtime' : 'TensorFlow.js';
}

/** the runtime with TensorFlow.js's backend */
export function runtimeName(runtime: Runtime): string {
  return runtime === 'ort' ? 'ONNX Runtime' : `TensorFlow.js ${tf.getBackend()}`;
}

/** Median milliseconds of `model` in `runtime` on each input, over `repeats` runs after 3 warm-up runs; `onRun` is told of each run. */
export async function timeModel(
  model: tfl.LayersModel,
  runtime: Runtime,
  inputs: readonly tf.Tensor[],
  repeats: number,
  onRun?: () => void,
): Promise<number[]> {
  const ms: number[] = [];
  if (runtime === 'tfjs') {
    for (const x of inputs) {
      ms.push(
        await time(
          () => {
            // a block, not an expression: tidy walks what its function returns, element by element
            tf.tidy(() => {
              for (const y of outputList(model.predict(x))) y.dataSync();
            });
          },
          repeats,
          onRun,
        ),
      );
    }
    return ms;
  }
  const ort = await import('onnxruntime-node');
  const session = await createSession(exportOnnx(model), {
    intraOpNumThreads: 0,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  try {
    for (const x of inputs) {
      const input = new ort.Tensor('float32', Float32Array.from(x.dataSync()), x.shape);
      ms.push(
        await time(
          async () => {
            await session.run({ input });
          },
          repeats,
          onRun,
        ),
      );
    }
  } finally {
    await session.release();
  }
  return ms;
}

export async function measureModelSpeed(model: tfl.LayersModel, options: SpeedOptions = {}): Promise<ModelSpeed> {
  const batchSizes = options.batchSizes ?? [1, 64];
  const repeats = options.repeats ?? 15;
  const shape = (model.inputs[0].shape as (number | null)[]).slice(1) as number[];
  const onnxBytes = exportOnnx(model);
  const dir = mkdtempSync(join(tmpdir(), 'slimtrain-size-'));
  let tfjsBytes = 0;
  let tfjsGzipBytes = 0;
  try {
    await saveModel(model, dir);
    tfjsBytes = tfjsFileBytes(dir);
    tfjsGzipBytes = readdirSync(dir).reduce((n, f) => n + gzipSync(readFileSync(join(dir, f))).length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // TensorFlow.js first and ONNX Runtime after, never both alive: on few cores one
  // runtime's idle threads slowed the other's runs several-fold
  const inputs = batchSizes.map((batch) => tf.randomNormal([batch, ...shape], 0, 1, 'float32', 3));
  const timings: Timing[] = [];
  const tick = stepCounter(options.onProgress, `timing ${model.name}`, 2 * batchSizes.length * (WARM_UP + repeats));
  try {
    const tfjs = await timeModel(model, 'tfjs', inputs, repeats, tick);
    const ort = await timeModel(model, 'ort', inputs, repeats, tick);
    batchSizes.forEach((batch, i) => {
      for (const [runtime, ms] of [
        [runtimeName('tfjs'), tfjs[i]],
        [runtimeName('ort'), ort[i]],
      ] as const)
        timings.push({ runtime, batch, medianMs: ms, imagesPerSecond: (batch * 1000) / ms, repeats });
    });
  } finally {
    tf.dispose(inputs);
  }
  const count = countModel(model);
  return {
    params: count.params,
    macs: count.macs,
    timings,
    sizes: { tfjsBytes, tfjsGzipBytes, onnxBytes: onnxBytes.length, onnxGzipBytes: gzipSync(onnxBytes).length },
  };
}

/**
 * A speed-up measured so that it holds: `ratio` is the median of the latest rounds'
 * ratios (each round times both models back to back), `spread` their range over
 * that median. Other tenants of a machine steal the CPU in bursts that last many
 * runs; rounds go on until a window of rounds agrees, or time runs out.
 */
export interface MeasuredRatio {
  ratio: number;
  spread: number;
  rounds: number;
  /** the spread stayed above NOISY: the ratio is not to be relied on */
  noisy: boolean;
}

/** Both runtimes' speed-ups of one model over another at one batch size. */
export interface SpeedUps {
  batch: number;
  tfjs: MeasuredRatio;
  ort: MeasuredRatio;
}

/** How many times faster `model` runs than `base` in TensorFlow.js and ONNX Runtime (compareSpeed). */
export async function compareSpeeds(base: tfl.LayersModel, model: tfl.LayersModel, options: CompareOptions = {}): Promise<SpeedUps> {
  return {
    batch: options.batch ?? 64,
    tfjs: await compareSpeed(base, model, 'tfjs', options),
    ort: await compareSpeed(base, model, 'ort', options),
  };
}

/** a ratio whose rounds disagree by more than this is reported as noisy */
export const NOISY = 0.2;

export interface CompareOptions {
  batch?: number;
  /** timed runs per model per round, after 3 warm-up runs (default 5) */
  repeats?: number;
  /** rounds the ratio is taken over (default 5) */
  window?: number;
  /** stop once the window's spread is under this (default 0.1) */
  settle?: number;
  /** stop after this long even if unsettled (default 120 s) */
  maxSeconds?: number;
  /** told of each round, out of the most that fit in maxSeconds */
  onProgress?: ProgressListener;
}

/** How many times faster `model` runs than `base` in `runtime`, in alternating rounds (MeasuredRatio). */
export async function compareSpeed(
  base: tfl.LayersModel,
  model: tfl.LayersModel,
  runtime: Runtime,
  options: CompareOptions = {},
): Promise<MeasuredRatio> {
  const { batch = 64, repeats = 5, window = 5, settle = 0.1, maxSeconds = 120 } = options;
  const shape = (base.inputs[0].shape as (number | null)[]).slice(1) as number[];
  const x = tf.randomNormal([batch, ...shape], 0, 1, 'float32', 3);
  const ratios: number[] = [];
  const step = `speed-up in ${runtimeName(runtime)} at batch ${batch}, in rounds until they agree within ${Math.round(settle * 100)}%`;
  const start = performance.now();
  let latest = { ratio: NaN, spread: Infinity };
  try {
    for (let round = 0; ; round++) {
      // which model goes first alternates, so that neither always follows the other
      const pair = round % 2 ? [model, base] : [base, model];
      const [first, second] = [(await timeModel(pair[0], runtime, [x], repeats))[0], (await timeModel(pair[1], runtime, [x], repeats))[0]];
      ratios.push(round % 2 ? second / first : first / second);
      const seconds = (performance.now() - start) / 1000;
      let done = false;
      if (ratios.length >= window) {
        const last = ratios.slice(-window);
        const mid = median(last);
        latest = { ratio: mid, spread: (Math.max(...last) - Math.min(...last)) / mid };
        done = latest.spread < settle || seconds > maxSeconds;
      }
      // the most rounds there can be, at the pace so far
      const most = Math.max(window, ratios.length + Math.ceil(Math.max(0, maxSeconds - seconds) / (seconds / ratios.length)));
      options.onProgress?.({ step, done: ratios.length, total: done ? ratios.length : most });
      if (done) break;
    }
  } finally {
    x.dispose();
  }
  return { ...latest, rounds: ratios.length, noisy: latest.spread > NOISY };
}
