// `slimtrain doctor`: which backend runs, which native libraries it uses with how
// many threads, and a quick check that the native kernels agree with TensorFlow.js's
// cpu backend on this machine.
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initEngine } from './backend.js';
import { addonPath, nativeAddon, openMpWait, type NativeInfo } from './native.js';

export interface Diagnosis {
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  /** the backend asked for, else the one slimtrain uses when none is */
  backend: string;
  summary: string;
  native: { addon: string; loaded: boolean; error?: string; info?: NativeInfo };
  /** how OpenMP's idle threads wait, and whether the environment or slimtrain chose it */
  openMpWait: { policy: string; from: 'environment' | 'slimtrain' };
  /** largest |native - cpu| / (1 + |cpu|) over a convolution, its two gradients, batch norm and pooling */
  selfCheck?: { maxRelativeDifference: number; ok: boolean };
}

/** Runs `fn` on `backend` and returns its outputs as flat arrays. */
async function outputsOn(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(fn).map((t) => {
    const values = t.dataSync() as Float32Array;
    t.dispose();
    return values;
  });
}

async function selfCheck(): Promise<{ maxRelativeDifference: number; ok: boolean }> {
  const previous = tf.getBackend();
  const problem = () => {
    const x = tf.randomNormal([3, 11, 9, 5], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 5, 7], 0, 1, 'float32', 2) as tf.Tensor4D;
    const loss = (xx: tf.Tensor4D, ww: tf.Tensor4D) => {
      const y = tf.relu(tf.conv2d(xx, ww, 2, 'same'));
      const m = tf.moments(y, [0, 1, 2]);
      const normed = tf.batchNorm(y, m.mean, m.variance, tf.onesLike(m.mean), tf.onesLike(m.mean), 1e-3) as tf.Tensor4D;
      return tf.sum(tf.maxPool(normed, 2, 2, 'same'));
    };
    const [dx, dw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => loss(xx as tf.Tensor4D, ww as tf.Tensor4D))([x, w]);
    return [loss(x, w), dx, dw];
  };
  const native = await outputsOn('native', problem);
  const cpu = await outputsOn('cpu', problem);
  await tf.setBackend(previous);
  let worst = 0;
  native.forEach((values, i) => values.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - cpu[i][j]) / (1 + Math.abs(cpu[i][j]))))));
  return { maxRelativeDifference: worst, ok: worst < 1e-3 };
}

export async function diagnose(options: { backend?: string } = {}): Promise<Diagnosis> {
  const engine = await initEngine({ backend: options.backend });
  const loaded = nativeAddon();
  const diagnosis: Diagnosis = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    backend: engine.backend,
    summary: describeBackend(engine),
    native:
      'addon' in loaded
        ? { addon: addonPath, loaded: true, info: loaded.addon.info() }
        : { addon: addonPath, loaded: false, error: loaded.error },
    openMpWait: openMpWait(),
  };
  if ('addon' in loaded) diagnosis.selfCheck = await selfCheck();
  return diagnosis;
}
