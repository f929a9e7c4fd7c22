// The dense linears (models/deepseek_v4/kernels/linear.tl) on the CPU target against the
// reference's Linear (ReferenceOps.cpp): weights quantised the way checkpoints are
// (quantizeFp8Blocks: e4m3 in 128 x 128 blocks, power-of-two scales), activations by the
// reference's own actQuant (1 x 128), so both sides multiply the same values and differ only
// in f32 summation order. linear_fp8: plain (ragged tokens and output rows, a decode-sized
// batch of 1) and grouped (wo_a: group g's rows read the g-th slice of the input, as
// applyRows does). linear_bf16 (with its factor alpha) against a double dot of the bf16 values;
// cast_bf16 and cast_f32 bit for bit. The decode steps' split forms (linear_fp8_split,
// linear_bf16_split: K in slices, partial tiles added by split_sum) against the same.
#include "V4KernelSupport.h"

#include "tlv4/Quantize.h"

#include <cmath>

namespace {

using tlrt::DType;
using tlrt::Tensor;
using tlv4_test::kernel;
namespace ref = tlv4::ref;

// |got - want| within f32 summation error of a k-term dot: 1e-5 of sum |products| per row.
// On the GPU the FP8 products go through Hopper's FP8 MMA, which accumulates a 128-wide block
// with fewer bits than f32 (measured on an H100: up to 1.5e-5 of the magnitude; DeepGEMM
// reports about 14 bits), before the f32 promotion: 2.5e-4 there.
void expectClose(const std::vector<float> &got, const std::vector<float> &want,
                 const std::vector<float> &mag, const std::string &what, bool fp8 = false) {
  ASSERT_EQ(got.size(), want.size());
  const double rel = fp8 && tlv4_test::gpuKernelDir() ? 2.5e-4 : 1e-5;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::abs(double(got[i]) - want[i]), rel * mag[i] + 1e-30)
        << what << " element " << i << ": got " << got[i] << ", want " << want[i];
}

struct Fp8Case {
  const char *module;
  int64_t g, m, n, kw; // groups, tokens, output rows (all groups), input width per group
};

void runFp8(const Fp8Case &c, uint32_t seed) {
  if (!tlv4_test::available(c.module))
    return;
  const int64_t ka = c.g * c.kw, kb = ka / 128;
  std::vector<float> w = tlv4_test::uniform(c.n * c.kw, seed, -0.05f, 0.05f);
  // Blocks of different magnitudes, so the scales differ from block to block.
  for (int64_t r = 0; r < c.n; ++r)
    for (int64_t k = 0; k < c.kw; ++k)
      w[r * c.kw + k] *= std::ldexp(1.0f, int((r / 128 + k / 128) % 5) - 2);
  tlv4::QuantizedWeight qw = tlv4::quantizeFp8Blocks(w, c.n, c.kw);
  ref::Linear lin{"w", c.n, c.kw, {}, true};
  lin.weight.resize(c.n * c.kw);
  const int64_t sbCols = c.kw / 128;
  for (int64_t r = 0; r < c.n; ++r)
    for (int64_t k = 0; k < c.kw; ++k)
      lin.weight[r * c.kw + k] =
          tlrt::e4m3ToF32(qw.data[r * c.kw + k]) * qw.scales[(r / 128) * sbCols + k / 128];

  std::vector<float> x = tlv4_test::uniform(c.m * ka, seed + 1, -3.0f, 3.0f);
  for (int64_t i = 0; i < c.m * ka; ++i) // each 1 x 128 block its own scale
    x[i] *= std::ldexp(1.0f, int((i / ka + (i % ka) / 128) % 6) - 3);
  std::vector<uint8_t> aq(c.m * ka);
  std::vector<float> as(c.m * kb);
  std::vector<float> want(c.m * c.n), mag(c.m * c.n);
  const int64_t rowsPerGroup = c.n / c.g;
  for (int64_t t = 0; t < c.m; ++t) {
    ref::Vec row(x.begin() + t * ka, x.begin() + (t + 1) * ka);
    ref::ActQuant q = ref::actQuant(row);
    std::copy(q.codes.begin(), q.codes.end(), aq.begin() + t * ka);
    std::copy(q.scales.begin(), q.scales.end(), as.begin() + t * kb);
    const ref::Vec deq = q.dequantized();
    for (int64_t gi = 0; gi < c.g; ++gi) {
      ref::Vec slice(row.begin() + gi * c.kw, row.begin() + (gi + 1) * c.kw);
      ref::Vec y = lin.applyRows(slice, gi * rowsPerGroup, rowsPerGroup);
      for (int64_t r = 0; r < rowsPerGroup; ++r) {
        const int64_t n = gi * rowsPerGroup + r;
        want[t * c.n + n] = y[r];
        double s = 0;
        for (int64_t k = 0; k < c.kw; ++k)
          s += std::abs(double(deq[gi * c.kw + k]) * lin.weight[n * c.kw + k]);
        mag[t * c.n + n] = float(s);
      }
    }
  }
  std::vector<float> got(c.m * c.n, -7.0f);
  kernel(c.module, "linear_fp8")
      .launch({Tensor(aq.data(), DType::Float8E4M3, {c.m, ka}),
               Tensor(as.data(), DType::Float32, {c.m, kb}),
               Tensor(qw.data.data(), DType::Float8E4M3, {c.n, c.kw}),
               Tensor(qw.scales.data(), DType::Float32, {(c.n + 127) / 128, sbCols}),
               Tensor(got.data(), DType::Float32, {c.m, c.n})});
  expectClose(got, want, mag, c.module, /*fp8=*/true);

  // Decode steps' split form: S slices of the k-blocks into partial tiles, added in order by
  // split_sum. One slice is linear_fp8 itself (64-row tiles; bit for bit on the CPU).
  for (int64_t split : {int64_t(1), int64_t(3), c.kw / 128}) {
    if (split > c.kw / 128)
      continue;
    std::vector<float> part(split * c.m * c.n, -7.0f), sum(c.m * c.n, -7.0f);
    kernel(c.module, "linear_fp8_split")
        .launch({Tensor(aq.data(), DType::Float8E4M3, {c.m, ka}),
                 Tensor(as.data(), DType::Float32, {c.m, kb}),
                 Tensor(qw.data.data(), DType::Float8E4M3, {c.n, c.kw}),
                 Tensor(qw.scales.data(), DType::Float32, {(c.n + 127) / 128, sbCols}),
                 Tensor(part.data(), DType::Float32, {split, c.m, c.n})});
    kernel(c.module, "split_sum")
        .launch({Tensor(part.data(), DType::Float32, {split, c.m, c.n}),
                 Tensor(sum.data(), DType::Float32, {c.m, c.n})});
    const std::string what = std::string(c.module) + " split " + std::to_string(split);
    expectClose(sum, want, mag, what, /*fp8=*/true);
    if (split == 1 && !tlv4_test::gpuKernelDir()) {
      EXPECT_EQ(sum, got) << what;
    }
  }
}

