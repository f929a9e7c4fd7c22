// Config: parsing, validation and serialisation of the DeepSeek-V4 config
// (HF config.json keys, or the inference repository's key names).
#include "tlv4/Config.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <climits>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tlv4 {

using nlohmann::json;

const char *layerKindName(LayerKind kind) {
  switch (kind) {
  case LayerKind::Window:
    return "window";
  case LayerKind::CSA:
    return "csa";
  case LayerKind::HCA:
    return "hca";
  }
  return "?";
}

namespace {

// Largest magnitude accepted for any integer field.
constexpr int64_t kMaxConfigInteger = 2147483647;
// Structural counts that size the tensor table.
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxExperts = 65536;

[[noreturn]] void fail(const std::string &source, const std::string &msg) {
  throw std::runtime_error(fmt::format("{}: {}", source, msg));
}

std::string jsonTypeName(const json &v) {
  std::string dumped = v.dump();
  if (dumped.size() > 40)
    dumped = dumped.substr(0, 37) + "...";
  return fmt::format("{} {}", v.type_name(), dumped);
}

// Reads fields by their HF name, or by the inference-repo alias when the
// file uses that style, with type checks that name the field.
class FieldReader {
public:
  FieldReader(const json &root, const std::string &source, bool inference)
      : root_(root), source_(source), inference_(inference) {}

  // The key as present in the file (HF or alias), or empty.
  std::string keyFor(const char *hfKey, const char *alias) const {
    if (root_.contains(hfKey))
      return hfKey;
    if (alias && root_.contains(alias))
      return alias;
    return "";
  }

  std::string describe(const char *hfKey, const char *alias) const {
    if (inference_ && alias && std::string(alias) != hfKey)
      return fmt::format("'{}' (inference key '{}')", hfKey, alias);
    return fmt::format("'{}'", hfKey);
  }

  const json *get(const char *hfKey, const char *alias) const {
    std::string key = keyFor(hfKey, alias);
    if (key.empty() || root_.at(key).is_null())
      return nullptr;
    return &root_.at(key);
  }

  int64_t integer(const char *hfKey, const char *alias) const {
    const json *v = get(hfKey, alias);
    if (!v)
      fail(source_, fmt::format("missing required field {}",
                                describe(hfKey, alias)));
    return asInteger(*v, hfKey, alias);
  }

  int64_t integer(const char *hfKey, const char *alias, int64_t dflt) const {
    const json *v = get(hfKey, alias);
    return v ? asInteger(*v, hfKey, alias) : dflt;
  }

  double number(const char *hfKey, const char *alias, double dflt) const {
    const json *v = get(hfKey, alias);
    if (!v)
      return dflt;
    if (!v->is_number())
      fail(source_, fmt::format("field {}: expected a number, found {}",
                                describe(hfKey, alias), jsonTypeName(*v)));
    return v->get<double>();
  }

  bool boolean(const char *hfKey, const char *alias, bool dflt) const {
    const json *v = get(hfKey, alias);
    if (!v)
      return dflt;
    if (!v->is_boolean())
      fail(source_, fmt::format("field {}: expected true or false, found {}",
                                describe(hfKey, alias), jsonTypeName(*v)));
    return v->get<bool>();
  }

  std::string string(const char *hfKey, const char *alias,
                     const std::string &dflt) const {
    const json *v = get(hfKey, alias);
    if (!v)
      return dflt;
    if (!v->is_string())
      fail(source_, fmt::format("field {}: expected a string, found {}",
                                describe(hfKey, alias), jsonTypeName(*v)));
    return v->get<std::string>();
  }

