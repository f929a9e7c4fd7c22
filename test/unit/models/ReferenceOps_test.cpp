// Unit tests of the reference's small operations against hand-computed
// values: RMSNorm, RoPE and YaRN frequencies, Hadamard, FP8/FP4 fake
// quantisation, activation quantisation, linear layers.
#include "tlv4/Config.h"
#include "tlv4/ReferenceOps.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace tlv4;
using namespace tlv4::ref;

TEST(ReferenceOps, RmsNormHandValues) {
  // mean(x^2) = 30 / 4 = 7.5
  Vec y = rmsNorm({1, 2, 3, 4}, {1, 1, 2, 0.5f}, 0.0f);
  const float r = 1.0f / std::sqrt(7.5f);
  EXPECT_FLOAT_EQ(y[0], r);
  EXPECT_FLOAT_EQ(y[1], 2 * r);
  EXPECT_FLOAT_EQ(y[2], 6 * r);
  EXPECT_FLOAT_EQ(y[3], 2 * r);
  Vec slices = {3, 4, 0, 2};
  rmsNormSlicesInPlace(slices, 2, 0.0f); // rms 3.5355 and 1.4142
  EXPECT_NEAR(slices[0], 3 / std::sqrt(12.5f), 1e-6);
  EXPECT_NEAR(slices[3], std::sqrt(2.0f), 1e-6);
  EXPECT_THROW(rmsNorm({1, 2}, {1}, 0.0f), std::runtime_error);
}

TEST(ReferenceOps, RopeFrequenciesPlain) {
  RopeParams p;
  p.theta = 10000;
  p.ropeDim = 4;
  std::vector<float> f = ropeFrequencies(p);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], 1.0f);
  // f32 arithmetic, as the official tables: 1 / 10000^0.5f.
  EXPECT_EQ(f[1], 1.0f / std::pow(10000.0f, 0.5f));
}

TEST(ReferenceOps, YarnFrequenciesHandValues) {
  // dim 8, theta 1e4, original 64, factor 4, beta 32 / 1: the correction
  // range is [0, 2], so pair i keeps (1 - i / 2) of its frequency and
  // interpolates the rest: [1, 0.1 * (0.5 / 4 + 0.5), 0.01 / 4, 0.001 / 4].
  RopeParams p;
  p.theta = 10000;
  p.ropeDim = 8;
  p.yarn = true;
  p.factor = 4;
  p.originalMaxPositions = 64;
  std::vector<float> f = ropeFrequencies(p);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_NEAR(f[0], 1.0, 1e-7);
  EXPECT_NEAR(f[1], 0.0625, 1e-8);
  EXPECT_NEAR(f[2], 0.0025, 1e-9);
  EXPECT_NEAR(f[3], 0.00025, 1e-10);
}

TEST(ReferenceOps, RopeTableIsBuiltInF32) {
  // The official tables multiply position and frequency in f32 (V4.md): at
  // large positions the f32 angle differs from the exact one, and the
  // table follows the f32 angle.
  RopeParams p;
  p.theta = 10000;
  p.ropeDim = 64;
  std::vector<float> f = ropeFrequencies(p);
  for (float v : f)
    EXPECT_EQ(v, float(v)); // f32 values
  const int64_t pos = 1000003;
  const int64_t i = 1;
  const float angle = float(pos) * f[i];
  RopeCosSin t = ropeCosSin(f, pos, i);
  EXPECT_EQ(t.cos, float(std::cos(double(angle))));
  EXPECT_EQ(t.sin, float(std::sin(double(angle))));
  // ... which is not the exact angle's cos at this position.
  const double exact = double(pos) * double(f[i]);
  EXPECT_GT(std::abs(double(t.cos) - std::cos(exact)), 1e-4);
}

TEST(ReferenceOps, RopeParamsFollowTheLayerKind) {
  Config c = Config::tiny();
  RopeParams window = ropeParamsForLayer(c, 0);
  EXPECT_EQ(window.theta, c.ropeTheta);
  EXPECT_FALSE(window.yarn);
  RopeParams csa = ropeParamsForLayer(c, 1);
  EXPECT_EQ(csa.theta, c.compressRopeTheta);
  EXPECT_EQ(csa.yarn, c.ropeScaling.has_value());
  EXPECT_EQ(csa.ropeDim, c.qkRopeHeadDim);
}

TEST(ReferenceOps, RopeRotatesInterleavedPairsAndInverts) {
  Vec x = {1, 0, 0, 1};
  std::vector<float> f = {float(M_PI / 2), float(M_PI)};
  applyRopeInPlace(x.data(), f, 1, false, RopePairing::Interleaved);
  EXPECT_NEAR(x[0], 0, 1e-6);
  EXPECT_NEAR(x[1], 1, 1e-6);
  EXPECT_NEAR(x[2], 0, 1e-6);
  EXPECT_NEAR(x[3], -1, 1e-6);
  applyRopeInPlace(x.data(), f, 1, true, RopePairing::Interleaved);
  EXPECT_NEAR(x[0], 1, 1e-6);
  EXPECT_NEAR(x[3], 1, 1e-6);
  // Half-split pairs (i, i + half).
  Vec y = {1, 0, 0, 0};
  applyRopeInPlace(y.data(), f, 1, false, RopePairing::HalfSplit);
  EXPECT_NEAR(y[0], 0, 1e-6);
  EXPECT_NEAR(y[2], 1, 1e-6);
}

