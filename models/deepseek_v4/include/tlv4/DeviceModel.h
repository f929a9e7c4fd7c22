// DeviceModel: the DeepSeek-V4 forward pass built only from tlc-compiled
// kernels (models/deepseek_v4/kernels, loaded through libtlrt as a KernelSet),
// on a GPU or, with the same code, on the kernels compiled for the CPU target
// (so CI runs the whole path). The host only orchestrates: it uploads the
// checkpoint's tensors in their stored formats (FP8 weights with their block
// scales, FP4 experts with ue8m0 group scales, bf16, f32), owns the KV caches
// and launches kernels.
//
// Sequences live in slots 0 .. maxBatch-1. prefill() starts the given slots
// from their prompts; decode() advances every slot given a token by one
// position. Each slot keeps its caches: the window ring of FP8 KV rows, the
// compressed entries (FP8 + RoPE dims) after it, the indexer's keys, and the
// compressors' running state.
//
// Precision (docs/v4-reference.md, "precision policy"): activations stay f32
// between kernels except where V4's own kernels read bf16 (the bf16 linears'
// inputs, the attention's query and KV, its output); every FP8/FP4 linear
// quantises its input per token in 1 x 128 blocks as the reference does.
//
// Batch invariance: every kernel computes a token's row from that token's
// data alone, in an order that does not depend on the batch (linears, experts
// and norms row by row; MoE dispatch and combine in fixed orders without
// atomics; the decode attention's split count depends on the cache capacity,
// not the batch), so a sequence's logits are the same bits alone or batched.
#pragma once

#include "tlv4/Config.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tlv4 {

struct DeviceOptions {
  // The kernel set's directory; empty: the set built with this tree for the
  // checkpoint's shape (tiny or flash), if its plan matches.
  std::string kernelSet;
  bool gpu = true;         // false: the CPU-target kernels
  int64_t maxBatch = 1;    // slots
  int64_t maxLength = 0;   // positions per slot; 0: min(max_position_embeddings, 4096)
  int device = 0;
  // Batch invariance even where speed would choose otherwise: the decode attention's split
  // count then depends on the cache capacity only, never on the batch (without it, the split
  // count fills the GPU's SMs for the batch at hand, and a sequence's logits can differ in the
  // last bits between batch sizes). Everything else is batch-invariant in both modes.
  bool deterministic = false;
  // Time every kernel launch (waiting for each: slower, for finding where the time goes).
  // Launches one kernel at a time, so decode steps do not use graphs.
  bool profile = false;
  // GPU decode steps replay one CUDA graph per batch width instead of launching each kernel
  // from the host (the second step at a width captures it). Same kernels, same arguments:
  // the logits are the same bits either way.
  bool graphs = true;
  // Prefill's routed experts in two steps: every expert's FP4 weights decoded
  // once per call into an e4m3 copy with a scale per row and 128-wide block (scratch as large
  // as one expert matrix in FP8: 2 GiB at V4-Flash's shapes), then a plain FP8 grouped GEMM;
  // instead of decoding the FP4 tile in every block that multiplies it. The same codes and
  // scales either way (bit for bit on the CPU target). Decode steps always decode in the tile.
  bool stagedExperts = false;
  // Decode steps' dense linears split K over several blocks when their output tiles alone
  // would leave SMs idle (a batch of a few rows reads every weight once: the read is what
  // takes the time, so it needs blocks on every SM); the partial tiles are added in a fixed
  // order by a second kernel. The split count follows the weight's shape only, never the
  // batch, so batch invariance holds. false: one block per output tile, as in prefill.
  bool splitLinears = true;
};

class DeviceModel {
public:
  // Opens and verifies the checkpoint, loads the kernel set, uploads the
  // weights and allocates the caches. Throws with a clear message for a bad
  // checkpoint, a kernel set of another shape, or memory that does not fit.
  static std::unique_ptr<DeviceModel> load(const std::string &checkpointDir,
                                           const DeviceOptions &options);
  ~DeviceModel();

  const Config &config() const;
  // "tiny kernel set, sm_90a, NVIDIA H100 80GB HBM3" or "..., cpu (8 threads)".
  std::string describe() const;
  int64_t maxBatch() const;
  int64_t maxLength() const;
  // Tokens slot `slot` holds (0 after construction).
  int64_t length(int64_t slot) const;

  // Prefills prompts[b] into slot b (b < maxBatch; an empty prompt leaves the
  // slot alone) and returns each prompt's logits at every position, row-major
  // [L_b, vocab].
  // With allPositions false, only each prompt's last position gets logits ([vocab]): the
  // head runs on those rows alone (generation and benchmarks).
  std::vector<std::vector<float>> prefill(const std::vector<std::vector<int32_t>> &prompts,
                                          bool allPositions = true);
  // One step: ids[b] >= 0 is slot b's next token, -1 leaves the slot idle.
  // Returns each stepped slot's logits [vocab] (empty for idle slots).
  // With returnLogits false nothing is copied back (sampleLast reads them on the device).
  std::vector<std::vector<float>> decode(const std::vector<int32_t> &ids,
                                         bool returnLogits = true);
  // Bytes per second of copy_rows (roofline.tl) over `bytes` bytes (read + write counted),
  // the best of `repeats` runs: the memory roofline of the benchmark.
  double copyBandwidth(size_t bytes, int repeats = 5);
  // Waits for the kernels launched so far (GPU); a no-op on the CPU target.
  void synchronize();
  // With DeviceOptions::profile: per module.kernel since the last call, largest first, as a
  // Markdown table: kernel milliseconds (GPU: between events around each launch), the host's
  // launch calls alone, launches; then the counters restart.
  std::string takeProfile();
  // Samples on the device from the logits of the last prefill or decode call
  // (its last position per slot): temperature <= 0 greedy, else Gumbel-max
  // with the slot's seed (sample.tl; the reference's gumbelToken draws the
  // same noise). One entry per slot of that call; idle slots get -1.
  // topP (empty: 1 for every slot) < 1 draws from the nucleus (gumbelTopPToken).
  std::vector<int32_t> sampleLast(const std::vector<float> &temperature,
                                  const std::vector<uint32_t> &seeds,
                                  const std::vector<float> &topP = {});
  // The same sampler on given rows of logits (each at most vocab wide; the
  // missing tail counts as -inf, e.g. a tokenizer smaller than the vocabulary).
  std::vector<int32_t> sampleRows(const std::vector<std::vector<float>> &logits,
                                  const std::vector<float> &temperature,
                                  const std::vector<uint32_t> &seeds,
                                  const std::vector<float> &topP = {});

  struct Impl;

private:
  explicit DeviceModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace tlv4
