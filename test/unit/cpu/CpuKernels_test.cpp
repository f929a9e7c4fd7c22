// CPU back end, end to end: kernels compiled by `tlc --target cpu` at build
// time (test/unit/cpu/CMakeLists.txt), loaded and launched by the runtime's
// CPU executor, checked against plain C++ references built on
// tlrt/LowPrecision.h. Every comparison is bit-exact: the references follow
// the kernels' f32 operation order (or the math is exact), and the dtype
// conversions must match LowPrecision.cpp to the bit.
#include "CpuTestSupport.h"
#include "tlrt/LowPrecision.h"
#include "tlrt/Module.h"

#include <gtest/gtest.h>

#include <algorithm>
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

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float floatOf(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// A buffer with guard elements after the payload, to catch out-of-bounds
/// writes (the kernels must skip them).
template <typename T> struct Guarded {
  static constexpr size_t kGuard = 64;
  std::vector<T> data;
  T sentinel;
  size_t n;
  Guarded(size_t n, T sentinel) : data(n + kGuard, sentinel), sentinel(sentinel), n(n) {}
  T *ptr() { return data.data(); }
  T &operator[](size_t i) { return data[i]; }
  bool guardIntact() const {
    return std::all_of(data.begin() + n, data.end(), [&](T v) { return v == sentinel; });
  }
};

std::vector<uint16_t> randomBF16(size_t n, std::mt19937 &rng, float lo = -2, float hi = 2) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<uint16_t> v(n);
  for (auto &x : v)
    x = tlrt::f32ToBF16(d(rng));
  return v;
}

// --- conversions -------------------------------------------------------------

/// f32 inputs that exercise every rounding decision: specials, every bf16 and
/// f16 value with its neighbours and midpoints, every code of each narrow
/// format with neighbours and midpoints, powers of two, and random patterns.
std::vector<float> trickyF32() {
  std::vector<uint32_t> u = {0,          0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000,
                             0xFFC00000, 0x7F800001, 0x7FBFFFFF, 0xFFFFFFFF, 1,
                             0x807FFFFF, 0x00800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x00400000,
                             0x00400001, 0x003FFFFF};
  auto around = [&](float f) {
    uint32_t b = bitsOf(std::fabs(f));
    for (uint32_t s : {0u, 0x80000000u})
      for (int d = -2; d <= 2; ++d)
        u.push_back((b + d) | s);
  };
  for (uint32_t hi = 0; hi < 0x8000; ++hi) {
    uint32_t b = hi << 16;
    for (uint32_t lo : {0x0000u, 0x7FFFu, 0x8000u, 0x8001u, 0xFFFFu})
      for (uint32_t s : {0u, 0x80000000u})
        u.push_back((b | lo) ^ s);
  }
  std::vector<float> finite;
  for (uint32_t c = 0; c < 0x7C00; ++c)
    finite.push_back(tlrt::f16ToF32(static_cast<uint16_t>(c)));
  for (uint32_t c = 0; c < 0x7F; ++c)
    finite.push_back(tlrt::e4m3ToF32(static_cast<uint8_t>(c)));
  for (uint32_t c = 0; c < 0x7C; ++c)
    finite.push_back(tlrt::e5m2ToF32(static_cast<uint8_t>(c)));
  for (uint32_t c = 0; c < 8; ++c)
    finite.push_back(tlrt::e2m1ToF32(static_cast<uint8_t>(c)));
  for (uint32_t c = 0; c < 255; ++c)
    finite.push_back(tlrt::ue8m0ToF32(static_cast<uint8_t>(c)));
  finite.push_back(65520.0f);
  finite.push_back(448.0f + 16.0f);
  finite.push_back(57344.0f + 4096.0f);
  finite.push_back(7.0f);
  std::sort(finite.begin(), finite.end());
  for (size_t i = 0; i < finite.size(); ++i) {
    around(finite[i]);
    if (i + 1 < finite.size())
      around(static_cast<float>((static_cast<double>(finite[i]) + finite[i + 1]) / 2));
  }
  for (int e = -150; e <= 128; ++e)
    around(std::ldexp(1.0f, e));
  std::mt19937 rng(42);
  for (int i = 0; i < 2000000; ++i)
    u.push_back(static_cast<uint32_t>(rng()));
  std::vector<float> out;
  out.reserve(u.size() + 1);
  for (uint32_t b : u)
    out.push_back(floatOf(b));
  if (out.size() % 2)
    out.push_back(0.0f); // FP4 outputs pack pairs
  return out;
}

const std::vector<float> &inputs() {
  static const std::vector<float> v = trickyF32();
  return v;
}

