// Language pieces on the CPU target, each against a plain C++ reference:
// break / continue (kernels/control_flow.tl), @T.macro helpers
// (kernels/macros.tl), unsigned dtypes, T.reinterpret and T.byte_perm
// (kernels/unsigned.tl).
#include "CpuTestSupport.h"
#include "tlrt/Module.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
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

std::vector<float> randomMatrix(int64_t r, int64_t c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2, 14);
  std::vector<float> x(r * c);
  for (auto &v : x)
    v = std::round(u(rng) * 4) / 4; // exact sums, some zeros
  return x;
}

TEST(CpuLang, BreakContinue) {
  for (auto [r, c] : {std::pair<int64_t, int64_t>{5, 17}, {64, 3}, {1, 1}, {9, 40}}) {
    std::vector<float> X = randomMatrix(r, c, static_cast<uint32_t>(r * 100 + c));
    std::vector<int32_t> pos(r, 77);
    std::vector<float> sum(r, 77);
    kernel("control_flow", "first_negative")
        .launch({Tensor(X.data(), DType::Float32, {r, c}), Tensor(pos.data(), DType::Int32, {r}),
                 Tensor(sum.data(), DType::Float32, {r})});
    for (int64_t i = 0; i < r; ++i) {
      int32_t p = -1;
      float acc = 0;
      for (int64_t j = 0; j < c; ++j) {
        float x = X[i * c + j];
        if (x < 0) {
          p = static_cast<int32_t>(j);
          break;
        }
        if (x > 10)
          continue;
        acc += x;
      }
      EXPECT_EQ(pos[i], p) << r << "x" << c << " row " << i;
      EXPECT_EQ(sum[i], acc) << r << "x" << c << " row " << i;
    }
  }
}

TEST(CpuLang, NestedBreakNegativeStep) {
  for (auto [r, c] : {std::pair<int64_t, int64_t>{7, 13}, {3, 1}, {16, 30}}) {
    std::vector<float> X = randomMatrix(r, c, static_cast<uint32_t>(r * 31 + c));
    X[(r / 2) * c + c / 2] = 0.0f; // one row stops early
    std::vector<int32_t> out(r, -5);
    kernel("control_flow", "nested")
        .launch({Tensor(X.data(), DType::Float32, {r, c}), Tensor(out.data(), DType::Int32, {r})});
    for (int64_t i = 0; i < r; ++i) {
      int32_t cnt = 0;
      for (int64_t j = c - 1; j > -1; j -= 2) {
        if (X[i * c + j] == 0.0f)
          break;
        for (int64_t k = 0; k < c; ++k) {
          if (X[i * c + k] > X[i * c + j])
            break;
          if (k % 3 == 1)
            continue;
          cnt += 1;
        }
        cnt += 100;
      }
      EXPECT_EQ(out[i], cnt) << r << "x" << c << " row " << i;
    }
  }
}

TEST(CpuLang, Macros) {
  for (int64_t m : {16, 48, 5, 33}) {
    std::vector<float> X = randomMatrix(m, 64, static_cast<uint32_t>(m));
    std::vector<float> Y(m * 64, -1), Z(m * 64, -1);
    float alpha = -0.75f;
    kernel("macros", "macros")
        .launch({Tensor(X.data(), DType::Float32, {m, 64}), Tensor(Y.data(), DType::Float32, {m, 64}),
                 Tensor(Z.data(), DType::Float32, {m, 64}), alpha});
    for (int64_t i = 0; i < m * 64; ++i) {
      float y = std::max(X[i] * alpha * 2.0f + 1.0f, 0.0f);
      ASSERT_EQ(Y[i], y) << "M=" << m << " i=" << i;
      ASSERT_EQ(Z[i], X[i] * 3.0f) << "M=" << m << " i=" << i;
    }
  }
}

