// models/deepseek_v4/kernels/indexer.tl (the V4 lightning indexer) on the CPU target against
// the reference (ReferenceAttention.cpp: AttentionLayer::query's index queries and
// ref::indexerTopK's score; ReferenceOps.cpp: RoPE, hadamardInPlace, fakeQuantFp4InPlace).
//
//  - indexer_q: every code and row scale equals the FP8 row form (b) of the reference's
//    RoPE + Hadamard + FP4 row, and code * scale equals the reference's value bit for bit.
//  - indexer_logits / indexer_logits_decode: from rows quantised the reference's way and
//    stored in form (b), every visible logit is within the f32 summation-order bound of a
//    double evaluation of sum_h w_h relu(q_h . k_j): (DI + IH + 3) * 2^-24 *
//    sum_h |w_h| sum_d |q_hd k_jd| (products of the FP8 codes are exact in f32; the bound
//    covers the DI-term dot product, the weighting and the IH-term head sum; the QS and KS
//    scalings are by powers of two). Invisible keys (j >= (pos + 1) / 4) are -inf exactly,
//    every element is written (with FILL_INVISIBLE = False: -inf or untouched) and nothing
//    past Logits is.
//  - top-k of the kernel's logits (stable sort, ties to the lower index) is the set
//    ref::indexerTopK returns, on every query whose k-th and (k+1)-th reference scores are
//    further apart than the error bound (the others are counted and skipped; most pass).
//  - end to end: indexer_q's output scored by indexer_logits selects ref::indexerTopK's set
//    for queries built the way AttentionLayer::query builds them.
// Shapes are ragged (S, N not multiples of the tiles or of BQ), positions cross compression
// boundaries and run past 4 N; variants: IH 64 / 8 / 4, DI 128 / 64 / 256, BN 128 / 16 / 32,
// BQ 4 / 3 / 2 / 1, both T.arch code paths, FILL_INVISIBLE off (indexer.cmake).
#include "V4KernelSupport.h"

#include "tlv4/ReferenceAttention.h"
#include "tlv4/ReferenceOps.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>

