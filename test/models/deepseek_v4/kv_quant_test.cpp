// FP8 KV rows (models/deepseek_v4/kernels/kv_quant.tl) on the CPU target against the
// reference's fakeQuantFp8InPlace (the window KV's last step, AttentionLayer::windowKv): the
// codes times the scales must equal the reference's values to the bit, the scales its
// power-of-two rule, the bf16 row the same values and the RoPE dims rounded to bf16. Rows mix
// magnitudes from 1e-6 (e4m3 subnormal codes, and all-tiny groups where the 1e-4 clamp of
// the scale rule matters) to 1e4, with exact zeros and whole zero groups.
#include "V4KernelSupport.h"

#include "tlv4/ReferenceOps.h"

#include <cmath>
#include <cstring>

namespace {

using tlrt::DType;
using tlrt::Tensor;
using tlv4_test::kernel;
constexpr int64_t kRope = 64;

// Random rows with a per-row and per-group magnitude spread.
std::vector<float> makeRows(int64_t rows, int64_t d, uint32_t seed) {
  std::vector<float> x = tlv4_test::uniform(rows * d, seed, -1, 1);
  std::mt19937 rng(seed + 7);
  std::uniform_real_distribution<float> expo(-6, 4);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < d / 64; ++g) {
      const float mag = std::pow(10.0f, expo(rng));
      const int kind = int(rng() % 8);
      for (int64_t k = 0; k < 64; ++k) {
        float &v = x[r * d + g * 64 + k];
        v = kind == 0 ? 0.0f : v * mag;
        if (kind == 1 && k % 5 == 0)
          v = 0.0f;
      }
    }
  return x;
}

void runKvQuant(const char *module, int64_t d, int64_t batch, int64_t seq, uint32_t seed) {
  const int64_t dn = d - kRope, groups = dn / 64, rows = batch * seq;
  std::vector<float> x = makeRows(rows, d, seed);
  std::vector<uint16_t> kvb(rows * d, 0x7E7E), kvr(rows * kRope, 0x7E7E);
  std::vector<uint8_t> kvq(rows * dn, 0x5A);
  std::vector<float> kvs(rows * groups, -7.0f);
  kernel(module, "kv_quant")
      .launch({Tensor(x.data(), DType::Float32, {batch, seq, d}),
               Tensor(kvb.data(), DType::BFloat16, {batch, seq, d}),
               Tensor(kvq.data(), DType::Float8E4M3, {batch, seq, dn}),
               Tensor(kvs.data(), DType::Float32, {batch, seq, groups}),
               Tensor(kvr.data(), DType::BFloat16, {batch, seq, kRope})});
  int64_t bad = 0;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> want(x.begin() + r * d, x.begin() + (r + 1) * d);
    tlv4::ref::fakeQuantFp8InPlace(want.data(), dn, 64);
    for (int64_t g = 0; g < groups; ++g) {
      float amax = 0;
      for (int64_t k = 0; k < 64; ++k)
        amax = std::max(amax, std::fabs(x[r * d + g * 64 + k]));
      const float scale = tlrt::ue8m0ToF32(tlrt::ue8m0QuantScale(amax, tlrt::kE4M3Max));
      ASSERT_EQ(kvs[r * groups + g], scale) << "row " << r << " group " << g;
    }
    for (int64_t i = 0; i < dn; ++i) {
      const float got = tlrt::e4m3ToF32(kvq[r * dn + i]) * kvs[r * groups + i / 64];
      // Bitwise, so that -0 and +0 count as different.
      uint32_t gb, wb;
      std::memcpy(&gb, &got, 4);
      std::memcpy(&wb, &want[i], 4);
      if (gb != wb && bad++ < 10)
        ADD_FAILURE() << "row " << r << " dim " << i << ": got " << got << ", want " << want[i];
      EXPECT_EQ(kvb[r * d + i], tlrt::f32ToBF16(want[i])) << "bf16 row " << r << " dim " << i;
    }
    for (int64_t i = 0; i < kRope; ++i) {
      const uint16_t want16 = tlrt::f32ToBF16(x[r * d + dn + i]);
      EXPECT_EQ(kvr[r * kRope + i], want16) << "RoPE row " << r << " dim " << i;
      EXPECT_EQ(kvb[r * d + dn + i], want16) << "bf16 row " << r << " RoPE dim " << i;
    }
  }
  EXPECT_EQ(bad, 0);
}

TEST(V4KvQuant, V4Rows) { runKvQuant("kv_quant_v4", 512, 2, 9, 1); }
TEST(V4KvQuant, Rows256) { runKvQuant("kv_quant_256", 256, 3, 7, 2); }
TEST(V4KvQuant, RaggedBlocks256) { runKvQuant("kv_quant_256_br3", 256, 2, 10, 3); }

} // namespace
