// The documented builtins of docs/language.md §7 on the CPU target, one small
// kernel each (test/unit/cpu/kernels/builtins.tl), against plain C++
// references: reductions of shared buffers into shared, fragment and local
// destinations (clear=False too), T.topk (shared and fragment rows, ties,
// k up to 64, rows of 1000 columns, bf16), fills of regions, T.Pipelined
// with num_stages=0, vector atomics (2/4 lanes, f32/f16/bf16, global and
// shared), shared atomics returning the previous value, fragment-to-fragment
// copies and T.bool buffers as conditions.
#include "CpuTestSupport.h"
#include "tlrt/LowPrecision.h"
#include "tlrt/Module.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

using tlrt::DType;
using tlrt::Tensor;

using tlc_test::kernel;

std::vector<float> randomInts(size_t n, int lo, int hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u(lo, hi);
  std::vector<float> v(n);
  for (auto &x : v)
    x = static_cast<float>(u(rng));
  return v;
}

TEST(CpuBuiltins, ReduceShared) {
  const int64_t N = 128;
  for (int64_t M : {4, 13, 64}) {
    std::mt19937 rng(static_cast<uint32_t>(M));
    std::uniform_real_distribution<float> u(-2, 2);
    std::vector<float> X(M * N);
    for (auto &x : X)
      x = u(rng);
    std::vector<float> S(M), Mx(M), A(M), Mn(M), C(N, 0.5f);
    kernel("builtins", "reduce_shared")
        .launch({Tensor(X.data(), DType::Float32, {M, N}), Tensor(S.data(), DType::Float32, {M}),
                 Tensor(Mx.data(), DType::Float32, {M}), Tensor(A.data(), DType::Float32, {M}),
                 Tensor(Mn.data(), DType::Float32, {M}), Tensor(C.data(), DType::Float32, {N})});
    for (int64_t m = 0; m < M; ++m) {
      double s = 0, a = 1, mx = -INFINITY, mn = 0;
      for (int64_t j = 0; j < N; ++j) {
        float x = X[m * N + j];
        s += x;
        a += std::fabs(x);
        mx = std::max<double>(mx, x);
        mn = std::min<double>(mn, x);
      }
      EXPECT_NEAR(S[m], s, 1e-4) << "row " << m;
      EXPECT_NEAR(A[m], a, 1e-4) << "row " << m;
      EXPECT_EQ(Mx[m], static_cast<float>(mx)) << "row " << m;
      EXPECT_EQ(Mn[m], static_cast<float>(mn)) << "row " << m;
    }
    for (int64_t j = 0; j < N; ++j) {
      double c = 0.5;
      for (int64_t m = 0; m < M; ++m)
        c += X[m * N + j];
      EXPECT_NEAR(C[j], c, 1e-4) << "column " << j;
    }
  }
}

/// Top-k of each row: largest first, ties to the lower index.
void topkReference(const std::vector<float> &X, int64_t M, int64_t N, int64_t K,
                   std::vector<float> &V, std::vector<int32_t> &I) {
  V.assign(M * K, 0);
  I.assign(M * K, 0);
  for (int64_t m = 0; m < M; ++m) {
    std::vector<int32_t> order(N);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return X[m * N + a] > X[m * N + b]; });
    for (int64_t t = 0; t < K; ++t) {
      I[m * K + t] = order[t];
      V[m * K + t] = X[m * N + order[t]];
    }
  }
}

void checkTopK(const std::string &module, const std::string &fn, int64_t M, int64_t N,
               int64_t K, bool bf16) {
  // Few distinct values, so ties are everywhere.
  std::vector<float> X = randomInts(M * N, -20, 20, static_cast<uint32_t>(M * 7 + N + K));
  if (bf16)
    for (auto &x : X)
      x *= 0.25f; // exact in bf16
  std::vector<float> Vr;
  std::vector<int32_t> Ir;
  topkReference(X, M, N, K, Vr, Ir);
  std::vector<int32_t> I(M * K, -7);
  std::vector<float> V(M * K, -777);
  if (bf16) {
    std::vector<uint16_t> Xb(X.size()), Vb(M * K, 0);
    for (size_t i = 0; i < X.size(); ++i)
      Xb[i] = tlrt::f32ToBF16(X[i]);
    kernel(module, fn).launch({Tensor(Xb.data(), DType::BFloat16, {M, N}),
                               Tensor(Vb.data(), DType::BFloat16, {M, K}),
                               Tensor(I.data(), DType::Int32, {M, K})});
    for (size_t i = 0; i < Vb.size(); ++i)
      V[i] = tlrt::bf16ToF32(Vb[i]);
  } else {
    kernel(module, fn).launch({Tensor(X.data(), DType::Float32, {M, N}),
                               Tensor(V.data(), DType::Float32, {M, K}),
                               Tensor(I.data(), DType::Int32, {M, K})});
  }
  for (int64_t i = 0; i < M * K; ++i) {
    ASSERT_EQ(I[i], Ir[i]) << module << " " << fn << " row " << i / K << " rank " << i % K;
    ASSERT_EQ(V[i], Vr[i]) << module << " " << fn << " row " << i / K << " rank " << i % K;
  }
}

