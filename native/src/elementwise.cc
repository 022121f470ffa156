// Elementwise work, reductions, batch norm and pooling in NHWC, split across cores
// with OpenMP above a size where that pays.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <omp.h>

#include "kernels.h"

namespace slimtrain {
namespace {

/**
 * e^x within 1e-7 relative (Cephes's expf: Cody-Waite reduction, degree-6 polynomial),
 * written so loops over it vectorize (std::exp does not without -ffast-math, which
 * would drop the NaN handling elsewhere). x is clamped to [-87, 88], where e^x is a
 * normal float; NaN stays NaN.
 */
inline float expApprox(float x) {
  x = x < -87.f ? -87.f : x > 88.f ? 88.f : x;
  // round to nearest by the 1.5 * 2^23 trick (floor does not vectorize here)
  const float n = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  return p * __builtin_bit_cast(float, (static_cast<int32_t>(n) + 127) << 23);
}

inline float sigmoid(float v) { return 1.f / (1.f + expApprox(-v)); }

inline float activate(float v, Activation act, float alpha) {
  switch (act) {
    case Activation::Relu: return v > 0.f ? v : 0.f;
    case Activation::Relu6: return v < 0.f ? 0.f : v > 6.f ? 6.f : v;
    case Activation::Elu: return v > 0.f ? v : std::expm1(v);
    case Activation::LeakyRelu: return v > 0.f ? v : alpha * v;
    case Activation::Sigmoid: return sigmoid(v);
    default: return v;
  }
}

/** out[i] = f(a[i * sa], b[i * sb]) over n elements, strides 0 or 1, written so each case vectorizes. */
template <typename F, typename T>
inline void binaryRow(F f, const float *a, int sa, const float *b, int sb, T *out, int64_t n) {
  if (sa && sb) {
    for (int64_t i = 0; i < n; i++) out[i] = f(a[i], b[i]);
  } else if (sa) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; i++) out[i] = f(a[i], bv);
  } else if (sb) {
    const float av = a[0];
    for (int64_t i = 0; i < n; i++) out[i] = f(av, b[i]);
  } else {
    const float v = f(a[0], b[0]);
    for (int64_t i = 0; i < n; i++) out[i] = v;
  }
}

/** out = f(a, b) broadcast over `shape`; T is float, or uint8_t for comparisons (TensorFlow.js's bool) */
template <typename F, typename T>
void binaryLoop(F f, const float *a, const int64_t *aStrides, const float *b, const int64_t *bStrides, T *out,
                const int64_t *shape, int rank) {
  int64_t size = 1;
  for (int d = 0; d < rank; d++) size *= shape[d];
  const int64_t inner = shape[rank - 1];
  const int sa = aStrides[rank - 1] != 0, sb = bStrides[rank - 1] != 0;
  if (rank == 1) {
    // one flat run: split it into per-thread blocks
    const int64_t blocks = size >= kParallelMin ? omp_get_max_threads() * 4 : 1;
    const int64_t step = (size + blocks - 1) / blocks;
#pragma omp parallel for schedule(static) if (blocks > 1)
    for (int64_t k = 0; k < blocks; k++) {
      const int64_t start = k * step, n = std::min(step, size - start);
      if (n > 0) binaryRow(f, a + (sa ? start : 0), sa, b + (sb ? start : 0), sb, out + start, n);
    }
    return;
  }
  const int64_t rows = size / inner;
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    int64_t rest = r, aOff = 0, bOff = 0;
    for (int d = rank - 2; d >= 0; d--) {
      const int64_t i = rest % shape[d];
      rest /= shape[d];
      aOff += i * aStrides[d];
      bOff += i * bStrides[d];
    }
    binaryRow(f, a + aOff, sa, b + bOff, sb, out + r * inner, inner);
  }
}

template <typename F>
void unaryLoop(F f, const float *x, float *y, int64_t size) {
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
  for (int64_t i = 0; i < size; i++) y[i] = f(x[i]);
}

}  // namespace

