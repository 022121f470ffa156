// What a model argument names: a zoo model built fresh, a saved model.json, or an
// ONNX file (imported, with its interface kept in the metadata); and the data that
// goes with it, read at the model's input size.
import type * as tfl from '@tensorflow/tfjs-layers';
import { DataError } from '../data/errors.js';
import { subsetSplits } from '../data/datasets.js';
import { describeData, loadData, type DataOptions, type LoadedData } from '../data/load.js';
import { importOnnx } from '../import/onnx_import.js';
import { loadModel, type LoadedModel, type SlimtrainMetadata } from '../io/model_files.js';
import type { ProgressListener } from '../util/progress.js';
import { buildZooModel, folderInputShape, isZooName, zooInputShape, zooNames } from './zoo.js';

export interface ResolvedModel {
  model: tfl.LayersModel;
  metadata: SlimtrainMetadata;
}

/** How a model file is read. */
export interface ModelFileOptions {
  /**
   * one sample's input sizes, for a model whose input leaves some free (detection,
   * segmentation, super-resolution): in the file's order, [C, H, W] for ONNX and
   * [H, W, C] for TensorFlow.js; the fixed sizes as they are
   */
  modelInputShape?: readonly number[];
}

/** A model.json (or its folder) or a .onnx file; an ONNX model keeps its interface in metadata.onnx. */
export async function loadModelFile(path: string, options: ModelFileOptions = {}, onProgress?: ProgressListener): Promise<LoadedModel> {
  const inputShape = options.modelInputShape;
  if (!path.toLowerCase().endsWith('.onnx')) return loadModel(path, { inputShape });
  const imported = await importOnnx(path, { inputShape, onProgress });
  return { model: imported.model, metadata: { source: path, onnx: imported.interface }, path };
}

/** A path that names a model file or folder (Keras .h5 and .keras files are named to be told what to do with them). */
export function namesModelFile(spec: string): boolean {
  return /\.(json|onnx|h5|keras)$/i.test(spec) || spec.includes('/');
}

/** A zoo name builds a fresh model for the given input (default the one it was designed for) and classes; anything else is a model file. */
export async function resolveModel(
  spec: string,
  shape: { inputShape?: [number, number, number]; numClasses: number },
  seed = 0,
  file: ModelFileOptions = {},
  onProgress?: ProgressListener,
): Promise<ResolvedModel> {
  if (isZooName(spec)) {
    const inputShape = shape.inputShape ?? zooInputShape(spec)!;
    return { model: buildZooModel(spec, { inputShape, numClasses: shape.numClasses, seed }), metadata: {} };
  }
  if (!namesModelFile(spec)) {
    throw new Error(`unknown model '${spec}': use a zoo model (${zooNames.join(', ')}), a model.json or a .onnx file`);
  }
  return loadModelFile(spec, file, onProgress);
}

/** [height, width, channels] of a model's image input, if it has one. */
export function imageShape(model: tfl.LayersModel): [number, number, number] | undefined {
  const s = model.inputs[0].shape.slice(1);
  return s.length === 3 && s.every((d) => d !== null) ? (s as [number, number, number]) : undefined;
}

export interface ModelAndDataSpec extends DataOptions, ModelFileOptions {
  model: string;
  /** a data set's name, or a folder with one subfolder of images per class */
  data: string;
  seed?: number;
  /** only the first N images of each split */
  subset?: number;
}

/** What resolving tells: a line on the data read, and how far decoding and importing have got. */
export interface ResolveReport {
  onStage?(message: string): void;
  onProgress?: ProgressListener;
}

/**
 * The model and its data (the first `subset` images of each split), and a line on the
 * data: a model file fixes the size images are read at; a zoo model is built for the
 * data. A model from ONNX was trained elsewhere, so the normalisation its inputs had
 * must be given; a slimtrain model brings its own.
 */
export async function resolveModelAndData(
  spec: ModelAndDataSpec,
  report: ResolveReport = {},
): Promise<ResolvedModel & { data: LoadedData }> {
  const resolved = await modelAndAllData(spec, report.onProgress);
  const data = subsetSplits(resolved.data, spec.subset);
  report.onStage?.(describeData(data));
  return { ...resolved, data };
}

async function modelAndAllData(spec: ModelAndDataSpec, onProgress?: ProgressListener): Promise<ResolvedModel & { data: LoadedData }> {
  const seed = spec.seed ?? 0;
  if (isZooName(spec.model)) {
    const data = await loadData(spec, spec.inputShape ?? folderInputShape(spec.model), seed, onProgress);
    return { ...(await resolveModel(spec.model, { inputShape: data.train.shape, numClasses: data.train.numClasses }, seed)), data };
  }
  // not a zoo name: the shape and classes come from the file
  const { model, metadata } = await resolveModel(spec.model, { numClasses: 1 }, seed, spec, onProgress);
  try {
    if ((metadata.onnx || metadata.keras) && !spec.normalization && !metadata.normalization) {
      throw new DataError(
        `${spec.model} was trained elsewhere: say how the images it was trained on were normalised, as your pipeline does it: ` +
          "--normalize none (pixels in [0, 1], as torchvision's ToTensor or Keras's x / 255 give them), --normalize imagenet, or --mean M --std S",
      );
    }
    const shape = imageShape(model);
    if (!shape) throw new DataError(`${spec.model} does not take images (input shape [${model.inputs[0].shape}]); train it on image data`);
    const data = await loadData({ ...spec, normalization: spec.normalization ?? metadata.normalization }, shape, seed, onProgress);
    return { model, metadata, data };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
