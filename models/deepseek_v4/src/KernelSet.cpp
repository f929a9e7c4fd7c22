// KernelSet: the device model's kernel plan for a Config, building it with
// tlc, and loading a built set (see KernelSet.h).
#include "tlv4/KernelSet.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace tlv4 {

std::string KernelModule::line() const {
  std::string s = name + " " + source;
  for (const std::string &d : defines)
    s += " " + d;
  return s;
}

namespace {

std::string num(double v) { return fmt::format("{}", v); }

// The one ratio of the layers of `kind`, or 0 when there are none.
int64_t ratioOf(const Config &c, LayerKind kind) {
  int64_t ratio = 0;
  for (int64_t l = 0; l < c.numLayersWithMtp(); ++l) {
    if (c.layerKind(l) != kind)
      continue;
    if (ratio && c.compressRatio(l) != ratio)
      throw std::runtime_error(fmt::format(
          "{}: the {} layers use compress ratios {} and {}; the device model's kernels take one "
          "ratio per layer kind",
          c.sourceName, layerKindName(kind), ratio, c.compressRatio(l)));
    ratio = c.compressRatio(l);
  }
  return ratio;
}

void require(bool ok, const Config &c, const std::string &what) {
  if (!ok)
    throw std::runtime_error(fmt::format("{}: the device model's kernels need {}", c.sourceName, what));
}

} // namespace

