// DeviceModel: loading, the forward pass over a call's tokens (embedding,
// blocks with mHC, MoE, head), prefill / decode / device sampling
// (DeviceModel.h). The attention sub-layer is DeviceAttention.cpp.
#include "DeviceModelImpl.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <stdexcept>

namespace tlv4 {

DeviceModel::DeviceModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DeviceModel::~DeviceModel() = default;

const Config &DeviceModel::config() const { return impl_->config; }
int64_t DeviceModel::maxBatch() const { return impl_->slots; }
int64_t DeviceModel::maxLength() const { return impl_->maxLength; }
int64_t DeviceModel::length(int64_t slot) const { return impl_->lengths.at(slot); }

std::string DeviceModel::describe() const {
  const Impl &m = *impl_;
  std::string where = m.gpu ? tlrt::Context::get(m.options.device).deviceName()
                            : fmt::format("{} threads", tlrt::Module::cpuThreads());
  return fmt::format("kernel set {}, {} ({})", m.kernels->dir(), m.kernels->target(), where);
}

std::unique_ptr<DeviceModel> DeviceModel::load(const std::string &checkpointDir,
                                               const DeviceOptions &options) {
  auto impl = std::make_unique<Impl>(options.gpu, options.device);
  Impl &m = *impl;
  m.options = options;
  m.gpu = options.gpu;
  m.checkpoint = std::make_shared<Checkpoint>(Checkpoint::open(checkpointDir));
  m.checkpoint->verifyOrThrow();
  m.config = m.checkpoint->config();
  if (options.maxBatch < 1)
    throw std::runtime_error("the device model needs at least one slot (maxBatch >= 1)");
  m.slots = options.maxBatch;
  m.maxLength = options.maxLength > 0 ? options.maxLength
                                      : std::min<int64_t>(m.config.maxPositionEmbeddings > 0
                                                              ? m.config.maxPositionEmbeddings
                                                              : 4096,
                                                          4096);
  std::string target = "cpu";
  if (m.gpu) {
    std::string why;
    if (!tlrt::cudaAvailable(&why) || tlrt::cudaDeviceCount() <= options.device)
      throw std::runtime_error("--device cuda: no GPU here (" + (why.empty() ? "no device" : why) + ")");
    auto [major, minor] = tlrt::Context::get(options.device).computeCapability();
    target = major == 9 ? "sm_90a" : major == 10 ? "sm_100a" : "";
    if (target.empty())
      throw std::runtime_error(fmt::format(
          "GPU compute capability {}.{}: the kernels are built for sm_90a and sm_100a", major, minor));
    m.stream.emplace(options.device);
  }
  std::string dir = options.kernelSet;
  if (dir.empty()) {
    for (const char *name : {"tiny", "flash"}) {
      const std::string d = builtKernelSetDir(name);
      std::error_code ec;
      if (!std::filesystem::exists(d + "/plan.txt", ec))
        continue;
      try {
        m.kernels = KernelSet::open(d, target, m.config);
        break;
      } catch (const std::exception &) {
        // another shape: try the next set
      }
    }
    if (!m.kernels)
      throw std::runtime_error(fmt::format(
          "no kernel set built with this tree fits {} ({} target); build one with `tl-v4 "
          "build-kernels --checkpoint {} --target {} --out <dir>` and pass it with --kernels",
          checkpointDir, target, checkpointDir, target));
  } else {
    m.kernels = KernelSet::open(dir, target, m.config);
  }
  try {
    m.loadWeights();
    m.allocateCaches();
  } catch (const tlrt::Error &e) {
    throw std::runtime_error(fmt::format("loading {} onto {}: {}", checkpointDir,
                                         m.gpu ? "the GPU" : "the host", e.what()));
  }
  return std::unique_ptr<DeviceModel>(new DeviceModel(std::move(impl)));
}

void DeviceModel::Impl::launch(const std::string &module, const std::string &kernel,
                               const std::vector<tlrt::Arg> &args) {
  const tlrt::Stream *st = stream ? &*stream : nullptr;
  if (!options.profile) {
    kernels->kernel(module, kernel).launch(args, st);
    return;
  }
  // GPU: the kernel's time between two events, and the host's launch call on its own (argument
  // checks, tensor-map encoding, the driver call); CPU: the launch, which runs the kernel.
  if (st && !profileEvents)
    profileEvents.emplace(tlrt::Event(options.device), tlrt::Event(options.device));
  if (st) {
    st->synchronize();
    profileEvents->first.record(st);
  }
  const auto t0 = std::chrono::steady_clock::now();
  kernels->kernel(module, kernel).launch(args, st);
  const double host =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  double ms = host;
  if (st) {
    profileEvents->second.record(st);
    profileEvents->second.synchronize();
    ms = tlrt::Event::elapsedMs(profileEvents->first, profileEvents->second);
  }
  ProfileRow &p = profile[module + "." + kernel];
  p.ms += ms;
  p.hostMs += host;
  p.launches += 1;
}

std::string DeviceModel::takeProfile() {
  std::vector<std::pair<std::string, Impl::ProfileRow>> rows(impl_->profile.begin(),
                                                             impl_->profile.end());
  impl_->profile.clear();
  std::sort(rows.begin(), rows.end(),
            [](const auto &a, const auto &b) { return a.second.ms > b.second.ms; });
  double total = 0, host = 0;
  int64_t launches = 0;
  for (const auto &r : rows) {
    total += r.second.ms;
    host += r.second.hostMs;
    launches += r.second.launches;
  }
  std::string s = fmt::format("| kernel | {} ms | host launch ms | launches | share |\n"
                              "|---|---:|---:|---:|---:|\n",
                              impl_->stream ? "GPU" : "CPU");
  for (const auto &[name, v] : rows)
    s += fmt::format("| {} | {:.3f} | {:.3f} | {} | {:.1f}% |\n", name, v.ms, v.hostMs, v.launches,
                     total > 0 ? 100 * v.ms / total : 0.0);
  s += fmt::format("| total | {:.3f} | {:.3f} | {} | |\n", total, host, launches);
  return s;
}

int64_t DeviceModel::Impl::splitCount(int64_t tiles, int64_t ksteps) const {
  // Two blocks per SM of the GPU (an H100's count on the CPU target, so both split alike);
  // at most 16 slices, at most one k-step each.
  const int64_t want = 2 * (stream ? tlrt::Context::get(options.device).multiprocessorCount() : 132);
  return std::clamp<int64_t>((want + tiles - 1) / tiles, 1, std::min<int64_t>(16, ksteps));
}

Tensor DeviceModel::Impl::linearCall(const char *module, const std::string &kernel, const Tensor &y,
                                     int64_t ksteps, bool grouped, const LinearArgs &args) {
  if (!decodeCall || !options.splitLinears) {
    launch(module, kernel, args(y));
    return y;
  }
  const int64_t n = y.shape[0], out = y.shape[1], g = grouped ? config.oGroups : 1;
  const int64_t split = splitCount((out / g + 63) / 64 * g, ksteps);
  if (split == 1) {
    launch(module, kernel + "_split", args(Tensor(y.data, DT::Float32, {1, n, out}, y.place)));
    return y;
  }
  Tensor part = scratch.get("split_part", DT::Float32, {split, n, out});
  launch(module, kernel + "_split", args(part));
  launch("linear", "split_sum", {part, y});
  return y;
}

Tensor DeviceModel::Impl::linear8(const std::string &out, const Fp8Linear &w, const Tensor &xq,
                                  const Tensor &xs, bool grouped) {
  Tensor y = scratch.get(out, DT::Float32, {xq.shape[0], w.out});
  return linearCall(grouped ? "linear_wo" : "linear", "linear_fp8", y, w.in / 128, grouped,
                    [&](const Tensor &o) {
                      return std::vector<tlrt::Arg>{xq, xs, w.weight(), w.scale(), o};
                    });
}

Tensor DeviceModel::Impl::linear16(const std::string &out, const Bf16Linear &w, const Tensor &xb,
                                   float alpha, bool grouped) {
  Tensor y = scratch.get(out, DT::Float32, {xb.shape[0], w.out});
  return linearCall(grouped ? "linear_wo" : "linear", "linear_bf16", y, (w.in + 63) / 64, grouped,
                    [&](const Tensor &o) { return std::vector<tlrt::Arg>{xb, w.weight(), o, alpha}; });
}

Tensor DeviceModel::Impl::ffn(int64_t l, const Tensor &y, const Tensor &yq, const Tensor &ys,
                              const CallInputs &in, int64_t n) {
  const Tensor &ids = in.ids;
  const Config &c = config;
  const LayerWeights &w = layers[l];
  Scratch &s = scratch;
  const int64_t d = c.hiddenSize, e = c.nRoutedExperts, k = c.numExpertsPerTok,
                im = c.moeIntermediateSize;
  // Router: the bf16 gate GEMM, then sqrtsoftplus + bias top-k, or the hash table.
  Tensor yb = s.get("f_yb", DT::BFloat16, {n, d});
  launch("linear", "cast_bf16", {y, yb});
  Tensor lg = linear16("f_gate", w.gate, yb);
  Tensor experts = s.get("f_experts", DT::Int32, {n, k});
  Tensor weights = s.get("f_weights", DT::Float32, {n, k});
  if (w.hash)
    launch("moe", "moe_gate_hash",
           {lg, ids, w.tid2eid.view(DT::Int32, {c.vocabSize, k}), experts, weights});
  else
    launch("moe", "moe_gate", {lg, w.bias.t(), experts, weights});

  // Shared expert.
  Tensor g = linear8("f_sg", w.sh1, yq, ys);
  Tensor u = linear8("f_su", w.sh3, yq, ys);
  Tensor hq = s.get("f_shq", DT::Float8E4M3, {n, im});
  Tensor hs = s.get("f_shs", DT::Float32, {n, im / 128});
  launch("moe", "swiglu_quant", {g, u, in.ones,
                                 s.get("f_sh", DT::Float32, {n, im}), hq, hs});
  Tensor shared = linear8("f_shared", w.sh2, hq, hs);

  // Dispatch: the (token, slot) assignments sorted by expert, deterministically.
  const int64_t tb = 16, nblk = (n + tb - 1) / tb, rows = n * k;
  Tensor cnt = s.get("f_cnt", DT::Int32, {nblk, e});
  Tensor offsets = s.get("f_off", DT::Int32, {e + 1});
  Tensor base = s.get("f_base", DT::Int32, {nblk, e});
  Tensor perm = s.get("f_perm", DT::Int32, {rows});
  Tensor rowOf = s.get("f_rowof", DT::Int32, {n, k});
  Tensor tiles = s.get("f_tiles", DT::Int32, {e + 1});
  launch("moe_dispatch", "moe_count", {experts, cnt});
  launch("moe_dispatch", "moe_offsets", {cnt, offsets, base});
  launch("moe_dispatch", "moe_scatter", {experts, base, perm, rowOf});
  // Decode steps take the small-tile build (KernelSet.cpp); the choice follows the call's kind,
  // never its size, so a sequence's bits do not depend on the batch.
  const std::string xmod = decodeCall ? "expert_dec" : "expert";
  launch(xmod, "moe_tiles", {offsets, tiles});
  Tensor aq = s.get("f_aq", DT::Float8E4M3, {rows, d});
  Tensor as = s.get("f_as", DT::Float32, {rows, d / 128});
  Tensor wr = s.get("f_wr", DT::Float32, {rows});
  launch(xmod, "moe_gather", {perm, offsets, yq, ys, weights, aq, as, wr});

  // Routed experts over their segments: w1 / w3, SwiGLU with the route weight, w2.
  // DeviceOptions::stagedExperts (prefill): the weights decoded to e4m3 once, then FP8 MMA only;
  // one scratch serves the three matrices in turn (the stream orders them).
  const bool staged = !decodeCall && options.stagedExperts;
  auto grouped = [&](const char *out, const ExpertsW &x, const Tensor &a, const Tensor &sa) {
    Tensor y2 = s.get(out, DT::Float32, {rows, x.out});
    // Eight codes a word: the kernels decode a word of one group at a time.
    Tensor codes = x.w.view(DT::Int32, {e * x.out, x.in / 8});
    Tensor scales = x.s.view(DT::Int8, {x.in / 32, e * x.out});
    if (!staged) {
      launch(xmod, "expert_fp4", {a, sa, y2, codes, scales, offsets, tiles});
      return y2;
    }
    Tensor w8 = s.get("f_w8", DT::Float8E4M3, {e * x.out, x.in});
    Tensor sw = s.get("f_sw8", DT::Float32, {e * x.out, x.in / 128});
    Tensor w8words(w8.data, DT::Int32, {e * x.out, x.in / 4}, w8.place);
    launch(xmod, "fp4_to_fp8", {codes, scales, w8words, sw});
    launch(xmod, "expert_fp8", {a, sa, y2, w8, sw, offsets, tiles});
    return y2;
  };
  Tensor eg = grouped("f_eg", w.w1, aq, as);
  Tensor eu = grouped("f_eu", w.w3, aq, as);
  Tensor ehq = s.get("f_ehq", DT::Float8E4M3, {rows, im});
  Tensor ehs = s.get("f_ehs", DT::Float32, {rows, im / 128});
  launch("moe", "swiglu_quant", {eg, eu, wr, s.get("f_eh", DT::Float32, {rows, im}), ehq, ehs});
  Tensor eo = grouped("f_eo", w.w2, ehq, ehs);

  Tensor out = s.get("f_out", DT::Float32, {n, d});
  launch("moe_dispatch", "moe_combine", {shared, eo, rowOf, out});
  return out;
}

CallInputs DeviceModel::Impl::uploadInputs(const Batch &batch, const std::vector<int32_t> &idv) {
  // Host uploads do not order with the model's stream (Scratch::ints): the last call's kernels
  // must be done before its inputs are overwritten.
  if (stream)
    stream->synchronize();
  Scratch &s = scratch;
  const int64_t n = int64_t(idv.size());
  CallInputs in;
  in.ids = s.ints("ids", idv);
  in.pos = s.ints("pos", batch.pos);
  std::vector<int32_t> rp(batch.pos);
  for (int32_t &p : rp)
    p = std::max(p, 0);
  in.ropePos = s.ints("rope_pos", rp);
  in.ones = s.floats("ones", std::vector<float>(n, 1.0f));
  int64_t csaRatio = 0; // one ratio per layer kind (kernelPlan)
  for (const LayerWeights &w : layers)
    if (w.kind == LayerKind::CSA)
      csaRatio = w.ratio;
  auto visible = [&](int32_t p) { return p < 0 || !csaRatio ? 0 : int32_t((p + 1) / csaRatio); };
  if (!batch.decode) {
    for (size_t i = 0; i < batch.slot.size(); ++i) {
      const int64_t t0 = batch.start[i], len = batch.count[i];
      in.seqLens.push_back(s.ints(fmt::format("lens{}", i), {int32_t(len)}));
      if (!csaRatio)
        continue;
      std::vector<int32_t> vis(len);
      for (int64_t t = 0; t < len; ++t)
        vis[t] = visible(batch.pos[t0 + t]);
      in.seqVisible.push_back(s.ints(fmt::format("vis{}", i), vis));
      in.seqNoTopK.push_back(s.ints(fmt::format("notopk{}", i),
                                    std::vector<int32_t>(len * config.indexTopk, -1),
                                    {1, len, config.indexTopk}));
    }
  } else {
    std::vector<int32_t> lens(n), vis(n);
    for (int64_t b = 0; b < n; ++b) {
      lens[b] = std::max(batch.pos[b] + 1, 0);
      vis[b] = visible(batch.pos[b]);
    }
    in.slotLens = s.ints("d_lens", lens);
    in.slotVisible = s.ints("d_vis", vis);
  }
  return in;
}

Tensor DeviceModel::Impl::forward(const Batch &batch, const std::vector<int32_t> &idv,
                                  const std::vector<int64_t> &headRows) {
  return run(batch, uploadInputs(batch, idv), headRows);
}

Tensor DeviceModel::Impl::decodeStep(const Batch &batch, const std::vector<int32_t> &idv) {
  if (!stream || options.profile || !options.graphs)
    return forward(batch, idv);
  const CallInputs in = uploadInputs(batch, idv);
  DecodeGraph &g = decodeGraphs[int64_t(idv.size())];
  const uint64_t gen = scratch.generation();
  if (g.graph && g.generation == gen) {
    g.graph.launch(*stream);
    return g.logits;
  }
  if (g.warm != gen) {
    // The first step at this width since the buffers moved: eager, so whatever it allocates
    // is allocated before a capture.
    g.graph = tlrt::Graph();
    Tensor logits = run(batch, in, {});
    g.warm = scratch.generation();
    return logits;
  }
  Tensor logits;
  g.graph = tlrt::Graph::capture(*stream, [&] { logits = run(batch, in, {}); });
  if (scratch.generation() != gen)
    throw std::logic_error("decode graph: a scratch buffer moved while the step was captured");
  g.generation = gen;
  g.logits = logits;
  g.graph.launch(*stream);
  return logits;
}

Tensor DeviceModel::Impl::run(const Batch &batch, const CallInputs &in,
                              const std::vector<int64_t> &headRows) {
  const Config &c = config;
  Scratch &s = scratch;
  decodeCall = batch.decode;
  const int64_t n = in.ids.shape[0], d = c.hiddenSize, hcd = c.hcMult * d, hc = c.hcMult;
  const Tensor &ids = in.ids;
  Tensor h = s.get("h", DT::Float32, {n, hcd});
  Tensor h2 = s.get("h2", DT::Float32, {n, hcd});
  launch("sample", "embed", {ids, embed.view(DT::BFloat16, {c.vocabSize, d}), h});
  Tensor x = s.get("x", DT::Float32, {n, d});
  Tensor post = s.get("post", DT::Float32, {n, hc});
  Tensor comb = s.get("comb", DT::Float32, {n, hc, hc});
  Tensor y = s.get("y", DT::Float32, {n, d});
  Tensor yq = s.get("yq", DT::Float8E4M3, {n, d});
  Tensor ys = s.get("ys", DT::Float32, {n, d / 128});
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerWeights &w = layers[l];
    launch("hc", "hc_pre", {h, w.hcAttn.fn.t(), w.hcAttn.scale.t(), w.hcAttn.base.t(), x, post, comb});
    launch("norm_hidden", "rmsnorm_quant", {x, w.attnNorm.t(), y, yq, ys});
    Tensor a = attention(int64_t(l), y, yq, ys, in, n, batch);
    launch("hc", "hc_post", {h, a, post, comb, h2});
    launch("hc", "hc_pre", {h2, w.hcFfn.fn.t(), w.hcFfn.scale.t(), w.hcFfn.base.t(), x, post, comb});
    launch("norm_hidden", "rmsnorm_quant", {x, w.ffnNorm.t(), y, yq, ys});
    Tensor f = ffn(int64_t(l), y, yq, ys, in, n);
    launch("hc", "hc_post", {h2, f, post, comb, h});
  }
  launch("hc", "hc_head", {h, hcHead.fn.t(), hcHead.scale.t(), hcHead.base.t(), x});
  launch("norm_hidden", "rmsnorm_quant", {x, norm.t(), y, yq, ys});
  if (headRows.empty()) {
    Tensor yb = s.get("head_in", DT::BFloat16, {n, d});
    launch("linear", "cast_bf16", {y, yb});
    return linear16("logits", head, yb);
  }
  const int64_t r = int64_t(headRows.size());
  Tensor yb = s.get("head_in", DT::BFloat16, {r, d});
  for (int64_t i = 0; i < r; ++i)
    launch("linear", "cast_bf16", {rowsOf(y, headRows[i], {1, d}), rowsOf(yb, i, {1, d})});
  return linear16("logits", head, yb);
}

