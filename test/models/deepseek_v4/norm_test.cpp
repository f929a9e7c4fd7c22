// Row-wise steps (models/deepseek_v4/kernels/norm.tl) on the CPU target against the reference:
// rmsnorm_quant's Y against ref::rmsNorm to f32 rounding (the reference adds squares in
// double), its codes and scales against ref::actQuant of the kernel's own Y bit for bit;
// act_quant against ref::actQuant bit for bit; head_rope against ref::rmsNormSlicesInPlace +
// ref::applyRopeInPlace (forward, and inverse without the norm) fed the reference's f32 RoPE
// table, positions across the table and one outside it (cos 0, sin 0: the RoPE dims read 0).
// Rows mix magnitudes (1e-3 to 1e3 by block) and hold a zero block; the last block of rows is
// ragged.
#include "V4KernelSupport.h"

#include "tlv4/ReferenceOps.h"

#include <algorithm>
#include <cmath>

namespace {

using tlrt::DType;
using tlrt::Tensor;
using tlv4_test::kernel;
namespace ref = tlv4::ref;

std::vector<float> rows(int64_t n, int64_t d, uint32_t seed) {
  std::vector<float> x = tlv4_test::uniform(n * d, seed, -1, 1);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t b = 0; b < d / 128; ++b) {
      const float mag = std::pow(10.0f, float((r + 2 * b) % 7) - 3.0f);
      for (int64_t c = 0; c < 128; ++c)
        x[r * d + b * 128 + c] *= (r == 1 && b == 0) ? 0.0f : mag;
    }
  return x;
}

void checkQuant(const std::vector<float> &y, const std::vector<uint8_t> &q,
                const std::vector<float> &s, int64_t n, int64_t d, const std::string &what) {
  for (int64_t r = 0; r < n; ++r) {
    ref::ActQuant want = ref::actQuant(ref::Vec(y.begin() + r * d, y.begin() + (r + 1) * d));
    for (int64_t b = 0; b < d / 128; ++b)
      ASSERT_EQ(s[r * (d / 128) + b], want.scales[b]) << what << " row " << r << " block " << b;
    for (int64_t i = 0; i < d; ++i)
      ASSERT_EQ(q[r * d + i], want.codes[i]) << what << " row " << r << " col " << i;
  }
}

void runRmsNorm(const char *module, int64_t d, int64_t n, uint32_t seed) {
  if (!tlv4_test::available(module))
    return;
  std::vector<float> x = rows(n, d, seed), wt = tlv4_test::uniform(d, seed + 1, 0.5f, 1.5f);
  std::vector<float> y(n * d, -3.0f), ys(n * d / 128, -3.0f);
  std::vector<uint8_t> yq(n * d, 0x5A);
  kernel(module, "rmsnorm_quant")
      .launch({Tensor(x.data(), DType::Float32, {n, d}), Tensor(wt.data(), DType::Float32, {d}),
               Tensor(y.data(), DType::Float32, {n, d}),
               Tensor(yq.data(), DType::Float8E4M3, {n, d}),
               Tensor(ys.data(), DType::Float32, {n, d / 128})});
  for (int64_t r = 0; r < n; ++r) {
    ref::Vec want = ref::rmsNorm(ref::Vec(x.begin() + r * d, x.begin() + (r + 1) * d), wt, 1e-6f);
    for (int64_t i = 0; i < d; ++i)
      ASSERT_NEAR(y[r * d + i], want[i], 2e-6f * std::max(1.0f, std::fabs(want[i])))
          << module << " row " << r << " col " << i;
  }
  checkQuant(y, yq, ys, n, d, std::string(module) + " rmsnorm_quant");
  std::vector<float> xs(n * d / 128, -3.0f);
  std::vector<uint8_t> xq(n * d, 0x5A);
  kernel(module, "act_quant")
      .launch({Tensor(x.data(), DType::Float32, {n, d}),
               Tensor(xq.data(), DType::Float8E4M3, {n, d}),
               Tensor(xs.data(), DType::Float32, {n, d / 128})});
  checkQuant(x, xq, xs, n, d, std::string(module) + " act_quant");
}

TEST(V4Norm, RmsNormQuantTiny) { runRmsNorm("norm_tiny", 256, 5, 1); }
TEST(V4Norm, RmsNormQuantQRankRaggedRows) { runRmsNorm("norm_tiny_q", 128, 7, 2); }
TEST(V4Norm, RmsNormQuantFlash) { runRmsNorm("norm_v4", 4096, 3, 3); }

void runHeadRope(const char *module, int64_t g, int64_t hd, bool norm, bool inverse, int64_t n,
                 uint32_t seed) {
  if (!tlv4_test::available(module))
    return;
  const int64_t rope = 64, half = rope / 2, positions = 300;
  const std::vector<float> freqs = tlv4_test::compressedRopeFreqs(rope, 256);
  std::vector<float> cosT, sinT;
  tlv4_test::ropeTable(freqs, positions, cosT, sinT);
  std::vector<float> x = tlv4_test::uniform(n * g * hd, seed, -4, 4);
  std::vector<int32_t> pos(n);
  for (int64_t r = 0; r < n; ++r)
    pos[r] = int32_t((r * 97 + 3) % positions);
  pos[n - 1] = int32_t(positions); // outside the table
  std::vector<float> y(n * g * hd, -3.0f);
  std::vector<uint16_t> yb(n * g * hd, 0x7E7E);
  kernel(module, "head_rope")
      .launch({Tensor(x.data(), DType::Float32, {n, g * hd}),
               Tensor(pos.data(), DType::Int32, {n}),
               Tensor(cosT.data(), DType::Float32, {positions, half}),
               Tensor(sinT.data(), DType::Float32, {positions, half}),
               Tensor(y.data(), DType::Float32, {n, g * hd}),
               Tensor(yb.data(), DType::BFloat16, {n, g * hd})});
  for (int64_t r = 0; r < n; ++r) {
    ref::Vec want(x.begin() + r * g * hd, x.begin() + (r + 1) * g * hd);
    if (norm)
      ref::rmsNormSlicesInPlace(want, hd, 1e-6f);
    for (int64_t h = 0; h < g; ++h) {
      if (pos[r] < positions)
        ref::applyRopeInPlace(&want[h * hd + hd - rope], freqs, pos[r], inverse);
      else
        std::fill(want.begin() + h * hd + hd - rope, want.begin() + (h + 1) * hd, 0.0f);
    }
    for (int64_t i = 0; i < g * hd; ++i) {
      const float got = y[r * g * hd + i];
      ASSERT_NEAR(got, want[i], 4e-6f * std::max(1.0f, std::fabs(want[i])))
          << module << " row " << r << " dim " << i;
      ASSERT_EQ(yb[r * g * hd + i], tlrt::f32ToBF16(got)) << module << " bf16 row " << r;
    }
  }
}

TEST(V4Norm, QueryNormRopeTiny) { runHeadRope("norm_tiny", 4, 256, true, false, 5, 4); }
TEST(V4Norm, OutputInverseRopeTiny) { runHeadRope("norm_tiny_q", 4, 256, false, true, 4, 5); }
TEST(V4Norm, QueryNormRopeFlash) { runHeadRope("norm_v4", 64, 512, true, false, 3, 6); }

} // namespace
