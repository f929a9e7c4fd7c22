// ReferenceAttention: the V4 attention sub-layer of the reference, for the
// three layer kinds (sliding window, CSA = overlapping compression + the
// lightning indexer's top-k, HCA = heavy compression, every causal entry),
// with its KV cache: a ring of sliding_window entries, the compressed
// entries, the compressors' running state (one entry every `ratio` tokens)
// and the indexer's compressed keys.
//
// Prefill runs a whole prompt from position 0 the way the reference does
// (all window KV at once, compressed entries pooled block by block) and
// leaves the cache ready for decode; decode adds one token through the
// running state. Both call the same per-entry primitives, in the same
// order, so decode reproduces prefill to the last bit.
#pragma once

#include "tlv4/ReferenceOps.h"
#include "tlv4/ReferenceWeights.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace tlv4::ref {

// ------------------------------------------------------------ compressor ---
// The per-token projections a compressor pools: kv = wkv(x) and score =
// wgate(x) + ape[pos % ratio], both c * headDim wide.
struct CompressorRow {
  Vec kv, score;
};
CompressorRow compressorProject(const CompressorWeights &w, const Vec &x,
                                int64_t pos);

// Pool one entry (before norm/RoPE): per channel, softmax over the slots of
// the scores, sum of softmax * kv. Without overlap the slots are the
// `ratio` tokens of the group. With overlap (c = 2) they are the previous
// group's tokens with channel half A ([0, d)) followed by this group's
// tokens with half B ([d, 2d)); for the first group the previous half is
// empty (prev == nullptr: kv 0, score -inf).
Vec compressorPool(const CompressorWeights &w,
                   const std::vector<CompressorRow> *prev,
                   const std::vector<CompressorRow> &cur);

// Turn a pooled vector into compressed entry `index`: RMSNorm, RoPE on the
// last rope dims at the entry's first position (index * ratio), then the
// main compressor FP8-fake-quantises the non-RoPE dims (groups of 64); the
// indexer's compressor (forIndexer) applies the Hadamard rotation and FP4
// fake quantisation (groups of 32) instead.
Vec compressorFinish(const CompressorWeights &w, Vec pooled, int64_t index,
                     const std::vector<float> &freqs, int64_t ropeDim,
                     float eps, bool forIndexer);

// Running state of one compressor.
struct CompressorState {
  std::vector<CompressorRow> prev; // the last complete group (overlap only)
  std::vector<CompressorRow> cur;  // tokens of the incomplete group
};

// ----------------------------------------------------------------- cache ---
struct LayerCache {
  int64_t length = 0;         // tokens processed
  std::vector<Vec> ring;      // sliding_window kv entries, slot pos % window
  std::vector<Vec> compressed; // compressed kv entries, in order
  CompressorState compressor;
  std::vector<Vec> indexKeys; // the indexer's compressed keys
  CompressorState indexCompressor;
};

// --------------------------------------------------------------- kernels ---
// Index-list attention with a sink, one shared KV head: per head h,
// s_i = q_h . kv_i * scale; p = softmax over {s_i} u {sink[h]} (the sink
// only joins the denominator); o_h = sum p_i kv_i. entries may be empty.
// bf16: q and the entries read rounded to bf16 and o rounded to bf16, as the
// device's attention kernels hold them (ActivationPolicy::DeviceBf16).
Vec sparseAttention(const Vec &q, int64_t heads, int64_t headDim,
                    const std::vector<const Vec *> &entries, const Vec &sink,
                    float scale, bool bf16 = false);

// Indexer scores of one query against compressed keys [0, visible):
// sum_h weights[h] * relu(q_h . k_j); returns the top min(topk, visible)
// entry indices, best first (ties to the lower index).
std::vector<int64_t> indexerTopK(const Vec &q, const Vec &weights,
                                 int64_t heads, int64_t headDim,
                                 const std::vector<Vec> &keys, int64_t visible,
                                 int64_t topk);

// ----------------------------------------------------------------- layer ---
class AttentionLayer {
public:
  AttentionLayer(const Config &config, const AttentionWeights &weights,
                 int64_t layer);

  // x: the normalised sub-layer inputs of positions [0, x.size()). Resets
  // and fills the cache.
  std::vector<Vec> prefill(const std::vector<Vec> &x, LayerCache &cache) const;
  // One token at position cache.length.
  Vec decode(const Vec &x, LayerCache &cache) const;

  LayerKind kind() const { return kind_; }
  int64_t ratio() const { return ratio_; }
  // The compressed entries query `pos` attends (after prefill/decode):
  // recorded for tests when non-null.
  mutable std::vector<std::vector<int64_t>> *selectedLog = nullptr;
  // Round the attention's query, KV entries and output to bf16 (sparseAttention).
  bool bf16Attention = false;

private:
  struct Query {
    Vec q;        // [heads * head_dim], normalised, RoPE'd
    Vec indexQ;   // [index heads * index head dim] (CSA only)
    Vec indexW;   // [index heads] (CSA only)
  };
  Query query(const Vec &x, int64_t pos) const;
  Vec windowKv(const Vec &x, int64_t pos) const;
  // Attention of one query over its window and compressed entries, then the
  // output projection.
  Vec attend(const Query &q, int64_t pos,
             const std::function<const Vec &(int64_t)> &windowAt,
             const std::vector<Vec> &compressed,
             const std::vector<Vec> &indexKeys) const;
  Vec outputProjection(Vec o, int64_t pos) const;
  void pushToken(CompressorState &state, const CompressorWeights &w,
                 CompressorRow row, std::vector<Vec> &entries,
                 bool forIndexer) const;

  const Config &config_;
  const AttentionWeights &w_;
  int64_t layer_;
  LayerKind kind_;
  int64_t ratio_ = 0;
  std::vector<float> freqs_;
  float eps_;
};

} // namespace tlv4::ref
