// The N-API surface of the native kernels: thin argument checking around kernels.h.
// Every buffer is checked against the shape it is used with, so a wrong call from
// JavaScript is an exception, never a write out of bounds.
#include <napi.h>
#include <malloc.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>

#include <string>
#include <vector>

#include "kernels.h"

namespace {

using namespace slimtrain;

/** argument i as a Float32Array of any length */
Napi::Float32Array anyFloats(const Napi::CallbackInfo &info, size_t i, const char *what) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Float32Array");
  }
  return info[i].As<Napi::Float32Array>();
}

/** argument i as a Uint8Array of `length` elements (TensorFlow.js's bool) */
Napi::Uint8Array bytes(const Napi::CallbackInfo &info, size_t i, size_t length, const char *what) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      info[i].As<Napi::Uint8Array>().ElementLength() != length) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Uint8Array of " + std::to_string(length));
  }
  return info[i].As<Napi::Uint8Array>();
}

Napi::Float32Array floats(const Napi::CallbackInfo &info, size_t i, size_t length, const char *what) {
  auto a = anyFloats(info, i, what);
  if (a.ElementLength() != length) {
    throw Napi::RangeError::New(info.Env(), std::string(what) + " has " + std::to_string(a.ElementLength()) +
                                                " elements, expected " + std::to_string(length));
  }
  return a;
}

const float *optionalFloats(const Napi::CallbackInfo &info, size_t i, size_t length, const char *what) {
  if (info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  return floats(info, i, length, what).Data();
}

int integer(const Napi::CallbackInfo &info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

ConvShape convShape(const Napi::CallbackInfo &info, size_t i) {
  auto a = info[i].As<Napi::Int32Array>();
  if (a.ElementLength() != 16) throw Napi::RangeError::New(info.Env(), "conv shape must have 16 entries");
  const int32_t *v = a.Data();
  ConvShape s{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15] != 0};
  for (int k = 0; k < 13; k++) {
    if (v[k] <= 0) throw Napi::RangeError::New(info.Env(), "conv shape entry " + std::to_string(k) + " must be positive");
  }
  if (s.depthwise && s.outChannels % s.inChannels != 0) {
    throw Napi::RangeError::New(info.Env(), "depthwise output channels must be a multiple of input channels");
  }
  return s;
}

size_t inputSize(const ConvShape &s) { return size_t(s.batch) * s.inHeight * s.inWidth * s.inChannels; }
size_t outputSize(const ConvShape &s) { return size_t(s.batch) * s.outHeight * s.outWidth * s.outChannels; }
size_t filterSize(const ConvShape &s) {
  return size_t(s.filterHeight) * s.filterWidth * (s.depthwise ? s.outChannels : s.inChannels * s.outChannels);
}

Napi::Value ConvForward(const Napi::CallbackInfo &info) {
  const ConvShape s = convShape(info, 0);
  const float *x = floats(info, 1, inputSize(s), "x").Data();
  const float *w = floats(info, 2, filterSize(s), "filter").Data();
  const float *bias = optionalFloats(info, 3, s.outChannels, "bias");
  float *y = floats(info, 4, outputSize(s), "output").Data();
  const auto act = static_cast<Activation>(integer(info, 5));
  const float alpha = info[6].As<Napi::Number>().FloatValue();
  return Napi::String::New(info.Env(), convForward(s, x, w, bias, y, act, alpha));
}

Napi::Value ConvBackwardData(const Napi::CallbackInfo &info) {
  const ConvShape s = convShape(info, 0);
  const float *dy = floats(info, 1, outputSize(s), "dy").Data();
  const float *w = floats(info, 2, filterSize(s), "filter").Data();
  float *dx = floats(info, 3, inputSize(s), "dx").Data();
  return Napi::String::New(info.Env(), convBackwardData(s, dy, w, dx));
}

Napi::Value ConvBackwardWeights(const Napi::CallbackInfo &info) {
  const ConvShape s = convShape(info, 0);
  const float *x = floats(info, 1, inputSize(s), "x").Data();
  const float *dy = floats(info, 2, outputSize(s), "dy").Data();
  float *dw = floats(info, 3, filterSize(s), "filter gradient").Data();
  return Napi::String::New(info.Env(), convBackwardWeights(s, x, dy, dw));
}

// batchMatMul(a, b, c, batchA, batchB, m, n, k, transposeA, transposeB)
Napi::Value BatchMatMul(const Napi::CallbackInfo &info) {
  const int batchA = integer(info, 3), batchB = integer(info, 4);
  const int m = integer(info, 5), n = integer(info, 6), k = integer(info, 7);
  if (batchA != batchB && batchA != 1 && batchB != 1) {
    throw Napi::RangeError::New(info.Env(), "batch sizes must match or be 1");
  }
  const int batch = batchA > batchB ? batchA : batchB;
  const float *a = floats(info, 0, size_t(batchA) * m * k, "a").Data();
  const float *b = floats(info, 1, size_t(batchB) * k * n, "b").Data();
  float *c = floats(info, 2, size_t(batch) * m * n, "c").Data();
  batchMatMul(a, b, c, batchA, batchB, m, n, k, info[8].ToBoolean(), info[9].ToBoolean());
  return info.Env().Undefined();
}

// biasActivation(y, bias | null, channels, activation, alpha): in place
Napi::Value BiasActivation(const Napi::CallbackInfo &info) {
  auto y = info[0].As<Napi::Float32Array>();
  const int channels = integer(info, 2);
  if (channels <= 0 || y.ElementLength() % channels != 0) {
    throw Napi::RangeError::New(info.Env(), "output size must be a multiple of the channel count");
  }
  const float *bias = optionalFloats(info, 1, channels, "bias");
  biasActivation(y.Data(), y.ElementLength(), bias, channels, static_cast<Activation>(integer(info, 3)),
                 info[4].As<Napi::Number>().FloatValue());
  return info.Env().Undefined();
}

std::vector<int64_t> int64s(const Napi::CallbackInfo &info, size_t i) {
  auto a = info[i].As<Napi::Int32Array>();
  return std::vector<int64_t>(a.Data(), a.Data() + a.ElementLength());
}

/** Checks that `strides` over `shape` stay inside an operand of `length` elements. */
void checkStrides(const Napi::CallbackInfo &info, const std::vector<int64_t> &shape, const std::vector<int64_t> &strides,
                  size_t length, const char *what) {
  if (strides.size() != shape.size()) throw Napi::RangeError::New(info.Env(), std::string(what) + ": strides and shape differ in rank");
  int64_t last = 0;
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] <= 0 || strides[d] < 0) throw Napi::RangeError::New(info.Env(), std::string(what) + ": bad shape or stride");
    last += (shape[d] - 1) * strides[d];
  }
  if (size_t(last) >= length || (strides.back() != 0 && strides.back() != 1)) {
    throw Napi::RangeError::New(info.Env(), std::string(what) + ": strides reach outside the operand");
  }
}