template <typename Code, typename Ref>
void checkEncode(const std::string &dst, DType dtype, Ref ref) {
  const std::vector<float> &x = inputs();
  int64_t n = static_cast<int64_t>(x.size());
  std::vector<Code> y(n, 0);
  kernel("cast_float32_" + dst, "cast_kernel")
      .launch({Tensor(const_cast<float *>(x.data()), DType::Float32, {n}),
               Tensor(y.data(), dtype, {n})});
  int64_t bad = 0;
  for (int64_t i = 0; i < n && bad < 10; ++i) {
    Code want = ref(x[i]);
    if (y[i] != want) {
      ++bad;
      ADD_FAILURE() << "f32 -> " << dst << " of 0x" << std::hex << bitsOf(x[i]) << " gave 0x"
                    << +y[i] << ", expected 0x" << +want;
    }
  }
}

TEST(CpuCast, F32ToBF16) { checkEncode<uint16_t>("bfloat16", DType::BFloat16, tlrt::f32ToBF16); }
TEST(CpuCast, F32ToF16) { checkEncode<uint16_t>("float16", DType::Float16, tlrt::f32ToF16); }
TEST(CpuCast, F32ToE4M3) { checkEncode<uint8_t>("float8_e4m3", DType::Float8E4M3, tlrt::f32ToE4M3); }
TEST(CpuCast, F32ToE5M2) { checkEncode<uint8_t>("float8_e5m2", DType::Float8E5M2, tlrt::f32ToE5M2); }
TEST(CpuCast, F32ToUE8M0) {
  checkEncode<uint8_t>("ue8m0", DType::UE8M0, tlrt::f32ToUE8M0Ceil);
}

TEST(CpuCast, F32ToE2M1Packed) {
  const std::vector<float> &x = inputs();
  int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> y(n / 2, 0xAA);
  kernel("cast_float32_float4_e2m1", "cast_kernel")
      .launch({Tensor(const_cast<float *>(x.data()), DType::Float32, {n}),
               Tensor(y.data(), DType::Float4E2M1, {n})});
  int64_t bad = 0;
  for (int64_t i = 0; i < n / 2 && bad < 10; ++i) {
    uint8_t want = tlrt::packE2M1(tlrt::f32ToE2M1(x[2 * i]), tlrt::f32ToE2M1(x[2 * i + 1]));
    if (y[i] != want) {
      ++bad;
      ADD_FAILURE() << "f32 -> e2m1 of elements " << 2 * i << ", " << 2 * i + 1 << " (0x"
                    << std::hex << bitsOf(x[2 * i]) << ", 0x" << bitsOf(x[2 * i + 1])
                    << ") gave byte 0x" << +y[i] << ", expected 0x" << +want;
    }
  }
}

/// Every code of a format, repeated to a ragged length, widened to f32.
template <typename Code>
void checkDecode(const std::string &src, DType dtype, int codes, float (*ref)(Code)) {
  int64_t n = 3 * codes + 7; // ragged last block
  std::vector<Code> x(n);
  for (int64_t i = 0; i < n; ++i)
    x[i] = static_cast<Code>(i % codes);
  Guarded<uint32_t> y(n, 0xDEADBEEF);
  kernel("cast_" + src + "_float32", "cast_kernel")
      .launch({Tensor(x.data(), dtype, {n}), Tensor(y.ptr(), DType::Float32, {n})});
  for (int64_t i = 0; i < codes; ++i)
    EXPECT_EQ(y[i], bitsOf(ref(x[i]))) << src << " code 0x" << std::hex << +x[i];
  for (int64_t i = codes; i < n; ++i)
    ASSERT_EQ(y[i], y[i % codes]) << i;
  EXPECT_TRUE(y.guardIntact());
}

TEST(CpuCast, BF16ToF32) { checkDecode<uint16_t>("bfloat16", DType::BFloat16, 65536, tlrt::bf16ToF32); }
TEST(CpuCast, F16ToF32) { checkDecode<uint16_t>("float16", DType::Float16, 65536, tlrt::f16ToF32); }
TEST(CpuCast, E4M3ToF32) { checkDecode<uint8_t>("float8_e4m3", DType::Float8E4M3, 256, tlrt::e4m3ToF32); }
TEST(CpuCast, E5M2ToF32) { checkDecode<uint8_t>("float8_e5m2", DType::Float8E5M2, 256, tlrt::e5m2ToF32); }
TEST(CpuCast, UE8M0ToF32) { checkDecode<uint8_t>("ue8m0", DType::UE8M0, 256, tlrt::ue8m0ToF32); }