  std::vector<int64_t> integerList(const char *hfKey,
                                   const char *alias) const {
    const json *v = get(hfKey, alias);
    if (!v)
      fail(source_, fmt::format("missing required field {}",
                                describe(hfKey, alias)));
    if (!v->is_array())
      fail(source_, fmt::format("field {}: expected a list of integers, "
                                "found {}",
                                describe(hfKey, alias), jsonTypeName(*v)));
    std::vector<int64_t> out;
    for (size_t i = 0; i < v->size(); ++i) {
      const json &e = (*v)[i];
      if (!e.is_number_integer())
        fail(source_, fmt::format("field {}[{}]: expected an integer, found "
                                  "{}",
                                  describe(hfKey, alias), i, jsonTypeName(e)));
      bool outOfRange = e.is_number_unsigned()
                            ? e.get<uint64_t>() > uint64_t(kMaxConfigInteger)
                            : (e.get<int64_t>() > kMaxConfigInteger ||
                               e.get<int64_t>() < -kMaxConfigInteger);
      if (outOfRange)
        fail(source_, fmt::format("field {}[{}]: {} is out of range",
                                  describe(hfKey, alias), i, e.dump()));
      out.push_back(e.get<int64_t>());
    }
    return out;
  }

private:
  int64_t asInteger(const json &v, const char *hfKey, const char *alias) const {
    int64_t out = parseInteger(v, hfKey, alias);
    // Keeps every derived product (heads * head_dim, hc_mult * hidden, ...)
    // far from int64 overflow whatever the file says.
    if (out > kMaxConfigInteger || out < -kMaxConfigInteger)
      fail(source_, fmt::format("field {}: {} is out of range (|value| <= "
                                "{})",
                                describe(hfKey, alias), out,
                                kMaxConfigInteger));
    return out;
  }

  int64_t parseInteger(const json &v, const char *hfKey,
                       const char *alias) const {
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX))
      return INT64_MAX;
    if (v.is_number_integer())
      return v.get<int64_t>();
    // 4096.0 is an integer written carelessly; 4096.5 is not.
    if (v.is_number_float()) {
      double d = v.get<double>();
      if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15)
        return static_cast<int64_t>(d);
    }
    fail(source_, fmt::format("field {}: expected an integer, found {}",
                              describe(hfKey, alias), jsonTypeName(v)));
  }

  const json &root_;
  std::string source_;
  bool inference_;
};

RopeScaling parseRopeScaling(const json &v, const std::string &source) {
  if (!v.is_object())
    fail(source, fmt::format("field 'rope_scaling': expected an object, "
                             "found {}",
                             jsonTypeName(v)));
  FieldReader r(v, source + ": rope_scaling", false);
  RopeScaling rs;
  rs.type = r.string("type", "rope_type", "yarn");
  rs.factor = r.number("factor", nullptr, 1.0);
  rs.betaFast = r.number("beta_fast", nullptr, 32.0);
  rs.betaSlow = r.number("beta_slow", nullptr, 1.0);
  rs.originalMaxPositionEmbeddings =
      r.integer("original_max_position_embeddings", nullptr, 0);
  rs.mscale = r.number("mscale", nullptr, 0.0);
  rs.mscaleAllDim = r.number("mscale_all_dim", nullptr, 0.0);
  return rs;
}

QuantizationConfig parseQuantization(const json &v,
                                     const std::string &source) {
  if (!v.is_object())
    fail(source, fmt::format("field 'quantization_config': expected an "
                             "object, found {}",
                             jsonTypeName(v)));
  FieldReader r(v, source + ": quantization_config", false);
  QuantizationConfig q;
  q.quantMethod = r.string("quant_method", nullptr, "fp8");
  q.fmt = r.string("fmt", nullptr, "e4m3");
  q.activationScheme = r.string("activation_scheme", nullptr, "dynamic");
  q.scaleFmt = r.string("scale_fmt", nullptr, "ue8m0");
  if (v.contains("weight_block_size")) {
    std::vector<int64_t> block = r.integerList("weight_block_size", nullptr);
    if (block.size() != 2)
      fail(source, fmt::format("field 'quantization_config.weight_block_size'"
                               ": expected 2 entries, found {}",
                               block.size()));
    q.weightBlockRows = block[0];
    q.weightBlockCols = block[1];
  }
  return q;
}

} // namespace

