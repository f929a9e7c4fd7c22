// The MoE element-wise kernels (models/deepseek_v4/kernels/moe.tl) on the CPU target against
// the reference (ReferenceMoE.cpp):
// - moe_gate / moe_gate_hash against ref::routeToken, fed the logits through an identity gate
//   (a dot with a one-hot row is exact): the experts equal the reference's list, in order;
//   the weights match to f32 rounding (softplus/sqrt go through each target's math). Logits
//   are spread so no two biased scores tie; the bias is large enough to change the choice.
// - swiglu_quant: H against the reference's clamped SwiGLU to f32 rounding; the FP8 codes and
//   scales equal ref::actQuant of the kernel's own H bit for bit; and H's dequantised form
//   equals ref::swigluExpert (identity w2 with activation quantisation: exactly the quantised
//   activation) except where H and the reference differ across an e4m3 rounding boundary.
//   Limits 10 (rarely fires), 0.5 (fires on most values) and 0 (no clamp); route weights
//   per row; a ragged last block of rows.
#include "V4KernelSupport.h"

#include "tlv4/ReferenceMoE.h"

#include <algorithm>
#include <cmath>
#include <memory>

namespace {

using tlrt::DType;
using tlrt::Tensor;
using tlv4_test::kernel;
namespace ref = tlv4::ref;

struct GateShape {
  const char *module;
  int64_t experts, k;
  bool norm;
  float scale;
};

// An E x E identity gate: routeToken's scores are then sqrtsoftplus of x itself.
ref::MoEWeights identityRouter(int64_t e, const std::vector<float> &bias,
                               const std::vector<int32_t> &table) {
  ref::MoEWeights w;
  w.gate = {"gate", e, e, std::vector<float>(e * e, 0.0f), false};
  for (int64_t i = 0; i < e; ++i)
    w.gate.weight[i * e + i] = 1.0f;
  w.bias = bias;
  w.tid2eid = table;
  w.numExperts = e;
  return w;
}

tlv4::Config gateConfig(const GateShape &s) {
  tlv4::Config c = tlv4::Config::tiny();
  c.nRoutedExperts = s.experts;
  c.numExpertsPerTok = s.k;
  c.normTopkProb = s.norm;
  c.routedScalingFactor = s.scale;
  return c;
}

void runGate(const GateShape &s, int64_t n, bool hash, uint32_t seed) {
  if (!tlv4_test::available(s.module))
    return;
  const int64_t e = s.experts, k = s.k, vocab = 37;
  // Distinct logits: a shuffled ramp plus noise, in [-6, 6] (softplus's curved part and both
  // tails); the bias moves scores by up to 0.5.
  std::mt19937 rng(seed);
  std::vector<float> logits(n * e);
  for (int64_t t = 0; t < n; ++t) {
    const std::vector<int32_t> perm = tlv4_test::shuffledIota(e, rng);
    for (int64_t j = 0; j < e; ++j)
      logits[t * e + j] = -6.0f + 12.0f * (float(perm[j]) + 0.25f) / float(e);
  }
  std::vector<float> bias = tlv4_test::uniform(e, seed + 1, -0.5f, 0.5f);
  std::vector<int32_t> ids(n), table(vocab * k);
  for (int64_t t = 0; t < n; ++t)
    ids[t] = int32_t(rng() % vocab);
  for (int64_t v = 0; v < vocab; ++v) {
    const std::vector<int32_t> perm = tlv4_test::shuffledIota(e, rng);
    std::copy(perm.begin(), perm.begin() + k, table.begin() + v * k);
  }
  std::vector<int32_t> experts(n * k, 12345);
  std::vector<float> weights(n * k, -9.0f);
  if (hash)
    kernel(s.module, "moe_gate_hash")
        .launch({Tensor(logits.data(), DType::Float32, {n, e}),
                 Tensor(ids.data(), DType::Int32, {n}),
                 Tensor(table.data(), DType::Int32, {vocab, k}),
                 Tensor(experts.data(), DType::Int32, {n, k}),
                 Tensor(weights.data(), DType::Float32, {n, k})});
  else
    kernel(s.module, "moe_gate")
        .launch({Tensor(logits.data(), DType::Float32, {n, e}),
                 Tensor(bias.data(), DType::Float32, {e}),
                 Tensor(experts.data(), DType::Int32, {n, k}),
                 Tensor(weights.data(), DType::Float32, {n, k})});
  const tlv4::Config c = gateConfig(s);
  const ref::MoEWeights w = identityRouter(e, bias, table);
  bool biasMattered = false;
  for (int64_t t = 0; t < n; ++t) {
    ref::Vec x(logits.begin() + t * e, logits.begin() + (t + 1) * e);
    ref::Routing r = ref::routeToken(w, x, ids[t], hash, c);
    for (int64_t j = 0; j < k; ++j) {
      ASSERT_EQ(experts[t * k + j], r.experts[j]) << s.module << " token " << t << " slot " << j;
      EXPECT_NEAR(weights[t * k + j], r.weights[j], 2e-6f * std::max(1.0f, r.weights[j]))
          << s.module << " token " << t << " slot " << j;
    }
    // Without the bias, would the choice differ? (The bias must select, not be a no-op.)
    if (!hash) {
      std::vector<int32_t> order(e);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int a, int b) { return x[a] > x[b]; });
      biasMattered |= !std::equal(order.begin(), order.begin() + k, r.experts.begin());
    }
  }
  if (!hash)
    EXPECT_TRUE(biasMattered) << "the test's bias never changed a choice";
}

