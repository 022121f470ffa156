// Latency tables (docs/DESIGN.md, "Speed targets"): how long a runtime takes to run
// each convolution and dense layer of a model at the widths slimming could give it,
// measured on this machine, so a target can be a measured speed-up rather than a
// MACs ratio. Each layer whose input or output channels can shrink is timed alone on
// a grid of widths (eighths of the full width); the latency of a planned slim model
// is the measured whole model less what its layers save, interpolated on the grids.
// Layers that match (class, settings, input size, grid) are timed once and kept in a
// cache per runtime, batch size and backend.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { plannedShapes, type Partition } from '../graph/groups.js';
import type { GraphNode } from '../layers/layer_graph.js';
import { ruleFor } from '../layers/registry.js';
import type { CostModel } from './cost.js';
import { runtimeName, timeModel, type Runtime } from './speed.js';
import { makeDir, writeFileAtomic } from '../util/files.js';
import { stepCounter, type ProgressListener } from '../util/progress.js';

/** One layer's measured grid: ms[i][o] at `ins[i]` input and `outs[o]` output channels. */
export interface LayerLatency {
  layer: string;
  ins: number[];
  outs: number[];
  ms: number[][];
}

export interface LatencyTable {
  runtime: Runtime;
  batch: number;
  /** the whole model, measured */
  modelMs: number;
  layers: LayerLatency[];
}

/** Times a model in a runtime on one input; measureLatencyTable takes another in tests. */
export type ModelTimer = (model: tfl.LayersModel, runtime: Runtime, input: tf.Tensor) => Promise<number>;

export interface LatencyOptions {
  runtime: Runtime;
  batch: number;
  /** timed runs per measurement (default 7) */
  repeats?: number;
  /** default $XDG_CACHE_HOME or ~/.cache, then slimtrain/latency; false: no cache */
  cacheDir?: string | false;
  timer?: ModelTimer;
  /** told how many layer widths are timed */
  onProgress?: ProgressListener;
}

/** the fractions of a shrinkable width the grid holds */
const GRID = [1 / 8, 2 / 8, 3 / 8, 4 / 8, 5 / 8, 6 / 8, 7 / 8, 1];

export function widthGrid(full: number, shrinks: boolean): number[] {
  return shrinks ? [...new Set(GRID.map((f) => Math.max(1, Math.round(f * full))))] : [full];
}

/** the shape a rule reads of `node` when its weights have the planned `shapes` (default its own) */
function shapeOf(node: GraphNode, shapes?: Map<string, number[]>) {
  return (role: string) => shapes?.get(role) ?? node.weights.find((w) => w.role === role)!.shape;
}

/** `node` alone at `widths`, as a model: the same layer settings, a random input of its size */
function layerAlone(node: GraphNode, widths: { in: number; out: number }): tfl.LayersModel {
  const rule = ruleFor(node.className)!;
  const config: Record<string, unknown> = { ...node.config, name: 'timed' };
  if (rule.widthKey) config[rule.widthKey] = widths.out;
  const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap[node.className];
  const layer = fromConfig(cls, config as tf.serialization.ConfigDict) as unknown as tfl.layers.Layer;
  const input = tfl.input({ shape: [...node.inputShapes[0].slice(0, -1), widths.in] });
  return tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
}

const defaultTimer =
  (repeats: number): ModelTimer =>
  async (model, runtime, input) =>
    (await timeModel(model, runtime, [input], repeats))[0];

interface CacheFile {
  cpu: string;
  entries: Record<string, number[][]>;
}

function cachePath(options: LatencyOptions): string | undefined {
  if (options.cacheDir === false) return undefined;
  const root = options.cacheDir ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'slimtrain', 'latency');
  return join(root, `${options.runtime}-${tf.getBackend()}-batch${options.batch}.json`);
}

function readCache(path: string | undefined): CacheFile {
  const cpu = cpus()[0]?.model ?? 'unknown';
  if (!path) return { cpu, entries: {} };
  try {
    const file = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
    // timings of another processor do not hold here
    return file.cpu === cpu && file.entries ? file : { cpu, entries: {} };
  } catch {
    return { cpu, entries: {} };
  }
}

function writeCache(path: string | undefined, cache: CacheFile): void {
  if (!path) return;
  try {
    makeDir(dirname(path));
    writeFileAtomic(path, JSON.stringify(cache));
  } catch {
    // an unwritable cache only costs timing again next time, and must not hide why a measurement stopped
  }
}

/**
 * Measures the latency table of `model` (with its groups `partition`) in a runtime
 * at a batch size: the whole model, and every layer whose channels the prunable
 * groups can shrink, on its width grid.
 */
