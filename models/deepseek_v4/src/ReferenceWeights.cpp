// ReferenceWeights: loads the f32 module weights of the V4 reference from
// a WeightSource, checking every shape against the Config.
#include "tlv4/ReferenceWeights.h"

#include "tlv4/Checkpoint.h"
#include "tlv4/WeightMap.h"

#include <fmt/format.h>
#include <stdexcept>

namespace tlv4::ref {

CheckpointWeightSource::CheckpointWeightSource(
    std::shared_ptr<const Checkpoint> checkpoint)
    : checkpoint_(std::move(checkpoint)) {}

const Config &CheckpointWeightSource::config() const {
  return checkpoint_->config();
}

bool CheckpointWeightSource::has(const std::string &name) const {
  return checkpoint_->has(name);
}

WeightTensor CheckpointWeightSource::get(const std::string &name) const {
  TensorView view = checkpoint_->tensor(name);
  WeightTensor t;
  t.shape = view.shape;
  // A weight with a block-scale companion is stored FP8/FP4 (packed FP4 as
  // I8/U8 included): the reference feeds it FP8-quantised activations.
  const bool isWeight =
      name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;
  t.quantized = view.dtype == DType::F8E4M3 || view.dtype == DType::F4 ||
                (isWeight && checkpoint_->has(scaleNameFor(name)));
  t.values = checkpoint_->dequantize(name);
  return t;
}

std::string CheckpointWeightSource::describe() const {
  return fmt::format("checkpoint {}", checkpoint_->dir());
}

WeightTensor MemoryWeightSource::get(const std::string &name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end())
    throw std::runtime_error(
        fmt::format("{}: tensor '{}' is missing", describe(), name));
  return it->second;
}