int64_t Config::compressRatio(int64_t layer) const {
  if (layer < 0 || layer >= static_cast<int64_t>(compressRatios.size()))
    throw std::out_of_range(fmt::format(
        "{}: layer {} out of range (compress_ratios has {} entries)",
        sourceName, layer, compressRatios.size()));
  return compressRatios[layer];
}

LayerKind Config::layerKind(int64_t layer) const {
  int64_t ratio = compressRatio(layer);
  if (ratio == 0)
    return LayerKind::Window;
  if (ratio == 4)
    return LayerKind::CSA;
  return LayerKind::HCA;
}

Config Config::fromJsonText(const std::string &text,
                            const std::string &sourceName) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception &e) { // parse_error, out_of_range (406)
    fail(sourceName, fmt::format("invalid JSON: {}", e.what()));
  }
  if (!root.is_object())
    fail(sourceName, "expected a JSON object at top level");
  // Multimodal wrappers nest the language model's fields in "text_config";
  // a quantization_config at the top level still applies.
  if (!root.contains("hidden_size") && root.contains("text_config") &&
      root["text_config"].is_object()) {
    json text = root["text_config"];
    if (!text.contains("quantization_config") &&
        root.contains("quantization_config"))
      text["quantization_config"] = root["quantization_config"];
    root = std::move(text);
  }

  bool inference = !root.contains("hidden_size") &&
                   (root.contains("dim") || root.contains("n_layers"));
  FieldReader r(root, sourceName, inference);
  Config c;
  c.sourceName = sourceName;
  c.keyStyle = inference ? ConfigKeyStyle::Inference
                         : ConfigKeyStyle::HuggingFace;

  c.modelType = r.string("model_type", nullptr, "deepseek_v4");
  c.vocabSize = r.integer("vocab_size", "vocab_size");
  c.hiddenSize = r.integer("hidden_size", "dim");
  c.numHiddenLayers = r.integer("num_hidden_layers", "n_layers");
  c.numAttentionHeads = r.integer("num_attention_heads", "n_heads");
  c.numKeyValueHeads = r.integer("num_key_value_heads", nullptr, 1);
  c.headDim = r.integer("head_dim", "head_dim");
  c.qkRopeHeadDim = r.integer("qk_rope_head_dim", "rope_head_dim");
  c.qLoraRank = r.integer("q_lora_rank", "q_lora_rank");
  c.oLoraRank = r.integer("o_lora_rank", "o_lora_rank");
  c.oGroups = r.integer("o_groups", "o_groups");
  c.slidingWindow = r.integer("sliding_window", "window_size");

  c.nRoutedExperts = r.integer("n_routed_experts", "n_routed_experts");
  c.numExpertsPerTok =
      r.integer("num_experts_per_tok", "n_activated_experts");
  c.nSharedExperts = r.integer("n_shared_experts", "n_shared_experts");
  c.moeIntermediateSize = r.integer("moe_intermediate_size", "moe_inter_dim");
  c.routedScalingFactor =
      r.number("routed_scaling_factor", "route_scale", 1.0);
  c.normTopkProb = r.boolean("norm_topk_prob", nullptr, true);
  c.scoringFunc = r.string("scoring_func", "score_func", "sqrtsoftplus");
  c.topkMethod = r.string("topk_method", nullptr, "noaux_tc");
  c.swigluLimit = r.number("swiglu_limit", "swiglu_limit", 0.0);
  c.numHashLayers = r.integer("num_hash_layers", "n_hash_layers", 0);
  c.expertDtype = r.string("expert_dtype", "expert_dtype", "fp8");

  c.hcMult = r.integer("hc_mult", "hc_mult");
  c.hcSinkhornIters = r.integer("hc_sinkhorn_iters", "hc_sinkhorn_iters", 20);
  c.hcEps = r.number("hc_eps", "hc_eps", 1e-6);

  c.indexNHeads = r.integer("index_n_heads", "index_n_heads");
  c.indexHeadDim = r.integer("index_head_dim", "index_head_dim");
  c.indexTopk = r.integer("index_topk", "index_topk");

  c.ropeTheta = r.number("rope_theta", "rope_theta", 10000.0);
  c.compressRopeTheta =
      r.number("compress_rope_theta", "compress_rope_theta", 160000.0);
  c.maxPositionEmbeddings =
      r.integer("max_position_embeddings", "max_seq_len", 0);
  c.rmsNormEps = r.number("rms_norm_eps", "norm_eps", 1e-6);
  c.numNextnPredictLayers =
      r.integer("num_nextn_predict_layers", "n_mtp_layers", 0);
  c.tieWordEmbeddings = r.boolean("tie_word_embeddings", nullptr, false);
  c.compressRatios = r.integerList("compress_ratios", "compress_ratios");

  if (const json *rs = r.get("rope_scaling", nullptr)) {
    c.ropeScaling = parseRopeScaling(*rs, sourceName);
  } else if (inference && root.contains("rope_factor")) {
    // The inference config spells YaRN as flat keys.
    RopeScaling s;
    s.factor = r.number("rope_factor", nullptr, 1.0);
    s.betaFast = r.number("beta_fast", nullptr, 32.0);
    s.betaSlow = r.number("beta_slow", nullptr, 1.0);
    s.originalMaxPositionEmbeddings = r.integer("original_seq_len", nullptr, 0);
    s.mscale = r.number("mscale", nullptr, 0.0);
    c.ropeScaling = s;
  }

  if (const json *q = r.get("quantization_config", nullptr)) {
    c.quantization = parseQuantization(*q, sourceName);
  } else if (inference && r.string("dtype", nullptr, "bf16") == "fp8") {
    QuantizationConfig q;
    q.scaleFmt = r.string("scale_fmt", nullptr, "ue8m0");
    c.quantization = q;
  }

  // qk_nope_head_dim is redundant; when present it must agree.
  if (const json *nope = r.get("qk_nope_head_dim", "nope_head_dim")) {
    int64_t n = nope->is_number_integer() ? nope->get<int64_t>() : -1;
    if (n != c.headDim - c.qkRopeHeadDim)
      fail(sourceName,
           fmt::format("field 'qk_nope_head_dim' is {} but head_dim ({}) - "
                       "qk_rope_head_dim ({}) = {}",
                       nope->dump(), c.headDim, c.qkRopeHeadDim,
                       c.headDim - c.qkRopeHeadDim));
  }

  c.validate();
  return c;
}

