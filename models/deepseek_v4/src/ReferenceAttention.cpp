// ReferenceAttention: window / CSA / HCA attention with its compressors,
// lightning indexer and KV cache (see ReferenceAttention.h).
#include "tlv4/ReferenceAttention.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace tlv4::ref {

namespace {
// The FP8 fake quantisation of KV (QAT simulation in the reference) works
// on groups of 64 of the non-RoPE dims; the indexer's FP4 on groups of 32.
constexpr int64_t kKvQuantGroup = 64;
constexpr int64_t kIndexQuantGroup = 32;
} // namespace

CompressorRow compressorProject(const CompressorWeights &w, const Vec &x,
                                int64_t pos) {
  CompressorRow row;
  row.kv = w.wkv.apply(x);
  row.score = w.wgate.apply(x);
  const int64_t width = w.overlap * w.headDim;
  const float *ape = &w.ape[(pos % w.ratio) * width];
  for (int64_t i = 0; i < width; ++i)
    row.score[i] += ape[i];
  return row;
}

Vec compressorPool(const CompressorWeights &w,
                   const std::vector<CompressorRow> *prev,
                   const std::vector<CompressorRow> &cur) {
  const int64_t d = w.headDim;
  if (int64_t(cur.size()) != w.ratio)
    throw std::runtime_error(fmt::format(
        "compressor: pooling {} tokens, the ratio is {}", cur.size(), w.ratio));
  Vec out(d);
  std::vector<float> score, kv;
  for (int64_t ch = 0; ch < d; ++ch) {
    score.clear();
    kv.clear();
    if (w.overlap == 2) {
      for (int64_t k = 0; k < w.ratio; ++k) {
        score.push_back(prev ? (*prev)[k].score[ch]
                             : -std::numeric_limits<float>::infinity());
        kv.push_back(prev ? (*prev)[k].kv[ch] : 0.0f);
      }
    }
    const int64_t half = w.overlap == 2 ? d : 0;
    for (int64_t k = 0; k < w.ratio; ++k) {
      score.push_back(cur[k].score[half + ch]);
      kv.push_back(cur[k].kv[half + ch]);
    }
    softmaxInPlace(score);
    float acc = 0.0f;
    for (size_t s = 0; s < score.size(); ++s)
      acc += score[s] * kv[s];
    out[ch] = acc;
  }
  return out;
}

Vec compressorFinish(const CompressorWeights &w, Vec pooled, int64_t index,
                     const std::vector<float> &freqs, int64_t ropeDim,
                     float eps, bool forIndexer) {
  const int64_t d = w.headDim;
  Vec e = rmsNorm(pooled, w.norm, eps);
  applyRopeInPlace(&e[d - ropeDim], freqs, index * w.ratio);
  if (forIndexer) {
    hadamardInPlace(e.data(), d);
    fakeQuantFp4InPlace(e.data(), d, kIndexQuantGroup);
  } else {
    fakeQuantFp8InPlace(e.data(), d - ropeDim, kKvQuantGroup);
  }
  return e;
}