TEST(CpuBuiltins, TopK) {
  for (int64_t M : {4, 9}) {
    checkTopK("builtins", "topk_shared", M, 128, 8, false);
    checkTopK("builtins", "topk_frag", M, 128, 8, false);
    checkTopK("builtins_topk_wide", "topk_shared", M, 1000, 64, false);
    checkTopK("builtins_topk_frag_k32", "topk_frag", M, 256, 32, false);
    checkTopK("builtins_topk_bf16", "topk_shared", M, 128, 16, true);
    checkTopK("builtins", "topk_local", M, 64, 4, false);
  }
}

TEST(CpuBuiltins, ReduceFragmentIntoShared) {
  const int64_t N = 64;
  for (int64_t M : {4, 10}) {
    std::vector<float> X = randomInts(M * N, -30, 30, static_cast<uint32_t>(M + 3));
    std::vector<float> Mx(M), S(M);
    kernel("builtins", "reduce_frag_to_shared")
        .launch({Tensor(X.data(), DType::Float32, {M, N}), Tensor(Mx.data(), DType::Float32, {M}),
                 Tensor(S.data(), DType::Float32, {M})});
    for (int64_t m = 0; m < M; ++m) {
      float mx = -INFINITY, sum = 1;
      for (int64_t j = 0; j < N; ++j) {
        mx = std::max(mx, X[m * N + j]);
        sum += X[m * N + j];
      }
      EXPECT_EQ(Mx[m], mx) << "row " << m;
      EXPECT_EQ(S[m], sum) << "row " << m;
    }
  }
}

TEST(CpuBuiltins, FillRegions) {
  const int64_t N = 64;
  for (int64_t M : {4, 11}) {
    std::vector<float> C(M * N, -9), D(M * N, -9), E(M * 16, -9);
    kernel("builtins", "fill_regions")
        .launch({Tensor(C.data(), DType::Float32, {M, N}), Tensor(D.data(), DType::Float32, {M, N}),
                 Tensor(E.data(), DType::Float32, {M, 16})});
    for (int64_t m = 0; m < M; ++m) {
      int64_t bx = m / 4, r = m % 4;
      for (int64_t j = 0; j < N; ++j) {
        float c = -1;
        if (r < 2)
          c = 1;
        if (r == bx % 4 && j >= 4 && j < 8)
          c = 2;
        if (r == 3)
          c = 0;
        EXPECT_EQ(C[m * N + j], c) << "C at " << m << "," << j;
        float d = j >= 60 ? 8 : (r == 1 || r == 2) ? 5 : (r == 0 && j < 16) ? 7 : 0;
        EXPECT_EQ(D[m * N + j], d) << "D at " << m << "," << j;
      }
      for (int64_t j = 0; j < 16; ++j) {
        float e = (j >= 8 + 2 && j < 8 + 6) ? 0 : 3;
        EXPECT_EQ(E[m * 16 + j], e) << "E at " << m << "," << j;
      }
    }
  }
}

TEST(CpuBuiltins, PipelinedNoStages) {
  for (auto [M, N] : {std::pair<int64_t, int64_t>{4, 32}, {10, 100}, {33, 256}}) {
    std::vector<float> X = randomInts(M * N, -50, 50, static_cast<uint32_t>(M + N));
    std::vector<float> Y(M, -1);
    kernel("builtins", "pipelined_stages0")
        .launch({Tensor(X.data(), DType::Float32, {M, N}), Tensor(Y.data(), DType::Float32, {M})});
    for (int64_t m = 0; m < M; ++m) {
      float s = 0;
      for (int64_t j = 0; j < N; ++j)
        s += X[m * N + j];
      EXPECT_EQ(Y[m], s) << M << "x" << N << " row " << m;
    }
  }
}

