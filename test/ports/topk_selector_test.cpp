// Port of TileLang's DeepSeek-V3.2 top-k selector (kernels/topk_selector.tl)
// on the CPU target. The kernel returns a set of column numbers per row, in
// no particular order, and any of several tied columns may be chosen at the
// k-th place, so each row is checked as a set: topk distinct columns inside
// the row's window whose values, as a multiset, are the topk largest values
// of the window (found here by sorting). Rows cover Gaussian scores, many
// exact duplicates, values that differ only in their last bits (told apart
// only by the last refinement rounds), all-negative rows, magnitudes past
// float16's range (one first-pass bin, split by the float32 rounds), and
// windows that start late, end past seq_len or start below zero.
#include "PortSupport.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

using tlrt::DType;
using tlrt::Tensor;

enum class Scores { Gaussian, FewValues, Negative, WideRange, LowByte };

std::vector<float> scores(Scores kind, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::uniform_int_distribution<int> small(-3, 3);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> v(n);
  for (auto &x : v) {
    switch (kind) {
    case Scores::Gaussian:
      x = normal(rng);
      break;
    case Scores::FewValues: // seven values, each repeated hundreds of times
      x = 0.5f * float(small(rng));
      break;
    case Scores::Negative:
      x = -0.001f - 100.0f * u(rng);
      break;
    case Scores::WideRange: // |x| from 1e-13 to 1e13, both signs
      x = (u(rng) < 0.5f ? -1.0f : 1.0f) * std::exp(60.0f * u(rng) - 30.0f);
      break;
    case Scores::LowByte: { // 1 + j ulp, j < 600: mostly equal but for the lowest byte
      uint32_t bits = 0x3f800000u + uint32_t(u(rng) * 600.0f);
      std::memcpy(&x, &bits, sizeof x);
      break;
    }
    }
  }
  return v;
}

struct Row {
  int32_t start, end; // the window; the kernel also clips it to seq_len
};

/// Runs `module` (compiled with topk = k) on rows of length seqLen and checks
/// every row; the index tensor lives in a larger buffer whose tail must stay
/// untouched, and every slot starts at -1 so a slot left unwritten fails.
void check(const std::string &module, int k, int64_t seqLen, const std::vector<Row> &rows,
           Scores kind, uint32_t seed) {
  const int64_t batch = int64_t(rows.size());
  std::vector<float> x = scores(kind, size_t(batch * seqLen), seed);
  std::vector<int32_t> starts, ends;
  for (const Row &r : rows) {
    starts.push_back(r.start);
    ends.push_back(r.end);
  }
  const size_t pad = 97;
  std::vector<int32_t> index(size_t(batch * k) + pad, -1);
  std::fill(index.begin() + batch * k, index.end(), -777);

  tlc_port::kernel(module, "topk_selector")
      .launch({Tensor(x.data(), DType::Float32, {batch, seqLen}),
               Tensor(index.data(), DType::Int32, {batch, k}),
               Tensor(starts.data(), DType::Int32, {batch}),
               Tensor(ends.data(), DType::Int32, {batch})});

  for (int64_t b = 0; b < batch; ++b) {
    const float *xr = &x[b * seqLen];
    const int32_t lo = std::max<int32_t>(rows[b].start, 0);
    const int32_t hi = std::min<int64_t>(rows[b].end, seqLen);
    ASSERT_GT(hi - lo, k) << "test bug: the kernel needs more than topk columns in a window";

    std::vector<float> want(xr + lo, xr + hi);
    std::sort(want.begin(), want.end(), std::greater<float>());
    want.resize(k);

    std::vector<float> got;
    std::set<int32_t> seen;
    for (int j = 0; j < k; ++j) {
      int32_t c = index[b * k + j];
      ASSERT_TRUE(c >= lo && c < hi)
          << module << " row " << b << " slot " << j << ": column " << c << " outside [" << lo
          << ", " << hi << ")";
      ASSERT_TRUE(seen.insert(c).second) << module << " row " << b << ": column " << c << " twice";
      got.push_back(xr[c]);
    }
    std::sort(got.begin(), got.end(), std::greater<float>());
    for (int j = 0; j < k; ++j)
      ASSERT_EQ(got[j], want[j]) << module << " row " << b << ": " << j
                                 << "-th largest selected value differs";
  }
  for (size_t i = size_t(batch * k); i < index.size(); ++i)
    ASSERT_EQ(index[i], -777) << module << ": wrote past the index tensor";
}

/// Windows of a row of length seqLen for topk = k (seqLen > k): the whole
/// row, one that starts late and runs past seq_len, one that starts below
/// zero, one in the middle, and one of exactly k + 1 columns at the end.
std::vector<Row> windows(int64_t seqLen, int k) {
  int32_t n = int32_t(seqLen), slack = n - k - 1;
  return {{0, n},
          {slack / 2, n + 100},
          {-5, n - slack / 3},
          {slack / 3, slack / 3 + k + 1 + slack / 4},
          {slack, n}};
}

TEST(PortTopkSelector, K64Block256) {
  const char *m = "topk_selector_k64_b256";
  for (int64_t len : {1000, 4096, 20000}) {
    auto rows = windows(len, 64);
    check(m, 64, len, rows, Scores::Gaussian, uint32_t(len));
    check(m, 64, len, rows, Scores::FewValues, uint32_t(len + 1));
    check(m, 64, len, rows, Scores::Negative, uint32_t(len + 2));
    check(m, 64, len, rows, Scores::WideRange, uint32_t(len + 3));
    if (len <= 4096) // all in one first-pass bin: the candidate list holds 4096
      check(m, 64, len, rows, Scores::LowByte, uint32_t(len + 4));
  }
}

TEST(PortTopkSelector, K300Block512) {
  const char *m = "topk_selector_k300_b512";
  for (int64_t len : {777, 5003}) {
    auto rows = windows(len, 300);
    check(m, 300, len, rows, Scores::Gaussian, uint32_t(len));
    check(m, 300, len, rows, Scores::FewValues, uint32_t(len + 1));
    check(m, 300, len, rows, Scores::WideRange, uint32_t(len + 2));
    check(m, 300, len, rows, Scores::Negative, uint32_t(len + 3));
    if (len <= 4096)
      check(m, 300, len, rows, Scores::LowByte, uint32_t(len + 4));
  }
}

TEST(PortTopkSelector, K2048Default) {
  const char *m = "topk_selector";
  for (int64_t len : {2100, 4096, 20000}) {
    auto rows = windows(len, 2048);
    check(m, 2048, len, rows, Scores::Gaussian, uint32_t(len));
    check(m, 2048, len, rows, Scores::FewValues, uint32_t(len + 1));
    check(m, 2048, len, rows, Scores::Negative, uint32_t(len + 2));
    check(m, 2048, len, rows, Scores::WideRange, uint32_t(len + 3));
    if (len <= 4096)
      check(m, 2048, len, rows, Scores::LowByte, uint32_t(len + 4));
  }
}

} // namespace
