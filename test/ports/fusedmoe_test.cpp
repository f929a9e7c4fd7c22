// test/ports/kernels/fusedmoe.tl on the CPU target: a full MoE forward (shared
// expert + top-2 routed experts) against a double-precision reference computed
// per token straight from the routing, plus checks of every intermediate the
// kernels store. The host does what the original does in torch: the gate
// (softmax, top-k), the sort by expert, the padding tables and the final
// scatter-add.
//
// Tolerances, per element, with u the unit roundoff of dt (2^-11 for f16,
// 2^-8 for bf16). The inputs are dt values, used exactly by the reference.
// An intermediate h = silu(g) * up is computed in f32 and rounded to dt:
// |dh| <= u |h| + f32 error (relative ~1e-5 of sum |x||w|). A down projection
// y = w * (h . Wd) sees the rounded h (<= u |w| sum_j |h_j Wd_j|) and its own
// rounding (<= u |y| <= the same sum): 2u * sum plus f32 slack. The combined
// output adds the bounds of the shared and both routed paths.
#include "PortSupport.h"
#include "tlrt/LowPrecision.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

namespace {

using tlrt::DType;
using tlrt::Tensor;

constexpr int kTopK = 2;

struct Variant {
  const char *module;
  int bt; // block_token: the padding of each expert's rows
  DType dt;
};

struct Problem {
  const char *what;
  int n, h, f, nShared, e;
  std::vector<int> cold; // experts the gate never picks (no tokens)
  uint32_t seed;
  // Rows stacked by descending expert while the padded tiles stay in
  // ascending order: offsets are data, and a tile that stores rows past its
  // expert's then hits rows another tile stored earlier.
  bool reversed = false;
};

/// Values of one dtype: bits for the kernel, the exact floats for the reference.
struct Buf {
  std::vector<uint16_t> bits;
  std::vector<float> val;
};

uint16_t toBits(DType dt, float x) {
  return dt == DType::Float16 ? tlrt::f32ToF16(x) : tlrt::f32ToBF16(x);
}
float fromBits(DType dt, uint16_t b) {
  return dt == DType::Float16 ? tlrt::f16ToF32(b) : tlrt::bf16ToF32(b);
}

Buf randomBuf(DType dt, size_t n, uint32_t seed, float scale) {
  // Uniform with unit variance, times scale (the original draws randn / sqrt(fan)).
  std::vector<float> u = tlc_port::uniform(n, seed, -1.7320508f, 1.7320508f);
  Buf b;
  for (float x : u) {
    b.bits.push_back(toBits(dt, x * scale));
    b.val.push_back(fromBits(dt, b.bits.back()));
  }
  return b;
}

Buf poisoned(size_t n) {
  return {std::vector<uint16_t>(n, 0x7E5A), {}}; // a NaN in f16 and in bf16
}

double silu(double g) { return g / (1.0 + std::exp(-g)); }

/// Checks `got` (dt bits) against `ref` with per-element bounds `tol`.
void expectClose(const Variant &v, const std::string &where, const std::vector<uint16_t> &got,
                 const std::vector<double> &ref, const std::vector<double> &tol, int cols) {
  int bad = 0;
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    double g = fromBits(v.dt, got[i]);
    double r = std::fabs(g - ref[i]) / tol[i];
    worst = std::max(worst, std::isnan(r) ? INFINITY : r);
    if (!(r <= 1) && ++bad <= 5)
      ADD_FAILURE() << where << "[" << i / cols << ", " << i % cols << "] = " << g
                    << ", expected " << ref[i] << " +- " << tol[i];
  }
  EXPECT_EQ(bad, 0) << where;
  std::printf("[ errors   ] %-44s worst err/bound %.3f\n", where.c_str(), worst);
}

