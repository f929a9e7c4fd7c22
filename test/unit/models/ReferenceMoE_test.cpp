// Unit tests of the reference MoE: score routing (the bias selects but does
// not weigh), hash routing by token id, normalised and scaled weights, the
// clamped SwiGLU.
#include "tlv4/Config.h"
#include "tlv4/ReferenceMoE.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fmt/format.h>
#include <memory>

using namespace tlv4;
using namespace tlv4::ref;

namespace {
Config moeConfig() {
  Config c = Config::tiny();
  c.numExpertsPerTok = 2;
  c.routedScalingFactor = 1.5;
  c.normTopkProb = true;
  return c;
}
// Router logits for x = [1, 0] are [0, 1, 2, 3].
MoEWeights router() {
  MoEWeights w;
  w.gate = {"gate", 4, 2, {0, 0, 1, 0, 2, 0, 3, 0}, false};
  w.bias = {0, 0, 0, 0};
  w.numExperts = 4;
  w.tid2eid = {0, 1, 2, 1, 3, 0}; // token 0 -> {0, 1}, 1 -> {2, 1}, 2 -> {3, 0}
  return w;
}
Linear identity(const char *name) { return {name, 2, 2, {1, 0, 0, 1}, false}; }
} // namespace

TEST(ReferenceMoE, ScoreRoutingBiasSelectsButDoesNotWeigh) {
  Config c = moeConfig();
  MoEWeights w = router();
  Routing r = routeToken(w, {1, 0}, 0, false, c);
  ASSERT_EQ(r.experts, (std::vector<int32_t>{3, 2}));
  w.bias = {10, 0, 0, 0};
  r = routeToken(w, {1, 0}, 0, false, c);
  ASSERT_EQ(r.experts, (std::vector<int32_t>{0, 3}));
  const float s0 = sqrtSoftplus(0), s3 = sqrtSoftplus(3);
  EXPECT_NEAR(r.weights[0], s0 / (s0 + s3) * 1.5f, 1e-6);
  EXPECT_NEAR(r.weights[1], s3 / (s0 + s3) * 1.5f, 1e-6);
}

TEST(ReferenceMoE, HashRoutingLooksUpTheTokenId) {
  Config c = moeConfig();
  MoEWeights w = router();
  w.bias = {100, 100, 0, 0}; // ignored by hash layers
  Routing r = routeToken(w, {1, 0}, 1, true, c);
  ASSERT_EQ(r.experts, (std::vector<int32_t>{2, 1}));
  const float s1 = sqrtSoftplus(1), s2 = sqrtSoftplus(2);
  EXPECT_NEAR(r.weights[0], s2 / (s1 + s2) * 1.5f, 1e-6);
  EXPECT_NEAR(r.weights[0] + r.weights[1], 1.5f, 1e-6);
  EXPECT_THROW(routeToken(w, {1, 0}, 3, true, c), std::runtime_error);
}

TEST(ReferenceMoE, UnnormalisedWeightsWhenNormTopkProbIsOff) {
  Config c = moeConfig();
  c.normTopkProb = false;
  Routing r = routeToken(router(), {1, 0}, 0, false, c);
  EXPECT_NEAR(r.weights[0], sqrtSoftplus(3) * 1.5f, 1e-6);
}

TEST(ReferenceMoE, SwigluClampsGateAndUp) {
  ExpertWeights e{identity("w1"), identity("w3"), identity("w2")};
  // gate = min([20, -20], 10) = [10, -20]; up = clamp(.., +-10) = [10, -10].
  Vec y = swigluExpert(e, {20, -20}, 0.5f, 10.0f);
  EXPECT_NEAR(y[0], silu(10) * 10 * 0.5f, 1e-4);
  EXPECT_NEAR(y[1], silu(-20) * -10 * 0.5f, 1e-9);
  // No limit: plain SwiGLU.
  y = swigluExpert(e, {20, 1}, 1.0f, 0.0f);
  EXPECT_NEAR(y[0], silu(20) * 20, 1e-3);
  EXPECT_NEAR(y[1], silu(1), 1e-6);
}

