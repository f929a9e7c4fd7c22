// WeightMap: the one table of DeepSeek-V4 tensor names, dtypes and shapes,
// derived from the Config, and the Transformers-style name mapping.
//
// Notation below: d = hidden_size, H = num_attention_heads, D = head_dim,
// G = o_groups, c = compressor overlap (2 for CSA, 1 for HCA), r = ratio,
// E = n_routed_experts, I = moe_intermediate_size, k = hc_mult.
// Linear weights are stored [out, in] (torch nn.Linear layout).
//
// Shapes we are confident about come straight from V4.md. Ones inferred
// from the module structure rather than read off a real header are marked
// (verify); the verifier reports a misshapen tensor by name, so a wrong
// guess shows up at once on the first real checkpoint.
#include "tlv4/WeightMap.h"

#include <fmt/format.h>

#include <stdexcept>

namespace tlv4 {
namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

class TableBuilder {
public:
  explicit TableBuilder(const Config &config) : c_(config) {}

  std::vector<ExpectedTensor> build() {
    add("embed.weight", DType::BF16, {c_.vocabSize, c_.hiddenSize});
    for (int64_t l = 0; l < c_.numHiddenLayers; ++l)
      addBlock(fmt::format("layers.{}.", l), l);
    add("norm.weight", DType::BF16, {c_.hiddenSize});
    if (!c_.tieWordEmbeddings)
      add("head.weight", DType::BF16, {c_.vocabSize, c_.hiddenSize});
    addHcHead("");
    for (int64_t k = 0; k < c_.numNextnPredictLayers; ++k)
      addMtp(k);
    return std::move(out_);
  }

private:
  void add(const std::string &name, DType dtype, std::vector<int64_t> shape,
           std::vector<DType> also = {}) {
    out_.push_back({name, dtype, std::move(shape), TensorRole::Plain,
                    std::move(also)});
  }

  // A linear layer "<stem>.weight" [out, in] stored FP8 with 128x128 block
  // scales "<stem>.scale" when the checkpoint is quantised, else bf16.
  void addFp8Linear(const std::string &stem, int64_t out, int64_t in) {
    if (!c_.quantization) {
      add(stem + ".weight", DType::BF16, {out, in});
      return;
    }
    const QuantizationConfig &q = *c_.quantization;
    out_.push_back({stem + ".weight", DType::F8E4M3, {out, in},
                    TensorRole::Fp8Weight, {}});
    out_.push_back({stem + ".scale", DType::F8E8M0,
                    {ceilDiv(out, q.weightBlockRows),
                     ceilDiv(in, q.weightBlockCols)},
                    TensorRole::Fp8Scale, {DType::F32}});
  }

  // Routed expert linear: FP4 e2m1 with 1x32 ue8m0 scales when
  // expert_dtype is fp4, else like any FP8 linear.
  void addExpertLinear(const std::string &stem, int64_t out, int64_t in) {
    if (!c_.quantization || !c_.expertsFp4()) {
      addFp8Linear(stem, out, in);
      return;
    }
    out_.push_back({stem + ".weight", DType::I8, {out, in},
                    TensorRole::Fp4Weight, {DType::U8, DType::F4}});
    out_.push_back({stem + ".scale", DType::F8E8M0, {out, in / 32},
                    TensorRole::Fp4Scale, {DType::F32}});
  }

  void addHc(const std::string &prefix, const char *which) {
    // hc_{attn,ffn}_fn [(2+k)*k, k*d], base [(2+k)*k], scale [3] (pre, post,
    // comb multipliers), all f32.
    add(fmt::format("{}hc_{}_fn", prefix, which), DType::F32,
        {c_.hcMixes(), c_.hcDim()});
    add(fmt::format("{}hc_{}_base", prefix, which), DType::F32,
        {c_.hcMixes()});
    add(fmt::format("{}hc_{}_scale", prefix, which), DType::F32, {3});
  }

