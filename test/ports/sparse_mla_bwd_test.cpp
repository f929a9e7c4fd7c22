// kernels/sparse_mla_bwd.tl on the CPU target: the three-kernel sequence (preprocess, main
// backward, postprocess) launched as one operator, against a plain double-precision backward
// of sparse causal attention with a shared K/V latent.
//
// Inputs: bf16 Q, KV, dO (random); Indices with repeats inside a row and across rows (so the
// dKV atomics collide), slots past the query position (masked by causality) and empty slots
// (index S_kv, past the tensor). The test plays the forward pass: Lse (base 2) and O (rounded
// to bf16) come from the reference, and Delta is checked against rowsum(O * dO).
//
// Tolerances. bf16 keeps 8 significant bits, so a rounding costs up to 2^-8 relative. The
// kernel rounds dS (for dQ and dK) and P (for dV) to bf16, up to 2^-8 of each term, and dQ and
// dKV at the end, up to 2^-8 of the result; f32 scores, sums and the atomics' order add far
// less. The errors of repeated slots (one key several times in a row) add up with one sign, so
// the bound is 2^-8 * (sum of the magnitudes of the terms) + 2^-8 * |ref|, which the measured
// worst cases reach to ~0.86; we allow 1.1 times it. Delta sums exact bf16 products in f32:
// 1e-5 of its magnitude sum. Outputs are poisoned first (NaN), and guard words past the end of
// dQ and dKV must survive (head blocks past H and empty slots write nothing).
#include "PortSupport.h"

#include "tlrt/LowPrecision.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace {

using tlrt::DType;
using tlrt::Tensor;

const tlrt::Module &module(const std::string &name) {
  static std::map<std::string, std::unique_ptr<tlrt::Module>> modules;
  auto &m = modules[name];
  if (!m)
    m = std::make_unique<tlrt::Module>(
        tlrt::Module::load(std::string(TLC_PORT_KERNEL_DIR) + "/" + name + ".manifest.json"));
  return *m;
}

struct Variant {
  const char *module;
  int64_t d, dTail;
};

struct Shape {
  int64_t b, s, skv, h, g, topk;
};

constexpr uint16_t kPoisonBF16 = 0xFFC1; // a NaN no computation produces
constexpr uint32_t kPoisonF32 = 0x7FBADBAD;
constexpr size_t kGuard = 256; // elements past the end of dQ and dKV_out / dKV

float poisonF32() {
  float f;
  std::memcpy(&f, &kPoisonF32, 4);
  return f;
}

std::vector<uint16_t> randomBF16(size_t n, uint32_t seed, float amp) {
  std::vector<float> f = tlc_port::uniform(n, seed, -amp, amp);
  std::vector<uint16_t> r(n);
  for (size_t i = 0; i < n; ++i)
    r[i] = tlrt::f32ToBF16(f[i]);
  return r;
}