TEST(CpuCast, E2M1ToF32Packed) {
  int64_t n = 16 * 9 + 6;
  std::vector<uint8_t> x(n / 2);
  for (int64_t i = 0; i < n / 2; ++i)
    x[i] = tlrt::packE2M1(static_cast<uint8_t>((2 * i) % 16), static_cast<uint8_t>((2 * i + 1) % 16));
  Guarded<uint32_t> y(n, 0xDEADBEEF);
  kernel("cast_float4_e2m1_float32", "cast_kernel")
      .launch({Tensor(x.data(), DType::Float4E2M1, {n}), Tensor(y.ptr(), DType::Float32, {n})});
  for (int64_t i = 0; i < n; ++i)
    EXPECT_EQ(y[i], bitsOf(tlrt::e2m1ToF32(static_cast<uint8_t>(i % 16)))) << i;
  EXPECT_TRUE(y.guardIntact());
}

TEST(CpuCast, BF16ToE4M3AllCodes) {
  int64_t n = 65536;
  std::vector<uint16_t> x(n);
  for (int64_t i = 0; i < n; ++i)
    x[i] = static_cast<uint16_t>(i);
  std::vector<uint8_t> y(n);
  kernel("cast_bfloat16_float8_e4m3", "cast_kernel")
      .launch({Tensor(x.data(), DType::BFloat16, {n}), Tensor(y.data(), DType::Float8E4M3, {n})});
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(y[i], tlrt::f32ToE4M3(tlrt::bf16ToF32(x[i]))) << std::hex << i;
}

// --- examples -----------------------------------------------------------------

struct Shape3 {
  int64_t m, n, k;
};

void checkGemmBF16(const std::string &module, Shape3 s) {
  std::mt19937 rng(static_cast<uint32_t>(s.m * 1000003 + s.n * 1009 + s.k));
  std::vector<uint16_t> A = randomBF16(s.m * s.k, rng), B = randomBF16(s.n * s.k, rng);
  Guarded<uint16_t> C(s.m * s.n, 0xBEEF);
  kernel(module, "gemm_bf16")
      .launch({Tensor(A.data(), DType::BFloat16, {s.m, s.k}),
               Tensor(B.data(), DType::BFloat16, {s.n, s.k}),
               Tensor(C.ptr(), DType::BFloat16, {s.m, s.n})});
  int bad = 0;
  for (int64_t m = 0; m < s.m; ++m)
    for (int64_t n = 0; n < s.n; ++n) {
      float acc = 0;
      for (int64_t k = 0; k < s.k; ++k)
        acc += tlrt::bf16ToF32(A[m * s.k + k]) * tlrt::bf16ToF32(B[n * s.k + k]);
      if (C[m * s.n + n] != tlrt::f32ToBF16(acc) && ++bad < 5)
        ADD_FAILURE() << module << " " << s.m << "x" << s.n << "x" << s.k << " C[" << m << ","
                      << n << "] = " << tlrt::bf16ToF32(C[m * s.n + n]) << ", expected " << acc;
    }
  EXPECT_EQ(bad, 0);
  EXPECT_TRUE(C.guardIntact());
}

TEST(CpuExamples, GemmBF16) {
  for (Shape3 s : {Shape3{128, 128, 64}, Shape3{1, 1, 1}, Shape3{130, 77, 65}, Shape3{257, 129, 200}})
    checkGemmBF16("gemm_bf16", s);
}

