// Tests for tlv4::Checkpoint, WeightMap and TinyCheckpoint: tiny checkpoint
// round trip (bit for bit), verification errors naming tensors,
// Transformers-style names, and dequantisation.
#include "ModelsTestUtil.h"
#include "tlv4/Checkpoint.h"
#include "tlv4/Quantize.h"
#include "tlv4/TinyCheckpoint.h"
#include "tlv4/WeightMap.h"
#include "tlrt/LowPrecision.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

using namespace tlv4;

namespace {

// The tiny tensors are generated once; each test writes what it needs.
const std::vector<TensorData> &tinyTensors() {
  static const std::vector<TensorData> tensors =
      makeTinyTensors(Config::tiny(), 7);
  return tensors;
}

std::string writeDir(const std::vector<TensorData> &tensors, int shards,
                     const Config &config = Config::tiny()) {
  std::string dir = modeltest::makeTempDir("ckpt");
  writeShardedSafetensors(dir, tensors, shards);
  std::ofstream(dir + "/config.json") << config.toJson();
  return dir;
}

std::string errorOf(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const std::exception &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(WeightMap, TinyTableCoversEveryLayerKind) {
  Config c = Config::tiny();
  std::vector<ExpectedTensor> table = expectedTensors(c);
  std::map<std::string, const ExpectedTensor *> byName;
  for (const ExpectedTensor &e : table)
    EXPECT_TRUE(byName.emplace(e.name, &e).second) << "duplicate " << e.name;

  auto shapeOf = [&](const std::string &n) {
    EXPECT_TRUE(byName.count(n)) << n;
    return byName.count(n) ? byName[n]->shape : std::vector<int64_t>{};
  };
  using S = std::vector<int64_t>;
  EXPECT_EQ(shapeOf("embed.weight"), (S{1024, 256}));
  EXPECT_EQ(shapeOf("layers.0.attn.wq_a.weight"), (S{128, 256}));
  EXPECT_EQ(shapeOf("layers.0.attn.wq_a.scale"), (S{1, 2}));
  EXPECT_EQ(shapeOf("layers.0.attn.wq_b.weight"), (S{4 * 256, 128}));
  EXPECT_EQ(shapeOf("layers.0.attn.wkv.weight"), (S{256, 256}));
  EXPECT_EQ(shapeOf("layers.0.attn.wo_a.weight"), (S{2 * 64, 4 * 256 / 2}));
  EXPECT_EQ(shapeOf("layers.0.attn.wo_b.weight"), (S{256, 128}));
  EXPECT_EQ(shapeOf("layers.0.attn.attn_sink"), (S{4}));
  EXPECT_EQ(shapeOf("layers.0.hc_attn_fn"), (S{24, 1024}));
  EXPECT_EQ(shapeOf("layers.0.ffn.gate.tid2eid"), (S{1024, 2}));
  EXPECT_EQ(byName["layers.0.ffn.gate.tid2eid"]->dtype, DType::I64);
  EXPECT_FALSE(byName.count("layers.0.ffn.gate.bias"));
  EXPECT_FALSE(byName.count("layers.0.attn.compressor.wkv.weight"));
  // CSA: overlapping compressor (c = 2) and indexer.
  EXPECT_EQ(shapeOf("layers.1.attn.compressor.wkv.weight"), (S{512, 256}));
  EXPECT_EQ(shapeOf("layers.1.attn.compressor.ape"), (S{4, 512}));
  EXPECT_EQ(shapeOf("layers.1.attn.indexer.wq_b.weight"), (S{16 * 128, 128}));
  EXPECT_EQ(shapeOf("layers.1.attn.indexer.weights_proj.weight"), (S{16, 256}));
  EXPECT_EQ(shapeOf("layers.1.attn.indexer.compressor.wgate.weight"),
            (S{256, 256}));
  EXPECT_EQ(shapeOf("layers.1.ffn.gate.bias"), (S{8}));
  // HCA: compressor without overlap, no indexer.
  EXPECT_EQ(shapeOf("layers.2.attn.compressor.wgate.weight"), (S{256, 256}));
  EXPECT_EQ(shapeOf("layers.2.attn.compressor.ape"), (S{128, 256}));
  EXPECT_FALSE(byName.count("layers.2.attn.indexer.wq_b.weight"));
  // FP4 experts, FP8 shared expert.
  const ExpectedTensor *w1 = byName["layers.1.ffn.experts.7.w1.weight"];
  ASSERT_TRUE(w1);
  EXPECT_EQ(w1->dtype, DType::I8); // packed pairs, as DeepSeek stores them
  EXPECT_EQ(w1->shape, (S{128, 256}));
  EXPECT_EQ(storedShapeFor(*w1, DType::I8), (S{128, 128}));
  EXPECT_EQ(storedShapeFor(*w1, DType::F4), (S{128, 256}));
  EXPECT_EQ(describeExpected(*w1),
            "I8 [128, 128] (fp4 e2m1 [128, 256] packed in pairs)");
  EXPECT_EQ(shapeOf("layers.1.ffn.experts.7.w1.scale"), (S{128, 8}));
  EXPECT_EQ(shapeOf("layers.1.ffn.experts.7.w2.scale"), (S{256, 4}));
  EXPECT_EQ(byName["layers.1.ffn.shared_experts.w2.weight"]->dtype,
            DType::F8E4M3);
  // MTP.
  EXPECT_EQ(shapeOf("mtp.0.e_proj.weight"), (S{256, 256}));
  EXPECT_EQ(shapeOf("mtp.0.hc_head_fn"), (S{4, 1024}));
  EXPECT_EQ(shapeOf("mtp.0.attn.wq_a.weight"), (S{128, 256}));
  EXPECT_EQ(shapeOf("mtp.0.ffn.gate.bias"), (S{8}));
  EXPECT_EQ(shapeOf("hc_head_scale"), (S{1}));
}

TEST(WeightMap, TransformersNames) {
  Config c = Config::tiny();
  auto map = [&](const std::string &n) {
    return transformersToNative(n, c).value_or("<none>");
  };
  EXPECT_EQ(map("model.layers.3.self_attn.q_a_proj.weight"),
            "layers.3.attn.wq_a.weight");
  EXPECT_EQ(map("model.layers.3.self_attn.q_a_proj.weight_scale_inv"),
            "layers.3.attn.wq_a.scale");
  EXPECT_EQ(map("model.layers.0.self_attn.sinks"), "layers.0.attn.attn_sink");
  EXPECT_EQ(map("model.layers.0.input_layernorm.weight"),
            "layers.0.attn_norm.weight");
  EXPECT_EQ(map("model.layers.0.post_attention_layernorm.weight"),
            "layers.0.ffn_norm.weight");
  EXPECT_EQ(map("model.layers.1.attn_hc.fn"), "layers.1.hc_attn_fn");
  EXPECT_EQ(map("model.layers.1.mlp.gate.e_score_correction_bias"),
            "layers.1.ffn.gate.bias");
  EXPECT_EQ(map("model.layers.1.mlp.experts.5.gate_proj.weight"),
            "layers.1.ffn.experts.5.w1.weight");
  EXPECT_EQ(map("model.layers.1.mlp.experts.5.down_proj.weight_scale_inv"),
            "layers.1.ffn.experts.5.w2.scale");
  EXPECT_EQ(map("model.layers.1.mlp.shared_experts.up_proj.weight"),
            "layers.1.ffn.shared_experts.w3.weight");
  EXPECT_EQ(map("model.layers.4.self_attn.o_a_proj.weight"),
            "mtp.0.attn.wo_a.weight");
  EXPECT_EQ(map("model.embed_tokens.weight"), "embed.weight");
  EXPECT_EQ(map("lm_head.weight"), "head.weight");
  EXPECT_EQ(map("model.norm.weight"), "norm.weight");
  EXPECT_EQ(map("layers.0.attn.wq_a.weight"), "<none>");
}

TEST(TinyCheckpoint, DeterministicPerSeed) {
  Config c = Config::tiny();
  std::vector<TensorData> again = makeTinyTensors(c, 7);
  std::vector<TensorData> other = makeTinyTensors(c, 8);
  ASSERT_EQ(again.size(), tinyTensors().size());
  bool anyDifferent = false;
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].bytes, tinyTensors()[i].bytes) << again[i].name;
    anyDifferent |= other[i].bytes != again[i].bytes;
  }
  EXPECT_TRUE(anyDifferent);
}