TEST(CpuLang, UnsignedAndReinterpret) {
  const int64_t n = 256;
  std::mt19937 rng(5);
  std::vector<uint32_t> A(n), B(n);
  std::vector<uint16_t> H(n);
  std::vector<float> X(n);
  for (int64_t i = 0; i < n; ++i) {
    A[i] = static_cast<uint32_t>(rng());
    B[i] = static_cast<uint32_t>(rng()) | 1u;
    if (i % 4 == 0)
      B[i] = 1u + (rng() % 1000);
    H[i] = static_cast<uint16_t>(rng());
    X[i] = std::uniform_real_distribution<float>(-3, 3)(rng);
  }
  A[0] = 0xFFFFFFFFu;
  B[0] = 7;
  A[1] = 0x80000000u;
  H[2] = 0xFFFF;
  std::vector<uint32_t> Q(n), R(n), S(n), Bits(n), FU(n), M(n);
  std::vector<int32_t> L(n);
  std::vector<float> F(n), Neg(n);
  std::vector<uint64_t> W(n), WD(n);
  std::vector<uint16_t> H2(n);
  auto u32 = [&](std::vector<uint32_t> &v) { return Tensor(v.data(), DType::UInt32, {n}); };
  kernel("unsigned", "unsigned_ops")
      .launch({u32(A), u32(B), Tensor(H.data(), DType::UInt16, {n}),
               Tensor(X.data(), DType::Float32, {n}), u32(Q), u32(R), u32(S),
               Tensor(L.data(), DType::Int32, {n}), Tensor(F.data(), DType::Float32, {n}),
               Tensor(W.data(), DType::UInt64, {n}), Tensor(H2.data(), DType::UInt16, {n}), u32(Bits),
               Tensor(Neg.data(), DType::Float32, {n}), u32(FU), Tensor(WD.data(), DType::UInt64, {n}),
               u32(M)});
  for (int64_t i = 0; i < n; ++i) {
    uint32_t a = A[i], b = B[i];
    EXPECT_EQ(Q[i], a / b) << i;
    EXPECT_EQ(R[i], a % b) << i;
    EXPECT_EQ(S[i], (a >> 3) | (b << 28)) << i;
    EXPECT_EQ(L[i], (a < b ? 1 : 0) + (a >= 0x80000000u ? 10 : 0)) << i;
    EXPECT_EQ(F[i], static_cast<float>(a)) << i;
    EXPECT_EQ(W[i], uint64_t(a) * 5 + uint64_t(H[i])) << i;
    EXPECT_EQ(H2[i], static_cast<uint16_t>(static_cast<uint16_t>(a) ^ H[i])) << i;
    uint32_t bits;
    std::memcpy(&bits, &X[i], 4);
    EXPECT_EQ(Bits[i], bits) << i;
    EXPECT_EQ(Neg[i], -X[i]) << i;
    EXPECT_EQ(FU[i], static_cast<uint32_t>(std::fabs(X[i]) * 1.0e9f)) << i;
    EXPECT_EQ(WD[i], ((uint64_t(a) << 32) | uint64_t(b)) / (uint64_t(H[i]) + 1u)) << i;
    EXPECT_EQ(M[i], std::max(a, b) - std::min(a, b)) << i;
  }
}

TEST(CpuLang, BytePerm) {
  const int64_t n = 256;
  std::mt19937 rng(11);
  std::vector<uint32_t> A(n), S(n);
  std::vector<int32_t> B(n), Out(n, 0), Lut(n, 0);
  for (int64_t i = 0; i < n; ++i) {
    A[i] = rng();
    B[i] = static_cast<int32_t>(rng());
    S[i] = rng(); // bit 3 of a nibble set half the time: ignored
  }
  S[0] = 0x3210; // a itself
  S[1] = 0x7654; // b itself
  S[2] = 0x0000;
  kernel("unsigned", "byte_perms")
      .launch({Tensor(A.data(), DType::UInt32, {n}), Tensor(B.data(), DType::Int32, {n}),
               Tensor(S.data(), DType::UInt32, {n}), Tensor(Out.data(), DType::Int32, {n}),
               Tensor(Lut.data(), DType::Int32, {n})});
  for (int64_t i = 0; i < n; ++i) {
    uint64_t pair = (uint64_t(uint32_t(B[i])) << 32) | A[i];
    uint32_t want = 0, lut = 0;
    for (int k = 0; k < 4; ++k) {
      want |= uint32_t((pair >> (8 * ((S[i] >> (4 * k)) & 7))) & 0xFF) << (8 * k);
      lut |= (0x10u + ((A[i] >> (4 * k)) & 7)) << (8 * k);
    }
    EXPECT_EQ(uint32_t(Out[i]), want) << i;
    EXPECT_EQ(uint32_t(Lut[i]), lut) << i;
  }
  EXPECT_EQ(uint32_t(Out[0]), A[0]);
  EXPECT_EQ(Out[1], B[1]);
}

} // namespace

namespace {

void checkNamedSlices(const std::string &module, int64_t d) {
  for (int64_t m : {16, 40, 3}) {
    std::vector<float> X = randomMatrix(m, 128, static_cast<uint32_t>(m + d));
    std::vector<float> Y(m * d, -1);
    kernel(module, "named_slices")
        .launch({Tensor(X.data(), DType::Float32, {m, 128}), Tensor(Y.data(), DType::Float32, {m, d})});
    for (int64_t r = 0; r < m; ++r)
      for (int64_t j = 0; j < d; ++j)
        ASSERT_EQ(Y[r * d + j], X[r * 128 + 32 + j]) << module << " M=" << m << " [" << r << ","
                                                      << j << "]";
  }
}

TEST(CpuLang, NamedSlicesAndDeadBranches) {
  checkNamedSlices("compile_time", 64);
  checkNamedSlices("compile_time_d32", 32);
}

TEST(CpuLang, RuntimeAssert) {
  std::vector<float> In = {1, 2, 3, 4, 5}, Out(5, 0);
  kernel("compile_time", "checked")
      .launch({Tensor(In.data(), DType::Float32, {5}), Tensor(Out.data(), DType::Float32, {5}), 4});
  EXPECT_EQ(Out, (std::vector<float>{1, 2, 3, 4, 0}));
  // n > N: the message with the source location on stderr, then abort().
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(kernel("compile_time", "checked")
                  .launch({Tensor(In.data(), DType::Float32, {5}),
                           Tensor(Out.data(), DType::Float32, {5}), 6}),
              testing::KilledBySignal(SIGABRT),
              "compile_time.tl:39:9: T.assert failed: n is larger than the tensor");
}

} // namespace