Vec sparseAttention(const Vec &qIn, int64_t heads, int64_t headDim,
                    const std::vector<const Vec *> &entriesIn, const Vec &sink,
                    float scale, bool bf16) {
  if (bf16) {
    // As the device kernels compute it: bf16 q and entries; the softmax numerators rounded to
    // bf16 for the P V product, the denominator (sink included) from the unrounded ones, one
    // reciprocal per row, o rounded to bf16.
    Vec q = qIn;
    for (float &v : q)
      v = roundToBf16(v);
    std::vector<Vec> rows(entriesIn.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i] = *entriesIn[i];
      for (float &v : rows[i])
        v = roundToBf16(v);
    }
    Vec o(heads * headDim, 0.0f), e(rows.size());
    for (int64_t h = 0; h < heads; ++h) {
      float maxS = sink[h];
      for (size_t i = 0; i < rows.size(); ++i) {
        e[i] = dot(&q[h * headDim], rows[i].data(), headDim) * scale;
        maxS = std::max(maxS, e[i]);
      }
      float denom = std::exp(sink[h] - maxS);
      for (size_t i = 0; i < rows.size(); ++i) {
        e[i] = std::exp(e[i] - maxS);
        denom += e[i];
      }
      float *oh = &o[h * headDim];
      for (size_t i = 0; i < rows.size(); ++i) {
        const float p = roundToBf16(e[i]);
        for (int64_t k = 0; k < headDim; ++k)
          oh[k] += p * rows[i][k];
      }
      const float inv = 1.0f / denom;
      for (int64_t k = 0; k < headDim; ++k)
        oh[k] = roundToBf16(oh[k] * inv);
    }
    return o;
  }
  const Vec &q = qIn;
  const std::vector<const Vec *> &entries = entriesIn;
  Vec o(heads * headDim, 0.0f);
  Vec scores(entries.size());
  for (int64_t h = 0; h < heads; ++h) {
    const float *qh = &q[h * headDim];
    float maxS = sink[h];
    for (size_t i = 0; i < entries.size(); ++i) {
      scores[i] = dot(qh, entries[i]->data(), headDim) * scale;
      maxS = std::max(maxS, scores[i]);
    }
    float denom = std::exp(sink[h] - maxS);
    for (size_t i = 0; i < entries.size(); ++i) {
      scores[i] = std::exp(scores[i] - maxS);
      denom += scores[i];
    }
    float *oh = &o[h * headDim];
    for (size_t i = 0; i < entries.size(); ++i) {
      const float p = scores[i] / denom;
      const float *kv = entries[i]->data();
      for (int64_t k = 0; k < headDim; ++k)
        oh[k] += p * kv[k];
    }
  }
  return o;
}

std::vector<int64_t> indexerTopK(const Vec &q, const Vec &weights,
                                 int64_t heads, int64_t headDim,
                                 const std::vector<Vec> &keys, int64_t visible,
                                 int64_t topk) {
  visible = std::min<int64_t>(visible, int64_t(keys.size()));
  std::vector<float> score(visible);
  for (int64_t j = 0; j < visible; ++j) {
    float s = 0.0f;
    for (int64_t h = 0; h < heads; ++h)
      s += weights[h] *
           std::max(0.0f, dot(&q[h * headDim], keys[j].data(), headDim));
    score[j] = s;
  }
  std::vector<int64_t> order(visible);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return score[a] > score[b]; });
  order.resize(std::min(topk, visible));
  return order;
}

AttentionLayer::AttentionLayer(const Config &config,
                               const AttentionWeights &weights, int64_t layer)
    : config_(config), w_(weights), layer_(layer),
      kind_(config.layerKind(layer)),
      freqs_(ropeFrequencies(ropeParamsForLayer(config, layer))),
      eps_(float(config.rmsNormEps)) {
  if (kind_ != LayerKind::Window)
    ratio_ = config.compressRatio(layer);
  if (w_.hasCompressor != (kind_ != LayerKind::Window) ||
      w_.hasIndexer != (kind_ == LayerKind::CSA))
    throw std::runtime_error(fmt::format(
        "layer {}: attention weights do not match the layer kind {}", layer,
        layerKindName(kind_)));
}

AttentionLayer::Query AttentionLayer::query(const Vec &x, int64_t pos) const {
  const int64_t heads = config_.numAttentionHeads;
  const int64_t hd = config_.headDim;
  const int64_t rope = config_.qkRopeHeadDim;
  Query out;
  Vec qr = rmsNorm(w_.wqA.apply(x), w_.qNorm, eps_);
  out.q = w_.wqB.apply(qr);
  rmsNormSlicesInPlace(out.q, hd, eps_);
  for (int64_t h = 0; h < heads; ++h)
    applyRopeInPlace(&out.q[h * hd + hd - rope], freqs_, pos);
  if (kind_ != LayerKind::CSA)
    return out;
  const int64_t ih = config_.indexNHeads;
  const int64_t id = config_.indexHeadDim;
  out.indexQ = w_.indexer.wqB.apply(qr);
  for (int64_t h = 0; h < ih; ++h) {
    float *qh = &out.indexQ[h * id];
    applyRopeInPlace(qh + id - rope, freqs_, pos);
    hadamardInPlace(qh, id);
    fakeQuantFp4InPlace(qh, id, kIndexQuantGroup);
  }
  out.indexW = w_.indexer.weightsProj.apply(x);
  const float scale = 1.0f / std::sqrt(float(id)) / std::sqrt(float(ih));
  for (float &v : out.indexW)
    v *= scale;
  return out;
}