namespace {

std::string shapeText(const std::vector<int64_t> &shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// Fetch a tensor and check its element count matches `shape`.
WeightTensor fetch(const WeightSource &src, const std::string &name,
                   const std::vector<int64_t> &shape) {
  if (!src.has(name))
    throw std::runtime_error(fmt::format(
        "{}: tensor '{}' is missing (expected shape {})", src.describe(), name,
        shapeText(shape)));
  WeightTensor t = src.get(name);
  int64_t expected = 1;
  for (int64_t s : shape)
    expected *= s;
  if (int64_t(t.values.size()) != expected)
    throw std::runtime_error(fmt::format(
        "{}: tensor '{}' has shape {} ({} values), expected {}",
        src.describe(), name, shapeText(t.shape), t.values.size(),
        shapeText(shape)));
  return t;
}

Vec vec(const WeightSource &src, const std::string &name, int64_t n) {
  return fetch(src, name, {n}).values;
}

Linear linear(const WeightSource &src, const std::string &name, int64_t out,
              int64_t in) {
  WeightTensor t = fetch(src, name, {out, in});
  Linear l;
  l.name = name;
  l.out = out;
  l.in = in;
  l.weight = std::move(t.values);
  l.quantizedActivations = t.quantized;
  const Config &c = src.config();
  l.ue8m0ActScales = !c.quantization || c.quantization->scaleFmt == "ue8m0";
  return l;
}

CompressorWeights loadCompressor(const WeightSource &src,
                                 const std::string &prefix, int64_t ratio,
                                 int64_t overlap, int64_t headDim) {
  const Config &c = src.config();
  CompressorWeights w;
  w.ratio = ratio;
  w.overlap = overlap;
  w.headDim = headDim;
  w.wkv = linear(src, prefix + "wkv.weight", overlap * headDim, c.hiddenSize);
  w.wgate = linear(src, prefix + "wgate.weight", overlap * headDim, c.hiddenSize);
  // The compressor projections run in f32/bf16 in the reference, never
  // through the FP8 GEMM, whatever the storage says.
  w.wkv.quantizedActivations = false;
  w.wgate.quantizedActivations = false;
  w.norm = vec(src, prefix + "norm.weight", headDim);
  w.ape = fetch(src, prefix + "ape", {ratio, overlap * headDim}).values;
  return w;
}

ExpertWeights loadExpert(const WeightSource &src, const std::string &prefix,
                         int64_t inter) {
  const int64_t d = src.config().hiddenSize;
  ExpertWeights w;
  w.w1 = linear(src, prefix + "w1.weight", inter, d);
  w.w3 = linear(src, prefix + "w3.weight", inter, d);
  w.w2 = linear(src, prefix + "w2.weight", d, inter);
  return w;
}

HcWeights loadHc(const WeightSource &src, const std::string &prefix,
                 const std::string &site) {
  const Config &c = src.config();
  HcWeights w;
  w.fn = fetch(src, prefix + "hc_" + site + "_fn", {c.hcMixes(), c.hcDim()}).values;
  w.base = vec(src, prefix + "hc_" + site + "_base", c.hcMixes());
  w.scale = vec(src, prefix + "hc_" + site + "_scale", 3);
  return w;
}

HcHeadWeights loadHcHead(const WeightSource &src, const std::string &prefix) {
  const Config &c = src.config();
  HcHeadWeights w;
  w.fn = fetch(src, prefix + "hc_head_fn", {c.hcMult, c.hcDim()}).values;
  w.base = vec(src, prefix + "hc_head_base", c.hcMult);
  w.scale = vec(src, prefix + "hc_head_scale", 1);
  return w;
}

} // namespace

const ExpertWeights &MoEWeights::expert(int64_t e) const {
  if (e < 0 || e >= numExperts)
    throw std::runtime_error(fmt::format(
        "{}: expert {} out of range (the layer has {} experts)", prefix, e,
        numExperts));
  if (experts.empty())
    experts.resize(numExperts);
  if (!experts[e])
    experts[e] = std::make_unique<ExpertWeights>(
        loadExpert(*source, fmt::format("{}experts.{}.", prefix, e),
                   source->config().moeIntermediateSize));
  return *experts[e];
}

std::string blockPrefix(const Config &config, int64_t globalLayer) {
  if (globalLayer < config.numHiddenLayers)
    return fmt::format("layers.{}.", globalLayer);
  return fmt::format("mtp.{}.", globalLayer - config.numHiddenLayers);
}

BlockWeights loadBlockWeights(std::shared_ptr<const WeightSource> source,
                              int64_t layer) {
  const WeightSource &src = *source;
  const Config &c = src.config();
  const std::string p = blockPrefix(c, layer);
  const int64_t d = c.hiddenSize;
  BlockWeights b;
  b.layer = layer;
  b.attnNorm = vec(src, p + "attn_norm.weight", d);
  b.ffnNorm = vec(src, p + "ffn_norm.weight", d);
  b.hcAttn = loadHc(src, p, "attn");
  b.hcFfn = loadHc(src, p, "ffn");

  AttentionWeights &a = b.attn;
  const std::string ap = p + "attn.";
  const int64_t qDim = c.numAttentionHeads * c.headDim;
  a.wqA = linear(src, ap + "wq_a.weight", c.qLoraRank, d);
  a.qNorm = vec(src, ap + "q_norm.weight", c.qLoraRank);
  a.wqB = linear(src, ap + "wq_b.weight", qDim, c.qLoraRank);
  a.wkv = linear(src, ap + "wkv.weight", c.headDim, d);
  a.kvNorm = vec(src, ap + "kv_norm.weight", c.headDim);
  a.woA = linear(src, ap + "wo_a.weight", c.oGroups * c.oLoraRank,
                 qDim / c.oGroups);
  // The reference dequantises wo_a at load and applies it per group as a
  // plain einsum: no activation quantisation (docs/v4-reference.md).
  a.woA.quantizedActivations = false;
  a.woB = linear(src, ap + "wo_b.weight", d, c.oGroups * c.oLoraRank);
  a.attnSink = vec(src, ap + "attn_sink", c.numAttentionHeads);
  if (c.hasCompressor(layer)) {
    a.hasCompressor = true;
    a.compressor = loadCompressor(src, ap + "compressor.", c.compressRatio(layer),
                                  c.compressorOverlap(layer), c.headDim);
  }
  if (c.hasIndexer(layer)) {
    a.hasIndexer = true;
    const std::string ip = ap + "indexer.";
    a.indexer.wqB = linear(src, ip + "wq_b.weight",
                           c.indexNHeads * c.indexHeadDim, c.qLoraRank);
    a.indexer.weightsProj =
        linear(src, ip + "weights_proj.weight", c.indexNHeads, d);
    a.indexer.weightsProj.quantizedActivations = false;
    a.indexer.compressor =
        loadCompressor(src, ip + "compressor.", c.compressRatio(layer),
                       c.compressorOverlap(layer), c.indexHeadDim);
  }

  MoEWeights &m = b.ffn;
  const std::string fp = p + "ffn.";
  m.source = source;
  m.prefix = fp;
  m.numExperts = c.nRoutedExperts;
  m.gate = linear(src, fp + "gate.weight", c.nRoutedExperts, d);
  m.gate.quantizedActivations = false; // the router runs in f32
  if (c.isHashLayer(layer)) {
    Vec ids = fetch(src, fp + "gate.tid2eid", {c.vocabSize, c.numExpertsPerTok})
                  .values;
    m.tid2eid.reserve(ids.size());
    for (float id : ids) {
      if (id < 0 || id >= float(c.nRoutedExperts))
        throw std::runtime_error(fmt::format(
            "{}: '{}gate.tid2eid' holds expert id {}, outside [0, {})",
            src.describe(), fp, id, c.nRoutedExperts));
      m.tid2eid.push_back(int32_t(id));
    }
  } else {
    m.bias = vec(src, fp + "gate.bias", c.nRoutedExperts);
  }
  if (c.nSharedExperts > 0)
    m.shared = loadExpert(src, fp + "shared_experts.",
                          c.moeIntermediateSize * c.nSharedExperts);
  return b;
}

ModelWeights loadModelWeights(std::shared_ptr<const WeightSource> source) {
  const WeightSource &src = *source;
  const Config &c = src.config();
  const int64_t d = c.hiddenSize;
  ModelWeights w;
  w.embed = fetch(src, "embed.weight", {c.vocabSize, d}).values;
  for (int64_t l = 0; l < c.numHiddenLayers; ++l)
    w.layers.push_back(loadBlockWeights(source, l));
  w.hcHead = loadHcHead(src, "");
  w.norm = vec(src, "norm.weight", d);
  w.head = c.tieWordEmbeddings && !src.has("head.weight")
               ? linear(src, "embed.weight", c.vocabSize, d)
               : linear(src, "head.weight", c.vocabSize, d);
  w.head.quantizedActivations = false; // the head runs in f32
  for (int64_t k = 0; k < c.numNextnPredictLayers; ++k) {
    const int64_t layer = c.numHiddenLayers + k;
    const std::string p = blockPrefix(c, layer);
    MtpWeights m;
    m.enorm = vec(src, p + "enorm.weight", d);
    m.hnorm = vec(src, p + "hnorm.weight", d);
    m.eProj = linear(src, p + "e_proj.weight", d, d);
    m.hProj = linear(src, p + "h_proj.weight", d, d);
    m.block = loadBlockWeights(source, layer);
    m.hcHead = loadHcHead(src, p);
    m.norm = vec(src, p + "norm.weight", d);
    w.mtp.push_back(std::move(m));
  }
  return w;
}

} // namespace tlv4::ref
