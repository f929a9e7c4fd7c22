// Tests for tlv4::Config: parsing (HF and inference key names), derived
// values, the tiny config, and validation errors that name the field.
#include "ModelsTestUtil.h"
#include "tlv4/Config.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <limits>
#include <stdexcept>
#include <string>

using tlv4::Config;
using tlv4::LayerKind;

namespace {

// Parse the tiny config after applying an edit; return the error text ("" if
// it parsed).
template <typename Edit> std::string errorAfter(Edit edit) {
  nlohmann::json j = nlohmann::json::parse(Config::tinyJson());
  edit(j);
  try {
    Config::fromJsonText(j.dump(), "edited.json");
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(Config, TinyMatchesInputsFile) {
  Config fromFile = Config::fromFile(std::string(TLC_TEST_SOURCE_DIR) +
                                     "/unit/models/Inputs/tiny_config.json");
  Config tiny = Config::tiny();
  EXPECT_EQ(fromFile.toJson(), tiny.toJson());
}

TEST(Config, TinyDerivedValues) {
  Config c = Config::tiny();
  EXPECT_EQ(c.hiddenSize, 256);
  EXPECT_EQ(c.nopeHeadDim(), 192);
  EXPECT_EQ(c.numLayersWithMtp(), 5);
  EXPECT_EQ(c.layerKind(0), LayerKind::Window);
  EXPECT_EQ(c.layerKind(1), LayerKind::CSA);
  EXPECT_EQ(c.layerKind(2), LayerKind::HCA);
  EXPECT_EQ(c.layerKind(3), LayerKind::Window);
  EXPECT_EQ(c.layerKind(4), LayerKind::Window); // MTP
  EXPECT_TRUE(c.hasIndexer(1));
  EXPECT_FALSE(c.hasIndexer(2));
  EXPECT_EQ(c.compressorOverlap(1), 2);
  EXPECT_EQ(c.compressorOverlap(2), 1);
  EXPECT_TRUE(c.isHashLayer(0));
  EXPECT_FALSE(c.isHashLayer(1));
  EXPECT_TRUE(c.expertsFp4());
  EXPECT_EQ(c.headsPerGroup(), 2);
  EXPECT_EQ(c.hcMixes(), 24);
  ASSERT_TRUE(c.quantization.has_value());
  EXPECT_EQ(c.quantization->weightBlockRows, 128);
  ASSERT_TRUE(c.ropeScaling.has_value());
  EXPECT_EQ(c.ropeScaling->originalMaxPositionEmbeddings, 256);
  EXPECT_THROW(c.layerKind(5), std::out_of_range);
}

TEST(Config, RoundTripThroughJson) {
  Config c = Config::tiny();
  Config again = Config::fromJsonText(c.toJson(), "again");
  EXPECT_EQ(again.toJson(), c.toJson());
}

TEST(Config, FlashShapedConfig) {
  nlohmann::json j = nlohmann::json::parse(Config::tinyJson());
  j["hidden_size"] = 4096;
  j["num_hidden_layers"] = 43;
  j["num_attention_heads"] = 64;
  j["head_dim"] = 512;
  j["qk_rope_head_dim"] = 64;
  j["o_groups"] = 8;
  j["index_head_dim"] = 128;
  j["compress_ratios"] = tlv4::modeltest::flashCompressRatios();
  Config c = Config::fromJsonText(j.dump(), "flash");
  EXPECT_EQ(c.nopeHeadDim(), 448);
  EXPECT_EQ(c.layerKind(42), LayerKind::CSA);
  EXPECT_EQ(c.layerKind(43), LayerKind::Window);
}

TEST(Config, InferenceKeyNames) {
  const char *text = R"({
    "vocab_size": 1024, "dim": 256, "n_layers": 4, "n_heads": 4,
    "head_dim": 256, "rope_head_dim": 64, "q_lora_rank": 128,
    "o_lora_rank": 64, "o_groups": 2, "window_size": 16,
    "n_routed_experts": 8, "n_activated_experts": 2, "n_shared_experts": 1,
    "moe_inter_dim": 128, "route_scale": 1.5, "score_func": "sqrtsoftplus",
    "n_hash_layers": 1, "swiglu_limit": 10.0, "expert_dtype": "fp4",
    "hc_mult": 4, "hc_sinkhorn_iters": 20, "hc_eps": 1e-6,
    "index_n_heads": 4, "index_head_dim": 128, "index_topk": 8,
    "rope_theta": 10000, "compress_rope_theta": 160000, "rope_factor": 16,
    "original_seq_len": 256, "beta_fast": 32, "beta_slow": 1,
    "norm_eps": 1e-6, "n_mtp_layers": 1, "max_seq_len": 4096,
    "compress_ratios": [0, 4, 128, 0, 0], "dtype": "fp8", "scale_fmt": "ue8m0"
  })";
  Config c = Config::fromJsonText(text, "inference.json");
  EXPECT_EQ(c.keyStyle, tlv4::ConfigKeyStyle::Inference);
  Config tiny = Config::tiny();
  EXPECT_EQ(c.hiddenSize, tiny.hiddenSize);
  EXPECT_EQ(c.numExpertsPerTok, tiny.numExpertsPerTok);
  EXPECT_EQ(c.moeIntermediateSize, tiny.moeIntermediateSize);
  EXPECT_EQ(c.slidingWindow, tiny.slidingWindow);
  EXPECT_EQ(c.numNextnPredictLayers, 1);
  EXPECT_DOUBLE_EQ(c.routedScalingFactor, 1.5);
  ASSERT_TRUE(c.ropeScaling.has_value());
  EXPECT_DOUBLE_EQ(c.ropeScaling->factor, 16);
  EXPECT_EQ(c.ropeScaling->originalMaxPositionEmbeddings, 256);
  EXPECT_TRUE(c.quantization.has_value());
}

TEST(Config, MissingFieldNamed) {
  std::string err =
      errorAfter([](nlohmann::json &j) { j.erase("o_lora_rank"); });
  EXPECT_NE(err.find("edited.json"), std::string::npos) << err;
  EXPECT_NE(err.find("missing required field 'o_lora_rank'"),
            std::string::npos)
      << err;
}

TEST(Config, WrongTypeNamed) {
  std::string err =
      errorAfter([](nlohmann::json &j) { j["hidden_size"] = "256"; });
  EXPECT_NE(err.find("'hidden_size': expected an integer, found string"),
            std::string::npos)
      << err;
  err = errorAfter([](nlohmann::json &j) { j["hidden_size"] = 256.5; });
  EXPECT_NE(err.find("'hidden_size': expected an integer"), std::string::npos)
      << err;
  err = errorAfter([](nlohmann::json &j) { j["norm_topk_prob"] = 1; });
  EXPECT_NE(err.find("'norm_topk_prob': expected true or false"),
            std::string::npos)
      << err;
  err = errorAfter([](nlohmann::json &j) { j["compress_ratios"][1] = "4"; });
  EXPECT_NE(err.find("'compress_ratios'[1]: expected an integer"),
            std::string::npos)
      << err;
  // A float written for an integer field is fine when integral.
  EXPECT_EQ(errorAfter([](nlohmann::json &j) { j["hidden_size"] = 256.0; }),
            "");
}

TEST(Config, Inconsistencies) {
  std::string err = errorAfter(
      [](nlohmann::json &j) { j["compress_ratios"] = {0, 4, 128, 0}; });
  EXPECT_NE(err.find("'compress_ratios' has 4 entries, expected "
                     "num_hidden_layers + num_nextn_predict_layers = 4 + 1"),
            std::string::npos)
      << err;
  err = errorAfter(
      [](nlohmann::json &j) { j["compress_ratios"] = {0, 4, 16, 0, 0}; });
  EXPECT_NE(err.find("'compress_ratios[2]' is 16"), std::string::npos) << err;
  err = errorAfter([](nlohmann::json &j) { j["o_groups"] = 3; });
  EXPECT_NE(err.find("divisible by 'o_groups' (3)"), std::string::npos) << err;
  err = errorAfter([](nlohmann::json &j) { j["qk_rope_head_dim"] = 256; });
  EXPECT_NE(err.find("'qk_rope_head_dim' (256) must be smaller than head_dim"),
            std::string::npos)
      << err;
  // The official code asserts the FP8 groups of 64 divide the non-RoPE width.
  err = errorAfter([](nlohmann::json &j) { j["qk_rope_head_dim"] = 32; });
  EXPECT_NE(err.find("head_dim - qk_rope_head_dim = 256 - 32 = 224 must be a multiple of 64"),
            std::string::npos)
      << err;
  err = errorAfter([](nlohmann::json &j) { j["index_head_dim"] = 96; });
  EXPECT_NE(err.find("'index_head_dim' must be a power of two of at least 32"),
            std::string::npos)
      << err;
  err = errorAfter([](nlohmann::json &j) { j["qk_nope_head_dim"] = 64; });
  EXPECT_NE(err.find("'qk_nope_head_dim' is 64"), std::string::npos) << err;
  err = errorAfter([](nlohmann::json &j) { j["num_experts_per_tok"] = 9; });
  EXPECT_NE(err.find("'num_experts_per_tok' (9) exceeds"), std::string::npos)
      << err;
  err = errorAfter([](nlohmann::json &j) { j["num_hash_layers"] = 5; });
  EXPECT_NE(err.find("'num_hash_layers' (5)"), std::string::npos) << err;
  err = errorAfter([](nlohmann::json &j) { j["expert_dtype"] = "int4"; });
  EXPECT_NE(err.find("'expert_dtype'"), std::string::npos) << err;
  err = errorAfter([](nlohmann::json &j) { j["num_key_value_heads"] = 8; });
  EXPECT_NE(err.find("'num_key_value_heads' must be 1"), std::string::npos)
      << err;
  err = errorAfter([](nlohmann::json &j) {
    j["quantization_config"]["weight_block_size"] = {128};
  });
  EXPECT_NE(err.find("weight_block_size"), std::string::npos) << err;
  err = errorAfter(
      [](nlohmann::json &j) { j["hidden_size"] = 9223372036854775807LL; });
  EXPECT_NE(err.find("'hidden_size': 9223372036854775807 is out of range"),
            std::string::npos)
      << err;
  err = errorAfter([](nlohmann::json &j) { j["n_routed_experts"] = 1 << 20; });
  EXPECT_NE(err.find("'n_routed_experts' (1048576) must be at most 65536"),
            std::string::npos)
      << err;
  err = errorAfter([](nlohmann::json &j) { j["hidden_size"] = 0; });
  EXPECT_NE(err.find("'hidden_size' must be positive, found 0"),
            std::string::npos)
      << err;
}

TEST(Config, FuzzerFindings) {
  // A number too large for a double used to escape as nlohmann's
  // out_of_range instead of a clean error.
  try {
    Config::fromJsonText("{\"hidden_size\": 4e6666666666666666666}", "x");
    FAIL();
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("x: invalid JSON"), std::string::npos)
        << e.what();
  }
  std::string err = errorAfter([](nlohmann::json &j) {
    j["compress_ratios"][0] = std::numeric_limits<int64_t>::min();
  });
  EXPECT_NE(err.find("'compress_ratios'[0]: -9223372036854775808 is out of "
                     "range"),
            std::string::npos)
      << err;
}