Vec AttentionLayer::windowKv(const Vec &x, int64_t pos) const {
  const int64_t hd = config_.headDim;
  const int64_t rope = config_.qkRopeHeadDim;
  Vec kv = rmsNorm(w_.wkv.apply(x), w_.kvNorm, eps_);
  applyRopeInPlace(&kv[hd - rope], freqs_, pos);
  fakeQuantFp8InPlace(kv.data(), hd - rope, kKvQuantGroup);
  return kv;
}

Vec AttentionLayer::attend(const Query &q, int64_t pos,
                           const std::function<const Vec &(int64_t)> &windowAt,
                           const std::vector<Vec> &compressed,
                           const std::vector<Vec> &indexKeys) const {
  std::vector<const Vec *> entries;
  const int64_t first = std::max<int64_t>(0, pos - config_.slidingWindow + 1);
  for (int64_t p = first; p <= pos; ++p)
    entries.push_back(&windowAt(p));
  std::vector<int64_t> selected;
  if (kind_ != LayerKind::Window) {
    // Entry j covers tokens [j * ratio, (j + 1) * ratio): visible once its
    // last token is at or before the query.
    const int64_t visible = (pos + 1) / ratio_;
    if (kind_ == LayerKind::HCA) {
      for (int64_t j = 0; j < visible; ++j)
        selected.push_back(j);
    } else {
      selected = indexerTopK(q.indexQ, q.indexW, config_.indexNHeads,
                             config_.indexHeadDim, indexKeys, visible,
                             config_.indexTopk);
    }
    for (int64_t j : selected)
      entries.push_back(&compressed.at(j));
  }
  if (selectedLog)
    selectedLog->push_back(selected);
  Vec o = sparseAttention(q.q, config_.numAttentionHeads, config_.headDim,
                          entries, w_.attnSink,
                          1.0f / std::sqrt(float(config_.headDim)), bf16Attention);
  return outputProjection(std::move(o), pos);
}

Vec AttentionLayer::outputProjection(Vec o, int64_t pos) const {
  const int64_t heads = config_.numAttentionHeads;
  const int64_t hd = config_.headDim;
  const int64_t rope = config_.qkRopeHeadDim;
  for (int64_t h = 0; h < heads; ++h)
    applyRopeInPlace(&o[h * hd + hd - rope], freqs_, pos, /*inverse=*/true);
  const int64_t groups = config_.oGroups;
  const int64_t groupWidth = heads * hd / groups;
  const int64_t rank = config_.oLoraRank;
  Vec mid;
  mid.reserve(groups * rank);
  for (int64_t g = 0; g < groups; ++g) {
    Vec slice(o.begin() + g * groupWidth, o.begin() + (g + 1) * groupWidth);
    Vec part = w_.woA.applyRows(slice, g * rank, rank);
    mid.insert(mid.end(), part.begin(), part.end());
  }
  return w_.woB.apply(mid);
}

void AttentionLayer::pushToken(CompressorState &state,
                               const CompressorWeights &w, CompressorRow row,
                               std::vector<Vec> &entries,
                               bool forIndexer) const {
  state.cur.push_back(std::move(row));
  if (int64_t(state.cur.size()) < w.ratio)
    return;
  const bool hasPrev = w.overlap == 2 && !state.prev.empty();
  Vec pooled = compressorPool(w, hasPrev ? &state.prev : nullptr, state.cur);
  entries.push_back(compressorFinish(w, std::move(pooled),
                                     int64_t(entries.size()), freqs_,
                                     config_.qkRopeHeadDim, eps_, forIndexer));
  if (w.overlap == 2)
    state.prev = std::move(state.cur);
  state.cur.clear();
}