void checkVecAtomic(const std::string &module, DType dt) {
  const int64_t M = 9, N = 64;
  std::vector<float> X = randomInts(M * N, -8, 8, 3);
  std::vector<float> sums(N, 0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t j = 0; j < N; ++j)
      sums[j] += X[m * N + j];
  std::vector<float> C(N), D(N);
  if (dt == DType::Float32) {
    std::fill(C.begin(), C.end(), 1.0f);
    std::fill(D.begin(), D.end(), 2.0f);
    kernel(module, "vec_atomic")
        .launch({Tensor(X.data(), dt, {M, N}), Tensor(C.data(), dt, {N}), Tensor(D.data(), dt, {N})});
  } else {
    auto to = [&](float x) { return dt == DType::BFloat16 ? tlrt::f32ToBF16(x) : tlrt::f32ToF16(x); };
    auto from = [&](uint16_t x) { return dt == DType::BFloat16 ? tlrt::bf16ToF32(x) : tlrt::f16ToF32(x); };
    std::vector<uint16_t> Xh(X.size()), Ch(N, to(1.0f)), Dh(N, to(2.0f));
    for (size_t i = 0; i < X.size(); ++i)
      Xh[i] = to(X[i]);
    kernel(module, "vec_atomic")
        .launch({Tensor(Xh.data(), dt, {M, N}), Tensor(Ch.data(), dt, {N}), Tensor(Dh.data(), dt, {N})});
    for (int64_t j = 0; j < N; ++j) {
      C[j] = from(Ch[j]);
      D[j] = from(Dh[j]);
    }
  }
  // Small integers: every partial sum is exact in each dtype.
  for (int64_t j = 0; j < N; ++j) {
    EXPECT_EQ(C[j], 1 + sums[j]) << module << " C[" << j << "]";
    EXPECT_EQ(D[j], 2 + sums[j]) << module << " D[" << j << "]";
  }
}

TEST(CpuBuiltins, VectorAtomics) {
  checkVecAtomic("builtins", DType::Float32);
  checkVecAtomic("builtins_vec4_f32", DType::Float32);
  checkVecAtomic("builtins_vec2_f16", DType::Float16);
  checkVecAtomic("builtins_vec4_bf16", DType::BFloat16);
  checkVecAtomic("builtins_vec2_bf16", DType::BFloat16);
}

TEST(CpuBuiltins, SharedAtomicsReturnPrevious) {
  const int64_t B = 3, N = 128;
  std::mt19937 rng(5);
  std::vector<int32_t> Idx(B * N), P(B * N, -1), H(B * 16, -1);
  std::vector<float> Q(B * N, -1), G(B * 16, -1);
  for (auto &x : Idx)
    x = std::uniform_int_distribution<int32_t>(0, 15)(rng);
  kernel("builtins", "shared_atomic_prev")
      .launch({Tensor(Idx.data(), DType::Int32, {B, N}), Tensor(P.data(), DType::Int32, {B, N}),
               Tensor(Q.data(), DType::Float32, {B, N}), Tensor(H.data(), DType::Int32, {B, 16}),
               Tensor(G.data(), DType::Float32, {B, 16})});
  for (int64_t b = 0; b < B; ++b) {
    // Per bucket, the previous counts are 0..count-1, each once (in any order).
    std::vector<std::vector<int>> seenI(16), seenF(16);
    for (int64_t i = 0; i < N; ++i) {
      seenI[Idx[b * N + i]].push_back(P[b * N + i]);
      seenF[Idx[b * N + i]].push_back(static_cast<int>(Q[b * N + i]));
    }
    for (int h = 0; h < 16; ++h) {
      int count = static_cast<int>(seenI[h].size());
      EXPECT_EQ(H[b * 16 + h], count) << "block " << b << " bucket " << h;
      EXPECT_EQ(G[b * 16 + h], static_cast<float>(count)) << "block " << b << " bucket " << h;
      for (auto *seen : {&seenI[h], &seenF[h]}) {
        std::sort(seen->begin(), seen->end());
        for (int c = 0; c < count; ++c)
          ASSERT_EQ((*seen)[c], c) << "block " << b << " bucket " << h;
      }
    }
  }
}