TEST(TinyCheckpoint, HashTableRowsAreDistinctExperts) {
  for (const TensorData &t : tinyTensors()) {
    if (t.name != "layers.0.ffn.gate.tid2eid")
      continue;
    ASSERT_EQ(t.dtype, DType::I64);
    ASSERT_EQ(t.shape, (std::vector<int64_t>{1024, 2}));
    for (int64_t row = 0; row < 1024; ++row) {
      int64_t a, b;
      std::memcpy(&a, &t.bytes[(row * 2) * 8], 8);
      std::memcpy(&b, &t.bytes[(row * 2 + 1) * 8], 8);
      ASSERT_TRUE(a >= 0 && a < 8 && b >= 0 && b < 8 && a != b) << row;
    }
    return;
  }
  FAIL() << "no tid2eid";
}

TEST(Checkpoint, RoundTripBitForBit) {
  std::string dir = writeDir(tinyTensors(), 3);
  Checkpoint ckpt = Checkpoint::open(dir);
  EXPECT_EQ(ckpt.naming(), TensorNaming::Native);
  VerifyReport report = ckpt.verify();
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_TRUE(report.unexpected.empty()) << report.describe();
  EXPECT_EQ(report.expectedCount,
            static_cast<int64_t>(tinyTensors().size()));
  std::set<std::string> sources;
  for (const TensorData &t : tinyTensors()) {
    TensorView v = ckpt.tensor(t.name);
    EXPECT_EQ(v.storedDType, t.dtype) << t.name;
    EXPECT_EQ(v.storedShape, t.shape) << t.name;
    ASSERT_EQ(v.byteSize, t.bytes.size()) << t.name;
    EXPECT_EQ(std::memcmp(v.data, t.bytes.data(), t.bytes.size()), 0)
        << t.name;
    sources.insert(v.source);
  }
  EXPECT_EQ(sources.size(), 3u);
}

