export { initEngine, describeBackend, engineFailure, backendNames, type BackendName, type EngineInfo } from './backend.js';
export {
  nativeAddon,
  nativeKernelNames,
  openMpWait,
  registerNativeBackend,
  takeJavaScriptCalls,
  NativeBackend,
  type NativeInfo,
  type NativeAddon,
} from './native.js';
export { gradientKernelConfig, gradientKernelNames, registerMissingGradientKernels } from './gradient_kernels.js';
