// Every example kernel on the GPU (PTX from tlc, launched through libtlrt),
// checked two ways on fresh random inputs each run:
//  * against a plain double-precision host reference, by ||out - ref|| / ||ref||
//    (docs/perf.md and METHOD.md bounds: bf16 outputs <= 1e-2);
//  * against the same .tl kernel compiled for the CPU target (the "golden"
//    cross-check of issue 4): bit for bit where the arithmetic is exact
//    (FP8 quantisation, FP4 dequantisation), within the bound otherwise.
// Outputs are poisoned (0xFF bytes: NaN in bf16/f32) before every launch and
// every element is checked to have been written. Shapes include ragged edges.
//
// The kernels come for the device's architecture: compute capability 9.x
// runs the sm_90a build (kernels/), 10.x the sm_100a build (kernels_sm100a/);
// $TLC_GPU_KERNELS overrides the folder. A test whose kernel was not compiled
// for that architecture (no gpu_<name>.manifest.json there, or one for
// another target) skips and says why. Without a CUDA driver and such a
// device every test skips.
#include "GpuTestSupport.h"

namespace {

using namespace tlc::gputest;

//===----------------------------------------------------------------------===//
// GEMMs
//===----------------------------------------------------------------------===//


// A GEMM's bf16 output C (input `index` of the launch) against the f64
// reference and the CPU target, within 1e-2 (bf16 rounding of C dominates).
void expectGemmOutputNear(const std::string &name, const GemmShape &s, const LaunchResult &r,
                          size_t index, const std::vector<double> &ref) {
  const uint16_t *g = r.gpu[index].as<uint16_t>(), *c = r.cpu[index].as<uint16_t>();
  expectNear(
      shapeName(name, s.M, s.N, s.K), s.M * s.N, [&](int64_t i) { return tlrt::bf16ToF32(g[i]); },
      [&](int64_t i) { return tlrt::bf16ToF32(c[i]); }, ref, 1e-2);
}

const GemmShape kGemmShapes[] = {
    {256, 256, 256},  {128, 128, 64},   {200, 136, 72}, {1000, 520, 1000},
    {64, 1000, 2048}, {384, 256, 4096}, {1, 8, 8},      {129, 257, 200},
};

void checkGemmBF16(const std::string &name) {
  int count = 0;
  for (const GemmShape &s : kGemmShapes) {
    if (stopEarly(count))
      break;
    SCOPED_TRACE(name + " M=" + std::to_string(s.M) + " N=" + std::to_string(s.N) +
                 " K=" + std::to_string(s.K));
    HostTensor A(tlrt::DType::BFloat16, {s.M, s.K}), B(tlrt::DType::BFloat16, {s.N, s.K}),
        C(tlrt::DType::BFloat16, {s.M, s.N});
    fillBF16(A, -1, 1);
    fillBF16(B, -1, 1);
    LaunchResult r = runBoth(name, {A, B, C}, {false, false, true});
    std::vector<double> ref(s.M * s.N);
    const uint16_t *a = A.as<uint16_t>(), *b = B.as<uint16_t>();
    std::vector<float> af(s.M * s.K), bf(s.N * s.K);
    for (int64_t i = 0; i < s.M * s.K; ++i)
      af[i] = tlrt::bf16ToF32(a[i]);
    for (int64_t i = 0; i < s.N * s.K; ++i)
      bf[i] = tlrt::bf16ToF32(b[i]);
    for (int64_t m = 0; m < s.M; ++m)
      for (int64_t n = 0; n < s.N; ++n) {
        double acc = 0;
        for (int64_t k = 0; k < s.K; ++k)
          acc += double(af[m * s.K + k]) * bf[n * s.K + k];
        ref[m * s.N + n] = acc;
      }
    expectGemmOutputNear(name, s, r, 2, ref);
  }
}

TEST(GpuKernels, GemmBF16) {
  REQUIRE_GPU_KERNEL("gemm_bf16");
  checkGemmBF16("gemm_bf16");
}

TEST(GpuKernels, GemmBF16Tile128x256) {
  REQUIRE_GPU_KERNEL("gemm_bf16__bn256");
  checkGemmBF16("gemm_bf16__bn256");
}

// Clusters of two blocks along x multicasting the shared A tile (ragged
// grids leave a block of the last cluster a tile past N).
TEST(GpuKernels, GemmBF16Cluster2) {
  REQUIRE_GPU_KERNEL("gemm_bf16__cluster2");
  checkGemmBF16("gemm_bf16__cluster2");
}

// Four blocks share each A tile (32-row slices each).
TEST(GpuKernels, GemmBF16Cluster4) {
  REQUIRE_GPU_KERNEL("gemm_bf16__cluster4");
  checkGemmBF16("gemm_bf16__cluster4");
}

void checkGemmFP8(const std::string &name) {
  // K a multiple of 16 (TMA row pitch), ragged against the 128-wide blocks.
  const GemmShape shapes[] = {{256, 256, 256},  {200, 136, 144}, {1000, 520, 1024},
                              {64, 1000, 2048}, {129, 257, 400}, {1, 16, 16}};
  int count = 0;
  for (const GemmShape &s : shapes) {
    if (stopEarly(count))
      break;
    SCOPED_TRACE(name + " M=" + std::to_string(s.M) + " N=" + std::to_string(s.N) +
                 " K=" + std::to_string(s.K));
    int64_t kb = (s.K + 127) / 128, nb = (s.N + 127) / 128;
    HostTensor A(tlrt::DType::Float8E4M3, {s.M, s.K}), SA(tlrt::DType::Float32, {s.M, kb}),
        B(tlrt::DType::Float8E4M3, {s.N, s.K}), SB(tlrt::DType::Float32, {nb, kb}),
        C(tlrt::DType::BFloat16, {s.M, s.N});
    for (auto &code : A.bytes)
      code = tlrt::f32ToE4M3(uniform(-448, 448));
    for (auto &code : B.bytes)
      code = tlrt::f32ToE4M3(uniform(-448, 448));
    for (int64_t i = 0; i < s.M * kb; ++i)
      SA.as<float>()[i] = uniform(0.5f, 2.0f) / 448.f;
    for (int64_t i = 0; i < nb * kb; ++i)
      SB.as<float>()[i] = uniform(0.5f, 2.0f) / 448.f;
    LaunchResult r = runBoth(name, {A, SA, B, SB, C}, {false, false, false, false, true});
    std::vector<double> ref(s.M * s.N);
    for (int64_t m = 0; m < s.M; ++m)
      for (int64_t n = 0; n < s.N; ++n) {
        double acc = 0;
        for (int64_t k = 0; k < s.K; ++k)
          acc += double(tlrt::e4m3ToF32(A.bytes[m * s.K + k])) * SA.as<float>()[m * kb + k / 128] *
                 tlrt::e4m3ToF32(B.bytes[n * s.K + k]) * SB.as<float>()[(n / 128) * kb + k / 128];
        ref[m * s.N + n] = acc;
      }
    expectGemmOutputNear(name, s, r, 4, ref);
  }
}

TEST(GpuKernels, GemmFP8BlockScaled) {
  REQUIRE_GPU_KERNEL("gemm_fp8_blockscaled");
  checkGemmFP8("gemm_fp8_blockscaled");
}

TEST(GpuKernels, GemmFP8BlockScaledCluster2) {
  REQUIRE_GPU_KERNEL("gemm_fp8_blockscaled__cluster2");
  checkGemmFP8("gemm_fp8_blockscaled__cluster2");
}

// gemm_fp8_mx / gemm_fp4_fp8 (one ue8m0 scale per 32 K per row). sm_90a code
// path: scales folded into a bf16 dequantisation in shared memory, bf16
// wgmma; its CPU golden is compiled with --arch sm_90a (the same code). On a
// Blackwell GPU the sm_100a build runs the block-scaled tcgen05 path, checked
// against a CPU golden of that path (kernels_sm100a/).
void checkGemmMX(const std::string &name, bool fp4B) {
  // K a multiple of 32 (one scale group), ragged against the 128-wide blocks.
  const GemmShape shapes[] = {{256, 256, 256},  {200, 136, 160}, {1000, 520, 1024},
                              {64, 1000, 2048}, {129, 257, 384}, {1, 16, 32}};
  int count = 0;
  for (const GemmShape &s : shapes) {
    if (stopEarly(count))
      break;
    SCOPED_TRACE(name + " M=" + std::to_string(s.M) + " N=" + std::to_string(s.N) +
                 " K=" + std::to_string(s.K));
    int64_t kg = s.K / 32;
    tlrt::DType bt = fp4B ? tlrt::DType::Float4E2M1 : tlrt::DType::Float8E4M3;
    HostTensor A(tlrt::DType::Float8E4M3, {s.M, s.K}), SA(tlrt::DType::UE8M0, {s.M, kg}),
        B(bt, {s.N, s.K}), SB(tlrt::DType::UE8M0, {s.N, kg}), C(tlrt::DType::BFloat16, {s.M, s.N});
    for (auto &code : A.bytes)
      code = tlrt::f32ToE4M3(uniform(-448, 448));
    for (auto &code : B.bytes)
      code = fp4B ? static_cast<uint8_t>(rng()()) : tlrt::f32ToE4M3(uniform(-448, 448));
    for (auto *S : {&SA, &SB})
      for (auto &code : S->bytes)
        code = static_cast<uint8_t>(119 + rng()() % 17); // 2^-8 .. 2^8
    auto bValue = [&](int64_t i) {
      if (!fp4B)
        return tlrt::e4m3ToF32(B.bytes[i]);
      uint8_t byte = B.bytes[i / 2];
      return tlrt::e2m1ToF32((i & 1) ? tlrt::unpackE2M1Odd(byte) : tlrt::unpackE2M1Even(byte));
    };
    LaunchResult r = runBoth(name, {A, SA, B, SB, C}, {false, false, false, false, true});
    std::vector<double> ref(s.M * s.N);
    for (int64_t m = 0; m < s.M; ++m)
      for (int64_t n = 0; n < s.N; ++n) {
        double acc = 0;
        for (int64_t k = 0; k < s.K; ++k)
          acc += double(tlrt::e4m3ToF32(A.bytes[m * s.K + k])) *
                 tlrt::ue8m0ToF32(SA.bytes[m * kg + k / 32]) * bValue(n * s.K + k) *
                 tlrt::ue8m0ToF32(SB.bytes[n * kg + k / 32]);
        ref[m * s.N + n] = acc;
      }
    expectGemmOutputNear(name, s, r, 4, ref);
  }
}

TEST(GpuKernels, GemmFP8MX) {
  REQUIRE_GPU_KERNEL("gemm_fp8_mx");
  checkGemmMX("gemm_fp8_mx", false);
}

TEST(GpuKernels, GemmFP4FP8) {
  REQUIRE_GPU_KERNEL("gemm_fp4_fp8");
  checkGemmMX("gemm_fp4_fp8", true);
}

//===----------------------------------------------------------------------===//
// Row kernels
//===----------------------------------------------------------------------===//

TEST(GpuKernels, RMSNorm) {
  REQUIRE_GPU_KERNEL("rmsnorm");
  int count = 0;
  for (int64_t T : {1, 4, 37, 256}) {
    if (stopEarly(count))
      break;
    SCOPED_TRACE("T=" + std::to_string(T));
    const int64_t D = 4096;
    HostTensor x(tlrt::DType::BFloat16, {T, D}), w(tlrt::DType::BFloat16, {D}),
        y(tlrt::DType::BFloat16, {T, D});
    fillBF16(x, -3, 3);
    fillBF16(w, 0.5, 1.5);
    float eps = 1e-6f;
    LaunchResult r = runBoth("rmsnorm", {x, w, y}, {false, false, true}, {eps});
    std::vector<double> ref(T * D);
    for (int64_t t = 0; t < T; ++t) {
      double ss = 0;
      for (int64_t d = 0; d < D; ++d) {
        double v = tlrt::bf16ToF32(x.as<uint16_t>()[t * D + d]);
        ss += v * v;
      }
      double inv = 1.0 / std::sqrt(ss / D + eps);
      for (int64_t d = 0; d < D; ++d)
        ref[t * D + d] = tlrt::bf16ToF32(x.as<uint16_t>()[t * D + d]) * inv *
                         tlrt::bf16ToF32(w.as<uint16_t>()[d]);
    }
    const uint16_t *g = r.gpu[2].as<uint16_t>(), *c = r.cpu[2].as<uint16_t>();
    expectNear(
        "rmsnorm T=" + std::to_string(T), T * D, [&](int64_t i) { return tlrt::bf16ToF32(g[i]); },
        [&](int64_t i) { return tlrt::bf16ToF32(c[i]); }, ref, 1e-2);
  }
}

TEST(GpuKernels, Softmax) {
  REQUIRE_GPU_KERNEL("softmax");
  int count = 0;
  for (int64_t R : {1, 8, 13, 333}) {
    if (stopEarly(count))
      break;
    SCOPED_TRACE("R=" + std::to_string(R));
    const int64_t C = 1024;
    HostTensor x(tlrt::DType::Float32, {R, C}), y(tlrt::DType::Float32, {R, C});
    for (int64_t i = 0; i < R * C; ++i)
      x.as<float>()[i] = uniform(-8, 8);
    LaunchResult r = runBoth("softmax", {x, y}, {false, true});
    std::vector<double> ref(R * C);
    for (int64_t i = 0; i < R; ++i) {
      double mx = -1e300, sum = 0;
      for (int64_t j = 0; j < C; ++j)
        mx = std::max(mx, double(x.as<float>()[i * C + j]));
      for (int64_t j = 0; j < C; ++j)
        sum += std::exp(x.as<float>()[i * C + j] - mx);
      for (int64_t j = 0; j < C; ++j)
        ref[i * C + j] = std::exp(x.as<float>()[i * C + j] - mx) / sum;
    }
    const float *g = r.gpu[1].as<float>(), *c = r.cpu[1].as<float>();
    // f32 math with ex2.approx
    expectNear(
        "softmax R=" + std::to_string(R), R * C, [&](int64_t i) { return g[i]; },
        [&](int64_t i) { return c[i]; }, ref, 1e-5);
  }
}

TEST(GpuKernels, ActQuantFP8) {
  REQUIRE_GPU_KERNEL("act_quant_fp8");
  int count = 0;
  for (auto [T, K] : {std::pair<int64_t, int64_t>{1, 128}, {32, 256}, {45, 512}, {300, 7168}}) {
    if (stopEarly(count))
      break;
    SCOPED_TRACE("T=" + std::to_string(T) + " K=" + std::to_string(K));
    HostTensor x(tlrt::DType::BFloat16, {T, K}), q(tlrt::DType::Float8E4M3, {T, K}),
        s(tlrt::DType::Float32, {T, K / 128});
    fillBF16(x, -20, 20);
    // A few all-zero groups exercise the tiny-scale path.
    for (int64_t k = 0; k < 128; ++k)
      x.as<uint16_t>()[k] = 0;
    LaunchResult r = runBoth("act_quant_fp8", {x, q, s}, {false, true, true});
    // Bit-exact against the CPU target: power-of-two scales make x / s exact.
    int64_t qMismatch = 0, sMismatch = 0;
    for (int64_t i = 0; i < T * K; ++i)
      qMismatch += r.gpu[1].bytes[i] != r.cpu[1].bytes[i];
    for (int64_t i = 0; i < T * (K / 128); ++i)
      sMismatch += std::memcmp(&r.gpu[2].as<float>()[i], &r.cpu[2].as<float>()[i], 4) != 0;
    EXPECT_EQ(qMismatch, 0);
    EXPECT_EQ(sMismatch, 0);
    // And against the definition.
    int64_t refMismatch = 0;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t g = 0; g < K / 128; ++g) {
        float amax = 0;
        for (int64_t k = 0; k < 128; ++k)
          amax = std::max(amax, std::fabs(tlrt::bf16ToF32(x.as<uint16_t>()[t * K + g * 128 + k])));
        float a = std::max(amax, 1e-30f);
        float scale = std::exp2(std::ceil(std::log2(a / 448.0f)));
        refMismatch += r.gpu[2].as<float>()[t * (K / 128) + g] != scale;
        for (int64_t k = 0; k < 128; ++k) {
          float v = tlrt::bf16ToF32(x.as<uint16_t>()[t * K + g * 128 + k]) / scale;
          refMismatch += r.gpu[1].bytes[t * K + g * 128 + k] != tlrt::f32ToE4M3(v);
        }
      }
    EXPECT_EQ(refMismatch, 0);
  }
}