// binary(op, a, aStrides, b, bStrides, out, shape)
Napi::Value Binary(const Napi::CallbackInfo &info) {
  const auto shape = int64s(info, 6), aStrides = int64s(info, 2), bStrides = int64s(info, 4);
  if (shape.empty()) throw Napi::RangeError::New(info.Env(), "binary: rank must be at least 1");
  size_t size = 1;
  for (auto d : shape) size *= size_t(d);
  auto a = info[1].As<Napi::Float32Array>(), b = info[3].As<Napi::Float32Array>();
  checkStrides(info, shape, aStrides, a.ElementLength(), "a");
  checkStrides(info, shape, bStrides, b.ElementLength(), "b");
  float *out = floats(info, 5, size, "out").Data();
  binary(static_cast<BinaryOp>(integer(info, 0)), a.Data(), aStrides.data(), b.Data(), bStrides.data(), out,
         shape.data(), int(shape.size()));
  return info.Env().Undefined();
}

// compare(op, a, aStrides, b, bStrides, out (Uint8Array), shape): as binary
Napi::Value Compare(const Napi::CallbackInfo &info) {
  const auto shape = int64s(info, 6), aStrides = int64s(info, 2), bStrides = int64s(info, 4);
  if (shape.empty()) throw Napi::RangeError::New(info.Env(), "compare: rank must be at least 1");
  size_t size = 1;
  for (auto d : shape) size *= size_t(d);
  auto a = anyFloats(info, 1, "a"), b = anyFloats(info, 3, "b");
  checkStrides(info, shape, aStrides, a.ElementLength(), "a");
  checkStrides(info, shape, bStrides, b.ElementLength(), "b");
  compare(static_cast<CompareOp>(integer(info, 0)), a.Data(), aStrides.data(), b.Data(), bStrides.data(),
          bytes(info, 5, size, "out").Data(), shape.data(), int(shape.size()));
  return info.Env().Undefined();
}