// C[M, N] (f32) = op(A) op(B) for 16-bit operands: `mnMajor` stores them as
// At[K, M] and Bt[K, N] (gemm_mn_major.tl), otherwise as A[M, K] and B[N, K]
// (gemm_wide.tl, f16). f32 accumulation in either order stays within 1e-5 of
// the sum of |a b|.
void checkGemmF32Out(const std::string &module, const std::string &fn, bool mnMajor, Shape3 s) {
  std::mt19937 rng(static_cast<uint32_t>(s.m * 7919 + s.n * 31 + s.k));
  std::uniform_real_distribution<float> u(-1, 1);
  DType dt = mnMajor ? DType::BFloat16 : DType::Float16;
  auto encode = [&](float x) { return mnMajor ? tlrt::f32ToBF16(x) : tlrt::f32ToF16(x); };
  auto decode = [&](uint16_t b) { return mnMajor ? tlrt::bf16ToF32(b) : tlrt::f16ToF32(b); };
  std::vector<uint16_t> A(s.m * s.k), B(s.n * s.k);
  for (auto &x : A)
    x = encode(u(rng));
  for (auto &x : B)
    x = encode(u(rng));
  Guarded<float> C(s.m * s.n, -12345.0f);
  std::vector<int64_t> aShape = mnMajor ? std::vector<int64_t>{s.k, s.m} : std::vector<int64_t>{s.m, s.k};
  std::vector<int64_t> bShape = mnMajor ? std::vector<int64_t>{s.k, s.n} : std::vector<int64_t>{s.n, s.k};
  kernel(module, fn).launch({Tensor(A.data(), dt, aShape), Tensor(B.data(), dt, bShape),
                             Tensor(C.ptr(), DType::Float32, {s.m, s.n})});
  int bad = 0;
  for (int64_t m = 0; m < s.m; ++m)
    for (int64_t n = 0; n < s.n; ++n) {
      double acc = 0, mag = 0;
      for (int64_t k = 0; k < s.k; ++k) {
        double a = decode(mnMajor ? A[k * s.m + m] : A[m * s.k + k]);
        double b = decode(mnMajor ? B[k * s.n + n] : B[n * s.k + k]);
        acc += a * b;
        mag += std::fabs(a * b);
      }
      float got = C[m * s.n + n];
      if (!(std::fabs(got - acc) <= 1e-5 * mag + 1e-30) && ++bad < 5)
        ADD_FAILURE() << module << " " << s.m << "x" << s.n << "x" << s.k << " C[" << m << ","
                      << n << "] = " << got << ", expected " << acc;
    }
  EXPECT_EQ(bad, 0);
  EXPECT_TRUE(C.guardIntact());
}

TEST(CpuKernels, GemmMNMajor) {
  for (Shape3 s : {Shape3{128, 128, 64}, Shape3{1, 1, 1}, Shape3{130, 77, 65}, Shape3{257, 300, 200}}) {
    checkGemmF32Out("gemm_mn_major", "gemm_mn_major", true, s);
    checkGemmF32Out("gemm_mn_major_64x256", "gemm_mn_major", true, s);
  }
}

TEST(CpuKernels, GemmWide64x512) {
  for (Shape3 s : {Shape3{64, 512, 64}, Shape3{3, 5, 7}, Shape3{130, 600, 65}}) {
    checkGemmF32Out("gemm_wide", "gemm_wide", false, s);
    checkGemmF32Out("gemm_wide_4wg", "gemm_wide", false, s);
  }
}

TEST(CpuExamples, GemmBF16SmallTiles) {
  for (Shape3 s : {Shape3{32, 16, 16}, Shape3{33, 17, 15}, Shape3{100, 70, 91}, Shape3{5, 200, 3}})
    checkGemmBF16("gemm_bf16_small", s);
}

uint8_t randomE4M3(std::mt19937 &rng) {
  uint8_t c;
  do
    c = static_cast<uint8_t>(rng());
  while ((c & 0x7F) == 0x7F);
  return c;
}

void checkGemmFP8(const std::string &module, Shape3 s) {
  std::mt19937 rng(static_cast<uint32_t>(s.m * 31 + s.n * 7 + s.k));
  int64_t kb = (s.k + 127) / 128, nb = (s.n + 127) / 128;
  std::vector<uint8_t> A(s.m * s.k), B(s.n * s.k);
  for (auto &c : A)
    c = randomE4M3(rng);
  for (auto &c : B)
    c = randomE4M3(rng);
  std::uniform_real_distribution<float> sd(0.001f, 0.01f);
  std::vector<float> SA(s.m * kb), SB(nb * kb);
  for (auto &v : SA)
    v = sd(rng);
  for (auto &v : SB)
    v = sd(rng);
  Guarded<uint16_t> C(s.m * s.n, 0xBEEF);
  kernel(module, "gemm_fp8_blockscaled")
      .launch({Tensor(A.data(), DType::Float8E4M3, {s.m, s.k}),
               Tensor(SA.data(), DType::Float32, {s.m, kb}),
               Tensor(B.data(), DType::Float8E4M3, {s.n, s.k}),
               Tensor(SB.data(), DType::Float32, {nb, kb}),
               Tensor(C.ptr(), DType::BFloat16, {s.m, s.n})});
  int bad = 0;
  for (int64_t m = 0; m < s.m; ++m)
    for (int64_t n = 0; n < s.n; ++n) {
      float acc = 0;
      for (int64_t b = 0; b < kb; ++b) {
        float part = 0;
        for (int64_t k = b * 128; k < std::min(s.k, b * 128 + 128); ++k)
          part += tlrt::e4m3ToF32(A[m * s.k + k]) * tlrt::e4m3ToF32(B[n * s.k + k]);
        acc += part * (SA[m * kb + b] * SB[(n / 128) * kb + b]);
      }
      if (C[m * s.n + n] != tlrt::f32ToBF16(acc) && ++bad < 5)
        ADD_FAILURE() << module << " C[" << m << "," << n
                      << "] = " << tlrt::bf16ToF32(C[m * s.n + n]) << ", expected " << acc;
    }
  EXPECT_EQ(bad, 0);
  EXPECT_TRUE(C.guardIntact());
}