export async function measureLatencyTable(model: tfl.LayersModel, partition: Partition, options: LatencyOptions): Promise<LatencyTable> {
  const timer = options.timer ?? defaultTimer(options.repeats ?? 7);
  const everything = plannedShapes(
    partition.graph,
    partition.groups.filter((g) => g.prunable),
  );
  const path = cachePath(options);
  const cache = readCache(path);
  const layers: LayerLatency[] = [];
  const timed = [...everything]
    .filter(([node]) => ruleFor(node.className)?.widths)
    .map(([node, smallest]) => {
      const rule = ruleFor(node.className)!;
      const full = rule.widths!(shapeOf(node));
      const least = rule.widths!(shapeOf(node, smallest));
      const ins = widthGrid(full.in, least.in < full.in);
      const outs = widthGrid(full.out, least.out < full.out);
      // what the layer computes decides its time; its name and how it was initialised do not
      const settings = Object.entries(node.config).filter(([k]) => k !== 'name' && !/(Initializer|Regularizer|Constraint)$/.test(k));
      const key = createHash('sha256')
        // timing 2: TensorFlow.js timings no longer include tidy walking the output read back
        .update(JSON.stringify({ className: node.className, settings, input: node.inputShapes[0], ins, outs, timing: 2 }))
        .digest('hex');
      return { node, ins, outs, key };
    });
  // the widths not in the cache (alike layers timed once), and the whole model
  const untimed = new Map(timed.filter((t) => !cache.entries[t.key]).map((t) => [t.key, t.ins.length * t.outs.length]));
  const tick = stepCounter(
    options.onProgress,
    `timing layers at their widths (${runtimeName(options.runtime)}, batch ${options.batch})`,
    [...untimed.values()].reduce((a, b) => a + b, 1),
  );
  // what was timed stays cached when a stop request ends the step
  try {
    for (const { node, ins, outs, key } of timed) {
      let ms = cache.entries[key];
      if (!ms) {
        ms = [];
        for (const i of ins) {
          const row: number[] = [];
          for (const o of outs) {
            const alone = layerAlone(node, { in: i, out: o });
            const x = tf.randomNormal([options.batch, ...node.inputShapes[0].slice(0, -1), i], 0, 1, 'float32', 5);
            try {
              row.push(await timer(alone, options.runtime, x));
            } finally {
              x.dispose();
              alone.dispose();
            }
            tick();
          }
          ms.push(row);
        }
        cache.entries[key] = ms;
      }
      layers.push({ layer: node.name, ins, outs, ms });
    }
  } finally {
    writeCache(path, cache);
  }
  const shape = (model.inputs[0].shape as (number | null)[]).slice(1) as number[];
  const x = tf.randomNormal([options.batch, ...shape], 0, 1, 'float32', 5);
  let modelMs: number;
  try {
    modelMs = await timer(model, options.runtime, x);
  } finally {
    x.dispose();
  }
  tick();
  return { runtime: options.runtime, batch: options.batch, modelMs, layers };
}

/** linear interpolation of `ys` over ascending `xs` at `x`, constant outside them */
function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  if (xs.length === 1 || x <= xs[0]) return ys[0];
  for (let k = 1; k < xs.length; k++) {
    if (x <= xs[k]) return ys[k - 1] + ((ys[k] - ys[k - 1]) * (x - xs[k - 1])) / (xs[k] - xs[k - 1]);
  }
  return ys[ys.length - 1];
}

/** a layer's latency at `widths`, bilinear on its grid */
export function layerLatency(table: LayerLatency, widths: { in: number; out: number }): number {
  return interpolate(
    table.ins,
    table.ms.map((row) => interpolate(table.outs, row, widths.out)),
    widths.in,
  );
}

/**
 * The latency the table predicts a planned slim model saves. Layers timed alone
 * each pay a call's overhead, so where their sum exceeds the whole model the savings
 * are scaled down to the whole.
 */
export function latencyCost(table: LatencyTable, partition: Partition): CostModel {
  const byLayer = new Map(table.layers.map((l) => [l.layer, l]));
  const widthsAt = (node: GraphNode, shapes?: Map<string, number[]>) => ruleFor(node.className)!.widths!(shapeOf(node, shapes));
  const full = new Map(table.layers.map((l) => [l.layer, layerLatency(l, widthsAt(partition.graph.byName.get(l.layer)!))]));
  const layersMs = [...full.values()].reduce((a, b) => a + b, 0);
  const scale = Math.min(1, table.modelMs / Math.max(layersMs, Number.MIN_VALUE));
  return {
    unit: `latency in ${runtimeName(table.runtime)} at batch ${table.batch}`,
    total: table.modelMs,
    saved(groups) {
      let saved = 0;
      for (const [node, shapes] of plannedShapes(partition.graph, groups)) {
        const layer = byLayer.get(node.name);
        if (layer) saved += full.get(node.name)! - layerLatency(layer, widthsAt(node, shapes));
      }
      return saved * scale;
    },
  };
}
