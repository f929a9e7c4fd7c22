// Tests of the V4 reference model: on a random tiny checkpoint written in the
// official format, decode reproduces prefill (window ring wrap, CSA top-k,
// HCA entries, compressor running state); on random in-memory weights of the
// same shapes, causality, determinism and MTP.
#include "ReferenceTestUtil.h"
#include "tlv4/Checkpoint.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

using namespace tlv4;
using tlv4::ref::ModelState;
using tlv4::ref::Stream;
using tlv4::ref::Vec;

namespace {

std::vector<int32_t> tokens(int64_t n, uint32_t seed = 1) {
  std::vector<int32_t> ids;
  uint32_t s = seed;
  for (int64_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    ids.push_back(int32_t((s >> 8) % 1024));
  }
  return ids;
}

// max |a - b| / max(1, max |b|)
double relativeError(const Vec &a, const Vec &b) {
  double maxDiff = 0, maxRef = 1;
  for (size_t i = 0; i < a.size(); ++i) {
    maxDiff = std::max(maxDiff, double(std::fabs(a[i] - b[i])));
    maxRef = std::max(maxRef, double(std::fabs(b[i])));
  }
  return maxDiff / maxRef;
}

} // namespace

TEST(ReferenceModel, PrefillShapesAndFinite) {
  const auto &model = reftest::tinyModel();
  auto start = std::chrono::steady_clock::now();
  std::vector<Vec> logits = model.forward(tokens(24));
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(logits.size(), 24u);
  for (const Vec &l : logits) {
    ASSERT_EQ(int64_t(l.size()), model.config().vocabSize);
    for (float v : l)
      ASSERT_TRUE(std::isfinite(v));
  }
  RecordProperty("forward24_ms", std::to_string(ms));
}

TEST(ReferenceModel, DecodeMatchesPrefillOnTinyCheckpoint) {
  const auto &model = reftest::tinyCheckpointModel();
  // 136 tokens: the window ring (16) wraps many times, the CSA layer has 34
  // compressed entries (more than index_topk = 8, so the indexer really
  // selects) and the HCA layer (ratio 128) emits its first entry.
  const std::vector<int32_t> ids = tokens(136);
  ModelState full = model.newState();
  std::vector<Vec> expected = model.prefill(full, ids);
  // Split 0: decode from an empty state, no prefill at all.
  for (int64_t split : {0, 1, 7, 130}) {
    ModelState state = model.newState();
    std::vector<int32_t> prompt(ids.begin(), ids.begin() + split);
    std::vector<Vec> got;
    if (split > 0)
      got = model.prefill(state, prompt);
    for (int64_t t = split; t < int64_t(ids.size()); ++t)
      got.push_back(model.decode(state, ids[t]));
    ASSERT_EQ(got.size(), expected.size());
    for (size_t t = 0; t < got.size(); ++t)
      ASSERT_LE(relativeError(got[t], expected[t]), 1e-4)
          << "split " << split << ", position " << t;
  }
  for (const Vec &l : expected)
    for (float v : l)
      ASSERT_TRUE(std::isfinite(v));

  // The checkpoint source marks FP8/FP4-stored weights, and only those, as
  // quantised (they get per-token FP8 activations).
  auto checkpoint = std::make_shared<Checkpoint>(
      Checkpoint::open(reftest::tinyCheckpointDir()));
  ref::CheckpointWeightSource source(checkpoint);
  EXPECT_TRUE(source.get("layers.0.attn.wq_a.weight").quantized);
  EXPECT_TRUE(source.get("layers.1.ffn.experts.3.w2.weight").quantized);
  EXPECT_FALSE(source.get("layers.0.attn_norm.weight").quantized);
  EXPECT_FALSE(source.get("layers.1.attn.compressor.wkv.weight").quantized);
  EXPECT_FALSE(source.get("head.weight").quantized);
}

TEST(ReferenceModel, Bf16CheckpointRunsWithoutActivationQuant) {
  // A checkpoint without quantization_config stores every linear in bf16.
  Config c = Config::tiny();
  c.quantization.reset();
  reftest::TempDir dir;
  writeTinyCheckpoint(c, dir.path(), /*seed=*/3, /*numShards=*/1);
  auto checkpoint = std::make_shared<Checkpoint>(Checkpoint::open(dir.path()));
  auto source = std::make_shared<ref::CheckpointWeightSource>(checkpoint);
  EXPECT_FALSE(source->get("layers.0.attn.wq_a.weight").quantized);
  ref::ReferenceModel model(source);
  std::vector<Vec> logits = model.forward(tokens(6));
  ASSERT_EQ(logits.size(), 6u);
  for (float v : logits.back())
    ASSERT_TRUE(std::isfinite(v));
}

TEST(ReferenceModel, CausalLaterTokensDoNotChangeEarlierLogits) {
  const auto &model = reftest::tinyModel();
  std::vector<int32_t> a = tokens(40), b = a;
  b[25] = (b[25] + 1) % 1024;
  std::vector<Vec> la = model.forward(a), lb = model.forward(b);
  for (size_t t = 0; t < 25; ++t)
    EXPECT_EQ(la[t], lb[t]) << "position " << t;
  EXPECT_NE(la[25], lb[25]);
  EXPECT_NE(la[39], lb[39]);
}

TEST(ReferenceModel, Deterministic) {
  const auto &model = reftest::tinyModel();
  std::vector<int32_t> ids = tokens(20, 5);
  EXPECT_EQ(model.forward(ids), model.forward(ids));
}

TEST(ReferenceModel, MtpDecodeMatchesMtpPrefill) {
  const auto &model = reftest::tinyModel();
  ASSERT_GE(model.config().numNextnPredictLayers, 1);
  const std::vector<int32_t> ids = tokens(30, 9);
  ModelState state = model.newState();
  std::vector<Stream> hidden;
  model.prefill(state, ids, &hidden);
  // MTP position t: hidden of t and token t + 1.
  std::vector<Stream> h(hidden.begin(), hidden.end() - 1);
  std::vector<int32_t> next(ids.begin() + 1, ids.end());
  std::vector<Vec> expected = model.mtpPrefill(state, h, next);
  ModelState inc = model.newState();
  const int64_t split = 11;
  std::vector<Vec> got = model.mtpPrefill(
      inc, std::vector<Stream>(h.begin(), h.begin() + split),
      std::vector<int32_t>(next.begin(), next.begin() + split));
  for (size_t t = split; t < h.size(); ++t)
    got.push_back(model.mtpDecode(inc, h[t], next[t]));
  ASSERT_EQ(got.size(), expected.size());
  for (size_t t = 0; t < got.size(); ++t)
    ASSERT_LE(relativeError(got[t], expected[t]), 1e-4) << "position " << t;
  for (float v : expected.back())
    ASSERT_TRUE(std::isfinite(v));
}

TEST(ReferenceModel, RejectsOutOfVocabularyToken) {
  const auto &model = reftest::tinyModel();
  EXPECT_THROW(model.forward({1, 5000}), std::runtime_error);
}
