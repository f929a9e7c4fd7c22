// Views of on-chip buffers on the CPU target: K-slices and rings as T.gemm
// operands and copy targets (the GPU test kernels in test/gpu/kernels, which
// the CPU checks numerically), fragment row views as accumulators, and
// T.reshape / T.view of a shared tile. References are plain loops.
#include "CpuTestSupport.h"
#include "tlrt/LowPrecision.h"
#include "tlrt/Module.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using tlrt::DType;
using tlrt::Tensor;

using tlc_test::kernel;

struct Shape3 {
  int64_t m, n, k;
};

/// C[M, N] (f32) = A[M, K] @ B[N, K]^T in bf16, within 1e-5 of the sum of
/// |a b| (the kernels sum the K slices in their own order); C's tail past
/// M * N must stay untouched.
void checkGemm(const std::string &module, const std::string &fn, Shape3 s) {
  std::mt19937 rng(static_cast<uint32_t>(s.m * 131 + s.n * 17 + s.k));
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<uint16_t> A(s.m * s.k), B(s.n * s.k);
  for (auto &x : A)
    x = tlrt::f32ToBF16(u(rng));
  for (auto &x : B)
    x = tlrt::f32ToBF16(u(rng));
  std::vector<float> C(s.m * s.n + 64, -777.0f);
  kernel(module, fn).launch({Tensor(A.data(), DType::BFloat16, {s.m, s.k}),
                             Tensor(B.data(), DType::BFloat16, {s.n, s.k}),
                             Tensor(C.data(), DType::Float32, {s.m, s.n})});
  int bad = 0;
  for (int64_t m = 0; m < s.m; ++m)
    for (int64_t n = 0; n < s.n; ++n) {
      double acc = 0, mag = 0;
      for (int64_t k = 0; k < s.k; ++k) {
        double p = double(tlrt::bf16ToF32(A[m * s.k + k])) * tlrt::bf16ToF32(B[n * s.k + k]);
        acc += p;
        mag += std::fabs(p);
      }
      float got = C[m * s.n + n];
      if (!(std::fabs(got - acc) <= 1e-5 * mag + 1e-30) && ++bad < 5)
        ADD_FAILURE() << module << " " << s.m << "x" << s.n << "x" << s.k << " C[" << m << ","
                      << n << "] = " << got << ", expected " << acc;
    }
  EXPECT_EQ(bad, 0);
  for (size_t i = s.m * s.n; i < C.size(); ++i)
    ASSERT_EQ(C[i], -777.0f) << module << ": wrote past C";
}

const Shape3 kShapes[] = {{128, 128, 256}, {1, 1, 1}, {130, 77, 65}, {257, 129, 300}};

TEST(CpuViews, GemmKHalves) {
  for (Shape3 s : kShapes) {
    checkGemm("gemm_khalves", "gemm_khalves", s);
    checkGemm("gemm_khalves_bk64", "gemm_khalves", s);
  }
}

TEST(CpuViews, GemmKSlices) {
  for (Shape3 s : kShapes) {
    checkGemm("gemm_kslices", "gemm_kslices", s);
    checkGemm("gemm_kslices_bk64", "gemm_kslices", s);
    checkGemm("gemm_kslices_bk64_q", "gemm_kslices", s);
  }
}

TEST(CpuViews, GemmRing) {
  for (Shape3 s : kShapes) {
    checkGemm("gemm_ring", "gemm_ring", s);
    checkGemm("gemm_ring_3", "gemm_ring", s);
  }
}

TEST(CpuViews, GemmRowHalves) {
  for (Shape3 s : kShapes) {
    checkGemm("views", "gemm_row_halves", s);
    checkGemm("views_small", "gemm_row_halves", s);
  }
}

void checkReshape(const std::string &module, int64_t r, int64_t c) {
  std::mt19937 rng(7);
  std::vector<float> X(r * c);
  for (auto &x : X)
    x = std::uniform_real_distribution<float>(-100, 100)(rng);
  X[0] = std::nanf("");
  std::vector<float> Y(r * c, 0.0f);
  std::vector<uint16_t> Z(r * c * 2, 0);
  kernel(module, "reshape_copy")
      .launch({Tensor(X.data(), DType::Float32, {r, c}),
               Tensor(Y.data(), DType::Float32, {r * c / 64, 64}),
               Tensor(Z.data(), DType::BFloat16, {r, 2 * c})});
  // Same element order, same bytes.
  EXPECT_EQ(std::memcmp(X.data(), Y.data(), X.size() * 4), 0) << module;
  EXPECT_EQ(std::memcmp(X.data(), Z.data(), X.size() * 4), 0) << module;
}

TEST(CpuViews, ReshapeAndDtypeView) {
  checkReshape("views", 64, 32);
  checkReshape("views_small", 8, 16);
}

// C = A @ B^T of one tile, read back through T.reshape of the accumulator:
// Y is C in row-major order, Z twice that (element reads in T.Parallel).
void checkAccReshape(const std::string &module, int64_t bm, int64_t bn, int64_t bk) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<uint16_t> A(bm * bk), B(bn * bk);
  for (auto &x : A)
    x = tlrt::f32ToBF16(u(rng));
  for (auto &x : B)
    x = tlrt::f32ToBF16(u(rng));
  int64_t rows = bm * bn / 64;
  std::vector<float> Y(rows * 64, -1.0f), Z(rows * 64, -1.0f);
  kernel(module, "acc_reshape")
      .launch({Tensor(A.data(), DType::BFloat16, {bm, bk}),
               Tensor(B.data(), DType::BFloat16, {bn, bk}), Tensor(Y.data(), DType::Float32, {rows, 64}),
               Tensor(Z.data(), DType::Float32, {rows, 64})});
  for (int64_t m = 0; m < bm; ++m)
    for (int64_t n = 0; n < bn; ++n) {
      double acc = 0, mag = 0;
      for (int64_t k = 0; k < bk; ++k) {
        double p = double(tlrt::bf16ToF32(A[m * bk + k])) * tlrt::bf16ToF32(B[n * bk + k]);
        acc += p;
        mag += std::fabs(p);
      }
      ASSERT_NEAR(Y[m * bn + n], acc, 1e-5 * mag + 1e-30) << module << " Y at " << m << "," << n;
      ASSERT_EQ(Z[m * bn + n], 2 * Y[m * bn + n]) << module << " Z at " << m << "," << n;
    }
}

TEST(CpuViews, AccumulatorThroughReshape) {
  checkAccReshape("views", 64, 32, 32);
  checkAccReshape("views_small", 16, 8, 16);
}

} // namespace
