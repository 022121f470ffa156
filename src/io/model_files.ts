// Models on disk in the TensorFlow.js LayersModel format (model.json + weights.bin),
// readable by tf.loadLayersModel in browsers and Node alike. Files are written to a
// temporary name and renamed, so a crash never leaves a half-written model.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { quantizeWeights, type Grid, type QuantizePlan, type Quantization } from './quantize.js';
import type { OnnxInterface } from '../onnx/interface.js';
import { makeDir, writeFileAtomic } from '../util/files.js';
import { shapeSize } from '../util/shape.js';
import { flattenModel, MODEL_CLASSES } from './flatten.js';
// slimtrain's own layer classes (an imported grouped convolution, a channel shuffle)
// register with TensorFlow.js's serializer when their rules load
import '../layers/registry.js';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

/** What slimtrain records about a model beside its topology. */
export interface SlimtrainMetadata {
  dataset?: string;
  normalization?: { mean: number[]; std: number[] };
  /** a model imported from ONNX: the file's input and output names and layouts, which its exports keep */
  onnx?: OnnxInterface;
  /** a Keras model converted by tensorflowjs_converter: the Keras version it was saved with */
  keras?: string;
  /** a loaded file's weights: their bytes on disk and how each float32 weight was stored (by name), if quantized */
  weights?: { bytes: number; quantization: Record<string, Quantization> };
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

export interface SaveOptions {
  /** store float32 weights quantized (io/quantize.ts): one way for all, or by weight name */
  quantize?: QuantizePlan;
  /** the uint8/uint16 grids to store weights on, by weight name (a slim model on its sparse parent's) */
  grids?: ReadonlyMap<string, Grid>;
}

/** Saves `model` as DIR/model.json + DIR/weights.bin; returns the model.json path. */
export async function saveModel(
  model: tfl.LayersModel,
  dir: string,
  metadata: SlimtrainMetadata = {},
  options: SaveOptions = {},
): Promise<string> {
  makeDir(dir);
  const modelPath = join(dir, MODEL_FILE);
  // TensorFlow.js takes plain JSON only: settings left undefined are dropped; `weights`
  // describes a file read, not this one
  const { weights: _read, ...written } = metadata;
  model.setUserDefinedMetadata({ slimtrain: JSON.parse(JSON.stringify(written)) as SlimtrainMetadata } as never);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      let weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData!);
      let weightSpecs = artifacts.weightSpecs!;
      if (options.quantize)
        ({ specs: weightSpecs, data: weightData } = quantizeWeights(weightSpecs, weightData, options.quantize, options.grids));
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
  /** the Keras version and backend tensorflowjs_converter recorded, for a converted Keras model */
  keras?: { version: string; backend?: unknown };
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: { slimtrain?: SlimtrainMetadata };
}

/** why a file could not be read, without repeating its path */
function fileProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const known: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EISDIR: 'it is a folder',
    ENOTDIR: 'a folder on its path is a file',
  };
  return (code && known[code]) ?? (e as Error).message;
}

/** What a file that is not a LayersModel model.json is, told by its first bytes, with what to do. */
function foreignFormat(path: string, head: Buffer): string | undefined {
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    return (
      `${path} is a Keras HDF5 file (.h5): convert it first with ` +
      '`tensorflowjs_converter --input_format keras model.h5 OUT_DIR` and give slimtrain OUT_DIR/model.json'
    );
  }
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    return (
      `${path} is a zip archive, as a Keras 3 .keras file is: save the model with Keras 2 (tf.keras) as .h5 and convert it with ` +
      '`tensorflowjs_converter --input_format keras model.h5 OUT_DIR`, or export it to ONNX (tf2onnx) and give slimtrain the .onnx file'
    );
  }
  return undefined;
}

/** the Keras converter's advice for a model that is not a layers model */
const CONVERT_TO_LAYERS =
  'slimtrain trains layers models: convert the Keras model with `tensorflowjs_converter --input_format keras ' +
  '--output_format tfjs_layers_model`, or export it to ONNX and give slimtrain the .onnx file';

