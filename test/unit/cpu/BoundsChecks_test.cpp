// Safe global memory on the CPU target (docs/language.md §5): out-of-range
// element loads of tensors read zero, out-of-range stores leave every byte
// around the tensor alone, proven accesses compute as before, and with
// `tlc --check-bounds` an out-of-range access aborts with the kernel, the
// .tl location, the indices and the shape. Kernels:
// test/unit/cpu/kernels/bounds.tl; references are plain loops.
#include "CpuTestSupport.h"
#include "tlrt/Module.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using tlrt::DType;
using tlrt::Tensor;

using tlc_test::kernel;

constexpr int64_t kBN = 64; // the kernels' default BN

std::vector<float> iota(int64_t n, float start) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i)
    v[i] = start + static_cast<float>(i);
  return v;
}

/// Y[r, j] = X[Idx[r], j] with rows and columns out of range read as 0.
void checkGather(const std::string &module, int64_t m, int64_t n, std::vector<int32_t> idx) {
  std::vector<float> X = iota(m * n, 1.0f);
  int64_t r = idx.size();
  std::vector<float> Y(r * kBN, -1.0f);
  kernel(module, "gather")
      .launch({Tensor(X.data(), DType::Float32, {m, n}),
               Tensor(idx.data(), DType::Int32, {r}), Tensor(Y.data(), DType::Float32, {r, kBN})});
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < kBN; ++j) {
      bool in = idx[i] >= 0 && idx[i] < m && j < n;
      float want = in ? X[idx[i] * n + j] : 0.0f;
      ASSERT_EQ(Y[i * kBN + j], want) << module << " row " << i << " (index " << idx[i]
                                      << ") column " << j;
    }
}

TEST(CpuBounds, OutOfRangeLoadsReadZero) {
  // Rows past the end, negative rows, a huge row; and (N = 48 < BN) columns
  // past the end of a row, which would otherwise read the next row.
  checkGather("bounds", 4, 64, {0, 3, 4, -1, 2, 1000000, 1});
  checkGather("bounds", 4, 48, {0, 3, 4, -1, 2, 1000000, 1});
  checkGather("bounds", 1, 1, {0, 1, -2147483647 - 1});
}

/// Y[Idx[r], j] = X[r, j] into a Y surrounded by guard regions: rows and
/// columns out of range are dropped, nothing outside Y changes.
void checkScatter(const std::string &module, const std::string &fn, int64_t m, int64_t n,
                  std::vector<int32_t> idx) {
  int64_t r = idx.size();
  std::vector<float> X = iota(r * kBN, 1.0f);
  constexpr int64_t kGuard = 1024;
  constexpr float kSentinel = -7.5f;
  std::vector<float> buffer(kGuard + m * n + kGuard, kSentinel);
  float *Y = buffer.data() + kGuard;
  kernel(module, fn).launch({Tensor(X.data(), DType::Float32, {r, kBN}),
                             Tensor(idx.data(), DType::Int32, {r}),
                             Tensor(Y, DType::Float32, {m, n})});
  std::vector<float> want(m * n, kSentinel);
  for (int64_t i = 0; i < r; ++i)
    if (idx[i] >= 0 && idx[i] < m)
      for (int64_t j = 0; j < std::min(n, kBN); ++j)
        want[idx[i] * n + j] = X[i * kBN + j];
  for (int64_t g = 0; g < kGuard; ++g) {
    ASSERT_EQ(buffer[g], kSentinel) << module << ": wrote " << kGuard - g << " before Y";
    ASSERT_EQ(buffer[kGuard + m * n + g], kSentinel) << module << ": wrote " << g << " past Y";
  }
  for (int64_t e = 0; e < m * n; ++e)
    ASSERT_EQ(Y[e], want[e]) << module << " Y[" << e / n << ", " << e % n << "]";
}

TEST(CpuBounds, OutOfRangeStoresAreDropped) {
  // N = 48 < BN: without guards, columns 48..63 of row i would land in row
  // i + 1 (and past the end for the last row).
  checkScatter("bounds", "scatter", 4, 48, {1, -1, 4, 3, 7, 1 << 30});
  checkScatter("bounds", "scatter", 4, 64, {3, 0, -5, 2, 4});
  checkScatter("bounds", "scatter", 1, 1, {0, 1, -1});
}

TEST(CpuBounds, OptOutComputesInRange) {
  // The caller keeps its promise: every index in range.
  checkScatter("bounds", "scatter_unchecked", 4, 64, {2, 0, 3});
}

TEST(CpuBounds, ProvenAccessesComputeAsBefore) {
  for (int64_t k : {1, 5, 64}) {
    const int64_t m = 3;
    std::vector<float> X = iota(m * k, 0.5f);
    std::vector<float> S(m + 16, -3.0f);
    kernel("bounds", "row_sum")
        .launch({Tensor(X.data(), DType::Float32, {m, k}), Tensor(S.data(), DType::Float32, {m})});
    for (int64_t i = 0; i < m; ++i) {
      float acc = 0;
      for (int64_t j = 0; j < k; ++j)
        acc += X[i * k + j] + X[i * k + std::min(j + 1, k - 1)];
      EXPECT_EQ(S[i], acc) << "K = " << k << " row " << i;
    }
    for (int64_t i = m; i < m + 16; ++i)
      ASSERT_EQ(S[i], -3.0f);
  }
}

TEST(CpuBounds, CheckedKernelsRunInRange) {
  checkGather("bounds_checked", 4, 64, {0, 3, 2, 1});
  checkScatter("bounds_checked", "scatter", 4, 64, {3, 0, 2});
  checkScatter("bounds_checked", "scatter_unchecked", 4, 64, {1, 2});
}

TEST(CpuBoundsDeathTest, CheckBoundsReportsKernelLocationAndIndices) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // One bad row, so the report is the same whichever host thread runs it.
  EXPECT_DEATH(checkGather("bounds_checked", 4, 64, {0, 1, 7, 2}),
               "tlc: error: kernel 'gather' at [^ ]*bounds\\.tl:14:23: load of X\\[7, 0\\] is "
               "out of bounds of shape \\[4, 64\\]");
  EXPECT_DEATH(checkScatter("bounds_checked", "scatter", 4, 64, {0, -1}),
               "tlc: error: kernel 'scatter' at [^ ]*bounds\\.tl:23:13: store of Y\\[-1, 0\\] is "
               "out of bounds of shape \\[4, 64\\]");
  // Opted-out accesses are checked too.
  EXPECT_DEATH(checkScatter("bounds_checked", "scatter_unchecked", 4, 48, {0}),
               "tlc: error: kernel 'scatter_unchecked' at [^ ]*bounds\\.tl:34:17: store of "
               "Y\\[0, 48\\] is out of bounds of shape \\[4, 48\\]");
}

} // namespace
