// ReferenceOps: f32 implementations of the small operations of the V4
// reference forward (see ReferenceOps.h).
#include "tlv4/ReferenceOps.h"

#include "tlv4/Config.h"
#include "tlrt/LowPrecision.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace tlv4::ref {

Vec rmsNorm(const Vec &x, const Vec &weight, float eps) {
  if (!weight.empty() && weight.size() != x.size())
    throw std::runtime_error(fmt::format(
        "rmsNorm: weight has {} elements, input {}", weight.size(), x.size()));
  double sumSq = 0.0;
  for (float v : x)
    sumSq += double(v) * double(v);
  float inv = 1.0f / std::sqrt(float(sumSq / double(x.size())) + eps);
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = x[i] * inv * (weight.empty() ? 1.0f : weight[i]);
  return y;
}

void rmsNormSlicesInPlace(Vec &x, int64_t width, float eps) {
  for (size_t begin = 0; begin + width <= x.size(); begin += width) {
    double sumSq = 0.0;
    for (int64_t i = 0; i < width; ++i)
      sumSq += double(x[begin + i]) * double(x[begin + i]);
    float inv = 1.0f / std::sqrt(float(sumSq / double(width)) + eps);
    for (int64_t i = 0; i < width; ++i)
      x[begin + i] *= inv;
  }
}