TEST(CpuBuiltins, FragmentToFragmentCopy) {
  const int64_t N = 64;
  for (int64_t M : {4, 10}) {
    std::mt19937 rng(static_cast<uint32_t>(M));
    std::uniform_real_distribution<float> u(-3, 3);
    std::vector<float> X(M * N), C(M * N), D(M * N), S(M);
    for (auto &x : X)
      x = u(rng);
    kernel("builtins", "frag_copy")
        .launch({Tensor(X.data(), DType::Float32, {M, N}), Tensor(C.data(), DType::Float32, {M, N}),
                 Tensor(D.data(), DType::Float32, {M, N}), Tensor(S.data(), DType::Float32, {M})});
    for (int64_t m = 0; m < M; ++m) {
      double s = 0;
      for (int64_t j = 0; j < N; ++j) {
        float x = X[m * N + j];
        s += x;
        EXPECT_EQ(C[m * N + j], x);
        EXPECT_EQ(D[m * N + j], tlrt::bf16ToF32(tlrt::f32ToBF16(x)));
      }
      EXPECT_NEAR(S[m], s, 1e-4);
    }
  }
}

TEST(CpuBuiltins, BoolBuffersAsConditions) {
  const int64_t N = 64;
  for (int64_t M : {4, 12}) {
    std::mt19937 rng(static_cast<uint32_t>(M + 1));
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> X(M * N), C(M * N), D(M * N);
    for (auto &x : X)
      x = u(rng);
    kernel("builtins", "bool_flags")
        .launch({Tensor(X.data(), DType::Float32, {M, N}), Tensor(C.data(), DType::Float32, {M, N}),
                 Tensor(D.data(), DType::Float32, {M, N})});
    for (int64_t m = 0; m < M; ++m)
      for (int64_t j = 0; j < N; ++j) {
        float x = X[m * N + j];
        EXPECT_EQ(C[m * N + j], X[m * N] > 0 ? x * 2 : x) << m << "," << j;
        EXPECT_EQ(D[m * N + j], (x > 0.5f ? 1.0f : 0.0f) + ((m / 4) % 2 == 0 ? 10.0f : 0.0f))
            << m << "," << j;
      }
  }
}

TEST(CpuBuiltins, RegisterRegionCopies) {
  const int64_t N = 64;
  for (int64_t M : {64, 100}) {
    std::vector<float> X = randomInts(M * N, -50, 50, static_cast<uint32_t>(M));
    std::vector<float> C(M * N, -9), D(M * N, -9), E(M * 4, -9);
    kernel("builtins", "region_copy")
        .launch({Tensor(X.data(), DType::Float32, {M, N}), Tensor(C.data(), DType::Float32, {M, N}),
                 Tensor(D.data(), DType::Float32, {M, N}), Tensor(E.data(), DType::Float32, {M, 4})});
    auto x = [&](int64_t r, int64_t c) { return r < M ? X[r * N + c] : 0.0f; };
    for (int64_t m = 0; m < M; ++m) {
      int64_t b = m / 64, r = m % 64;
      for (int64_t j = 0; j < N; ++j) {
        EXPECT_EQ(C[m * N + j], r < 32 ? x(m, j) : -1.0f) << "C at " << m << "," << j;
        float d = r >= 32 && j >= 32 ? x(b * 64 + r - 32, j - 32) : 0.0f;
        EXPECT_EQ(D[m * N + j], d) << "D at " << m << "," << j;
      }
      for (int64_t j = 0; j < 4; ++j) {
        float e = r == 0 && (j == 1 || j == 2) ? X[m * N + j] : -9.0f;
        EXPECT_EQ(E[m * 4 + j], e) << "E at " << m << "," << j;
      }
    }
  }
}

TEST(CpuBuiltins, Softplus) {
  const int64_t M = 8, N = 64;
  std::vector<float> X(M * N), Y(M * N);
  for (int64_t i = 0; i < M * N; ++i)
    X[i] = -40.0f + 80.0f * static_cast<float>(i) / static_cast<float>(M * N); // -40 .. 40
  X[0] = 1e-30f;
  kernel("builtins", "softplus")
      .launch({Tensor(X.data(), DType::Float32, {M, N}), Tensor(Y.data(), DType::Float32, {M, N})});
  for (int64_t i = 0; i < M * N; ++i) {
    double ref = std::log1p(std::exp(static_cast<double>(X[i])));
    EXPECT_NEAR(Y[i], ref, 1e-6 * std::max(1.0, ref) + 1e-3 * ref) << "x = " << X[i];
  }
}

} // namespace