TEST(GpuKernels, FP4Dequant) {
  REQUIRE_GPU_KERNEL("fp4_dequant");
  int count = 0;
  for (auto [N, K] : {std::pair<int64_t, int64_t>{64, 128}, {100, 256}, {7, 96}, {512, 2048}}) {
    if (stopEarly(count))
      break;
    SCOPED_TRACE("N=" + std::to_string(N) + " K=" + std::to_string(K));
    HostTensor wq(tlrt::DType::Float4E2M1, {N, K}), S(tlrt::DType::UE8M0, {N, K / 32}),
        w(tlrt::DType::BFloat16, {N, K});
    for (auto &b : wq.bytes)
      b = static_cast<uint8_t>(rng()());
    for (auto &b : S.bytes)
      b = static_cast<uint8_t>(110 + rng()() % 30);
    LaunchResult r = runBoth("fp4_dequant", {wq, S, w}, {false, false, true});
    int64_t mismatch = 0, refMismatch = 0;
    for (int64_t i = 0; i < N * K; ++i)
      mismatch += r.gpu[2].as<uint16_t>()[i] != r.cpu[2].as<uint16_t>()[i];
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) {
        int64_t i = n * K + k;
        uint8_t byte = wq.bytes[i / 2];
        uint8_t code = (i & 1) ? tlrt::unpackE2M1Odd(byte) : tlrt::unpackE2M1Even(byte);
        float v = tlrt::e2m1ToF32(code) * tlrt::ue8m0ToF32(S.bytes[n * (K / 32) + k / 32]);
        refMismatch += r.gpu[2].as<uint16_t>()[i] != tlrt::f32ToBF16(v);
      }
    EXPECT_EQ(mismatch, 0);
    EXPECT_EQ(refMismatch, 0);
  }
}

