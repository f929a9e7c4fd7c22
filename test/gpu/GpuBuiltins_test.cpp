// The documented builtins on the GPU (test/unit/cpu/kernels/builtins.tl, one
// small kernel each), against the CPU build of the same kernel, which
// test/unit/cpu/Builtins_test.cpp checks against plain C++ references:
// reductions of shared buffers, T.topk of shared and fragment rows, fills of
// regions, T.Pipelined(num_stages=0), vector atomics, shared atomics
// returning the previous value, fragment-to-fragment copies, T.bool buffers
// as conditions. Inputs are small integers where atomics add them in an
// unknown order, so every sum is exact and the comparison is bit for bit.
#include "GpuTestSupport.h"

#include <algorithm>

namespace {

using namespace tlc::gputest;
using tlrt::DType;

HostTensor ints(DType dt, std::vector<int64_t> shape, int lo, int hi) {
  HostTensor t(dt, std::move(shape));
  int64_t n = 1;
  for (int64_t d : t.shape)
    n *= d;
  for (int64_t i = 0; i < n; ++i) {
    float x = static_cast<float>(std::uniform_int_distribution<int>(lo, hi)(rng()));
    if (dt == DType::Float32)
      t.as<float>()[i] = x;
    else if (dt == DType::BFloat16)
      t.as<uint16_t>()[i] = tlrt::f32ToBF16(x);
    else if (dt == DType::Float16)
      t.as<uint16_t>()[i] = tlrt::f32ToF16(x);
    else
      t.as<int32_t>()[i] = static_cast<int32_t>(x);
  }
  return t;
}

HostTensor filled(DType dt, std::vector<int64_t> shape, float v) {
  HostTensor t(dt, std::move(shape));
  int64_t n = static_cast<int64_t>(t.bytes.size()) / (dt == DType::Float32 ? 4 : 2);
  for (int64_t i = 0; i < n; ++i) {
    if (dt == DType::Float32)
      t.as<float>()[i] = v;
    else
      t.as<uint16_t>()[i] = dt == DType::BFloat16 ? tlrt::f32ToBF16(v) : tlrt::f32ToF16(v);
  }
  return t;
}

void expectSameBytes(const LaunchResult &r, size_t i, const std::string &what) {
  EXPECT_EQ(r.gpu[i].bytes, r.cpu[i].bytes) << what << ": output " << i << " differs";
}

TEST(GpuBuiltins, ReduceShared) {
  REQUIRE_GPU_KERNEL("reduce_shared");
  for (int64_t M : {4, 13, 256}) {
    // Integers: sums are exact in any order.
    HostTensor X = ints(DType::Float32, {M, 128}, -9, 9);
    LaunchResult r = runBoth("reduce_shared",
                             {X, HostTensor(DType::Float32, {M}), HostTensor(DType::Float32, {M}),
                              HostTensor(DType::Float32, {M}), HostTensor(DType::Float32, {M}),
                              filled(DType::Float32, {128}, 0.5f)},
                             {false, true, true, true, true, false});
    for (size_t i = 1; i <= 5; ++i)
      expectSameBytes(r, i, "reduce_shared M=" + std::to_string(M));
  }
}

void checkTopK(const std::string &name, DType dt, int64_t N, int64_t K) {
  REQUIRE_GPU_KERNEL(name);
  for (int64_t M : {4, 9, 64}) {
    HostTensor X = ints(dt, {M, N}, -20, 20); // ties everywhere
    LaunchResult r = runBoth(name, {X, HostTensor(dt, {M, K}), HostTensor(DType::Int32, {M, K})},
                             {false, true, true});
    expectSameBytes(r, 1, name + " values");
    expectSameBytes(r, 2, name + " indices");
  }
}

TEST(GpuBuiltins, TopKShared) { checkTopK("topk_shared", DType::Float32, 128, 8); }
TEST(GpuBuiltins, TopKFragment) { checkTopK("topk_frag", DType::Float32, 128, 8); }
TEST(GpuBuiltins, TopKWideRows) { checkTopK("topk_shared__wide", DType::Float32, 1000, 64); }
TEST(GpuBuiltins, TopKFragmentK32) { checkTopK("topk_frag__k32", DType::Float32, 256, 32); }
TEST(GpuBuiltins, TopKBF16) { checkTopK("topk_shared__bf16", DType::BFloat16, 128, 16); }
TEST(GpuBuiltins, TopKIntoLocals) { checkTopK("topk_local", DType::Float32, 64, 4); }

TEST(GpuBuiltins, ReduceFragmentIntoShared) {
  REQUIRE_GPU_KERNEL("reduce_frag_to_shared");
  for (int64_t M : {4, 10, 128}) {
    HostTensor X = ints(DType::Float32, {M, 64}, -30, 30);
    LaunchResult r = runBoth("reduce_frag_to_shared",
                             {X, HostTensor(DType::Float32, {M}), HostTensor(DType::Float32, {M})},
                             {false, true, true});
    expectSameBytes(r, 1, "max into shared");
    expectSameBytes(r, 2, "sum onto shared (clear=False)");
  }
}

TEST(GpuBuiltins, FillRegions) {
  REQUIRE_GPU_KERNEL("fill_regions");
  for (int64_t M : {4, 11, 64}) {
    LaunchResult r = runBoth("fill_regions",
                             {HostTensor(DType::Float32, {M, 64}), HostTensor(DType::Float32, {M, 64}),
                              HostTensor(DType::Float32, {M, 16})},
                             {true, true, true});
    for (size_t i = 0; i < 3; ++i)
      expectSameBytes(r, i, "fill_regions");
  }
}

TEST(GpuBuiltins, PipelinedNoStages) {
  REQUIRE_GPU_KERNEL("pipelined_stages0");
  for (auto [M, N] : {std::pair<int64_t, int64_t>{4, 32}, {10, 100}, {33, 256}}) {
    HostTensor X = ints(DType::Float32, {M, N}, -50, 50);
    LaunchResult r = runBoth("pipelined_stages0", {X, HostTensor(DType::Float32, {M})}, {false, true});
    expectSameBytes(r, 1, "pipelined_stages0");
  }
}

void checkVecAtomic(const std::string &name, DType dt) {
  REQUIRE_GPU_KERNEL(name);
  HostTensor X = ints(dt, {9, 64}, -8, 8);
  LaunchResult r = runBoth(name, {X, filled(dt, {64}, 1.0f), filled(dt, {64}, 2.0f)},
                           {false, false, false});
  expectSameBytes(r, 1, name + " C");
  expectSameBytes(r, 2, name + " D");
}

TEST(GpuBuiltins, VectorAtomicF32x2) { checkVecAtomic("vec_atomic", DType::Float32); }
TEST(GpuBuiltins, VectorAtomicF32x4) { checkVecAtomic("vec_atomic__v4_f32", DType::Float32); }
TEST(GpuBuiltins, VectorAtomicF16x2) { checkVecAtomic("vec_atomic__v2_f16", DType::Float16); }
TEST(GpuBuiltins, VectorAtomicBF16x2) { checkVecAtomic("vec_atomic__v2_bf16", DType::BFloat16); }
TEST(GpuBuiltins, VectorAtomicBF16x4) { checkVecAtomic("vec_atomic__v4_bf16", DType::BFloat16); }

TEST(GpuBuiltins, SharedAtomicsReturnPrevious) {
  REQUIRE_GPU_KERNEL("shared_atomic_prev");
  const int64_t B = 5, N = 128;
  HostTensor Idx = ints(DType::Int32, {B, N}, 0, 15);
  LaunchResult r = runBoth("shared_atomic_prev",
                           {Idx, HostTensor(DType::Int32, {B, N}), HostTensor(DType::Float32, {B, N}),
                            HostTensor(DType::Int32, {B, 16}), HostTensor(DType::Float32, {B, 16})},
                           {false, true, true, true, true});
  expectSameBytes(r, 3, "final int counts");
  expectSameBytes(r, 4, "final float counts");
  // The order of the previous values is the GPU's: per bucket they are
  // 0..count-1, each once.
  for (int64_t b = 0; b < B; ++b)
    for (int h = 0; h < 16; ++h) {
      std::vector<int> pi, pf;
      for (int64_t i = 0; i < N; ++i)
        if (Idx.as<int32_t>()[b * N + i] == h) {
          pi.push_back(r.gpu[1].as<int32_t>()[b * N + i]);
          pf.push_back(static_cast<int>(r.gpu[2].as<float>()[b * N + i]));
        }
      std::sort(pi.begin(), pi.end());
      std::sort(pf.begin(), pf.end());
      for (size_t c = 0; c < pi.size(); ++c) {
        ASSERT_EQ(pi[c], static_cast<int>(c)) << "block " << b << " bucket " << h;
        ASSERT_EQ(pf[c], static_cast<int>(c)) << "block " << b << " bucket " << h;
      }
    }
}

TEST(GpuBuiltins, FragmentToFragmentCopy) {
  REQUIRE_GPU_KERNEL("frag_copy");
  for (int64_t M : {4, 10, 128}) {
    HostTensor X = ints(DType::Float32, {M, 64}, -100, 100);
    for (int64_t i = 0; i < M * 64; ++i)
      X.as<float>()[i] *= 1.0f / 3.0f; // not exact in bf16
    LaunchResult r = runBoth("frag_copy",
                             {X, HostTensor(DType::Float32, {M, 64}), HostTensor(DType::Float32, {M, 64}),
                              HostTensor(DType::Float32, {M})},
                             {false, true, true, true});
    expectSameBytes(r, 1, "frag_copy same dtype");
    expectSameBytes(r, 2, "frag_copy through bf16");
    for (int64_t m = 0; m < M; ++m)
      EXPECT_NEAR(r.gpu[3].as<float>()[m], r.cpu[3].as<float>()[m], 1e-3) << "row sum " << m;
  }
}

TEST(GpuBuiltins, BoolBuffersAsConditions) {
  REQUIRE_GPU_KERNEL("bool_flags");
  for (int64_t M : {4, 12, 64}) {
    HostTensor X(DType::Float32, {M, 64});
    for (int64_t i = 0; i < M * 64; ++i)
      X.as<float>()[i] = uniform(-1, 1);
    LaunchResult r = runBoth("bool_flags",
                             {X, HostTensor(DType::Float32, {M, 64}), HostTensor(DType::Float32, {M, 64})},
                             {false, true, true});
    expectSameBytes(r, 1, "bool_flags C");
    expectSameBytes(r, 2, "bool_flags D");
  }
}

TEST(GpuBuiltins, RegisterRegionCopies) {
  REQUIRE_GPU_KERNEL("region_copy");
  for (int64_t M : {64, 100, 256}) {
    HostTensor X = ints(DType::Float32, {M, 64}, -50, 50);
    LaunchResult r = runBoth("region_copy",
                             {X, HostTensor(DType::Float32, {M, 64}), HostTensor(DType::Float32, {M, 64}),
                              filled(DType::Float32, {M, 4}, -9.0f)},
                             {false, true, true, false});
    for (size_t i = 1; i <= 3; ++i)
      expectSameBytes(r, i, "region_copy M=" + std::to_string(M));
  }
}

// The GPU's log1p (approximate lg2) against libm on the CPU: relative 1e-5.
TEST(GpuBuiltins, Softplus) {
  REQUIRE_GPU_KERNEL("softplus");
  HostTensor X(DType::Float32, {64, 64});
  for (int64_t i = 0; i < 64 * 64; ++i)
    X.as<float>()[i] = uniform(-40, 40);
  X.as<float>()[0] = 1e-30f;
  X.as<float>()[1] = -1e-7f;
  LaunchResult r = runBoth("softplus", {X, HostTensor(DType::Float32, {64, 64})}, {false, true});
  for (int64_t i = 0; i < 64 * 64; ++i) {
    float g = r.gpu[1].as<float>()[i], c = r.cpu[1].as<float>()[i];
    EXPECT_NEAR(g, c, 1e-5 * std::max(1.0f, std::fabs(c)) + 1e-5f * std::fabs(c))
        << "x = " << X.as<float>()[i];
  }
}

} // namespace