// select(condition (Uint8Array), t, e, out), all of one size
Napi::Value Select(const Napi::CallbackInfo &info) {
  auto t = anyFloats(info, 1, "t");
  const size_t size = t.ElementLength();
  select(bytes(info, 0, size, "condition").Data(), t.Data(), floats(info, 2, size, "e").Data(),
         floats(info, 3, size, "out").Data(), int64_t(size));
  return info.Env().Undefined();
}

// unary(op, x, y, alpha)
Napi::Value Unary(const Napi::CallbackInfo &info) {
  auto x = info[1].As<Napi::Float32Array>();
  float *y = floats(info, 2, x.ElementLength(), "y").Data();
  unary(static_cast<UnaryOp>(integer(info, 0)), x.Data(), y, x.ElementLength(), info[3].As<Napi::Number>().FloatValue());
  return info.Env().Undefined();
}

// reduceSum(x, outer, reduce, inner, out, scale)
Napi::Value ReduceSum(const Napi::CallbackInfo &info) {
  const int64_t outer = integer(info, 1), reduce = integer(info, 2), inner = integer(info, 3);
  if (outer <= 0 || reduce <= 0 || inner <= 0) throw Napi::RangeError::New(info.Env(), "reduceSum: sizes must be positive");
  const float *x = floats(info, 0, size_t(outer * reduce * inner), "x").Data();
  float *out = floats(info, 4, size_t(outer * inner), "out").Data();
  reduceSum(x, outer, reduce, inner, out, info[5].As<Napi::Number>().FloatValue());
  return info.Env().Undefined();
}

// batchNorm(x, channels, mean, variance, offset | null, scale | null, epsilon, y)
Napi::Value BatchNorm(const Napi::CallbackInfo &info) {
  auto x = info[0].As<Napi::Float32Array>();
  const int channels = integer(info, 1);
  if (channels <= 0 || x.ElementLength() % channels != 0) {
    throw Napi::RangeError::New(info.Env(), "batchNorm: size must be a multiple of the channel count");
  }
  batchNorm(x.Data(), x.ElementLength(), channels, floats(info, 2, channels, "mean").Data(),
            floats(info, 3, channels, "variance").Data(), optionalFloats(info, 4, channels, "offset"),
            optionalFloats(info, 5, channels, "scale"), info[6].As<Napi::Number>().FloatValue(),
            floats(info, 7, x.ElementLength(), "y").Data());
  return info.Env().Undefined();
}