TEST(V4MoeGate, ScoreRoutingTiny) { runGate({"moe_tiny", 8, 2, true, 1.5f}, 13, false, 1); }
TEST(V4MoeGate, ScoreRoutingFlash) { runGate({"moe_v4", 256, 6, true, 1.5f}, 9, false, 2); }
TEST(V4MoeGate, ScoreRoutingUnnormalised) {
  runGate({"moe_tiny_nonorm", 8, 2, false, 2.5f}, 7, false, 3);
}
TEST(V4MoeGate, HashRoutingTiny) { runGate({"moe_tiny", 8, 2, true, 1.5f}, 13, true, 4); }
TEST(V4MoeGate, HashRoutingFlash) { runGate({"moe_v4", 256, 6, true, 1.5f}, 9, true, 5); }

TEST(V4MoeGate, HashIdOutsideTheTableRoutesNowhere) {
  const int64_t e = 8, k = 2, n = 2, vocab = 3;
  std::vector<float> logits = tlv4_test::uniform(n * e, 6, -2, 2);
  std::vector<int32_t> ids = {-1, 3}, table = {0, 1, 2, 3, 4, 5};
  std::vector<int32_t> experts(n * k, 7);
  std::vector<float> weights(n * k, 7.0f);
  kernel("moe_tiny", "moe_gate_hash")
      .launch({Tensor(logits.data(), DType::Float32, {n, e}),
               Tensor(ids.data(), DType::Int32, {n}),
               Tensor(table.data(), DType::Int32, {vocab, k}),
               Tensor(experts.data(), DType::Int32, {n, k}),
               Tensor(weights.data(), DType::Float32, {n, k})});
  for (int64_t i = 0; i < n * k; ++i) {
    EXPECT_EQ(experts[i], -1) << i;
    EXPECT_EQ(weights[i], 0.0f) << i;
  }
}