void run(const Variant &v, const Shape &p, uint32_t seed) {
  const int64_t dqk = v.d + v.dTail, hkv = p.h / p.g;
  const std::string where = std::string(v.module) + " B=" + std::to_string(p.b) +
                            " S=" + std::to_string(p.s) + " S_kv=" + std::to_string(p.skv) +
                            " H=" + std::to_string(p.h) + " G=" + std::to_string(p.g) +
                            " topk=" + std::to_string(p.topk);
  std::vector<uint16_t> q = randomBF16(p.b * p.s * p.h * dqk, seed, 2.0f);
  std::vector<uint16_t> kv = randomBF16(p.b * p.skv * p.g * dqk, seed + 1, 1.0f);
  std::vector<uint16_t> dO = randomBF16(p.b * p.s * p.h * v.d, seed + 2, 1.0f);

  // Slot 0 is always visible; others: 70% a key <= s, 15% any key (often masked), 15% empty.
  std::mt19937 rng(seed + 3);
  std::vector<int32_t> idx(p.b * p.s * p.g * p.topk);
  for (int64_t b = 0; b < p.b; ++b)
    for (int64_t s = 0; s < p.s; ++s)
      for (int64_t g = 0; g < p.g; ++g)
        for (int64_t t = 0; t < p.topk; ++t) {
          uint32_t r = rng() % 100;
          int32_t x;
          if (t == 0 || r < 70)
            x = int32_t(rng() % uint32_t(s + 1));
          else if (r < 85)
            x = int32_t(rng() % uint32_t(p.skv));
          else
            x = int32_t(p.skv);
          idx[((b * p.s + s) * p.g + g) * p.topk + t] = x;
        }

  auto Q = [&](int64_t b, int64_t s, int64_t h, int64_t d) {
    return double(tlrt::bf16ToF32(q[((b * p.s + s) * p.h + h) * dqk + d]));
  };
  auto KV = [&](int64_t b, int64_t j, int64_t g, int64_t d) {
    return double(tlrt::bf16ToF32(kv[((b * p.skv + j) * p.g + g) * dqk + d]));
  };
  auto DO = [&](int64_t b, int64_t s, int64_t h, int64_t d) {
    return double(tlrt::bf16ToF32(dO[((b * p.s + s) * p.h + h) * v.d + d]));
  };
  auto visible = [&](int64_t s, int32_t j) { return j <= s && j < p.skv; };

  // Forward reference: Lse in base 2 (as the kernel reads it), O rounded to bf16.
  const double scale = 1.0 / std::sqrt(double(dqk));
  std::vector<float> lse(p.b * p.s * p.h);
  std::vector<uint16_t> o(p.b * p.s * p.h * v.d);
  std::vector<double> score(p.topk);
  for (int64_t b = 0; b < p.b; ++b)
    for (int64_t s = 0; s < p.s; ++s)
      for (int64_t h = 0; h < p.h; ++h) {
        const int64_t g = h / hkv;
        const int32_t *row = &idx[((b * p.s + s) * p.g + g) * p.topk];
        double mx = -INFINITY, sum = 0;
        for (int64_t t = 0; t < p.topk; ++t) {
          if (!visible(s, row[t]))
            continue;
          double acc = 0;
          for (int64_t d = 0; d < dqk; ++d)
            acc += Q(b, s, h, d) * KV(b, row[t], g, d);
          score[t] = acc * scale;
          mx = std::max(mx, score[t]);
        }
        for (int64_t t = 0; t < p.topk; ++t)
          if (visible(s, row[t]))
            sum += std::exp(score[t] - mx);
        const int64_t r = (b * p.s + s) * p.h + h;
        lse[r] = float((mx + std::log(sum)) / std::log(2.0));
        for (int64_t d = 0; d < v.d; ++d) {
          double acc = 0;
          for (int64_t t = 0; t < p.topk; ++t)
            if (visible(s, row[t]))
              acc += std::exp(score[t] - mx) / sum * KV(b, row[t], g, d);
          o[r * v.d + d] = tlrt::f32ToBF16(float(acc));
        }
      }

  // Backward reference, with the magnitude sums that bound the kernel's rounding.
  std::vector<double> deltaRef(p.b * p.s * p.h, 0), deltaMag(p.b * p.s * p.h, 0);
  std::vector<double> dqRef(q.size(), 0), dqMag(q.size(), 0);
  std::vector<double> dkvRef(kv.size(), 0), dkvMag(kv.size(), 0);
  for (int64_t b = 0; b < p.b; ++b)
    for (int64_t s = 0; s < p.s; ++s)
      for (int64_t h = 0; h < p.h; ++h) {
        const int64_t g = h / hkv, r = (b * p.s + s) * p.h + h;
        const int32_t *row = &idx[((b * p.s + s) * p.g + g) * p.topk];
        for (int64_t d = 0; d < v.d; ++d) {
          double t = double(tlrt::bf16ToF32(o[r * v.d + d])) * DO(b, s, h, d);
          deltaRef[r] += t;
          deltaMag[r] += std::fabs(t);
        }
        const double lseNat = double(lse[r]) * std::log(2.0);
        for (int64_t t = 0; t < p.topk; ++t) {
          const int32_t j = row[t];
          if (!visible(s, j))
            continue;
          double qk = 0, dp = 0;
          for (int64_t d = 0; d < dqk; ++d)
            qk += Q(b, s, h, d) * KV(b, j, g, d);
          for (int64_t d = 0; d < v.d; ++d)
            dp += DO(b, s, h, d) * KV(b, j, g, d);
          const double pr = std::exp(qk * scale - lseNat);
          const double ds = pr * (dp - deltaRef[r]) * scale;
          const int64_t kvRow = ((b * p.skv + j) * p.g + g) * dqk;
          for (int64_t d = 0; d < dqk; ++d) {
            dqRef[r * dqk + d] += ds * KV(b, j, g, d);
            dqMag[r * dqk + d] += std::fabs(ds * KV(b, j, g, d));
            dkvRef[kvRow + d] += ds * Q(b, s, h, d);
            dkvMag[kvRow + d] += std::fabs(ds * Q(b, s, h, d));
          }
          for (int64_t d = 0; d < v.d; ++d) {
            dkvRef[kvRow + d] += pr * DO(b, s, h, d);
            dkvMag[kvRow + d] += std::fabs(pr * DO(b, s, h, d));
          }
        }
      }

  // Launch: outputs poisoned, guard words after dQ, dKV and dKV_out; dKV (the f32
  // accumulator) is zeroed by the caller, as the original's wrapper does.
  std::vector<float> delta(deltaRef.size(), poisonF32());
  std::vector<uint16_t> dq(q.size() + kGuard, kPoisonBF16);
  std::vector<float> dkv(kv.size() + kGuard, 0.0f);
  std::fill(dkv.begin() + kv.size(), dkv.end(), poisonF32());
  std::vector<uint16_t> dkvOut(kv.size() + kGuard, kPoisonBF16);
  module(v.module).launchSequence(
      {{"Q", Tensor(q.data(), DType::BFloat16, {p.b, p.s, p.h, dqk})},
       {"KV", Tensor(kv.data(), DType::BFloat16, {p.b, p.skv, p.g, dqk})},
       {"O", Tensor(o.data(), DType::BFloat16, {p.b, p.s, p.h, v.d})},
       {"dO", Tensor(dO.data(), DType::BFloat16, {p.b, p.s, p.h, v.d})},
       {"Indices", Tensor(idx.data(), DType::Int32, {p.b, p.s, p.g, p.topk})},
       {"Lse", Tensor(lse.data(), DType::Float32, {p.b, p.s, p.h})},
       {"Delta", Tensor(delta.data(), DType::Float32, {p.b, p.s, p.h})},
       {"dQ", Tensor(dq.data(), DType::BFloat16, {p.b, p.s, p.h, dqk})},
       {"dKV", Tensor(dkv.data(), DType::Float32, {p.b, p.skv, p.g, dqk})},
       {"dKV_out", Tensor(dkvOut.data(), DType::BFloat16, {p.b, p.skv, p.g, dqk})}});

  for (size_t i = 0; i < kGuard; ++i) {
    ASSERT_EQ(dq[q.size() + i], kPoisonBF16) << where << ": dQ guard " << i << " overwritten";
    ASSERT_EQ(dkvOut[kv.size() + i], kPoisonBF16) << where << ": dKV_out guard " << i;
    uint32_t bits;
    std::memcpy(&bits, &dkv[kv.size() + i], 4);
    ASSERT_EQ(bits, kPoisonF32) << where << ": dKV guard " << i << " overwritten";
  }

  // Element-wise bounds, plus the worst ratio for the log.
  auto check = [&](const char *what, auto got, const std::vector<double> &ref,
                   const std::vector<double> &mag, double magTol, double refTol) {
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      const double g = got(i);
      const double tol = magTol * mag[i] + refTol * std::fabs(ref[i]) + 1e-6;
      const double r = std::fabs(g - ref[i]) / tol;
      if (!(r <= worst)) {
        worst = std::isnan(r) ? INFINITY : r;
        at = i;
      }
    }
    std::printf("%s %s: worst error / bound %.3f\n", where.c_str(), what, worst);
    EXPECT_LE(worst, 1.0) << where << " " << what << " at " << at << ": got " << got(at)
                          << ", want " << ref[at];
  };
  const double bf = 1.1 * std::ldexp(1.0, -8);
  check("Delta", [&](size_t i) { return double(delta[i]); }, deltaRef, deltaMag, 1e-5, 0);
  check("dQ", [&](size_t i) { return double(tlrt::bf16ToF32(dq[i])); }, dqRef, dqMag, bf, bf);
  check("dKV", [&](size_t i) { return double(tlrt::bf16ToF32(dkvOut[i])); }, dkvRef, dkvMag, bf,
        bf);

  // Keys no query sees get exactly zero.
  int64_t untouched = 0;
  for (size_t i = 0; i < kv.size(); ++i)
    if (dkvMag[i] == 0) {
      ++untouched;
      ASSERT_EQ(dkvOut[i], 0) << where << ": dKV element " << i << " of an unused key";
    }
  EXPECT_GT(untouched, 0) << where << ": keys >= S are never visible";
}