PoolShape poolShape(const Napi::CallbackInfo &info, size_t i) {
  auto a = info[i].As<Napi::Int32Array>();
  if (a.ElementLength() != 12) throw Napi::RangeError::New(info.Env(), "pool shape must have 12 entries");
  const int32_t *v = a.Data();
  for (int k = 0; k < 10; k++) {
    if (v[k] <= 0) throw Napi::RangeError::New(info.Env(), "pool shape entry " + std::to_string(k) + " must be positive");
  }
  return PoolShape{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
}

size_t poolIn(const PoolShape &s) { return size_t(s.batch) * s.inHeight * s.inWidth * s.channels; }
size_t poolOut(const PoolShape &s) { return size_t(s.batch) * s.outHeight * s.outWidth * s.channels; }

// maxPool(shape, x, y)
Napi::Value MaxPool(const Napi::CallbackInfo &info) {
  const PoolShape s = poolShape(info, 0);
  maxPool(s, floats(info, 1, poolIn(s), "x").Data(), floats(info, 2, poolOut(s), "y").Data());
  return info.Env().Undefined();
}

// maxPoolGrad(shape, dy, x, dx)
// avgPool(shape, x, y)
Napi::Value AvgPool(const Napi::CallbackInfo &info) {
  const PoolShape s = poolShape(info, 0);
  avgPool(s, floats(info, 1, poolIn(s), "x").Data(), floats(info, 2, poolOut(s), "y").Data());
  return info.Env().Undefined();
}

// avgPoolGrad(shape, dy, dx)
Napi::Value AvgPoolGrad(const Napi::CallbackInfo &info) {
  const PoolShape s = poolShape(info, 0);
  avgPoolGrad(s, floats(info, 1, poolOut(s), "dy").Data(), floats(info, 2, poolIn(s), "dx").Data());
  return info.Env().Undefined();
}

Napi::Value MaxPoolGrad(const Napi::CallbackInfo &info) {
  const PoolShape s = poolShape(info, 0);
  maxPoolGrad(s, floats(info, 1, poolOut(s), "dy").Data(), floats(info, 2, poolIn(s), "x").Data(),
              floats(info, 3, poolIn(s), "dx").Data());
  return info.Env().Undefined();
}

int64_t rowsOf(const Napi::CallbackInfo &info, const Napi::Float32Array &x, int channels) {
  if (channels <= 0 || x.ElementLength() % channels != 0) {
    throw Napi::RangeError::New(info.Env(), "size must be a multiple of the channel count");
  }
  return int64_t(x.ElementLength() / channels);
}

// batchNormTraining(x, channels, gamma | null, beta | null, epsilon, y, mean, variance)
Napi::Value BatchNormTraining(const Napi::CallbackInfo &info) {
  auto x = info[0].As<Napi::Float32Array>();
  const int channels = integer(info, 1);
  const int64_t rows = rowsOf(info, x, channels);
  batchNormTraining(x.Data(), rows, channels, optionalFloats(info, 2, channels, "gamma"),
                    optionalFloats(info, 3, channels, "beta"), info[4].As<Napi::Number>().FloatValue(),
                    floats(info, 5, x.ElementLength(), "y").Data(), floats(info, 6, channels, "mean").Data(),
                    floats(info, 7, channels, "variance").Data());
  return info.Env().Undefined();
}

// batchNormTrainingGrad(dy, x, channels, gamma | null, mean, variance, dmean | null, dvariance | null, epsilon,
//                       dx, dgamma, dbeta)
Napi::Value BatchNormTrainingGrad(const Napi::CallbackInfo &info) {
  auto x = info[1].As<Napi::Float32Array>();
  const int channels = integer(info, 2);
  const int64_t rows = rowsOf(info, x, channels);
  batchNormTrainingGrad(floats(info, 0, x.ElementLength(), "dy").Data(), x.Data(), rows, channels,
                        optionalFloats(info, 3, channels, "gamma"), floats(info, 4, channels, "mean").Data(),
                        floats(info, 5, channels, "variance").Data(), optionalFloats(info, 6, channels, "dmean"),
                        optionalFloats(info, 7, channels, "dvariance"), info[8].As<Napi::Number>().FloatValue(),
                        floats(info, 9, x.ElementLength(), "dx").Data(), floats(info, 10, channels, "dgamma").Data(),
                        floats(info, 11, channels, "dbeta").Data());
  return info.Env().Undefined();
}

// unaryGrad(op, dy, x, dx)
Napi::Value UnaryGrad(const Napi::CallbackInfo &info) {
  auto x = anyFloats(info, 2, "x");
  unaryGrad(static_cast<UnaryGradOp>(integer(info, 0)), floats(info, 1, x.ElementLength(), "dy").Data(), x.Data(),
            floats(info, 3, x.ElementLength(), "dx").Data(), x.ElementLength());
  return info.Env().Undefined();
}

// clip(x, lo, hi, y)
Napi::Value Clip(const Napi::CallbackInfo &info) {
  auto x = anyFloats(info, 0, "x");
  clip(x.Data(), info[1].As<Napi::Number>().FloatValue(), info[2].As<Napi::Number>().FloatValue(),
       floats(info, 3, x.ElementLength(), "y").Data(), x.ElementLength());
  return info.Env().Undefined();
}

// clipGrad(dy, x, lo, hi, openBelow, dx)
Napi::Value ClipGrad(const Napi::CallbackInfo &info) {
  auto x = anyFloats(info, 1, "x");
  clipGrad(floats(info, 0, x.ElementLength(), "dy").Data(), x.Data(), info[2].As<Napi::Number>().FloatValue(),
           info[3].As<Napi::Number>().FloatValue(), info[4].ToBoolean().Value(), floats(info, 5, x.ElementLength(), "dx").Data(),
           x.ElementLength());
  return info.Env().Undefined();
}

/** A 4-D shape (Int32Array of 4 positive sizes) and its element count. */
int64_t shape4(const Napi::CallbackInfo &info, size_t i, int out[4], const char *what) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      info[i].As<Napi::Int32Array>().ElementLength() != 4) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an Int32Array of 4 sizes");
  }
  auto a = info[i].As<Napi::Int32Array>();
  int64_t size = 1;
  for (int k = 0; k < 4; k++) {
    if (a[k] < 0) throw Napi::RangeError::New(info.Env(), std::string(what) + " has a negative size");
    out[k] = a[k];
    size *= a[k];
  }
  return size;
}

