// Config: the DeepSeek-V4 model configuration. Parsed from the official
// Hugging Face config.json (or from the inference repository's own key names,
// which are mapped), validated field by field, with the derived values the
// model code needs (layer kinds, nope width, hash layers, ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tlv4 {

// Attention kind of one layer, decided by compress_ratios[layer]:
// 0 = sliding-window only, 4 = CSA (overlapping compression + indexer),
// 128 = HCA (heavy compression, no indexer). Other ratios are rejected.
enum class LayerKind { Window, CSA, HCA };
const char *layerKindName(LayerKind kind);

// Which key spelling config.json used.
enum class ConfigKeyStyle { HuggingFace, Inference };

struct RopeScaling {
  std::string type = "yarn";
  double factor = 1.0;
  double betaFast = 32.0;
  double betaSlow = 1.0;
  int64_t originalMaxPositionEmbeddings = 0;
  // Optional YaRN attention-scale knobs; 0 when the file does not set them.
  double mscale = 0.0;
  double mscaleAllDim = 0.0;
};

struct QuantizationConfig {
  std::string quantMethod = "fp8";
  std::string fmt = "e4m3";
  std::string activationScheme = "dynamic";
  std::string scaleFmt = "ue8m0";
  int64_t weightBlockRows = 128; // weight_block_size[0] (output dim)
  int64_t weightBlockCols = 128; // weight_block_size[1] (input dim)
};

struct Config {
  // --- fields, named after the HF config.json keys (lowerCamel) ---
  std::string modelType = "deepseek_v4";
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t numHiddenLayers = 0;
  int64_t numAttentionHeads = 0;
  int64_t numKeyValueHeads = 1;
  int64_t headDim = 0;       // nope + rope
  int64_t qkRopeHeadDim = 0; // the RoPE'd tail of each head
  int64_t qLoraRank = 0;
  int64_t oLoraRank = 0;
  int64_t oGroups = 0;
  int64_t slidingWindow = 0;

  int64_t nRoutedExperts = 0;
  int64_t numExpertsPerTok = 0;
  int64_t nSharedExperts = 0;
  int64_t moeIntermediateSize = 0;
  double routedScalingFactor = 1.0;
  bool normTopkProb = true;
  std::string scoringFunc = "sqrtsoftplus";
  std::string topkMethod = "noaux_tc";
  double swigluLimit = 0.0; // 0 = no clamp
  int64_t numHashLayers = 0;
  std::string expertDtype = "fp4"; // "fp4" or "fp8"

  int64_t hcMult = 4;
  int64_t hcSinkhornIters = 20;
  double hcEps = 1e-6;

  int64_t indexNHeads = 0;
  int64_t indexHeadDim = 0;
  int64_t indexTopk = 0;

  double ropeTheta = 10000.0;
  double compressRopeTheta = 160000.0;
  std::optional<RopeScaling> ropeScaling;
  int64_t maxPositionEmbeddings = 0;
  double rmsNormEps = 1e-6;

  int64_t numNextnPredictLayers = 0;
  bool tieWordEmbeddings = false;
  // One entry per layer, then one per MTP layer.
  std::vector<int64_t> compressRatios;

  // Absent = unquantised (bf16) checkpoint.
  std::optional<QuantizationConfig> quantization;

  // Where it came from (file path or a label), used in error messages.
  std::string sourceName = "<config>";
  ConfigKeyStyle keyStyle = ConfigKeyStyle::HuggingFace;

  // --- derived values ---
  int64_t nopeHeadDim() const { return headDim - qkRopeHeadDim; }
  // Main layers plus MTP layers. MTP layer k has global index
  // numHiddenLayers + k (that is how compress_ratios indexes it).
  int64_t numLayersWithMtp() const {
    return numHiddenLayers + numNextnPredictLayers;
  }
  int64_t compressRatio(int64_t layer) const;
  LayerKind layerKind(int64_t layer) const;
  bool hasCompressor(int64_t layer) const {
    return layerKind(layer) != LayerKind::Window;
  }
  bool hasIndexer(int64_t layer) const {
    return layerKind(layer) == LayerKind::CSA;
  }
  // Compressor overlap factor c: 2 for overlapping (CSA) compression, else 1.
  int64_t compressorOverlap(int64_t layer) const {
    return layerKind(layer) == LayerKind::CSA ? 2 : 1;
  }
  // Layers with global index < num_hash_layers route by the fixed tid2eid
  // table; the rest (MTP included) route by score top-k. (verify for MTP)
  bool isHashLayer(int64_t layer) const { return layer < numHashLayers; }
  bool expertsFp4() const { return expertDtype == "fp4"; }
  int64_t headsPerGroup() const { return numAttentionHeads / oGroups; }
  // The residual stream width with hyper-connections: hc_mult * hidden.
  int64_t hcDim() const { return hcMult * hiddenSize; }
  // (2 + hc_mult) * hc_mult mixes per hc block: pre, post, comb.
  int64_t hcMixes() const { return (2 + hcMult) * hcMult; }
  bool isQuantized() const { return quantization.has_value(); }

  // --- parsing ---
  // Parse and validate. Throws std::runtime_error naming the source and the
  // field for anything missing, mistyped or inconsistent.
  static Config fromJsonText(const std::string &text,
                             const std::string &sourceName = "<config>");
  static Config fromFile(const std::string &path);
  // The tiny test configuration (V4.md "Tiny config for tests"); identical to
  // test/unit/models/Inputs/tiny_config.json.
  static Config tiny();
  static std::string tinyJson();
  // V4-Flash's published config (../shared/V4.md), for kernel sets and benchmarks at the
  // real shapes (`tl-v4 make-tiny --config` with fewer layers writes a checkpoint of it).
  static Config flash();
  static std::string flashJson();

  // Re-check every invariant; fromJsonText() already calls it.
  void validate() const;
  // Serialise with the HF key names (what make-tiny writes as config.json).
  std::string toJson() const;
  // A few human-readable lines (for `tl-v4 inspect`).
  std::string summary() const;
};

} // namespace tlv4
