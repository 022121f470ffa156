// Backend selection: one place decides which TensorFlow.js backend runs and makes
// sure it can train (our gradient kernels fill what it lacks).
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers' Node bundle registers the gradients and chained ops that tfjs-core's leaves out.
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerMissingGradientKernels } from './gradient_kernels.js';
import { registerFastGradients } from './gradients.js';
import { installFusedTraining, patchBatchNormalization } from './fused_training.js';
import { patchDilatedConv2D } from './dilated_conv.js';
import { installLeanBackprop } from './lean_backprop.js';
import { nativeAddon, registerNativeBackend, type NativeInfo } from './native.js';

export const backendNames = ['native', 'wasm', 'cpu'] as const;
export type BackendName = (typeof backendNames)[number];

export interface EngineInfo {
  backend: BackendName;
  /** kernels slimtrain registered because the backend lacked them */
  addedKernels: string[];
  simd: boolean;
  /** the native addon's libraries and threads, when the native backend runs */
  native?: NativeInfo;
  /** why the native backend is not available, when it is not */
  nativeUnavailable?: string;
}

let announced = false;

/**
 * A failure of the engine itself, in words a user can act on; undefined for any other
 * error. The wasm backend aborts with a bare "Aborted()" when an allocation fails
 * (WebAssembly gives it at most 4 GiB: MobileNetV2 at 224 trains at batch 8, not 16).
 */
export function engineFailure(e: unknown): string | undefined {
  if (!(e instanceof WebAssembly.RuntimeError) || !/^Aborted/.test(e.message)) return undefined;
  return (
    'the wasm backend stopped (WebAssembly abort), most likely out of memory: it has at most 4 GiB. ' +
    'Use a smaller --batch-size or --input, or the native backend (slimtrain doctor says whether it is built)'
  );
}

/**
 * Activates `backend` (default: $SLIMTRAIN_BACKEND, else native where its addon
 * loads, else wasm) and registers the gradient kernels it lacks. `announce` prints
 * the choice once per process.
 */
export async function initEngine(options: { backend?: string; announce?: boolean } = {}): Promise<EngineInfo> {
  const hasNative = registerNativeBackend();
  const loaded = nativeAddon();
  const nativeUnavailable = 'error' in loaded ? loaded.error : undefined;
  const requested = options.backend || process.env.SLIMTRAIN_BACKEND || (hasNative ? 'native' : 'wasm');
  if (!(backendNames as readonly string[]).includes(requested)) {
    throw new Error(`unknown backend '${requested}': use one of ${backendNames.join(', ')}`);
  }
  if (requested === 'native' && !hasNative) {
    throw new Error(`the native backend is not available: ${nativeUnavailable}; use --backend wasm or run 'slimtrain doctor'`);
  }
  const backend = requested as BackendName;
  // every backend gets its kernels, so that a later tf.setBackend can train too
  const available = backendNames.filter((name) => name !== 'native' || hasNative);
  const added = new Map(available.map((name) => [name, registerMissingGradientKernels(name)]));
  const addedKernels = added.get(backend)!;
  registerFastGradients();
  installLeanBackprop();
  patchBatchNormalization();
  patchDilatedConv2D();
  if (hasNative) installFusedTraining();
  if (tf.getBackend() !== backend) {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new Error(`TensorFlow.js backend '${backend}' failed to initialise`);
  }
  await tf.ready();
  // The cpu backend greets Node users once with advice to install tfjs-node, which
  // cannot install offline; mark its first use as done so users see our line instead.
  for (const name of ['cpu', 'native']) {
    const cpuLike = tf.engine().findBackend(name) as unknown as { firstUse?: boolean } | null;
    if (cpuLike) cpuLike.firstUse = false;
  }
  const simd = backend === 'wasm' && tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const native = backend === 'native' && 'addon' in loaded ? loaded.addon.info() : undefined;
  if (options.announce && !announced) {
    announced = true;
    process.stderr.write(`slimtrain: ${describeBackend({ backend, simd, native, nativeUnavailable })}\n`);
  }
  return { backend, addedKernels, simd, native, nativeUnavailable };
}

/** One line naming the backend in use and, for native, its libraries. */
export function describeBackend(e: Pick<EngineInfo, 'backend' | 'simd' | 'native' | 'nativeUnavailable'>): string {
  if (e.native) {
    const blas = e.native.blas.split(' ').slice(0, 2).join(' ');
    return `native backend (oneDNN ${e.native.onednn}, ${blas}, ${e.native.threads} thread${e.native.threads === 1 ? '' : 's'})`;
  }
  const why = e.nativeUnavailable && e.backend === 'wasm' ? `; native kernels unavailable: ${e.nativeUnavailable}` : '';
  return `TensorFlow.js ${e.backend} backend${e.simd ? ' (SIMD)' : ''}${why}`;
}