TEST(ReferenceMoE, ForwardSumsRoutedAndSharedExperts) {
  Config c = moeConfig();
  c.swigluLimit = 1.0;
  MoEWeights w = router();
  w.prefix = "layers.0.ffn.";
  w.shared = {identity("w1"), identity("w3"), identity("w2")};
  // Routed experts all zero except expert 3 (identity): routed output is
  // weight(3) * clamped SwiGLU; the shared expert clamps with the same limit
  // (V4.md: settled for the current official release).
  c.moeIntermediateSize = 2;
  c.hiddenSize = 2;
  auto small = std::make_shared<MemoryWeightSource>(c);
  for (int e = 0; e < 4; ++e)
    for (const char *m : {"w1", "w2", "w3"})
      small->set(fmt::format("layers.0.ffn.experts.{}.{}.weight", e, m),
                 {{2, 2}, e == 3 ? Vec{1, 0, 0, 1} : Vec{0, 0, 0, 0}, false});
  w.source = small;
  w.numExperts = 4;
  Vec x = {3, 0};
  Routing r = routeToken(w, x, 0, false, c);
  ASSERT_EQ(r.experts[0], 3);
  Vec y = moeForward(w, x, 0, false, c);
  const float routed = silu(1.0f) * 1.0f * r.weights[0];
  const float shared = silu(1.0f) * 1.0f;
  EXPECT_NEAR(y[0], routed + shared, 1e-4);
  EXPECT_FLOAT_EQ(y[1], 0.0f);
  // Unclamped, the shared expert alone would give silu(3) * 3: the clamp fired.
  EXPECT_GT(std::abs(y[0] - (routed + silu(3.0f) * 3.0f)), 1.0f);
}

TEST(ReferenceMoE, SmallLimitClampsFireOnTheTinyModel) {
  // With V4's limit of 10 the clamps rarely fire on random tiny weights; with
  // 0.5 they do, in the routed and the shared experts alike: the MoE output
  // of a tiny-checkpoint-sized random layer changes when the limit does.
  Config c = Config::tiny();
  c.hiddenSize = 8;
  c.moeIntermediateSize = 4;
  c.nRoutedExperts = 4;
  c.numExpertsPerTok = 2;
  auto src = std::make_shared<MemoryWeightSource>(c);
  uint32_t seed = 7;
  auto rnd = [&](int64_t n) {
    Vec v(n);
    for (auto &x : v) {
      seed = seed * 1664525u + 1013904223u;
      x = float(int32_t(seed >> 8) % 2000 - 1000) / 250.0f; // [-4, 4)
    }
    return v;
  };
  for (int e = 0; e < 4; ++e) {
    src->set(fmt::format("layers.1.ffn.experts.{}.w1.weight", e), {{4, 8}, rnd(32), false});
    src->set(fmt::format("layers.1.ffn.experts.{}.w3.weight", e), {{4, 8}, rnd(32), false});
    src->set(fmt::format("layers.1.ffn.experts.{}.w2.weight", e), {{8, 4}, rnd(32), false});
  }
  MoEWeights w;
  w.prefix = "layers.1.ffn.";
  w.source = src;
  w.numExperts = 4;
  w.gate = {"gate", 4, 8, rnd(32), false};
  w.bias = {0, 0, 0, 0};
  w.shared = {{"w1", 4, 8, rnd(32), false}, {"w3", 4, 8, rnd(32), false},
              {"w2", 8, 4, rnd(32), false}};
  Vec x = rnd(8);
  c.swigluLimit = 0.5;
  Vec clamped = moeForward(w, x, 0, false, c);
  Vec sharedClamped = swigluExpert(w.shared, x, 1.0f, 0.5f);
  Vec sharedFree = swigluExpert(w.shared, x, 1.0f, 0.0f);
  c.swigluLimit = 0.0; // no clamp anywhere
  Vec free = moeForward(w, x, 0, false, c);
  double sharedMoved = 0, totalMoved = 0;
  for (size_t k = 0; k < x.size(); ++k) {
    sharedMoved += std::abs(sharedClamped[k] - sharedFree[k]);
    totalMoved += std::abs(clamped[k] - free[k]);
  }
  EXPECT_GT(sharedMoved, 1.0); // the shared expert's clamp fired
  EXPECT_GT(totalMoved, sharedMoved * 0.5);
}