namespace {

TEST(CpuLang, KernelSequence) {
  tlrt::Module m =
      tlrt::Module::load(std::string(TLC_CPU_KERNEL_DIR) + "/sequence.manifest.json");
  ASSERT_EQ(m.manifest().sequence, (std::vector<std::string>{"double", "add_back", "row_sum"}));
  for (int64_t rows : {1, 7, 32}) {
    std::vector<float> X = randomMatrix(rows, 64, static_cast<uint32_t>(rows));
    std::vector<float> H(rows * 64, -1), Y(rows * 64, -1), S(rows, -1);
    m.launchSequence({{"X", Tensor(X.data(), DType::Float32, {rows, 64})},
                      {"H", Tensor(H.data(), DType::Float32, {rows, 64})},
                      {"Y", Tensor(Y.data(), DType::Float32, {rows, 64})},
                      {"S", Tensor(S.data(), DType::Float32, {rows})}});
    for (int64_t r = 0; r < rows; ++r) {
      float s = 0;
      for (int64_t j = 0; j < 64; ++j) {
        float x = X[r * 64 + j];
        ASSERT_EQ(Y[r * 64 + j], x * 2.0f + x);
        s += x * 2.0f + x;
      }
      EXPECT_EQ(S[r], s) << "rows=" << rows << " r=" << r;
    }
  }
}

} // namespace

namespace {

/// The mapping of docs/language.md (T.use_swizzle): launch-order id -> tile.
std::pair<int64_t, int64_t> swizzleRef(int64_t pid, int64_t gx, int64_t gy, int64_t g) {
  int64_t panel = pid / (g * gx), firstY = panel * g;
  int64_t rows = std::min(gy - firstY, g), local = pid % (g * gx);
  return {local / rows, firstY + local % rows}; // (x, y)
}

TEST(CpuLang, UseSwizzleIsABijection) {
  for (auto [module, g] : {std::pair<const char *, int64_t>{"swizzle", 3}, {"swizzle_g1", 1},
                           {"swizzle_g8", 8}}) {
    for (auto [gx, gy] : {std::pair<int64_t, int64_t>{5, 7}, {1, 1}, {16, 16}, {3, 10}, {9, 2}}) {
      std::vector<int32_t> out(gx * gy, -1);
      kernel(module, "swizzle").launch({Tensor(out.data(), DType::Int32, {gy, gx})});
      std::vector<int> seen(gx * gy, 0);
      for (int64_t y = 0; y < gy; ++y)
        for (int64_t x = 0; x < gx; ++x) {
          int32_t pid = out[y * gx + x];
          ASSERT_GE(pid, 0) << module << " " << gx << "x" << gy << ": tile (" << x << "," << y
                            << ") not computed";
          ASSERT_LT(pid, gx * gy);
          ++seen[pid];
          EXPECT_EQ(swizzleRef(pid, gx, gy, g), std::make_pair(x, y)) << module << " pid " << pid;
        }
      for (int64_t p = 0; p < gx * gy; ++p)
        ASSERT_EQ(seen[p], 1) << module << " " << gx << "x" << gy << ": block " << p;
    }
  }
}

} // namespace

namespace {

TEST(CpuLang, TwoKernelBlocksInOneKernel) {
  tlrt::Module m =
      tlrt::Module::load(std::string(TLC_CPU_KERNEL_DIR) + "/two_blocks.manifest.json");
  ASSERT_EQ(m.manifest().sequence, (std::vector<std::string>{"two_blocks", "two_blocks_1"}));
  for (int64_t rows : {1, 9}) {
    std::vector<float> X = randomMatrix(rows, 64, static_cast<uint32_t>(rows + 3));
    std::vector<float> H(rows * 64, -1), Y(rows, -1);
    m.launchSequence({{"X", Tensor(X.data(), DType::Float32, {rows, 64})},
                      {"H", Tensor(H.data(), DType::Float32, {rows, 64})},
                      {"Y", Tensor(Y.data(), DType::Float32, {rows})}});
    for (int64_t r = 0; r < rows; ++r) {
      float s = 0;
      for (int64_t j = 0; j < 64; ++j)
        s += X[r * 64 + j] + 1.0f;
      EXPECT_EQ(Y[r], s) << "rows=" << rows << " r=" << r;
    }
  }
}

} // namespace
