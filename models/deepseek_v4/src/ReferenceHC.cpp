// ReferenceHC: mHC pre/post, Sinkhorn-Knopp split and hc head (see
// ReferenceHC.h).
#include "tlv4/ReferenceHC.h"

#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace tlv4::ref {

HcSplit hcSplitSinkhorn(const Vec &mixes, const Vec &scale, const Vec &base,
                        int64_t hc, int64_t iters, float eps) {
  if (int64_t(mixes.size()) != (2 + hc) * hc || base.size() != mixes.size() ||
      scale.size() < 3)
    throw std::runtime_error(fmt::format(
        "hc split: expected {} mixes, {} base and 3 scales; got {}, {}, {}",
        (2 + hc) * hc, (2 + hc) * hc, mixes.size(), base.size(), scale.size()));
  HcSplit s;
  s.pre.resize(hc);
  s.post.resize(hc);
  for (int64_t i = 0; i < hc; ++i) {
    s.pre[i] = sigmoid(mixes[i] * scale[0] + base[i]) + eps;
    s.post[i] = 2.0f * sigmoid(mixes[hc + i] * scale[1] + base[hc + i]);
  }
  Vec &c = s.comb;
  c.resize(hc * hc);
  for (int64_t i = 0; i < hc; ++i) {
    Vec row(hc);
    for (int64_t j = 0; j < hc; ++j)
      row[j] = mixes[2 * hc + i * hc + j] * scale[2] + base[2 * hc + i * hc + j];
    softmaxInPlace(row);
    for (int64_t j = 0; j < hc; ++j)
      c[i * hc + j] = row[j] + eps;
  }
  // Divides each column (columns = true) or each row of c by its sum + eps.
  auto normalise = [&](bool columns) {
    for (int64_t a = 0; a < hc; ++a) {
      auto at = [&](int64_t b) -> float & {
        return columns ? c[b * hc + a] : c[a * hc + b];
      };
      float sum = 0.0f;
      for (int64_t b = 0; b < hc; ++b)
        sum += at(b);
      for (int64_t b = 0; b < hc; ++b)
        at(b) /= sum + eps;
    }
  };
  normalise(/*columns=*/true);
  for (int64_t it = 1; it < iters; ++it) {
    normalise(/*columns=*/false);
    normalise(/*columns=*/true);
  }
  return s;
}

Vec hcMixes(const Vec &fn, int64_t rows, const Stream &stream, float normEps) {
  const int64_t n = int64_t(stream.size());
  if (int64_t(fn.size()) != rows * n)
    throw std::runtime_error(fmt::format(
        "hc mixes: fn has {} values, expected {} x {}", fn.size(), rows, n));
  double sumSq = 0.0;
  for (float v : stream)
    sumSq += double(v) * double(v);
  float inv = 1.0f / std::sqrt(float(sumSq / double(n)) + normEps);
  Vec m(rows);
  for (int64_t r = 0; r < rows; ++r)
    m[r] = dot(&fn[r * n], stream.data(), n) * inv;
  return m;
}

namespace {
Vec weightedCopies(const Stream &stream, const Vec &pre, int64_t hc) {
  const int64_t d = int64_t(stream.size()) / hc;
  Vec x(d, 0.0f);
  for (int64_t i = 0; i < hc; ++i)
    for (int64_t k = 0; k < d; ++k)
      x[k] += pre[i] * stream[i * d + k];
  return x;
}
} // namespace

HcPreResult hcPre(const Stream &stream, const HcWeights &w,
                  const Config &config) {
  const int64_t hc = config.hcMult;
  Vec mixes = hcMixes(w.fn, config.hcMixes(), stream, float(config.rmsNormEps));
  HcPreResult r;
  r.split = hcSplitSinkhorn(mixes, w.scale, w.base, hc, config.hcSinkhornIters,
                            float(config.hcEps));
  r.x = weightedCopies(stream, r.split.pre, hc);
  return r;
}

Stream hcPost(const Stream &stream, const Vec &y, const HcSplit &split,
              int64_t hc) {
  const int64_t d = int64_t(y.size());
  Stream out(hc * d);
  for (int64_t j = 0; j < hc; ++j)
    for (int64_t k = 0; k < d; ++k) {
      float v = split.post[j] * y[k];
      for (int64_t i = 0; i < hc; ++i)
        v += split.comb[i * hc + j] * stream[i * d + k];
      out[j * d + k] = v;
    }
  return out;
}

Vec hcHead(const Stream &stream, const HcHeadWeights &w, const Config &config) {
  const int64_t hc = config.hcMult;
  Vec mixes = hcMixes(w.fn, hc, stream, float(config.rmsNormEps));
  Vec pre(hc);
  for (int64_t i = 0; i < hc; ++i)
    pre[i] = sigmoid(mixes[i] * w.scale[0] + w.base[i]) + float(config.hcEps);
  return weightedCopies(stream, pre, hc);
}

} // namespace tlv4::ref
