// mHC (models/deepseek_v4/kernels/hc.tl) on the CPU target against ReferenceHC.cpp: hc_pre's
// sub-layer input, post weights and Sinkhorn comb matrix against ref::hcPre; hc_post's new
// stream against ref::hcPost fed the same split; hc_head against ref::hcHead. The kernels sum
// the mixes in another order than the reference (which adds the squares in double), and
// sigmoid / exp are each target's, so values match to f32 rounding (relative 1e-5 of the
// output's scale); comb's columns sum to 1 (Sinkhorn's last step), its rows nearly.
#include "V4KernelSupport.h"

#include "tlv4/ReferenceHC.h"

#include <algorithm>
#include <cmath>

namespace {

using tlrt::DType;
using tlrt::Tensor;
using tlv4_test::kernel;
namespace ref = tlv4::ref;

double maxAbs(const std::vector<float> &v) {
  double m = 0;
  for (float x : v)
    m = std::max(m, double(std::fabs(x)));
  return m;
}

void expectClose(const std::vector<float> &got, const std::vector<float> &want, double rel,
                 const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const double tol = rel * std::max(1.0, maxAbs(want));
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(double(got[i]) - double(want[i])) <= tol) && bad++ < 8)
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
}

struct HcCase {
  const char *module;
  int64_t d;
};

void runHc(const HcCase &c, int64_t n, uint32_t seed) {
  if (!tlv4_test::available(c.module))
    return;
  tlv4::Config cfg = tlv4::Config::tiny();
  const int64_t hc = cfg.hcMult, d = c.d, w = hc * d, mixN = (2 + hc) * hc;
  ASSERT_EQ(cfg.hcMixes(), mixN);
  std::vector<float> h = tlv4_test::uniform(n * w, seed, -2, 2);
  // Copies of different scales, as a trained stream has.
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < hc; ++i)
      for (int64_t k = 0; k < d; ++k)
        h[t * w + i * d + k] *= 0.5f + float(i);
  ref::HcWeights wts;
  wts.fn = tlv4_test::uniform(mixN * w, seed + 1, -3.0f / std::sqrt(float(w)), 3.0f / std::sqrt(float(w)));
  wts.scale = tlv4_test::uniform(3, seed + 2, 0.5f, 1.5f);
  wts.base = tlv4_test::uniform(mixN, seed + 3, -1, 1);
  std::vector<float> x(n * d, -5.0f), post(n * hc, -5.0f), comb(n * hc * hc, -5.0f);
  kernel(c.module, "hc_pre")
      .launch({Tensor(h.data(), DType::Float32, {n, w}),
               Tensor(wts.fn.data(), DType::Float32, {mixN, w}),
               Tensor(wts.scale.data(), DType::Float32, {3}),
               Tensor(wts.base.data(), DType::Float32, {mixN}),
               Tensor(x.data(), DType::Float32, {n, d}),
               Tensor(post.data(), DType::Float32, {n, hc}),
               Tensor(comb.data(), DType::Float32, {n, hc, hc})});
  std::vector<float> y = tlv4_test::uniform(n * d, seed + 4, -3, 3);
  std::vector<float> hn(n * w, -5.0f);
  kernel(c.module, "hc_post")
      .launch({Tensor(h.data(), DType::Float32, {n, w}),
               Tensor(y.data(), DType::Float32, {n, d}),
               Tensor(post.data(), DType::Float32, {n, hc}),
               Tensor(comb.data(), DType::Float32, {n, hc, hc}),
               Tensor(hn.data(), DType::Float32, {n, w})});
  ref::HcHeadWeights head;
  head.fn = tlv4_test::uniform(hc * w, seed + 5, -3.0f / std::sqrt(float(w)), 3.0f / std::sqrt(float(w)));
  head.scale = tlv4_test::uniform(1, seed + 6, 0.5f, 1.5f);
  head.base = tlv4_test::uniform(hc, seed + 7, -1, 1);
  std::vector<float> xh(n * d, -5.0f);
  kernel(c.module, "hc_head")
      .launch({Tensor(h.data(), DType::Float32, {n, w}),
               Tensor(head.fn.data(), DType::Float32, {hc, w}),
               Tensor(head.scale.data(), DType::Float32, {1}),
               Tensor(head.base.data(), DType::Float32, {hc}),
               Tensor(xh.data(), DType::Float32, {n, d})});
  bool combFar = false;
  for (int64_t t = 0; t < n; ++t) {
    const std::string at = std::string(c.module) + " token " + std::to_string(t);
    ref::Stream s(h.begin() + t * w, h.begin() + (t + 1) * w);
    ref::HcPreResult r = ref::hcPre(s, wts, cfg);
    expectClose(std::vector<float>(x.begin() + t * d, x.begin() + (t + 1) * d), r.x, 1e-5,
                at + " x");
    expectClose(std::vector<float>(post.begin() + t * hc, post.begin() + (t + 1) * hc),
                r.split.post, 1e-5, at + " post");
    std::vector<float> ct(comb.begin() + t * hc * hc, comb.begin() + (t + 1) * hc * hc);
    expectClose(ct, r.split.comb, 1e-5, at + " comb");
    // Sinkhorn ends on a column normalisation: columns sum to 1, rows nearly (20 rounds do
    // not converge fully); and the matrix is not uniform by accident.
    for (int64_t i = 0; i < hc; ++i) {
      double row = 0, col = 0;
      for (int64_t j = 0; j < hc; ++j) {
        row += ct[i * hc + j];
        col += ct[j * hc + i];
        combFar |= std::fabs(ct[i * hc + j] - 1.0 / hc) > 0.05;
      }
      EXPECT_NEAR(row, 1.0, 0.02) << at;
      EXPECT_NEAR(col, 1.0, 1e-4) << at;
    }
    // hc_post with the kernel's own split (what the model chains), against the reference.
    ref::HcSplit split;
    split.pre = r.split.pre;
    split.post.assign(post.begin() + t * hc, post.begin() + (t + 1) * hc);
    split.comb = ct;
    ref::Stream want = ref::hcPost(s, ref::Vec(y.begin() + t * d, y.begin() + (t + 1) * d),
                                   split, hc);
    expectClose(std::vector<float>(hn.begin() + t * w, hn.begin() + (t + 1) * w), want, 1e-6,
                at + " hc_post");
    expectClose(std::vector<float>(xh.begin() + t * d, xh.begin() + (t + 1) * d),
                ref::hcHead(s, head, cfg), 1e-5, at + " hc_head");
  }
  EXPECT_TRUE(combFar) << "every comb matrix came out uniform: the test data is too tame";
}

TEST(V4Hc, TinyHidden) { runHc({"hc_tiny", 256}, 5, 1); }
TEST(V4Hc, TinyHiddenSmallChunks) { runHc({"hc_tiny_ch64", 256}, 3, 2); }
TEST(V4Hc, FlashHidden) { runHc({"hc_v4", 4096}, 2, 3); }

} // namespace
