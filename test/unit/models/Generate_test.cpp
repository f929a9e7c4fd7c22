// Tests of sampling (greedy, temperature + top-p, per-seed determinism)
// and of the generation loop on the tiny reference model.
#include "ReferenceTestUtil.h"
#include "tlv4/Generate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

using namespace tlv4;

TEST(Generate, ArgmaxPrefersTheLowestIdOnTies) {
  EXPECT_EQ(argmaxToken({1, 3, 3, 2}), 1);
  EXPECT_THROW(argmaxToken({}), std::runtime_error);
}

TEST(Generate, GumbelTokenIsTheOfficialTemperatureSampling) {
  // Temperature 0 is greedy; the noise is in (0, 1) and depends on the seed and the counter.
  std::vector<float> logits = {0.5f, 3.0f, 3.0f, -1.0f};
  EXPECT_EQ(gumbelToken(logits, 0.0f, 9), 1);
  for (uint32_t i = 0; i < 1000; ++i) {
    const float u = gumbelUniform(7, i);
    ASSERT_GT(u, 0.0f);
    ASSERT_LT(u, 1.0f);
  }
  EXPECT_NE(gumbelHash(7, 1), gumbelHash(8, 1));
  EXPECT_NE(gumbelHash(7, 1), gumbelHash(7, 2));
  // A dominant logit wins at a low temperature; a high temperature spreads the picks.
  std::vector<int> seen(4, 0);
  for (uint32_t s = 0; s < 400; ++s) {
    EXPECT_EQ(gumbelToken({0.0f, 10.0f, 0.0f, 0.0f}, 0.1f, s), 1);
    ++seen[gumbelToken(logits, 5.0f, s)];
  }
  for (int c : seen)
    EXPECT_GT(c, 20);
}

TEST(Generate, GumbelSamplerDrawsOneSeedPerStep) {
  // The sampler's Gumbel mode is gumbelToken with the seed of each step taken from the run's
  // splitmix64 stream: reproducible per seed, and what a device sampler fed those seeds picks.
  SamplingOptions o;
  o.temperature = 0.9;
  o.seed = 42;
  o.method = SamplingMethod::Gumbel;
  Sampler a(o), b(o), seeds(o);
  std::vector<float> logits = {0.1f, 0.4f, -0.2f, 0.3f, 0.0f, 0.25f};
  std::set<int32_t> seen;
  for (int step = 0; step < 64; ++step) {
    const int32_t t = a.sample(logits);
    EXPECT_EQ(t, b.sample(logits)) << step;
    EXPECT_EQ(t, gumbelToken(logits, 0.9f, seeds.nextGumbelSeed())) << step;
    seen.insert(t);
  }
  EXPECT_GT(seen.size(), 3u); // it samples, it is not greedy
  // With top-p the draw is restricted to the nucleus (gumbelTopPToken, as the device does).
  o.topP = 0.5;
  Sampler c(o), cseeds(o);
  for (int step = 0; step < 64; ++step) {
    const int32_t t = c.sample(logits);
    EXPECT_EQ(t, gumbelTopPToken(logits, 0.9f, 0.5f, cseeds.nextGumbelSeed())) << step;
    EXPECT_TRUE(t == 1 || t == 3 || t == 5) << t; // the best three hold half the mass
  }
}

TEST(Generate, NucleusKeepsTheSmallestSetReachingTopP) {
  SamplingOptions o;
  o.temperature = 1.0;
  o.topP = 0.7;
  Sampler s(o);
  auto kept = s.nucleus({std::log(0.2f), std::log(0.5f), std::log(0.3f)});
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].first, 1);
  EXPECT_EQ(kept[1].first, 2);
  EXPECT_NEAR(kept[0].second, 0.625, 1e-6);
  EXPECT_NEAR(kept[1].second, 0.375, 1e-6);
}

TEST(Generate, SamplingIsDeterministicPerSeed) {
  std::vector<float> logits = {0.1f, 0.5f, 0.2f, 0.4f, 0.3f};
  SamplingOptions o;
  o.temperature = 1.0;
  o.topP = 1.0;
  o.seed = 42;
  Sampler a(o), b(o);
  std::set<int32_t> seen;
  for (int i = 0; i < 50; ++i) {
    int32_t x = a.sample(logits);
    EXPECT_EQ(x, b.sample(logits));
    seen.insert(x);
  }
  EXPECT_GT(seen.size(), 2u);
  o.temperature = 0.0; // greedy
  Sampler g(o);
  EXPECT_EQ(g.sample(logits), 1);
}

TEST(Generate, RejectsBadOptions) {
  SamplingOptions o;
  o.temperature = -1;
  EXPECT_THROW(Sampler{o}, std::runtime_error);
  o.temperature = 1;
  o.topP = 0;
  EXPECT_THROW(Sampler{o}, std::runtime_error);
}

TEST(Generate, GreedyTokensAreTheArgmaxOfTheFullForward) {
  const auto &model = reftest::tinyModel();
  std::vector<int32_t> prompt = {3, 14, 15, 92, 65};
  GenerateOptions o;
  o.maxNewTokens = 6;
  std::vector<int32_t> streamed;
  GenerateResult r =
      generate(model, prompt, o, [&](int32_t t) { streamed.push_back(t); });
  ASSERT_EQ(r.tokens.size(), 6u);
  EXPECT_EQ(streamed, r.tokens);
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), r.tokens.begin(), r.tokens.end());
  std::vector<std::vector<float>> logits = model.forward(all);
  for (size_t i = 0; i < r.tokens.size(); ++i)
    EXPECT_EQ(argmaxToken(logits[prompt.size() - 1 + i]), r.tokens[i]);
  // Same seed, same sampled tokens; stop at EOS.
  o.sampling.temperature = 0.8;
  o.sampling.topP = 0.9;
  o.sampling.seed = 3;
  EXPECT_EQ(generate(model, prompt, o).tokens, generate(model, prompt, o).tokens);
  o.eosId = generate(model, prompt, o).tokens[1];
  GenerateResult stopped = generate(model, prompt, o);
  EXPECT_TRUE(stopped.stoppedAtEos);
  EXPECT_LE(stopped.tokens.size(), 2u);
}

TEST(Generate, VocabLimitRestrictsSampledIds) {
  const auto &model = reftest::tinyModel();
  GenerateOptions o;
  o.maxNewTokens = 8;
  o.vocabLimit = 10;
  o.sampling.temperature = 1.0;
  o.sampling.seed = 11;
  for (int32_t t : generate(model, {1, 2, 3}, o).tokens)
    EXPECT_LT(t, 10);
}
