// The device model's internals (DeviceModel.h): memory on the kernels' side,
// the weights in their stored formats, the per-slot caches, and the scratch
// arena of activations. DeviceWeights.cpp loads; DeviceModel.cpp and
// DeviceAttention.cpp run the forward pass.
#pragma once

#include "tlv4/Checkpoint.h"
#include "tlv4/DeviceModel.h"
#include "tlv4/KernelSet.h"

#include "tlrt/Gpu.h"
#include "tlrt/Module.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tlv4 {

using DT = tlrt::DType;
using tlrt::Tensor;

// Bytes where the kernels run: host memory (CPU target) or device memory.
class Mem {
public:
  Mem() = default;
  Mem(size_t bytes, bool gpu, int device);
  Mem(Mem &&) noexcept = default;
  Mem &operator=(Mem &&) noexcept = default;
  void *data() const { return gpu_ ? dev_.data() : host_.get(); }
  size_t size() const { return bytes_; }
  Tensor view(DT dtype, std::vector<int64_t> shape, size_t offset = 0) const;
  void upload(const void *src, size_t bytes, size_t offset = 0);
  void download(void *dst, size_t bytes, size_t offset = 0) const;
  void zero();

private:
  struct Free {
    void operator()(uint8_t *p) const;
  };
  bool gpu_ = false;
  size_t bytes_ = 0;
  std::unique_ptr<uint8_t, Free> host_;
  tlrt::DeviceBuffer dev_;
};

// Rows [row0, row0 + rows) of a tensor's first dimension, reshaped to `shape`.
Tensor rowsOf(const Tensor &t, int64_t row0, std::vector<int64_t> shape);

struct Fp8Linear { // e4m3 [out, in], f32 block scales [ceil(out/128), in/128]
  Mem w, s;
  int64_t out = 0, in = 0;
  Tensor weight() const { return w.view(DT::Float8E4M3, {out, in}); }
  Tensor scale() const { return s.view(DT::Float32, {(out + 127) / 128, in / 128}); }
};
struct Bf16Linear {
  Mem w;
  int64_t out = 0, in = 0;
  Tensor weight() const { return w.view(DT::BFloat16, {out, in}); }
};
struct F32Vec {
  Mem v;
  std::vector<int64_t> shape;
  Tensor t() const { return v.view(DT::Float32, shape); }
};
struct HcWeights {
  F32Vec fn, base, scale;
};
struct CompressorW {
  Bf16Linear wkv, wgate;
  F32Vec ape, norm;
  int64_t ratio = 0, overlap = 1, width = 0;
};
struct ExpertsW { // the routed experts' FP4 codes stacked [E * out, in / 2] bytes, ue8m0 [in / 32, E * out]
  Mem w, s;
  int64_t out = 0, in = 0;
};

struct LayerWeights {
  LayerKind kind = LayerKind::Window;
  int64_t ratio = 0;
  bool hash = false;
  F32Vec attnNorm, ffnNorm, qNorm, kvNorm, sink;
  HcWeights hcAttn, hcFfn;
  Fp8Linear wqA, wqB, wkv, woB;
  Bf16Linear woA; // dequantised from FP8 at load: applied without activation quantisation
  CompressorW comp;
  Fp8Linear idxWqB;
  Bf16Linear idxWeights;
  CompressorW idxComp;
  Bf16Linear gate;
  F32Vec bias;
  Mem tid2eid; // int32 [vocab, K]
  ExpertsW w1, w2, w3;
  Fp8Linear sh1, sh2, sh3;
};

// One layer's caches for all slots.
struct LayerCache {
  int64_t rows = 0;    // window ring W + compressed entries
  int64_t entries = 0; // compressed capacity
  Mem cq, cs, cr;      // [slots, rows, D - R] e4m3, [slots, rows, (D - R) / 64] f32, [slots, rows, R] bf16
  Mem stKv, stScore;   // compressor state [slots, C * ratio, C * D]
  Mem ixq, ixs;            // indexer keys [slots, entries, DI] e4m3, [slots, entries] f32
  Mem ixStKv, ixStScore;   // indexer compressor state
};

// Activations, grown on demand and reused across calls: get(name, ...) is a
// view of the buffer called `name`, large enough for `shape`.
class Scratch {
public:
  Scratch(bool gpu, int device) : gpu_(gpu), device_(device) {}
  Tensor get(const std::string &name, DT dtype, std::vector<int64_t> shape);
  // Uploads `values` into buffer `name` and returns its int32 view. The copy is synchronous on
  // the host but not ordered with the model's (non-blocking) stream: upload a buffer only
  // before a call's first launch, or with the same bytes every time within a call (the
  // per-layer lengths and visible counts are).
  Tensor ints(const std::string &name, const std::vector<int32_t> &values,
              std::vector<int64_t> shape = {});
  Tensor floats(const std::string &name, const std::vector<float> &values);
  Mem &mem(const std::string &name) { return bufs_.at(name); }
  // Counts the buffers (re)allocated so far: a CUDA graph captured at generation g may be
  // replayed only while the generation is still g (its kernels hold the buffers' addresses).
  uint64_t generation() const { return generation_; }

private:
  bool gpu_;
  int device_;
  uint64_t generation_ = 0;
  std::map<std::string, Mem> bufs_;
};