Config Config::fromFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(
        fmt::format("{}: cannot open config file", path));
  std::ostringstream text;
  text << in.rdbuf();
  return fromJsonText(text.str(), path);
}

void Config::validate() const {
  const std::string &src = sourceName;
  auto positive = [&](const char *field, int64_t v) {
    if (v <= 0)
      fail(src, fmt::format("field '{}' must be positive, found {}", field, v));
  };
  positive("vocab_size", vocabSize);
  positive("hidden_size", hiddenSize);
  positive("num_hidden_layers", numHiddenLayers);
  positive("num_attention_heads", numAttentionHeads);
  positive("head_dim", headDim);
  positive("qk_rope_head_dim", qkRopeHeadDim);
  positive("q_lora_rank", qLoraRank);
  positive("o_lora_rank", oLoraRank);
  positive("o_groups", oGroups);
  positive("sliding_window", slidingWindow);
  positive("n_routed_experts", nRoutedExperts);
  positive("num_experts_per_tok", numExpertsPerTok);
  positive("moe_intermediate_size", moeIntermediateSize);
  positive("hc_mult", hcMult);
  positive("hc_sinkhorn_iters", hcSinkhornIters);
  positive("index_n_heads", indexNHeads);
  positive("index_head_dim", indexHeadDim);
  positive("index_topk", indexTopk);

  if (numHiddenLayers > kMaxLayers || numNextnPredictLayers > kMaxLayers)
    fail(src, fmt::format("fields 'num_hidden_layers' ({}) and "
                          "'num_nextn_predict_layers' ({}) must be at most {}",
                          numHiddenLayers, numNextnPredictLayers, kMaxLayers));
  if (nRoutedExperts > kMaxExperts)
    fail(src, fmt::format("field 'n_routed_experts' ({}) must be at most {}",
                          nRoutedExperts, kMaxExperts));
  if (numKeyValueHeads != 1)
    fail(src, fmt::format("field 'num_key_value_heads' must be 1 (V4 "
                          "attends one shared latent KV head), found {}",
                          numKeyValueHeads));
  if (qkRopeHeadDim >= headDim)
    fail(src, fmt::format("field 'qk_rope_head_dim' ({}) must be smaller "
                          "than head_dim ({}): head_dim = nope + rope",
                          qkRopeHeadDim, headDim));
  if (qkRopeHeadDim % 2 != 0)
    fail(src, fmt::format("field 'qk_rope_head_dim' must be even (RoPE "
                          "rotates pairs), found {}",
                          qkRopeHeadDim));
  // The KV cache rounds the non-RoPE dims to FP8 in groups of 64, and the
  // official code asserts the width divides (448 = 7 x 64 in V4).
  if ((headDim - qkRopeHeadDim) % 64 != 0)
    fail(src, fmt::format("head_dim - qk_rope_head_dim = {} - {} = {} must be a "
                          "multiple of 64 (the KV cache's FP8 groups)",
                          headDim, qkRopeHeadDim, headDim - qkRopeHeadDim));
  // The indexer's keys and queries are Hadamard-rotated (a power of two)
  // and FP4-rounded in groups of 32.
  if (indexHeadDim < 32 || (indexHeadDim & (indexHeadDim - 1)) != 0)
    fail(src, fmt::format("field 'index_head_dim' must be a power of two of at "
                          "least 32 (Hadamard rotation, FP4 groups of 32), found {}",
                          indexHeadDim));
  if (numAttentionHeads % oGroups != 0)
    fail(src, fmt::format("field 'num_attention_heads' ({}) must be "
                          "divisible by 'o_groups' ({})",
                          numAttentionHeads, oGroups));
  if (nSharedExperts < 0)
    fail(src, fmt::format("field 'n_shared_experts' must be >= 0, found {}",
                          nSharedExperts));
  if (numExpertsPerTok > nRoutedExperts)
    fail(src, fmt::format("field 'num_experts_per_tok' ({}) exceeds "
                          "'n_routed_experts' ({})",
                          numExpertsPerTok, nRoutedExperts));
  if (numHashLayers < 0 || numHashLayers > numHiddenLayers)
    fail(src, fmt::format("field 'num_hash_layers' ({}) must be in [0, "
                          "num_hidden_layers = {}]",
                          numHashLayers, numHiddenLayers));
  if (numNextnPredictLayers < 0)
    fail(src, fmt::format("field 'num_nextn_predict_layers' must be >= 0, "
                          "found {}",
                          numNextnPredictLayers));
  if (static_cast<int64_t>(compressRatios.size()) != numLayersWithMtp())
    fail(src, fmt::format("field 'compress_ratios' has {} entries, expected "
                          "num_hidden_layers + num_nextn_predict_layers = "
                          "{} + {} = {}",
                          compressRatios.size(), numHiddenLayers,
                          numNextnPredictLayers, numLayersWithMtp()));
  bool anyCsa = false;
  for (size_t l = 0; l < compressRatios.size(); ++l) {
    int64_t r = compressRatios[l];
    if (r != 0 && r != 4 && r != 128)
      fail(src, fmt::format("field 'compress_ratios[{}]' is {}; V4 layers "
                            "use 0 (window), 4 (CSA) or 128 (HCA)",
                            l, r));
    anyCsa |= r == 4;
  }
  if (anyCsa && indexHeadDim <= qkRopeHeadDim)
    fail(src, fmt::format("field 'index_head_dim' ({}) must exceed "
                          "qk_rope_head_dim ({}): the indexer RoPEs its "
                          "tail",
                          indexHeadDim, qkRopeHeadDim));
  if (expertDtype != "fp4" && expertDtype != "fp8")
    fail(src, fmt::format("field 'expert_dtype' must be \"fp4\" or \"fp8\", "
                          "found \"{}\"",
                          expertDtype));
  if (scoringFunc != "sqrtsoftplus" && scoringFunc != "sigmoid" &&
      scoringFunc != "softmax")
    fail(src, fmt::format("field 'scoring_func' must be sqrtsoftplus, "
                          "sigmoid or softmax, found \"{}\"",
                          scoringFunc));
  if (!(rmsNormEps > 0))
    fail(src, fmt::format("field 'rms_norm_eps' must be positive, found {}",
                          rmsNormEps));
  if (!(hcEps >= 0))
    fail(src, fmt::format("field 'hc_eps' must be >= 0, found {}", hcEps));
  if (!(swigluLimit >= 0))
    fail(src, fmt::format("field 'swiglu_limit' must be >= 0, found {}",
                          swigluLimit));
  if (!(ropeTheta > 0) || !(compressRopeTheta > 0))
    fail(src, "fields 'rope_theta' and 'compress_rope_theta' must be "
              "positive");
  if (ropeScaling) {
    if (!(ropeScaling->factor > 0))
      fail(src, fmt::format("field 'rope_scaling.factor' must be positive, "
                            "found {}",
                            ropeScaling->factor));
    if (ropeScaling->originalMaxPositionEmbeddings < 0)
      fail(src, "field 'rope_scaling.original_max_position_embeddings' must "
                "be >= 0");
  }
  if (quantization) {
    const QuantizationConfig &q = *quantization;
    if (q.quantMethod != "fp8")
      fail(src, fmt::format("field 'quantization_config.quant_method' must "
                            "be \"fp8\", found \"{}\"",
                            q.quantMethod));
    if (q.fmt != "e4m3")
      fail(src, fmt::format("field 'quantization_config.fmt' must be "
                            "\"e4m3\", found \"{}\"",
                            q.fmt));
    if (q.scaleFmt != "ue8m0" && q.scaleFmt != "f32" && q.scaleFmt != "fp32")
      fail(src, fmt::format("field 'quantization_config.scale_fmt' must be "
                            "\"ue8m0\" (or \"f32\"), found \"{}\"",
                            q.scaleFmt));
    if (q.weightBlockRows <= 0 || q.weightBlockCols <= 0)
      fail(src, fmt::format("field 'quantization_config.weight_block_size' "
                            "must be positive, found [{}, {}]",
                            q.weightBlockRows, q.weightBlockCols));
    if (expertsFp4()) {
      // FP4 experts: 1x32 scale groups along each input dimension.
      if (hiddenSize % 32 != 0 || moeIntermediateSize % 32 != 0)
        fail(src, fmt::format("FP4 experts need hidden_size ({}) and "
                              "moe_intermediate_size ({}) divisible by 32",
                              hiddenSize, moeIntermediateSize));
    }
  }
}

