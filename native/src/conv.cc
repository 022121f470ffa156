// Convolutions on oneDNN, in TensorFlow.js's layouts: NHWC activations, HWIO
// filters and, for depthwise convolutions, [h, w, channels, multiplier] filters
// (a grouped convolution with one input channel per group). oneDNN picks the weight
// layout it runs fastest; we reorder to and from the user's layout. Primitives are
// cached per shape, so a training loop builds each one once.
#include "kernels.h"

#include <dnnl.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace slimtrain {
namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::engine &cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream &cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

memory::desc activations(int n, int c, int h, int w) {
  return memory::desc({n, c, h, w}, dt::f32, tag::nhwc);
}

memory::dims weightDims(const ConvShape &s) {
  if (!s.depthwise) return {s.outChannels, s.inChannels, s.filterHeight, s.filterWidth};
  return {s.inChannels, s.outChannels / s.inChannels, 1, s.filterHeight, s.filterWidth};
}

/** The filter as TensorFlow.js stores it. */
memory::desc userWeights(const ConvShape &s) {
  if (!s.depthwise) return memory::desc(weightDims(s), dt::f32, tag::hwio);
  const memory::dim c = s.inChannels, m = s.outChannels / s.inChannels;
  const memory::dim kw = s.filterWidth, kh = s.filterHeight;
  // [h, w, c, m]: group stride m, output-in-group stride 1; the input-in-group dim has size 1
  return memory::desc(weightDims(s), dt::f32, memory::dims{m, 1, kh * kw * c * m, kw * c * m, c * m});
}

memory::desc anyWeights(const ConvShape &s) { return memory::desc(weightDims(s), dt::f32, tag::any); }

struct Geometry {
  memory::dims strides, dilations, padLeft, padRight;
};

Geometry geometry(const ConvShape &s) {
  // oneDNN counts dilation from 0 and wants the bottom/right padding that makes the
  // output size come out exactly; a 'valid' stride leaving rows unused gives a negative one
  const int effH = (s.filterHeight - 1) * s.dilationHeight + 1;
  const int effW = (s.filterWidth - 1) * s.dilationWidth + 1;
  const int padBottom = (s.outHeight - 1) * s.strideHeight + effH - s.inHeight - s.padTop;
  const int padRight = (s.outWidth - 1) * s.strideWidth + effW - s.inWidth - s.padLeft;
  return {{s.strideHeight, s.strideWidth},
          {s.dilationHeight - 1, s.dilationWidth - 1},
          {s.padTop, s.padLeft},
          {padBottom, padRight}};
}

dnnl::convolution_forward::desc forwardDesc(const ConvShape &s, bool bias) {
  const Geometry g = geometry(s);
  const auto src = activations(s.batch, s.inChannels, s.inHeight, s.inWidth);
  const auto dst = activations(s.batch, s.outChannels, s.outHeight, s.outWidth);
  if (bias) {
    const memory::desc biasDesc({s.outChannels}, dt::f32, tag::x);
    return {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, anyWeights(s), biasDesc, dst,
            g.strides, g.dilations, g.padLeft, g.padRight};
  }
  return {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, anyWeights(s), dst,
          g.strides, g.dilations, g.padLeft, g.padRight};
}

std::string key(const char *op, const ConvShape &s, int extra1, float extra2) {
  std::string k(op);
  for (int v : {s.batch, s.inHeight, s.inWidth, s.inChannels, s.outHeight, s.outWidth, s.outChannels,
                s.filterHeight, s.filterWidth, s.strideHeight, s.strideWidth, s.dilationHeight,
                s.dilationWidth, s.padTop, s.padLeft, s.depthwise ? 1 : 0, extra1}) {
    k += ',' + std::to_string(v);
  }
  return k + ',' + std::to_string(extra2);
}

/** One cached primitive with the weight reorder between the user's and its layout. */
struct Entry {
  dnnl::primitive primitive;
  memory::desc weights;  // the layout the primitive wants
  bool reorderWeights = false;
  dnnl::reorder toPrimitive, toUser;  // user -> primitive, primitive -> user
  std::unique_ptr<memory> weightBuffer;
  std::string impl;
};

std::mutex cacheMutex;
std::unordered_map<std::string, std::unique_ptr<Entry>> cache;

Entry &prepare(const std::string &k, const ConvShape &s, const std::function<void(Entry &)> &build) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  auto it = cache.find(k);
  if (it != cache.end()) return *it->second;
  auto entry = std::make_unique<Entry>();
  build(*entry);
  const auto user = userWeights(s);
  entry->reorderWeights = entry->weights != user;
  if (entry->reorderWeights) {
    entry->weightBuffer = std::make_unique<memory>(entry->weights, cpuEngine());
    entry->toPrimitive = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), user, cpuEngine(), entry->weights));
    entry->toUser = dnnl::reorder(dnnl::reorder::primitive_desc(cpuEngine(), entry->weights, cpuEngine(), user));
  }
  return *cache.emplace(k, std::move(entry)).first->second;
}

dnnl::algorithm eltwise(Activation a) {
  switch (a) {
    case Activation::Relu: return dnnl::algorithm::eltwise_relu;
    case Activation::Relu6: return dnnl::algorithm::eltwise_clip;
    case Activation::Elu: return dnnl::algorithm::eltwise_elu;
    case Activation::LeakyRelu: return dnnl::algorithm::eltwise_relu;
    case Activation::Sigmoid: return dnnl::algorithm::eltwise_logistic;
    default: return dnnl::algorithm::undef;
  }
}

