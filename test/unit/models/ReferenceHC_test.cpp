// Unit tests of the reference mHC: Sinkhorn-Knopp split, pre, post, head.
#include "tlv4/Config.h"
#include "tlv4/ReferenceHC.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace tlv4;
using namespace tlv4::ref;

TEST(ReferenceHC, SinkhornMakesRowsAndColumnsSumToOne) {
  const int64_t hc = 4;
  Vec mixes(24), base(24);
  for (int i = 0; i < 24; ++i) {
    mixes[i] = std::sin(1.7f * i) * 3;
    base[i] = std::cos(0.9f * i);
  }
  HcSplit s = hcSplitSinkhorn(mixes, {0.5f, 0.7f, 1.3f}, base, hc, 20, 1e-6f);
  for (int64_t i = 0; i < hc; ++i) {
    float row = 0, col = 0;
    for (int64_t j = 0; j < hc; ++j) {
      row += s.comb[i * hc + j];
      col += s.comb[j * hc + i];
      EXPECT_GT(s.comb[i * hc + j], 0.0f);
    }
    EXPECT_NEAR(row, 1.0f, 1e-3);
    EXPECT_NEAR(col, 1.0f, 1e-5); // the last normalisation is by column
    EXPECT_GT(s.pre[i], 0.0f);
    EXPECT_LT(s.pre[i], 1.0f + 1e-5f);
    EXPECT_GT(s.post[i], 0.0f);
    EXPECT_LT(s.post[i], 2.0f);
  }
}

TEST(ReferenceHC, SplitHandValues) {
  // Zero mixes and bases: pre = sigmoid(0) + eps, post = 2 sigmoid(0) = 1,
  // comb uniform 1/4.
  HcSplit s = hcSplitSinkhorn(Vec(24, 0.0f), {1, 1, 1}, Vec(24, 0.0f), 4, 20,
                              1e-6f);
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(s.pre[i], 0.5f + 1e-6f, 1e-7);
    EXPECT_FLOAT_EQ(s.post[i], 1.0f);
  }
  for (float c : s.comb)
    EXPECT_NEAR(c, 0.25f, 1e-6);
  // post uses scale[1] and base[4:8].
  Vec base(24, 0.0f);
  base[4] = 100;
  s = hcSplitSinkhorn(Vec(24, 0.0f), {1, 1, 1}, base, 4, 1, 0.0f);
  EXPECT_FLOAT_EQ(s.post[0], 2.0f);
  EXPECT_THROW(hcSplitSinkhorn(Vec(23), {1, 1, 1}, Vec(24), 4, 1, 0.0f),
               std::runtime_error);
}

TEST(ReferenceHC, PostMixesOldCopiesByComb) {
  HcSplit s;
  s.post = {1.0f, 0.5f};
  s.comb = {1.0f, 0.0f, 0.25f, 0.75f}; // comb[i][j]: copy i into copy j
  Stream out = hcPost({1.0f, 2.0f}, {3.0f}, s, 2);
  EXPECT_FLOAT_EQ(out[0], 3.0f + 1.0f + 0.5f);
  EXPECT_FLOAT_EQ(out[1], 1.5f + 1.5f);
}

TEST(ReferenceHC, PreAndHeadWeightCopies) {
  Config c = Config::tiny();
  c.hcMult = 2;
  const int64_t d = c.hiddenSize;
  Stream stream(2 * d);
  for (int64_t k = 0; k < d; ++k) {
    stream[k] = 1.0f;
    stream[d + k] = 3.0f;
  }
  // fn = 0: mixes 0, so pre = sigmoid(base) + eps.
  HcWeights w;
  w.fn.assign(c.hcMixes() * c.hcDim(), 0.0f);
  w.base.assign(c.hcMixes(), 0.0f);
  w.base[1] = 100.0f; // pre[1] ~ 1
  w.scale = {1, 1, 1};
  HcPreResult r = hcPre(stream, w, c);
  EXPECT_NEAR(r.x[0], 0.5f * 1 + 1.0f * 3, 1e-4);
  HcHeadWeights h;
  h.fn.assign(2 * c.hcDim(), 0.0f);
  h.base = {100.0f, -100.0f};
  h.scale = {1};
  Vec x = hcHead(stream, h, c);
  EXPECT_NEAR(x[d - 1], 1.0f, 1e-4);
}

TEST(ReferenceHC, MixesAreScaledByStreamRms) {
  Stream s = {2, 2, 2, 2}; // rms 2
  Vec fn = {1, 0, 0, 0, 1, 1, 1, 1};
  Vec m = hcMixes(fn, 2, s, 0.0f);
  EXPECT_FLOAT_EQ(m[0], 1.0f);
  EXPECT_FLOAT_EQ(m[1], 4.0f);
}