std::string Config::toJson() const {
  json j;
  j["architectures"] = {"DeepseekV4ForCausalLM"};
  j["model_type"] = modelType;
  j["vocab_size"] = vocabSize;
  j["hidden_size"] = hiddenSize;
  j["num_hidden_layers"] = numHiddenLayers;
  j["num_attention_heads"] = numAttentionHeads;
  j["num_key_value_heads"] = numKeyValueHeads;
  j["head_dim"] = headDim;
  j["qk_rope_head_dim"] = qkRopeHeadDim;
  j["q_lora_rank"] = qLoraRank;
  j["o_lora_rank"] = oLoraRank;
  j["o_groups"] = oGroups;
  j["sliding_window"] = slidingWindow;
  j["n_routed_experts"] = nRoutedExperts;
  j["num_experts_per_tok"] = numExpertsPerTok;
  j["n_shared_experts"] = nSharedExperts;
  j["moe_intermediate_size"] = moeIntermediateSize;
  j["routed_scaling_factor"] = routedScalingFactor;
  j["norm_topk_prob"] = normTopkProb;
  j["scoring_func"] = scoringFunc;
  j["topk_method"] = topkMethod;
  j["swiglu_limit"] = swigluLimit;
  j["num_hash_layers"] = numHashLayers;
  j["expert_dtype"] = expertDtype;
  j["hc_mult"] = hcMult;
  j["hc_sinkhorn_iters"] = hcSinkhornIters;
  j["hc_eps"] = hcEps;
  j["index_n_heads"] = indexNHeads;
  j["index_head_dim"] = indexHeadDim;
  j["index_topk"] = indexTopk;
  j["rope_theta"] = ropeTheta;
  j["compress_rope_theta"] = compressRopeTheta;
  if (ropeScaling) {
    json rs;
    rs["type"] = ropeScaling->type;
    rs["factor"] = ropeScaling->factor;
    rs["beta_fast"] = ropeScaling->betaFast;
    rs["beta_slow"] = ropeScaling->betaSlow;
    rs["original_max_position_embeddings"] =
        ropeScaling->originalMaxPositionEmbeddings;
    if (ropeScaling->mscale != 0)
      rs["mscale"] = ropeScaling->mscale;
    if (ropeScaling->mscaleAllDim != 0)
      rs["mscale_all_dim"] = ropeScaling->mscaleAllDim;
    j["rope_scaling"] = rs;
  }
  j["max_position_embeddings"] = maxPositionEmbeddings;
  j["rms_norm_eps"] = rmsNormEps;
  j["num_nextn_predict_layers"] = numNextnPredictLayers;
  j["tie_word_embeddings"] = tieWordEmbeddings;
  j["compress_ratios"] = compressRatios;
  if (quantization) {
    json q;
    q["quant_method"] = quantization->quantMethod;
    q["fmt"] = quantization->fmt;
    q["activation_scheme"] = quantization->activationScheme;
    q["scale_fmt"] = quantization->scaleFmt;
    q["weight_block_size"] = {quantization->weightBlockRows,
                              quantization->weightBlockCols};
    j["quantization_config"] = q;
  }
  return j.dump(2) + "\n";
}