void biasActivation(float *y, int64_t size, const float *bias, int64_t channels, Activation act, float alpha) {
  const int64_t rows = size / channels;
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    float *row = y + r * channels;
    for (int64_t c = 0; c < channels; c++) row[c] = activate(row[c] + (bias ? bias[c] : 0.f), act, alpha);
  }
}

void binary(BinaryOp op, const float *a, const int64_t *aStrides, const float *b, const int64_t *bStrides, float *out,
            const int64_t *shape, int rank) {
  switch (op) {
    case BinaryOp::Add: return binaryLoop([](float x, float y) { return x + y; }, a, aStrides, b, bStrides, out, shape, rank);
    case BinaryOp::Sub: return binaryLoop([](float x, float y) { return x - y; }, a, aStrides, b, bStrides, out, shape, rank);
    case BinaryOp::Mul: return binaryLoop([](float x, float y) { return x * y; }, a, aStrides, b, bStrides, out, shape, rank);
    case BinaryOp::Div: return binaryLoop([](float x, float y) { return x / y; }, a, aStrides, b, bStrides, out, shape, rank);
    case BinaryOp::SquaredDifference:
      return binaryLoop([](float x, float y) { return (x - y) * (x - y); }, a, aStrides, b, bStrides, out, shape, rank);
    case BinaryOp::Maximum:
      return binaryLoop([](float x, float y) { return x >= y || std::isnan(x) ? x : y; }, a, aStrides, b, bStrides, out, shape, rank);
    case BinaryOp::Minimum:
      return binaryLoop([](float x, float y) { return x <= y || std::isnan(x) ? x : y; }, a, aStrides, b, bStrides, out, shape, rank);
    case BinaryOp::EluGrad:
      return binaryLoop([](float dy, float y) { return y > 0.f ? dy : dy * (y + 1.f); }, a, aStrides, b, bStrides, out, shape, rank);
    case BinaryOp::Prelu:
      return binaryLoop([](float x, float alpha) { return x < 0.f ? alpha * x : x; }, a, aStrides, b, bStrides, out, shape, rank);
  }
}

void compare(CompareOp op, const float *a, const int64_t *aStrides, const float *b, const int64_t *bStrides, uint8_t *out,
             const int64_t *shape, int rank) {
  // written as conditionals so NaN compares false (true for NotEqual), as in JavaScript
  switch (op) {
    case CompareOp::Greater:
      return binaryLoop([](float x, float y) -> uint8_t { return x > y; }, a, aStrides, b, bStrides, out, shape, rank);
    case CompareOp::GreaterEqual:
      return binaryLoop([](float x, float y) -> uint8_t { return x >= y; }, a, aStrides, b, bStrides, out, shape, rank);
    case CompareOp::Less:
      return binaryLoop([](float x, float y) -> uint8_t { return x < y; }, a, aStrides, b, bStrides, out, shape, rank);
    case CompareOp::LessEqual:
      return binaryLoop([](float x, float y) -> uint8_t { return x <= y; }, a, aStrides, b, bStrides, out, shape, rank);
    case CompareOp::Equal:
      return binaryLoop([](float x, float y) -> uint8_t { return x == y; }, a, aStrides, b, bStrides, out, shape, rank);
    case CompareOp::NotEqual:
      return binaryLoop([](float x, float y) -> uint8_t { return x != y; }, a, aStrides, b, bStrides, out, shape, rank);
  }
}

void select(const uint8_t *condition, const float *t, const float *e, float *out, int64_t size) {
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
  for (int64_t i = 0; i < size; i++) out[i] = condition[i] ? t[i] : e[i];
}