void softmaxInPlace(Vec &x) {
  if (x.empty())
    return;
  float maxV = *std::max_element(x.begin(), x.end());
  double sum = 0.0;
  for (float &v : x) {
    v = std::exp(v - maxV);
    sum += v;
  }
  for (float &v : x)
    v = float(v / sum);
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float silu(float x) { return x * sigmoid(x); }

float sqrtSoftplus(float x) {
  // softplus(x) = log(1 + e^x), written to stay finite for large |x|.
  float softplus = x > 20.0f ? x : std::log1p(std::exp(x));
  return std::sqrt(softplus);
}

std::vector<float> ropeFrequencies(const RopeParams &p) {
  if (p.ropeDim <= 0 || p.ropeDim % 2)
    throw std::runtime_error(
        fmt::format("RoPE dimension must be even and positive, got {}",
                    p.ropeDim));
  // f32 throughout, in the official code's order of operations:
  // 1 / theta^(2i / dim), then the YaRN blend freq / factor * (1 - smooth) +
  // freq * smooth with smooth = 1 - clamp((i - low) / (high - low), 0, 1).
  const int64_t half = p.ropeDim / 2;
  const float dimF = float(p.ropeDim);
  const float theta = float(p.theta);
  std::vector<float> freqs(half);
  for (int64_t i = 0; i < half; ++i)
    freqs[i] = 1.0f / std::pow(theta, float(2 * i) / dimF);
  if (!p.yarn || p.factor <= 1.0 || p.originalMaxPositions <= 0)
    return freqs;
  // YaRN: pairs rotating fewer than beta_slow times over the original
  // context are interpolated (divided by factor), pairs rotating more than
  // beta_fast times are kept, with a linear ramp between. The correction
  // dimensions are computed in double (Python floats in the official code).
  const double dim = double(p.ropeDim);
  auto correctionDim = [&](double rotations) {
    return dim *
           std::log(double(p.originalMaxPositions) / (rotations * 2 * M_PI)) /
           (2 * std::log(p.theta));
  };
  double low = std::max(std::floor(correctionDim(p.betaFast)), 0.0);
  double high = std::min(std::ceil(correctionDim(p.betaSlow)), dim - 1);
  if (low == high)
    high += 0.001;
  const float lowF = float(low), spanF = float(high - low), factor = float(p.factor);
  for (int64_t i = 0; i < half; ++i) {
    float ramp = std::clamp((float(i) - lowF) / spanF, 0.0f, 1.0f);
    float smooth = 1.0f - ramp;
    freqs[i] = freqs[i] / factor * (1.0f - smooth) + freqs[i] * smooth;
  }
  return freqs;
}

RopeParams ropeParamsForLayer(const Config &config, int64_t layer) {
  RopeParams p;
  p.ropeDim = config.qkRopeHeadDim;
  if (config.layerKind(layer) == LayerKind::Window) {
    p.theta = config.ropeTheta;
    return p;
  }
  p.theta = config.compressRopeTheta;
  if (config.ropeScaling && config.ropeScaling->type == "yarn") {
    p.yarn = true;
    p.factor = config.ropeScaling->factor;
    p.betaFast = config.ropeScaling->betaFast;
    p.betaSlow = config.ropeScaling->betaSlow;
    p.originalMaxPositions = config.ropeScaling->originalMaxPositionEmbeddings;
  }
  return p;
}

RopeCosSin ropeCosSin(const std::vector<float> &freqs, int64_t pos, int64_t i) {
  const float angle = float(pos) * freqs[i];
  return {float(std::cos(double(angle))), float(std::sin(double(angle)))};
}

void applyRopeInPlace(float *x, const std::vector<float> &freqs, int64_t pos,
                      bool inverse, RopePairing pairing) {
  const int64_t half = int64_t(freqs.size());
  for (int64_t i = 0; i < half; ++i) {
    RopeCosSin t = ropeCosSin(freqs, pos, i);
    float c = t.cos;
    float s = inverse ? -t.sin : t.sin;
    float *a = pairing == RopePairing::Interleaved ? &x[2 * i] : &x[i];
    float *b = pairing == RopePairing::Interleaved ? &x[2 * i + 1] : &x[i + half];
    float re = *a, im = *b;
    *a = re * c - im * s;
    *b = re * s + im * c;
  }
}

void hadamardInPlace(float *x, int64_t n) {
  if (n <= 0 || (n & (n - 1)))
    throw std::runtime_error(
        fmt::format("Hadamard transform needs a power-of-two length, got {}", n));
  for (int64_t len = 1; len < n; len <<= 1)
    for (int64_t i = 0; i < n; i += 2 * len)
      for (int64_t j = i; j < i + len; ++j) {
        float a = x[j], b = x[j + len];
        x[j] = a + b;
        x[j + len] = a - b;
      }
  float scale = 1.0f / std::sqrt(float(n));
  for (int64_t i = 0; i < n; ++i)
    x[i] *= scale;
}

float roundToE4M3(float x) { return tlrt::e4m3ToF32(tlrt::f32ToE4M3(x)); }
float roundToE2M1(float x) { return tlrt::e2m1ToF32(tlrt::f32ToE2M1(x)); }

namespace {
template <typename Round>
void fakeQuantGroups(float *x, int64_t n, int64_t group, float fmax,
                     Round round) {
  for (int64_t begin = 0; begin < n; begin += group) {
    int64_t end = std::min(n, begin + group);
    float amax = 0.0f;
    for (int64_t i = begin; i < end; ++i)
      amax = std::max(amax, std::fabs(x[i]));
    float scale = tlrt::ue8m0ToF32(tlrt::ue8m0QuantScale(amax, fmax));
    for (int64_t i = begin; i < end; ++i)
      x[i] = round(x[i] / scale) * scale;
  }
}
} // namespace

void fakeQuantFp8InPlace(float *x, int64_t n, int64_t group) {
  fakeQuantGroups(x, n, group, tlrt::kE4M3Max, roundToE4M3);
}

void fakeQuantFp4InPlace(float *x, int64_t n, int64_t group) {
  fakeQuantGroups(x, n, group, tlrt::kE2M1Max, roundToE2M1);
}

ActQuant actQuant(const Vec &x, int64_t block, bool ue8m0Scales) {
  ActQuant q;
  q.block = block;
  q.codes.resize(x.size());
  for (size_t begin = 0; begin < x.size(); begin += block) {
    size_t end = std::min(x.size(), begin + size_t(block));
    float amax = 0.0f;
    for (size_t i = begin; i < end; ++i)
      amax = std::max(amax, std::fabs(x[i]));
    float scale =
        ue8m0Scales
            ? tlrt::ue8m0ToF32(tlrt::ue8m0QuantScale(amax, tlrt::kE4M3Max))
            : std::max(amax, 1e-4f) / tlrt::kE4M3Max;
    q.scales.push_back(scale);
    for (size_t i = begin; i < end; ++i)
      q.codes[i] = tlrt::f32ToE4M3(x[i] / scale);
  }
  return q;
}

Vec ActQuant::dequantized() const {
  Vec y(codes.size());
  for (size_t i = 0; i < codes.size(); ++i)
    y[i] = tlrt::e4m3ToF32(codes[i]) * scales[i / block];
  return y;
}

namespace {
thread_local Accumulation tAccumulation = Accumulation::F32;
} // namespace

AccumulationScope::AccumulationScope(Accumulation a) : previous_(tAccumulation) {
  tAccumulation = a;
}
AccumulationScope::~AccumulationScope() { tAccumulation = previous_; }

float dot(const float *a, const float *b, int64_t n) {
  if (tAccumulation == Accumulation::F64) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
      s += double(a[i]) * double(b[i]);
    return float(s);
  }
  // Four partial sums: a fixed order (deterministic) that still lets the
  // compiler vectorise.
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i)
    s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

float roundToBf16(float x) { return tlrt::bf16ToF32(tlrt::f32ToBF16(x)); }

Vec Linear::apply(const Vec &x) const { return applyRows(x, 0, out); }

Vec Linear::applyRows(const Vec &x, int64_t rowBegin, int64_t rows) const {
  if (int64_t(x.size()) != in)
    throw std::runtime_error(fmt::format(
        "{}: input has {} elements, the weight expects {}", name, x.size(), in));
  const Vec quantized =
      quantizedActivations
          ? actQuant(x, kActQuantBlock, ue8m0ActScales).dequantized()
          : Vec();
  Vec rounded;
  if (!quantizedActivations && bf16Input) {
    rounded = x;
    for (float &v : rounded)
      v = roundToBf16(v);
  }
  const float *input = quantizedActivations ? quantized.data()
                       : bf16Input          ? rounded.data()
                                            : x.data();
  Vec y(rows);
  for (int64_t r = 0; r < rows; ++r)
    y[r] = dot(&weight[(rowBegin + r) * in], input, in);
  return y;
}

} // namespace tlv4::ref