namespace {

using tlrt::DType;
using tlrt::Tensor;
namespace ref = tlv4::ref;

constexpr int64_t kRatio = 4;
constexpr int64_t kRopePairs = 32;
constexpr int64_t kGroup = 32;
constexpr uint32_t kPoison = 0x7FBADBAD; // an f32 NaN no computation produces
constexpr int64_t kTail = 16;            // poisoned elements after each output

/// A CPU build of indexer.tl (indexer.cmake) and the parameters it was built with.
struct Variant {
  const char *module;
  int64_t ih, di;
  bool fill = true; // FILL_INVISIBLE
};
const Variant kVariants[] = {
    {"indexer_v4", 64, 128},     {"indexer_v4_sm90", 64, 128}, {"indexer_h8", 8, 128},
    {"indexer_h4_sm90", 4, 128}, {"indexer_h8_bq1", 8, 128},   {"indexer_h8_nofill", 8, 128, false},
    {"indexer_h4_d64", 4, 64},   {"indexer_h4_d256", 4, 256},
};

float poison() { return tlc_test::floatOfBits(kPoison); }
using tlc_test::bitsOf;

/// The compressed layers' RoPE (compress_rope_theta with YaRN, V4-Flash values).
const std::vector<float> &freqs() {
  static const std::vector<float> f = tlv4_test::compressedRopeFreqs(2 * kRopePairs);
  return f;
}

/// Contract (c): Cos[p, i], Sin[p, i] = the reference's f32 RoPE table (ref::ropeCosSin).
void ropeTables(int64_t positions, std::vector<float> &cos, std::vector<float> &sin) {
  tlv4_test::ropeTable(freqs(), positions, cos, sin);
}

/// A row after RoPE / Hadamard, FP4-quantised the reference's way (value) and in the FP8 row
/// form (b): codes and one power-of-two scale (max group scale / 64).
struct QuantRow {
  std::vector<float> value;
  std::vector<uint8_t> codes;
  float scale = 0;
};

QuantRow quantiseRow(const float *x, int64_t n) {
  QuantRow r;
  r.value.assign(x, x + n);
  ref::fakeQuantFp4InPlace(r.value.data(), n, kGroup);
  float smax = 0;
  for (int64_t g = 0; g < n; g += kGroup) {
    float amax = 0;
    for (int64_t i = g; i < g + kGroup; ++i)
      amax = std::max(amax, std::fabs(x[i]));
    smax = std::max(smax, tlrt::ue8m0ToF32(tlrt::ue8m0QuantScale(amax, tlrt::kE2M1Max)));
  }
  r.scale = smax / 64;
  r.codes.resize(n);
  for (int64_t i = 0; i < n; ++i)
    r.codes[i] = tlrt::f32ToE4M3(r.value[i] / r.scale);
  return r;
}

/// A random FP4-quantised row (Hadamard-rotated, as the indexer's rows are), magnitude ~mag.
QuantRow randomRow(std::mt19937 &rng, int64_t n, float mag) {
  std::uniform_real_distribution<float> u(-mag, mag);
  std::vector<float> x(n);
  for (auto &v : x)
    v = u(rng);
  ref::hadamardInPlace(x.data(), n);
  QuantRow r = quantiseRow(x.data(), n);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_EQ(tlrt::e4m3ToF32(r.codes[i]) * r.scale, r.value[i]) << "test data outside form (b)";
  return r;
}

int64_t visibleOf(int32_t pos, int64_t n) {
  return std::clamp<int64_t>((int64_t(pos) + 1) / kRatio, 0, n);
}

/// Indexer inputs of B sequences: S queries each with IH heads, N keys, in form (b).
struct Problem {
  int64_t b = 0, s = 0, n = 0, ih = 0, di = 0;
  std::vector<uint8_t> qq, k;   // [B, S, IH, DI], [B, N, DI]
  std::vector<float> qs, w, ks; // [B, S, IH], [B, S, IH], [B, N]
  std::vector<int32_t> pos;     // [B, S]
  std::vector<float> qv, kv;    // dequantised values, same layouts as qq, k
};

/// Positions per sequence: 0 = consecutive from 0 (early queries see nothing), 1 =
/// consecutive ending past 4 N (the later ones see every key), 2 = arbitrary in [0, 4N + 8)
/// in no order.
std::vector<int32_t> positions(std::mt19937 &rng, int64_t s, int64_t n, int kind) {
  std::vector<int32_t> p(s);
  if (kind == 0)
    std::iota(p.begin(), p.end(), 0);
  else if (kind == 1)
    std::iota(p.begin(), p.end(), int32_t(std::max<int64_t>(0, 4 * n + 6 - s)));
  else {
    std::uniform_int_distribution<int32_t> u(0, int32_t(4 * n + 7));
    for (auto &x : p)
      x = u(rng);
  }
  return p;
}

Problem makeProblem(int64_t b, int64_t s, int64_t n, int64_t ih, int64_t di, uint32_t seed) {
  std::mt19937 rng(seed);
  Problem p;
  p.b = b, p.s = s, p.n = n, p.ih = ih, p.di = di;
  std::uniform_real_distribution<float> mag(0.5f, 4.0f), wd(-1.0f, 1.0f);
  for (int64_t bt = 0; bt < b * s; ++bt)
    for (int64_t h = 0; h < ih; ++h) {
      QuantRow r = randomRow(rng, di, mag(rng));
      p.qq.insert(p.qq.end(), r.codes.begin(), r.codes.end());
      p.qv.insert(p.qv.end(), r.value.begin(), r.value.end());
      p.qs.push_back(r.scale);
      p.w.push_back(wd(rng));
    }
  for (int64_t j = 0; j < b * n; ++j) {
    QuantRow r = randomRow(rng, di, mag(rng));
    p.k.insert(p.k.end(), r.codes.begin(), r.codes.end());
    p.kv.insert(p.kv.end(), r.value.begin(), r.value.end());
    p.ks.push_back(r.scale);
  }
  for (int64_t e = 0; e < b; ++e) {
    std::vector<int32_t> ps = positions(rng, s, n, int(e % 3));
    p.pos.insert(p.pos.end(), ps.begin(), ps.end());
  }
  return p;
}

/// The score of query row (b, t) (its IH heads at q, weights at w) against key row kv, in
/// double, and the f32 rounding bound of the kernel's evaluation.
struct Score {
  double value, bound;
};
Score scoreOf(const float *q, const float *w, const float *kv, int64_t ih, int64_t di) {
  double s = 0, mag = 0;
  for (int64_t h = 0; h < ih; ++h) {
    double dot = 0, adot = 0;
    for (int64_t d = 0; d < di; ++d) {
      dot += double(q[h * di + d]) * kv[d];
      adot += std::fabs(double(q[h * di + d]) * kv[d]);
    }
    s += double(w[h]) * std::max(dot, 0.0);
    mag += std::fabs(double(w[h])) * adot;
  }
  return {s, double(di + ih + 3) * std::ldexp(1.0, -24) * mag + 1e-30};
}

/// Checks one logits row (N values) against the reference scores of query (b, t); without
/// `fill` an invisible element may also keep its poison. Returns the number of bad elements
/// (reported, at most a few).
int checkRow(const float *got, const Problem &p, int64_t b, const float *q, const float *w,
             int32_t pos, bool fill, const std::string &where) {
  int64_t vis = visibleOf(pos, p.n);
  int bad = 0;
  for (int64_t j = 0; j < p.n; ++j) {
    bool ok;
    std::string want;
    if (j < vis) {
      Score sc = scoreOf(q, w, &p.kv[(b * p.n + j) * p.di], p.ih, p.di);
      ok = std::isfinite(got[j]) && std::fabs(got[j] - sc.value) <= sc.bound;
      want = std::to_string(sc.value) + " +- " + std::to_string(sc.bound);
    } else {
      ok = got[j] == -INFINITY || (!fill && bitsOf(got[j]) == kPoison);
      want = fill ? "-inf" : "-inf or untouched";
    }
    if (!ok && ++bad <= 3)
      ADD_FAILURE() << where << " pos=" << pos << " key " << j << " (visible " << vis
                    << "): got " << got[j] << ", want " << want;
  }
  return bad;
}

/// Indices of the top min(k, n) of n logits, best first, ties to the lower index.
std::vector<int64_t> topOf(const float *logits, int64_t n, int64_t k) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
  order.resize(std::min(k, n));
  return order;
}

