// slimtrain/internals: every building block, for tools built on slimtrain and for
// experiments; these names may change between versions. The documented API is
// src/index.ts.
export * from './engine/index.js';
export * from './data/index.js';
export { buildZooModel, zoo, zooNames, isZooName, type ZooName, type ZooOptions } from './models/zoo.js';
export * from './optim/optimizer.js';
export * from './optim/direction.js';
export * from './optim/dense.js';
export { GroupIndex, type GroupSpec, type GroupedVariable, type ResetVariable } from './optim/group_index.js';
export * from './optim/sparse.js';
export * from './train/schedules.js';
export * from './train/loop.js';
export * from './train/job.js';
export {
  resolveModel,
  resolveModelAndData,
  loadModelFile,
  imageShape,
  type ResolvedModel,
  type ModelAndDataSpec,
  type ModelFileOptions,
} from './models/resolve.js';
export { importOnnx, buildFromOnnx, OnnxImportError, type ImportedOnnx } from './import/onnx_import.js';
export { supportedOnnxOps } from './import/registry.js';
export { exportOnnx, OnnxExportError, type OnnxExportOptions } from './export/onnx.js';
export { checkOnnx, type OnnxCheck, type OnnxCheckOptions } from './export/onnx_check.js';
export type { OnnxInterface, OnnxTensorSpec, OnnxLayout } from './io/onnx_interface.js';
export {
  runCompressJob,
  type CompressJob,
  type CompressResult,
  type CompressEpoch,
  type ModelSummary,
  type Float16Figures,
  type WrittenFigures,
  type Artifacts,
  type SpeedTargetResult,
} from './compress/job.js';
export {
  compareSpeed,
  compareSpeeds,
  measureModelSpeed,
  runtimes,
  type SpeedOptions,
  type ModelSpeed,
  type Timing,
  type MeasuredRatio,
  type SpeedUps,
  type CompareOptions,
  type Runtime,
} from './metrics/speed.js';
export { distillDefaults, evaluateAgainst, TeacherOutputs, type Distillation } from './train/distill.js';
export { classificationLoss, teacherLoss, outputKind, outputsProbabilities, type OutputKind } from './train/losses.js';
export type { Agreement } from './train/metrics.js';
export { StopRequested, type ProgressListener, type StepProgress } from './util/progress.js';
export type { PenaltyTargetSettings } from './optim/penalty_method.js';
export type { ChoiceSettings } from './optim/target.js';
export type { Checkpoint, TrainingState } from './train/checkpoint.js';
export type { ParsedOnnx, Constant, OnnxNode, OnnxGraphInput } from './import/onnx_model.js';
export { compress, type CompressOptions, type CompressData } from './compress/compress.js';
export { compressDefaults } from './compress/defaults.js';
export { sparseTraining, SparseFitOptimizer, SparseFitCallback, type SparseTraining, type SparseFitOptions } from './compress/fit.js';
export { splitsFromSources, type DataSource, type SplitSources, type TensorData, type DatasetLike } from './data/tensors.js';
export { cloneModel } from './io/model_files.js';
export { runMagnitudePruneJob, type MagnitudePruneJob, type MagnitudePruneResult } from './compress/magnitude.js';
export {
  saveModel,
  loadModel,
  writeFileAtomic,
  modelTopology,
  ModelFileError,
  type LoadedModel,
  type SlimtrainMetadata,
  type SaveOptions,
} from './io/model_files.js';
export { quantizations, type Quantization, type QuantizePlan, type Grid } from './io/quantize.js';
export { applyFreeze, type FreezeOptions } from './train/frozen.js';
export { Rng } from './util/random.js';
export { buildLayerGraph, GraphError, type LayerGraph, type GraphNode, type WeightInfo } from './graph/layer_graph.js';
export {
  zeroInvariantGroups,
  predictRemoval,
  removedIndices,
  supportedLayerClasses,
  type ChannelGroup,
  type WeightSlice,
  type Partition,
  type PartitionOptions,
} from './graph/groups.js';
export { ChannelSelect, type ChannelSelectArgs } from './layers/channel_select.js';
export { GroupedConv2D, type GroupedConv2DArgs } from './layers/grouped_conv.js';
export {
  Resize2D,
  RESIZE_COORDINATES,
  RESIZE_ROUNDING,
  type Resize2DArgs,
  type ResizeCoordinates,
  type ResizeRounding,
} from './layers/resize.js';
export { analyzeModel, type ModelAnalysis, type LayerAnalysis } from './graph/analyze.js';
export { countModel, layerMacs, type ModelCount, type LayerCount } from './metrics/count.js';
export {
  constructSlimModel,
  checkSlim,
  zeroGroups,
  SlimCheckError,
  type SlimResult,
  type SlimOptions,
  type SlimCheck,
} from './slim/construct.js';
export { analysisToDot } from './report/dot.js';
export { zeroOutGroups } from './slim/zero.js';
export { allocations, type Allocation } from './optim/allocation.js';