TEST(Checkpoint, DequantizeMatchesQuantizer) {
  std::string dir = writeDir(tinyTensors(), 1);
  Checkpoint ckpt = Checkpoint::open(dir);
  // FP8: rebuild from codes and ue8m0 scales by hand.
  TensorView w = ckpt.tensor("layers.1.attn.wq_b.weight");
  TensorView s = ckpt.tensor("layers.1.attn.wq_b.scale");
  std::vector<float> deq = ckpt.dequantize("layers.1.attn.wq_b.weight");
  ASSERT_EQ(deq.size(), static_cast<size_t>(w.numElements()));
  EXPECT_EQ(s.shape, (std::vector<int64_t>{8, 1}));
  for (int64_t r = 0; r < w.rows(); r += 37)
    for (int64_t c = 0; c < w.cols(); c += 11)
      EXPECT_EQ(deq[r * w.cols() + c],
                tlrt::e4m3ToF32(w.data[r * w.cols() + c]) *
                    tlrt::ue8m0ToF32(s.data[r / 128]));
  // Values are near N(0, 1/sqrt(q_lora)).
  double sumSq = 0;
  for (float v : deq)
    sumSq += double(v) * v;
  double rms = std::sqrt(sumSq / deq.size());
  EXPECT_NEAR(rms, 1.0 / std::sqrt(128.0), 0.02);

  // FP4 expert weight.
  TensorView e = ckpt.tensor("layers.2.ffn.experts.3.w2.weight");
  TensorView es = ckpt.tensor("layers.2.ffn.experts.3.w2.scale");
  std::vector<float> edq = ckpt.dequantize(e.name);
  ASSERT_EQ(edq.size(), static_cast<size_t>(256 * 128));
  for (int64_t i = 0; i < 256 * 128; i += 97) {
    uint8_t byte = e.data[i / 2];
    uint8_t code = i % 2 ? byte >> 4 : byte & 0xF;
    int64_t r = i / 128, c = i % 128;
    EXPECT_EQ(edq[i], tlrt::e2m1ToF32(code) *
                          tlrt::ue8m0ToF32(es.data[r * 4 + c / 32]));
  }
  // Plain bf16 decodes elementwise.
  std::vector<float> norm = ckpt.dequantize("layers.0.attn_norm.weight");
  ASSERT_EQ(norm.size(), 256u);
  EXPECT_NEAR(norm[0], 1.0, 0.3);
}