void unary(UnaryOp op, const float *x, float *y, int64_t size, float alpha) {
  switch (op) {
    case UnaryOp::Relu: return unaryLoop([](float v) { return v > 0.f ? v : (std::isnan(v) ? v : 0.f); }, x, y, size);
    case UnaryOp::Relu6: return unaryLoop([](float v) { return std::isnan(v) ? v : v < 0.f ? 0.f : v > 6.f ? 6.f : v; }, x, y, size);
    case UnaryOp::Step:
      return unaryLoop([alpha](float v) { return std::isnan(v) ? v : v > 0.f ? 1.f : alpha; }, x, y, size);
    case UnaryOp::Square: return unaryLoop([](float v) { return v * v; }, x, y, size);
    case UnaryOp::Neg: return unaryLoop([](float v) { return -v; }, x, y, size);
    case UnaryOp::Sqrt: return unaryLoop([](float v) { return std::sqrt(v); }, x, y, size);
    case UnaryOp::Rsqrt: return unaryLoop([](float v) { return 1.f / std::sqrt(v); }, x, y, size);
    case UnaryOp::Exp: return unaryLoop([](float v) { return std::exp(v); }, x, y, size);
    case UnaryOp::Log: return unaryLoop([](float v) { return std::log(v); }, x, y, size);
    case UnaryOp::Abs: return unaryLoop([](float v) { return std::fabs(v); }, x, y, size);
    case UnaryOp::Sigmoid: return unaryLoop([](float v) { return sigmoid(v); }, x, y, size);
    case UnaryOp::Swish: return unaryLoop([](float v) { return v * sigmoid(v); }, x, y, size);
    case UnaryOp::Tanh: return unaryLoop([](float v) { return std::tanh(v); }, x, y, size);
    case UnaryOp::Elu: return unaryLoop([](float v) { return v >= 0.f ? v : std::expm1(v); }, x, y, size);
    case UnaryOp::LeakyRelu: return unaryLoop([alpha](float v) { return v < 0.f ? alpha * v : v; }, x, y, size);
    case UnaryOp::Floor: return unaryLoop([](float v) { return std::floor(v); }, x, y, size);
    case UnaryOp::Erf: return unaryLoop([](float v) { return std::erf(v); }, x, y, size);
  }
}

void softmax(const float *x, int64_t rows, int64_t n, float *y) {
#pragma omp parallel for schedule(static) if (rows * n >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    float top = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; i++) top = std::max(top, xr[i]);
    double total = 0;
    for (int64_t i = 0; i < n; i++) total += yr[i] = std::exp(xr[i] - top);
    const float inv = static_cast<float>(1.0 / total);
    for (int64_t i = 0; i < n; i++) yr[i] *= inv;
  }
}

void reduceSum(const float *x, int64_t outer, int64_t reduce, int64_t inner, float *out, float scale) {
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (outer * reduce >= kParallelMin && outer > 1)
    for (int64_t o = 0; o < outer; o++) {
      double s = 0;
      const float *row = x + o * reduce;
      for (int64_t r = 0; r < reduce; r++) s += row[r];
      out[o] = static_cast<float>(s * scale);
    }
    return;
  }
  // [outer, reduce, inner] -> [outer, inner]: per-thread partial sums over slices of `reduce`
  for (int64_t o = 0; o < outer; o++) {
    const float *block = x + o * reduce * inner;
    std::vector<double> total(inner, 0.0);
#pragma omp parallel if (reduce * inner >= kParallelMin)
    {
      std::vector<double> part(inner, 0.0);
#pragma omp for schedule(static) nowait
      for (int64_t r = 0; r < reduce; r++) {
        const float *row = block + r * inner;
        for (int64_t i = 0; i < inner; i++) part[i] += row[i];
      }
#pragma omp critical
      for (int64_t i = 0; i < inner; i++) total[i] += part[i];
    }
    for (int64_t i = 0; i < inner; i++) out[o * inner + i] = static_cast<float>(total[i] * scale);
  }
}

void batchNorm(const float *x, int64_t size, int64_t channels, const float *mean, const float *variance,
               const float *offset, const float *scale, float epsilon, float *y) {
  std::vector<float> mul(channels), add(channels);
  for (int64_t c = 0; c < channels; c++) {
    mul[c] = (scale ? scale[c] : 1.f) / std::sqrt(variance[c] + epsilon);
    add[c] = (offset ? offset[c] : 0.f) - mean[c] * mul[c];
  }
  const int64_t rows = size / channels;
  const float *m = mul.data(), *a = add.data();
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * channels;
    float *yr = y + r * channels;
    for (int64_t c = 0; c < channels; c++) yr[c] = xr[c] * m[c] + a[c];
  }
}