std::vector<KernelModule> kernelPlan(const Config &c) {
  const int64_t d = c.hiddenSize, h = c.numAttentionHeads, hd = c.headDim, rope = c.qkRopeHeadDim;
  const std::string eps = "EPS=" + num(c.rmsNormEps);
  require(c.isQuantized(), c, "an FP8-quantised checkpoint (quantization_config)");
  require(c.numKeyValueHeads == 1, c, "one shared KV head");
  require(d % 128 == 0 && c.qLoraRank % 128 == 0 && (h * hd) % 128 == 0,
          c, "hidden_size, q_lora_rank and heads * head_dim multiples of 128");
  require(c.moeIntermediateSize % 128 == 0, c, "moe_intermediate_size a multiple of 128");
  require(hd % 128 == 0, c, "head_dim a multiple of 128 (kv_norm's FP8 blocks)");
  const int64_t groupWidth = h * hd / c.oGroups;
  require(groupWidth % 128 == 0, c, "the width of an output-projection group a multiple of 128");
  const int64_t woTile = std::min<int64_t>(128, c.oLoraRank);
  require(woTile == 128 || woTile == 64, c, "o_lora_rank 64 or a multiple of 128");
  require(c.oLoraRank % woTile == 0, c, "o_lora_rank a multiple of 128 (or 64)");
  require(c.scoringFunc == "sqrtsoftplus", c, "scoring_func sqrtsoftplus");
  require(c.nSharedExperts == 1, c, "one shared expert (its SwiGLU is moe_intermediate_size wide)");
  require((c.oGroups * c.oLoraRank) % 128 == 0, c, "o_groups * o_lora_rank a multiple of 128");
  require(c.expertsFp4(), c, "FP4 routed experts (expert_dtype fp4)");
  require(c.slidingWindow % 16 == 0, c, "sliding_window a multiple of 16 (the cache ring's alignment)");

  std::vector<KernelModule> p;
  auto add = [&](std::string name, std::string src, std::vector<std::string> defs) {
    p.push_back({std::move(name), std::move(src), std::move(defs)});
  };
  auto i = [](const char *k, int64_t v) { return fmt::format("{}={}", k, v); };
  const int64_t ch = c.vocabSize < 2048 ? 256 : 2048;
  add("sample", "sample.tl", {i("V", c.vocabSize), i("CH", ch), i("D", d), i("HC", c.hcMult)});
  add("norm_hidden", "norm.tl", {i("D", d), eps});
  add("norm_q", "norm.tl",
      {i("D", c.qLoraRank), i("G", h), i("HD", hd), i("ROPE", rope), "NORM=1", eps});
  add("norm_kv", "norm.tl", {i("D", hd), "G=1", i("HD", hd), i("ROPE", rope), "NORM=0", eps});
  // The attention output's inverse RoPE (head_rope only: D, the quantising kernels' width, is
  // set to one head's so they compile; wo_a reads the output in bf16).
  add("norm_o", "norm.tl", {i("D", hd), i("G", h), i("HD", hd), i("ROPE", rope), "NORM=0",
                            "INVERSE=1", eps});
  add("norm_mid", "norm.tl", {i("D", c.oGroups * c.oLoraRank)});
  add("linear", "linear.tl", {});
  add("roofline", "roofline.tl", {});
  add("linear_wo", "linear.tl", {i("G", c.oGroups), i("BN", woTile)});
  add("hc", "hc.tl", {i("D", d), i("HC", c.hcMult), i("ITERS", c.hcSinkhornIters),
                      "NORM_EPS=" + num(c.rmsNormEps), "HC_EPS=" + num(c.hcEps)});
  add("moe", "moe.tl", {i("E", c.nRoutedExperts), i("K", c.numExpertsPerTok),
                        i("I", c.moeIntermediateSize), i("NORM", c.normTopkProb ? 1 : 0),
                        "SCALE=" + num(c.routedScalingFactor), "LIMIT=" + num(c.swigluLimit)});
  add("moe_dispatch", "moe_dispatch.tl",
      {i("E", c.nRoutedExperts), i("K", c.numExpertsPerTok), i("D", d)});
  add("expert", "expert.tl", {i("E", c.nRoutedExperts), i("K", c.numExpertsPerTok), i("D", d)});
  // Decode steps' experts: segments of a few rows, so 64-row tiles and 32-wide weight tiles
  // (more blocks per SM to hide the FP4 decode; H100, 2026-12-06: 4.72 / 12.6 / 17.7 ms per
  // step at batch 1 / 32 / 128 against 5.00 / 13.7 / 19.8 with the prefill's 128 x 128).
  add("expert_dec", "expert.tl", {i("E", c.nRoutedExperts), i("K", c.numExpertsPerTok), i("D", d),
                                  "BM=64", "BN=32"});
  add("kv_quant", "kv_quant.tl", {i("D", hd), i("ROPE", rope), i("W", c.slidingWindow)});
  add("attn_indices_win", "attn_indices.tl", {i("W", c.slidingWindow), "HCA=True"});
  add("sparse_attn", "sparse_attn.tl", {i("H", h), i("D", hd), i("DR", rope)});
  if (int64_t r = ratioOf(c, LayerKind::CSA)) {
    add("compressor_csa", "compressor.tl", {i("D", hd), i("RATIO", r), "OVERLAP=2",
                                            i("ROPE", rope), eps, i("ROW0", c.slidingWindow)});
    add("compressor_idx", "compressor.tl",
        {i("D", c.indexHeadDim), i("RATIO", r), "OVERLAP=2", i("ROPE", rope), eps});
    add("indexer", "indexer.tl", {i("IH", c.indexNHeads), i("DI", c.indexHeadDim),
                                  i("HB", std::min<int64_t>(16, c.indexNHeads)), i("RATIO", r)});
    const int64_t k = c.indexTopk;
    if (k <= 32)
      add("topk", "topk.tl", {i("K", k), "BLOCK=32", "CAP=128", "SAMPLE=64", "UNROLL=1"});
    else if (k == 512)
      add("topk", "topk.tl", {i("K", k)});
    else
      add("topk", "topk.tl", {i("K", k), "BLOCK=64", "CAP=" + std::to_string(std::max<int64_t>(1024, 4 * k)),
                              "SAMPLE=512", "UNROLL=3"});
    add("attn_indices_csa", "attn_indices.tl", {i("W", c.slidingWindow), i("RATIO", r)});
  }
  if (int64_t r = ratioOf(c, LayerKind::HCA)) {
    add("compressor_hca", "compressor.tl", {i("D", hd), i("RATIO", r), "OVERLAP=1",
                                            i("ROPE", rope), eps, i("ROW0", c.slidingWindow)});
    add("attn_indices_hca", "attn_indices.tl",
        {i("W", c.slidingWindow), i("RATIO", r), "HCA=True"});
  }
  return p;
}

