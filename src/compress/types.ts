// What a compress job is given and what it gives back: the hand-offs between its
// stages (job.ts runs them) and the library's and CLI's shared vocabulary.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelSpeed, Runtime, SpeedUps } from '../metrics/speed.js';
import type { DirectionName } from '../optim/direction.js';
import type { GroupStats, MethodSettings, SparseMethod } from '../optim/sparse.js';
import type { SlimCheck } from '../slim/construct.js';
import type { DataOptions } from '../data/load.js';
import type { Quantization } from '../io/quantize.js';
import type { TrainConfig } from '../train/loop.js';
import type { Agreement, EpochMetrics } from '../train/metrics.js';
import type { ModelFileOptions } from '../models/resolve.js';

export type CompressEpoch = EpochMetrics & GroupStats;

export interface Artifacts {
  sparse: string;
  slim: string;
  onnx: string;
  metrics: string;
  report: string;
  float16?: string;
}

/** What a compress job starts from: the model, the data, and which layers train. */
export interface CompressSource extends DataOptions, ModelFileOptions {
  /** zoo name, or a model.json or .onnx file to start from */
  model: string;
  /** a data set's name, or a folder with one subfolder of images per class */
  data: string;
  /** use only the first N images of each split */
  subset?: number;
  /** layers to freeze (not trained, channels kept) besides those the model marks trainable: false */
  freeze?: string[];
  /** train every layer, also those the model marks trainable: false (their channels then become prunable) */
  trainFrozen?: boolean;
}

/** How it trains: epochs, batches and the learning-rate schedule, SGD's settings, distillation, a dense baseline. */
export interface CompressTraining extends Omit<TrainConfig, 'optimizer' | 'resume' | 'onCheckpoint' | 'distill'> {
  direction?: DirectionName;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  /**
   * learn from a trained model's outputs as well as the labels: the model started
   * from (a file), as it was before training, or `teacher` (docs/DESIGN.md, "Distillation")
   */
  distill?: boolean;
  /** the teacher term's share of the loss, in (0, 1] (default 0.9); 1 reads no labels: unlabelled images do */
  distillWeight?: number;
  /** softens the class distributions the teacher term compares (default 4) */
  temperature?: number;
  /** a model.json or .onnx file to learn from instead of the original */
  teacher?: string;
  /** also train the dense model with the same settings (plain SGD) for comparison */
  baseline?: boolean;
}

/** Which group-sparse method, with its penalty and the settings its spec reads (optim/methods/). */
export interface CompressMethod extends MethodSettings {
  method: SparseMethod;
  lambda: number;
}

/** What to remove, for a method with a target: one of three, and where a speed-up is measured (compress/target.ts). */
export interface CompressTargets {
  /** the share of the prunable groups to remove */
  targetSparsity?: number;
  /** instead of targetSparsity: dense MACs / slim MACs to aim for */
  targetMacsRatio?: number;
  /**
   * instead of targetSparsity or targetMacsRatio: the speed-up of the slim model to
   * aim for in `runtime` at `speedBatch`, predicted from per-layer latency tables
   * measured on this machine (metrics/latency.ts)
   */
  targetSpeedup?: number;
  /** with targetSpeedup: 'ort' (ONNX Runtime, default) or 'tfjs' (the active TensorFlow.js backend) */
  runtime?: Runtime;
  /** with targetSpeedup: the batch size of the speed-up (default 64) */
  speedBatch?: number;
}

/** What comes out: the slim model's channels and storage, the measurements, the folder and its checkpoints. */
export interface CompressOutput {
  /**
   * keep a multiple of this many channels per layer in the slim model (default 1);
   * 'auto' (the default with targetSpeedup): the multiple that runs fastest, measured
   */
  roundChannels?: number | 'auto';
  /** measure latency, throughput and file sizes of the sparse and slim models (default true) */
  measureSpeed?: boolean;
  /** with out: also write DIR/slim-float16 (half-precision weights) and report its accuracy */
  float16?: boolean;
  /**
   * how sparse/ and slim/ store their weights: 'input' (default) as the model file
   * given had them (uint8, uint16, float16 or float32, weight by weight), 'none'
   * float32, or one quantization for every weight
   */
  quantize?: 'input' | 'none' | Quantization;
  /** folder for the results; checkpoints go to OUT/checkpoint (and OUT/checkpoint-dense for the baseline) */
  out?: string;
  /** continue the run whose checkpoints are in OUT (same settings) */
  resume?: boolean;
}

/** A whole compress job, in its five parts; the CLI's flags and the library's options are its fields. */
export interface CompressJob extends CompressSource, CompressTraining, CompressMethod, CompressTargets, CompressOutput {}

export interface ModelSummary {
  accuracy: number;
  loss: number;
  params: number;
  macs: number;
}

export interface Float16Figures {
  accuracy: number;
  loss: number;
  weightBytes: number;
  float32WeightBytes: number;
  predictionMismatches: number;
}

/** sparse/ and slim/ as written with quantized weights, reloaded and checked */
export interface WrittenFigures {
  /** how the weights were stored: a quantization, or 'as input' (several) */
  quantization: string;
  /** weights bytes of the model file given, of sparse/ and of slim/ */
  inputBytes?: number;
  sparseBytes: number;
  slimBytes: number;
  /** the written slim model against the written sparse model */
  check: SlimCheck;
  /** test accuracy of the written slim model, and the test predictions that differ from the float32 slim model's */
  accuracy: number;
  predictionMismatches: number;
}

export interface CompressResult {
  history: CompressEpoch[];
  /** the model the run started from, on the test split before any training: for a model the user brings, with labelled test data */
  original?: ModelSummary;
  baseline?: ModelSummary & { history: EpochMetrics[] };
  sparse: ModelSummary & { groups: number; zeroGroups: number };
  slim: ModelSummary;
  /** full / slim */
  ratios: { params: number; macs: number };
  check: SlimCheck;
  /** test images whose predicted class differs between the sparse and the slim model */
  predictionMismatches: number;
  /** with a teacher: how the slim model's test outputs agree with the teacher's (the original's) */
  agreement?: Agreement;
  removedGroups: number;
  trainSeconds: number;
  /** the process's peak resident memory, in bytes, up to writing the files */
  peakMemory: number;
  /** the trained model with its zero groups; the caller disposes of it */
  sparseModel: tfl.LayersModel;
  /** the sparse model without its zero groups, checked to compute the same function; the caller disposes of it */
  slimModel: tfl.LayersModel;
  /** measured in TensorFlow.js and ONNX Runtime, unless measureSpeed is false */
  speed?: { sparse: ModelSpeed; slim: ModelSpeed; speedUps: SpeedUps };
  /** with targetSpeedup or roundChannels 'auto': what was predicted and measured in the target's runtime */
  speedTarget?: SpeedTargetResult;
  /** the slim model stored with float16 weights, reloaded and evaluated */
  float16?: Float16Figures;
  /** with quantized weights in sparse/ and slim/: their sizes and checks as written */
  written?: WrittenFigures;
  out?: Artifacts;
}

export interface SpeedTargetResult {
  runtime: Runtime;
  batch: number;
  /** the speed-up asked for, if one was */
  target?: number;
  /** the speed-up the latency tables predict for the zero groups, mapped onto `checked` */
  predicted?: number;
  /** whole slim models timed against the model before training: the speed-up the tables predicted for each, and the one measured */
  checked?: { predicted: number; measured: number }[];
  /** the multiple of channels kept, and the slim model's median ms at each multiple tried */
  roundTo: number;
  tried: { roundTo: number; ms: number }[];
}
