// Sparse attention with sink (models/deepseek_v4/kernels/sparse_attn.tl) on the CPU target
// against the reference's sparseAttention (ReferenceAttention.cpp): prefill over bf16 KV
// rows, decode over the FP8 cache (e4m3 codes + one power-of-two scale per 64 dims + bf16
// RoPE dims) split over NS blocks and merged by sparse_attn_combine. KV rows are what the
// model stores: non-RoPE dims on the FP8 grid (ref::fakeQuantFp8InPlace), RoPE dims bf16.
// Index lists mix valid rows, duplicates, -1 and past-the-end slots, and the V4 shape of a
// window of positions plus compressed entries across compression boundaries.
#include "V4KernelSupport.h"

#include "tlv4/ReferenceAttention.h"
#include "tlv4/ReferenceOps.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace {

using tlrt::DType;
using tlrt::Tensor;
using tlv4_test::kernel;

struct Shape {
  int64_t b, s, h, d, n, k; // batch, queries, heads, head width, KV rows, index slots
  int64_t dr = 64;          // RoPE dims (the tail of each row)
};

// One sequence's KV buffer as the model stores it: FP8-grid non-RoPE dims, bf16 RoPE dims.
std::vector<float> makeKv(const Shape &sh, uint32_t seed) {
  std::vector<float> kv = tlv4_test::uniform(sh.b * sh.n * sh.d, seed, -2, 2);
  for (int64_t r = 0; r < sh.b * sh.n; ++r) {
    float *row = &kv[r * sh.d];
    tlv4::ref::fakeQuantFp8InPlace(row, sh.d - sh.dr, 64);
  }
  return tlv4_test::roundBf16(kv);
}

// The reference output and natural-log sum of one query (heads x d) over its index list.
struct RefOut {
  std::vector<float> o;
  std::vector<double> lse;
};
RefOut reference(const std::vector<float> &q, const float *kv, const Shape &sh,
                 const int32_t *idx, const std::vector<float> &sink, float scale) {
  std::vector<const std::vector<float> *> entries;
  std::vector<std::vector<float>> rows;
  rows.reserve(sh.k);
  for (int64_t i = 0; i < sh.k; ++i)
    if (idx[i] >= 0 && idx[i] < sh.n)
      rows.emplace_back(kv + idx[i] * sh.d, kv + (idx[i] + 1) * sh.d);
  for (auto &r : rows)
    entries.push_back(&r);
  RefOut out;
  out.o = tlv4::ref::sparseAttention(q, sh.h, sh.d, entries, sink, scale);
  for (int64_t h = 0; h < sh.h; ++h) {
    double sum = std::exp(double(sink[h]));
    for (auto *e : entries) {
      double s = 0;
      for (int64_t c = 0; c < sh.d; ++c)
        s += double(q[h * sh.d + c]) * (*e)[c];
      sum += std::exp(s * scale);
    }
    out.lse.push_back(std::log(sum));
  }
  return out;
}

// O is bf16 and P is rounded to bf16 for the P V product: each output is within a few bf16
// ulps of max |kv| of exact math.
void expectClose(const std::string &where, const std::vector<float> &got,
                 const std::vector<float> &want, const std::vector<float> &gotLse,
                 const std::vector<double> &wantLse) {
  size_t at = 0;
  double r = tlv4_test::worstRatio(got, want, 2.0 * 0x1p-7, 0x1p-7, &at);
  EXPECT_LE(r, 1.0) << where << ": O[" << at << "] = " << got[at] << ", reference "
                    << want[at];
  for (size_t i = 0; i < wantLse.size(); ++i)
    ASSERT_NEAR(gotLse[i], wantLse[i], 1e-4 * (1 + std::abs(wantLse[i])))
        << where << ": Lse[" << i << "]";
}

// Random index lists over [0, n): valid rows (with repeats), -1 and past-the-end slots, and
// one query whose slots are all unused (its output is all sink: zero).
std::vector<int32_t> makeIdx(const Shape &sh, int64_t queries, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> idx(queries * sh.k);
  for (int64_t q = 0; q < queries; ++q)
    for (int64_t i = 0; i < sh.k; ++i) {
      uint32_t u = rng() % 16;
      idx[q * sh.k + i] = u == 0 ? -1 : u == 1 ? int32_t(sh.n + rng() % 7) : int32_t(rng() % sh.n);
    }
  std::fill_n(idx.begin() + (queries - 1) * sh.k, sh.k, -1);
  return idx;
}

std::vector<float> makeSink(int64_t h, uint32_t seed) {
  return tlv4_test::uniform(h, seed, -1.5f, 1.5f);
}