/**
 * The arguments (x, inShape, at, outShape, ..., y) of a box copy between two 4-D tensors:
 * the smaller one (the output of a slice, the input otherwise) fits inside the other at `at`.
 */
struct BoxCopy {
  int in[4], at[4], out[4];
  const float *x;
  float *y;
};

BoxCopy boxCopy(const Napi::CallbackInfo &info, bool slice, size_t yAt) {
  BoxCopy b;
  const int64_t inSize = shape4(info, 1, b.in, "inShape");
  shape4(info, 2, b.at, "at");
  const int64_t outSize = shape4(info, 3, b.out, "outShape");
  const int *inner = slice ? b.out : b.in, *outer = slice ? b.in : b.out;
  for (int k = 0; k < 4; k++) {
    if (b.at[k] + inner[k] > outer[k]) throw Napi::RangeError::New(info.Env(), "the box reaches past the larger tensor");
  }
  b.x = floats(info, 0, inSize, "x").Data();
  b.y = floats(info, yAt, outSize, "y").Data();
  return b;
}

const int kOrigin[4] = {0, 0, 0, 0};

// slice(x, inShape, begin, outShape, y): y = x[begin : begin + outShape]
Napi::Value Slice(const Napi::CallbackInfo &info) {
  const BoxCopy b = boxCopy(info, true, 4);
  copyBox(b.x, b.in, b.at, b.y, b.out, kOrigin, b.out);
  return info.Env().Undefined();
}

// place(x, inShape, at, outShape, y): x copied into y at `at`, the rest of y untouched (Concat)
Napi::Value Place(const Napi::CallbackInfo &info) {
  const BoxCopy b = boxCopy(info, false, 4);
  copyBox(b.x, b.in, kOrigin, b.y, b.out, b.at, b.in);
  return info.Env().Undefined();
}

// pad(x, inShape, before, outShape, value, y): y = value, x placed at before
Napi::Value Pad(const Napi::CallbackInfo &info) {
  const BoxCopy b = boxCopy(info, false, 5);
  padConstant(b.x, b.in, b.at, info[4].As<Napi::Number>().FloatValue(), b.y, b.out);
  return info.Env().Undefined();
}

// transpose(x, shape, perm, y): shape is x's, rank 1-6; y's axis d is x's axis perm[d]
Napi::Value Transpose(const Napi::CallbackInfo &info) {
  const auto shape = int64s(info, 1);
  const auto perm = int64s(info, 2);
  const int rank = int(shape.size());
  if (rank < 1 || rank > 6 || perm.size() != shape.size())
    throw Napi::RangeError::New(info.Env(), "transpose: rank 1-6, one perm entry per axis");
  int axes[6];
  bool seen[6] = {false, false, false, false, false, false};
  size_t size = 1;
  for (int d = 0; d < rank; d++) {
    if (perm[d] < 0 || perm[d] >= rank || seen[perm[d]]) throw Napi::RangeError::New(info.Env(), "transpose: perm is not a permutation");
    if (shape[d] <= 0) throw Napi::RangeError::New(info.Env(), "transpose: sizes must be positive");
    seen[perm[d]] = true;
    axes[d] = int(perm[d]);
    size *= size_t(shape[d]);
  }
  const float *x = floats(info, 0, size, "x").Data();
  transpose(x, shape.data(), axes, rank, floats(info, 3, size, "y").Data());
  return info.Env().Undefined();
}

/** the sizes and index tables of a nearest resize; checks every index against the input */
struct NearestResize {
  int shape[4];
  std::vector<int> rows, cols;
};

NearestResize nearestResize(const Napi::CallbackInfo &info, size_t at) {
  NearestResize r;
  const auto shape = int64s(info, at), rows = int64s(info, at + 1), cols = int64s(info, at + 2);
  if (shape.size() != 4 || rows.empty() || cols.empty()) throw Napi::RangeError::New(info.Env(), "resizeNearest: shape is NHWC, tables not empty");
  for (int d = 0; d < 4; d++) {
    if (shape[d] <= 0) throw Napi::RangeError::New(info.Env(), "resizeNearest: sizes must be positive");
    r.shape[d] = int(shape[d]);
  }
  for (auto i : rows) {
    if (i < 0 || i >= shape[1]) throw Napi::RangeError::New(info.Env(), "resizeNearest: a row index is outside the input");
    r.rows.push_back(int(i));
  }
  for (auto i : cols) {
    if (i < 0 || i >= shape[2]) throw Napi::RangeError::New(info.Env(), "resizeNearest: a column index is outside the input");
    r.cols.push_back(int(i));
  }
  return r;
}

