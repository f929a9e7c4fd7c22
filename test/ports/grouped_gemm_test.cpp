// test/ports/kernels/grouped_gemm.tl on the CPU target against a double-precision
// reference of the bf16-rounded inputs.
//
// Forward: C[r, :] = A[r, :] @ B[g] for the rows r of group g; rows that no group covers
// (gaps between groups, a tail after the last) must keep their poison bits. Backward:
// dB[g] = A[rows of g]^T @ dC[rows of g], every element written (0 for an empty group).
// Group splits: the original example's test lists (with small K and N), ragged sizes,
// zero-size groups (between others, first, last, all of them), 33 groups, gaps.
// Variants (grouped_gemm.cmake): BM = 128 (sm_100a code), 64 (sm_90a code), 16, 32; the
// host builds batch_padded_offsets with the variant's BM as the original's host code does.
//
// Tolerance: outputs are bf16 (RNE, relative error <= 2^-9); f32 accumulation of at most
// ~400 products of magnitude <= 1 adds well under 1e-4. We allow 2^-8 relative + 1e-3.
#include "PortSupport.h"

#include "tlrt/LowPrecision.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>

namespace {

using tlrt::DType;
using tlrt::Tensor;

constexpr uint16_t kPoison = 0xFFC1; // a bf16 NaN no computation produces

struct Variant {
  const char *module;
  int64_t bmFwd, bmBwd;
};

const Variant kVariants[] = {
    {"grouped_gemm", 128, 128},
    {"grouped_gemm_sm90", 64, 64},
    {"grouped_gemm_small", 16, 16},
    {"grouped_gemm_odd", 32, 32},
};

/// A split of S rows into groups: group g is rows [offsets[g], offsets[g] + sizes[g]).
struct Split {
  std::string what;
  std::vector<int32_t> sizes, offsets;
  int64_t rows = 0; // S
};

/// Groups laid out one after the other, `gaps[g]` uncovered rows before group g (none
/// when `gaps` is empty), `tail` uncovered rows after the last.
Split makeSplit(std::string what, std::vector<int32_t> sizes, std::vector<int32_t> gaps = {},
                int32_t tail = 0) {
  Split s{std::move(what), std::move(sizes), {}, 0};
  int32_t at = 0;
  for (size_t g = 0; g < s.sizes.size(); ++g) {
    at += gaps.empty() ? 0 : gaps[g];
    s.offsets.push_back(at);
    at += s.sizes[g];
  }
  s.rows = at + tail;
  return s;
}

std::vector<Split> splits() {
  std::vector<Split> out;
  // The original example's lists.
  out.push_back(makeSplit("{64}", {64}));
  out.push_back(makeSplit("{64,128,256}", {64, 128, 256}));
  out.push_back(makeSplit("{63}", {63}));
  out.push_back(makeSplit("{100,200,300,400}", {100, 200, 300, 400}));
  out.push_back(makeSplit("{63,77,111,280}", {63, 77, 111, 280}));
  // Empty groups in every position, single rows, sizes around the tiles.
  out.push_back(makeSplit("empties", {0, 37, 0, 0, 129, 1, 0}));
  out.push_back(makeSplit("around tiles", {15, 17, 31, 33, 127, 129, 1}));
  out.push_back(makeSplit("all empty + tail", {0, 0, 0}, {}, 5));
  out.push_back(makeSplit("gaps + tail", {17, 0, 45, 130}, {3, 0, 7, 1}, 9));
  // Many groups, random sizes in [0, 70].
  std::mt19937 rng(7);
  std::vector<int32_t> many(33);
  for (auto &x : many)
    x = static_cast<int32_t>(rng() % 71);
  many[5] = 0;
  out.push_back(makeSplit("33 groups", many));
  return out;
}

/// bf16 values uniform in [-1, 1), and the same values as floats.
struct Bf16Data {
  std::vector<uint16_t> bits;
  std::vector<float> f;
};
Bf16Data randomBf16(size_t n, uint32_t seed) {
  Bf16Data d;
  d.f = tlc_port::uniform(n, seed);
  for (float &x : d.f) {
    d.bits.push_back(tlrt::f32ToBF16(x));
    x = tlrt::bf16ToF32(d.bits.back());
  }
  return d;
}

/// The original host code: each group's tiles start at a multiple of BM, and a group of
/// size s gets ceil((s + 1) / BM) tiles.
std::vector<int32_t> paddedOffsets(const std::vector<int32_t> &sizes, int64_t bm) {
  std::vector<int32_t> p{0};
  for (size_t g = 0; g + 1 < sizes.size(); ++g)
    p.push_back(static_cast<int32_t>(p.back() + (sizes[g] + 1 + bm - 1) / bm * bm));
  return p;
}

int64_t constantOf(const tlrt::Kernel &k, const char *name) { return k.spec().constants.at(name); }

void runForward(const Variant &v, const Split &s, int64_t K, int64_t N) {
  const auto &kern = tlc_port::kernel(v.module, "grouped_gemm_fwd");
  ASSERT_EQ(constantOf(kern, "BM"), v.bmFwd) << v.module;
  const int64_t S = s.rows, G = static_cast<int64_t>(s.sizes.size());
  const uint32_t seed = static_cast<uint32_t>(S * 31 + K * 7 + N + G);
  Bf16Data a = randomBf16(S * K, seed), b = randomBf16(G * K * N, seed + 1);
  std::vector<uint16_t> c(S * N, kPoison);
  std::vector<int32_t> sizes = s.sizes, offsets = s.offsets;
  std::vector<int32_t> padded = paddedOffsets(sizes, v.bmFwd);

  kern.launch({Tensor(a.bits.data(), DType::BFloat16, {S, K}),
               Tensor(b.bits.data(), DType::BFloat16, {G, K, N}),
               Tensor(c.data(), DType::BFloat16, {S, N}), Tensor(sizes.data(), DType::Int32, {G}),
               Tensor(offsets.data(), DType::Int32, {G}),
               Tensor(padded.data(), DType::Int32, {G})});

  std::vector<int> owner(S, -1);
  for (int64_t g = 0; g < G; ++g)
    for (int32_t r = 0; r < s.sizes[g]; ++r)
      owner[s.offsets[g] + r] = static_cast<int>(g);
  std::vector<float> got, want;
  int untouchedBad = 0;
  for (int64_t r = 0; r < S; ++r) {
    if (owner[r] < 0) {
      for (int64_t n = 0; n < N; ++n)
        untouchedBad += c[r * N + n] != kPoison;
      continue;
    }
    const float *bg = &b.f[owner[r] * K * N];
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += double(a.f[r * K + k]) * bg[k * N + n];
      want.push_back(static_cast<float>(acc));
      got.push_back(tlrt::bf16ToF32(c[r * N + n]));
    }
  }
  EXPECT_EQ(untouchedBad, 0) << v.module << " fwd " << s.what
                             << ": elements of rows outside every group were written";
  size_t at = 0;
  double worst = tlc_port::worstRatio(got, want, 1e-3, 1.0 / 256, &at);
  EXPECT_LE(worst, 1.0) << v.module << " fwd " << s.what << " K=" << K << " N=" << N
                        << ": worst at valid element " << at << " got " << got[at] << " want "
                        << want[at];
}