// The tokens of one forward call: prefill (several tokens per slot, the
// slots' tokens one after another) or decode (one token per slot).
struct Batch {
  bool decode = false;
  std::vector<int64_t> slot;   // per sequence in the call
  std::vector<int64_t> start;  // its first token's row in the call
  std::vector<int64_t> count;  // its tokens
  std::vector<int32_t> pos;    // per row: position (-1: idle)
};

// A call's inputs on the device, uploaded once before its first launch (Scratch::ints).
struct CallInputs {
  Tensor ids, pos, ropePos; // per row: token, position (-1: padding / idle), position for RoPE
  Tensor ones;              // f32 1 per row: the shared expert's route weight
  // Prefill, per sequence: its length [1]; CSA: the compressed entries each position sees,
  // and an all -1 top-k list for a sequence too short for any entry.
  std::vector<Tensor> seqLens, seqVisible, seqNoTopK;
  // Decode, per slot: positions held after the step, and the entries visible to its query.
  Tensor slotLens, slotVisible;
};

struct DeviceModel::Impl {
  Config config;
  DeviceOptions options;
  std::shared_ptr<Checkpoint> checkpoint;
  std::unique_ptr<KernelSet> kernels;
  std::optional<tlrt::Stream> stream;
  bool gpu = false;
  int64_t slots = 1, maxLength = 0;

  Mem embed;       // bf16 [vocab, d]
  Bf16Linear head; // bf16 [vocab, d]
  F32Vec norm;
  HcWeights hcHead;
  std::vector<LayerWeights> layers;
  std::vector<LayerCache> caches;
  Mem cosWin, sinWin, cosComp, sinComp; // [maxLength, rope / 2]
  std::vector<int64_t> lengths;         // per slot
  Scratch scratch;
  // The last call's logits (device side) and which slot each row is.
  Tensor lastLogits;
  std::vector<int64_t> lastRowOfSlot;
  struct ProfileRow {
    double ms = 0, hostMs = 0; // kernel time (GPU events, or the CPU launch); host launch calls
    int64_t launches = 0;
  };
  std::map<std::string, ProfileRow> profile; // by module.kernel
  std::optional<std::pair<tlrt::Event, tlrt::Event>> profileEvents;
  // Decode steps as CUDA graphs, one per batch width (DeviceOptions::graphs): a width's first
  // step since the scratch buffers last moved runs eagerly (allocating what it needs), the
  // next one is captured, and later ones replay it.
  struct DecodeGraph {
    tlrt::Graph graph;
    uint64_t generation = 0;                // scratch generation the graph was captured at
    uint64_t warm = ~uint64_t(0);           // scratch generation after the last eager step
    Tensor logits;
  };
  std::map<int64_t, DecodeGraph> decodeGraphs;

  Impl(bool gpu, int device) : scratch(gpu, device) {}

  // DeviceWeights.cpp
  void loadWeights();
  void allocateCaches();
  // DeviceModel.cpp
  void launch(const std::string &module, const std::string &kernel,
              const std::vector<tlrt::Arg> &args);
  Tensor linear8(const std::string &out, const Fp8Linear &w, const Tensor &xq,
                 const Tensor &xs, bool grouped = false);
  // Decode steps (DeviceOptions::splitLinears): how many K slices a linear of `tiles` output
  // tiles (64 wide) and `ksteps` k-steps is split into, from its shape alone.
  int64_t splitCount(int64_t tiles, int64_t ksteps) const;
  // A dense linear into y [rows, out]: `kernel` (linear_fp8 / linear_bf16) with `args(y)`, or in
  // a decode step its split form into partial tiles (`args(parts)`) and split_sum.
  using LinearArgs = std::function<std::vector<tlrt::Arg>(const Tensor &)>;
  Tensor linearCall(const char *module, const std::string &kernel, const Tensor &y, int64_t ksteps,
                    bool grouped, const LinearArgs &args);
  // Set by run() for the call at hand: a decode step's linears take the split kernels and its
  // experts the expert_dec build.
  bool decodeCall = false;
  // sample.tl over rows of logits on the device: one token per row.
  std::vector<int32_t> sample(const Tensor &logits, const std::vector<float> &temperature,
                              const std::vector<uint32_t> &seeds, const std::vector<float> &topP);
  Tensor linear16(const std::string &out, const Bf16Linear &w, const Tensor &xb,
                  float alpha = 1.0f, bool grouped = false);
  // Runs the model over the call's tokens; returns the logits [n, vocab].
  // headRows: the rows that get logits (empty: every row).
  Tensor forward(const Batch &batch, const std::vector<int32_t> &ids,
                 const std::vector<int64_t> &headRows = {});
  // The launches of forward() after its inputs are on the device.
  Tensor run(const Batch &batch, const CallInputs &in, const std::vector<int64_t> &headRows);
  // A decode step: forward() through the batch width's CUDA graph where there is one.
  Tensor decodeStep(const Batch &batch, const std::vector<int32_t> &ids);
  Tensor ffn(int64_t l, const Tensor &y, const Tensor &yq, const Tensor &ys, const CallInputs &in,
             int64_t n);
  // DeviceAttention.cpp: y = attention(x) for n tokens (prefill: the batch's
  // sequences one after another; decode: one per slot).
  CallInputs uploadInputs(const Batch &batch, const std::vector<int32_t> &ids);
  Tensor attention(int64_t l, const Tensor &y, const Tensor &yq, const Tensor &ys,
                   const CallInputs &in, int64_t n, const Batch &batch);
  Tensor ropeCos(LayerKind kind) const;
  Tensor ropeSin(LayerKind kind) const;
};

} // namespace tlv4
