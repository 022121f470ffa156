// slimtrain/internals: the documented API (src/index.ts) and every building block
// behind it, for tools built on slimtrain and for experiments; these names may change
// between versions.
export * from './index.js';
export * from './engine/index.js';
export * from './data/index.js';
export * from './models/zoo.js';
export * from './models/resolve.js';
export * from './optim/optimizer.js';
export * from './optim/direction.js';
export * from './optim/dense.js';
export * from './optim/group_index.js';
export * from './optim/sparse.js';
export * from './train/schedules.js';
export * from './train/loop.js';
export * from './train/distill.js';
export * from './train/losses.js';
export * from './train/frozen.js';
export * from './train/checkpoint.js';
export * from './train/run_state.js';
export * from './import/onnx_import.js';
export * from './import/registry.js';
export * from './import/onnx_model.js';
export * from './io/model_files.js';
export * from './layers/layer_graph.js';
export * from './graph/groups.js';
export * from './layers/count.js';
export * from './slim/construct.js';
export * from './report/dot.js';
export * from './compress/magnitude.js';
export { Rng } from './util/random.js';
export { freeBytes, makeDir, writeFileAtomic } from './util/files.js';