namespace {
void checkIds(const Config &c, const std::vector<int32_t> &ids, const char *what) {
  for (int32_t id : ids)
    if (id < 0 || id >= c.vocabSize)
      throw std::runtime_error(
          fmt::format("{}: token id {} is outside the vocabulary [0, {})", what, id, c.vocabSize));
}
} // namespace

std::vector<std::vector<float>>
DeviceModel::prefill(const std::vector<std::vector<int32_t>> &prompts, bool allPositions) {
  Impl &m = *impl_;
  if (int64_t(prompts.size()) > m.slots)
    throw std::runtime_error(fmt::format("{} prompts for {} slots", prompts.size(), m.slots));
  Batch batch;
  std::vector<int32_t> ids;
  for (size_t b = 0; b < prompts.size(); ++b) {
    if (prompts[b].empty())
      continue;
    checkIds(m.config, prompts[b], "prefill");
    if (int64_t(prompts[b].size()) > m.maxLength)
      throw std::runtime_error(fmt::format("prompt {} has {} tokens; the model holds {} positions",
                                           b, prompts[b].size(), m.maxLength));
    // Each sequence starts at a multiple of 16 rows, so the views of its rows in the call's
    // per-row tensors are 16-byte aligned whatever a row's width; the gap rows are padding
    // (token 0, position -1: no attention reads them, and no row depends on another).
    while (ids.size() % 16) {
      ids.push_back(0);
      batch.pos.push_back(-1);
    }
    batch.slot.push_back(int64_t(b));
    batch.start.push_back(int64_t(ids.size()));
    batch.count.push_back(int64_t(prompts[b].size()));
    for (size_t t = 0; t < prompts[b].size(); ++t)
      batch.pos.push_back(int32_t(t));
    ids.insert(ids.end(), prompts[b].begin(), prompts[b].end());
  }
  std::vector<std::vector<float>> out(prompts.size());
  if (ids.empty())
    return out;
  std::vector<int64_t> headRows;
  if (!allPositions)
    for (size_t i = 0; i < batch.slot.size(); ++i)
      headRows.push_back(batch.start[i] + batch.count[i] - 1);
  Tensor logits = m.forward(batch, ids, headRows);
  const int64_t v = m.config.vocabSize;
  std::vector<float> all(logits.numel());
  if (m.stream)
    m.stream->synchronize();
  m.scratch.mem("logits").download(all.data(), all.size() * 4);
  m.lastLogits = logits;
  m.lastRowOfSlot.assign(prompts.size(), -1);
  for (size_t i = 0; i < batch.slot.size(); ++i) {
    const int64_t b = batch.slot[i];
    const int64_t first = allPositions ? batch.start[i] : int64_t(i);
    const int64_t rows = allPositions ? batch.count[i] : 1;
    out[b].assign(all.begin() + first * v, all.begin() + (first + rows) * v);
    m.lengths[b] = batch.count[i];
    m.lastRowOfSlot[b] = first + rows - 1;
  }
  return out;
}