TEST(V4Linear, Fp8Plain) {
  runFp8({"linear_v4", 1, 130, 256, 384}, 1);
  runFp8({"linear_v4", 1, 1, 320, 256}, 2);  // one token; output rows past the last tile
  runFp8({"linear_v4", 1, 7, 1024, 128}, 3); // the tiny wq_b's shape
}

TEST(V4Linear, Fp8GroupedOutputProjection) {
  runFp8({"linear_g2", 2, 5, 128, 512}, 4);  // the tiny config's wo_a: 2 groups of 64
  runFp8({"linear_g2", 2, 129, 256, 256}, 5);
  runFp8({"linear_g8", 8, 3, 8 * 256, 256}, 6);
}

TEST(V4Linear, Bf16) {
  const char *module = "linear_v4";
  if (!tlv4_test::available(module))
    return;
  for (auto [m, n, k] : {std::array<int64_t, 3>{3, 8, 256}, {131, 200, 320}}) {
    std::vector<uint16_t> a = tlv4_test::toBf16(tlv4_test::uniform(m * k, uint32_t(m), -2, 2));
    std::vector<uint16_t> b = tlv4_test::toBf16(tlv4_test::uniform(n * k, uint32_t(n), -1, 1));
    std::vector<float> got(m * n, -7.0f), want(m * n), mag(m * n);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0, sa = 0;
        for (int64_t q = 0; q < k; ++q) {
          const double p = double(tlrt::bf16ToF32(a[i * k + q])) * tlrt::bf16ToF32(b[j * k + q]);
          s += p;
          sa += std::abs(p);
        }
        want[i * n + j] = float(s * 0.375);
        mag[i * n + j] = float(sa * 0.375);
      }
    kernel(module, "linear_bf16")
        .launch({Tensor(a.data(), DType::BFloat16, {m, k}), Tensor(b.data(), DType::BFloat16, {n, k}),
                 Tensor(got.data(), DType::Float32, {m, n}), 0.375f});
    expectClose(got, want, mag, "linear_bf16");
    for (int64_t split : {1, 2, 5}) {
      std::vector<float> part(split * m * n, -7.0f), sum(m * n, -7.0f);
      kernel(module, "linear_bf16_split")
          .launch({Tensor(a.data(), DType::BFloat16, {m, k}), Tensor(b.data(), DType::BFloat16, {n, k}),
                   Tensor(part.data(), DType::Float32, {split, m, n}), 0.375f});
      kernel(module, "split_sum")
          .launch({Tensor(part.data(), DType::Float32, {split, m, n}),
                   Tensor(sum.data(), DType::Float32, {m, n})});
      expectClose(sum, want, mag, "linear_bf16_split " + std::to_string(split));
    }
  }
}

TEST(V4Linear, CastBf16) {
  const char *module = "linear_v4";
  if (!tlv4_test::available(module))
    return;
  const int64_t n = 3, d = 1100; // a ragged last column block
  std::vector<float> x = tlv4_test::uniform(n * d, 9, -1e3f, 1e3f);
  x[5] = -0.0f;
  x[6] = 1e-40f; // subnormal
  std::vector<uint16_t> y(n * d, 0x7fff);
  kernel(module, "cast_bf16")
      .launch({Tensor(x.data(), DType::Float32, {n, d}), Tensor(y.data(), DType::BFloat16, {n, d})});
  EXPECT_EQ(y, tlv4_test::toBf16(x));
  std::vector<float> back(n * d, -1.0f);
  kernel(module, "cast_f32")
      .launch({Tensor(y.data(), DType::BFloat16, {n, d}), Tensor(back.data(), DType::Float32, {n, d})});
  EXPECT_EQ(back, tlv4_test::fromBf16(y));
}

} // namespace
