// Shared by the sparse MLA forward port tests (sparse_mla_fwd_test.cpp,
// sparse_mla_fwd_pipelined_test.cpp): random bf16 inputs and index lists
// with invalid slots, a plain double-precision reference of the sparse MLA
// forward, and the comparison of a launch's O and LSE against it (poisoned
// rows the kernel must not write, guard elements past the end of O and LSE).
//
// Semantics (both kernels): for batch b, token s, group g = h / (H / G):
//   the valid slots j are those with 0 <= Indices[b, s, g, j] <= maxKv(s);
//   score_j = sum over D + DT of Q[b, s, h, :] * KV[b, idx_j, g, :];
//   O[b, s, h, :] = softmax_j(score_j * smScale) @ KV[b, idx_j, g, 0:D];
//   Lse[b, s, h]  = log2(sum_j exp(score_j * smScale)) (base 2, as the kernels).
//
// Tolerances: the kernels round P to bf16 before P @ V while the denominator
// sums f32 P, and round O to bf16; each costs at most 2^-9 relative per term,
// so |O - O_ref| <= 2^-8 * max|V| (O is a convex combination of V rows). The
// f32 scores, exp2 and sums add ~1e-5 relative; we allow 2^-8 * max|V| * 1.05.
// The LSE has no bf16 rounding: 1e-4 + 1e-5 * |LSE| absolute.
#pragma once

#include "PortSupport.h"
#include "tlrt/LowPrecision.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace sparse_mla {

/// Sizes of one launch: Q [b, s, h, d + dt], KV [b, skv, g, d + dt],
/// Indices [b, s, g, topk], O [b, s, h, d], Lse [b, s, h].
struct Shape {
  int64_t b, s, skv, h, g, d, dt, topk;
  int64_t dqk() const { return d + dt; }
};

struct Inputs {
  std::vector<uint16_t> q, kv; // bf16 bits
  std::vector<int32_t> idx;
};

constexpr uint16_t kPoisonO = 0xFFC1;        // a bf16 NaN no computation produces
constexpr uint32_t kPoisonLse = 0x7FBADBAD; // an f32 NaN no computation produces
constexpr int64_t kGuard = 64;               // elements past the end of O and Lse

/// Random inputs. Q is uniform in +-qMax, KV in +-1 (bf16-rounded). Each
/// index list holds between 1 and min(topk, maxKv(s) + 1) distinct valid
/// entries in [0, min(maxKv(s), skv - 1)]; the other slots are invalid: -1,
/// skv (past the end), or an in-range index past the causal limit. Half the
/// lists keep the valid entries first (whole blocks of invalid slots after
/// them, as the original test builds them), half are shuffled. Rows with
/// maxKv(s) < 0 get invalid slots only.
inline Inputs makeInputs(const Shape &sh, uint32_t seed,
                         const std::function<int64_t(int64_t)> &maxKv, float qMax) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uq(-qMax, qMax), ukv(-1.0f, 1.0f);
  Inputs in;
  in.q.resize(sh.b * sh.s * sh.h * sh.dqk());
  for (auto &x : in.q)
    x = tlrt::f32ToBF16(uq(rng));
  in.kv.resize(sh.b * sh.skv * sh.g * sh.dqk());
  for (auto &x : in.kv)
    x = tlrt::f32ToBF16(ukv(rng));
  in.idx.resize(sh.b * sh.s * sh.g * sh.topk);
  std::vector<int32_t> pool;
  for (int64_t bi = 0; bi < sh.b; ++bi)
    for (int64_t si = 0; si < sh.s; ++si)
      for (int64_t gi = 0; gi < sh.g; ++gi) {
        int32_t *list = &in.idx[((bi * sh.s + si) * sh.g + gi) * sh.topk];
        // An index past the end that passed the mask would be read as zeros
        // by the kernel (and out of bounds here): the shapes keep it masked.
        if (maxKv(si) >= sh.skv)
          throw std::invalid_argument("sparse_mla::makeInputs: maxKv(s) >= skv");
        const int64_t limit = maxKv(si);
        int64_t nValid = 0;
        if (limit >= 0) {
          pool.resize(limit + 1);
          std::iota(pool.begin(), pool.end(), 0);
          const int64_t most = std::min<int64_t>(sh.topk, limit + 1);
          nValid = 1 + static_cast<int64_t>(rng() % most);
          if (rng() % 4 == 0)
            nValid = most; // as many as fit
          for (int64_t j = 0; j < nValid; ++j) {
            std::swap(pool[j], pool[j + rng() % (pool.size() - j)]);
            list[j] = pool[j];
          }
        }
        for (int64_t j = nValid; j < sh.topk; ++j) {
          switch (rng() % 3) {
          case 0: list[j] = -1; break;
          case 1: list[j] = static_cast<int32_t>(sh.skv); break;
          default:
            list[j] = limit + 1 < sh.skv
                          ? static_cast<int32_t>(limit + 1 + rng() % (sh.skv - limit - 1))
                          : -1;
          }
        }
        if (rng() % 2)
          std::shuffle(list, list + sh.topk, rng);
      }
  return in;
}

/// Output buffers poisoned, with kGuard poisoned elements past each end.
struct Outputs {
  std::vector<uint16_t> o;
  std::vector<float> lse;
  explicit Outputs(const Shape &sh)
      : o(sh.b * sh.s * sh.h * sh.d + kGuard, kPoisonO), lse(sh.b * sh.s * sh.h + kGuard) {
    for (auto &x : lse)
      std::memcpy(&x, &kPoisonLse, 4);
  }
};