TEST(Checkpoint, MissingTensorNamed) {
  std::vector<TensorData> tensors = tinyTensors();
  tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                               [](const TensorData &t) {
                                 return t.name ==
                                        "layers.1.attn.indexer.wq_b.scale";
                               }),
                tensors.end());
  std::string dir = writeDir(tensors, 2);
  Checkpoint ckpt = Checkpoint::open(dir);
  std::string err = errorOf([&] { ckpt.verifyOrThrow(); });
  EXPECT_NE(err.find("1 missing"), std::string::npos) << err;
  EXPECT_NE(err.find("missing tensor 'layers.1.attn.indexer.wq_b.scale' "
                     "(expected F8_E8M0 [16, 1])"),
            std::string::npos)
      << err;
  err = errorOf([&] { ckpt.dequantize("layers.1.attn.indexer.wq_b.weight"); });
  EXPECT_NE(err.find("no scale tensor 'layers.1.attn.indexer.wq_b.scale'"),
            std::string::npos)
      << err;
  err = errorOf([&] { ckpt.tensor("layers.9.attn.wq_a.weight"); });
  EXPECT_NE(err.find("no tensor 'layers.9.attn.wq_a.weight'"),
            std::string::npos)
      << err;
}

TEST(Checkpoint, MisshapenAndExtraTensorsReported) {
  std::vector<TensorData> tensors = tinyTensors();
  for (TensorData &t : tensors) {
    if (t.name == "layers.0.attn.wo_a.weight") {
      // Transposed layout: same bytes, wrong shape.
      std::swap(t.shape[0], t.shape[1]);
    }
    if (t.name == "layers.3.attn.attn_sink") {
      t.dtype = DType::I32; // same size, wrong dtype
    }
  }
  tensors.push_back({"layers.0.attn.extra_bias", DType::F32, {2},
                     std::vector<uint8_t>(8, 0)});
  std::string dir = writeDir(tensors, 1);
  Checkpoint ckpt = Checkpoint::open(dir);
  VerifyReport report = ckpt.verify();
  EXPECT_FALSE(report.ok());
  ASSERT_EQ(report.misshapen.size(), 2u) << report.describe();
  std::string text = report.describe();
  EXPECT_NE(text.find("'layers.0.attn.wo_a.weight': expected F8_E4M3 [128, "
                      "512], found F8_E4M3 [512, 128]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("'layers.3.attn.attn_sink': expected F32 [4], found "
                      "I32 [4]"),
            std::string::npos)
      << text;
  ASSERT_EQ(report.unexpected.size(), 1u);
  EXPECT_EQ(report.unexpected[0], "layers.0.attn.extra_bias");
}

TEST(Checkpoint, TransformersStyleNamesAccepted) {
  // Re-export a few tensors under Transformers names, the rest native.
  Config c = Config::tiny();
  std::map<std::string, std::string> renamed = {
      {"layers.0.attn.wq_a.weight", "model.layers.0.self_attn.q_a_proj.weight"},
      {"layers.0.attn.wq_a.scale",
       "model.layers.0.self_attn.q_a_proj.weight_scale_inv"},
      {"embed.weight", "model.embed_tokens.weight"},
      {"head.weight", "lm_head.weight"},
      {"layers.1.ffn.experts.2.w3.weight",
       "model.layers.1.mlp.experts.2.up_proj.weight"},
      {"mtp.0.attn.attn_sink", "model.layers.4.self_attn.sinks"},
  };
  std::vector<TensorData> tensors = tinyTensors();
  for (TensorData &t : tensors) {
    auto it = renamed.find(t.name);
    if (it != renamed.end())
      t.name = it->second;
    else
      t.name = "model." + t.name; // unknown to the mapping: stays an extra
  }
  // Only the renamed ones are valid Transformers names; make the rest
  // native again so the set verifies.
  for (TensorData &t : tensors)
    if (t.name.rfind("model.", 0) == 0 && !transformersToNative(t.name, c))
      t.name = t.name.substr(6);
  std::string dir = writeDir(tensors, 2);
  Checkpoint ckpt = Checkpoint::open(dir);
  EXPECT_TRUE(ckpt.has("layers.0.attn.wq_a.scale"));
  EXPECT_EQ(ckpt.tensor("embed.weight").fileName, "model.embed_tokens.weight");
  EXPECT_EQ(ckpt.tensor("mtp.0.attn.attn_sink").fileName,
            "model.layers.4.self_attn.sinks");
  std::vector<float> w = ckpt.dequantize("layers.0.attn.wq_a.weight");
  EXPECT_EQ(w.size(), static_cast<size_t>(128 * 256));
}

