export { DataError } from './errors.js';
export { parseIdx, readIdx, encodeIdx, type IdxArray } from './idx.js';
export { parseCifar, readCifar, encodeCifar, type CifarBatch, type CifarVariant } from './cifar.js';
export {
  loadDataset,
  channelStatistics,
  takeFirst,
  subsetSplits,
  datasetNames,
  isDatasetName,
  chooseNormalization,
  IMAGENET_NORMALIZATION,
  type NormalizationChoice,
  type DatasetName,
  type DataSplits,
  type ImageSet,
  type Normalization,
} from './datasets.js';
export { batches, batchCount, cifarAugmentation, type Augmentation, type Batch, type BatchOptions } from './batches.js';
export { loadImageFolder, IMAGE_EXTENSIONS, resizeModes, type Resize, type ImageFolderData, type ImageFolderOptions } from './folder.js';
export { loadData, type DataSpec, type LoadedData } from './load.js';