//===----------------------------------------------------------------------===//
// TMA store and global atomics (test/gpu/kernels)
//===----------------------------------------------------------------------===//

TEST(GpuKernels, TileStoreThroughTMA) {
  REQUIRE_GPU_KERNEL("tile_store");
  int count = 0;
  for (auto [M, N] : {std::pair<int64_t, int64_t>{64, 128}, {100, 200}, {1, 8}, {1000, 1000}}) {
    if (stopEarly(count))
      break;
    SCOPED_TRACE("M=" + std::to_string(M) + " N=" + std::to_string(N));
    HostTensor x(tlrt::DType::BFloat16, {M, N}), y(tlrt::DType::BFloat16, {M, N});
    fillBF16(x, -4, 4);
    LaunchResult r = runBoth("tile_store", {x, y}, {false, true});
    int64_t mismatch = 0, cpuMismatch = 0;
    for (int64_t i = 0; i < M * N; ++i) {
      // 2x + 1 in f32 then one rounding to bf16 (exact in f32 for bf16 x).
      uint16_t want = tlrt::f32ToBF16(tlrt::bf16ToF32(x.as<uint16_t>()[i]) * 2.0f + 1.0f);
      mismatch += r.gpu[1].as<uint16_t>()[i] != want;
      cpuMismatch += r.gpu[1].as<uint16_t>()[i] != r.cpu[1].as<uint16_t>()[i];
    }
    EXPECT_EQ(mismatch, 0);
    EXPECT_EQ(cpuMismatch, 0);
  }
}

