// The slimtrain library: engine -> data -> models -> training -> files.
export * from './engine/index.js';
export * from './data/index.js';
export { buildZooModel, zoo, zooNames, isZooName, type ZooName, type ZooOptions } from './models/zoo.js';
export * from './train/optimizers.js';
export * from './train/schedules.js';
export * from './train/loop.js';
export * from './train/job.js';
export { saveModel, loadModel, writeFileAtomic, ModelFileError, type LoadedModel, type SlimtrainMetadata } from './io/model_files.js';
export { Rng } from './util/random.js';