memory wrap(const memory::desc &d, const float *data) {
  return memory(d, cpuEngine(), const_cast<float *>(data));
}

/** The user's weights in the primitive's layout (reordered into the entry's buffer when they differ). */
memory weightsFor(Entry &e, const ConvShape &s, const float *w) {
  memory user = wrap(userWeights(s), w);
  if (!e.reorderWeights) return user;
  e.toPrimitive.execute(cpuStream(), user, *e.weightBuffer);
  return *e.weightBuffer;
}

}  // namespace

std::string convForward(const ConvShape &s, const float *x, const float *w, const float *bias, float *y,
                        Activation act, float alpha) {
  Entry &e = prepare(key("fwd", s, static_cast<int>(act) * 2 + (bias ? 1 : 0), alpha), s, [&](Entry &entry) {
    dnnl::primitive_attr attr;
    if (act != Activation::Linear) {
      dnnl::post_ops ops;
      const float a = act == Activation::LeakyRelu ? alpha : act == Activation::Elu ? 1.f : 0.f;
      const float b = act == Activation::Relu6 ? 6.f : 0.f;
      ops.append_eltwise(1.f, eltwise(act), a, b);
      attr.set_post_ops(ops);
    }
    dnnl::convolution_forward::primitive_desc pd(forwardDesc(s, bias != nullptr), attr, cpuEngine());
    entry.primitive = dnnl::convolution_forward(pd);
    entry.weights = pd.weights_desc();
    entry.impl = pd.impl_info_str();
  });
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, wrap(activations(s.batch, s.inChannels, s.inHeight, s.inWidth), x)},
      {DNNL_ARG_WEIGHTS, weightsFor(e, s, w)},
      {DNNL_ARG_DST, wrap(activations(s.batch, s.outChannels, s.outHeight, s.outWidth), y)}};
  if (bias) args.emplace(DNNL_ARG_BIAS, wrap(memory::desc({s.outChannels}, dt::f32, tag::x), bias));
  e.primitive.execute(cpuStream(), args);
  cpuStream().wait();
  return e.impl;
}

std::string convBackwardData(const ConvShape &s, const float *dy, const float *w, float *dx) {
  Entry &e = prepare(key("bwd_data", s, 0, 0), s, [&](Entry &entry) {
    const Geometry g = geometry(s);
    dnnl::convolution_forward::primitive_desc hint(forwardDesc(s, false), cpuEngine());
    dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct,
                                            activations(s.batch, s.inChannels, s.inHeight, s.inWidth), anyWeights(s),
                                            activations(s.batch, s.outChannels, s.outHeight, s.outWidth), g.strides,
                                            g.dilations, g.padLeft, g.padRight);
    dnnl::convolution_backward_data::primitive_desc pd(d, cpuEngine(), hint);
    entry.primitive = dnnl::convolution_backward_data(pd);
    entry.weights = pd.weights_desc();
    entry.impl = pd.impl_info_str();
  });
  e.primitive.execute(cpuStream(),
                      {{DNNL_ARG_DIFF_DST, wrap(activations(s.batch, s.outChannels, s.outHeight, s.outWidth), dy)},
                       {DNNL_ARG_WEIGHTS, weightsFor(e, s, w)},
                       {DNNL_ARG_DIFF_SRC, wrap(activations(s.batch, s.inChannels, s.inHeight, s.inWidth), dx)}});
  cpuStream().wait();
  return e.impl;
}

std::string convBackwardWeights(const ConvShape &s, const float *x, const float *dy, float *dw) {
  Entry &e = prepare(key("bwd_weights", s, 0, 0), s, [&](Entry &entry) {
    const Geometry g = geometry(s);
    dnnl::convolution_forward::primitive_desc hint(forwardDesc(s, false), cpuEngine());
    dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct,
                                               activations(s.batch, s.inChannels, s.inHeight, s.inWidth),
                                               anyWeights(s),
                                               activations(s.batch, s.outChannels, s.outHeight, s.outWidth),
                                               g.strides, g.dilations, g.padLeft, g.padRight);
    dnnl::convolution_backward_weights::primitive_desc pd(d, cpuEngine(), hint);
    entry.primitive = dnnl::convolution_backward_weights(pd);
    entry.weights = pd.diff_weights_desc();
    entry.impl = pd.impl_info_str();
  });
  memory user = wrap(userWeights(s), dw);
  memory out = e.reorderWeights ? *e.weightBuffer : user;
  e.primitive.execute(cpuStream(),
                      {{DNNL_ARG_SRC, wrap(activations(s.batch, s.inChannels, s.inHeight, s.inWidth), x)},
                       {DNNL_ARG_DIFF_DST, wrap(activations(s.batch, s.outChannels, s.outHeight, s.outWidth), dy)},
                       {DNNL_ARG_DIFF_WEIGHTS, out}});
  if (e.reorderWeights) e.toUser.execute(cpuStream(), out, user);
  cpuStream().wait();
  return e.impl;
}

std::string onednnVersion() {
  const dnnl_version_t *v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
         (v->cpu_runtime == DNNL_RUNTIME_OMP ? " (OpenMP)" : "");
}

}  // namespace slimtrain