// Variants as compiled in sparse_mla_bwd.cmake.
const Variant kDefault{"sparse_mla_bwd", 64, 32};
const Variant kSm90{"sparse_mla_bwd_sm90", 64, 32};
const Variant kSmall{"sparse_mla_bwd_small", 64, 32};
const Variant kOrig{"sparse_mla_bwd_orig", 128, 64};

TEST(SparseMlaBwd, DefaultTiles) {
  run(kDefault, {1, 37, 150, 20, 1, 128}, 11);
  run(kDefault, {2, 19, 77, 32, 1, 100}, 12);
}

TEST(SparseMlaBwd, HopperTiles) {
  run(kSm90, {1, 41, 200, 16, 1, 64}, 21);
  run(kSm90, {2, 23, 100, 24, 1, 96}, 22);
}

TEST(SparseMlaBwd, SmallTiles) {
  run(kSmall, {2, 33, 130, 20, 1, 64}, 31);
  run(kSmall, {1, 29, 300, 32, 2, 80}, 32);
  run(kSmall, {1, 5, 9, 16, 1, 72}, 33);
}

TEST(SparseMlaBwd, OriginalTiles) {
  run(kOrig, {1, 25, 90, 32, 1, 64}, 41);
  run(kOrig, {2, 13, 40, 28, 1, 96}, 42);
}

} // namespace