function readModelJson(path: string): ModelJson {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ModelFileError(`cannot read model file ${path}: ${fileProblem(e)}`);
  }
  const foreign = foreignFormat(path, bytes.subarray(0, 8));
  if (foreign) throw new ModelFileError(foreign);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ModelFileError(`${path} is not valid JSON (${(e as Error).message}); is it a TensorFlow.js model.json?`);
  }
  if (Array.isArray(json) && json.every((g) => isObject(g) && Array.isArray(g.paths))) {
    throw new ModelFileError(
      `${path} is a weights manifest without a model topology (face-api.js and older TensorFlow.js tools write these): ` +
        'slimtrain needs the model.json that describes the layers too',
    );
  }
  if (!isObject(json)) throw new ModelFileError(`${path} holds no JSON object: it is not a TensorFlow.js LayersModel model.json`);
  const topology = json.modelTopology;
  if (json.format === 'graph-model' || (isObject(topology) && 'node' in topology)) {
    throw new ModelFileError(
      `${path} is a TensorFlow.js graph model (tfjs-converter's SavedModel, frozen graph or TF Hub output), which holds no layers to prune; ${CONVERT_TO_LAYERS}`,
    );
  }
  if (!('modelTopology' in json)) {
    throw new ModelFileError(`${path} has no modelTopology: it is not a TensorFlow.js LayersModel model.json`);
  }
  // tensorflowjs_converter wraps the Keras model: {keras_version, backend, model_config, training_config}
  const keras = isObject(topology) && 'model_config' in topology ? topology : undefined;
  const model = keras ? keras.model_config : topology;
  checkTopology(path, model);
  checkManifest(path, json.weightsManifest);
  checkMetadata(path, json.userDefinedMetadata);
  const read = json as ModelJson;
  return keras
    ? { ...read, modelTopology: model, keras: { version: String(keras.keras_version ?? 'unknown'), backend: keras.backend } }
    : read;
}

function checkMetadata(path: string, metadata: unknown): void {
  if (metadata === undefined) return;
  const slimtrain = isObject(metadata) ? metadata.slimtrain : metadata;
  if (slimtrain === undefined) return;
  const norm = isObject(slimtrain) ? slimtrain.normalization : undefined;
  const numbers = (v: unknown, positive: boolean) =>
    Array.isArray(v) && v.length > 0 && v.every((x) => Number.isFinite(x) && (!positive || x > 0));
  if (
    !isObject(slimtrain) ||
    (norm !== undefined &&
      !(
        isObject(norm) &&
        numbers(norm.mean, false) &&
        numbers(norm.std, true) &&
        (norm.mean as unknown[]).length === (norm.std as unknown[]).length
      ))
  ) {
    throw new ModelFileError(
      `${path}: userDefinedMetadata.slimtrain is damaged (normalization needs equally long lists of means and positive standard deviations); the file is damaged`,
    );
  }
}

/** a value for an error message, cut short: a damaged file can hold anything */
const shown = (v: unknown) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sizes beyond this are damage, not a model: they would make TensorFlow.js allocate or loop for ever. */
const MAX_DIMENSION = 1 << 24;
const isDimension = (v: unknown) => Number.isInteger(v) && (v as number) > 0 && (v as number) <= MAX_DIMENSION;
/** layer settings that must be positive integers (or lists of them) */
const SIZE_KEYS = ['units', 'filters', 'kernel_size', 'strides', 'dilation_rate', 'pool_size', 'depth_multiplier', 'size'];

/**
 * TensorFlow.js trusts the topology: a fractional dilation makes it loop for ever,
 * a missing name throws a TypeError. What it needs is checked here first.
 */
