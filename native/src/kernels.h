// The native kernels slimtrain registers with TensorFlow.js; data in TensorFlow.js's
// layouts (NHWC, row-major), float32.
#pragma once
#include <cstdint>
#include <string>

namespace slimtrain {

/** Loops over fewer elements than this run on one thread: starting the team costs more. */
inline constexpr int64_t kParallelMin = 1 << 15;


/** A convolution in TensorFlow.js's terms (backend_util.Conv2DInfo). */
struct ConvShape {
  int batch, inHeight, inWidth, inChannels;
  int outHeight, outWidth, outChannels;
  int filterHeight, filterWidth;
  int strideHeight, strideWidth, dilationHeight, dilationWidth;
  int padTop, padLeft;
  bool depthwise;  // a [h, w, channels, multiplier] filter, one group per input channel
};

/** Fused activations, numbered as the JavaScript side sends them. */
enum class Activation : int { Linear = 0, Relu = 1, Relu6 = 2, Elu = 3, LeakyRelu = 4, Sigmoid = 5 };

// Each returns the oneDNN implementation that ran (for `slimtrain doctor` and tests).
std::string convForward(const ConvShape &s, const float *x, const float *w, const float *bias, float *y,
                        Activation act, float alpha);
std::string convBackwardData(const ConvShape &s, const float *dy, const float *w, float *dx);
std::string convBackwardWeights(const ConvShape &s, const float *x, const float *dy, float *dw);
std::string onednnVersion();

/** y[i] = act(y[i] + bias[i % channels]) (bias may be null). */
void biasActivation(float *y, int64_t size, const float *bias, int64_t channels, Activation act, float alpha);

/** c[b] = op(a[b]) x op(b[b]) for each batch entry; a batch size of 1 broadcasts. */
void batchMatMul(const float *a, const float *b, float *c, int batchA, int batchB, int m, int n, int k,
                 bool transposeA, bool transposeB);
std::string blasInfo();
int blasThreads();

}  // namespace slimtrain

namespace slimtrain {

enum class BinaryOp : int {
  Add = 0, Sub = 1, Mul = 2, Div = 3, SquaredDifference = 4, Maximum = 5, Minimum = 6,
  EluGrad = 7,  // (dy, y): dy where y > 0, else dy (y + 1)
  Prelu = 8     // (x, alpha): x where x >= 0, else alpha x
};
enum class UnaryOp : int {
  Relu = 0, Relu6 = 1, Step = 2, Square = 3, Neg = 4, Sqrt = 5, Rsqrt = 6, Exp = 7, Log = 8, Abs = 9, Sigmoid = 10, Swish = 11,
  Tanh = 12, Elu = 13, LeakyRelu = 14, Floor = 15, Erf = 16
};
/** the gradients unaryGrad computes from dy and the op's input x */
enum class UnaryGradOp : int { Relu = 0, Swish = 1 };

/**
 * out = op(a, b) over `shape` (rank >= 1); each operand is read at the given strides
 * per output dimension, 0 where it broadcasts. The last dimension's strides are 0 or 1.
 */
void binary(BinaryOp op, const float *a, const int64_t *aStrides, const float *b, const int64_t *bStrides, float *out,
            const int64_t *shape, int rank);
enum class CompareOp : int { Greater = 0, GreaterEqual = 1, Less = 2, LessEqual = 3, Equal = 4, NotEqual = 5 };
/** out = a op b as 1 or 0, broadcast as binary() does */
void compare(CompareOp op, const float *a, const int64_t *aStrides, const float *b, const int64_t *bStrides, uint8_t *out,
             const int64_t *shape, int rank);
/** out = condition ? t : e, elementwise over equal sizes (Select, Where) */
void select(const uint8_t *condition, const float *t, const float *e, float *out, int64_t size);
/** y = op(x); alpha is Step's value for x <= 0 and LeakyRelu's slope. */
void unary(UnaryOp op, const float *x, float *y, int64_t size, float alpha);
/** x viewed as [outer, reduce, inner]; out[o, i] = scale * sum over r (accumulated in double). */
void reduceSum(const float *x, int64_t outer, int64_t reduce, int64_t inner, float *out, float scale);
/** y = (x - mean) * scale / sqrt(variance + epsilon) + offset, per channel (the last dimension). */
void batchNorm(const float *x, int64_t size, int64_t channels, const float *mean, const float *variance,
               const float *offset, const float *scale, float epsilon, float *y);

struct PoolShape {
  int batch, inHeight, inWidth, channels, outHeight, outWidth;
  int filterHeight, filterWidth, strideHeight, strideWidth, padTop, padLeft;
};
void maxPool(const PoolShape &s, const float *x, float *y);
/** Average pooling; a window's padding is not counted. */
void avgPool(const PoolShape &s, const float *x, float *y);
/** dx for average pooling: each window spreads its gradient over the inputs it counted. */
void avgPoolGrad(const PoolShape &s, const float *dy, float *dx);
/** dx for max pooling: each window's first maximum gets the window's gradient. */
void maxPoolGrad(const PoolShape &s, const float *dy, const float *x, float *dx);

}  // namespace slimtrain