void maxPool(const PoolShape &s, const float *x, float *y) {
  const int64_t c = s.channels;
#pragma omp parallel for collapse(2) schedule(static) if (int64_t(s.batch) * s.outHeight * s.outWidth * c >= kParallelMin)
  for (int n = 0; n < s.batch; n++) {
    for (int oh = 0; oh < s.outHeight; oh++) {
      std::vector<float> best(c);
      for (int ow = 0; ow < s.outWidth; ow++) {
        std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
        const int h0 = oh * s.strideHeight - s.padTop, w0 = ow * s.strideWidth - s.padLeft;
        for (int h = std::max(h0, 0); h < std::min(h0 + s.filterHeight, s.inHeight); h++) {
          for (int w = std::max(w0, 0); w < std::min(w0 + s.filterWidth, s.inWidth); w++) {
            const float *px = x + ((int64_t(n) * s.inHeight + h) * s.inWidth + w) * c;
            for (int64_t ch = 0; ch < c; ch++) best[ch] = px[ch] > best[ch] ? px[ch] : best[ch];
          }
        }
        std::copy(best.begin(), best.end(), y + ((int64_t(n) * s.outHeight + oh) * s.outWidth + ow) * c);
      }
    }
  }
}

void avgPool(const PoolShape &s, const float *x, float *y) {
  const int64_t c = s.channels;
  const int64_t windows = int64_t(s.batch) * s.outHeight * s.outWidth;
#pragma omp parallel for schedule(static) if (windows * c >= kParallelMin)
  for (int64_t k = 0; k < windows; k++) {
    const int ow = k % s.outWidth, oh = (k / s.outWidth) % s.outHeight, n = k / (int64_t(s.outWidth) * s.outHeight);
    const int h0 = oh * s.strideHeight - s.padTop, w0 = ow * s.strideWidth - s.padLeft;
    const int h1 = std::min(h0 + s.filterHeight, s.inHeight), w1 = std::min(w0 + s.filterWidth, s.inWidth);
    float *out = y + k * c;
    std::fill(out, out + c, 0.f);
    int count = 0;
    for (int h = std::max(h0, 0); h < h1; h++) {
      for (int w = std::max(w0, 0); w < w1; w++, count++) {
        const float *in = x + ((int64_t(n) * s.inHeight + h) * s.inWidth + w) * c;
        for (int64_t ch = 0; ch < c; ch++) out[ch] += in[ch];
      }
    }
    // the padding is not counted, as in TensorFlow
    const float scale = count > 0 ? 1.f / count : 0.f;
    for (int64_t ch = 0; ch < c; ch++) out[ch] *= scale;
  }
}

void avgPoolGrad(const PoolShape &s, const float *dy, float *dx) {
  const int64_t c = s.channels;
  // one image per thread: windows of one image may overlap, different images never do
#pragma omp parallel for schedule(static) if (int64_t(s.batch) * s.inHeight * s.inWidth * c >= kParallelMin)
  for (int n = 0; n < s.batch; n++) {
    std::fill(dx + int64_t(n) * s.inHeight * s.inWidth * c, dx + int64_t(n + 1) * s.inHeight * s.inWidth * c, 0.f);
    for (int oh = 0; oh < s.outHeight; oh++) {
      for (int ow = 0; ow < s.outWidth; ow++) {
        const int h0 = oh * s.strideHeight - s.padTop, w0 = ow * s.strideWidth - s.padLeft;
        const int hs = std::max(h0, 0), h1 = std::min(h0 + s.filterHeight, s.inHeight);
        const int ws = std::max(w0, 0), w1 = std::min(w0 + s.filterWidth, s.inWidth);
        const int count = (h1 - hs) * (w1 - ws);
        if (count <= 0) continue;
        const float scale = 1.f / count;
        const float *g = dy + ((int64_t(n) * s.outHeight + oh) * s.outWidth + ow) * c;
        for (int h = hs; h < h1; h++) {
          for (int w = ws; w < w1; w++) {
            float *d = dx + ((int64_t(n) * s.inHeight + h) * s.inWidth + w) * c;
            for (int64_t ch = 0; ch < c; ch++) d[ch] += g[ch] * scale;
          }
        }
      }
    }
  }
}