std::string Config::summary() const {
  std::string kinds;
  int64_t window = 0, csa = 0, hca = 0;
  for (int64_t l = 0; l < numLayersWithMtp(); ++l) {
    LayerKind k = layerKind(l);
    window += k == LayerKind::Window;
    csa += k == LayerKind::CSA;
    hca += k == LayerKind::HCA;
  }
  std::string out;
  out += fmt::format("model: {} (config keys: {})\n", modelType,
                     keyStyle == ConfigKeyStyle::HuggingFace ? "huggingface"
                                                             : "inference");
  out += fmt::format("hidden {} layers {} (+{} mtp) vocab {}\n", hiddenSize,
                     numHiddenLayers, numNextnPredictLayers, vocabSize);
  out += fmt::format("attention: heads {} head_dim {} (nope {} rope {}) "
                     "q_lora {} o_lora {} o_groups {} window {}\n",
                     numAttentionHeads, headDim, nopeHeadDim(), qkRopeHeadDim,
                     qLoraRank, oLoraRank, oGroups, slidingWindow);
  out += fmt::format("layer kinds: window {} csa {} hca {}; compress_ratios "
                     "[{}]\n",
                     window, csa, hca, fmt::join(compressRatios, ", "));
  out += fmt::format("indexer: heads {} head_dim {} topk {}\n", indexNHeads,
                     indexHeadDim, indexTopk);
  out += fmt::format("moe: experts {} top-{} shared {} inter {} hash layers "
                     "{} scoring {} experts {}\n",
                     nRoutedExperts, numExpertsPerTok, nSharedExperts,
                     moeIntermediateSize, numHashLayers, scoringFunc,
                     expertDtype);
  out += fmt::format("hc: mult {} sinkhorn {}\n", hcMult, hcSinkhornIters);
  if (quantization)
    out += fmt::format("quantization: {} {} scales {} block {}x{}\n",
                       quantization->quantMethod, quantization->fmt,
                       quantization->scaleFmt, quantization->weightBlockRows,
                       quantization->weightBlockCols);
  else
    out += "quantization: none (bf16)\n";
  return out;
}