  void addHcHead(const std::string &prefix) {
    // Final mixing of the k copies: fn [k, k*d], base [k], scale [1].
    add(prefix + "hc_head_fn", DType::F32, {c_.hcMult, c_.hcDim()});
    add(prefix + "hc_head_base", DType::F32, {c_.hcMult});
    add(prefix + "hc_head_scale", DType::F32, {1});
  }

  // Compressor of width `width` (512 for attention, index_head_dim for the
  // indexer). wkv/wgate project d -> c*width; V4.md lists them bf16 in the
  // format table and "f32" in the prose, so both are accepted (verify).
  void addCompressor(const std::string &prefix, int64_t layer,
                     int64_t width) {
    int64_t ratio = c_.compressRatio(layer);
    int64_t cw = c_.compressorOverlap(layer) * width;
    add(prefix + "wkv.weight", DType::BF16, {cw, c_.hiddenSize},
        {DType::F32});
    add(prefix + "wgate.weight", DType::BF16, {cw, c_.hiddenSize},
        {DType::F32});
    add(prefix + "ape", DType::F32, {ratio, cw}); // learned position bias
    add(prefix + "norm.weight", DType::BF16, {width});
  }

  void addAttention(const std::string &p, int64_t layer) {
    const int64_t d = c_.hiddenSize, H = c_.numAttentionHeads,
                  D = c_.headDim, G = c_.oGroups;
    addFp8Linear(p + "wq_a", c_.qLoraRank, d);
    add(p + "q_norm.weight", DType::BF16, {c_.qLoraRank});
    addFp8Linear(p + "wq_b", H * D, c_.qLoraRank);
    // One shared latent KV head of width D.
    addFp8Linear(p + "wkv", c_.numKeyValueHeads * D, d);
    add(p + "kv_norm.weight", DType::BF16, {D});
    // wo_a: per group g, the g-th (H/G)*D slice of the attention output
    // maps to o_lora; stored stacked as [G*o_lora, H*D/G] (V4.md).
    addFp8Linear(p + "wo_a", G * c_.oLoraRank, H * D / G);
    addFp8Linear(p + "wo_b", d, G * c_.oLoraRank);
    add(p + "attn_sink", DType::F32, {H});
    if (!c_.hasCompressor(layer))
      return;
    addCompressor(p + "compressor.", layer, D);
    if (!c_.hasIndexer(layer))
      return;
    // Lightning indexer: queries from the attention's q_norm output
    // (q_lora wide), one weight per index head, own ratio-4 compressor of
    // width index_head_dim (overlapping like CSA: c = 2).
    const std::string ip = p + "indexer.";
    addFp8Linear(ip + "wq_b", c_.indexNHeads * c_.indexHeadDim, c_.qLoraRank);
    add(ip + "weights_proj.weight", DType::BF16, {c_.indexNHeads, d});
    addCompressor(ip + "compressor.", layer, c_.indexHeadDim);
  }

  void addMoe(const std::string &p, int64_t layer) {
    const int64_t d = c_.hiddenSize, E = c_.nRoutedExperts,
                  I = c_.moeIntermediateSize;
    add(p + "gate.weight", DType::BF16, {E, d});
    // Released V4 files hold tid2eid as I64; I32 is accepted too.
    if (c_.isHashLayer(layer))
      add(p + "gate.tid2eid", DType::I64, {c_.vocabSize, c_.numExpertsPerTok},
          {DType::I32});
    else
      add(p + "gate.bias", DType::F32, {E});
    for (int64_t e = 0; e < E; ++e) {
      std::string ep = fmt::format("{}experts.{}.", p, e);
      addExpertLinear(ep + "w1", I, d); // gate
      addExpertLinear(ep + "w2", d, I); // down
      addExpertLinear(ep + "w3", I, d); // up
    }
    if (c_.nSharedExperts > 0) {
      // The shared experts are one FP8 SwiGLU MLP of width
      // n_shared_experts * moe_intermediate_size.
      int64_t SI = c_.nSharedExperts * I;
      addFp8Linear(p + "shared_experts.w1", SI, d);
      addFp8Linear(p + "shared_experts.w2", d, SI);
      addFp8Linear(p + "shared_experts.w3", SI, d);
    }
  }

