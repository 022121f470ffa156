// The backends that train (ours: wasm with our gradient kernels, and native where its
// addon is built). CI sets SLIMTRAIN_REQUIRE_NATIVE=1 so that a missing addon fails
// the run instead of silently testing wasm alone.
import { nativeAddon } from '../../src/engine/index.js';

const loaded = nativeAddon();
if ('error' in loaded && process.env.SLIMTRAIN_REQUIRE_NATIVE === '1') {
  throw new Error(`SLIMTRAIN_REQUIRE_NATIVE=1 but the native addon is not available: ${loaded.error}`);
}

export const nativeAvailable = 'addon' in loaded;
export const trainingBackends: string[] = nativeAvailable ? ['wasm', 'native'] : ['wasm'];