void DeviceModel::synchronize() {
  if (impl_->stream)
    impl_->stream->synchronize();
}

double DeviceModel::copyBandwidth(size_t bytes, int repeats) {
  Impl &m = *impl_;
  const int64_t d = 4096, rows = int64_t(bytes / 2 / d);
  Tensor x = m.scratch.get("bw_x", DT::UInt8, {rows, d});
  Tensor y = m.scratch.get("bw_y", DT::UInt8, {rows, d});
  double best = 0;
  for (int r = 0; r <= repeats; ++r) {
    synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    m.launch("roofline", "copy_rows", {x, y});
    synchronize();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r > 0) // the first run warms up
      best = std::max(best, 2.0 * double(rows * d) / s);
  }
  return best;
}

std::vector<std::vector<float>> DeviceModel::decode(const std::vector<int32_t> &ids,
                                                    bool returnLogits) {
  Impl &m = *impl_;
  if (ids.empty() || int64_t(ids.size()) > m.slots)
    throw std::runtime_error(fmt::format("decode: {} ids for {} slots", ids.size(), m.slots));
  Batch batch;
  batch.decode = true;
  for (size_t b = 0; b < ids.size(); ++b) {
    batch.slot.push_back(int64_t(b));
    batch.start.push_back(int64_t(b));
    batch.count.push_back(1);
    if (ids[b] < 0) {
      batch.pos.push_back(-1);
      continue;
    }
    checkIds(m.config, {ids[b]}, "decode");
    if (m.lengths[b] >= m.maxLength)
      throw std::runtime_error(fmt::format("slot {} is full ({} positions)", b, m.maxLength));
    batch.pos.push_back(int32_t(m.lengths[b]));
  }
  Tensor logits = m.decodeStep(batch, ids);
  const int64_t v = m.config.vocabSize;
  std::vector<float> all(returnLogits ? ids.size() * v : 0);
  if (returnLogits) {
    if (m.stream)
      m.stream->synchronize();
    m.scratch.mem("logits").download(all.data(), all.size() * 4);
  }
  m.lastLogits = logits;
  m.lastRowOfSlot.assign(ids.size(), -1);
  std::vector<std::vector<float>> out(ids.size());
  for (size_t b = 0; b < ids.size(); ++b) {
    if (ids[b] < 0)
      continue;
    if (returnLogits)
      out[b].assign(all.begin() + b * v, all.begin() + (b + 1) * v);
    m.lengths[b] += 1;
    m.lastRowOfSlot[b] = int64_t(b);
  }
  return out;
}

