// ReferenceModel: blocks, full model, MTP, prefill and decode of the V4
// reference (see ReferenceModel.h).
#include "tlv4/ReferenceModel.h"

#include "tlv4/Checkpoint.h"
#include "tlv4/ReferenceMoE.h"

#include <fmt/format.h>
#include <stdexcept>

namespace tlv4::ref {

BlockLayer::BlockLayer(const Config &config, const BlockWeights &weights)
    : config_(config), w_(weights),
      attention_(config, weights.attn, weights.layer),
      hashLayer_(config.isHashLayer(weights.layer)) {}

Stream BlockLayer::ffn(const Stream &stream, int32_t id) const {
  HcPreResult pre = hcPre(stream, w_.hcFfn, config_);
  Vec x = rmsNorm(pre.x, w_.ffnNorm, float(config_.rmsNormEps));
  Vec y = moeForward(w_.ffn, x, id, hashLayer_, config_);
  return hcPost(stream, y, pre.split, config_.hcMult);
}

std::vector<Stream> BlockLayer::prefill(const std::vector<Stream> &streams,
                                        const std::vector<int32_t> &ids,
                                        LayerCache &cache) const {
  const size_t n = streams.size();
  std::vector<HcPreResult> pre(n);
  std::vector<Vec> x(n);
  for (size_t t = 0; t < n; ++t) {
    pre[t] = hcPre(streams[t], w_.hcAttn, config_);
    x[t] = rmsNorm(pre[t].x, w_.attnNorm, float(config_.rmsNormEps));
  }
  std::vector<Vec> y = attention_.prefill(x, cache);
  std::vector<Stream> out(n);
  for (size_t t = 0; t < n; ++t)
    out[t] = ffn(hcPost(streams[t], y[t], pre[t].split, config_.hcMult), ids[t]);
  return out;
}

Stream BlockLayer::decode(const Stream &stream, int32_t id,
                          LayerCache &cache) const {
  HcPreResult pre = hcPre(stream, w_.hcAttn, config_);
  Vec x = rmsNorm(pre.x, w_.attnNorm, float(config_.rmsNormEps));
  Vec y = attention_.decode(x, cache);
  return ffn(hcPost(stream, y, pre.split, config_.hcMult), id);
}

namespace {
void roundBf16Inputs(BlockWeights &b) {
  b.ffn.gate.bf16Input = true;
  for (CompressorWeights *c : {&b.attn.compressor, &b.attn.indexer.compressor}) {
    c->wkv.bf16Input = true;
    c->wgate.bf16Input = true;
  }
  b.attn.indexer.weightsProj.bf16Input = true;
  b.attn.woA.bf16Input = true;
}
} // namespace

ReferenceModel::ReferenceModel(std::shared_ptr<const WeightSource> source,
                               ActivationPolicy policy, Accumulation accumulation)
    : source_(std::move(source)), accumulation_(accumulation),
      weights_(loadModelWeights(source_)) {
  const Config &c = config();
  const bool bf16 = policy == ActivationPolicy::DeviceBf16;
  if (bf16) {
    weights_.head.bf16Input = true;
    for (BlockWeights &b : weights_.layers)
      roundBf16Inputs(b);
    for (MtpWeights &m : weights_.mtp)
      roundBf16Inputs(m.block);
  }
  layers_.reserve(weights_.layers.size());
  for (const BlockWeights &b : weights_.layers) {
    layers_.emplace_back(c, b);
    layers_.back().attention().bf16Attention = bf16;
  }
  mtpLayers_.reserve(weights_.mtp.size());
  for (const MtpWeights &m : weights_.mtp) {
    mtpLayers_.emplace_back(c, m.block);
    mtpLayers_.back().attention().bf16Attention = bf16;
  }
}

std::unique_ptr<ReferenceModel>
ReferenceModel::fromCheckpoint(const std::string &dir, ActivationPolicy policy,
                               Accumulation accumulation) {
  auto checkpoint = std::make_shared<Checkpoint>(Checkpoint::open(dir));
  checkpoint->verifyOrThrow();
  return std::make_unique<ReferenceModel>(
      std::make_shared<CheckpointWeightSource>(checkpoint), policy, accumulation);
}

ModelState ReferenceModel::newState() const {
  ModelState s;
  s.layers.resize(layers_.size());
  s.mtp.resize(mtpLayers_.size());
  return s;
}

Stream ReferenceModel::embed(int32_t id) const {
  const Config &c = config();
  if (id < 0 || id >= c.vocabSize)
    throw std::runtime_error(fmt::format(
        "token id {} is outside the vocabulary [0, {})", id, c.vocabSize));
  const int64_t d = c.hiddenSize;
  Stream s(c.hcMult * d);
  for (int64_t i = 0; i < c.hcMult; ++i)
    std::copy(weights_.embed.begin() + int64_t(id) * d,
              weights_.embed.begin() + int64_t(id + 1) * d, s.begin() + i * d);
  return s;
}

Vec ReferenceModel::logitsOf(const Stream &stream, const HcHeadWeights &hcHead,
                             const Vec &norm) const {
  Vec x = ref::hcHead(stream, hcHead, config());
  return weights_.head.apply(rmsNorm(x, norm, float(config().rmsNormEps)));
}

std::vector<Vec> ReferenceModel::prefill(ModelState &state,
                                         const std::vector<int32_t> &ids,
                                         std::vector<Stream> *hidden) const {
  if (ids.empty())
    throw std::runtime_error("prefill needs at least one token");
  AccumulationScope scope(accumulation_);
  state = newState();
  std::vector<Stream> streams;
  streams.reserve(ids.size());
  for (int32_t id : ids)
    streams.push_back(embed(id));
  for (size_t l = 0; l < layers_.size(); ++l)
    streams = layers_[l].prefill(streams, ids, state.layers[l]);
  std::vector<Vec> logits;
  logits.reserve(ids.size());
  for (const Stream &s : streams)
    logits.push_back(logitsOf(s, weights_.hcHead, weights_.norm));
  state.length = int64_t(ids.size());
  state.lastHidden = streams.back();
  if (hidden)
    *hidden = std::move(streams);
  return logits;
}

Vec ReferenceModel::decode(ModelState &state, int32_t id,
                           Stream *hidden) const {
  AccumulationScope scope(accumulation_);
  if (state.layers.size() != layers_.size())
    state = newState();
  if (config().maxPositionEmbeddings > 0 &&
      state.length >= config().maxPositionEmbeddings)
    throw std::runtime_error(fmt::format(
        "position {} exceeds max_position_embeddings {}", state.length,
        config().maxPositionEmbeddings));
  Stream s = embed(id);
  for (size_t l = 0; l < layers_.size(); ++l)
    s = layers_[l].decode(s, id, state.layers[l]);
  state.length += 1;
  Vec logits = logitsOf(s, weights_.hcHead, weights_.norm);
  state.lastHidden = s;
  if (hidden)
    *hidden = std::move(s);
  return logits;
}

std::vector<Vec> ReferenceModel::forward(const std::vector<int32_t> &ids) const {
  ModelState state = newState();
  return prefill(state, ids);
}

Stream ReferenceModel::mtpInput(const MtpWeights &m, const Stream &hidden,
                                int32_t nextId) const {
  const Config &c = config();
  const int64_t d = c.hiddenSize;
  const float eps = float(c.rmsNormEps);
  Stream e = embed(nextId);
  Vec eProj = m.eProj.apply(rmsNorm(Vec(e.begin(), e.begin() + d), m.enorm, eps));
  // The hidden stream keeps its hc_mult copies: each copy is normalised and
  // projected, and the projected embedding is added to every copy.
  // (verify: docs/v4-reference.md, Assumptions)
  Stream x(c.hcMult * d);
  for (int64_t i = 0; i < c.hcMult; ++i) {
    Vec h(hidden.begin() + i * d, hidden.begin() + (i + 1) * d);
    Vec hProj = m.hProj.apply(rmsNorm(h, m.hnorm, eps));
    for (int64_t k = 0; k < d; ++k)
      x[i * d + k] = eProj[k] + hProj[k];
  }
  return x;
}

std::vector<Vec> ReferenceModel::mtpPrefill(ModelState &state,
                                            const std::vector<Stream> &hidden,
                                            const std::vector<int32_t> &nextIds,
                                            int64_t k) const {
  if (k < 0 || k >= int64_t(mtpLayers_.size()))
    throw std::runtime_error(fmt::format(
        "MTP layer {} requested; the checkpoint has {}", k, mtpLayers_.size()));
  if (hidden.size() != nextIds.size() || hidden.empty())
    throw std::runtime_error(fmt::format(
        "MTP prefill: {} hidden streams but {} next ids", hidden.size(),
        nextIds.size()));
  if (state.mtp.size() != mtpLayers_.size())
    state.mtp.resize(mtpLayers_.size());
  AccumulationScope scope(accumulation_);
  const MtpWeights &m = weights_.mtp[k];
  std::vector<Stream> streams;
  for (size_t t = 0; t < hidden.size(); ++t)
    streams.push_back(mtpInput(m, hidden[t], nextIds[t]));
  streams = mtpLayers_[k].prefill(streams, nextIds, state.mtp[k]);
  std::vector<Vec> logits;
  for (const Stream &s : streams)
    logits.push_back(logitsOf(s, m.hcHead, m.norm));
  state.mtpLength = int64_t(hidden.size());
  return logits;
}

Vec ReferenceModel::mtpDecode(ModelState &state, const Stream &hidden,
                              int32_t nextId, int64_t k) const {
  if (k < 0 || k >= int64_t(mtpLayers_.size()))
    throw std::runtime_error(fmt::format(
        "MTP layer {} requested; the checkpoint has {}", k, mtpLayers_.size()));
  if (state.mtp.size() != mtpLayers_.size())
    state.mtp.resize(mtpLayers_.size());
  AccumulationScope scope(accumulation_);
  const MtpWeights &m = weights_.mtp[k];
  Stream s = mtpLayers_[k].decode(mtpInput(m, hidden, nextId), nextId,
                                  state.mtp[k]);
  state.mtpLength += 1;
  return logitsOf(s, m.hcHead, m.norm);
}

void ReferenceModel::logSelections(int64_t layer,
                                   std::vector<std::vector<int64_t>> *log) const {
  layers_.at(layer).attention().selectedLog = log;
}

} // namespace tlv4::ref
