// Top-k selector (models/deepseek_v4/kernels/topk.tl) on the CPU target
// against ref::indexerTopK. The kernel's output is the reference's list
// itself (best first, ties to the lower column), so every slot is compared,
// and slots past the valid columns must hold -1. The reference scores a row
// through its indexer: with two heads of dimension 1, q = (1, -1), weights
// (1, -1) and key j = (s_j), its score is relu(s) - relu(-s) = s exactly
// (infinities and signed zeros included), so it ranks the very scores the
// kernel gets; a plain stable sort of the scores double-checks that.
//
// Rows cover Gaussian scores, few distinct values (ties by the hundred),
// all-equal rows, -inf and +inf, +0.0 / -0.0 mixed (equal: ties to the lower
// column), rows of mostly (signed) zeros with a few scores either side,
// values one ulp apart, magnitudes from subnormal to 1e38, valid lengths of
// 0, 1, K - 1, K, K + 1, the whole row, more than the row, past 2^IDX_BITS
// and negative, and rows up to 2^17 + 100 columns. Columns past a row's
// length hold +inf (or ordinary scores past 2^IDX_BITS), which must never be
// chosen. Long rows take the kernel's paths: the whole row as the list, a
// good guess, ties at the guess (exactly K or K - 1 columns above a flat
// rest, zeros), a guess baited by raising the sampled columns, and tie-heavy
// rows whose rounds run on the row itself (a list no larger than K).
#include "V4KernelSupport.h"

#include "tlv4/ReferenceAttention.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <numeric>

namespace {

using tlrt::DType;
using tlrt::Tensor;

enum class Kind {
  Gaussian,
  FewValues,
  AllEqual,
  Infinities,
  SignedZeros,
  MostlyZero,
  Ulps,
  WideRange
};
const Kind kAllKinds[] = {Kind::Gaussian,    Kind::FewValues,  Kind::AllEqual,
                          Kind::Infinities,  Kind::SignedZeros, Kind::MostlyZero,
                          Kind::Ulps,        Kind::WideRange};

float fromBits(uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

std::vector<float> makeRow(Kind kind, size_t n, std::mt19937 &rng) {
  std::normal_distribution<float> normal(0, 1);
  std::uniform_real_distribution<float> u(0, 1);
  std::uniform_int_distribution<int> few(-2, 2);
  const float constant = normal(rng);
  std::vector<float> v(n);
  for (auto &x : v) {
    float p = u(rng);
    switch (kind) {
    case Kind::Gaussian:
      x = normal(rng);
      break;
    case Kind::FewValues:
      x = 0.5f * float(few(rng));
      break;
    case Kind::AllEqual:
      x = constant;
      break;
    case Kind::Infinities: // mostly masked, a few +inf, the rest Gaussian
      x = p < 0.6f ? -INFINITY : p < 0.62f ? INFINITY : normal(rng);
      break;
    case Kind::SignedZeros: // +-0 tie with each other, around a few +-1
      x = p < 0.05f ? 1.0f : p < 0.1f ? -1.0f : p < 0.55f ? -0.0f : 0.0f;
      break;
    case Kind::MostlyZero: // an indexer row whose heads mostly ReLU to zero
      x = p < 0.003f ? std::abs(normal(rng)) : p < 0.006f ? -std::abs(normal(rng))
          : p < 0.5f ? -0.0f : 0.0f;
      break;
    case Kind::Ulps: // 1 + j ulp, j < 600: keys differ in the low bits only
      x = fromBits(0x3f800000u + uint32_t(p * 600.0f));
      break;
    case Kind::WideRange: // subnormals to 1e38, both signs
      x = (normal(rng) < 0 ? -1.0f : 1.0f) * std::ldexp(1.0f + u(rng), int(p * 270.0f) - 145);
      break;
    }
  }
  return v;
}

/// The reference's selection for scores s (all valid), through its indexer.
std::vector<int64_t> reference(const std::vector<float> &s, int k) {
  std::vector<tlv4::ref::Vec> keys(s.size());
  for (size_t j = 0; j < s.size(); ++j)
    keys[j] = {s[j]};
  auto got = tlv4::ref::indexerTopK({1.0f, -1.0f}, {1.0f, -1.0f}, 2, 1, keys,
                                    int64_t(s.size()), k);
  // The indexer must have seen the scores themselves: a stable sort agrees.
  std::vector<int64_t> order(s.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] > s[b]; });
  order.resize(std::min<size_t>(k, s.size()));
  EXPECT_EQ(got, order) << "test bug: the indexer does not rank the raw scores";
  return got;
}