function checkTopology(path: string, topology: unknown): void {
  const bad = (what: string) => new ModelFileError(`${path}: ${what}; the file is damaged or not a TensorFlow.js LayersModel model.json`);
  if (!isObject(topology) || typeof topology.class_name !== 'string' || (!isObject(topology.config) && !Array.isArray(topology.config))) {
    throw bad('modelTopology needs class_name and config');
  }
  const layers = Array.isArray(topology.config) ? topology.config : topology.config.layers;
  if (!Array.isArray(layers) || layers.length === 0) throw bad('modelTopology.config holds no layers');
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  layers.forEach((layer: unknown, i) => {
    if (!isObject(layer) || typeof layer.class_name !== 'string' || !isObject(layer.config))
      throw bad(`layer ${i} needs class_name and config`);
    const config = layer.config;
    const name = typeof config.name === 'string' ? config.name : undefined;
    if (!(layer.class_name in known) && !MODEL_CLASSES.has(layer.class_name)) {
      throw new ModelFileError(
        `${path}: layer ${name ?? i} has class ${layer.class_name}, a custom layer whose code lives with the program that wrote the file; ` +
          'slimtrain loads models built from TensorFlow.js layers only (replace the custom layer, or export the model to ONNX)',
      );
    }
    if (name === undefined && topology.class_name !== 'Sequential') throw bad(`layer ${i} (${layer.class_name}) has no name`);
    // a functional model's layers are looked up by the outer name, built under the inner one
    if ((layer.name !== undefined || topology.class_name !== 'Sequential') && layer.name !== name) {
      throw bad(`layer ${i} (${layer.class_name}) is named ${shown(layer.name)} outside its config and ${shown(name)} inside`);
    }
    for (const key of SIZE_KEYS) {
      const v = config[key];
      if (v !== undefined && !(isDimension(v) || (Array.isArray(v) && v.length > 0 && v.every(isDimension)))) {
        throw bad(`layer ${name ?? i} (${layer.class_name}) has ${key} ${shown(v)}, not a positive integer up to ${MAX_DIMENSION}`);
      }
    }
    // TensorFlow.js builds the layer and computes without the dilation: a model that is not the file's
    const dilation = [config.dilation_rate].flat();
    if (layer.class_name === 'DepthwiseConv2D' && dilation.some((d) => d !== undefined && d !== 1)) {
      throw new ModelFileError(
        `${path}: layer ${name ?? i} (DepthwiseConv2D) has dilation_rate ${shown(config.dilation_rate)}, which TensorFlow.js ignores: ` +
          'it would compute something other than the file; export the model to ONNX (tf2onnx), where slimtrain runs such a layer as a grouped convolution',
      );
    }
    const shape = config.batch_input_shape;
    if (shape !== undefined && !(Array.isArray(shape) && shape.every((d) => d === null || isDimension(d)))) {
      throw bad(`layer ${name ?? i} (${layer.class_name}) has batch_input_shape ${shown(shape)}`);
    }
  });
  // a Sequential model chains its layers in order: only functional models name their inputs
  if (!Array.isArray(topology.config) && topology.class_name !== 'Sequential') {
    checkConnections(bad, layers as { class_name: string; config: { name: string }; inbound_nodes?: unknown }[], topology.config);
  }
  // a model used as a layer holds a topology of its own
  for (const layer of layers as { class_name: string; config: unknown }[]) {
    if (MODEL_CLASSES.has(layer.class_name)) checkTopology(path, layer);
  }
}

/**
 * A functional model's layers call each other by [layer, node, tensor]. TensorFlow.js
 * retries a call whose inputs do not exist yet until they do, which never ends on a
 * dangling or circular reference; the same replay here finds them first.
 */
function checkConnections(
  bad: (what: string) => ModelFileError,
  layers: { class_name: string; config: { name: string }; inbound_nodes?: unknown }[],
  model: Record<string, unknown>,
): void {
  const isIndex = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  const isRef = (r: unknown): r is [string, number, number] =>
    Array.isArray(r) && r.length >= 3 && typeof r[0] === 'string' && isIndex(r[1]) && isIndex(r[2]);
  const names = new Set<string>();
  for (const l of layers) {
    if (names.has(l.config.name)) throw bad(`two layers are named ${l.config.name}`);
    names.add(l.config.name);
  }
  const refs = (what: string, list: unknown): [string, number, number][] => {
    if (!Array.isArray(list) || list.length === 0 || !list.every(isRef))
      throw bad(`${what} must be a non-empty list of [layer, node, tensor]`);
    for (const [name] of list) if (!names.has(name)) throw bad(`${what} names layer ${name}, which the model does not have`);
    return list;
  };
  // nodes each layer has made: an InputLayer, and a model used as a layer (its own
  // inputs to outputs), make one on creation, so a nested model's first call is node 1
  const made = new Map(layers.map((l) => [l.config.name, l.class_name === 'InputLayer' || MODEL_CLASSES.has(l.class_name) ? 1 : 0]));
  const pending = layers.map((l) => {
    if (l.inbound_nodes === undefined && l.class_name === 'InputLayer') return { name: l.config.name, calls: [] };
    if (!Array.isArray(l.inbound_nodes)) throw bad(`layer ${l.config.name} has no inbound_nodes list`);
    return { name: l.config.name, calls: l.inbound_nodes.map((node) => refs(`an inbound node of layer ${l.config.name}`, node)) };
  });
  for (let progress = true; progress;) {
    progress = false;
    for (const layer of pending) {
      while (layer.calls.length > 0 && layer.calls[0].every(([name, node]) => made.get(name)! > node)) {
        layer.calls.shift();
        made.set(layer.name, made.get(layer.name)! + 1);
        progress = true;
      }
    }
  }
  const stuck = pending.find((l) => l.calls.length > 0);
  if (stuck)
    throw bad(
      `layer ${stuck.name} takes inputs ${shown(stuck.calls[0].map((r) => r.slice(0, 3)))} that no layer produces (a dangling or circular reference)`,
    );
  for (const key of ['input_layers', 'output_layers']) {
    for (const [name, node] of refs(key, model[key])) {
      if (!(made.get(name)! > node)) throw bad(`${key} names node ${node} of layer ${name}, which does not exist`);
    }
  }
}