std::vector<int32_t> DeviceModel::Impl::sample(const Tensor &logits,
                                              const std::vector<float> &temperature,
                                              const std::vector<uint32_t> &seeds,
                                              const std::vector<float> &topP) {
  const int64_t rows = logits.shape[0];
  if (!topP.empty() && int64_t(topP.size()) != rows)
    throw std::runtime_error(fmt::format("sampling: {} top-p values for {} rows", topP.size(), rows));
  for (float p : topP)
    if (!(p > 0.0f && p <= 1.0f))
      throw std::runtime_error(fmt::format("top-p must be in (0, 1], got {}", p));
  Tensor t = scratch.floats("s_temp", temperature);
  Tensor tp = scratch.floats("s_topp", topP.empty() ? std::vector<float>(rows, 1.0f) : topP);
  Tensor sd = scratch.get("s_seeds", DT::UInt32, {rows});
  scratch.mem("s_seeds").upload(seeds.data(), size_t(rows) * 4);
  Tensor out = scratch.get("s_ids", DT::Int32, {rows});
  launch("sample", "sample", {logits, t, tp, sd, out});
  std::vector<int32_t> ids(rows);
  if (stream)
    stream->synchronize();
  scratch.mem("s_ids").download(ids.data(), size_t(rows) * 4);
  return ids;
}