std::string Config::tinyJson() {
  return R"json({
  "architectures": ["DeepseekV4ForCausalLM"],
  "model_type": "deepseek_v4",
  "vocab_size": 1024,
  "hidden_size": 256,
  "num_hidden_layers": 4,
  "num_attention_heads": 4,
  "num_key_value_heads": 1,
  "head_dim": 256,
  "qk_rope_head_dim": 64,
  "q_lora_rank": 128,
  "o_lora_rank": 64,
  "o_groups": 2,
  "sliding_window": 16,
  "n_routed_experts": 8,
  "num_experts_per_tok": 2,
  "n_shared_experts": 1,
  "moe_intermediate_size": 128,
  "routed_scaling_factor": 1.5,
  "norm_topk_prob": true,
  "scoring_func": "sqrtsoftplus",
  "topk_method": "noaux_tc",
  "swiglu_limit": 10.0,
  "num_hash_layers": 1,
  "expert_dtype": "fp4",
  "hc_mult": 4,
  "hc_sinkhorn_iters": 20,
  "hc_eps": 1e-06,
  "index_n_heads": 16,
  "index_head_dim": 128,
  "index_topk": 8,
  "rope_theta": 10000.0,
  "compress_rope_theta": 160000.0,
  "rope_scaling": {
    "type": "yarn",
    "factor": 16.0,
    "beta_fast": 32.0,
    "beta_slow": 1.0,
    "original_max_position_embeddings": 256
  },
  "max_position_embeddings": 4096,
  "rms_norm_eps": 1e-06,
  "num_nextn_predict_layers": 1,
  "tie_word_embeddings": false,
  "compress_ratios": [0, 4, 128, 0, 0],
  "quantization_config": {
    "quant_method": "fp8",
    "fmt": "e4m3",
    "activation_scheme": "dynamic",
    "scale_fmt": "ue8m0",
    "weight_block_size": [128, 128]
  }
}
)json";
}