TEST(GpuKernels, ColumnSumWithAtomics) {
  REQUIRE_GPU_KERNEL("col_sum");
  int count = 0;
  for (auto [M, N] : {std::pair<int64_t, int64_t>{32, 128}, {100, 300}, {1000, 77}, {4096, 1024}}) {
    if (stopEarly(count))
      break;
    SCOPED_TRACE("M=" + std::to_string(M) + " N=" + std::to_string(N));
    HostTensor x(tlrt::DType::Float32, {M, N}), S(tlrt::DType::Float32, {N});
    for (int64_t i = 0; i < M * N; ++i)
      x.as<float>()[i] = uniform(-1, 1);
    for (int64_t n = 0; n < N; ++n)
      S.as<float>()[n] = uniform(-10, 10); // accumulated into, not overwritten
    LaunchResult r = runBoth("col_sum", {x, S}, {false, false});
    std::vector<double> ref(N);
    for (int64_t n = 0; n < N; ++n) {
      ref[n] = S.as<float>()[n];
      for (int64_t m = 0; m < M; ++m)
        ref[n] += x.as<float>()[m * N + n];
    }
    expectNear(
        "col_sum " + std::to_string(M) + "x" + std::to_string(N), N,
        [&](int64_t i) { return r.gpu[1].as<float>()[i]; },
        [&](int64_t i) { return r.cpu[1].as<float>()[i]; }, ref, 1e-5);
  }
}