std::vector<Vec> AttentionLayer::prefill(const std::vector<Vec> &x,
                                         LayerCache &cache) const {
  const int64_t n = int64_t(x.size());
  cache = LayerCache();
  std::vector<Vec> kv(n);
  std::vector<Query> queries(n);
  for (int64_t t = 0; t < n; ++t) {
    kv[t] = windowKv(x[t], t);
    queries[t] = query(x[t], t);
  }
  // Block pooling over the whole prompt, as the reference's prefill does;
  // the incomplete tail group (and, with overlap, the last complete group)
  // becomes the running state decode continues from.
  auto compress = [&](const CompressorWeights &w, std::vector<Vec> &entries,
                      CompressorState &state, bool forIndexer) {
    std::vector<CompressorRow> rows(n);
    for (int64_t t = 0; t < n; ++t)
      rows[t] = compressorProject(w, x[t], t);
    const int64_t full = n / w.ratio;
    for (int64_t j = 0; j < full; ++j) {
      std::vector<CompressorRow> cur(rows.begin() + j * w.ratio,
                                     rows.begin() + (j + 1) * w.ratio);
      std::vector<CompressorRow> prev;
      if (w.overlap == 2 && j > 0)
        prev.assign(rows.begin() + (j - 1) * w.ratio, rows.begin() + j * w.ratio);
      Vec pooled = compressorPool(w, prev.empty() ? nullptr : &prev, cur);
      entries.push_back(compressorFinish(w, std::move(pooled), j, freqs_,
                                         config_.qkRopeHeadDim, eps_,
                                         forIndexer));
    }
    if (w.overlap == 2 && full > 0)
      state.prev.assign(rows.begin() + (full - 1) * w.ratio,
                        rows.begin() + full * w.ratio);
    state.cur.assign(rows.begin() + full * w.ratio, rows.end());
  };
  if (w_.hasCompressor)
    compress(w_.compressor, cache.compressed, cache.compressor, false);
  if (w_.hasIndexer)
    compress(w_.indexer.compressor, cache.indexKeys, cache.indexCompressor,
             true);

  std::vector<Vec> out(n);
  auto windowAt = [&](int64_t p) -> const Vec & { return kv[p]; };
  for (int64_t t = 0; t < n; ++t)
    out[t] = attend(queries[t], t, windowAt, cache.compressed, cache.indexKeys);

  const int64_t window = config_.slidingWindow;
  cache.ring.assign(window, Vec());
  for (int64_t t = std::max<int64_t>(0, n - window); t < n; ++t)
    cache.ring[t % window] = std::move(kv[t]);
  cache.length = n;
  return out;
}

Vec AttentionLayer::decode(const Vec &x, LayerCache &cache) const {
  const int64_t pos = cache.length;
  const int64_t window = config_.slidingWindow;
  if (cache.ring.empty())
    cache.ring.assign(window, Vec());
  cache.ring[pos % window] = windowKv(x, pos);
  if (w_.hasCompressor)
    pushToken(cache.compressor, w_.compressor,
              compressorProject(w_.compressor, x, pos), cache.compressed,
              false);
  if (w_.hasIndexer)
    pushToken(cache.indexCompressor, w_.indexer.compressor,
              compressorProject(w_.indexer.compressor, x, pos),
              cache.indexKeys, true);
  Query q = query(x, pos);
  auto windowAt = [&](int64_t p) -> const Vec & {
    return cache.ring[p % window];
  };
  Vec out = attend(q, pos, windowAt, cache.compressed, cache.indexKeys);
  cache.length = pos + 1;
  return out;
}

} // namespace tlv4::ref