inline uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

/// Checks every element of O and Lse against the reference. Rows s with
/// computed(s) false, and the guards, must still hold the poison. smScale is
/// the softmax scale in natural units (1 / sqrt(d + dt) by default).
inline void check(const std::string &where, const Shape &sh, const Inputs &in,
                  const Outputs &out, double smScale,
                  const std::function<int64_t(int64_t)> &maxKv,
                  const std::function<bool(int64_t)> &computed) {
  const int64_t dqk = sh.dqk(), hkv = sh.h / sh.g;
  double maxAbsV = 0;
  for (int64_t r = 0; r < sh.b * sh.skv * sh.g; ++r)
    for (int64_t di = 0; di < sh.d; ++di)
      maxAbsV = std::max(maxAbsV, std::fabs(double(tlrt::bf16ToF32(in.kv[r * dqk + di]))));
  const double tolO = std::ldexp(1.0, -8) * maxAbsV * 1.05;
  int bad = 0;
  auto fail = [&](const std::string &msg) {
    if (++bad <= 8)
      ADD_FAILURE() << where << ": " << msg;
  };
  double errO = 0, errLse = 0;
  int64_t validSeen = 0;
  std::vector<float> qRow(dqk);
  std::vector<int64_t> keys;
  std::vector<double> score, acc(sh.d);
  for (int64_t bi = 0; bi < sh.b; ++bi)
    for (int64_t si = 0; si < sh.s; ++si)
      for (int64_t hi = 0; hi < sh.h; ++hi) {
        const int64_t row = (bi * sh.s + si) * sh.h + hi;
        const uint16_t *oRow = &out.o[row * sh.d];
        const float lseGot = out.lse[row];
        const std::string at = "[b=" + std::to_string(bi) + ", s=" + std::to_string(si) +
                               ", h=" + std::to_string(hi) + "]";
        if (!computed(si)) {
          for (int64_t di = 0; di < sh.d; ++di)
            if (oRow[di] != kPoisonO) {
              fail("O" + at + " was written (row not computed)");
              break;
            }
          if (bitsOf(lseGot) != kPoisonLse)
            fail("Lse" + at + " was written (row not computed)");
          continue;
        }
        const int64_t gi = hi / hkv;
        for (int64_t di = 0; di < dqk; ++di)
          qRow[di] = tlrt::bf16ToF32(in.q[row * dqk + di]);
        const int32_t *list = &in.idx[((bi * sh.s + si) * sh.g + gi) * sh.topk];
        keys.clear();
        score.clear();
        double m = -INFINITY;
        for (int64_t j = 0; j < sh.topk; ++j) {
          if (list[j] < 0 || list[j] > maxKv(si))
            continue;
          const uint16_t *k = &in.kv[((bi * sh.skv + list[j]) * sh.g + gi) * dqk];
          double dot = 0;
          for (int64_t di = 0; di < dqk; ++di)
            dot += double(qRow[di]) * tlrt::bf16ToF32(k[di]);
          keys.push_back(list[j]);
          score.push_back(dot * smScale);
          m = std::max(m, score.back());
        }
        validSeen += static_cast<int64_t>(keys.size());
        double den = 0;
        std::fill(acc.begin(), acc.end(), 0.0);
        for (size_t j = 0; j < keys.size(); ++j) {
          const double e = std::exp(score[j] - m);
          den += e;
          const uint16_t *v = &in.kv[((bi * sh.skv + keys[j]) * sh.g + gi) * dqk];
          for (int64_t di = 0; di < sh.d; ++di)
            acc[di] += e * tlrt::bf16ToF32(v[di]);
        }
        for (int64_t di = 0; di < sh.d; ++di) {
          const double ref = acc[di] / den, got = tlrt::bf16ToF32(oRow[di]);
          const double e = std::fabs(got - ref);
          errO = std::max(errO, std::isnan(e) ? INFINITY : e);
          if (!(e <= tolO))
            fail("O" + at + "[" + std::to_string(di) + "] = " + std::to_string(got) +
                 ", expected " + std::to_string(ref) + " (" + std::to_string(keys.size()) +
                 " valid indices)");
        }
        const double lseRef = (m + std::log(den)) / std::log(2.0);
        const double e = std::fabs(lseGot - lseRef);
        errLse = std::max(errLse, std::isnan(e) ? INFINITY : e);
        if (!(e <= 1e-4 + 1e-5 * std::fabs(lseRef)))
          fail("Lse" + at + " = " + std::to_string(lseGot) + ", expected " +
               std::to_string(lseRef));
      }
  const int64_t nO = sh.b * sh.s * sh.h * sh.d, nL = sh.b * sh.s * sh.h;
  for (int64_t i = 0; i < kGuard; ++i) {
    if (out.o[nO + i] != kPoisonO)
      fail("O guard element " + std::to_string(i) + " past the end was written");
    if (bitsOf(out.lse[nL + i]) != kPoisonLse)
      fail("Lse guard element " + std::to_string(i) + " past the end was written");
  }
  EXPECT_EQ(bad, 0) << where;
  EXPECT_GT(validSeen, 0) << where << ": no valid index at all (a vacuous test)";
  std::printf("[ errors   ] %-48s max|dO| %.2e (bound %.2e), max|dLse| %.2e, %lld valid\n",
              where.c_str(), errO, tolO, errLse, static_cast<long long>(validSeen));
}

} // namespace sparse_mla