namespace slimtrain {

/** Training-mode batch norm over the rows of [rows, channels]: batch mean, biased variance, normalised y. */
void batchNormTraining(const float *x, int64_t rows, int64_t channels, const float *gamma, const float *beta,
                       float epsilon, float *y, float *mean, float *variance);
/** Its gradient, including the paths through the batch mean and variance (dmean, dvariance may be null). */
void batchNormTrainingGrad(const float *dy, const float *x, int64_t rows, int64_t channels, const float *gamma,
                           const float *mean, const float *variance, const float *dmean, const float *dvariance,
                           float epsilon, float *dx, float *dgamma, float *dbeta);
/** dx = dy * op'(x): Relu, dy where x > 0 (TensorFlow's ReluGrad); Swish, dy * s (1 + x (1 - s)), s = sigmoid(x). */
void unaryGrad(UnaryGradOp op, const float *dy, const float *x, float *dx, int64_t size);
/** y = min(max(x, lo), hi) (ClipByValue). */
void clip(const float *x, float lo, float hi, float *y, int64_t size);
/** dx = dy where lo <= x <= hi (lo < x with openBelow), else 0: ClipByValue's gradient, and Relu6's (0 < x <= 6). */
void clipGrad(const float *dy, const float *x, float lo, float hi, bool openBelow, float *dx, int64_t size);

/** Copies box[] elements from src at srcAt[] to dst at dstAt[] (4-D, row-major). */
/** y = x with its axes permuted: y's axis d is x's axis perm[d] (rank 1-6). */
void transpose(const float *x, const int64_t *inShape, const int *perm, int rank, float *y);
/**
 * Nearest-neighbour resize of NHWC x [batch, inH, inW, channels]: output pixel (r, c)
 * is input pixel (rows[r], cols[c]); the gradient adds each output pixel's dy into the
 * input pixel it came from (dx zeroed first).
 */
void resizeNearest(const float *x, const int shape[4], const int *rows, int outH, const int *cols, int outW, float *y);
void resizeNearestGrad(const float *dy, const int shape[4], const int *rows, int outH, const int *cols, int outW, float *dx);
/** softmax over the last axis of x viewed as [rows, n] */
void softmax(const float *x, int64_t rows, int64_t n, float *y);
void copyBox(const float *src, const int srcShape[4], const int srcAt[4], float *dst, const int dstShape[4],
             const int dstAt[4], const int box[4]);
/** y = value everywhere, x at before[] (Pad with a constant). */
void padConstant(const float *x, const int inShape[4], const int before[4], float value, float *y, const int outShape[4]);

}  // namespace slimtrain
