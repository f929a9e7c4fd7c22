// examples/flash_attn_fwd.tl on the CPU target against a double-precision
// reference of the semantics in its header comment: MHA / GQA / MQA, ragged
// lens_q / lens_k (empty and single-row entries, lens_q != lens_k, sizes that
// are not multiples of the tiles), causal, sliding window, attention sink,
// D = 64 / 128 / 256. Variants are compiled in CMakeLists.txt.
//
// Tolerances. The kernel rounds P to bf16 for the second GEMM while l_i sums
// the f32 probabilities, and rounds O to bf16: each costs at most 2^-9
// relative per term, so |O - O_ref| <= 2^-9 * max|v| + 2^-9 * |O_ref| <=
// 2^-8 * max|V| (O is a convex combination of value rows, so |O| <= max|V|).
// The f32 Q.K^T, exp2f and sums add far less (relative ~1e-5 here); we allow
// 2^-8 * max|V| * 1.05. The LSE sees no bf16 rounding (l_i sums f32 P), only
// f32 rounding of s (|s| < ~20 here, so ~1e-5 per dot product) and of the
// sum and log: bound 1e-4 absolute. The measured maxima are printed.
#include "tlrt/LowPrecision.h"
#include "tlrt/Module.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using tlrt::DType;
using tlrt::Tensor;

const tlrt::Kernel &kernel(const std::string &module) {
  static std::map<std::string, std::unique_ptr<tlrt::Module>> modules;
  auto &m = modules[module];
  if (!m)
    m = std::make_unique<tlrt::Module>(
        tlrt::Module::load(std::string(TLC_CPU_KERNEL_DIR) + "/" + module + ".manifest.json"));
  return m->kernel("flash_attn_fwd");
}

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

/// The compile-time parameters a variant was built with.
struct Variant {
  const char *module;
  int64_t d;
  bool causal;
  int64_t window;
  bool sink;
};

/// One launch: sizes, per-entry lens and the softmax scale.
struct Problem {
  const char *what;
  int64_t sq, sk, h, hk;
  std::vector<int32_t> lensQ, lensK;
  double scaleMul = 1.0; // scale = scaleMul / sqrt(D)
};

constexpr uint16_t kPoisonO = 0xFFC1;        // a bf16 NaN no computation produces
constexpr uint32_t kPoisonLSE = 0x7FBADBAD; // an f32 NaN no computation produces