//===----------------------------------------------------------------------===//
// wgmma with f16 and e5m2 operands (test/gpu/kernels/gemm_typed.tl)
//===----------------------------------------------------------------------===//

TEST(GpuKernels, GemmF16) {
  REQUIRE_GPU_KERNEL("gemm_typed__f16");
  checkGemmF32Out("gemm_typed__f16", tlrt::DType::Float16);
}

TEST(GpuKernels, GemmE5M2) {
  REQUIRE_GPU_KERNEL("gemm_typed__e5m2");
  checkGemmF32Out("gemm_typed__e5m2", tlrt::DType::Float8E5M2);
}

// FP8 K tiles of 64 bytes (64-byte swizzle instead of 128).
TEST(GpuKernels, GemmE5M2RowsOf64Bytes) {
  REQUIRE_GPU_KERNEL("gemm_typed__e5m2_bk64");
  checkGemmF32Out("gemm_typed__e5m2_bk64", tlrt::DType::Float8E5M2);
}

// 64x512 accumulators split along N over 2 and 4 consumer warpgroups
// (test/gpu/kernels/gemm_wide.tl, f16 operands).
TEST(GpuKernels, GemmWide64x512Over2Warpgroups) {
  REQUIRE_GPU_KERNEL("gemm_wide__2wg");
  checkGemmF32Out("gemm_wide__2wg", tlrt::DType::Float16);
}

TEST(GpuKernels, GemmWide64x512Over4Warpgroups) {
  REQUIRE_GPU_KERNEL("gemm_wide__4wg");
  checkGemmF32Out("gemm_wide__4wg", tlrt::DType::Float16);
}

//===----------------------------------------------------------------------===//
// MN-major shared operands (test/gpu/kernels/gemm_mn_major.tl): A read as
// At[K, M] with transpose_A, B as Bt[K, N]; the wgmma descriptors' transpose
// bits, in a 128x128 tile over two warpgroups and a 64x256 tile over one.
//===----------------------------------------------------------------------===//

TEST(GpuKernels, GemmMNMajor) {
  REQUIRE_GPU_KERNEL("gemm_mn_major");
  checkGemmF32Out("gemm_mn_major", tlrt::DType::BFloat16, true);
}

TEST(GpuKernels, GemmMNMajor64x256) {
  REQUIRE_GPU_KERNEL("gemm_mn_major__64x256");
  checkGemmF32Out("gemm_mn_major__64x256", tlrt::DType::BFloat16, true);
}

//===----------------------------------------------------------------------===//
// The non-warp-specialised GEMM path (test/gpu/kernels/gemm_shared_dequant.tl)
//===----------------------------------------------------------------------===//