std::vector<int32_t> DeviceModel::sampleRows(const std::vector<std::vector<float>> &logits,
                                             const std::vector<float> &temperature,
                                             const std::vector<uint32_t> &seeds,
                                             const std::vector<float> &topP) {
  Impl &m = *impl_;
  const size_t rows = logits.size();
  const int64_t v = m.config.vocabSize;
  if (!rows || temperature.size() != rows || seeds.size() != rows)
    throw std::runtime_error(fmt::format("sampleRows: {} rows, {} temperatures, {} seeds", rows,
                                         temperature.size(), seeds.size()));
  std::vector<float> host(rows * v, -std::numeric_limits<float>::infinity());
  for (size_t b = 0; b < rows; ++b) {
    if (logits[b].empty() || int64_t(logits[b].size()) > v)
      throw std::runtime_error(fmt::format("sampleRows: row {} has {} logits (1 to {})", b,
                                           logits[b].size(), v));
    std::copy(logits[b].begin(), logits[b].end(), host.begin() + b * v);
  }
  Tensor l = m.scratch.get("s_logits", DT::Float32, {int64_t(rows), v});
  m.scratch.mem("s_logits").upload(host.data(), host.size() * 4);
  std::vector<int32_t> ids = m.sample(l, temperature, seeds, topP);
  return ids;
}