TEST(Checkpoint, PackedFp4ReadsAsLogicalF4) {
  // make-tiny stores experts like DeepSeek: I8 [out, in/2] packed pairs.
  Checkpoint packed = Checkpoint::open(writeDir(tinyTensors(), 1));
  TensorView v = packed.tensor("layers.1.ffn.experts.0.w1.weight");
  EXPECT_EQ(v.storedDType, DType::I8);
  EXPECT_EQ(v.storedShape, (std::vector<int64_t>{128, 128}));
  EXPECT_EQ(v.dtype, DType::F4);
  EXPECT_EQ(v.shape, (std::vector<int64_t>{128, 256}));
  EXPECT_EQ(packed.dequantizedShape(v.name), v.shape);
  EXPECT_EQ(decodeToFloat(v).size(), 128u * 256u);
  // A plain I8/U8 tensor without a scale stays what it is.
  EXPECT_EQ(packed.tensor("layers.0.ffn.gate.tid2eid").dtype, DType::I64);

  // The same weights written with the safetensors "F4" label verify and
  // dequantise identically.
  std::vector<TensorData> tensors = tinyTensors();
  for (TensorData &t : tensors) {
    if (t.dtype == DType::I8) {
      t.dtype = DType::F4;
      t.shape.back() *= 2;
    }
  }
  Checkpoint f4 = Checkpoint::open(writeDir(tensors, 1));
  VerifyReport report = f4.verify();
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_EQ(f4.tensor(v.name).storedDType, DType::F4);
  EXPECT_EQ(f4.dequantize(v.name), packed.dequantize(v.name));

  // Raw dequantisation helpers accept a raw I8 view too.
  TensorView raw = v;
  raw.dtype = raw.storedDType;
  raw.shape = raw.storedShape;
  EXPECT_EQ(dequantizeFp4Groups(raw, packed.tensor(scaleNameFor(v.name))),
            packed.dequantize(v.name));
}

TEST(Quantize, Fp8BlocksUseUe8m0CeilScales) {
  std::vector<float> w(3 * 130);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = std::sin(0.37f * i) * (i < 128 ? 3.0f : 0.01f);
  w[5] = 448.0f * 1.5f; // amax of block (0, 0)
  QuantizedWeight q = quantizeFp8Blocks(w, 3, 130, 128, 128);
  ASSERT_EQ(q.scaleCodes.size(), 2u);
  // 672/448 = 1.5 -> 2^1.
  EXPECT_EQ(q.scales[0], 2.0f);
  EXPECT_EQ(q.data[5], tlrt::f32ToE4M3(336.0f));
  // Zero block gets the clamp scale 2^ceil(log2(1e-4/448)) = 2^-22.
  std::vector<float> zeros(128 * 128, 0.0f);
  QuantizedWeight z = quantizeFp8Blocks(zeros, 128, 128);
  EXPECT_EQ(z.scales[0], std::ldexp(1.0f, -22));
}

