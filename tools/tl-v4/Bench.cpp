// Bench: `tl-v4 bench`, the device model's speed beside its roofline, measured in the same
// run: prefill tokens/s (one sequence of each length; TFLOP/s of the work the model must do,
// against the GPU's dense FP8 peak) and decode ms per step at each batch (one token per
// sequence per step, the next tokens picked by the device sampler; the bytes a step must read,
// over the bandwidth of a copy kernel measured here). Progress goes to stderr.
#include "Commands.h"

#include "tlv4/DeviceModel.h"
#include "tlrt/Gpu.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>

namespace tlv4::tool {
namespace {

struct BenchOptions {
  std::string checkpoint, kernels, device, prefill = "4096,16384", batches = "1,32,128", json;
  int64_t context = 1024, steps = 16;
  bool deterministic = false;
  bool profile = false;
  bool noGraphs = false;
  bool stagedExperts = false;
  bool noSplitLinears = false;
};

std::vector<int64_t> parseList(const std::string &s, const char *what) {
  std::vector<int64_t> v;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (item.empty())
      continue;
    try {
      v.push_back(std::stoll(item));
    } catch (const std::exception &) {
      throw std::runtime_error(fmt::format("{}: '{}' is not a number", what, item));
    }
    if (v.back() < 1)
      throw std::runtime_error(fmt::format("{}: {} must be positive", what, v.back()));
  }
  return v;
}

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The dense FP8 tensor-core peak of the GPUs we are lent (NVIDIA's data sheets, without
// sparsity), by name; 0 when unknown.
double fp8PeakTflops(const std::string &name) {
  if (name.find("H100") != std::string::npos)
    return name.find("PCIe") != std::string::npos ? 1513 : 1979;
  if (name.find("H200") != std::string::npos)
    return 1979;
  if (name.find("B200") != std::string::npos)
    return 4500;
  return 0;
}

// FLOPs the model must do for a prefill of `len` tokens: every linear (2 per MAC) but the
// head (run for the last token only), and attention over the slots each query attends
// (window, the indexer's top-k or every HCA entry; Q K and P V), and the indexer's scores.
double prefillFlops(const Config &c, int64_t len) {
  const double d = double(c.hiddenSize), h = double(c.numAttentionHeads), hd = double(c.headDim),
               ql = double(c.qLoraRank), ol = double(c.oLoraRank), g = double(c.oGroups),
               im = double(c.moeIntermediateSize), ih = double(c.indexNHeads),
               di = double(c.indexHeadDim);
  double macs = 0;
  for (int64_t l = 0; l < c.numHiddenLayers; ++l) {
    const LayerKind kind = c.layerKind(l);
    double perToken = d * ql + ql * h * hd + d * hd + h * hd * ol + g * ol * d; // attention
    perToken += double(c.nRoutedExperts) * d + 3 * im * d * double(c.numExpertsPerTok + 1); // MoE
    if (kind != LayerKind::Window)
      perToken += 2 * d * double(c.compressorOverlap(l)) * hd;
    if (kind == LayerKind::CSA)
      perToken += ql * ih * di + d * ih + 2 * d * 2 * di;
    macs += perToken * double(len);
    for (int64_t p = 0; p < len; ++p) {
      double slots = double(std::min<int64_t>(p + 1, c.slidingWindow));
      if (kind != LayerKind::Window) {
        const int64_t visible = (p + 1) / c.compressRatio(l);
        slots += double(kind == LayerKind::CSA ? std::min(visible, c.indexTopk) : visible);
        if (kind == LayerKind::CSA)
          macs += ih * di * double(visible);
      }
      macs += 2 * h * hd * slots;
    }
  }
  return 2 * macs;
}

// Bytes a decode step of `batch` sequences at context `ctx` must read: every dense weight
// once, the routed experts the step touches (the expected number of distinct experts when
// each token picks K of E at random), the head, and each sequence's KV rows and index keys.
double decodeBytes(const Config &c, int64_t batch, int64_t ctx) {
  const double d = double(c.hiddenSize), h = double(c.numAttentionHeads), hd = double(c.headDim),
               ql = double(c.qLoraRank), ol = double(c.oLoraRank), g = double(c.oGroups),
               im = double(c.moeIntermediateSize), ih = double(c.indexNHeads),
               di = double(c.indexHeadDim), e = double(c.nRoutedExperts),
               k = double(c.numExpertsPerTok), rope = double(c.qkRopeHeadDim);
  const double kvRow = (hd - rope) + (hd - rope) / 64 * 4 + rope * 2; // FP8 codes, scales, RoPE
  double bytes = double(c.vocabSize) * d * 2;                         // head (bf16)
  for (int64_t l = 0; l < c.numHiddenLayers; ++l) {
    const LayerKind kind = c.layerKind(l);
    bytes += d * ql + ql * h * hd + d * hd + g * ol * d; // FP8 linears
    bytes += h * hd * ol * 2;                            // wo_a (bf16)
    bytes += 2.0 * double(c.hcMixes()) * double(c.hcDim()) * 4;
    bytes += e * d * 2 + 3 * im * d;                    // gate (bf16), shared expert (FP8)
    const double touched = e * (1 - std::pow(1 - k / e, double(batch)));
    bytes += touched * 3 * im * d * (0.5 + 1.0 / 32);  // FP4 experts with their scales
    double rows = double(std::min(ctx, c.slidingWindow));
    if (kind != LayerKind::Window) {
      bytes += 2 * d * double(c.compressorOverlap(l)) * hd * 2;
      const int64_t visible = ctx / c.compressRatio(l);
      rows += double(kind == LayerKind::CSA ? std::min(visible, c.indexTopk) : visible);
      if (kind == LayerKind::CSA) {
        bytes += ql * ih * di + d * ih * 2 + 2 * d * 2 * di * 2;
        bytes += double(batch) * double(visible) * (di + 4); // index keys
      }
    }
    bytes += double(batch) * rows * kvRow;
  }
  return bytes;
}

void runBench(const BenchOptions &o) {
  const std::vector<int64_t> prefills = parseList(o.prefill, "--prefill");
  const std::vector<int64_t> batches = parseList(o.batches, "--batch");
  std::string device = o.device;
  if (device.empty())
    device = tlrt::cudaAvailable() && tlrt::cudaDeviceCount() > 0 ? "cuda" : "cpu";
  DeviceOptions d;
  d.gpu = device == "cuda";
  d.kernelSet = o.kernels;
  d.deterministic = o.deterministic;
  d.profile = o.profile;
  d.graphs = !o.noGraphs;
  d.stagedExperts = o.stagedExperts;
  d.splitLinears = !o.noSplitLinears;
  d.maxBatch = batches.empty() ? 1 : *std::max_element(batches.begin(), batches.end());
  // Each slot: the context, the first step, the warm-up step and the timed steps.
  int64_t longest = o.context + o.steps + 2;
  for (int64_t p : prefills)
    longest = std::max(longest, p);
  d.maxLength = longest;
  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<DeviceModel> model = DeviceModel::load(o.checkpoint, d);
  const Config &c = model->config();
  std::string gpuName = d.gpu ? tlrt::Context::get(0).deviceName() : "cpu";
  fmt::print(stderr, "loaded {} layers in {:.1f} s: {}\n", c.numHiddenLayers, seconds(t0),
             model->describe());
  const double bw = model->copyBandwidth(size_t(2) << 30);
  const double peak = fp8PeakTflops(gpuName);
  fmt::print("device: {}\ncopy kernel: {:.0f} GB/s\nFP8 dense peak (data sheet): {}\n", gpuName,
             bw / 1e9, peak > 0 ? fmt::format("{:.0f} TFLOP/s", peak) : "unknown");
  fmt::print("prefill experts: {}\n", o.stagedExperts ? "staged (FP4 -> FP8 once, then FP8 GEMM)"
                                                     : "decoded in every tile");
  fmt::print("decode steps: {}\n", !d.gpu        ? "launched kernel by kernel (CPU target)"
                                    : o.profile   ? "launched kernel by kernel (--profile)"
                                    : o.noGraphs  ? "launched kernel by kernel (--no-graphs)"
                                                  : "CUDA graphs, one per batch width");
  fmt::print("decode linears: {}\n", d.splitLinears ? "K split to fill the SMs, partials added in order"
                                                    : "one block per output tile");
  std::FILE *json = o.json.empty() ? nullptr : std::fopen(o.json.c_str(), "w");
  std::mt19937 rng(1);
  auto prompt = [&](int64_t n) {
    std::vector<int32_t> ids(n);
    for (int32_t &id : ids)
      id = int32_t(rng() % uint32_t(c.vocabSize));
    return ids;
  };

  fmt::print("\n| prefill | s | tokens/s | TFLOP/s | of FP8 peak |\n|---:|---:|---:|---:|---:|\n");
  model->prefill({prompt(std::min<int64_t>(256, longest))}, false); // warm-up: module loads
  for (int64_t len : prefills) {
    fmt::print(stderr, "prefill {} tokens ...\n", len);
    std::vector<int32_t> ids = prompt(len);
    model->prefill({ids}, false); // sizes the scratch for this length
    t0 = std::chrono::steady_clock::now();
    model->prefill({ids}, false);
    const double s = seconds(t0);
    const double tflops = prefillFlops(c, len) / s / 1e12;
    fmt::print("| {} | {:.3f} | {:.0f} | {:.1f} | {} |\n", len, s, double(len) / s, tflops,
               peak > 0 ? fmt::format("{:.1f}%", 100 * tflops / peak) : "-");
    if (json)
      fmt::print(json, "{{\"kind\":\"prefill\",\"tokens\":{},\"s\":{},\"tflops\":{}}}\n", len, s, tflops);
    if (o.profile)
      fmt::print(stderr, "prefill {} per kernel (the timed run and the sizing run):\n{}", len,
                 model->takeProfile());
  }

  fmt::print("\n| decode batch | context | ms / step | ms / token | bytes / step | roofline ms | "
             "of roofline |\n|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int64_t b : batches) {
    fmt::print(stderr, "decode batch {} (prefill {} x {} tokens) ...\n", b, b, o.context);
    // Prefill the slots a few at a time (the activations of 128 x 1024 tokens at once would
    // not fit beside the weights).
    const int64_t group = std::max<int64_t>(1, 8192 / o.context);
    for (int64_t first = 0; first < b; first += group) {
      std::vector<std::vector<int32_t>> prompts(std::min(b, first + group));
      for (int64_t i = first; i < int64_t(prompts.size()); ++i)
        prompts[i] = prompt(o.context);
      model->prefill(prompts, false);
    }
    // The last logits of every slot for the first step's tokens.
    std::vector<int32_t> first(b, 0);
    model->decode(first, false);
    std::vector<float> temps(b, 0.0f);
    std::vector<uint32_t> seeds(b, 0);
    std::vector<int32_t> next = model->sampleLast(temps, seeds);
    model->decode(next, false); // warm-up step
    next = model->sampleLast(temps, seeds);
    model->synchronize();
    if (o.profile)
      model->takeProfile(); // the prefill and warm-up: not part of the steps' profile
    t0 = std::chrono::steady_clock::now();
    for (int64_t s = 0; s < o.steps; ++s) {
      model->decode(next, false);
      next = model->sampleLast(temps, seeds);
    }
    const double ms = seconds(t0) * 1e3 / double(o.steps);
    const double bytes = decodeBytes(c, b, o.context + o.steps / 2);
    const double roof = bytes / bw * 1e3;
    fmt::print("| {} | {} | {:.2f} | {:.3f} | {:.0f} MB | {:.3f} | {:.0f}% |\n", b, o.context, ms,
               ms / double(b), bytes / 1e6, roof, 100 * roof / ms);
    if (json)
      fmt::print(json, "{{\"kind\":\"decode\",\"batch\":{},\"ms\":{},\"roofline_ms\":{}}}\n", b, ms, roof);
    if (o.profile)
      fmt::print(stderr, "decode batch {} per kernel ({} steps, each followed by the sampler):\n{}", b,
                 o.steps, model->takeProfile());
  }
  if (json)
    std::fclose(json);
}

} // namespace

void registerBenchCommand(CLI::App &app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App *cmd = app.add_subcommand(
      "bench", "Prefill tokens/s and decode ms/step of the device model, beside the roofline");
  cmd->add_option("--checkpoint", o->checkpoint, "checkpoint directory")->required();
  cmd->add_option("--kernels", o->kernels, "the kernel set (default: the one built for the shape)");
  cmd->add_option("--device", o->device, "cuda or cpu (default: cuda when a GPU exists)")
      ->check(CLI::IsMember({"cuda", "cpu"}));
  cmd->add_option("--prefill", o->prefill, "prefill lengths, comma-separated (default 4096,16384)");
  cmd->add_option("--batch", o->batches, "decode batch sizes, comma-separated (default 1,32,128)");
  cmd->add_option("--context", o->context, "tokens prefilled per sequence before decoding (1024)");
  cmd->add_option("--steps", o->steps, "timed decode steps per batch size (16)");
  cmd->add_flag("--deterministic", o->deterministic, "the batch-invariant decode schedule");
  cmd->add_option("--json", o->json, "also write one JSON line per measurement here");
  cmd->add_flag("--profile", o->profile,
                "time each kernel on the GPU and its host launch (synchronising after each: the "
                "totals are then slower, and decode runs without graphs)");
  cmd->add_flag("--staged-experts", o->stagedExperts,
                "prefill: decode the FP4 experts to FP8 once per call, then FP8 GEMMs "
                "(DeviceOptions::stagedExperts)");
  cmd->add_flag("--no-split-linears", o->noSplitLinears,
                "decode: one block per output tile of every dense linear, as in prefill, instead "
                "of K split over more blocks (DeviceOptions::splitLinears)");
  cmd->add_flag("--no-graphs", o->noGraphs,
                "launch every decode kernel from the host instead of replaying CUDA graphs");
  cmd->callback([o] { runBench(*o); });
}

} // namespace tlv4::tool