struct RowSpec {
  Kind kind;
  int32_t len;        // Lens[r]: may be negative or exceed N
  int32_t spikes = 0; // this many distinct random valid columns set to 5.0
  bool bait = false;  // add 10 to the columns the kernel samples (below)
};

/// The columns the kernel samples to guess its threshold in a row of n valid
/// columns (n > CAP): `sample` / 32 runs of 32, evenly spread. Raising them
/// makes the guess too high, so the one-read path must fall back.
std::vector<int64_t> sampledColumns(int64_t n, int sample) {
  std::vector<int64_t> cols;
  const int64_t runs = sample / 32;
  for (int64_t i = 0; i < sample; ++i)
    cols.push_back((i / 32) * n / runs + i % 32);
  return cols;
}

/// Runs `module` (compiled with K = k) on rows of n columns and compares each
/// row with the reference. Out lives in a larger buffer whose tail must stay
/// untouched, and starts at -777 so an unwritten slot fails.
void check(const std::string &module, int k, int64_t n, const std::vector<RowSpec> &rows,
           uint32_t seed, int sample = 4096, int64_t maxCols = INT64_MAX) {
  const int64_t r = int64_t(rows.size());
  std::mt19937 rng(seed);
  std::vector<float> scores(size_t(r * n), INFINITY);
  std::vector<int32_t> lens;
  for (int64_t i = 0; i < r; ++i) {
    int64_t valid = std::clamp<int64_t>(rows[i].len, 0, n);
    auto row = makeRow(rows[i].kind, size_t(valid), rng);
    if (rows[i].spikes > 0) { // distinct columns: the first `spikes` of a shuffle
      std::vector<int64_t> cols(static_cast<size_t>(valid));
      std::iota(cols.begin(), cols.end(), 0);
      std::shuffle(cols.begin(), cols.end(), rng);
      for (int32_t j = 0; j < rows[i].spikes && j < valid; ++j)
        row[cols[j]] = 5.0f;
    }
    if (rows[i].bait)
      for (int64_t c : sampledColumns(valid, sample))
        row[c] += 10.0f;
    std::copy(row.begin(), row.end(), scores.begin() + i * n);
    lens.push_back(rows[i].len);
  }
  const size_t pad = 41;
  std::vector<int32_t> out(size_t(r * k) + pad, -777);

  tlv4_test::kernel(module, "topk_select")
      .launch({Tensor(scores.data(), DType::Float32, {r, n}),
               Tensor(lens.data(), DType::Int32, {r}), Tensor(out.data(), DType::Int32, {r, k})});

  for (int64_t i = 0; i < r; ++i) {
    // The kernel considers at most 2^IDX_BITS columns.
    int64_t valid = std::min(std::clamp<int64_t>(rows[i].len, 0, n), maxCols);
    std::vector<float> s(scores.begin() + i * n, scores.begin() + i * n + valid);
    std::vector<int64_t> want = reference(s, k);
    for (int j = 0; j < k; ++j) {
      int64_t w = j < int(want.size()) ? want[j] : -1;
      ASSERT_EQ(out[i * k + j], w) << module << " row " << i << " (kind " << int(rows[i].kind)
                                   << ", len " << rows[i].len << ", n " << n << ") slot " << j;
    }
  }
  for (size_t j = size_t(r * k); j < out.size(); ++j)
    ASSERT_EQ(out[j], -777) << module << ": wrote past Out";
}

/// One row of each kind per length in `lens`.
std::vector<RowSpec> everyKind(const std::vector<int32_t> &lens) {
  std::vector<RowSpec> rows;
  for (int32_t len : lens)
    for (Kind kind : kAllKinds)
      rows.push_back({kind, len});
  return rows;
}