/// Launches `v` on `p` and checks every element of O and LSE.
void runProblem(const Variant &v, const Problem &p) {
  const int64_t b = static_cast<int64_t>(p.lensQ.size()), d = v.d;
  std::mt19937 rng(static_cast<uint32_t>(p.sq * 7919 + p.sk * 131 + p.h * 17 + p.hk + d));
  // Uniform in +-[1/16, 2]: random bf16 inputs, never zero.
  auto randomNonZero = [&](size_t n) {
    std::uniform_real_distribution<float> mag(0.0625f, 2.0f);
    std::vector<uint16_t> x(n);
    for (auto &e : x)
      e = tlrt::f32ToBF16((rng() & 1 ? -1.0f : 1.0f) * mag(rng));
    return x;
  };
  std::vector<uint16_t> q = randomNonZero(b * p.sq * p.h * d);
  std::vector<uint16_t> k = randomNonZero(b * p.sk * p.hk * d);
  std::vector<uint16_t> val = randomNonZero(b * p.sk * p.hk * d);
  std::vector<float> sinks(p.h);
  std::uniform_real_distribution<float> sd(-3.0f, 4.0f);
  for (auto &s : sinks)
    s = sd(rng);
  sinks[0] = 9.0f; // dominates every row of head 0
  if (p.h > 1)
    sinks[1] = -40.0f; // negligible
  std::vector<int32_t> lq = p.lensQ, lk = p.lensK;
  std::vector<uint16_t> o(b * p.sq * p.h * d, kPoisonO);
  std::vector<float> lse(b * p.h * p.sq);
  for (auto &x : lse)
    std::memcpy(&x, &kPoisonLSE, 4);
  float scale = static_cast<float>(p.scaleMul / std::sqrt(static_cast<double>(d)));

  kernel(v.module).launch({Tensor(q.data(), DType::BFloat16, {b, p.sq, p.h, d}),
                           Tensor(k.data(), DType::BFloat16, {b, p.sk, p.hk, d}),
                           Tensor(val.data(), DType::BFloat16, {b, p.sk, p.hk, d}),
                           Tensor(lq.data(), DType::Int32, {b}),
                           Tensor(lk.data(), DType::Int32, {b}),
                           Tensor(sinks.data(), DType::Float32, {p.h}),
                           Tensor(o.data(), DType::BFloat16, {b, p.sq, p.h, d}),
                           Tensor(lse.data(), DType::Float32, {b, p.h, p.sq}), scale});

  auto qAt = [&](int64_t bi, int64_t i, int64_t hi, int64_t di) {
    return static_cast<double>(tlrt::bf16ToF32(q[((bi * p.sq + i) * p.h + hi) * d + di]));
  };
  auto kvIndex = [&](int64_t bi, int64_t j, int64_t hi, int64_t di) {
    return ((bi * p.sk + j) * p.hk + hi) * d + di;
  };
  double maxAbsV = 0;
  for (uint16_t x : val)
    maxAbsV = std::max(maxAbsV, std::fabs(static_cast<double>(tlrt::bf16ToF32(x))));
  const double tolO = std::ldexp(1.0, -8) * maxAbsV * 1.05, tolLSE = 1e-4;
  const std::string where = std::string(v.module) + " " + p.what;

  struct {
    double o = 0, lse = 0;
  } err;
  double maxAbsO = 0;
  int bad = 0;
  auto fail = [&](const std::string &msg) {
    if (++bad <= 8)
      ADD_FAILURE() << where << ": " << msg;
  };
  const int64_t group = p.h / p.hk;
  std::vector<double> s(p.sk), acc(d);
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t hi = 0; hi < p.h; ++hi)
      for (int64_t i = 0; i < p.sq; ++i) {
        uint16_t *orow = &o[((bi * p.sq + i) * p.h + hi) * d];
        float lseGot = lse[(bi * p.h + hi) * p.sq + i];
        std::string at = "[b=" + std::to_string(bi) + ", h=" + std::to_string(hi) +
                         ", i=" + std::to_string(i) + "]";
        if (i >= lq[bi]) { // not a valid row: untouched
          for (int64_t di = 0; di < d; ++di)
            if (orow[di] != kPoisonO) {
              fail("O" + at + " was written (row >= lens_q)");
              break;
            }
          if (bitsOf(lseGot) != kPoisonLSE)
            fail("LSE" + at + " was written (row >= lens_q)");
          continue;
        }
        const int64_t off = lk[bi] - lq[bi], kvh = hi / group;
        double m = v.sink ? static_cast<double>(sinks[hi]) : -INFINITY;
        std::vector<int64_t> keys;
        for (int64_t j = 0; j < lk[bi]; ++j) {
          if (v.causal && j > i + off)
            continue;
          if (v.window > 0 && j <= i + off - v.window)
            continue;
          double dot = 0;
          for (int64_t di = 0; di < d; ++di)
            dot += qAt(bi, i, hi, di) * tlrt::bf16ToF32(k[kvIndex(bi, j, kvh, di)]);
          s[j] = scale * dot;
          m = std::max(m, s[j]);
          keys.push_back(j);
        }
        double den = v.sink ? std::exp(static_cast<double>(sinks[hi]) - m) : 0.0;
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t j : keys) {
          double e = std::exp(s[j] - m);
          den += e;
          for (int64_t di = 0; di < d; ++di)
            acc[di] += e * tlrt::bf16ToF32(val[kvIndex(bi, j, kvh, di)]);
        }
        double lseRef = den > 0 ? m + std::log(den) : -INFINITY;
        for (int64_t di = 0; di < d; ++di) {
          double ref = den > 0 ? acc[di] / den : 0.0;
          double got = tlrt::bf16ToF32(orow[di]);
          maxAbsO = std::max(maxAbsO, std::fabs(ref));
          double e = std::fabs(got - ref);
          err.o = std::max(err.o, std::isnan(e) ? INFINITY : e);
          if (!(e <= tolO))
            fail("O" + at + "[" + std::to_string(di) + "] = " + std::to_string(got) +
                 ", expected " + std::to_string(ref) + " (" + std::to_string(keys.size()) +
                 " visible keys)");
        }
        if (std::isinf(lseRef)) {
          if (!(std::isinf(lseGot) && lseGot < 0))
            fail("LSE" + at + " = " + std::to_string(lseGot) + ", expected -inf");
          continue;
        }
        double e = std::fabs(lseGot - lseRef);
        err.lse = std::max(err.lse, std::isnan(e) ? INFINITY : e);
        if (!(e <= tolLSE))
          fail("LSE" + at + " = " + std::to_string(lseGot) + ", expected " + std::to_string(lseRef));
      }
  EXPECT_EQ(bad, 0) << where;
  std::printf("[ errors   ] %-36s max|dO| %.2e (%.2e of max|O| %.3f; bound %.2e), max|dLSE| %.2e\n",
              where.c_str(), err.o, maxAbsO > 0 ? err.o / maxAbsO : 0.0, maxAbsO, tolO, err.lse);
}