void runPrefill(const std::string &module, const Shape &sh, float scale, uint32_t seed,
                std::vector<int32_t> idx = {}) {
  std::vector<float> q = tlv4_test::roundBf16(tlv4_test::uniform(sh.b * sh.s * sh.h * sh.d, seed));
  std::vector<float> kv = makeKv(sh, seed + 1);
  if (idx.empty())
    idx = makeIdx(sh, sh.b * sh.s, seed + 2);
  std::vector<float> sink = makeSink(sh.h, seed + 3);
  std::vector<uint16_t> qb = tlv4_test::toBf16(q), kvb = tlv4_test::toBf16(kv);
  std::vector<uint16_t> ob(sh.b * sh.s * sh.h * sh.d, 0x7fc0);
  std::vector<float> lse(sh.b * sh.s * sh.h, NAN);
  kernel(module, "sparse_attn_prefill")
      .launch({Tensor(qb.data(), DType::BFloat16, {sh.b, sh.s, sh.h, sh.d}),
               Tensor(kvb.data(), DType::BFloat16, {sh.b, sh.n, sh.d}),
               Tensor(idx.data(), DType::Int32, {sh.b, sh.s, sh.k}),
               Tensor(sink.data(), DType::Float32, {sh.h}),
               Tensor(ob.data(), DType::BFloat16, {sh.b, sh.s, sh.h, sh.d}),
               Tensor(lse.data(), DType::Float32, {sh.b, sh.s, sh.h})});
  std::vector<float> o = tlv4_test::fromBf16(ob);
  for (int64_t b = 0; b < sh.b; ++b)
    for (int64_t s = 0; s < sh.s; ++s) {
      const int64_t row = b * sh.s + s;
      std::vector<float> qi(q.begin() + row * sh.h * sh.d, q.begin() + (row + 1) * sh.h * sh.d);
      RefOut want = reference(qi, &kv[b * sh.n * sh.d], sh, &idx[row * sh.k], sink, scale);
      std::vector<float> got(o.begin() + row * sh.h * sh.d, o.begin() + (row + 1) * sh.h * sh.d);
      std::vector<float> gotLse(lse.begin() + row * sh.h, lse.begin() + (row + 1) * sh.h);
      expectClose(module + " b=" + std::to_string(b) + " s=" + std::to_string(s), got, want.o,
                  gotLse, want.lse);
    }
}

float defaultScale(const Shape &sh) { return 1.0f / std::sqrt(float(sh.d)); }

TEST(V4SparseAttnPrefill, TinyHeads) {
  Shape sh{2, 5, 4, 256, 150, 70};
  runPrefill("sparse_attn_tiny", sh, defaultScale(sh), 11);
  runPrefill("sparse_attn_tiny90", sh, defaultScale(sh), 12);
}

TEST(V4SparseAttnPrefill, FlashHeads) {
  Shape sh{1, 3, 64, 512, 300, 160};
  runPrefill("sparse_attn_v4", sh, defaultScale(sh), 21);
  runPrefill("sparse_attn_v4_90", sh, defaultScale(sh), 22);
}

TEST(V4SparseAttnPrefill, TwoHeadBlocks) {
  Shape sh{2, 3, 128, 128, 90, 100};
  runPrefill("sparse_attn_h128_90", sh, 0.125f, 31);
}

// The V4 index list of a CSA/HCA layer: the window of the last W positions (rows [0, S) of
// the buffer hold the raw tokens), then compressed entries (rows S + j) visible to the
// query: entry j is complete once (j + 1) * ratio <= pos + 1. HCA takes all of them; this
// list takes every other one, as a top-k would take a subset.
TEST(V4SparseAttnPrefill, WindowAndCompressedEntries) {
  const int64_t S = 40, W = 16, ratio = 4, topk = 8;
  Shape sh{1, S, 4, 256, S + S / ratio, W + topk};
  std::vector<int32_t> idx(S * sh.k, -1);
  for (int64_t pos = 0; pos < S; ++pos) {
    int32_t *row = &idx[pos * sh.k];
    int64_t slot = 0;
    for (int64_t p = std::max<int64_t>(0, pos - W + 1); p <= pos; ++p)
      row[slot++] = int32_t(p);
    const int64_t visible = (pos + 1) / ratio;
    for (int64_t j = visible - 1, taken = 0; j >= 0 && taken < topk; j -= 2, ++taken)
      row[W + taken] = int32_t(S + j);
  }
  runPrefill("sparse_attn_tiny", sh, defaultScale(sh), 41, idx);
  runPrefill("sparse_attn_tiny90", sh, defaultScale(sh), 42, idx);
}