TEST(GpuKernels, GemmWithOperandRewrittenInShared) {
  REQUIRE_GPU_KERNEL("gemm_shared_dequant");
  const GemmShape shapes[] = {{256, 256, 256}, {200, 136, 72}, {129, 257, 200}, {1000, 520, 1000}};
  int count = 0;
  for (const GemmShape &s : shapes) {
    if (stopEarly(count))
      break;
    SCOPED_TRACE("M=" + std::to_string(s.M) + " N=" + std::to_string(s.N) +
                 " K=" + std::to_string(s.K));
    HostTensor A(tlrt::DType::BFloat16, {s.M, s.K}), B(tlrt::DType::BFloat16, {s.N, s.K}),
        C(tlrt::DType::Float32, {s.M, s.N});
    fillBF16(A, -1, 1);
    fillBF16(B, -1, 1);
    LaunchResult r = runBoth("gemm_shared_dequant", {A, B, C}, {false, false, true});
    std::vector<double> ref(s.M * s.N);
    for (int64_t m = 0; m < s.M; ++m)
      for (int64_t n = 0; n < s.N; ++n) {
        double acc = 0;
        for (int64_t k = 0; k < s.K; ++k)
          acc += double(tlrt::bf16ToF32(A.as<uint16_t>()[m * s.K + k])) * 2.0 *
                 tlrt::bf16ToF32(B.as<uint16_t>()[n * s.K + k]);
        ref[m * s.N + n] = acc;
      }
    const float *g = r.gpu[2].as<float>(), *c = r.cpu[2].as<float>();
    // bf16 x 2 is exact; f32 output
    expectNear(
        shapeName("gemm_shared_dequant", s.M, s.N, s.K), s.M * s.N, [&](int64_t i) { return g[i]; },
        [&](int64_t i) { return c[i]; }, ref, 1e-4);
  }
}

//===----------------------------------------------------------------------===//
// FlashAttention forward (examples/flash_attn_fwd.tl; kernels built only with
// -DTLC_GPU_ATTENTION=ON, otherwise these tests skip)
//===----------------------------------------------------------------------===//

// The compile-time variant: head size, masks, sink.
struct AttnConfig {
  int64_t D;
  bool causal;
  int64_t window; // > 0 only with causal (the kernel's definition)
  bool sink;
};

// One launch: heads, padded lengths and per-batch-entry valid lengths.
struct AttnCase {
  int64_t H, HK, SQ, SK;
  std::vector<int32_t> lensQ, lensK; // one per batch entry, <= SQ / SK
  double scaleMul;                   // scale = scaleMul / sqrt(D)
};

// Ragged against the 128-row / 128-key (64-key for D = 256) tiles; the first
// two are the TLC_GPU_TEST_SMALL shapes. SQ stays a multiple of 4 so LSE's
// row pitch (SQ * 4 bytes) meets TMA's 16-byte rule should the kernel store
// it by TMA; lengths are free.
const AttnCase kAttnCases[] = {
    // MHA, one full and one ragged entry.
    {2, 2, 200, 200, {200, 131}, {200, 131}, 1.0},
    // GQA (2 query heads per kv head), lens_q != lens_k, an empty query entry
    // (nothing written) and an entry without keys (O = 0, LSE = -inf / sink).
    {4, 2, 196, 333, {196, 77, 0, 5}, {333, 300, 17, 0}, 2.0},
    // MQA, lens_q > lens_k: with causal the first rows see no key.
    {3, 1, 260, 130, {260, 129}, {130, 1}, 0.5},
    // Decode-like: a few queries against long, ragged key ranges.
    {8, 2, 4, 700, {1, 4, 3}, {700, 129, 640}, 1.0},
    // Many key tiles (the window slides across several).
    {2, 1, 512, 1024, {512}, {1000}, 3.0},
};

struct AttnRef {
  std::vector<double> o;   // [B, SQ, H, D]; rows i >= lens_q unused
  std::vector<double> lse; // [B, H, SQ]; -inf for rows without a visible key (and no sink)
};