/// Expert MLP on one row: h (F), and the down projection's value and
/// magnitude sum_j |h_j Wd[i, j]| (H each). gate/up: (F, H), down: (H, F).
struct Mlp {
  std::vector<double> h, hTol, y, ySum;
};
Mlp mlp(const float *x, const float *gate, const float *up, const float *down, int hd, int fd,
        double u) {
  Mlp m{std::vector<double>(fd), std::vector<double>(fd), std::vector<double>(hd),
        std::vector<double>(hd)};
  for (int j = 0; j < fd; ++j) {
    double g = 0, p = 0, gAbs = 0, pAbs = 0;
    for (int k = 0; k < hd; ++k) {
      g += double(x[k]) * gate[j * hd + k];
      p += double(x[k]) * up[j * hd + k];
      gAbs += std::fabs(double(x[k]) * gate[j * hd + k]);
      pAbs += std::fabs(double(x[k]) * up[j * hd + k]);
    }
    m.h[j] = silu(g) * p;
    m.hTol[j] = 1.02 * u * std::fabs(m.h[j]) + 1e-5 * (1.1 * gAbs * std::fabs(p) + gAbs * pAbs) +
                1e-7;
  }
  for (int i = 0; i < hd; ++i)
    for (int j = 0; j < fd; ++j) {
      m.y[i] += m.h[j] * down[i * fd + j];
      m.ySum[i] += std::fabs(m.h[j] * down[i * fd + j]);
    }
  return m;
}