/// Whether the reference's k-th and (k+1)-th scores of the row are further apart than the
/// kernel's error (so the selected set is determined).
bool separated(const Problem &p, int64_t b, const float *q, const float *w, int64_t vis,
               int64_t k) {
  if (k >= vis)
    return true;
  std::vector<Score> s(vis);
  double worst = 0;
  for (int64_t j = 0; j < vis; ++j) {
    s[j] = scoreOf(q, w, &p.kv[(b * p.n + j) * p.di], p.ih, p.di);
    worst = std::max(worst, s[j].bound);
  }
  std::vector<double> v(vis);
  for (int64_t j = 0; j < vis; ++j)
    v[j] = s[j].value;
  std::nth_element(v.begin(), v.begin() + k, v.end(), std::greater<double>());
  double kth1 = v[k];
  double kth = *std::min_element(v.begin(), v.begin() + k);
  return kth - kth1 > 4 * worst;
}

/// Compares the kernel's top-k with ref::indexerTopK on query (b, t); returns false when the
/// row is too close to a tie to decide.
bool checkTopK(const float *logits, const Problem &p, int64_t b, const float *q, const float *w,
               int32_t pos, int64_t k, const std::string &where) {
  int64_t vis = visibleOf(pos, p.n);
  if (!separated(p, b, q, w, vis, k))
    return false;
  std::vector<ref::Vec> keys(p.n);
  for (int64_t j = 0; j < p.n; ++j)
    keys[j].assign(&p.kv[(b * p.n + j) * p.di], &p.kv[(b * p.n + j + 1) * p.di]);
  ref::Vec qv(q, q + p.ih * p.di), wv(w, w + p.ih);
  std::vector<int64_t> want = ref::indexerTopK(qv, wv, p.ih, p.di, keys, vis, k);
  std::vector<int64_t> got = topOf(logits, vis, k); // a consumer reads [0, visible)
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want) << where << " pos=" << pos << " top-" << k;
  return true;
}

void expectTail(const std::vector<float> &buf, size_t size, const std::string &where) {
  for (size_t i = size; i < buf.size(); ++i)
    if (bitsOf(buf[i]) != kPoison) {
      ADD_FAILURE() << where << ": wrote past the output (tail element " << i - size << ")";
      return;
    }
}

// ------------------------------------------------------------------ indexer_q ---

