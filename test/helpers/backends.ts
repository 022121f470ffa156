// The backends that train (ours: wasm with our gradient kernels, and native where its
// addon is built). Under CI (which sets CI) or SLIMTRAIN_REQUIRE_NATIVE=1 a missing
// addon fails the run instead of silently testing wasm alone.
import { nativeAddon } from '../../src/engine/index.js';

const loaded = nativeAddon();
if ('error' in loaded && (process.env.CI || process.env.SLIMTRAIN_REQUIRE_NATIVE === '1')) {
  throw new Error(`the native addon must be tested here (CI or SLIMTRAIN_REQUIRE_NATIVE=1) but is not available: ${loaded.error}`);
}

export const nativeAvailable = 'addon' in loaded;
export const trainingBackends: string[] = nativeAvailable ? ['wasm', 'native'] : ['wasm'];