std::vector<int32_t> DeviceModel::sampleLast(const std::vector<float> &temperature,
                                             const std::vector<uint32_t> &seeds,
                                             const std::vector<float> &topP) {
  Impl &m = *impl_;
  const size_t rows = m.lastRowOfSlot.size();
  if (!rows || temperature.size() != rows || seeds.size() != rows)
    throw std::runtime_error(fmt::format(
        "sampleLast: {} temperatures and {} seeds for the last call's {} slots",
        temperature.size(), seeds.size(), rows));
  const int64_t v = m.config.vocabSize;
  // Each slot's last row: when row b of the last logits is slot b's (a decode step), the
  // sampler reads them in place; otherwise they are gathered (idle slots sample row 0 and are
  // reported as -1).
  bool inPlace = m.lastLogits.shape[0] == int64_t(rows);
  for (size_t b = 0; b < rows && inPlace; ++b)
    inPlace = m.lastRowOfSlot[b] < 0 || m.lastRowOfSlot[b] == int64_t(b);
  Tensor l = m.lastLogits;
  if (!inPlace) {
    l = m.scratch.get("s_logits", DT::Float32, {int64_t(rows), v});
    std::vector<float> host(rows * v);
    std::vector<float> all(m.lastLogits.numel());
    m.scratch.mem("logits").download(all.data(), all.size() * 4);
    for (size_t b = 0; b < rows; ++b) {
      const int64_t r = std::max<int64_t>(m.lastRowOfSlot[b], 0);
      std::copy(all.begin() + r * v, all.begin() + (r + 1) * v, host.begin() + b * v);
    }
    m.scratch.mem("s_logits").upload(host.data(), host.size() * 4);
  }
  std::vector<int32_t> ids = m.sample(l, temperature, seeds, topP);
  for (size_t b = 0; b < rows; ++b)
    if (m.lastRowOfSlot[b] < 0)
      ids[b] = -1;
  return ids;
}

} // namespace tlv4
