// float32 -> IEEE 754 binary16, as tfjs-converter's --quantize_float16 stores weights
// (TensorFlow.js decodes them on load). Round to nearest, ties to even; values past
// 65504 become infinities, NaN stays NaN, tiny values become subnormals or zero.
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const word = new Float32Array(1);
  const bits = new Uint32Array(word.buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    word[0] = values[i];
    const x = bits[0];
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    const mantissa = x & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
      continue;
    }
    const e = exponent - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    // keep `drop` low bits of the significand (implicit bit included for subnormals), rounding half to even
    const significand = e > 0 ? mantissa : mantissa | 0x800000;
    const drop = e > 0 ? 13 : 14 - e;
    if (drop > 24) {
      out[i] = sign;
      continue;
    }
    let half = significand >>> drop;
    const rest = significand & ((1 << drop) - 1);
    const midpoint = 1 << (drop - 1);
    if (rest > midpoint || (rest === midpoint && (half & 1) === 1)) half++;
    // a carry out of the mantissa correctly bumps the exponent (up to infinity)
    out[i] = sign | ((e > 0 ? e << 10 : 0) + half);
  }
  return out;
}
