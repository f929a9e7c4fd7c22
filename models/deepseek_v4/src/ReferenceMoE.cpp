// ReferenceMoE: router, clamped SwiGLU experts and shared expert (see
// ReferenceMoE.h).
#include "tlv4/ReferenceMoE.h"

#include <algorithm>
#include <fmt/format.h>
#include <numeric>
#include <stdexcept>

namespace tlv4::ref {

Routing routeToken(const MoEWeights &w, const Vec &x, int32_t tokenId,
                   bool hashLayer, const Config &config) {
  const int64_t k = config.numExpertsPerTok;
  Vec scores = w.gate.apply(x);
  for (float &s : scores)
    s = sqrtSoftplus(s);
  Routing r;
  if (hashLayer) {
    if (tokenId < 0 || int64_t(tokenId) * k + k > int64_t(w.tid2eid.size()))
      throw std::runtime_error(fmt::format(
          "{}gate.tid2eid: token id {} outside the table ({} rows)", w.prefix,
          tokenId, w.tid2eid.size() / std::max<int64_t>(k, 1)));
    r.experts.assign(w.tid2eid.begin() + int64_t(tokenId) * k,
                     w.tid2eid.begin() + int64_t(tokenId) * k + k);
  } else {
    std::vector<int32_t> order(scores.size());
    std::iota(order.begin(), order.end(), 0);
    auto biased = [&](int32_t e) { return scores[e] + w.bias[e]; };
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      return biased(a) > biased(b);
    });
    r.experts.assign(order.begin(), order.begin() + k);
  }
  float sum = 0.0f;
  for (int32_t e : r.experts) {
    r.weights.push_back(scores[e]);
    sum += scores[e];
  }
  for (float &v : r.weights) {
    if (config.normTopkProb)
      v /= sum;
    v *= float(config.routedScalingFactor);
  }
  return r;
}

Vec swigluExpert(const ExpertWeights &w, const Vec &x, float routeWeight,
                 float limit) {
  Vec gate = w.w1.apply(x);
  Vec up = w.w3.apply(x);
  Vec h(gate.size());
  for (size_t i = 0; i < h.size(); ++i) {
    float g = gate[i], u = up[i];
    if (limit > 0.0f) {
      g = std::min(g, limit);
      u = std::clamp(u, -limit, limit);
    }
    h[i] = silu(g) * u * routeWeight;
  }
  return w.w2.apply(h);
}

Vec moeForward(const MoEWeights &w, const Vec &x, int32_t tokenId,
               bool hashLayer, const Config &config) {
  const float limit = float(config.swigluLimit);
  Routing r = routeToken(w, x, tokenId, hashLayer, config);
  Vec y = w.shared.w1.empty() ? Vec(x.size(), 0.0f)
                              : swigluExpert(w.shared, x, 1.0f, limit);
  for (size_t i = 0; i < r.experts.size(); ++i) {
    Vec e = swigluExpert(w.expert(r.experts[i]), x, r.weights[i], limit);
    for (size_t k = 0; k < y.size(); ++k)
      y[k] += e[k];
  }
  return y;
}

} // namespace tlv4::ref