TEST(CpuExamples, GemmFP8BlockScaled) {
  for (Shape3 s : {Shape3{128, 128, 128}, Shape3{1, 1, 1}, Shape3{130, 200, 300}})
    checkGemmFP8("gemm_fp8_blockscaled", s);
  for (Shape3 s : {Shape3{17, 129, 257}, Shape3{40, 260, 100}})
    checkGemmFP8("gemm_fp8_blockscaled_small", s);
}

/// The MX-scaled GEMM examples (gemm_fp8_mx: e4m3 x e4m3, gemm_fp4_fp8:
/// e4m3 x e2m1; one ue8m0 scale per 32 K per row) against a double-precision
/// reference on the same codes. Both architecture paths compute exact
/// products (the block-scaled MMA in f32, the sm_90a path in bf16 after an
/// exact dequantisation) and differ only in f32 summation order, so the
/// bound is f32 accumulation over K terms plus the bf16 rounding of C.
void checkGemmMX(const std::string &module, const std::string &kernelName, bool fp4B, Shape3 s) {
  std::mt19937 rng(static_cast<uint32_t>(s.m * 131 + s.n * 17 + s.k * 3 + fp4B));
  int64_t kg = s.k / 32;
  std::vector<uint8_t> A(s.m * s.k), B(fp4B ? s.n * s.k / 2 : s.n * s.k);
  std::vector<double> Af(s.m * s.k), Bf(s.n * s.k);
  for (size_t i = 0; i < A.size(); ++i) {
    A[i] = randomE4M3(rng);
    Af[i] = tlrt::e4m3ToF32(A[i]);
  }
  for (int64_t i = 0; i < s.n * s.k; ++i) {
    if (fp4B) {
      uint8_t c = static_cast<uint8_t>(rng() % 16);
      B[i / 2] = i % 2 ? tlrt::packE2M1(tlrt::unpackE2M1Even(B[i / 2]), c) : c;
      Bf[i] = tlrt::e2m1ToF32(c);
    } else {
      B[i] = randomE4M3(rng);
      Bf[i] = tlrt::e4m3ToF32(B[i]);
    }
  }
  // Scales 2^-8 .. 2^8 (codes 119 .. 135).
  std::vector<uint8_t> SA(s.m * kg), SB(s.n * kg);
  for (auto &c : SA)
    c = static_cast<uint8_t>(119 + rng() % 17);
  for (auto &c : SB)
    c = static_cast<uint8_t>(119 + rng() % 17);
  Guarded<uint16_t> C(s.m * s.n, 0xBEEF);
  kernel(module, kernelName)
      .launch({Tensor(A.data(), DType::Float8E4M3, {s.m, s.k}),
               Tensor(SA.data(), DType::UE8M0, {s.m, kg}),
               Tensor(B.data(), fp4B ? DType::Float4E2M1 : DType::Float8E4M3, {s.n, s.k}),
               Tensor(SB.data(), DType::UE8M0, {s.n, kg}),
               Tensor(C.ptr(), DType::BFloat16, {s.m, s.n})});
  const double f32Eps = std::ldexp(1.0, -24), bf16Eps = std::ldexp(1.0, -8);
  int bad = 0;
  for (int64_t m = 0; m < s.m; ++m)
    for (int64_t n = 0; n < s.n; ++n) {
      double ref = 0, mag = 0;
      for (int64_t k = 0; k < s.k; ++k) {
        double scale = static_cast<double>(tlrt::ue8m0ToF32(SA[m * kg + k / 32])) *
                       tlrt::ue8m0ToF32(SB[n * kg + k / 32]);
        double term = Af[m * s.k + k] * Bf[n * s.k + k] * scale;
        ref += term;
        mag += std::fabs(term);
      }
      double got = tlrt::bf16ToF32(C[m * s.n + n]);
      double tol = bf16Eps * std::fabs(ref) + 2.0 * (s.k + 2) * f32Eps * mag;
      if (!(std::fabs(got - ref) <= tol) && ++bad < 5)
        ADD_FAILURE() << module << " " << s.m << "x" << s.n << "x" << s.k << " C[" << m << "," << n
                      << "] = " << got << ", expected " << ref << " (tolerance " << tol << ")";
    }
  EXPECT_EQ(bad, 0);
  EXPECT_TRUE(C.guardIntact());
}

