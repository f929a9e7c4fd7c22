// Unit tests of the reference attention pieces: sink semantics of the
// sparse attention, compressor pooling with and without overlap on hand
// examples, the indexer's top-k, and the layer's selection rules on the
// tiny checkpoint.
#include "ReferenceTestUtil.h"
#include "tlv4/ReferenceAttention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace tlv4;
using namespace tlv4::ref;

TEST(ReferenceAttention, SinkJoinsOnlyTheDenominator) {
  // Head 0: one entry with score s = 2 and sink 0.5 -> p = e^2 / (e^2 + e^.5).
  // Head 1: sink -inf -> plain softmax, p = 1.
  Vec kv = {1, 0};
  Vec q = {2, 0, 2, 0};
  float inf = std::numeric_limits<float>::infinity();
  Vec o = sparseAttention(q, 2, 2, {&kv}, {0.5f, -inf}, 1.0f);
  float p = std::exp(2.0f) / (std::exp(2.0f) + std::exp(0.5f));
  EXPECT_NEAR(o[0], p, 1e-6);
  EXPECT_FLOAT_EQ(o[1], 0.0f);
  EXPECT_NEAR(o[2], 1.0f, 1e-6);
  // Two equal entries share the mass; the sink still takes its part.
  Vec kv2 = {0, 1};
  o = sparseAttention({0, 0}, 1, 2, {&kv, &kv2}, {0.0f}, 1.0f);
  EXPECT_NEAR(o[0], 1.0f / 3, 1e-6);
  EXPECT_NEAR(o[1], 1.0f / 3, 1e-6);
  // No entries: the output is zero.
  o = sparseAttention({1, 1}, 1, 2, {}, {0.0f}, 1.0f);
  EXPECT_EQ(o, Vec({0, 0}));
}

namespace {
// A compressor of headDim 1 with ratio 2; rows built by hand.
CompressorWeights tinyCompressor(int64_t overlap) {
  CompressorWeights w;
  w.ratio = 2;
  w.overlap = overlap;
  w.headDim = 1;
  return w;
}
CompressorRow row(Vec kv, Vec score) { return {std::move(kv), std::move(score)}; }
} // namespace

TEST(ReferenceAttention, CompressorPoolingWithOverlap) {
  CompressorWeights w = tinyCompressor(2);
  // Previous group contributes channel half A (index 0), the current group
  // half B (index 1). Scores [0, 0, ln 2, 0] -> weights [1, 1, 2, 1] / 5.
  std::vector<CompressorRow> prev = {row({1, 100}, {0, 9}), row({2, 100}, {0, 9})};
  std::vector<CompressorRow> cur = {row({100, 4}, {9, std::log(2.0f)}),
                                    row({100, 8}, {9, 0})};
  Vec e = compressorPool(w, &prev, cur);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NEAR(e[0], (1 + 2 + 2 * 4 + 8) / 5.0f, 1e-5);
  // First group: the previous half is empty (score -inf).
  e = compressorPool(w, nullptr, cur);
  EXPECT_NEAR(e[0], (2 * 4 + 8) / 3.0f, 1e-5);
  EXPECT_THROW(compressorPool(w, nullptr, {cur[0]}), std::runtime_error);
}

TEST(ReferenceAttention, CompressorPoolingWithoutOverlap) {
  CompressorWeights w = tinyCompressor(1);
  std::vector<CompressorRow> cur = {row({3}, {std::log(3.0f)}), row({7}, {0})};
  EXPECT_NEAR(compressorPool(w, nullptr, cur)[0], (3 * 3 + 7) / 4.0f, 1e-5);
}

TEST(ReferenceAttention, CompressorProjectAddsApeByPositionInGroup) {
  CompressorWeights w = tinyCompressor(1);
  w.wkv = {"wkv", 1, 1, {2.0f}, false};
  w.wgate = {"wgate", 1, 1, {1.0f}, false};
  w.ape = {10.0f, 20.0f};
  CompressorRow r = compressorProject(w, {3.0f}, 5); // 5 % 2 = 1
  EXPECT_FLOAT_EQ(r.kv[0], 6.0f);
  EXPECT_FLOAT_EQ(r.score[0], 23.0f);
}

TEST(ReferenceAttention, IndexerTopKWeighsReluScores) {
  Vec q = {1, 0, 0, 1}; // two heads of dim 2
  Vec weights = {1, 2};
  std::vector<Vec> keys = {{1, 1}, {-1, 2}, {2, -5}, {1, 1}};
  // scores: k0 = 1 + 2 = 3, k1 = 0 + 4 = 4, k2 = 2 + 0 = 2, k3 = 3.
  EXPECT_EQ(indexerTopK(q, weights, 2, 2, keys, 3, 2),
            (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(indexerTopK(q, weights, 2, 2, keys, 4, 3),
            (std::vector<int64_t>{1, 0, 3})); // tie -> lower index first
  EXPECT_EQ(indexerTopK(q, weights, 2, 2, keys, 2, 8),
            (std::vector<int64_t>{1, 0})); // top-k capped by what is visible
  EXPECT_TRUE(indexerTopK(q, weights, 2, 2, keys, 0, 8).empty());
}

TEST(ReferenceAttention, CompressedEntriesAreCausal) {
  // On the tiny checkpoint: query t of the CSA layer (ratio 4) selects
  // min(index_topk, (t + 1) / 4) distinct entries, all complete by t.
  const Config &c = reftest::tinyModel().config();
  ASSERT_EQ(c.layerKind(1), LayerKind::CSA);
  std::vector<std::vector<int64_t>> log;
  const auto &model = reftest::tinyModel();
  model.logSelections(1, &log);
  std::vector<int32_t> ids(48);
  for (size_t i = 0; i < ids.size(); ++i)
    ids[i] = int32_t((i * 37 + 11) % 1024);
  model.forward(ids);
  model.logSelections(1, nullptr);
  ASSERT_EQ(log.size(), ids.size());
  for (int64_t t = 0; t < int64_t(ids.size()); ++t) {
    const int64_t visible = (t + 1) / 4;
    ASSERT_EQ(int64_t(log[t].size()), std::min(visible, c.indexTopk)) << t;
    std::vector<int64_t> sorted = log[t];
    std::sort(sorted.begin(), sorted.end());
    EXPECT_TRUE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
    for (int64_t j : log[t])
      EXPECT_LT(j, visible);
  }
}