  void addBlock(const std::string &p, int64_t layer) {
    add(p + "attn_norm.weight", DType::BF16, {c_.hiddenSize});
    add(p + "ffn_norm.weight", DType::BF16, {c_.hiddenSize});
    addHc(p, "attn");
    addHc(p, "ffn");
    addAttention(p + "attn.", layer);
    addMoe(p + "ffn.", layer);
  }

  // MTP layer k (global layer index num_hidden_layers + k): enorm/hnorm
  // on the next-token embedding and the hidden state, e_proj/h_proj
  // (d -> d, FP8 like other linears: verify), a full block, its own
  // hc head and final norm; embed and head are shared with the main model.
  void addMtp(int64_t k) {
    std::string p = fmt::format("mtp.{}.", k);
    int64_t layer = c_.numHiddenLayers + k;
    add(p + "enorm.weight", DType::BF16, {c_.hiddenSize});
    add(p + "hnorm.weight", DType::BF16, {c_.hiddenSize});
    addFp8Linear(p + "e_proj", c_.hiddenSize, c_.hiddenSize);
    addFp8Linear(p + "h_proj", c_.hiddenSize, c_.hiddenSize);
    addBlock(p, layer);
    add(p + "norm.weight", DType::BF16, {c_.hiddenSize});
    addHcHead(p);
  }

