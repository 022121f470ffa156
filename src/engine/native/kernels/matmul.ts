// Matrix products (fused with bias and activation), by BLAS.
import { activationCodes, allFloat, allocate, output, values, type Inputs, type NativeKernel } from '../kernel.js';

export function matMul(fused: boolean): NativeKernel {
  return (addon, inputs, attrs, backend) => {
    const { a, b } = inputs;
    const { bias, preluActivationWeights } = inputs as Partial<Inputs>;
    const activation = fused ? ((attrs.activation as string | undefined) ?? 'linear') : 'linear';
    const code = activationCodes[activation];
    if (code === undefined || preluActivationWeights != null || !allFloat(a, b, bias)) return null;
    const transposeA = attrs.transposeA as boolean;
    const transposeB = attrs.transposeB as boolean;
    const rank = a.shape.length;
    if (rank !== b.shape.length) return null;
    const m = transposeA ? a.shape[rank - 1] : a.shape[rank - 2];
    const k = transposeA ? a.shape[rank - 2] : a.shape[rank - 1];
    const n = transposeB ? b.shape[rank - 2] : b.shape[rank - 1];
    const batchA = a.shape.slice(0, -2).reduce((s, d) => s * d, 1);
    const batchB = b.shape.slice(0, -2).reduce((s, d) => s * d, 1);
    // only equal batch shapes or one side without batch; other broadcasts go to the cpu kernel
    const batchShape = batchA >= batchB ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
    if (batchA !== batchB && Math.min(batchA, batchB) !== 1) return null;
    if (bias != null && bias.shape.reduce((s, d) => s * d, 1) !== n) return null;
    const c = k === 0 ? new Float32Array(Math.max(batchA, batchB) * m * n) : allocate(backend, Math.max(batchA, batchB) * m * n);
    addon.batchMatMul(values(backend, a), values(backend, b), c, batchA, batchB, m, n, k, transposeA, transposeB);
    if (bias != null || code !== 0) {
      addon.biasActivation(c, bias ? values(backend, bias) : null, n, code, (attrs.leakyreluAlpha as number | undefined) ?? 0.2);
    }
    return output(backend, [...batchShape, m, n], c);
  };
}