// resizeNearest(x, shape (NHWC), rows, cols, y)
Napi::Value ResizeNearest(const Napi::CallbackInfo &info) {
  const NearestResize r = nearestResize(info, 1);
  const size_t in = size_t(r.shape[0]) * r.shape[1] * r.shape[2] * r.shape[3];
  const size_t out = size_t(r.shape[0]) * r.rows.size() * r.cols.size() * r.shape[3];
  resizeNearest(floats(info, 0, in, "x").Data(), r.shape, r.rows.data(), int(r.rows.size()), r.cols.data(), int(r.cols.size()),
                floats(info, 4, out, "y").Data());
  return info.Env().Undefined();
}

// resizeNearestGrad(dy, shape (the input's, NHWC), rows, cols, dx)
Napi::Value ResizeNearestGrad(const Napi::CallbackInfo &info) {
  const NearestResize r = nearestResize(info, 1);
  const size_t in = size_t(r.shape[0]) * r.shape[1] * r.shape[2] * r.shape[3];
  const size_t out = size_t(r.shape[0]) * r.rows.size() * r.cols.size() * r.shape[3];
  resizeNearestGrad(floats(info, 0, out, "dy").Data(), r.shape, r.rows.data(), int(r.rows.size()), r.cols.data(),
                    int(r.cols.size()), floats(info, 4, in, "dx").Data());
  return info.Env().Undefined();
}

// softmax(x, n, y): over the last axis of length n
Napi::Value Softmax(const Napi::CallbackInfo &info) {
  auto x = anyFloats(info, 0, "x");
  const int64_t n = integer(info, 1);
  if (n <= 0 || x.ElementLength() % size_t(n) != 0) throw Napi::RangeError::New(info.Env(), "softmax: n must divide x's length");
  softmax(x.Data(), int64_t(x.ElementLength()) / n, n, floats(info, 2, x.ElementLength(), "y").Data());
  return info.Env().Undefined();
}

Napi::Value Info(const Napi::CallbackInfo &info) {
  auto o = Napi::Object::New(info.Env());
  o.Set("onednn", onednnVersion());
  o.Set("blas", blasInfo());
  o.Set("blasThreads", blasThreads());
  o.Set("threads", omp_get_max_threads());
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Tensor buffers (V8 allocates them with calloc) stay on the heap, where freed ones
  // are reused, rather than in fresh mappings the kernel must fault in on every op.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  exports.Set("convForward", Napi::Function::New(env, ConvForward));
  exports.Set("convBackwardData", Napi::Function::New(env, ConvBackwardData));
  exports.Set("convBackwardWeights", Napi::Function::New(env, ConvBackwardWeights));
  exports.Set("batchMatMul", Napi::Function::New(env, BatchMatMul));
  exports.Set("biasActivation", Napi::Function::New(env, BiasActivation));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("compare", Napi::Function::New(env, Compare));
  exports.Set("select", Napi::Function::New(env, Select));
  exports.Set("reduceSum", Napi::Function::New(env, ReduceSum));
  exports.Set("batchNorm", Napi::Function::New(env, BatchNorm));
  exports.Set("maxPool", Napi::Function::New(env, MaxPool));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  exports.Set("avgPool", Napi::Function::New(env, AvgPool));
  exports.Set("avgPoolGrad", Napi::Function::New(env, AvgPoolGrad));
  exports.Set("batchNormTraining", Napi::Function::New(env, BatchNormTraining));
  exports.Set("batchNormTrainingGrad", Napi::Function::New(env, BatchNormTrainingGrad));
  exports.Set("unaryGrad", Napi::Function::New(env, UnaryGrad));
  exports.Set("clip", Napi::Function::New(env, Clip));
  exports.Set("clipGrad", Napi::Function::New(env, ClipGrad));
  exports.Set("slice", Napi::Function::New(env, Slice));
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("resizeNearest", Napi::Function::New(env, ResizeNearest));
  exports.Set("resizeNearestGrad", Napi::Function::New(env, ResizeNearestGrad));
  exports.Set("pad", Napi::Function::New(env, Pad));
  exports.Set("place", Napi::Function::New(env, Place));
  exports.Set("info", Napi::Function::New(env, Info));
  return exports;
}

}  // namespace

NODE_API_MODULE(slimtrain_native, Init)
