// ReferenceModel: the DeepSeek-V4 reference forward pass in plain f32 C++:
// embedding -> blocks (mHC-wrapped attention and MoE) -> hc head -> norm
// -> head, plus the MTP layer, with prefill of a whole prompt and
// incremental decode over the compressed KV cache. Slow and clear; it is
// the ground truth the GPU kernels and `tl-v4 generate` are checked by.
#pragma once

#include "tlv4/ReferenceAttention.h"
#include "tlv4/ReferenceHC.h"
#include "tlv4/ReferenceWeights.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tlv4::ref {

// One block (layer): attention and MoE, each wrapped by hc pre / post.
class BlockLayer {
public:
  BlockLayer(const Config &config, const BlockWeights &weights);
  // Streams of positions [0, n); ids are the input token ids (hash routing).
  std::vector<Stream> prefill(const std::vector<Stream> &streams,
                              const std::vector<int32_t> &ids,
                              LayerCache &cache) const;
  Stream decode(const Stream &stream, int32_t id, LayerCache &cache) const;
  const AttentionLayer &attention() const { return attention_; }
  AttentionLayer &attention() { return attention_; }

private:
  Stream ffn(const Stream &stream, int32_t id) const;

  const Config &config_;
  const BlockWeights &w_;
  AttentionLayer attention_;
  bool hashLayer_;
};

// Everything a sequence carries between calls.
struct ModelState {
  int64_t length = 0;
  std::vector<LayerCache> layers;
  std::vector<LayerCache> mtp; // one per MTP layer
  int64_t mtpLength = 0;
  Stream lastHidden; // the final stream of the last processed position
};

// Where activations are rounded: F32 keeps them in f32 between ops (the
// reference's own policy); DeviceBf16 rounds them to bf16 exactly where the
// device model's kernels hold bf16 (the bf16 linears' inputs: router gate,
// compressors, indexer weights, head; the attention's query, KV rows and
// output), so the two differ only by f32 summation order (DeviceModel.h).
enum class ActivationPolicy { F32, DeviceBf16 };

class ReferenceModel {
public:
  // accumulation: how every dot product of the model sums (ReferenceOps.h); F32 is the
  // reference, F64 the second opinion that measures its noise floor.
  explicit ReferenceModel(std::shared_ptr<const WeightSource> source,
                          ActivationPolicy policy = ActivationPolicy::F32,
                          Accumulation accumulation = Accumulation::F32);
  ReferenceModel(const ReferenceModel &) = delete;
  ReferenceModel &operator=(const ReferenceModel &) = delete;
  // Open, verify and load a checkpoint directory. Throws with a clear
  // message for anything the reference cannot run.
  static std::unique_ptr<ReferenceModel> fromCheckpoint(
      const std::string &dir, ActivationPolicy policy = ActivationPolicy::F32,
      Accumulation accumulation = Accumulation::F32);

  const Config &config() const { return source_->config(); }
  ModelState newState() const;

  // Logits [ids.size()][vocab] of a whole prompt from position 0; resets
  // and fills state. hidden (optional) receives the final residual stream
  // of each position (what MTP consumes).
  std::vector<Vec> prefill(ModelState &state, const std::vector<int32_t> &ids,
                           std::vector<Stream> *hidden = nullptr) const;
  // Logits of one more token at position state.length.
  Vec decode(ModelState &state, int32_t id, Stream *hidden = nullptr) const;
  // Stateless: logits of every position of ids.
  std::vector<Vec> forward(const std::vector<int32_t> &ids) const;

  // MTP layer k: from the main model's final stream at position t and the
  // token at t + 1, logits for the token at t + 2. mtpPrefill covers
  // positions [0, hidden.size()) (nextIds[t] = token t + 1) and resets the
  // MTP cache; mtpDecode continues at state.mtpLength.
  std::vector<Vec> mtpPrefill(ModelState &state,
                              const std::vector<Stream> &hidden,
                              const std::vector<int32_t> &nextIds,
                              int64_t k = 0) const;
  Vec mtpDecode(ModelState &state, const Stream &hidden, int32_t nextId,
                int64_t k = 0) const;

  // The compressed entries each query of `layer` attended in the last
  // prefill/decode calls are appended here when set (tests).
  void logSelections(int64_t layer,
                     std::vector<std::vector<int64_t>> *log) const;

private:
  Stream embed(int32_t id) const;
  Vec logitsOf(const Stream &stream, const HcHeadWeights &hcHead,
               const Vec &norm) const;
  Stream mtpInput(const MtpWeights &m, const Stream &hidden,
                  int32_t nextId) const;

  std::shared_ptr<const WeightSource> source_;
  Accumulation accumulation_;
  ModelWeights weights_;
  std::vector<BlockLayer> layers_;
  std::vector<BlockLayer> mtpLayers_;
};

} // namespace tlv4::ref