// ---------------------------------------------------------------- decode ---
void runDecode(const std::string &module, const Shape &sh, int64_t splits, float scale,
               uint32_t seed) {
  ASSERT_EQ(sh.s, 1);
  const int64_t dn = sh.d - sh.dr, groups = dn / 64;
  std::vector<float> q = tlv4_test::roundBf16(tlv4_test::uniform(sh.b * sh.h * sh.d, seed));
  std::vector<float> kv = makeKv(sh, seed + 1);
  std::vector<int32_t> idx = makeIdx(sh, sh.b, seed + 2);
  std::vector<float> sink = makeSink(sh.h, seed + 3);
  // The cache form of each row: codes + scales for the non-RoPE dims, bf16 RoPE dims.
  std::vector<uint8_t> codes(sh.b * sh.n * dn);
  std::vector<float> scales(sh.b * sh.n * groups);
  std::vector<uint16_t> rope(sh.b * sh.n * sh.dr);
  for (int64_t r = 0; r < sh.b * sh.n; ++r) {
    const float *row = &kv[r * sh.d];
    for (int64_t g = 0; g < groups; ++g) {
      float amax = 0;
      for (int64_t c = 0; c < 64; ++c)
        amax = std::max(amax, std::abs(row[g * 64 + c]));
      const float s = tlrt::ue8m0ToF32(tlrt::ue8m0QuantScale(amax, tlrt::kE4M3Max));
      scales[r * groups + g] = s;
      for (int64_t c = 0; c < 64; ++c) {
        codes[r * dn + g * 64 + c] = tlrt::f32ToE4M3(row[g * 64 + c] / s);
        ASSERT_EQ(tlrt::e4m3ToF32(codes[r * dn + g * 64 + c]) * s, row[g * 64 + c]);
      }
    }
    for (int64_t c = 0; c < sh.dr; ++c)
      rope[r * sh.dr + c] = tlrt::f32ToBF16(row[dn + c]);
  }
  std::vector<uint16_t> qb = tlv4_test::toBf16(q);
  std::vector<float> op(sh.b * splits * sh.h * sh.d, NAN), lp(sh.b * splits * sh.h, NAN);
  kernel(module, "sparse_attn_decode")
      .launch({Tensor(qb.data(), DType::BFloat16, {sh.b, sh.h, sh.d}),
               Tensor(codes.data(), DType::Float8E4M3, {sh.b, sh.n, dn}),
               Tensor(scales.data(), DType::Float32, {sh.b, sh.n, groups}),
               Tensor(rope.data(), DType::BFloat16, {sh.b, sh.n, sh.dr}),
               Tensor(idx.data(), DType::Int32, {sh.b, sh.k}),
               Tensor(op.data(), DType::Float32, {sh.b, splits, sh.h, sh.d}),
               Tensor(lp.data(), DType::Float32, {sh.b, splits, sh.h})});
  std::vector<uint16_t> ob(sh.b * sh.h * sh.d, 0x7fc0);
  std::vector<float> lse(sh.b * sh.h, NAN);
  kernel(module, "sparse_attn_combine")
      .launch({Tensor(op.data(), DType::Float32, {sh.b, splits, sh.h, sh.d}),
               Tensor(lp.data(), DType::Float32, {sh.b, splits, sh.h}),
               Tensor(sink.data(), DType::Float32, {sh.h}),
               Tensor(ob.data(), DType::BFloat16, {sh.b, sh.h, sh.d}),
               Tensor(lse.data(), DType::Float32, {sh.b, sh.h})});
  std::vector<float> o = tlv4_test::fromBf16(ob);
  for (int64_t b = 0; b < sh.b; ++b) {
    std::vector<float> qi(q.begin() + b * sh.h * sh.d, q.begin() + (b + 1) * sh.h * sh.d);
    RefOut want = reference(qi, &kv[b * sh.n * sh.d], sh, &idx[b * sh.k], sink, scale);
    std::vector<float> got(o.begin() + b * sh.h * sh.d, o.begin() + (b + 1) * sh.h * sh.d);
    std::vector<float> gotLse(lse.begin() + b * sh.h, lse.begin() + (b + 1) * sh.h);
    expectClose(module + " decode b=" + std::to_string(b) + " splits=" + std::to_string(splits),
                got, want.o, gotLse, want.lse);
  }
}

TEST(V4SparseAttnDecode, TinyHeadsSplits) {
  Shape sh{3, 1, 4, 256, 200, 150};
  for (int64_t splits : {1, 2, 5})
    runDecode("sparse_attn_tiny", sh, splits, defaultScale(sh), 51 + splits);
  runDecode("sparse_attn_tiny90", sh, 3, defaultScale(sh), 57);
}

// More splits than tiles: the empty splits must drop out of the merge.
TEST(V4SparseAttnDecode, EmptySplits) {
  Shape sh{2, 1, 4, 256, 50, 20};
  runDecode("sparse_attn_tiny", sh, 4, defaultScale(sh), 61);
}

TEST(V4SparseAttnDecode, FlashHeads) {
  Shape sh{2, 1, 64, 512, 260, 200};
  runDecode("sparse_attn_v4", sh, 2, defaultScale(sh), 71);
  runDecode("sparse_attn_v4_90", sh, 3, defaultScale(sh), 72);
}

} // namespace