const Shape3 kMXShapes[] = {
    {128, 128, 128}, {1, 1, 32}, {130, 200, 256}, {257, 129, 384}, {64, 300, 160}};
const Shape3 kMXSmallShapes[] = {{16, 32, 64}, {17, 45, 128}, {40, 70, 256}, {33, 1, 96}};

// Both shape sets for one compiled variant of a block-scaled example.
void checkGemmMXVariant(const std::string &module, const std::string &example, bool fp4B) {
  for (Shape3 s : kMXShapes)
    checkGemmMX(module, example, fp4B, s);
  for (Shape3 s : kMXSmallShapes)
    checkGemmMX(module + "_small", example, fp4B, s);
}

TEST(CpuExamples, GemmFP8MXBlackwell) {
  checkGemmMXVariant("gemm_fp8_mx_sm_100a", "gemm_fp8_mx", false);
}

TEST(CpuExamples, GemmFP8MXHopper) {
  checkGemmMXVariant("gemm_fp8_mx_sm_90a", "gemm_fp8_mx", false);
}

TEST(CpuExamples, GemmFP4FP8Blackwell) {
  checkGemmMXVariant("gemm_fp4_fp8_sm_100a", "gemm_fp4_fp8", true);
}

TEST(CpuExamples, GemmFP4FP8Hopper) {
  checkGemmMXVariant("gemm_fp4_fp8_sm_90a", "gemm_fp4_fp8", true);
}

void checkActQuant(const std::string &module, bool roundScale, int64_t nt, int64_t k) {
  std::mt19937 rng(static_cast<uint32_t>(nt * 131 + k));
  std::vector<uint16_t> x = randomBF16(nt * k, rng, -300, 300);
  for (int64_t j = 0; j < std::min<int64_t>(k, 128); ++j)
    x[j] = 0; // an all-zero group (token 0, group 0)
  int64_t g = k / 128;
  Guarded<uint8_t> q(nt * k, 0x5A);
  Guarded<float> s(nt * g, -1.0f);
  kernel(module, "act_quant_fp8")
      .launch({Tensor(x.data(), DType::BFloat16, {nt, k}),
               Tensor(q.ptr(), DType::Float8E4M3, {nt, k}),
               Tensor(s.ptr(), DType::Float32, {nt, g})});
  int bad = 0;
  for (int64_t t = 0; t < nt; ++t)
    for (int64_t b = 0; b < g; ++b) {
      float amax = 0;
      for (int64_t j = 0; j < 128; ++j)
        amax = std::fmax(amax, std::fabs(tlrt::bf16ToF32(x[t * k + b * 128 + j])));
      float a = std::fmax(amax, 1e-30f);
      float scale = roundScale ? std::exp2(std::ceil(std::log2(a / 448.0f))) : a / 448.0f;
      if (bitsOf(s[t * g + b]) != bitsOf(scale) && ++bad < 5)
        ADD_FAILURE() << "scale[" << t << "," << b << "] = " << s[t * g + b] << ", expected "
                      << scale;
      for (int64_t j = 0; j < 128; ++j) {
        int64_t i = t * k + b * 128 + j;
        uint8_t want = tlrt::f32ToE4M3(tlrt::bf16ToF32(x[i]) / scale);
        if (q[i] != want && ++bad < 5)
          ADD_FAILURE() << "q[" << t << "," << b * 128 + j << "] = " << +q[i] << ", expected " << +want;
      }
    }
  EXPECT_EQ(bad, 0);
  EXPECT_TRUE(q.guardIntact());
  EXPECT_TRUE(s.guardIntact());
}

TEST(CpuExamples, ActQuantFP8) {
  for (auto [nt, k] : {std::pair<int64_t, int64_t>{32, 128}, {1, 128}, {33, 256}, {70, 384}})
    checkActQuant("act_quant_fp8", true, nt, k);
  for (auto [nt, k] : {std::pair<int64_t, int64_t>{9, 256}, {3, 128}})
    checkActQuant("act_quant_fp8_noround", false, nt, k);
}