// Double-precision definition: query row i < lens_q[b] of head h attends
// keys j < lens_k[b]; when causal only j <= i + (lens_k - lens_q) (bottom-
// right aligned), with a window W also j > i + (lens_k - lens_q) - W;
// s = scale * q.k; a sink adds exp(sinks[h]) to the denominator only.
AttnRef attnReference(const AttnConfig &cfg, const AttnCase &c, const HostTensor &Q,
                      const HostTensor &K, const HostTensor &V, const HostTensor &sinks,
                      double scale) {
  const int64_t B = c.lensQ.size(), H = c.H, HK = c.HK, SQ = c.SQ, SK = c.SK, D = cfg.D;
  auto widen = [](const HostTensor &t) {
    std::vector<double> v(t.bytes.size() / 2);
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = tlrt::bf16ToF32(t.as<uint16_t>()[i]);
    return v;
  };
  const std::vector<double> q = widen(Q), k = widen(K), v = widen(V);
  AttnRef ref;
  ref.o.assign(B * SQ * H * D, 0.0);
  ref.lse.assign(B * H * SQ, 0.0);
  std::vector<double> s(SK);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t lq = c.lensQ[b], lk = c.lensK[b], off = lk - lq;
    for (int64_t h = 0; h < H; ++h) {
      const int64_t hk = h / (H / HK);
      const double sinkLogit = sinks.as<float>()[h];
      for (int64_t i = 0; i < lq; ++i) {
        int64_t lo = 0, hi = lk; // visible keys: lo <= j < hi
        if (cfg.causal)
          hi = std::min(hi, i + off + 1);
        if (cfg.window > 0)
          lo = std::max<int64_t>(0, i + off - cfg.window + 1);
        double mx = cfg.sink ? sinkLogit : -std::numeric_limits<double>::infinity();
        const double *qi = &q[((b * SQ + i) * H + h) * D];
        for (int64_t j = lo; j < hi; ++j) {
          const double *kj = &k[((b * SK + j) * HK + hk) * D];
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += qi[d] * kj[d];
          s[j] = scale * dot;
          mx = std::max(mx, s[j]);
        }
        double *oi = &ref.o[((b * SQ + i) * H + h) * D];
        double &lse = ref.lse[(b * H + h) * SQ + i];
        if (std::isinf(mx)) { // no visible key and no sink
          lse = -std::numeric_limits<double>::infinity();
          continue;
        }
        double den = cfg.sink ? std::exp(sinkLogit - mx) : 0.0;
        for (int64_t j = lo; j < hi; ++j) {
          const double p = std::exp(s[j] - mx);
          den += p;
          const double *vj = &v[((b * SK + j) * HK + hk) * D];
          for (int64_t d = 0; d < D; ++d)
            oi[d] += p * vj[d];
        }
        for (int64_t d = 0; d < D; ++d)
          oi[d] /= den;
        lse = mx + std::log(den);
      }
    }
  }
  return ref;
}

void checkFlashAttn(const std::string &name, const AttnConfig &cfg) {
  ASSERT_TRUE(cfg.window == 0 || cfg.causal) << "a window is defined only with causal";
  int count = 0;
  for (const AttnCase &c : kAttnCases) {
    if (stopEarly(count))
      break;
    const int64_t B = c.lensQ.size(), H = c.H, HK = c.HK, SQ = c.SQ, SK = c.SK, D = cfg.D;
    const std::string label = name + " B=" + std::to_string(B) + " H=" + std::to_string(H) +
                              " HK=" + std::to_string(HK) + " SQ=" + std::to_string(SQ) +
                              " SK=" + std::to_string(SK);
    SCOPED_TRACE(label);
    HostTensor Q(tlrt::DType::BFloat16, {B, SQ, H, D}), K(tlrt::DType::BFloat16, {B, SK, HK, D}),
        V(tlrt::DType::BFloat16, {B, SK, HK, D}), lensQ(tlrt::DType::Int32, {B}),
        lensK(tlrt::DType::Int32, {B}), sinks(tlrt::DType::Float32, {H}),
        O(tlrt::DType::BFloat16, {B, SQ, H, D}), LSE(tlrt::DType::Float32, {B, H, SQ});
    fillBF16(Q, -2, 2);
    fillBF16(K, -2, 2);
    fillBF16(V, -1, 1);
    for (int64_t b = 0; b < B; ++b) {
      lensQ.as<int32_t>()[b] = c.lensQ[b];
      lensK.as<int32_t>()[b] = c.lensK[b];
    }
    for (int64_t h = 0; h < H; ++h)
      sinks.as<float>()[h] = uniform(-2, 4); // from negligible to dominant
    const float scale = static_cast<float>(c.scaleMul / std::sqrt(static_cast<double>(D)));
    LaunchResult r = runBoth(name, {Q, K, V, lensQ, lensK, sinks, O, LSE},
                             {false, false, false, false, false, false, true, true}, {scale});
    const AttnRef ref = attnReference(cfg, c, Q, K, V, sinks, scale);

    // Written rows: O against the f64 reference and the CPU target. The
    // second product takes P rounded to bf16 (relative 2^-9 per element) and
    // O is rounded to bf16, so ~3e-3 norm-wise is expected; 1e-2 as for the
    // bf16 GEMMs. Rows i >= lens_q must keep the poison.
    const uint16_t *gO = r.gpu[6].as<uint16_t>(), *cO = r.cpu[6].as<uint16_t>();
    const float *gL = r.gpu[7].as<float>(), *cL = r.cpu[7].as<float>();
    std::vector<double> gpuO, cpuO, refO;
    int64_t gpuOverwritten = 0, cpuOverwritten = 0;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < SQ; ++i)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t d = 0; d < D; ++d) {
            const int64_t at = ((b * SQ + i) * H + h) * D + d;
            if (i >= c.lensQ[b]) {
              gpuOverwritten += gO[at] != 0xFFFF;
              cpuOverwritten += cO[at] != 0xFFFF;
              continue;
            }
            gpuO.push_back(tlrt::bf16ToF32(gO[at]));
            cpuO.push_back(tlrt::bf16ToF32(cO[at]));
            refO.push_back(ref.o[at]);
          }
    if (!refO.empty())
      expectNear(
          label + " O", refO.size(), [&](int64_t i) { return gpuO[i]; },
          [&](int64_t i) { return cpuO[i]; }, refO, 1e-2);

    // LSE is f32 arithmetic: its error is the relative error of the row sum,
    // under 2^-9 even for a kernel that sums the bf16-rounded probabilities,
    // so 2e-3 absolute. A row without a visible key (and no sink) is -inf.
    double gpuLseErr = 0, cpuLseErr = 0;
    int64_t gpuLseBad = 0, cpuLseBad = 0;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < SQ; ++i) {
          const int64_t at = (b * H + h) * SQ + i;
          uint32_t gBits, cBits;
          std::memcpy(&gBits, &gL[at], 4);
          std::memcpy(&cBits, &cL[at], 4);
          if (i >= c.lensQ[b]) {
            gpuOverwritten += gBits != 0xFFFFFFFFu;
            cpuOverwritten += cBits != 0xFFFFFFFFu;
            continue;
          }
          auto score = [&](float got, double &err, int64_t &bad) {
            if (std::isinf(ref.lse[at]))
              bad += !(std::isinf(got) && got < 0);
            else if (!std::isfinite(got))
              ++bad;
            else
              err = std::max(err, std::fabs(got - ref.lse[at]));
          };
          score(gL[at], gpuLseErr, gpuLseBad);
          score(cL[at], cpuLseErr, cpuLseBad);
        }
    EXPECT_EQ(gpuLseBad, 0) << label << ": LSE not written, NaN, or -inf where a key is visible "
                            << "(or finite where none is)";
    EXPECT_EQ(cpuLseBad, 0) << label << ": the same on the CPU target";
    EXPECT_LT(gpuLseErr, 2e-3) << label << ": LSE";
    EXPECT_LT(cpuLseErr, 2e-3) << label << ": LSE on the CPU target";
    EXPECT_EQ(gpuOverwritten, 0) << label << ": rows >= lens_q were written";
    EXPECT_EQ(cpuOverwritten, 0) << label << ": rows >= lens_q were written on the CPU target";
    std::printf("[gpu kernels] %s LSE max abs err vs f64 %.2e (CPU target %.2e)\n", label.c_str(),
                gpuLseErr, cpuLseErr);
  }
}