function checkManifest(path: string, manifest: unknown): void {
  const bad = (what: string) => new ModelFileError(`${path}: weightsManifest ${what}; the file is damaged`);
  if (manifest === undefined) return;
  if (!Array.isArray(manifest)) throw bad('is not a list');
  for (const group of manifest) {
    if (!isObject(group) || !Array.isArray(group.paths) || !group.paths.every((p) => typeof p === 'string' && p.length > 0))
      throw bad('has a group without paths');
    if (!Array.isArray(group.weights)) throw bad('has a group without weights');
    for (const w of group.weights as unknown[]) {
      if (!isObject(w) || typeof w.name !== 'string') throw bad('has a weight without a name');
      if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0 && d <= MAX_DIMENSION))
        throw bad(`gives weight ${w.name} the shape ${shown(w.shape)}`);
      if (!['float32', 'int32', 'bool'].includes(w.dtype as string)) throw bad(`gives weight ${w.name} the type ${shown(w.dtype)}`);
      if (
        w.quantization !== undefined &&
        !(isObject(w.quantization) && ['uint8', 'uint16', 'float16'].includes(w.quantization.dtype as string))
      )
        throw bad(`gives weight ${w.name} the quantization ${shown(w.quantization)}`);
    }
  }
}

/** names of every layer of a topology, nested models' layers included */
function layerNames(topology: unknown): Set<string> {
  const names = new Set<string>();
  for (const layer of layerConfigs(topology)) {
    names.add(layer.config.name as string);
    if (MODEL_CLASSES.has(layer.class_name)) for (const name of layerNames(layer)) names.add(name);
  }
  return names;
}

/**
 * Some Keras versions write weight names with the model's name in front
 * ("model_1/Conv1/kernel"); TensorFlow.js looks them up by layer ("Conv1/kernel").
 */
function withoutModelPrefix(specs: tf.io.WeightsManifestEntry[], topology: unknown): tf.io.WeightsManifestEntry[] {
  const layers = layerNames(topology);
  return specs.map((spec) => {
    const [first, second] = spec.name.split('/');
    return !layers.has(first) && layers.has(second) ? { ...spec, name: spec.name.slice(first.length + 1) } : spec;
  });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * A Sequential model takes its input's shape from its first layer; Keras ignores a
 * `batch_input_shape` on any later one, but TensorFlow.js checks the tensor the layer
 * gets against it and prints a warning where they differ. Some files carry the first
 * layer's shape on the second too (ml5's DoodleNet): it is dropped, as Keras drops it.
 */
function withoutLaterInputShapes(topology: unknown): void {
  if (!isObject(topology) || topology.class_name !== 'Sequential') return;
  for (const layer of layerConfigs(topology).slice(1)) delete layer.config.batch_input_shape;
}

/**
 * The inputs' sizes: those the file fixes, the free ones (other than the batch) from
 * `shape` (one sample's, [H, W, C]); free sizes without it are refused, since every
 * count and check needs them.
 */
function fixInputShape(path: string, topology: unknown, shape?: readonly number[]): void {
  for (const layer of layerConfigs(topology)) {
    const given = layer.config.batch_input_shape as (number | null)[] | undefined;
    if (!given) continue;
    const sample = given.slice(1);
    const name = layer.config.name as string;
    const shown = `[${sample.map((d) => d ?? '?').join(', ')}]`;
    if (!shape) {
      if (sample.every((d) => d !== null)) continue;
      throw new ModelFileError(
        `${path}: input ${name} has free sizes ${shown}; give the size to work at with --input-shape ` +
          `(API: { modelInputShape: [...] }), e.g. --input-shape ${sample.map((d) => d ?? 224).join('x')}`,
      );
    }
    if (sample.length !== shape.length || sample.some((d, i) => d !== null && d !== shape[i])) {
      throw new ModelFileError(
        `${path}: input ${name} has the shape ${shown}; --input-shape ${shape.join('x')} does not fit it (give one sample's ${sample.length} sizes, the fixed ones as they are)`,
      );
    }
    layer.config.batch_input_shape = [null, ...shape];
  }
}

/** bytes per stored value of the types TensorFlow.js weights files hold */
const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function bytesPerValue(spec: tf.io.WeightsManifestEntry): number {
  return STORED_BYTES[spec.quantization?.dtype ?? spec.dtype];
}

