// The contract of slimtrain's N-API addon (native/src/addon.cc states it in full):
// the functions it exports, where it is built, and loading it. The addon is optional;
// where it did not build or cannot load, `nativeAddon()` says why and slimtrain runs
// on wasm.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
export interface NativeInfo {
  onednn: string;
  blas: string;
  blasThreads: number;
  threads: number;
}

/** The functions native/src/addon.cc exports. */
export interface NativeAddon {
  convForward(
    shape: Int32Array,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    activation: number,
    alpha: number,
  ): string;
  convBackwardData(shape: Int32Array, dy: Float32Array, w: Float32Array, dx: Float32Array): string;
  convBackwardWeights(shape: Int32Array, x: Float32Array, dy: Float32Array, dw: Float32Array): string;
  batchMatMul(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
  biasActivation(y: Float32Array, bias: Float32Array | null, channels: number, activation: number, alpha: number): void;
  binary(
    op: number,
    a: Float32Array,
    aStrides: Int32Array,
    b: Float32Array,
    bStrides: Int32Array,
    out: Float32Array,
    shape: Int32Array,
  ): void;
  unary(op: number, x: Float32Array, y: Float32Array, alpha: number): void;
  /** op: 0 Greater, 1 GreaterEqual, 2 Less, 3 LessEqual, 4 Equal, 5 NotEqual; out holds 1 or 0 */
  compare(
    op: number,
    a: Float32Array,
    aStrides: Int32Array,
    b: Float32Array,
    bStrides: Int32Array,
    out: Uint8Array,
    shape: Int32Array,
  ): void;
  select(condition: Uint8Array, t: Float32Array, e: Float32Array, out: Float32Array): void;
  transpose(x: Float32Array, shape: Int32Array, perm: Int32Array, y: Float32Array): void;
  softmax(x: Float32Array, n: number, y: Float32Array): void;
  resizeNearest(x: Float32Array, shape: Int32Array, rows: Int32Array, cols: Int32Array, y: Float32Array): void;
  resizeNearestGrad(dy: Float32Array, shape: Int32Array, rows: Int32Array, cols: Int32Array, dx: Float32Array): void;
  reduceSum(x: Float32Array, outer: number, reduce: number, inner: number, out: Float32Array, scale: number): void;
  batchNorm(
    x: Float32Array,
    channels: number,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array | null,
    scale: Float32Array | null,
    epsilon: number,
    y: Float32Array,
  ): void;
  maxPool(shape: Int32Array, x: Float32Array, y: Float32Array): void;
  maxPoolGrad(shape: Int32Array, dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  batchNormTraining(
    x: Float32Array,
    channels: number,
    gamma: Float32Array | null,
    beta: Float32Array | null,
    epsilon: number,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
  ): void;
  batchNormTrainingGrad(
    dy: Float32Array,
    x: Float32Array,
    channels: number,
    gamma: Float32Array | null,
    mean: Float32Array,
    variance: Float32Array,
    dmean: Float32Array | null,
    dvariance: Float32Array | null,
    epsilon: number,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
  ): void;
  /** op: 0 ReLU, 1 swish */
  unaryGrad(op: number, dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /** y = min(max(x, lo), hi) */
  clip(x: Float32Array, lo: number, hi: number, y: Float32Array): void;
  /** dx = dy where lo <= x <= hi (lo < x with openBelow), else 0 */
  clipGrad(dy: Float32Array, x: Float32Array, lo: number, hi: number, openBelow: boolean, dx: Float32Array): void;
  /** y = x[begin : begin + outShape], 4-D */
  slice(x: Float32Array, inShape: Int32Array, begin: Int32Array, outShape: Int32Array, y: Float32Array): void;
  /** x copied into y at `at`, the rest of y untouched, 4-D */
  place(x: Float32Array, inShape: Int32Array, at: Int32Array, outShape: Int32Array, y: Float32Array): void;
  /** y = value everywhere, x at before, 4-D */
  pad(x: Float32Array, inShape: Int32Array, before: Int32Array, outShape: Int32Array, value: number, y: Float32Array): void;
  avgPool(shape: Int32Array, x: Float32Array, y: Float32Array): void;
  avgPoolGrad(shape: Int32Array, dy: Float32Array, dx: Float32Array): void;
  info(): NativeInfo;
}

export const addonPath = fileURLToPath(new URL('../../../../native/build/Release/slimtrain_native.node', import.meta.url));

let loaded: { addon: NativeAddon } | { error: string } | undefined;

/**
 * How OpenMP's idle threads wait, and who chose it. OpenMP reads it once, when the
 * addon loads. Its default spins for a while: on a machine with other work that
 * steals the cores the work needs (measured on a Keras MobileNetV2 training step at
 * 224, batch 16, two at once: 2.1 img/s spinning, 4.3 passive; alone 7.3 and 7.9), so
 * slimtrain asks for a passive wait unless the user set one.
 */
export function openMpWait(): { policy: string; from: 'environment' | 'slimtrain' } {
  const env = process.env;
  if (env.OMP_WAIT_POLICY !== undefined || env.GOMP_SPINCOUNT !== undefined) {
    const policy = [
      env.OMP_WAIT_POLICY && `OMP_WAIT_POLICY=${env.OMP_WAIT_POLICY}`,
      env.GOMP_SPINCOUNT && `GOMP_SPINCOUNT=${env.GOMP_SPINCOUNT}`,
    ];
    return { policy: policy.filter(Boolean).join(', '), from: waitSetHere ? 'slimtrain' : 'environment' };
  }
  return { policy: 'OpenMP default (spins before sleeping)', from: 'environment' };
}

let waitSetHere = false;

/** The addon, or why it is not available (not built, a missing library, another OS). */
export function nativeAddon(): { addon: NativeAddon } | { error: string } {
  if (loaded === undefined) {
    if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
      process.env.OMP_WAIT_POLICY = 'PASSIVE';
      waitSetHere = true;
    }
    try {
      loaded = { addon: createRequire(import.meta.url)(addonPath) as NativeAddon };
    } catch (e) {
      const reason =
        (e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND'
          ? `${addonPath} was not built (npm run build:native)`
          : (e as Error).message.split('\n')[0];
      loaded = { error: reason };
    }
  }
  return loaded;
}