TEST(GpuKernels, FlashAttnD64) {
  REQUIRE_GPU_KERNEL("flash_attn_fwd__d64");
  checkFlashAttn("flash_attn_fwd__d64", {64, false, 0, false});
}

TEST(GpuKernels, FlashAttnD64Causal) {
  REQUIRE_GPU_KERNEL("flash_attn_fwd__d64_causal");
  checkFlashAttn("flash_attn_fwd__d64_causal", {64, true, 0, false});
}

TEST(GpuKernels, FlashAttnD128) {
  REQUIRE_GPU_KERNEL("flash_attn_fwd__d128");
  checkFlashAttn("flash_attn_fwd__d128", {128, false, 0, false});
}

TEST(GpuKernels, FlashAttnD128Causal) {
  REQUIRE_GPU_KERNEL("flash_attn_fwd__d128_causal");
  checkFlashAttn("flash_attn_fwd__d128_causal", {128, true, 0, false});
}

// Sliding window of 128 keys, ending at the causal diagonal.
TEST(GpuKernels, FlashAttnD128CausalWindow) {
  REQUIRE_GPU_KERNEL("flash_attn_fwd__d128_causal_window128");
  checkFlashAttn("flash_attn_fwd__d128_causal_window128", {128, true, 128, false});
}

// A per-head sink logit in the denominator (gpt-oss style), without and
// with the causal window.
TEST(GpuKernels, FlashAttnD128Sink) {
  REQUIRE_GPU_KERNEL("flash_attn_fwd__d128_sink");
  checkFlashAttn("flash_attn_fwd__d128_sink", {128, false, 0, true});
}

TEST(GpuKernels, FlashAttnD128CausalWindowSink) {
  REQUIRE_GPU_KERNEL("flash_attn_fwd__d128_causal_window128_sink");
  checkFlashAttn("flash_attn_fwd__d128_causal_window128_sink", {128, true, 128, true});
}

TEST(GpuKernels, FlashAttnD256) {
  REQUIRE_GPU_KERNEL("flash_attn_fwd__d256");
  checkFlashAttn("flash_attn_fwd__d256", {256, false, 0, false});
}

TEST(GpuKernels, FlashAttnD256Causal) {
  REQUIRE_GPU_KERNEL("flash_attn_fwd__d256_causal");
  checkFlashAttn("flash_attn_fwd__d256_causal", {256, true, 0, false});
}

} // namespace
