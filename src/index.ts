// The slimtrain library, as the README and the API reference (npm run docs) document
// it: engine -> data -> model -> groups -> sparse training -> slim model -> files.
// Every other building block is in 'slimtrain/internals'.

// the compute engine
export { initEngine, describeBackend, backendNames, type BackendName, type EngineInfo } from './engine/backend.js';

// data: the built-in sets, a folder of images, your tensors or tf.data datasets
export {
  loadDataset,
  datasetNames,
  IMAGENET_NORMALIZATION,
  type DatasetName,
  type DataSplits,
  type ImageSet,
  type Normalization,
  type NormalizationChoice,
} from './data/datasets.js';
export { loadImageFolder, type ImageFolderData, type ImageFolderOptions, type Resize } from './data/folder.js';
export { splitsFromSources, type DataSource, type SplitSources, type TensorData, type DatasetLike } from './data/tensors.js';
export { DataError } from './data/errors.js';

// models: the zoo, files (TensorFlow.js, ONNX), and slimtrain's own layers
export { buildZooModel, zooNames, type ZooName, type ZooOptions } from './models/zoo.js';
export {
  saveModel,
  loadModel,
  cloneModel,
  ModelFileError,
  type LoadedModel,
  type SlimtrainMetadata,
  type SaveOptions,
} from './io/model_files.js';
export { loadModelFile, type ModelFileOptions } from './models/resolve.js';
export { importOnnx, OnnxImportError, type ImportedOnnx } from './import/onnx_import.js';
export { exportOnnx, OnnxExportError, type OnnxExportOptions } from './export/onnx.js';
export { checkOnnx, type OnnxCheck, type OnnxCheckOptions } from './onnx/check.js';
export type { OnnxInterface, OnnxTensorSpec, OnnxLayout } from './onnx/interface.js';
export { ChannelSelect, type ChannelSelectArgs } from './layers/channel_select.js';
export { GroupedConv2D, type GroupedConv2DArgs } from './layers/grouped_conv.js';
export { Resize2D, type Resize2DArgs, type ResizeCoordinates, type ResizeRounding } from './layers/resize.js';
export type { Quantization } from './io/quantize.js';

// groups: what can be removed, and what a model costs
export {
  zeroInvariantGroups,
  supportedLayerClasses,
  type ChannelGroup,
  type WeightSlice,
  type Partition,
  type PartitionOptions,
} from './graph/groups.js';
export { analyzeModel, type ModelAnalysis, type LayerAnalysis } from './graph/analyze.js';
export { GraphError } from './layers/layer_graph.js';
export { countModel, type ModelCount, type LayerCount } from './layers/count.js';

// compress: the whole job, or the sparse optimizer inside your own model.fit
export { compress, type CompressOptions, type CompressData } from './compress/compress.js';
export { compressDefaults } from './compress/defaults.js';
export { sparseTraining, SparseFitOptimizer, SparseFitCallback, type SparseTraining, type SparseFitOptions } from './compress/fit.js';
export {
  runCompressJob,
  type CompressJob,
  type CompressSource,
  type CompressTraining,
  type CompressMethod,
  type CompressTargets,
  type CompressOutput,
  type CompressResult,
  type CompressEpoch,
  type ModelSummary,
  type Float16Figures,
  type WrittenFigures,
  type Artifacts,
  type SpeedTargetResult,
} from './compress/job.js';
export { sparseMethods, type SparseMethod, type GroupStats, type MethodSettings } from './optim/sparse.js';
export type { Allocation } from './optim/allocation.js';
export type { DirectionName } from './optim/direction.js';

// training
export { train, evaluate, TrainingStopped, NumericalFault, type TrainConfig } from './train/loop.js';
export type { BatchProgress, EpochMetrics, EvalResult, JobCallbacks, TrainCallbacks, Agreement } from './train/metrics.js';
export { runTrainJob, runEvalJob, type TrainJob, type TrainJobResult, type EvalJob } from './train/job.js';
export { distillDefaults, type Distillation } from './train/distill.js';
export { CheckpointError, type Checkpoint, type TrainingState } from './train/checkpoint.js';
export { StopRequested, type ProgressListener, type StepProgress } from './util/progress.js';
export { WriteError, type WriteOperation } from './util/files.js';
export { OutputError } from './io/output.js';

// the slim model
export { constructSlimModel, zeroGroups, SlimCheckError, type SlimResult, type SlimOptions, type SlimCheck } from './slim/construct.js';
export { zeroOutGroups } from './slim/zero.js';

// speed
export {
  measureModelSpeed,
  compareSpeed,
  compareSpeeds,
  runtimes,
  type Runtime,
  type SpeedOptions,
  type ModelSpeed,
  type Timing,
  type MeasuredRatio,
  type SpeedUps,
  type CompareOptions,
} from './metrics/speed.js';

// what the names above refer to
export { allocations } from './optim/allocation.js';
export { directionNames } from './optim/direction.js';
export { quantizations, type Grid, type QuantizePlan } from './io/quantize.js';
export { resizeModes } from './data/folder.js';
export { RESIZE_COORDINATES, RESIZE_ROUNDING } from './layers/resize.js';
export { zoo } from './models/zoo.js';
export type { SparseConfig, ProxSgConfig, HspgConfig, ObProxSgConfig, DhspgConfig, HessoConfig, PruneTarget } from './optim/sparse.js';
export type { Augmentation } from './data/batches.js';
export type { NativeInfo } from './engine/native.js';
export type { LayerGraph, GraphNode, WeightInfo } from './layers/layer_graph.js';
export type { Optimizer, OptimizerState } from './optim/optimizer.js';
export type { SlotSnapshot } from './optim/direction.js';
export type { OptimizerConfig } from './optim/dense.js';
export type { LearningRateSchedule } from './train/schedules.js';
export type { PenaltyTargetSettings } from './optim/penalty_method.js';
export type { ChoiceSettings } from './optim/target.js';
