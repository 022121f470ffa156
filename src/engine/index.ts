export { initEngine, backendNames, type BackendName, type EngineInfo } from './backend.js';
export { gradientKernelConfig, gradientKernelNames, registerMissingGradientKernels } from './gradient_kernels.js';