/// A raw query row whose RoPE + Hadamard image lies within rounding error of FP4 rounding
/// midpoints (0.25, 0.75, ..., 5 times a power-of-two group scale): each element's FP4
/// rounding then hangs on the last bits of the f32 arithmetic, so any departure from the
/// reference's operations (an FMA in the RoPE, another Hadamard scale) changes codes.
std::vector<float> midpointRow(std::mt19937 &rng, int64_t di, int32_t pos, const float *cosT,
                               const float *sinT) {
  static const double kMid[] = {0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0};
  std::uniform_int_distribution<int> mid(0, 6), sign(0, 1), exp(-6, 3);
  std::vector<double> y(di);
  for (int64_t g = 0; g < di; g += kGroup) {
    double s = std::ldexp(1.0, exp(rng));
    for (int64_t i = g; i < g + kGroup; ++i)
      y[i] = kMid[mid(rng)] * s * (sign(rng) ? 1 : -1);
    y[g] = 5.0 * s; // the group's amax: scale s
  }
  // Undo the Hadamard (orthonormal, its own inverse), then the RoPE, in double.
  for (int64_t len = 1; len < di; len <<= 1)
    for (int64_t i = 0; i < di; i += 2 * len)
      for (int64_t j = i; j < i + len; ++j) {
        double a = y[j], b = y[j + len];
        y[j] = a + b;
        y[j + len] = a - b;
      }
  for (auto &v : y)
    v /= std::sqrt(double(di));
  std::vector<float> x(di);
  for (int64_t d = 0; d < di; ++d)
    x[d] = float(y[d]);
  for (int64_t i = 0; i < kRopePairs; ++i) {
    double c = cosT[pos * kRopePairs + i], sn = sinT[pos * kRopePairs + i];
    double a = y[di - 2 * kRopePairs + 2 * i], b = y[di - 2 * kRopePairs + 2 * i + 1];
    x[di - 2 * kRopePairs + 2 * i] = float(a * c + b * sn);
    x[di - 2 * kRopePairs + 2 * i + 1] = float(-a * sn + b * c);
  }
  return x;
}

TEST(V4Indexer, QueryMatchesReference) {
  std::vector<float> cosT, sinT;
  const int64_t kPositions = 70000;
  ropeTables(kPositions, cosT, sinT);
  for (const Variant &v : kVariants) {
    if (!tlv4_test::available(v.module))
      continue;
    const int64_t s = v.ih >= 64 ? 5 : 13;
    std::mt19937 rng(1234 + uint32_t(v.ih));
    std::uniform_real_distribution<float> u(-1, 1), lg(-2, 2);
    std::vector<float> q(s * v.ih * v.di);
    for (int64_t r = 0; r < s * v.ih; ++r) {
      float mag = std::pow(10.0f, lg(rng));
      for (int64_t d = 0; d < v.di; ++d)
        q[r * v.di + d] = u(rng) * mag;
    }
    // Edge rows: all zero (every group takes the 1e-4 clamp) and tiny.
    std::fill_n(q.begin() + 1 * v.di, v.di, 0.0f);
    for (int64_t d = 0; d < v.di; ++d)
      q[2 * v.di + d] *= 1e-6f;
    std::vector<int32_t> pos(s);
    std::uniform_int_distribution<int32_t> up(0, kPositions - 1);
    for (auto &x : pos)
      x = up(rng);
    pos[0] = 0;
    pos[s - 1] = kPositions - 1;
    // Every other head row of tokens 1.. sits on FP4 rounding midpoints.
    for (int64_t t = 1; t < s; ++t)
      for (int64_t h = 0; h < v.ih; h += 2) {
        std::vector<float> x = midpointRow(rng, v.di, pos[t], cosT.data(), sinT.data());
        std::copy(x.begin(), x.end(), &q[(t * v.ih + h) * v.di]);
      }
    std::vector<uint8_t> qq(s * v.ih * v.di + kTail, 0xAB);
    std::vector<float> qs(s * v.ih + kTail, poison());
    tlv4_test::kernel(v.module, "indexer_q")
        .launch({Tensor(q.data(), DType::Float32, {s, v.ih, v.di}),
                 Tensor(pos.data(), DType::Int32, {s}),
                 Tensor(cosT.data(), DType::Float32, {kPositions, kRopePairs}),
                 Tensor(sinT.data(), DType::Float32, {kPositions, kRopePairs}),
                 Tensor(qq.data(), DType::Float8E4M3, {s, v.ih, v.di}),
                 Tensor(qs.data(), DType::Float32, {s, v.ih})});
    int bad = 0;
    for (int64_t t = 0; t < s; ++t)
      for (int64_t h = 0; h < v.ih; ++h) {
        const int64_t r = t * v.ih + h;
        // AttentionLayer::query's index query row.
        std::vector<float> x(&q[r * v.di], &q[(r + 1) * v.di]);
        ref::applyRopeInPlace(x.data() + v.di - 2 * kRopePairs, freqs(), pos[t]);
        ref::hadamardInPlace(x.data(), v.di);
        QuantRow want = quantiseRow(x.data(), v.di);
        std::vector<float> fq = x;
        ref::fakeQuantFp4InPlace(fq.data(), v.di, kGroup);
        if (bitsOf(qs[r]) != bitsOf(want.scale) && ++bad <= 3)
          ADD_FAILURE() << v.module << " t=" << t << " h=" << h << ": QS " << qs[r] << ", want "
                        << want.scale;
        for (int64_t d = 0; d < v.di; ++d) {
          uint8_t code = qq[r * v.di + d];
          float value = tlrt::e4m3ToF32(code) * qs[r];
          if ((code != want.codes[d] || bitsOf(value) != bitsOf(fq[d])) && ++bad <= 3)
            ADD_FAILURE() << v.module << " t=" << t << " h=" << h << " d=" << d << ": code "
                          << int(code) << " (" << value << "), want " << int(want.codes[d])
                          << " (" << fq[d] << ")";
        }
      }
    EXPECT_EQ(bad, 0) << v.module << ": mismatching query elements";
    for (int64_t i = 0; i < kTail; ++i) {
      EXPECT_EQ(qq[s * v.ih * v.di + i], 0xAB) << v.module << ": wrote past QQ";
      EXPECT_EQ(bitsOf(qs[s * v.ih + i]), kPoison) << v.module << ": wrote past QS";
    }
  }
}