TEST(V4Topk, K512RaggedLengths) {
  const int k = 512;
  const int n = 3001;
  check("topk", k, n,
        everyKind({0, 1, k - 1, k, k + 1, 1777, n, n + 500, -3}), 1);
}

TEST(V4Topk, K512LongRows) {
  // 2^16 + 3 columns: ties far past the 4096-entry list (all-equal, few
  // values) take their rounds on the whole row.
  const int64_t n = (1 << 16) + 3;
  check("topk", 512, n,
        {{Kind::Gaussian, int32_t(n)},
         {Kind::FewValues, int32_t(n - 7)},
         {Kind::AllEqual, 40000},
         {Kind::Ulps, int32_t(n)},
         {Kind::SignedZeros, int32_t(n)},
         {Kind::MostlyZero, int32_t(n)}},
        2);
}

TEST(V4Topk, K512FallbackPaths) {
  // Rows of more than the 4096-entry list: a guess from a baited sample
  // (too few columns reach it), exactly K and K - 1 columns above a flat or
  // few-valued rest (the first round takes its bin whole, or ties fill the
  // last slot), and short rows with the same shapes (the one-read path).
  const int k = 512;
  for (int64_t n : {20000, 3000}) {
    const int32_t len = int32_t(n);
    check("topk", k, n,
          {{Kind::Gaussian, len, 0, n > 4096},
           {Kind::FewValues, len - 3, 0, n > 4096},
           {Kind::AllEqual, len, k},
           {Kind::AllEqual, len, k - 1},
           {Kind::FewValues, len, k},
           {Kind::SignedZeros, len, k - 100},
           {Kind::Infinities, len, k - 1}},
          7 + uint32_t(n));
  }
}

TEST(V4Topk, K8OneWarp) {
  const int k = 8;
  check("topk_k8_b32", k, 300, everyKind({0, 1, k - 1, k, k + 1, 100, 300, 1000, -1}), 3);
  check("topk_k8_b32", k, 20000,
        {{Kind::Gaussian, 20000}, {Kind::AllEqual, 19999}, {Kind::FewValues, 20000},
         {Kind::Infinities, 12345}, {Kind::SignedZeros, 20000}, {Kind::Ulps, 20000},
         {Kind::Gaussian, 20000, 0, true}, {Kind::AllEqual, 20000, k}, {Kind::Gaussian, 5000, k - 1}},
        4, 64);
}

TEST(V4Topk, K64SmallCandidateList) {
  const int k = 64;
  check("topk_k64_b64_cap64", k, 2500,
        everyKind({0, 5, k - 1, k, k + 1, 130, 1000, 2500, 99999}), 5);
  check("topk_k64_b64_cap64", k, 30000,
        {{Kind::AllEqual, 30000}, {Kind::FewValues, 29999}, {Kind::Ulps, 30000},
         {Kind::WideRange, 30000}, {Kind::Gaussian, 30000, 0, true}, {Kind::AllEqual, 30000, k},
         {Kind::FewValues, 30000, k - 1}},
        6, 32);
  // IDX_BITS = 17: columns from 2^17 on are ignored.
  check("topk_k64_b64_cap64", k, (1 << 17) + 100,
        {{Kind::Gaussian, (1 << 17) + 100}, {Kind::AllEqual, (1 << 17) + 50}}, 10, 32, 1 << 17);
}

TEST(V4Topk, K256FourSlotsPerThread) {
  const int k = 256;
  const char *m = "topk_k256_b64";
  check(m, k, 1500, everyKind({0, 3, k - 1, k, k + 1, 700, 1024, 1500, 4000}), 8, 512);
  check(m, k, 30000,
        {{Kind::Gaussian, 30000}, {Kind::AllEqual, 29000}, {Kind::FewValues, 30000},
         {Kind::Ulps, 30000}, {Kind::Gaussian, 30000, 0, true}, {Kind::AllEqual, 30000, k},
         {Kind::Infinities, 30000, k - 1}},
        9, 512);
}

} // namespace