TEST(ReferenceOps, HadamardIsOrthonormal) {
  Vec a = {1, 0, 0, 0};
  hadamardInPlace(a.data(), 4);
  for (float v : a)
    EXPECT_FLOAT_EQ(v, 0.5f);
  Vec b = {1, 1, 1, 1};
  hadamardInPlace(b.data(), 4);
  EXPECT_FLOAT_EQ(b[0], 2.0f);
  EXPECT_FLOAT_EQ(b[1], 0.0f);
  hadamardInPlace(b.data(), 4); // H is its own inverse
  EXPECT_FLOAT_EQ(b[3], 1.0f);
  EXPECT_THROW(hadamardInPlace(b.data(), 3), std::runtime_error);
}

TEST(ReferenceOps, SoftmaxAndActivations) {
  Vec x = {0, std::log(3.0f)};
  softmaxInPlace(x);
  EXPECT_NEAR(x[0], 0.25, 1e-6);
  EXPECT_NEAR(x[1], 0.75, 1e-6);
  EXPECT_FLOAT_EQ(sigmoid(0), 0.5f);
  EXPECT_NEAR(silu(1), 1 / (1 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(sqrtSoftplus(0), std::sqrt(std::log(2.0)), 1e-6);
  EXPECT_NEAR(sqrtSoftplus(100), 10.0, 1e-5);
}

TEST(ReferenceOps, Fp8FakeQuantHandValues) {
  // amax 1 -> scale 2^ceil(log2(1 / 448)) = 2^-8; 0.3 * 256 = 76.8 rounds to
  // 80 (e4m3 spacing 8 in [64, 128)) -> 0.3125.
  Vec x = {1.0f, 0.3f, 0.0f};
  fakeQuantFp8InPlace(x.data(), 3, 64);
  EXPECT_FLOAT_EQ(x[0], 1.0f);
  EXPECT_FLOAT_EQ(x[1], 0.3125f);
  EXPECT_FLOAT_EQ(x[2], 0.0f);
  EXPECT_FLOAT_EQ(roundToE4M3(1000.0f), 448.0f);
}

TEST(ReferenceOps, Fp4FakeQuantHandValues) {
  // amax 6 -> scale 1: 2.4 -> 2, -0.7 -> -0.5, 5 -> 4 (tie to even).
  Vec x = {6.0f, 2.4f, -0.7f, 5.0f};
  fakeQuantFp4InPlace(x.data(), 4, 32);
  EXPECT_FLOAT_EQ(x[0], 6.0f);
  EXPECT_FLOAT_EQ(x[1], 2.0f);
  EXPECT_FLOAT_EQ(x[2], -0.5f);
  EXPECT_FLOAT_EQ(x[3], 4.0f);
  // Groups are independent: the second group's scale is 2^-2.
  Vec y = {6, 0, 1.5f, 0.25f};
  fakeQuantFp4InPlace(y.data(), 4, 2);
  EXPECT_FLOAT_EQ(y[2], 1.5f);
  EXPECT_FLOAT_EQ(y[3], 0.25f);
}

TEST(ReferenceOps, ActQuantUsesPowerOfTwoScalesPerBlock) {
  Vec x(130);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = std::sin(float(i)) * (i < 128 ? 3.0f : 0.01f);
  ActQuant q = actQuant(x, 128);
  ASSERT_EQ(q.scales.size(), 2u);
  for (float s : q.scales) {
    int e;
    EXPECT_FLOAT_EQ(std::frexp(s, &e), 0.5f); // a power of two
  }
  EXPECT_LT(q.scales[1], q.scales[0]);
  Vec d = q.dequantized();
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_NEAR(d[i], x[i], std::fabs(x[i]) / 16 + 1e-9) << i;
}

TEST(ReferenceOps, LinearWithAndWithoutActivationQuant) {
  Linear l;
  l.name = "test";
  l.out = 2;
  l.in = 2;
  l.weight = {1, 2, 3, 4};
  Vec y = l.apply({1.0f, 0.3f});
  EXPECT_FLOAT_EQ(y[0], 1.6f);
  EXPECT_FLOAT_EQ(y[1], 4.2f);
  l.quantizedActivations = true; // 0.3 reaches the GEMM as 0.3125
  y = l.apply({1.0f, 0.3f});
  EXPECT_FLOAT_EQ(y[0], 1.625f);
  EXPECT_FLOAT_EQ(y[1], 4.25f);
  EXPECT_FLOAT_EQ(l.applyRows({1.0f, 0.3f}, 1, 1)[0], 4.25f);
  EXPECT_THROW(l.apply({1.0f}), std::runtime_error);
}

TEST(ReferenceOps, ActQuantWithF32Scales) {
  // scale_fmt other than ue8m0: the scale is amax / 448 exactly, so the
  // block maximum is represented exactly.
  ActQuant q = actQuant({3.0f, 1.0f}, 128, /*ue8m0Scales=*/false);
  EXPECT_FLOAT_EQ(q.scales[0], 3.0f / 448.0f);
  EXPECT_FLOAT_EQ(q.dequantized()[0], 3.0f);
}