/**
 * Every weight is then read from the file (strictly), so random initialisation is
 * wasted work, and on a damaged size it would fill gigabytes before the mismatch shows.
 */
function withZeroInitializers(topology: unknown): unknown {
  return JSON.parse(JSON.stringify(topology), (key, value: unknown) =>
    key.endsWith('_initializer') && isObject(value) ? { class_name: 'Zeros', config: {} } : value,
  );
}

export interface LoadedModel {
  model: tfl.LayersModel;
  metadata: SlimtrainMetadata;
  path: string;
}

/**
 * Loads a LayersModel from a model.json path (or a folder holding model.json).
 * `inputShape` ([height, width, channels]) fixes the sizes a model's input leaves
 * free (null), as detection and super-resolution models do.
 */
export async function loadModel(path: string, options: { inputShape?: readonly number[] } = {}): Promise<LoadedModel> {
  // a folder holds model.json; any file is read (and told apart from .h5 and .keras files)
  const modelPath = path.endsWith('.json') || isFile(path) ? resolve(path) : resolve(path, MODEL_FILE);
  const json = readModelJson(modelPath);
  withoutLaterInputShapes(json.modelTopology);
  fixInputShape(modelPath, json.modelTopology, options.inputShape);
  const manifest = json.weightsManifest ?? [];
  const weightSpecs = withoutModelPrefix(
    manifest.flatMap((group) => group.weights),
    json.modelTopology,
  );
  const buffers = manifest.flatMap((group) =>
    group.paths.map((p) => {
      const file = join(dirname(modelPath), p);
      try {
        const b = readFileSync(file);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      } catch (e) {
        throw new ModelFileError(`cannot read weights file ${file} named by ${modelPath}: ${fileProblem(e)}`);
      }
    }),
  );
  const weightData = tf.io.CompositeArrayBuffer.join(buffers);
  const expectedBytes = weightSpecs.reduce((n, s) => n + shapeSize(s.shape) * bytesPerValue(s), 0);
  if (weightData.byteLength !== expectedBytes) {
    throw new ModelFileError(
      `weights of ${modelPath} hold ${weightData.byteLength} bytes but its manifest needs ${expectedBytes}; ` +
        'the weights file is truncated or belongs to another model',
    );
  }
  const model = await buildModel(json.modelTopology, weightSpecs, weightData, modelPath);
  const quantization = Object.fromEntries(
    weightSpecs.filter((s) => s.quantization).map((s) => [s.name, s.quantization!.dtype as Quantization]),
  );
  const metadata: SlimtrainMetadata = { ...json.userDefinedMetadata?.slimtrain, weights: { bytes: weightData.byteLength, quantization } };
  if (json.keras) metadata.keras = json.keras.version;
  return { model, metadata, path: modelPath };
}

/**
 * A model from its topology and weights, as loading builds it: every weight read
 * (strictly) and checked finite, a nested backbone flattened. `where` names the
 * model in errors.
 */
async function buildModel(
  topology: unknown,
  weightSpecs: tf.io.WeightsManifestEntry[],
  weightData: ArrayBuffer,
  where: string,
): Promise<tfl.LayersModel> {
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(
      tf.io.fromMemory({ modelTopology: withZeroInitializers(topology) as object, weightSpecs, weightData }),
    );
  } catch (e) {
    throw new ModelFileError(`cannot build the model in ${where}: ${(e as Error).message}`);
  }
  const broken = model.weights.find((w) => w.dtype === 'float32' && !w.read().dataSync().every(Number.isFinite));
  if (broken) {
    model.dispose();
    throw new ModelFileError(`weight ${broken.originalName} in the weights of ${where} holds NaN or infinite values; the file is damaged`);
  }
  // a backbone nested under a head becomes plain layers in one graph (io/flatten.ts)
  let flat: tfl.LayersModel;
  try {
    flat = await flattenModel(model);
  } catch (e) {
    model.dispose();
    throw new ModelFileError(`${where}: ${(e as Error).message}`);
  }
  if (flat !== model) model.dispose();
  return flat;
}

/**
 * A copy of a model in memory with its own weights, built as a saved and reloaded
 * model would be: a nested backbone comes back flattened, so a caller's model
 * enters the pipeline exactly as its model.json would.
 */
export async function cloneModel(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  patchTopology(model, saved!.modelTopology);
  return buildModel(
    saved!.modelTopology,
    saved!.weightSpecs!,
    tf.io.CompositeArrayBuffer.join(saved!.weightData!),
    `model '${model.name}'`,
  );
}