TEST(Checkpoint, F32ScalesAndUnquantisedConfigs) {
  // V3-style f32 block scales.
  nlohmann::json j = nlohmann::json::parse(Config::tinyJson());
  j["quantization_config"]["scale_fmt"] = "f32";
  j["num_hidden_layers"] = 2;
  j["compress_ratios"] = {4, 128, 0};
  Config f32 = Config::fromJsonText(j.dump(), "f32");
  std::vector<TensorData> tensors = makeTinyTensors(f32, 1);
  std::string dir = writeDir(tensors, 1, f32);
  Checkpoint ckpt = Checkpoint::open(dir);
  EXPECT_TRUE(ckpt.verify().ok()) << ckpt.verify().describe();
  EXPECT_EQ(ckpt.tensor("layers.0.attn.wq_a.scale").dtype, DType::F32);
  EXPECT_EQ(ckpt.tensor("layers.0.ffn.experts.0.w1.scale").dtype, DType::F32);
  std::vector<float> w = ckpt.dequantize("layers.0.attn.wq_a.weight");
  EXPECT_EQ(w.size(), static_cast<size_t>(128 * 256));

  // No quantization_config: every linear is bf16, no scales.
  j.erase("quantization_config");
  Config bf16 = Config::fromJsonText(j.dump(), "bf16");
  std::vector<ExpectedTensor> table = expectedTensors(bf16);
  for (const ExpectedTensor &e : table) {
    EXPECT_EQ(e.role, TensorRole::Plain) << e.name;
    EXPECT_NE(e.dtype, DType::F8E4M3) << e.name;
  }
  std::string dir2 = writeDir(makeTinyTensors(bf16, 1), 2, bf16);
  Checkpoint plain = Checkpoint::open(dir2);
  EXPECT_TRUE(plain.verify().ok()) << plain.verify().describe();
  EXPECT_EQ(plain.tensor("layers.0.ffn.experts.1.w2.weight").dtype,
            DType::BF16);
}

TEST(WeightMap, FlashSizedTable) {
  nlohmann::json j = nlohmann::json::parse(Config::tinyJson());
  j["vocab_size"] = 129280;
  j["hidden_size"] = 4096;
  j["num_hidden_layers"] = 43;
  j["num_attention_heads"] = 64;
  j["head_dim"] = 512;
  j["qk_rope_head_dim"] = 64;
  j["q_lora_rank"] = 1024;
  j["o_lora_rank"] = 1024;
  j["o_groups"] = 8;
  j["n_routed_experts"] = 256;
  j["num_experts_per_tok"] = 6;
  j["moe_intermediate_size"] = 2048;
  j["num_hash_layers"] = 3;
  j["index_n_heads"] = 64;
  j["index_head_dim"] = 128;
  j["index_topk"] = 512;
  j["compress_ratios"] = modeltest::flashCompressRatios();
  Config c = Config::fromJsonText(j.dump(), "flash");
  std::map<std::string, ExpectedTensor> byName;
  for (ExpectedTensor &e : expectedTensors(c))
    byName.emplace(e.name, std::move(e));
  using S = std::vector<int64_t>;
  EXPECT_EQ(byName.at("layers.5.attn.wo_a.weight").shape, (S{8192, 4096}));
  EXPECT_EQ(byName.at("layers.5.attn.wo_a.scale").shape, (S{64, 32}));
  EXPECT_EQ(byName.at("layers.5.attn.wo_b.weight").shape, (S{4096, 8192}));
  EXPECT_EQ(byName.at("layers.5.attn.wq_b.weight").shape, (S{32768, 1024}));
  EXPECT_EQ(byName.at("layers.5.attn.wkv.weight").shape, (S{512, 4096}));
  EXPECT_EQ(byName.at("layers.2.attn.compressor.wkv.weight").shape,
            (S{1024, 4096}));
  EXPECT_EQ(byName.at("layers.3.attn.compressor.ape").shape, (S{128, 512}));
  EXPECT_EQ(byName.at("layers.2.attn.indexer.wq_b.weight").shape,
            (S{8192, 1024}));
  EXPECT_EQ(byName.at("layers.2.hc_attn_fn").shape, (S{24, 16384}));
  EXPECT_EQ(byName.at("layers.2.ffn.gate.tid2eid").shape, (S{129280, 6}));
  EXPECT_EQ(byName.at("layers.3.ffn.gate.bias").shape, (S{256}));
  EXPECT_EQ(byName.at("layers.9.ffn.experts.255.w2.weight").shape,
            (S{4096, 2048}));
  EXPECT_EQ(byName.at("layers.9.ffn.experts.255.w2.scale").shape,
            (S{4096, 64}));
  EXPECT_TRUE(byName.count("mtp.0.ffn.experts.0.w1.weight"));
  EXPECT_FALSE(byName.count("mtp.0.attn.compressor.wkv.weight"));
  EXPECT_FALSE(byName.count("layers.1.attn.compressor.wkv.weight"));
}

