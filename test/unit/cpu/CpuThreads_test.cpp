// Thread-level kernels on the CPU target (kernels/threads.tl): T.thread_id,
// T.sync_threads, shared memory, per-thread locals and shared atomics, run as
// loops over each block's threads split at the barriers. Each result is
// compared with a plain C++ reference that does the same arithmetic in the
// same order (so floating-point results match bit for bit).
#include "CpuTestSupport.h"
#include "tlrt/Module.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using tlrt::DType;
using tlrt::Tensor;

using tlc_test::kernel;

std::vector<float> randomFloats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto &x : v)
    x = u(rng);
  return v;
}

/// Tree sum as the kernel does it: pairs (t, t + nt), then halving strides.
float treeSum(const float *x, int nt) {
  std::vector<float> s(nt);
  for (int t = 0; t < nt; ++t)
    s[t] = x[t] + x[t + nt];
  for (int stride = nt / 2; stride >= 1; stride /= 2)
    for (int t = 0; t < stride; ++t)
      s[t] = s[t] + s[t + stride];
  return s[0];
}

void checkBlockSum(const std::string &module, int nt, int64_t rows) {
  std::vector<float> x = randomFloats(rows * 2 * nt, static_cast<uint32_t>(nt + rows));
  std::vector<float> y(rows + 8, -777.0f);
  kernel(module, "block_sum")
      .launch({Tensor(x.data(), DType::Float32, {rows, 2 * nt}),
               Tensor(y.data(), DType::Float32, {rows})});
  for (int64_t b = 0; b < rows; ++b)
    EXPECT_EQ(y[b], treeSum(&x[b * 2 * nt], nt)) << module << " row " << b;
  for (size_t i = rows; i < y.size(); ++i)
    EXPECT_EQ(y[i], -777.0f) << module << ": wrote past Y";
}

TEST(CpuThreads, BlockTreeReduction) {
  for (int64_t rows : {1, 3, 17}) {
    checkBlockSum("threads", 128, rows);
    checkBlockSum("threads_nt32", 32, rows);
  }
}

void checkScan(const std::string &module, int nt, int64_t rows) {
  std::mt19937 rng(static_cast<uint32_t>(rows * 7 + nt));
  std::uniform_int_distribution<int32_t> u(-1000, 1000);
  std::vector<int32_t> x(rows * nt), y(rows * nt, -1);
  for (auto &v : x)
    v = u(rng);
  kernel(module, "block_scan")
      .launch({Tensor(x.data(), DType::Int32, {rows, nt}), Tensor(y.data(), DType::Int32, {rows, nt})});
  for (int64_t b = 0; b < rows; ++b) {
    int32_t acc = 0;
    for (int t = 0; t < nt; ++t) {
      acc += x[b * nt + t];
      ASSERT_EQ(y[b * nt + t], acc) << module << " row " << b << " element " << t;
    }
  }
}

TEST(CpuThreads, BlockPrefixSum) {
  for (int64_t rows : {1, 5}) {
    checkScan("threads", 128, rows);
    checkScan("threads_nt32", 32, rows);
  }
}

void checkNormalize(const std::string &module, int c, int nt, int64_t rows, float scale) {
  std::vector<float> x = randomFloats(rows * c, static_cast<uint32_t>(c * 3 + rows));
  for (auto &v : x)
    v = v + 1.5f; // keep the row sums away from zero
  std::vector<float> y(rows * c, 0.0f);
  kernel(module, "normalize")
      .launch({Tensor(x.data(), DType::Float32, {rows, c}), Tensor(y.data(), DType::Float32, {rows, c}),
               scale});
  for (int64_t b = 0; b < rows; ++b) {
    const float *xr = &x[b * c];
    std::vector<float> part(nt);
    for (int t = 0; t < nt; ++t) {
      float acc = 0.0f;
      for (int j = 0; j < c / nt; ++j)
        acc += xr[j * nt + t];
      part[t] = acc;
    }
    float tot = 0.0f;
    for (int t = 0; t < nt; ++t)
      tot += part[t];
    float f = scale / tot;
    for (int i = 0; i < c; ++i)
      ASSERT_EQ(y[b * c + i], xr[i] * f) << module << " row " << b << " column " << i;
  }
}

TEST(CpuThreads, ParallelAndPerThreadCode) {
  for (int64_t rows : {1, 4}) {
    checkNormalize("threads", 256, 64, rows, 3.0f);
    checkNormalize("threads_nt32", 64, 32, rows, -0.5f);
  }
}

void checkRadix(const std::string &module, int nt, int l, int shift, int k, int64_t rows,
                uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> u(0, 65535);
  std::vector<int32_t> x(rows * l);
  for (auto &v : x)
    v = u(rng) & (seed % 2 ? 0xF0FF : 0xFFFF); // some digits empty
  std::vector<int32_t> h(rows * 256, -1), h4(rows * 16, -1), sel(rows, -2);
  kernel(module, "radix_count")
      .launch({Tensor(x.data(), DType::Int32, {rows, l}), Tensor(h.data(), DType::Int32, {rows, 256}),
               Tensor(h4.data(), DType::Int32, {rows, 16}), Tensor(sel.data(), DType::Int32, {rows})});
  (void)nt;
  for (int64_t b = 0; b < rows; ++b) {
    std::vector<int32_t> ref(256, 0), ref4(16, 0);
    for (int i = 0; i < l; ++i) {
      int32_t v = x[b * l + i];
      ++ref[(v >> shift) & 255];
      ++ref4[(v >> shift) & 15];
    }
    for (int d = 0; d < 256; ++d)
      ASSERT_EQ(h[b * 256 + d], ref[d]) << module << " row " << b << " digit " << d;
    for (int d = 0; d < 16; ++d)
      ASSERT_EQ(h4[b * 16 + d], ref4[d]) << module << " row " << b << " 4-bit digit " << d;
    int32_t want = -1, run = 0;
    for (int d = 255; d >= 0 && want < 0; --d) {
      run += ref[d];
      if (run >= k)
        want = d;
    }
    EXPECT_EQ(sel[b], want) << module << " row " << b;
  }
}

TEST(CpuThreads, RadixCountAndSelect) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    checkRadix("threads", 128, 512, 8, 40, 3, seed);
    checkRadix("threads_nt32", 32, 64, 4, 7, 5, seed);
  }
}

void checkPipelinedRows(const std::string &module, int nt, int64_t k) {
  std::vector<float> x = randomFloats(k * nt, static_cast<uint32_t>(k + nt));
  std::vector<float> y(nt, -777.0f);
  kernel(module, "pipelined_rows")
      .launch({Tensor(x.data(), DType::Float32, {k, nt}), Tensor(y.data(), DType::Float32, {nt})});
  for (int t = 0; t < nt; ++t) {
    float acc = 0.0f;
    for (int64_t i = 0; i < k; ++i)
      acc += x[i * nt + nt - 1 - t] * static_cast<float>(t / 32 + 1);
    ASSERT_EQ(y[t], acc) << module << " thread " << t;
  }
}

TEST(CpuThreads, PerThreadCodeInPipelinedLoop) {
  for (int64_t k : {1, 7, 64}) {
    checkPipelinedRows("threads", 128, k);
    checkPipelinedRows("threads_nt32", 32, k);
  }
}

} // namespace
