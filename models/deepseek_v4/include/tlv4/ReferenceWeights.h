// ReferenceWeights: the f32 weights of the DeepSeek-V4 reference forward,
// grouped by module, and where they come from. A WeightSource hands out
// tensors by native (official) name, already dequantised to f32; the
// Checkpoint-backed source does that through the checkpoint API (exact
// FP8 128x128 / FP4 1x32 ue8m0 dequantisation), the in-memory source
// serves unit tests. Routed experts load lazily (they are most of a real
// checkpoint and a forward touches few of them).
#pragma once

#include "tlv4/Config.h"
#include "tlv4/ReferenceOps.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tlv4 {

class Checkpoint;

namespace ref {

struct WeightTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
  // Stored as FP8/FP4 in the checkpoint: the reference quantises the
  // activations fed to it (per-token 1 x 128 FP8).
  bool quantized = false;
};

class WeightSource {
public:
  virtual ~WeightSource() = default;
  virtual const Config &config() const = 0;
  virtual bool has(const std::string &name) const = 0;
  // Throws naming the tensor when absent.
  virtual WeightTensor get(const std::string &name) const = 0;
  // Where the weights come from, for error messages.
  virtual std::string describe() const = 0;
};

// Reads a checkpoint through the ckpt API (Checkpoint::dequantize).
class CheckpointWeightSource : public WeightSource {
public:
  explicit CheckpointWeightSource(std::shared_ptr<const Checkpoint> checkpoint);
  const Config &config() const override;
  bool has(const std::string &name) const override;
  WeightTensor get(const std::string &name) const override;
  std::string describe() const override;

private:
  std::shared_ptr<const Checkpoint> checkpoint_;
};

// Tensors held in memory (unit tests of single modules).
class MemoryWeightSource : public WeightSource {
public:
  explicit MemoryWeightSource(Config config) : config_(std::move(config)) {}
  void set(const std::string &name, WeightTensor tensor) {
    tensors_[name] = std::move(tensor);
  }
  const Config &config() const override { return config_; }
  bool has(const std::string &name) const override {
    return tensors_.count(name) != 0;
  }
  WeightTensor get(const std::string &name) const override;
  std::string describe() const override { return "<in-memory weights>"; }

private:
  Config config_;
  std::map<std::string, WeightTensor> tensors_;
};

// ------------------------------------------------------------- modules ---
struct CompressorWeights {
  int64_t ratio = 0;
  int64_t overlap = 1; // c: 2 for overlapping (ratio 4) compression
  int64_t headDim = 0; // width of one compressed entry
  Linear wkv;          // [c * headDim, d]
  Linear wgate;        // [c * headDim, d]
  Vec norm;            // [headDim]
  Vec ape;             // [ratio, c * headDim]
};

struct IndexerWeights {
  Linear wqB;         // [indexHeads * indexHeadDim, q_lora_rank]
  Linear weightsProj; // [indexHeads, d]
  CompressorWeights compressor;
};

struct AttentionWeights {
  Linear wqA;  // [q_lora_rank, d]
  Vec qNorm;   // [q_lora_rank]
  Linear wqB;  // [heads * head_dim, q_lora_rank]
  Linear wkv;  // [head_dim, d]
  Vec kvNorm;  // [head_dim]
  Linear woA;  // [o_groups * o_lora_rank, heads * head_dim / o_groups]
  Linear woB;  // [d, o_groups * o_lora_rank]
  Vec attnSink; // [heads]
  bool hasCompressor = false;
  CompressorWeights compressor;
  bool hasIndexer = false;
  IndexerWeights indexer;
};

struct ExpertWeights {
  Linear w1; // gate [inter, d]
  Linear w3; // up   [inter, d]
  Linear w2; // down [d, inter]
};

struct MoEWeights {
  Linear gate;                  // [experts, d], bf16 (no act quant)
  Vec bias;                     // [experts], score-routed layers only
  std::vector<int32_t> tid2eid; // [vocab, topk], hash layers only
  ExpertWeights shared; // empty when n_shared_experts is 0
  // Routed experts, loaded on first use.
  const ExpertWeights &expert(int64_t e) const;

  std::shared_ptr<const WeightSource> source;
  std::string prefix; // "layers.3.ffn."
  int64_t numExperts = 0;
  mutable std::vector<std::unique_ptr<ExpertWeights>> experts;
};

// The parameters of one hyper-connection site (attention or FFN of a
// block): fn [(2 + hc) * hc, hc * d], base [(2 + hc) * hc], scale [3].
struct HcWeights {
  Vec fn, base, scale;
};
// The final collapse: fn [hc, hc * d], base [hc], scale [1].
struct HcHeadWeights {
  Vec fn, base, scale;
};

struct BlockWeights {
  int64_t layer = 0; // global layer index (MTP k = num_hidden_layers + k)
  Vec attnNorm, ffnNorm;
  HcWeights hcAttn, hcFfn;
  AttentionWeights attn;
  MoEWeights ffn;
};

struct MtpWeights {
  Vec enorm, hnorm;
  Linear eProj, hProj; // [d, d]
  BlockWeights block;
  HcHeadWeights hcHead;
  Vec norm;
};

struct ModelWeights {
  Vec embed; // [vocab, d]
  std::vector<BlockWeights> layers;
  HcHeadWeights hcHead;
  Vec norm;
  Linear head; // [vocab, d]
  std::vector<MtpWeights> mtp;
};

// Native names of the modules (one place, so the official tensor names are
// spelled once): "layers.{l}." for main layers, "mtp.{k}." for MTP layers.
std::string blockPrefix(const Config &config, int64_t globalLayer);

// Load every non-expert weight (and set up lazy expert loading). Throws
// naming the tensor and the source for anything missing or misshapen.
ModelWeights loadModelWeights(std::shared_ptr<const WeightSource> source);
BlockWeights loadBlockWeights(std::shared_ptr<const WeightSource> source,
                              int64_t globalLayer);

} // namespace ref
} // namespace tlv4