void checkFP4Dequant(const std::string &module, int64_t n, int64_t k) {
  std::mt19937 rng(static_cast<uint32_t>(n * 17 + k));
  std::vector<uint8_t> wq(n * k / 2), sc(n * (k / 32));
  for (auto &b : wq)
    b = static_cast<uint8_t>(rng());
  for (auto &c : sc)
    c = static_cast<uint8_t>(rng()); // every code, incl. NaN (255) and extremes
  Guarded<uint16_t> w(n * k, 0xBEEF);
  kernel(module, "fp4_dequant")
      .launch({Tensor(wq.data(), DType::Float4E2M1, {n, k}), Tensor(sc.data(), DType::UE8M0, {n, k / 32}),
               Tensor(w.ptr(), DType::BFloat16, {n, k})});
  int bad = 0;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) {
      int64_t i = r * k + c;
      uint8_t code = c % 2 ? tlrt::unpackE2M1Odd(wq[i / 2]) : tlrt::unpackE2M1Even(wq[i / 2]);
      uint16_t want = tlrt::f32ToBF16(tlrt::e2m1ToF32(code) * tlrt::ue8m0ToF32(sc[r * (k / 32) + c / 32]));
      if (w[i] != want && ++bad < 5)
        ADD_FAILURE() << module << " w[" << r << "," << c << "] = 0x" << std::hex << w[i]
                      << ", expected 0x" << want;
    }
  EXPECT_EQ(bad, 0);
  EXPECT_TRUE(w.guardIntact());
}

TEST(CpuExamples, FP4Dequant) {
  for (auto [n, k] : {std::pair<int64_t, int64_t>{64, 128}, {1, 32}, {65, 160}, {130, 96}})
    checkFP4Dequant("fp4_dequant", n, k);
  for (auto [n, k] : {std::pair<int64_t, int64_t>{9, 96}, {17, 224}})
    checkFP4Dequant("fp4_dequant_small", n, k);
}

void checkRMSNorm(const std::string &module, int64_t nt, int64_t d) {
  std::mt19937 rng(static_cast<uint32_t>(nt * 7 + d));
  std::vector<uint16_t> x = randomBF16(nt * d, rng), w = randomBF16(d, rng, 0.5f, 1.5f);
  Guarded<uint16_t> y(nt * d, 0xBEEF);
  float eps = 1e-6f;
  kernel(module, "rmsnorm")
      .launch({Tensor(x.data(), DType::BFloat16, {nt, d}), Tensor(w.data(), DType::BFloat16, {d}),
               Tensor(y.ptr(), DType::BFloat16, {nt, d}), eps});
  int bad = 0;
  for (int64_t t = 0; t < nt; ++t) {
    float ss = 0;
    for (int64_t j = 0; j < d; ++j) {
      float v = tlrt::bf16ToF32(x[t * d + j]);
      ss += v * v;
    }
    float r = 1.0f / std::sqrt(ss / static_cast<float>(d) + eps);
    for (int64_t j = 0; j < d; ++j) {
      uint16_t want = tlrt::f32ToBF16(tlrt::bf16ToF32(x[t * d + j]) * r * tlrt::bf16ToF32(w[j]));
      if (y[t * d + j] != want && ++bad < 5)
        ADD_FAILURE() << module << " y[" << t << "," << j << "] = " << tlrt::bf16ToF32(y[t * d + j])
                      << ", expected " << tlrt::bf16ToF32(want);
    }
  }
  EXPECT_EQ(bad, 0);
  EXPECT_TRUE(y.guardIntact());
}

TEST(CpuExamples, RMSNorm) {
  for (int64_t nt : {4, 1, 7})
    checkRMSNorm("rmsnorm", nt, 4096);
  for (int64_t nt : {3, 1, 10})
    checkRMSNorm("rmsnorm_small", nt, 96);
}

void checkSoftmax(const std::string &module, int64_t r, int64_t c) {
  std::mt19937 rng(static_cast<uint32_t>(r * 3 + c));
  std::uniform_real_distribution<float> dist(-20, 20);
  std::vector<float> x(r * c);
  for (auto &v : x)
    v = dist(rng);
  Guarded<float> y(r * c, -7.0f);
  kernel(module, "softmax")
      .launch({Tensor(x.data(), DType::Float32, {r, c}), Tensor(y.ptr(), DType::Float32, {r, c})});
  const float log2e = static_cast<float>(1.4426950408889634);
  int bad = 0;
  for (int64_t i = 0; i < r; ++i) {
    float mx = -INFINITY;
    for (int64_t j = 0; j < c; ++j)
      mx = std::fmax(mx, x[i * c + j]);
    std::vector<float> e(c);
    float sum = 0;
    for (int64_t j = 0; j < c; ++j) {
      e[j] = std::exp2((x[i * c + j] - mx) * log2e);
      sum += e[j];
    }
    for (int64_t j = 0; j < c; ++j)
      if (bitsOf(y[i * c + j]) != bitsOf(e[j] / sum) && ++bad < 5)
        ADD_FAILURE() << module << " y[" << i << "," << j << "] = " << y[i * c + j] << ", expected "
                      << e[j] / sum;
  }
  EXPECT_EQ(bad, 0);
  EXPECT_TRUE(y.guardIntact());
}