  const Config &c_;
  std::vector<ExpectedTensor> out_;
};

bool startsWith(const std::string &s, const std::string &prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Replace `from` at the start of `s` with `to`; true if it matched.
bool rewritePrefix(std::string &s, const std::string &from,
                   const std::string &to) {
  if (!startsWith(s, from))
    return false;
  s = to + s.substr(from.size());
  return true;
}

bool rewriteSuffix(std::string &s, const std::string &from,
                   const std::string &to) {
  if (s.size() < from.size() ||
      s.compare(s.size() - from.size(), from.size(), from) != 0)
    return false;
  s = s.substr(0, s.size() - from.size()) + to;
  return true;
}

// Within-block renames (Transformers -> native), applied to the part after
// "layers.N." / "mtp.K.". First match wins.
struct Rename {
  const char *from;
  const char *to;
};
constexpr Rename kBlockRenames[] = {
    {"self_attn.q_a_proj.", "attn.wq_a."},
    {"self_attn.q_a_layernorm.", "attn.q_norm."},
    {"self_attn.q_norm.", "attn.q_norm."},
    {"self_attn.q_b_proj.", "attn.wq_b."},
    {"self_attn.kv_proj.", "attn.wkv."},
    {"self_attn.kv_a_layernorm.", "attn.kv_norm."},
    {"self_attn.kv_layernorm.", "attn.kv_norm."},
    {"self_attn.kv_norm.", "attn.kv_norm."},
    {"self_attn.o_a_proj.", "attn.wo_a."},
    {"self_attn.o_b_proj.", "attn.wo_b."},
    {"self_attn.sinks", "attn.attn_sink"},
    {"self_attn.compressor.", "attn.compressor."},
    {"self_attn.indexer.", "attn.indexer."},
    {"input_layernorm.", "attn_norm."},
    {"post_attention_layernorm.", "ffn_norm."},
    {"attn_hc.fn", "hc_attn_fn"},
    {"attn_hc.base", "hc_attn_base"},
    {"attn_hc.scale", "hc_attn_scale"},
    {"ffn_hc.fn", "hc_ffn_fn"},
    {"ffn_hc.base", "hc_ffn_base"},
    {"ffn_hc.scale", "hc_ffn_scale"},
    {"mlp_hc.fn", "hc_ffn_fn"},
    {"mlp_hc.base", "hc_ffn_base"},
    {"mlp_hc.scale", "hc_ffn_scale"},
    {"mlp.gate.e_score_correction_bias", "ffn.gate.bias"},
    {"mlp.", "ffn."},
    {"hc_head.fn", "hc_head_fn"},
    {"hc_head.base", "hc_head_base"},
    {"hc_head.scale", "hc_head_scale"},
    {"shared_head.norm.", "norm."},
};

// Native -> Transformers for the inverse mapping; the first spelling above
// for each native name. Order matters: longer native prefixes first.
constexpr Rename kBlockRenamesInverse[] = {
    {"attn.wq_a.", "self_attn.q_a_proj."},
    {"attn.q_norm.", "self_attn.q_a_layernorm."},
    {"attn.wq_b.", "self_attn.q_b_proj."},
    {"attn.wkv.", "self_attn.kv_proj."},
    {"attn.kv_norm.", "self_attn.kv_a_layernorm."},
    {"attn.wo_a.", "self_attn.o_a_proj."},
    {"attn.wo_b.", "self_attn.o_b_proj."},
    {"attn.attn_sink", "self_attn.sinks"},
    {"attn.compressor.", "self_attn.compressor."},
    {"attn.indexer.", "self_attn.indexer."},
    {"attn_norm.", "input_layernorm."},
    {"ffn_norm.", "post_attention_layernorm."},
    {"hc_attn_fn", "attn_hc.fn"},
    {"hc_attn_base", "attn_hc.base"},
    {"hc_attn_scale", "attn_hc.scale"},
    {"hc_ffn_fn", "ffn_hc.fn"},
    {"hc_ffn_base", "ffn_hc.base"},
    {"hc_ffn_scale", "ffn_hc.scale"},
    {"ffn.gate.bias", "mlp.gate.e_score_correction_bias"},
    {"ffn.", "mlp."},
    {"hc_head_fn", "hc_head.fn"},
    {"hc_head_base", "hc_head.base"},
    {"hc_head_scale", "hc_head.scale"},
    {"norm.", "shared_head.norm."},
};

// Expert projections inside ffn.{experts.N,shared_experts}.
constexpr Rename kMlpRenames[] = {
    {"gate_proj.", "w1."},
    {"down_proj.", "w2."},
    {"up_proj.", "w3."},
};

/// Renames the expert-MLP leaf of `rest` (gate_proj <-> w1, ...) below the
/// shared-expert container or below `experts.N.`; `toNative` picks the
/// direction of kMlpRenames.
std::string renameMlpLeaf(std::string rest, const std::string &sharedContainer,
                          const std::string &expertsContainer, bool toNative) {
  for (const std::string &container : {sharedContainer, expertsContainer}) {
    if (!startsWith(rest, container))
      continue;
    size_t at = container.size();
    if (container == expertsContainer) {
      size_t dot = rest.find('.', at);
      if (dot == std::string::npos)
        break;
      at = dot + 1;
    }
    std::string tail = rest.substr(at);
    for (const Rename &r : kMlpRenames)
      if (toNative ? rewritePrefix(tail, r.from, r.to) : rewritePrefix(tail, r.to, r.from))
        break;
    return rest.substr(0, at) + tail;
  }
  return rest;
}

// ffn.experts.N.gate_proj.weight / ffn.shared_experts.up_proj.weight
std::string renameInBlock(std::string rest) {
  for (const Rename &r : kBlockRenames)
    if (rewritePrefix(rest, r.from, r.to))
      break;
  return renameMlpLeaf(std::move(rest), "ffn.shared_experts.", "ffn.experts.",
                       /*toNative=*/true);
}

std::string renameInBlockInverse(std::string rest) {
  for (const Rename &r : kBlockRenamesInverse)
    if (rewritePrefix(rest, r.from, r.to))
      break;
  return renameMlpLeaf(std::move(rest), "mlp.shared_experts.", "mlp.experts.",
                       /*toNative=*/false);
}

// "layers.12.rest" -> {12, "rest"}; false when not of that form.
bool splitIndexed(const std::string &s, const std::string &prefix,
                  int64_t &index, std::string &rest) {
  if (!startsWith(s, prefix))
    return false;
  size_t dot = s.find('.', prefix.size());
  if (dot == std::string::npos)
    return false;
  std::string num = s.substr(prefix.size(), dot - prefix.size());
  if (num.empty() || num.size() > 9 ||
      num.find_first_not_of("0123456789") != std::string::npos)
    return false;
  index = std::stoll(num);
  rest = s.substr(dot + 1);
  return true;
}

} // namespace

std::string nativeToTransformers(const std::string &name,
                                 const Config &config) {
  // Quantisation scales end in ".scale"; hc parameters in "_scale".
  std::string s = name;
  rewriteSuffix(s, ".scale", ".weight_scale_inv");
  if (rewritePrefix(s, "head.", "lm_head."))
    return s;
  if (rewritePrefix(s, "embed.", "model.embed_tokens."))
    return s;
  for (const char *which : {"fn", "base", "scale"})
    if (s == std::string("hc_head_") + which)
      return std::string("model.hc_head.") + which;
  int64_t index = 0;
  std::string rest;
  if (splitIndexed(s, "layers.", index, rest))
    return fmt::format("model.layers.{}.{}", index, renameInBlockInverse(rest));
  if (splitIndexed(s, "mtp.", index, rest))
    return fmt::format("model.layers.{}.{}", index + config.numHiddenLayers,
                       renameInBlockInverse(rest));
  return "model." + s;
}

std::vector<ExpectedTensor> expectedTensors(const Config &config) {
  config.validate();
  return TableBuilder(config).build();
}

std::vector<int64_t> storedShapeFor(const ExpectedTensor &e, DType stored) {
  std::vector<int64_t> shape = e.shape;
  if (e.role == TensorRole::Fp4Weight && stored != DType::F4 && !shape.empty())
    shape.back() /= 2;
  return shape;
}

std::string describeExpected(const ExpectedTensor &e) {
  std::string text = fmt::format("{} [{}]", dtypeName(e.dtype),
                                 fmt::join(storedShapeFor(e, e.dtype), ", "));
  if (e.role == TensorRole::Fp4Weight && e.dtype != DType::F4)
    text += fmt::format(" (fp4 e2m1 [{}] packed in pairs)",
                        fmt::join(e.shape, ", "));
  return text;
}

std::string scaleNameFor(const std::string &weightName) {
  std::string s = weightName;
  if (rewriteSuffix(s, ".weight", ".scale"))
    return s;
  return weightName + ".scale";
}

bool looksTransformersStyle(const std::string &name) {
  return startsWith(name, "model.") || startsWith(name, "lm_head.");
}

std::optional<std::string> transformersToNative(const std::string &name,
                                                const Config &config) {
  if (!looksTransformersStyle(name))
    return std::nullopt;
  std::string s = name;
  // Scales: weight_scale_inv (V3 style) -> scale.
  rewriteSuffix(s, ".weight_scale_inv", ".scale");
  if (rewritePrefix(s, "lm_head.", "head."))
    return s;
  rewritePrefix(s, "model.", "");
  if (rewritePrefix(s, "embed_tokens.", "embed."))
    return s;
  for (const char *which : {"fn", "base", "scale"})
    if (s == std::string("hc_head.") + which)
      return std::string("hc_head_") + which;
  if (startsWith(s, "norm."))
    return s;
  int64_t layer = 0;
  std::string rest;
  if (!splitIndexed(s, "layers.", layer, rest))
    return std::nullopt;
  rest = renameInBlock(rest);
  if (layer >= config.numHiddenLayers)
    return fmt::format("mtp.{}.{}", layer - config.numHiddenLayers, rest);
  return fmt::format("layers.{}.{}", layer, rest);
}

} // namespace tlv4