/// The shapes every variant runs: MHA, GQA (2 query heads per kv head) and
/// MQA, ragged lens with empty, single-row, lens_q > lens_k and lens_q <
/// lens_k entries, sizes that are no multiple of any tile.
std::vector<Problem> problems(bool bigTiles) {
  std::vector<Problem> ps = {
      {"GQA H=4 HK=2", 70, 90, 4, 2, {70, 33, 0, 1}, {90, 57, 5, 1}},
      {"MQA H=4 HK=1", 45, 40, 4, 1, {45, 1, 20}, {40, 1, 0}, 2.0},
      {"MHA H=4 HK=4", 37, 170, 4, 4, {30, 37}, {160, 11}},
  };
  if (bigTiles) // several BM = BN = 128 tiles, one of them full
    ps.push_back({"GQA H=2 HK=1 two tiles", 150, 200, 2, 1, {150, 129}, {200, 130}});
  return ps;
}

void runVariant(const Variant &v, bool bigTiles = false) {
  for (const Problem &p : problems(bigTiles))
    runProblem(v, p);
}

TEST(CpuFlashAttnFwd, DefaultTiles) { runVariant({"flash_attn_fwd", 128, false, 0, false}, true); }
TEST(CpuFlashAttnFwd, SmallTiles) { runVariant({"flash_attn_fwd_small", 128, false, 0, false}); }
TEST(CpuFlashAttnFwd, Causal) { runVariant({"flash_attn_fwd_causal", 128, true, 0, false}); }
TEST(CpuFlashAttnFwd, CausalWindow) { runVariant({"flash_attn_fwd_window", 128, true, 48, false}); }
TEST(CpuFlashAttnFwd, Sink) { runVariant({"flash_attn_fwd_sink", 128, false, 0, true}); }
TEST(CpuFlashAttnFwd, D64CausalWindowSink) {
  runVariant({"flash_attn_fwd_d64_window_sink", 64, true, 48, true});
}
TEST(CpuFlashAttnFwd, D256Causal) { runVariant({"flash_attn_fwd_d256_causal", 256, true, 0, false}); }
TEST(CpuFlashAttnFwd, D256Sink) { runVariant({"flash_attn_fwd_d256_sink", 256, false, 0, true}); }

} // namespace
