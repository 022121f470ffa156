// Models on disk in the TensorFlow.js LayersModel format (model.json + weights.bin),
// readable by tf.loadLayersModel in browsers and Node alike. Files are written to a
// temporary name and renamed, so a crash never leaves a half-written model.
import { mkdirSync, readFileSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { toFloat16Bits } from './float16.js';

export const WEIGHTS_FILE = 'weights.bin';

/** What slimtrain records about a model beside its topology. */
export interface SlimtrainMetadata {
  dataset?: string;
  normalization?: { mean: number[]; std: number[] };
  [key: string]: unknown;
}

export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

/** The layer configs of a Sequential or functional model's JSON topology. */
export function layerConfigs(topology: unknown): LayerJson[] {
  const config = (topology as { config?: unknown }).config as { layers?: LayerJson[] } | LayerJson[] | undefined;
  if (!config) return [];
  return Array.isArray(config) ? config : (config.layers ?? []);
}

/**
 * The model's topology as Keras-style JSON that reloads as the same model.
 * TensorFlow.js 4.22 leaves SeparableConv2D's depth multiplier out of its config,
 * so such a model with a multiplier above 1 would not reload; we write it as Keras
 * does (depth_multiplier).
 */
export function modelTopology(model: tfl.LayersModel): Record<string, unknown> {
  const topology = model.toJSON(null, false) as unknown as Record<string, unknown>;
  patchTopology(model, topology);
  return topology;
}

function patchTopology(model: tfl.LayersModel, topology: unknown): void {
  for (const layer of layerConfigs(topology)) {
    if (layer.class_name !== 'SeparableConv2D' || layer.config.depth_multiplier !== undefined) continue;
    const kernel = model.getLayer(layer.config.name as string).weights.find((w) => w.originalName.endsWith('depthwise_kernel'));
    if (kernel) layer.config.depth_multiplier = kernel.shape[3];
  }
}

/** Writes `data` to `path` atomically: a temporary file in the same folder, then rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** float32 weights stored as float16 (half the bytes), the way tfjs-converter's --quantize_float16 does. */
function quantizeFloat16(specs: tf.io.WeightsManifestEntry[], data: ArrayBuffer): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const out = specs.map((spec) => {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = count * bytesPerValue(spec);
    const chunk = data.slice(offset, offset + bytes);
    offset += bytes;
    if (spec.dtype !== 'float32' || spec.quantization) {
      parts.push(new Uint8Array(chunk));
      return spec;
    }
    parts.push(new Uint8Array(toFloat16Bits(new Float32Array(chunk)).buffer));
    return { ...spec, quantization: { dtype: 'float16' as const, original_dtype: 'float32' as const } };
  });
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length;
  }
  return { specs: out, data: joined.buffer };
}

/**
 * Saves `model` as DIR/model.json + DIR/weights.bin; returns the model.json path.
 * `float16` stores float32 weights at half precision (TensorFlow.js expands them on load).
 */
export async function saveModel(model: tfl.LayersModel, dir: string, metadata: SlimtrainMetadata = {}, options: { float16?: boolean } = {}): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const modelPath = join(dir, 'model.json');
  model.setUserDefinedMetadata({ slimtrain: metadata } as never);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      let weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData!);
      let weightSpecs = artifacts.weightSpecs!;
      if (options.float16) ({ specs: weightSpecs, data: weightData } = quantizeFloat16(weightSpecs, weightData));
      patchTopology(model, artifacts.modelTopology);
      const json = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: weightSpecs }],
        userDefinedMetadata: artifacts.userDefinedMetadata,
      };
      // weights first: a model.json never points at weights that are not there yet
      writeFileAtomic(join(dir, WEIGHTS_FILE), new Uint8Array(weightData));
      writeFileAtomic(modelPath, JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return modelPath;
}

interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: { slimtrain?: SlimtrainMetadata };
}

function readModelJson(path: string): ModelJson {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ModelFileError(`cannot read model file ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(`${path} is not valid JSON (${(e as Error).message}); is it a TensorFlow.js model.json?`);
  }
  if (typeof json !== 'object' || json === null || !('modelTopology' in json)) {
    throw new ModelFileError(`${path} has no modelTopology: it is not a TensorFlow.js LayersModel model.json`);
  }
  return json as ModelJson;
}

function bytesPerValue(spec: tf.io.WeightsManifestEntry): number {
  const stored = spec.quantization?.dtype ?? spec.dtype;
  const sizes: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };
  const size = sizes[stored];
  if (size === undefined) throw new ModelFileError(`weight ${spec.name} has unsupported type ${stored}`);
  return size;
}

export interface LoadedModel {
  model: tfl.LayersModel;
  metadata: SlimtrainMetadata;
  path: string;
}

/** Loads a LayersModel from a model.json path (or a folder holding model.json). */
export async function loadModel(path: string): Promise<LoadedModel> {
  const modelPath = path.endsWith('.json') ? resolve(path) : resolve(path, 'model.json');
  const json = readModelJson(modelPath);
  const manifest = json.weightsManifest ?? [];
  const weightSpecs = manifest.flatMap((group) => group.weights);
  const buffers = manifest.flatMap((group) =>
    group.paths.map((p) => {
      const file = join(dirname(modelPath), p);
      try {
        const b = readFileSync(file);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      } catch (e) {
        throw new ModelFileError(`cannot read weights file ${file} named by ${modelPath}: ${(e as Error).message}`);
      }
    }),
  );
  const weightData = tf.io.CompositeArrayBuffer.join(buffers);
  const expectedBytes = weightSpecs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPerValue(s), 0);
  if (weightData.byteLength !== expectedBytes) {
    throw new ModelFileError(
      `weights of ${modelPath} hold ${weightData.byteLength} bytes but its manifest needs ${expectedBytes}; ` +
        'the weights file is truncated or belongs to another model',
    );
  }
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs, weightData }),
    );
  } catch (e) {
    throw new ModelFileError(`cannot build the model in ${modelPath}: ${(e as Error).message}`);
  }
  return { model, metadata: json.userDefinedMetadata?.slimtrain ?? {}, path: modelPath };
}