Config Config::tiny() { return fromJsonText(tinyJson(), "<tiny config>"); }

// V4-Flash (../shared/V4.md): the tiny config's structure with the published sizes.
Config Config::flash() {
  Config c = tiny();
  c.vocabSize = 129280;
  c.hiddenSize = 4096;
  c.numHiddenLayers = 43;
  c.numAttentionHeads = 64;
  c.headDim = 512;
  c.qLoraRank = 1024;
  c.oLoraRank = 1024;
  c.oGroups = 8;
  c.slidingWindow = 128;
  c.nRoutedExperts = 256;
  c.numExpertsPerTok = 6;
  c.moeIntermediateSize = 2048;
  c.numHashLayers = 3;
  c.indexNHeads = 64;
  c.indexTopk = 512;
  c.ropeScaling->originalMaxPositionEmbeddings = 65536;
  c.maxPositionEmbeddings = 1048576;
  c.compressRatios = {0, 0};
  for (int i = 0; i < 20; ++i)
    c.compressRatios.insert(c.compressRatios.end(), {4, 128});
  c.compressRatios.insert(c.compressRatios.end(), {4, 0});
  return fromJsonText(c.toJson(), "<V4-Flash config>");
}

std::string Config::flashJson() { return flash().toJson(); }

} // namespace tlv4