TEST(Config, BadJsonAndMissingFile) {
  EXPECT_THROW(Config::fromJsonText("{\"hidden_size\": ", "x"),
               std::runtime_error);
  EXPECT_THROW(Config::fromJsonText("[1, 2]", "x"), std::runtime_error);
  try {
    Config::fromFile("/nonexistent/config.json");
    FAIL();
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/config.json"),
              std::string::npos);
  }
}

TEST(Config, TextConfigWrapper) {
  nlohmann::json inner = nlohmann::json::parse(Config::tinyJson());
  nlohmann::json quant = inner["quantization_config"];
  inner.erase("quantization_config");
  nlohmann::json outer = {{"model_type", "wrapper"},
                          {"text_config", inner},
                          {"quantization_config", quant}};
  Config c = Config::fromJsonText(outer.dump(), "wrapped.json");
  EXPECT_EQ(c.toJson(), Config::tiny().toJson());
}

// The built-in V4-Flash config (kernel sets and benchmarks at the real shapes) is V4.md's.
TEST(Config, FlashIsTheV4FlashConfig) {
  tlv4::Config c = tlv4::Config::flash();
  EXPECT_EQ(c.hiddenSize, 4096);
  EXPECT_EQ(c.numHiddenLayers, 43);
  EXPECT_EQ(c.vocabSize, 129280);
  EXPECT_EQ(c.numAttentionHeads, 64);
  EXPECT_EQ(c.headDim, 512);
  EXPECT_EQ(c.qLoraRank, 1024);
  EXPECT_EQ(c.oLoraRank, 1024);
  EXPECT_EQ(c.oGroups, 8);
  EXPECT_EQ(c.slidingWindow, 128);
  EXPECT_EQ(c.nRoutedExperts, 256);
  EXPECT_EQ(c.numExpertsPerTok, 6);
  EXPECT_EQ(c.moeIntermediateSize, 2048);
  EXPECT_EQ(c.numHashLayers, 3);
  EXPECT_EQ(c.indexNHeads, 64);
  EXPECT_EQ(c.indexHeadDim, 128);
  EXPECT_EQ(c.indexTopk, 512);
  EXPECT_EQ(c.ropeScaling->originalMaxPositionEmbeddings, 65536);
  EXPECT_EQ(c.maxPositionEmbeddings, 1048576);
  ASSERT_EQ(c.compressRatios.size(), 44u);
  EXPECT_EQ(c.layerKind(0), tlv4::LayerKind::Window);
  EXPECT_EQ(c.layerKind(2), tlv4::LayerKind::CSA);
  EXPECT_EQ(c.layerKind(3), tlv4::LayerKind::HCA);
  EXPECT_EQ(c.layerKind(42), tlv4::LayerKind::CSA);
  EXPECT_EQ(c.compressRatios[43], 0);
  EXPECT_EQ(tlv4::Config::fromJsonText(tlv4::Config::flashJson()).toJson(), c.toJson());
}