void runBackward(const Variant &v, const Split &s, int64_t M, int64_t N) {
  const auto &kern = tlc_port::kernel(v.module, "grouped_gemm_bwd");
  ASSERT_EQ(constantOf(kern, "BM"), v.bmBwd) << v.module;
  const int64_t S = s.rows, G = static_cast<int64_t>(s.sizes.size());
  const uint32_t seed = static_cast<uint32_t>(S * 17 + M * 5 + N + G);
  Bf16Data a = randomBf16(S * M, seed), dc = randomBf16(S * N, seed + 1);
  std::vector<uint16_t> db(G * M * N, kPoison);
  std::vector<int32_t> sizes = s.sizes, offsets = s.offsets;

  kern.launch({Tensor(a.bits.data(), DType::BFloat16, {S, M}),
               Tensor(dc.bits.data(), DType::BFloat16, {S, N}),
               Tensor(db.data(), DType::BFloat16, {G, M, N}),
               Tensor(sizes.data(), DType::Int32, {G}),
               Tensor(offsets.data(), DType::Int32, {G})});

  std::vector<float> got(db.size()), want(db.size());
  for (int64_t g = 0; g < G; ++g)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double acc = 0;
        for (int32_t r = s.offsets[g]; r < s.offsets[g] + s.sizes[g]; ++r)
          acc += double(a.f[r * M + m]) * dc.f[r * N + n];
        const size_t i = (g * M + m) * N + n;
        want[i] = static_cast<float>(acc);
        got[i] = tlrt::bf16ToF32(db[i]); // poison is NaN: an unwritten element fails
      }
  size_t at = 0;
  double worst = tlc_port::worstRatio(got, want, 1e-3, 1.0 / 256, &at);
  EXPECT_LE(worst, 1.0) << v.module << " bwd " << s.what << " M=" << M << " N=" << N
                        << ": worst at dB element " << at << " (group " << at / (M * N)
                        << ") got " << got[at] << " want " << want[at];
}

TEST(GroupedGemmPort, Forward) {
  const std::vector<Split> all = splits();
  // (K, N) per split, cycling: several K tiles and N tiles, none a multiple of a tile.
  const int64_t shapes[][2] = {{72, 136}, {40, 100}, {130, 260}, {24, 40}, {88, 130}};
  for (const Variant &v : kVariants)
    for (size_t i = 0; i < all.size(); ++i)
      runForward(v, all[i], shapes[i % 5][0], shapes[i % 5][1]);
}

TEST(GroupedGemmPort, Backward) {
  const std::vector<Split> all = splits();
  // (M, N) of dB per split, cycling.
  const int64_t shapes[][2] = {{72, 100}, {130, 70}, {40, 136}, {33, 65}};
  for (const Variant &v : kVariants)
    for (size_t i = 0; i < all.size(); ++i)
      runBackward(v, all[i], shapes[i % 4][0], shapes[i % 4][1]);
}

} // namespace