void runProblem(const Variant &v, const Problem &p) {
  const DType dt = v.dt;
  const double u = dt == DType::Float16 ? std::ldexp(1.0, -11) : std::ldexp(1.0, -8);
  const int n = p.n, hd = p.h, fd = p.f, fs = p.f * p.nShared, ne = p.e, s = n * kTopK;
  const std::string where = std::string(v.module) + " " + p.what;
  uint32_t seed = p.seed;

  // Inputs, scaled like the original's generate_input.
  Buf x = randomBuf(dt, size_t(n) * hd, seed++, 1.0f);
  Buf router = randomBuf(dt, size_t(ne) * hd, seed++, 1.0f / std::sqrt(float(hd)));
  Buf wGate = randomBuf(dt, size_t(ne) * fd * hd, seed++, 1.0f / std::sqrt(float(fd)));
  Buf wUp = randomBuf(dt, size_t(ne) * fd * hd, seed++, 1.0f / std::sqrt(float(fd)));
  Buf wDown = randomBuf(dt, size_t(ne) * hd * fd, seed++, 1.0f / std::sqrt(float(hd)));
  Buf sGate = randomBuf(dt, size_t(fs) * hd, seed++, 1.0f / std::sqrt(float(fs)));
  Buf sUp = randomBuf(dt, size_t(fs) * hd, seed++, 1.0f / std::sqrt(float(fs)));
  Buf sDown = randomBuf(dt, size_t(hd) * fs, seed++, 1.0f / std::sqrt(float(hd)));

  // Gate (host, as the original's torch MoEGate): softmax over the experts,
  // top-k; scores rounded to dt like torch's half softmax.
  std::vector<int> topIdx(s);
  std::vector<uint16_t> topW(s);
  for (int t = 0; t < n; ++t) {
    std::vector<double> logit(ne);
    for (int e = 0; e < ne; ++e) {
      for (int k = 0; k < hd; ++k)
        logit[e] += double(x.val[t * hd + k]) * router.val[e * hd + k];
      if (std::count(p.cold.begin(), p.cold.end(), e))
        logit[e] = -INFINITY;
    }
    double mx = *std::max_element(logit.begin(), logit.end()), den = 0;
    for (double l : logit)
      den += std::exp(l - mx);
    std::vector<int> order(ne);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logit[a] > logit[b]; });
    for (int k = 0; k < kTopK; ++k) {
      topIdx[t * kTopK + k] = order[k];
      topW[t * kTopK + k] = toBits(dt, float(std::exp(logit[order[k]] - mx) / den));
    }
  }

  // Grouping (host, as the original's MoE.forward): rows sorted by expert,
  // per-expert sizes and offsets, offsets padded to BT with at least one tile
  // per expert, and the expert of each padded row tile.
  auto rank = [&](int e) { return p.reversed ? ne - 1 - e : e; };
  std::vector<int> idxs(s);
  std::iota(idxs.begin(), idxs.end(), 0);
  std::stable_sort(idxs.begin(), idxs.end(),
                   [&](int a, int b) { return rank(topIdx[a]) < rank(topIdx[b]); });
  std::vector<int32_t> sizes(ne, 0), offsets(ne, 0), padded(ne, 0);
  for (int r : topIdx)
    ++sizes[r];
  for (int i = 1; i < ne; ++i) { // experts in stacking order
    int e = p.reversed ? ne - 1 - i : i, prev = p.reversed ? e + 1 : e - 1;
    offsets[e] = offsets[prev] + sizes[prev];
  }
  for (int e = 1; e < ne; ++e)
    padded[e] = padded[e - 1] + (sizes[e - 1] + 1 + v.bt - 1) / v.bt * v.bt;
  const int m = (s + v.bt - 1) / v.bt + ne;
  std::vector<int32_t> groupForBx(m, 0);
  for (int b = 0; b < m; ++b)
    for (int e = 0; e < ne; ++e)
      if (b * v.bt >= padded[e])
        groupForBx[b] = e;
  std::vector<uint16_t> stacked(size_t(s) * hd), stackedW(s);
  std::vector<int> tokenOf(s);
  for (int r = 0; r < s; ++r) {
    tokenOf[r] = idxs[r] / kTopK;
    std::copy_n(&x.bits[size_t(tokenOf[r]) * hd], hd, &stacked[size_t(r) * hd]);
    stackedW[r] = topW[idxs[r]];
  }
  int empty = 0;
  for (int e = 0; e < ne; ++e)
    empty += sizes[e] == 0;
  ASSERT_GE(empty, int(p.cold.size())) << where;

  // The four launches of the manifest's sequence.
  Buf sH = poisoned(size_t(n) * fs), sOut = poisoned(size_t(n) * hd);
  Buf rH = poisoned(size_t(s) * fd), rOut = poisoned(size_t(s) * hd);
  auto T = [&](void *d, std::vector<int64_t> shape, DType t) { return Tensor(d, t, shape); };
  std::vector<tlrt::Arg> sharedArgs = {
      T(x.bits.data(), {n, hd}, dt),      T(sGate.bits.data(), {fs, hd}, dt),
      T(sUp.bits.data(), {fs, hd}, dt),   T(sDown.bits.data(), {hd, fs}, dt),
      T(sH.bits.data(), {n, fs}, dt),     T(sOut.bits.data(), {n, hd}, dt)};
  std::vector<tlrt::Arg> routedArgs = {
      T(stacked.data(), {s, hd}, dt),
      T(wGate.bits.data(), {ne, fd, hd}, dt),
      T(wUp.bits.data(), {ne, fd, hd}, dt),
      T(wDown.bits.data(), {ne, hd, fd}, dt),
      T(stackedW.data(), {s}, dt),
      T(sizes.data(), {ne}, DType::Int32),
      T(offsets.data(), {ne}, DType::Int32),
      T(padded.data(), {ne}, DType::Int32),
      T(groupForBx.data(), {m}, DType::Int32),
      T(rH.bits.data(), {s, fd}, dt),
      T(rOut.bits.data(), {s, hd}, dt)};
  tlc_port::kernel(v.module, "moe_shared").launch(sharedArgs);
  tlc_port::kernel(v.module, "moe_shared_1").launch(sharedArgs);
  tlc_port::kernel(v.module, "moe_routed").launch(routedArgs);
  tlc_port::kernel(v.module, "moe_routed_1").launch(routedArgs);

  // Reference, per token: the shared expert and each of its top-k experts.
  std::vector<double> sHRef, sHTol, sOutRef, sOutTol;
  std::vector<double> rHRef(size_t(s) * fd), rHTol(size_t(s) * fd), rOutRef(size_t(s) * hd),
      rOutTol(size_t(s) * hd);
  std::vector<double> yRef(size_t(n) * hd), yTol(size_t(n) * hd);
  std::vector<int> rowOf(s); // flat (token, k) -> its row in the sorted order
  for (int r = 0; r < s; ++r)
    rowOf[idxs[r]] = r;
  const double fslack = 1e-5;
  for (int t = 0; t < n; ++t) {
    const float *xt = &x.val[size_t(t) * hd];
    Mlp sm = mlp(xt, sGate.val.data(), sUp.val.data(), sDown.val.data(), hd, fs, u);
    sHRef.insert(sHRef.end(), sm.h.begin(), sm.h.end());
    sHTol.insert(sHTol.end(), sm.hTol.begin(), sm.hTol.end());
    for (int i = 0; i < hd; ++i) {
      double tol = (2.02 * u + fslack) * sm.ySum[i] + 1e-6;
      sOutRef.push_back(sm.y[i]);
      sOutTol.push_back(tol);
      yRef[size_t(t) * hd + i] = sm.y[i];
      yTol[size_t(t) * hd + i] = tol;
    }
    for (int k = 0; k < kTopK; ++k) {
      int e = topIdx[t * kTopK + k], r = rowOf[t * kTopK + k];
      double w = fromBits(dt, topW[t * kTopK + k]);
      Mlp em = mlp(xt, &wGate.val[size_t(e) * fd * hd], &wUp.val[size_t(e) * fd * hd],
                   &wDown.val[size_t(e) * hd * fd], hd, fd, u);
      std::copy(em.h.begin(), em.h.end(), &rHRef[size_t(r) * fd]);
      std::copy(em.hTol.begin(), em.hTol.end(), &rHTol[size_t(r) * fd]);
      for (int i = 0; i < hd; ++i) {
        double tol = (2.02 * u + fslack) * std::fabs(w) * em.ySum[i] + 1e-6;
        rOutRef[size_t(r) * hd + i] = w * em.y[i];
        rOutTol[size_t(r) * hd + i] = tol;
        yRef[size_t(t) * hd + i] += w * em.y[i];
        yTol[size_t(t) * hd + i] += tol;
      }
    }
  }
  expectClose(v, where + " shared_up_logits", sH.bits, sHRef, sHTol, fs);
  expectClose(v, where + " shared_output", sOut.bits, sOutRef, sOutTol, hd);
  expectClose(v, where + " routed_up_logits", rH.bits, rHRef, rHTol, fd);
  expectClose(v, where + " routed_output", rOut.bits, rOutRef, rOutTol, hd);

  // The original's scatter-add of routed rows onto their tokens plus the
  // shared output, here in f32, against the per-token reference.
  std::vector<float> y(size_t(n) * hd);
  for (int t = 0; t < n; ++t)
    for (int i = 0; i < hd; ++i)
      y[size_t(t) * hd + i] = fromBits(dt, sOut.bits[size_t(t) * hd + i]);
  for (int r = 0; r < s; ++r)
    for (int i = 0; i < hd; ++i)
      y[size_t(tokenOf[r]) * hd + i] += fromBits(dt, rOut.bits[size_t(r) * hd + i]);
  int bad = 0;
  for (size_t i = 0; i < y.size(); ++i)
    if (!(std::fabs(y[i] - yRef[i]) <= yTol[i]) && ++bad <= 5)
      ADD_FAILURE() << where << " moe output[" << i / hd << ", " << i % hd << "] = " << y[i]
                    << ", expected " << yRef[i] << " +- " << yTol[i];
  EXPECT_EQ(bad, 0) << where;
  std::printf("[ routing  ] %-44s S=%d M=%d empty experts=%d\n", where.c_str(), s, m, empty);
}