namespace {

std::string planText(const std::vector<KernelModule> &plan) {
  std::string s;
  for (const KernelModule &m : plan)
    s += m.line() + "\n";
  return s;
}

std::string readFile(const fs::path &p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string quote(const std::string &s) {
  std::string q = "'";
  for (char ch : s)
    q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

std::string outputName(const std::string &target, const std::string &module) {
  return target + "/" + module + (target == "cpu" ? ".so" : ".ptx");
}

} // namespace

void buildKernelSet(const Config &config, const BuildOptions &o) {
  const std::vector<KernelModule> plan = kernelPlan(config);
  fs::create_directories(o.outDir);
  struct Job {
    std::string command, what;
  };
  std::vector<Job> jobs;
  const fs::file_time_type tlcTime = fs::last_write_time(o.tlc);
  // A module rebuilds when its output is missing or older than tlc or its source, or when
  // the plan changed (plan.txt differs: its -D values may have).
  const fs::path planPath = fs::path(o.outDir) / "plan.txt";
  const bool samePlan = fs::exists(planPath) && readFile(planPath) == planText(plan);
  for (const std::string &target : o.targets) {
    fs::create_directories(fs::path(o.outDir) / target);
    for (const KernelModule &m : plan) {
      const fs::path src = fs::path(o.sourceDir) / m.source;
      if (!fs::exists(src))
        throw std::runtime_error(fmt::format("kernel source {} not found", src.string()));
      const fs::path out = fs::path(o.outDir) / outputName(target, m.name);
      const fs::path manifest = fs::path(o.outDir) / target / (m.name + ".manifest.json");
      if (samePlan && fs::exists(out) && fs::exists(manifest) &&
          fs::last_write_time(out) > tlcTime && fs::last_write_time(out) > fs::last_write_time(src))
        continue;
      std::string cmd = quote(o.tlc) + " " + quote(src.string()) + " --target " + target +
                        " --emit " + (target == "cpu" ? "so" : "ptx") + " -o " + quote(out.string());
      for (const std::string &d : m.defines)
        cmd += " -D " + quote(d);
      jobs.push_back({cmd + " 2>&1", target + "/" + m.name});
    }
  }
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::string failure;
  auto worker = [&] {
    for (size_t j; (j = next++) < jobs.size();) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!failure.empty())
          return;
        if (o.verbose)
          fmt::print("tlc {}\n", jobs[j].what);
      }
      std::string output;
      FILE *pipe = popen(jobs[j].command.c_str(), "r");
      if (!pipe) {
        std::lock_guard<std::mutex> lock(mu);
        failure = "cannot run " + jobs[j].command;
        return;
      }
      char buf[4096];
      while (size_t n = fread(buf, 1, sizeof buf, pipe))
        output.append(buf, n);
      const int rc = pclose(pipe);
      if (rc != 0) {
        std::lock_guard<std::mutex> lock(mu);
        if (failure.empty())
          failure = fmt::format("tlc failed on {} ({}):\n{}{}", jobs[j].what, jobs[j].command,
                                output, output.empty() ? "(no output)\n" : "");
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, o.jobs); ++t)
    threads.emplace_back(worker);
  for (std::thread &t : threads)
    t.join();
  if (!failure.empty())
    throw std::runtime_error(failure);
  std::ofstream(planPath) << planText(plan);
}

std::unique_ptr<KernelSet> KernelSet::open(const std::string &dir, const std::string &target,
                                           const Config &config) {
  const std::vector<KernelModule> plan = kernelPlan(config);
  const fs::path planPath = fs::path(dir) / "plan.txt";
  if (!fs::exists(planPath))
    throw std::runtime_error(fmt::format(
        "{}: not a kernel set (no plan.txt); build one with `tl-v4 build-kernels`", dir));
  std::istringstream built(readFile(planPath));
  std::map<std::string, std::string> builtLines;
  for (std::string line; std::getline(built, line);)
    builtLines[line.substr(0, line.find(' '))] = line;
  for (const KernelModule &m : plan) {
    auto it = builtLines.find(m.name);
    if (it == builtLines.end() || it->second != m.line())
      throw std::runtime_error(fmt::format(
          "kernel set {} was built for another model shape: {} needs `{}`, the set has `{}`; "
          "build a set for this checkpoint with `tl-v4 build-kernels --checkpoint <dir> --out <set>`",
          dir, config.sourceName, m.line(), it == builtLines.end() ? "(nothing)" : it->second));
  }
  auto set = std::unique_ptr<KernelSet>(new KernelSet());
  set->dir_ = dir;
  set->target_ = target;
  for (const KernelModule &m : plan) {
    const fs::path manifest = fs::path(dir) / target / (m.name + ".manifest.json");
    if (!fs::exists(manifest))
      throw std::runtime_error(fmt::format("kernel set {} has no {} build of {} ({} missing)", dir,
                                           target, m.name, manifest.string()));
    set->modules_[m.name] = std::make_unique<tlrt::Module>(tlrt::Module::load(manifest.string()));
  }
  return set;
}

const tlrt::Kernel &KernelSet::kernel(const std::string &module, const std::string &name) const {
  auto it = modules_.find(module);
  if (it == modules_.end())
    throw std::runtime_error(fmt::format("kernel set {}: no module {}", dir_, module));
  return it->second->kernel(name);
}

std::string builtKernelSetDir(const std::string &name) {
#ifdef TLV4_KERNEL_SET_DIR
  return std::string(TLV4_KERNEL_SET_DIR) + "/" + name;
#else
  return name;
#endif
}

} // namespace tlv4
