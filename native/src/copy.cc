// Layout kernels: a box of a 4-D tensor copied into a box of another (Slice, and Pad
// with a constant, whose gradient is a Slice). The innermost axis is one contiguous
// run, copied with memcpy; the outer three are split over the threads. Transpose
// walks the output in order and reads the input at the permuted strides.
#include <algorithm>
#include <cstring>

#include "kernels.h"

namespace slimtrain {

void copyBox(const float *src, const int srcShape[4], const int srcAt[4], float *dst, const int dstShape[4],
             const int dstAt[4], const int box[4]) {
  const int64_t rows = int64_t(box[0]) * box[1] * box[2];
  const size_t run = size_t(box[3]) * sizeof(float);
#pragma omp parallel for schedule(static) if (rows * box[3] >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const int64_t c = r % box[2], b = (r / box[2]) % box[1], a = r / (int64_t(box[2]) * box[1]);
    const int64_t from = (((a + srcAt[0]) * srcShape[1] + b + srcAt[1]) * srcShape[2] + c + srcAt[2]) * srcShape[3] + srcAt[3];
    const int64_t to = (((a + dstAt[0]) * dstShape[1] + b + dstAt[1]) * dstShape[2] + c + dstAt[2]) * dstShape[3] + dstAt[3];
    std::memcpy(dst + to, src + from, run);
  }
}

void transpose(const float *x, const int64_t *inShape, const int *perm, int rank, float *y) {
  int64_t inStrides[6], outShape[6], readStrides[6];
  int64_t step = 1;
  for (int d = rank - 1; d >= 0; d--) {
    inStrides[d] = step;
    step *= inShape[d];
  }
  for (int d = 0; d < rank; d++) {
    outShape[d] = inShape[perm[d]];
    readStrides[d] = inStrides[perm[d]];
  }
  const int64_t inner = outShape[rank - 1], innerStride = readStrides[rank - 1], rows = step / inner;
#pragma omp parallel for schedule(static) if (step >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    int64_t rest = r, from = 0;
    for (int d = rank - 2; d >= 0; d--) {
      from += (rest % outShape[d]) * readStrides[d];
      rest /= outShape[d];
    }
    float *out = y + r * inner;
    for (int64_t i = 0; i < inner; i++) out[i] = x[from + i * innerStride];
  }
}

void resizeNearest(const float *x, const int shape[4], const int *rows, int outH, const int *cols, int outW, float *y) {
  const int64_t channels = shape[3], outRows = int64_t(shape[0]) * outH;
#pragma omp parallel for schedule(static) if (outRows * outW * channels >= kParallelMin)
  for (int64_t k = 0; k < outRows; k++) {
    const int64_t n = k / outH, r = k % outH;
    const float *from = x + (n * shape[1] + rows[r]) * shape[2] * channels;
    float *to = y + k * outW * channels;
    for (int c = 0; c < outW; c++) std::memcpy(to + c * channels, from + int64_t(cols[c]) * channels, channels * sizeof(float));
  }
}

void resizeNearestGrad(const float *dy, const int shape[4], const int *rows, int outH, const int *cols, int outW, float *dx) {
  const int64_t channels = shape[3], image = int64_t(shape[1]) * shape[2] * channels;
  // one image per thread: no two threads add into the same pixel
#pragma omp parallel for schedule(static) if (int64_t(shape[0]) * outH * outW * channels >= kParallelMin)
  for (int n = 0; n < shape[0]; n++) {
    float *out = dx + n * image;
    std::fill(out, out + image, 0.f);
    for (int r = 0; r < outH; r++) {
      const float *from = dy + ((int64_t(n) * outH + r) * outW) * channels;
      float *row = out + int64_t(rows[r]) * shape[2] * channels;
      for (int c = 0; c < outW; c++) {
        float *pixel = row + int64_t(cols[c]) * channels;
        for (int64_t ch = 0; ch < channels; ch++) pixel[ch] += from[c * channels + ch];
      }
    }
  }
}

void padConstant(const float *x, const int inShape[4], const int before[4], float value, float *y, const int outShape[4]) {
  const int64_t size = int64_t(outShape[0]) * outShape[1] * outShape[2] * outShape[3];
#pragma omp parallel for schedule(static) if (size >= kParallelMin)
  for (int64_t i = 0; i < size; i++) y[i] = value;
  const int origin[4] = {0, 0, 0, 0};
  copyBox(x, inShape, origin, y, outShape, before, inShape);
}

}  // namespace slimtrain