TEST(WeightMap, TransformersNamesRoundTrip) {
  Config c = Config::tiny();
  std::set<std::string> seen;
  for (const ExpectedTensor &e : expectedTensors(c)) {
    std::string hf = nativeToTransformers(e.name, c);
    EXPECT_TRUE(looksTransformersStyle(hf)) << hf;
    EXPECT_TRUE(seen.insert(hf).second) << "duplicate " << hf;
    EXPECT_EQ(transformersToNative(hf, c).value_or("<none>"), e.name) << hf;
  }
  EXPECT_EQ(nativeToTransformers("layers.2.hc_ffn_scale", c),
            "model.layers.2.ffn_hc.scale");
  EXPECT_EQ(nativeToTransformers("mtp.0.ffn.experts.3.w2.scale", c),
            "model.layers.4.mlp.experts.3.down_proj.weight_scale_inv");
}

TEST(Checkpoint, FullTransformersNamedCheckpoint) {
  std::string dir = modeltest::makeTempDir("ckpt");
  Config c = Config::tiny();
  writeTinyCheckpoint(c, dir, 7, 2, "", TensorNaming::Transformers);
  Checkpoint ckpt = Checkpoint::open(dir);
  EXPECT_EQ(ckpt.naming(), TensorNaming::Transformers);
  VerifyReport report = ckpt.verify();
  EXPECT_TRUE(report.ok()) << report.describe();
  EXPECT_TRUE(report.unexpected.empty()) << report.describe();
  for (const TensorData &t : tinyTensors()) {
    TensorView v = ckpt.tensor(t.name);
    ASSERT_EQ(v.byteSize, t.bytes.size()) << t.name;
    EXPECT_EQ(std::memcmp(v.data, t.bytes.data(), t.bytes.size()), 0)
        << t.name;
  }
}

TEST(Checkpoint, FindNonFiniteValues) {
  std::vector<TensorData> tensors = tinyTensors();
  for (TensorData &t : tensors) {
    if (t.name == "layers.1.attn.wq_b.weight")
      t.bytes[300] = 0xFF; // e4m3 NaN
    if (t.name == "layers.2.ffn.experts.1.w3.scale")
      t.bytes[5] = 0xFF; // ue8m0 NaN
  }
  Checkpoint ckpt = Checkpoint::open(writeDir(tensors, 1));
  std::vector<std::string> bad = ckpt.findNonFiniteValues();
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_NE(bad[0].find("'layers.1.attn.wq_b.weight' (F8_E4M3 in"),
            std::string::npos)
      << bad[0];
  EXPECT_NE(bad[0].find("1 non-finite value(s), first at flat index 300"),
            std::string::npos)
      << bad[0];
  EXPECT_NE(bad[1].find("'layers.2.ffn.experts.1.w3.scale' (F8_E8M0"),
            std::string::npos)
      << bad[1];
  EXPECT_TRUE(Checkpoint::open(writeDir(tinyTensors(), 1))
                  .findNonFiniteValues()
                  .empty());
}

TEST(Checkpoint, DequantizeRowsMatchesFullDequantize) {
  Checkpoint ckpt = Checkpoint::open(writeDir(tinyTensors(), 1));
  for (const char *name :
       {"embed.weight", "layers.1.attn.wq_b.weight",
        "layers.2.ffn.experts.3.w2.weight", "layers.0.hc_attn_fn",
        "layers.0.ffn.gate.tid2eid"}) {
    std::vector<float> full = ckpt.dequantize(name);
    std::vector<int64_t> shape = ckpt.dequantizedShape(name);
    ASSERT_EQ(shape.size(), 2u) << name;
    int64_t cols = shape[1];
    for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, 1},
                          {shape[0] / 3, shape[0] / 3 + 130},
                          {shape[0] - 1, shape[0]},
                          {5, 5}}) {
      r1 = std::min(r1, shape[0]);
      std::vector<float> rows = ckpt.dequantizeRows(name, r0, r1);
      ASSERT_EQ(rows.size(), static_cast<size_t>((r1 - r0) * cols)) << name;
      EXPECT_TRUE(std::equal(rows.begin(), rows.end(),
                             full.begin() + r0 * cols))
          << name << " rows " << r0 << ".." << r1;
    }
  }
  EXPECT_THROW(ckpt.dequantizeRows("embed.weight", 10, 2000),
               std::runtime_error);
  EXPECT_THROW(ckpt.dequantizeRows("norm.weight", 0, 1), std::runtime_error);
}