/// Ragged token counts (no multiple of any BT), d_hidden / d_expert both on
/// and off the tiles, 4 to 8 experts, cold experts (no tokens at all) and
/// experts left empty by the gate, several tiles per expert.
const std::vector<Problem> &problems() {
  static const std::vector<Problem> ps = {
      {"N=100 H=192 F=96 E=8", 100, 192, 96, 1, 8, {2, 5}, 11},
      {"N=37 H=128 F=64 FS=128 E=4", 37, 128, 64, 2, 4, {3}, 23},
      {"N=261 H=256 F=128 E=6", 261, 256, 128, 1, 6, {0}, 37},
      {"N=3 H=136 F=72 E=8", 3, 136, 72, 1, 8, {}, 41},
      {"N=150 H=160 F=80 E=4 reversed rows", 150, 160, 80, 1, 4, {1}, 53, true},
  };
  return ps;
}

void runVariant(const Variant &v) {
  for (const Problem &p : problems())
    runProblem(v, p);
}

TEST(PortFusedMoe, DefaultTilesF16) { runVariant({"fusedmoe", 128, DType::Float16}); }
TEST(PortFusedMoe, SmallTilesF16) { runVariant({"fusedmoe_small", 16, DType::Float16}); }
TEST(PortFusedMoe, SmallTilesBF16Stages2) { runVariant({"fusedmoe_bf16", 32, DType::BFloat16}); }

} // namespace
