// Backend selection: one place decides which TensorFlow.js backend runs and makes
// sure it can train (our gradient kernels fill what it lacks).
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers' Node bundle registers the gradients and chained ops that tfjs-core's leaves out.
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerMissingGradientKernels } from './gradient_kernels.js';
import { registerFastGradients } from './gradients.js';

export const backendNames = ['wasm', 'cpu'] as const;
export type BackendName = (typeof backendNames)[number];

export interface EngineInfo {
  backend: BackendName;
  /** kernels slimtrain registered because the backend lacked them */
  addedKernels: string[];
  simd: boolean;
}

let announced = false;

/**
 * Activates `backend` (default: $SLIMTRAIN_BACKEND, else wasm) and registers the
 * gradient kernels it lacks. `announce` prints the choice once per process.
 */
export async function initEngine(
  options: { backend?: string; announce?: boolean } = {},
): Promise<EngineInfo> {
  const requested = options.backend ?? process.env.SLIMTRAIN_BACKEND ?? 'wasm';
  if (!(backendNames as readonly string[]).includes(requested)) {
    throw new Error(`unknown backend '${requested}': use one of ${backendNames.join(', ')}`);
  }
  const backend = requested as BackendName;
  // every backend gets its kernels, so that a later tf.setBackend can train too
  const added = new Map(backendNames.map((name) => [name, registerMissingGradientKernels(name)]));
  const addedKernels = added.get(backend)!;
  registerFastGradients();
  if (tf.getBackend() !== backend) {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new Error(`TensorFlow.js backend '${backend}' failed to initialise`);
  }
  await tf.ready();
  // The cpu backend greets Node users once with advice to install tfjs-node, which
  // cannot install offline; mark its first use as done so users see our line instead.
  const cpu = tf.engine().findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
  const simd = backend === 'wasm' && tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  if (options.announce && !announced) {
    announced = true;
    process.stderr.write(`slimtrain: TensorFlow.js ${backend} backend${simd ? ' (SIMD)' : ''}\n`);
  }
  return { backend, addedKernels, simd };
}