void runSwiglu(const char *module, int64_t inter, float limit, int64_t n, uint32_t seed) {
  if (!tlv4_test::available(module))
    return;
  std::vector<float> g = tlv4_test::uniform(n * inter, seed, -14, 14);
  std::vector<float> u = tlv4_test::uniform(n * inter, seed + 1, -14, 14);
  std::vector<float> wt = tlv4_test::uniform(n, seed + 2, 0.05f, 1.0f);
  // A block of tiny values (the 1e-4 floor of the scale rule) and one of zeros.
  for (int64_t c = 0; c < 128 && inter > 128; ++c) {
    g[c] *= 1e-4f;
    u[c] *= 1e-4f;
    g[inter + 128 + c] = 0.0f;
  }
  std::vector<float> h(n * inter, -3.0f), hs(n * inter / 128, -3.0f);
  std::vector<uint8_t> hq(n * inter, 0x5A);
  kernel(module, "swiglu_quant")
      .launch({Tensor(g.data(), DType::Float32, {n, inter}),
               Tensor(u.data(), DType::Float32, {n, inter}),
               Tensor(wt.data(), DType::Float32, {n}),
               Tensor(h.data(), DType::Float32, {n, inter}),
               Tensor(hq.data(), DType::Float8E4M3, {n, inter}),
               Tensor(hs.data(), DType::Float32, {n, inter / 128})});
  // The reference expert over x = [g | u] with selecting w1/w3 and an identity w2 whose
  // activations are quantised: its output is actQuant(h_ref) dequantised.
  ref::ExpertWeights ew;
  ew.w1 = {"w1", inter, 2 * inter, std::vector<float>(inter * 2 * inter, 0.0f), false};
  ew.w3 = {"w3", inter, 2 * inter, std::vector<float>(inter * 2 * inter, 0.0f), false};
  ew.w2 = {"w2", inter, inter, std::vector<float>(inter * inter, 0.0f), true};
  for (int64_t i = 0; i < inter; ++i) {
    ew.w1.weight[i * 2 * inter + i] = 1.0f;
    ew.w3.weight[i * 2 * inter + inter + i] = 1.0f;
    ew.w2.weight[i * inter + i] = 1.0f;
  }
  int64_t clamped = 0, boundary = 0;
  for (int64_t r = 0; r < n; ++r) {
    ref::Vec x(2 * inter), hk(h.begin() + r * inter, h.begin() + (r + 1) * inter);
    std::copy(g.begin() + r * inter, g.begin() + (r + 1) * inter, x.begin());
    std::copy(u.begin() + r * inter, u.begin() + (r + 1) * inter, x.begin() + inter);
    for (int64_t i = 0; i < inter; ++i) {
      float gi = g[r * inter + i], ui = u[r * inter + i];
      if (limit > 0.0f) {
        clamped += gi > limit || std::fabs(ui) > limit;
        gi = std::min(gi, limit);
        ui = std::clamp(ui, -limit, limit);
      }
      const float want = ref::silu(gi) * ui * wt[r];
      ASSERT_NEAR(hk[i], want, 4e-6f * std::max(1.0f, std::fabs(want)))
          << module << " row " << r << " col " << i;
    }
    // The quantisation of the kernel's own H: bit for bit.
    ref::ActQuant q = ref::actQuant(hk, 128, true);
    for (int64_t b = 0; b < inter / 128; ++b)
      ASSERT_EQ(hs[r * (inter / 128) + b], q.scales[b]) << module << " row " << r << " block " << b;
    for (int64_t i = 0; i < inter; ++i)
      ASSERT_EQ(hq[r * inter + i], q.codes[i]) << module << " row " << r << " col " << i;
    // Against the reference expert end to end: equal but for e4m3 rounding-boundary cases.
    ref::Vec y = ref::swigluExpert(ew, x, wt[r], limit);
    ref::Vec mine = q.dequantized();
    for (int64_t i = 0; i < inter; ++i)
      if (mine[i] != y[i]) {
        ++boundary;
        EXPECT_LE(std::fabs(mine[i] - y[i]), std::fabs(y[i]) * 0.0625f + 1e-30f)
            << module << " row " << r << " col " << i;
      }
  }
  EXPECT_LE(boundary, n * inter / 200) << "rounding-boundary differences";
  if (limit > 0.0f && limit < 1.0f)
    EXPECT_GT(clamped, n * inter / 2) << "the small limit should clamp most values";
}

TEST(V4MoeSwiglu, TinyLimit10) { runSwiglu("moe_tiny", 128, 10.0f, 5, 11); }
TEST(V4MoeSwiglu, TinySmallLimitClamps) { runSwiglu("moe_tiny_limit05", 256, 0.5f, 3, 12); }
TEST(V4MoeSwiglu, NoClamp) { runSwiglu("moe_tiny_nolimit", 256, 0.0f, 4, 13); }
TEST(V4MoeSwiglu, FlashWidth) { runSwiglu("moe_v4", 2048, 10.0f, 3, 14); }

} // namespace