void maxPoolGrad(const PoolShape &s, const float *dy, const float *x, float *dx) {
  const int64_t c = s.channels;
  // one image per thread: windows of one image may overlap, different images never do
#pragma omp parallel for schedule(static) if (int64_t(s.batch) * s.inHeight * s.inWidth * c >= kParallelMin)
  for (int n = 0; n < s.batch; n++) {
    std::vector<float> best(c);
    std::vector<int64_t> at(c);
    std::fill(dx + int64_t(n) * s.inHeight * s.inWidth * c, dx + int64_t(n + 1) * s.inHeight * s.inWidth * c, 0.f);
    for (int oh = 0; oh < s.outHeight; oh++) {
      for (int ow = 0; ow < s.outWidth; ow++) {
        std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
        std::fill(at.begin(), at.end(), -1);
        const int h0 = oh * s.strideHeight - s.padTop, w0 = ow * s.strideWidth - s.padLeft;
        for (int h = std::max(h0, 0); h < std::min(h0 + s.filterHeight, s.inHeight); h++) {
          for (int w = std::max(w0, 0); w < std::min(w0 + s.filterWidth, s.inWidth); w++) {
            const int64_t base = ((int64_t(n) * s.inHeight + h) * s.inWidth + w) * c;
            for (int64_t ch = 0; ch < c; ch++) {
              // the first maximum in the window takes the gradient, as in TensorFlow
              if (x[base + ch] > best[ch] || at[ch] < 0) {
                best[ch] = x[base + ch];
                at[ch] = base + ch;
              }
            }
          }
        }
        const float *g = dy + ((int64_t(n) * s.outHeight + oh) * s.outWidth + ow) * c;
        for (int64_t ch = 0; ch < c; ch++) {
          if (at[ch] >= 0) dx[at[ch]] += g[ch];
        }
      }
    }
  }
}

}  // namespace slimtrain

namespace slimtrain {
namespace {


/**
 * Per-channel sums over the rows of a [rows, channels] tensor, two at once:
 * first[c] = sum f1(r, c), second[c] = sum f2(r, c), in double, split across threads.
 */
template <typename F1, typename F2>
void channelSums(int64_t rows, int64_t channels, F1 f1, F2 f2, double *first, double *second) {
  // float sums over blocks of rows (they vectorize), each block added into double
  constexpr int64_t kBlock = 64;
  std::fill(first, first + channels, 0.0);
  std::fill(second, second + channels, 0.0);
  const int64_t blocks = (rows + kBlock - 1) / kBlock;
#pragma omp parallel if (rows * channels >= kParallelMin)
  {
    std::vector<double> a(channels, 0.0), b(channels, 0.0);
    std::vector<float> fa(channels), fb(channels);
#pragma omp for schedule(static) nowait
    for (int64_t k = 0; k < blocks; k++) {
      std::fill(fa.begin(), fa.end(), 0.f);
      std::fill(fb.begin(), fb.end(), 0.f);
      for (int64_t r = k * kBlock; r < std::min(rows, (k + 1) * kBlock); r++) {
        for (int64_t c = 0; c < channels; c++) {
          fa[c] += f1(r, c);
          fb[c] += f2(r, c);
        }
      }
      for (int64_t c = 0; c < channels; c++) {
        a[c] += fa[c];
        b[c] += fb[c];
      }
    }
#pragma omp critical
    for (int64_t c = 0; c < channels; c++) {
      first[c] += a[c];
      second[c] += b[c];
    }
  }
}

}  // namespace

void batchNormTraining(const float *x, int64_t rows, int64_t channels, const float *gamma, const float *beta,
                       float epsilon, float *y, float *mean, float *variance) {
  std::vector<double> sum(channels), sumSquares(channels);
  // shift by the first row so the one-pass variance does not cancel catastrophically
  const float *shift = x;
  channelSums(
      rows, channels, [&](int64_t r, int64_t c) { return x[r * channels + c] - shift[c]; },
      [&](int64_t r, int64_t c) {
        const float d = x[r * channels + c] - shift[c];
        return d * d;
      },
      sum.data(), sumSquares.data());
  std::vector<float> mul(channels), add(channels);
  for (int64_t c = 0; c < channels; c++) {
    const double m = sum[c] / rows;
    const double v = std::max(0.0, sumSquares[c] / rows - m * m);
    mean[c] = static_cast<float>(m + shift[c]);
    variance[c] = static_cast<float>(v);
    mul[c] = static_cast<float>((gamma ? gamma[c] : 1.f) / std::sqrt(v + epsilon));
    add[c] = (beta ? beta[c] : 0.f) - mean[c] * mul[c];
  }
  const float *m = mul.data(), *a = add.data();
#pragma omp parallel for schedule(static) if (rows * channels >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    for (int64_t c = 0; c < channels; c++) y[r * channels + c] = x[r * channels + c] * m[c] + a[c];
  }
}

