// The routed experts' kernels (models/deepseek_v4/kernels/expert.tl) on the CPU target:
// - expert_fp4 over dispatched segments (some experts empty, segments that are not multiples
//   of the tile, one longer than several tiles) against the f32 dot of the dequantised values
//   (FP4 weights from quantizeFp4Groups, activations from the reference's actQuant), to f32
//   summation error; rows outside the placed segments stay untouched.
// - moe_tiles against the running sum of ceil(rows / BM);
// - moe_gather: each placed row holds its token's codes, scales and route weight.
#include "V4KernelSupport.h"

#include "tlv4/Quantize.h"

#include <cmath>
#include <numeric>

namespace {

using tlrt::DType;
using tlrt::Tensor;
using tlv4_test::kernel;
namespace ref = tlv4::ref;

struct ExpertCase {
  const char *module;
  int64_t experts, bm, n, k; // E, tile rows, output width, input width
  std::vector<int32_t> rows; // rows of each expert's segment
  // Binades between the largest and smallest group scale of a weight row's 128-wide block:
  // up to 8 the kernel's e4m3 codes are exact; past that the small groups round to e4m3
  // subnormals (2^-9 of the block's scale).
  int spread = 3;
};

void runExperts(const ExpertCase &c, uint32_t seed) {
  if (!tlv4_test::available(c.module))
    return;
  const int64_t e = c.experts, n = c.n, k = c.k;
  std::vector<int32_t> offsets(e + 1, 0), tiles(e + 1, 0);
  for (int64_t i = 0; i < e; ++i)
    offsets[i + 1] = offsets[i] + c.rows[i];
  const int64_t placed = offsets[e], r = placed + 5; // 5 spare rows, never written
  std::vector<float> w = tlv4_test::uniform(e * n * k, seed, -1.0f, 1.0f);
  for (int64_t i = 0; i < e * n; ++i) // groups of different magnitudes
    for (int64_t j = 0; j < k; ++j)
      w[i * k + j] *= std::ldexp(1.0f, c.spread <= 3 ? int((i + j / 32) % 7) - 3
                                                     : ((i + j / 32) % 4 == 1 ? -c.spread : 0));
  tlv4::QuantizedWeight qw = tlv4::quantizeFp4Groups(w, e * n, k);
  std::vector<float> x = tlv4_test::uniform(r * k, seed + 1, -4.0f, 4.0f);
  std::vector<uint8_t> aq(r * k);
  std::vector<float> as(r * k / 128);
  std::vector<ref::Vec> deq(r);
  for (int64_t row = 0; row < r; ++row) {
    ref::ActQuant q = ref::actQuant(ref::Vec(x.begin() + row * k, x.begin() + (row + 1) * k));
    std::copy(q.codes.begin(), q.codes.end(), aq.begin() + row * k);
    std::copy(q.scales.begin(), q.scales.end(), as.begin() + row * (k / 128));
    deq[row] = q.dequantized();
  }

  kernel(c.module, "moe_tiles")
      .launch({Tensor(offsets.data(), DType::Int32, {e + 1}),
               Tensor(tiles.data(), DType::Int32, {e + 1})});
  int32_t want = 0;
  for (int64_t i = 0; i <= e; ++i) {
    ASSERT_EQ(tiles[i], want) << "tile start of expert " << i;
    if (i < e)
      want += int32_t((c.rows[i] + c.bm - 1) / c.bm);
  }

  const float poison = -123.0f;
  std::vector<float> got(r * n, poison);
  // The group scales transposed, [K / 32, E * N], as the device model uploads them.
  std::vector<uint8_t> sbt(qw.scaleCodes.size());
  for (int64_t row = 0; row < e * n; ++row)
    for (int64_t g = 0; g < k / 32; ++g)
      sbt[g * (e * n) + row] = qw.scaleCodes[row * (k / 32) + g];
  kernel(c.module, "expert_fp4")
      .launch({Tensor(aq.data(), DType::Float8E4M3, {r, k}),
               Tensor(as.data(), DType::Float32, {r, k / 128}),
               Tensor(got.data(), DType::Float32, {r, n}),
               Tensor(qw.data.data(), DType::Int32, {e * n, k / 8}),
               Tensor(sbt.data(), DType::Int8, {k / 32, e * n}),
               Tensor(offsets.data(), DType::Int32, {e + 1}),
               Tensor(tiles.data(), DType::Int32, {e + 1})});
  // Each placed row against the exact dot of the dequantised values; the rows past them are
  // never written.
  auto check = [&](const std::vector<float> &out, const char *path) {
  for (int64_t ex = 0; ex < e; ++ex)
    for (int64_t row = offsets[ex]; row < offsets[ex + 1]; ++row)
      for (int64_t col = 0; col < n; ++col) {
        const int64_t wr = ex * n + col;
        double s = 0, mag = 0, lossy = 0;
        for (int64_t j = 0; j < k; ++j) {
          const uint8_t byte = qw.data[(wr * k + j) / 2];
          const uint8_t code = j % 2 ? tlrt::unpackE2M1Odd(byte) : tlrt::unpackE2M1Even(byte);
          const double p = double(deq[row][j]) * tlrt::e2m1ToF32(code) *
                           tlrt::ue8m0ToF32(qw.scaleCodes[wr * (k / 32) + j / 32]);
          s += p;
          mag += std::abs(p);
          // A group more than 8 binades below its block's largest: its values may be off by
          // half an e4m3 subnormal step of the block's scale, 2^-10 * 2^smax.
          int smax = 0;
          for (int64_t g = j / 128 * 4; g < j / 128 * 4 + 4; ++g)
            smax = std::max<int>(smax, qw.scaleCodes[wr * (k / 32) + g]);
          if (smax - qw.scaleCodes[wr * (k / 32) + j / 32] > 8)
            lossy += std::abs(double(deq[row][j])) * std::ldexp(1.0, smax - 127 - 10);
        }
        // Sums in f32 (CPU); Hopper's FP8 MMA accumulates each 128-wide block with about 14
        // bits before the f32 promotion (linear_test.cpp): up to 2.8e-4 of the magnitude
        // measured on an H100 (2026-12-06).
        const double rel = tlv4_test::gpuKernelDir() ? 5e-4 : 1e-5;
        ASSERT_LE(std::abs(out[row * n + col] - s), rel * mag + lossy + 1e-30)
            << c.module << " " << path << " expert " << ex << " row " << row << " col " << col;
      }
  for (int64_t i = placed * n; i < r * n; ++i)
    ASSERT_EQ(out[i], poison) << path << ": a row past the placed ones was written";
  };
  check(got, "expert_fp4");

  // The staged form: fp4_to_fp8 writes the e4m3 codes and a scale per row and k-block once,
  // expert_fp8 multiplies them. The same codes and scales as expert_fp4's in-tile decode.
  std::vector<uint8_t> w8(e * n * k, 0xFF);
  std::vector<float> sw(e * n * (k / 128), -1.0f);
  kernel(c.module, "fp4_to_fp8")
      .launch({Tensor(qw.data.data(), DType::Int32, {e * n, k / 8}),
               Tensor(sbt.data(), DType::Int8, {k / 32, e * n}),
               Tensor(w8.data(), DType::Int32, {e * n, k / 4}),
               Tensor(sw.data(), DType::Float32, {e * n, k / 128})});
  for (int64_t row = 0; row < e * n; ++row)
    for (int64_t kb = 0; kb < k / 128; ++kb) {
      int smax = 0;
      for (int64_t g = kb * 4; g < kb * 4 + 4; ++g)
        smax = std::max<int>(smax, qw.scaleCodes[row * (k / 32) + g]);
      ASSERT_EQ(sw[row * (k / 128) + kb], tlrt::ue8m0ToF32(uint8_t(smax))) << "row " << row;
    }
  std::vector<float> staged(r * n, poison);
  kernel(c.module, "expert_fp8")
      .launch({Tensor(aq.data(), DType::Float8E4M3, {r, k}),
               Tensor(as.data(), DType::Float32, {r, k / 128}),
               Tensor(staged.data(), DType::Float32, {r, n}),
               Tensor(w8.data(), DType::Float8E4M3, {e * n, k}),
               Tensor(sw.data(), DType::Float32, {e * n, k / 128}),
               Tensor(offsets.data(), DType::Int32, {e + 1}),
               Tensor(tiles.data(), DType::Int32, {e + 1})});
  check(staged, "fp4_to_fp8 + expert_fp8");
  if (!tlv4_test::gpuKernelDir()) { // the CPU sums both in the same order
    EXPECT_EQ(staged, got) << c.module << ": the staged form differs from expert_fp4";
  }
}

TEST(V4Experts, GroupedFp4Gemm) {
  runExperts({"expert_tiny", 8, 128, 128, 256, {3, 0, 64, 65, 0, 1, 130, 2}}, 1);
  runExperts({"expert_tiny", 8, 128, 256, 128, {0, 0, 0, 1, 0, 0, 0, 0}}, 2); // one row
  std::vector<int32_t> rows(256, 0);
  rows[3] = 2;
  rows[17] = 129;
  rows[255] = 5;
  runExperts({"expert_v4", 256, 128, 208, 384, rows}, 3); // N ragged against the tile
  runExperts({"expert_v4_dec", 256, 64, 208, 384, rows}, 6); // the decode build
  std::vector<int32_t> one(256, 0); // a decode step at batch 1: six experts of one row
  for (int e : {0, 9, 77, 128, 200, 255})
    one[e] = 1;
  runExperts({"expert_v4_dec", 256, 64, 64, 256, one}, 7);
  // Group scales 8 and 12 binades apart within a block: exact, then bounded.
  runExperts({"expert_tiny", 8, 128, 128, 256, {3, 0, 64, 1, 0, 1, 9, 2}, 8}, 4);
  runExperts({"expert_tiny", 8, 128, 128, 256, {3, 0, 64, 1, 0, 1, 9, 2}, 12}, 5);
}

TEST(V4Experts, Gather) {
  const char *module = "expert_tiny";
  if (!tlv4_test::available(module))
    return;
  const int64_t nTok = 5, kSlots = 2, d = 256, e = 8, r = nTok * kSlots;
  std::vector<uint8_t> xq(nTok * d);
  for (size_t i = 0; i < xq.size(); ++i)
    xq[i] = uint8_t(i * 7 + 3);
  std::vector<float> xs(nTok * 2), wt(nTok * kSlots);
  std::iota(xs.begin(), xs.end(), 1.0f);
  std::iota(wt.begin(), wt.end(), 100.0f);
  // 7 of the 10 assignments placed, in a permuted order.
  std::vector<int32_t> perm = {9, 0, 4, 3, 7, 1, 6, -5, -5, -5};
  std::vector<int32_t> offsets = {0, 1, 2, 3, 3, 5, 6, 7, 7};
  std::vector<uint8_t> aq(r * d, 0xEE);
  std::vector<float> as(r * 2, -1.0f), wr(r, -1.0f);
  kernel(module, "moe_gather")
      .launch({Tensor(perm.data(), DType::Int32, {r}), Tensor(offsets.data(), DType::Int32, {e + 1}),
               Tensor(xq.data(), DType::Float8E4M3, {nTok, d}),
               Tensor(xs.data(), DType::Float32, {nTok, 2}),
               Tensor(wt.data(), DType::Float32, {nTok, kSlots}),
               Tensor(aq.data(), DType::Float8E4M3, {r, d}), Tensor(as.data(), DType::Float32, {r, 2}),
               Tensor(wr.data(), DType::Float32, {r})});
  for (int64_t row = 0; row < r; ++row) {
    if (row >= 7) {
      EXPECT_EQ(wr[row], -1.0f);
      EXPECT_EQ(aq[row * d], 0xEE);
      continue;
    }
    const int64_t tok = perm[row] / kSlots;
    for (int64_t j = 0; j < d; ++j)
      ASSERT_EQ(aq[row * d + j], xq[tok * d + j]) << "row " << row;
    EXPECT_EQ(as[row * 2], xs[tok * 2]);
    EXPECT_EQ(as[row * 2 + 1], xs[tok * 2 + 1]);
    EXPECT_EQ(wr[row], wt[perm[row]]);
  }
}

} // namespace