// ------------------------------------------------------------- indexer_logits ---

void runPrefill(const Variant &v, Problem &p, std::vector<float> &logits) {
  logits.assign(p.b * p.s * p.n + kTail, poison());
  tlv4_test::kernel(v.module, "indexer_logits")
      .launch({Tensor(p.qq.data(), DType::Float8E4M3, {p.b, p.s, p.ih, p.di}),
               Tensor(p.qs.data(), DType::Float32, {p.b, p.s, p.ih}),
               Tensor(p.w.data(), DType::Float32, {p.b, p.s, p.ih}),
               Tensor(p.k.data(), DType::Float8E4M3, {p.b, p.n, p.di}),
               Tensor(p.ks.data(), DType::Float32, {p.b, p.n}),
               Tensor(p.pos.data(), DType::Int32, {p.b, p.s}),
               Tensor(logits.data(), DType::Float32, {p.b, p.s, p.n})});
}

TEST(V4Indexer, PrefillLogitsAndTopK) {
  for (const Variant &v : kVariants) {
    if (!tlv4_test::available(v.module))
      continue;
    // The V4 sizes on a small problem; small head counts on several ragged ones.
    std::vector<std::array<int64_t, 3>> shapes; // B, S, N
    if (v.ih >= 64)
      shapes = {{3, 9, 140}};
    else
      shapes = {{3, 37, 45}, {2, 1, 70}, {3, 50, 13}};
    for (auto [b, s, n] : shapes) {
      Problem p = makeProblem(b, s, n, v.ih, v.di, uint32_t(7 * s + n + v.ih));
      std::vector<float> logits;
      runPrefill(v, p, logits);
      const std::string where =
          std::string(v.module) + " B=" + std::to_string(b) + " S=" + std::to_string(s) +
          " N=" + std::to_string(n);
      int bad = 0, decided = 0, rows = 0;
      for (int64_t e = 0; e < b; ++e)
        for (int64_t t = 0; t < s; ++t) {
          const int64_t r = e * s + t;
          const float *q = &p.qv[r * v.ih * v.di];
          const float *w = &p.w[r * v.ih];
          bad += checkRow(&logits[r * n], p, e, q, w, p.pos[r], v.fill, where + " b=" +
                          std::to_string(e) + " t=" + std::to_string(t));
          if (visibleOf(p.pos[r], n) > 0) {
            ++rows;
            decided += checkTopK(&logits[r * n], p, e, q, w, p.pos[r], 8, where);
          }
        }
      EXPECT_EQ(bad, 0) << where;
      EXPECT_GE(decided * 4, rows * 3) << where << ": too many near-ties to check top-k";
      expectTail(logits, size_t(b * s * n), where);
    }
  }
}

// ------------------------------------------------------ indexer_logits_decode ---