TEST(CpuExamples, Softmax) {
  for (int64_t r : {8, 1, 13})
    checkSoftmax("softmax", r, 1024);
  for (int64_t r : {3, 1, 11})
    checkSoftmax("softmax_small", r, 40);
}

/// Block-scaled tl.gemm (scale_A/scale_B form) with exact math: small e2m1 or
/// e4m3 values and power-of-two scales near 1 keep every partial sum exact,
/// so any summation order gives the same bits.
void checkBlockScaled(const std::string &module, bool fp4, Shape3 s) {
  std::mt19937 rng(static_cast<uint32_t>(s.m * 5 + s.n * 3 + s.k + fp4));
  int64_t kb = s.k / 32;
  auto code = [&]() -> uint8_t {
    if (fp4)
      return static_cast<uint8_t>(rng() % 16);
    // e4m3 with exponent field 6..9: +-[0.5, 7.5], multiples of 1/16
    return static_cast<uint8_t>(((rng() % 2) << 7) | ((6 + rng() % 4) << 3) | (rng() % 8));
  };
  std::vector<float> Af(s.m * s.k), Bf(s.n * s.k);
  std::vector<uint8_t> A(fp4 ? s.m * s.k / 2 : s.m * s.k), B(fp4 ? s.n * s.k / 2 : s.n * s.k);
  auto fill = [&](std::vector<uint8_t> &q, std::vector<float> &f) {
    for (size_t i = 0; i < f.size(); ++i) {
      uint8_t c = code();
      if (fp4) {
        q[i / 2] = i % 2 ? static_cast<uint8_t>((q[i / 2] & 0xF) | (c << 4)) : c;
        f[i] = tlrt::e2m1ToF32(c);
      } else {
        q[i] = c;
        f[i] = tlrt::e4m3ToF32(c);
      }
    }
  };
  fill(A, Af);
  fill(B, Bf);
  std::vector<uint8_t> SA(s.m * kb), SB(s.n * kb);
  for (auto &c : SA)
    c = static_cast<uint8_t>(126 + rng() % 3);
  for (auto &c : SB)
    c = static_cast<uint8_t>(126 + rng() % 3);
  DType dt = fp4 ? DType::Float4E2M1 : DType::Float8E4M3;
  Guarded<float> C(s.m * s.n, -3.0f);
  kernel(module, "gemm_blockscaled")
      .launch({Tensor(A.data(), dt, {s.m, s.k}), Tensor(SA.data(), DType::UE8M0, {s.m, kb}),
               Tensor(B.data(), dt, {s.n, s.k}), Tensor(SB.data(), DType::UE8M0, {s.n, kb}),
               Tensor(C.ptr(), DType::Float32, {s.m, s.n})});
  int bad = 0;
  for (int64_t m = 0; m < s.m; ++m)
    for (int64_t n = 0; n < s.n; ++n) {
      double acc = 0; // exact
      for (int64_t b = 0; b < kb; ++b) {
        double part = 0;
        for (int64_t k = b * 32; k < b * 32 + 32; ++k)
          part += static_cast<double>(Af[m * s.k + k]) * Bf[n * s.k + k];
        acc += part * tlrt::ue8m0ToF32(SA[m * kb + b]) * tlrt::ue8m0ToF32(SB[n * kb + b]);
      }
      if (bitsOf(C[m * s.n + n]) != bitsOf(static_cast<float>(acc)) && ++bad < 5)
        ADD_FAILURE() << module << " C[" << m << "," << n << "] = " << C[m * s.n + n]
                      << ", expected " << acc;
    }
  EXPECT_EQ(bad, 0);
  EXPECT_TRUE(C.guardIntact());
}

TEST(CpuBlockScaledGemm, FP4) {
  for (Shape3 s : {Shape3{32, 32, 64}, Shape3{33, 45, 96}, Shape3{70, 9, 160}})
    checkBlockScaled("gemm_blockscaled_fp4", true, s);
}

TEST(CpuBlockScaledGemm, FP8) {
  for (Shape3 s : {Shape3{32, 32, 96}, Shape3{33, 45, 128}, Shape3{5, 70, 32}})
    checkBlockScaled("gemm_blockscaled_fp8", false, s);
}

} // namespace