void batchNormTrainingGrad(const float *dy, const float *x, int64_t rows, int64_t channels, const float *gamma,
                           const float *mean, const float *variance, const float *dmean, const float *dvariance,
                           float epsilon, float *dx, float *dgamma, float *dbeta) {
  std::vector<double> dyTotal(channels), centredDyTotal(channels);
  channelSums(
      rows, channels, [&](int64_t r, int64_t c) { return dy[r * channels + c]; },
      [&](int64_t r, int64_t c) { return dy[r * channels + c] * (x[r * channels + c] - mean[c]); },
      dyTotal.data(), centredDyTotal.data());
  // dx = k * (dy - dyTotal/n - (x - mean) * centredDyTotal / (n (var + eps))) + dmean/n + 2 dvar (x - mean)/n,
  // with k = gamma / sqrt(var + eps): the batch statistics' own gradients included
  std::vector<float> k(channels), bias(channels), slope(channels);
  for (int64_t c = 0; c < channels; c++) {
    const double inv = 1.0 / std::sqrt(double(variance[c]) + epsilon);
    const double g = gamma ? gamma[c] : 1.0;
    dgamma[c] = static_cast<float>(centredDyTotal[c] * inv);
    dbeta[c] = static_cast<float>(dyTotal[c]);
    k[c] = static_cast<float>(g * inv);
    bias[c] = static_cast<float>(-g * inv * dyTotal[c] / rows + (dmean ? dmean[c] / double(rows) : 0.0));
    slope[c] = static_cast<float>(-g * inv * inv * inv * centredDyTotal[c] / rows +
                                  (dvariance ? 2.0 * dvariance[c] / rows : 0.0));
  }
  const float *kp = k.data(), *bp = bias.data(), *sp = slope.data();
#pragma omp parallel for schedule(static) if (rows * channels >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    for (int64_t c = 0; c < channels; c++) {
      const int64_t i = r * channels + c;
      dx[i] = kp[c] * dy[i] + bp[c] + sp[c] * (x[i] - mean[c]);
    }
  }
}

void unaryGrad(UnaryGradOp op, const float *dy, const float *x, float *dx, int64_t size) {
  switch (op) {
    case UnaryGradOp::Relu:
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
      for (int64_t i = 0; i < size; i++) dx[i] = x[i] > 0.f ? dy[i] : 0.f;
      return;
    case UnaryGradOp::Swish:
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
      for (int64_t i = 0; i < size; i++) {
        const float s = sigmoid(x[i]);
        dx[i] = dy[i] * s * (1.f + x[i] * (1.f - s));
      }
      return;
  }
}

void clip(const float *x, float lo, float hi, float *y, int64_t size) {
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
  for (int64_t i = 0; i < size; i++) y[i] = std::min(std::max(x[i], lo), hi);
}

void clipGrad(const float *dy, const float *x, float lo, float hi, bool openBelow, float *dx, int64_t size) {
  if (openBelow) {
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
    for (int64_t i = 0; i < size; i++) dx[i] = x[i] > lo && x[i] <= hi ? dy[i] : 0.f;
  } else {
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
    for (int64_t i = 0; i < size; i++) dx[i] = x[i] >= lo && x[i] <= hi ? dy[i] : 0.f;
  }
}

}  // namespace slimtrain