TEST(V4Indexer, DecodeLogitsAndTopK) {
  for (const Variant &v : kVariants) {
    if (!tlv4_test::available(v.module))
      continue;
    const int64_t b = 5, n = v.ih >= 64 ? 300 : 150;
    Problem p = makeProblem(b, 1, n, v.ih, v.di, uint32_t(99 + v.ih));
    // Nothing visible, one key, a compression boundary, all keys (pos past 4 N), arbitrary.
    p.pos = {0, 4, int32_t(4 * (n / 2) - 1), int32_t(4 * n + 9), int32_t(4 * (n / 3) + 2)};
    std::vector<float> logits(b * n + kTail, poison());
    tlv4_test::kernel(v.module, "indexer_logits_decode")
        .launch({Tensor(p.qq.data(), DType::Float8E4M3, {b, v.ih, v.di}),
                 Tensor(p.qs.data(), DType::Float32, {b, v.ih}),
                 Tensor(p.w.data(), DType::Float32, {b, v.ih}),
                 Tensor(p.k.data(), DType::Float8E4M3, {b, n, v.di}),
                 Tensor(p.ks.data(), DType::Float32, {b, n}),
                 Tensor(p.pos.data(), DType::Int32, {b}),
                 Tensor(logits.data(), DType::Float32, {b, n})});
    const std::string where = std::string(v.module) + " decode N=" + std::to_string(n);
    int bad = 0;
    for (int64_t e = 0; e < b; ++e) {
      const float *q = &p.qv[e * v.ih * v.di];
      const float *w = &p.w[e * v.ih];
      bad += checkRow(&logits[e * n], p, e, q, w, p.pos[e], v.fill,
                      where + " b=" + std::to_string(e));
      if (visibleOf(p.pos[e], n) > 0)
        checkTopK(&logits[e * n], p, e, q, w, p.pos[e], 16, where);
    }
    EXPECT_EQ(bad, 0) << where;
    expectTail(logits, size_t(b * n), where);
  }
}

// ------------------------------------------------------------------ end to end ---

// Raw index queries through indexer_q, then indexer_logits, against AttentionLayer::query's
// index queries scored by ref::indexerTopK.
TEST(V4Indexer, QueryThenLogitsSelectsReferenceTopK) {
  std::vector<float> cosT, sinT;
  const int64_t kPositions = 512;
  ropeTables(kPositions, cosT, sinT);
  for (const Variant &v : kVariants) {
    if (!tlv4_test::available(v.module))
      continue;
    const int64_t s = v.ih >= 64 ? 6 : 21, n = 100;
    std::mt19937 rng(4321 + uint32_t(v.ih));
    Problem p = makeProblem(1, s, n, v.ih, v.di, uint32_t(5 + v.ih));
    std::uniform_int_distribution<int32_t> up(0, kPositions - 1);
    for (auto &x : p.pos)
      x = up(rng);
    std::vector<float> raw = tlv4_test::uniform(s * v.ih * v.di, 77 + uint32_t(v.ih), -2, 2);
    tlv4_test::kernel(v.module, "indexer_q")
        .launch({Tensor(raw.data(), DType::Float32, {s, v.ih, v.di}),
                 Tensor(p.pos.data(), DType::Int32, {s}),
                 Tensor(cosT.data(), DType::Float32, {kPositions, kRopePairs}),
                 Tensor(sinT.data(), DType::Float32, {kPositions, kRopePairs}),
                 Tensor(p.qq.data(), DType::Float8E4M3, {s, v.ih, v.di}),
                 Tensor(p.qs.data(), DType::Float32, {s, v.ih})});
    // The reference's index queries.
    for (int64_t r = 0; r < s * v.ih; ++r) {
      float *x = &p.qv[r * v.di];
      std::copy_n(&raw[r * v.di], v.di, x);
      ref::applyRopeInPlace(x + v.di - 2 * kRopePairs, freqs(), p.pos[r / v.ih]);
      ref::hadamardInPlace(x, v.di);
      ref::fakeQuantFp4InPlace(x, v.di, kGroup);
    }
    std::vector<float> logits;
    runPrefill(v, p, logits);
    int decided = 0, rows = 0, bad = 0;
    const std::string where = std::string(v.module) + " end to end";
    for (int64_t t = 0; t < s; ++t) {
      const float *q = &p.qv[t * v.ih * v.di];
      const float *w = &p.w[t * v.ih];
      bad += checkRow(&logits[t * n], p, 0, q, w, p.pos[t], v.fill,
                      where + " t=" + std::to_string(t));
      if (visibleOf(p.pos[t], n) > 0) {
        ++rows;
        decided += checkTopK(&logits[t * n], p, 0, q, w, p.pos[t], 8, where);
      }
    }
    EXPECT_EQ(bad, 0) << where;
    EXPECT_GE(decided * 4, rows * 3) << where << ": too many near-ties to check top-k";
  }
}

} // namespace
