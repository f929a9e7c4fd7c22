// tlc_attn_bench: times tlc-compiled FlashAttention forward kernels
// (examples/flash_attn_fwd.tl) through libtlrt and spot-checks output rows
// against a double-precision host reference.
//
//   tlc_attn_bench --manifest k/flash_attn_fwd_d128.manifest.json
//       --manifest k/flash_attn_fwd_d128_causal.manifest.json
//       --shapes "4,32,4096,128,0;4,32,4096,128,1"
//       [--warmup-ms 200] [--rep-ms 1000] [--json out.jsonl]
//
// A shape is B,H,S,D,causal (causal 0/1/true/false): Q, K, V, O [B, S, H, D]
// bf16 with HK = H and lens_q = lens_k = S for every batch entry, scale
// 1/sqrt(D). Each manifest is one compiled variant; a variant's D and causal
// flag come from the manifest's "constants" (tlc writes every numeric and
// bool compile-time parameter there), else from Q's fixed last dimension and
// the file name (flash_attn_fwd_d128_causal). Each shape runs every variant
// whose D and causal flag match it; variants with a sliding window or a sink
// compute something else and are not timed. FLOPs = 4·B·H·S²·D, half of that
// when causal (the FlashAttention papers' convention).
//
// Method (docs/perf.md, shared with tlc_gemm_bench through
// bench/common/BenchSupport.h): random inputs (bf16 uniform in [-1, 1], never
// zero) in enough input sets that the working set exceeds twice the L2; a
// warm-up; many launches each between two events after a spin kernel; the
// median. Before timing, O and LSE of set 0 are poisoned (0xFF bytes, NaN),
// the kernel runs once, and `--rows` output rows (b, h, i), both corners
// included, are compared with a double-precision softmax(q·Kᵀ·scale)·V of
// the same inputs: O norm-wise (‖out − ref‖ / ‖ref‖ over the sampled rows),
// LSE by its largest absolute error.
//
// Exit status: 0 all shapes ran and passed the check; 1 a shape failed to
// run (or no CUDA driver/device); 2 bad usage or manifest; 3 every shape ran
// but some spot check exceeded the tolerance.
#include "BenchSupport.h"

#include "tlrt/LowPrecision.h"
#include "tlrt/Module.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace tlcbench;
using tlrt::DType;

struct Shape {
  int64_t B = 0, H = 0, S = 0, D = 0;
  bool causal = false;
};

std::string shapeText(const Shape &s) {
  return fmt::format("B={} H={} S={} D={}{}", s.B, s.H, s.S, s.D, s.causal ? " causal" : "");
}

struct Options {
  std::vector<std::string> manifests;
  std::string kernel;
  std::string shapes;
  std::string json;
  double warmupMs = 200;
  double repMs = 1000;
  double l2MB = 50;
  double scale = 0; // 0: 1 / sqrt(D)
  int rows = 16;
  int maxSets = 256;
  int maxReps = 5000;
  int device = 0;
  uint64_t seed = 0;
  double tolerance = 2e-2;
};

bool parseBool(const std::string &t, bool &out) {
  std::string l = t;
  for (char &c : l)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "1" || l == "true" || l == "causal") {
    out = true;
    return true;
  }
  if (l == "0" || l == "false") {
    out = false;
    return true;
  }
  return false;
}

// "B,H,S,D,causal;..." (newlines also separate shapes; causal may be left
// out, meaning 0).
std::vector<Shape> parseShapes(const std::string &text) {
  std::vector<Shape> out;
  std::string norm = text;
  for (char &c : norm)
    if (c == '\n')
      c = ';';
  std::stringstream ss(norm);
  std::string item;
  while (std::getline(ss, item, ';')) {
    item = trim(item);
    if (item.empty())
      continue;
    std::vector<std::string> fields;
    std::stringstream is(item);
    std::string f;
    while (std::getline(is, f, ','))
      fields.push_back(trim(f));
    auto bad = [&](const char *why) {
      return UsageError(
          fmt::format("--shapes: bad shape '{}' ({}; expected B,H,S,D,causal)", item, why));
    };
    if (fields.size() != 4 && fields.size() != 5)
      throw bad("4 or 5 fields");
    int64_t v[4];
    for (int i = 0; i < 4; ++i) {
      char *end = nullptr;
      errno = 0;
      long long x = std::strtoll(fields[i].c_str(), &end, 10);
      if (fields[i].empty() || *end != '\0' || errno != 0 || x <= 0)
        throw bad("B, H, S, D must be positive integers");
      v[i] = x;
    }
    Shape s{v[0], v[1], v[2], v[3], false};
    if (fields.size() == 5 && !parseBool(fields[4], s.causal))
      throw bad("causal must be 0, 1, true or false");
    out.push_back(s);
  }
  if (out.empty())
    throw UsageError("--shapes: no shapes given");
  return out;
}

//===----------------------------------------------------------------------===//
// A compiled variant: its manifest, what it computes, where its parameters are.
//===----------------------------------------------------------------------===//

struct Variant {
  std::string manifestPath;
  std::string name; // file stem, e.g. flash_attn_fwd_d128_causal
  tlrt::Manifest manifest;
  std::string kernelName;
  int64_t D = 0;
  bool causal = false;
  int64_t window = 0;
  bool sink = false;
  std::string origin; // where D and causal were read
  // Parameter indices (-1: absent; only `sinks` may be).
  int q = -1, k = -1, v = -1, lensQ = -1, lensK = -1, sinks = -1, o = -1, lse = -1, scale = -1;
  DType qType = DType::BFloat16, kvType = DType::BFloat16, oType = DType::BFloat16;
  // Loaded when the first shape needs it.
  std::optional<tlrt::Module> module;
  std::string loadError;
};

const tlrt::KernelSpec &specOf(const Variant &v) { return *v.manifest.findKernel(v.kernelName); }

Variant planVariant(const std::string &path, const std::string &kernelOpt) {
  Variant var;
  var.manifestPath = path;
  var.name = manifestStem(path);
  var.manifest = tlrt::Manifest::load(path);
  if (kernelOpt.empty()) {
    if (var.manifest.kernels.size() != 1)
      throw UsageError(fmt::format("{}: {} kernels; name one with --kernel", path,
                                   var.manifest.kernels.size()));
    var.kernelName = var.manifest.kernels[0].name;
  } else {
    var.kernelName = kernelOpt;
  }
  const tlrt::KernelSpec *spec = var.manifest.findKernel(var.kernelName);
  if (!spec)
    throw UsageError(fmt::format("{}: no kernel '{}'", path, var.kernelName));
  const tlrt::KernelSpec &k = *spec;
  auto where = [&](const std::string &p) {
    return fmt::format("{}: kernel '{}', parameter '{}'", path, k.name, p);
  };

  struct Want {
    const char *name;
    int *index;
    bool tensor;
    int rank;
    std::vector<DType> dtypes;
  };
  const std::vector<DType> half = {DType::BFloat16, DType::Float16};
  std::vector<Want> wants = {
      {"Q", &var.q, true, 4, half},
      {"K", &var.k, true, 4, half},
      {"V", &var.v, true, 4, half},
      {"lens_q", &var.lensQ, true, 1, {DType::Int32}},
      {"lens_k", &var.lensK, true, 1, {DType::Int32}},
      {"sinks", &var.sinks, true, 1, {DType::Float32}},
      {"O", &var.o, true, 4, half},
      {"LSE", &var.lse, true, 3, {DType::Float32}},
      {"scale", &var.scale, false, 0, {DType::Float32, DType::BFloat16, DType::Float16}},
  };
  for (size_t i = 0; i < k.params.size(); ++i) {
    const tlrt::ParamSpec &p = k.params[i];
    auto w = std::find_if(wants.begin(), wants.end(),
                          [&](const Want &x) { return p.name == x.name; });
    if (w == wants.end())
      throw UsageError(fmt::format("{}: the attention bench knows only the parameters of "
                                   "examples/flash_attn_fwd.tl (Q, K, V, lens_q, lens_k, sinks, "
                                   "O, LSE, scale)",
                                   where(p.name)));
    bool isTensor = p.kind == tlrt::ParamKind::Tensor;
    if (isTensor != w->tensor || (isTensor && p.rank() != w->rank))
      throw UsageError(w->tensor ? fmt::format("{}: expected a rank-{} tensor", where(p.name),
                                               w->rank)
                                 : fmt::format("{}: expected a scalar", where(p.name)));
    if (std::find(w->dtypes.begin(), w->dtypes.end(), p.dtype) == w->dtypes.end())
      throw UsageError(fmt::format("{}: dtype {} not supported by the bench", where(p.name),
                                   tlrt::dtypeName(p.dtype)));
    *w->index = static_cast<int>(i);
  }
  for (const Want &w : wants)
    if (*w.index < 0 && std::string(w.name) != "sinks")
      throw UsageError(fmt::format("{}: kernel '{}' has no parameter '{}'", path, k.name, w.name));
  var.qType = k.params[var.q].dtype;
  var.kvType = k.params[var.k].dtype;
  if (k.params[var.v].dtype != var.kvType)
    throw UsageError(fmt::format("{}: K and V have different dtypes", where("V")));
  var.oType = k.params[var.o].dtype;

  // D and causal: manifest constants, else Q's last dimension / the file name.
  auto constant = [&](const char *n) -> std::optional<int64_t> {
    auto it = k.constants.find(n);
    if (it == k.constants.end())
      return std::nullopt;
    return it->second;
  };
  std::vector<std::string> origins;
  const tlrt::DimSpec &qd = k.params[var.q].shape[3];
  std::smatch m;
  static const std::regex dInName("_d([0-9]+)(_|$)");
  if (auto d = constant("D")) {
    var.D = *d;
    origins.push_back("D from constants");
    if (qd.fixed && qd.value != *d)
      throw UsageError(fmt::format("{}: constant D = {} but Q's last dimension is {}", path, *d,
                                   qd.value));
  } else if (qd.fixed) {
    var.D = qd.value;
    origins.push_back("D from Q's shape");
  } else if (std::regex_search(var.name, m, dInName)) {
    var.D = std::stoll(m[1].str());
    origins.push_back("D from the file name");
  } else {
    throw UsageError(fmt::format("{}: cannot tell D (no constant 'D', Q's last dimension is "
                                 "'{}', no _d<N> in the file name)",
                                 path, qd.text()));
  }
  if (auto c = constant("causal")) {
    var.causal = *c != 0;
    origins.push_back("causal from constants");
  } else {
    var.causal = var.name.find("_causal") != std::string::npos;
    origins.push_back("causal from the file name");
  }
  var.window = constant("window").value_or(0);
  var.sink = constant("sink").value_or(0) != 0;
  for (const std::string &x : origins)
    var.origin += (var.origin.empty() ? "" : ", ") + x;
  return var;
}

// What the bench times: the plain (optionally causal) forward.
bool timedVariant(const Variant &v) { return v.window == 0 && !v.sink; }

//===----------------------------------------------------------------------===//
// One measurement.
//===----------------------------------------------------------------------===//

struct Result {
  Shape shape;
  bool ran = false;
  std::string error;   // when it did not run
  std::string skipped; // when no variant takes the shape
  Timing timing;
  double tflops = 0, flops = 0;
  int sets = 0;
  double relErr = 0, maxRelErr = 0, lseMaxAbsErr = 0;
  int rows = 0;
  int badSamples = 0; // non-finite or unwritten O / LSE values among the sampled rows
  bool checkOk = true;
};

class Bench {
public:
  Bench(const Options &o, const tlrt::Kernel *spin) : o_(o), spin_(spin), rng_(o.seed) {}

  Result run(const Shape &s, Variant &var);

private:
  struct Set {
    FilledBuffer q, k, v;
    Buffer o, lse;
  };
  const Pool &pool(DType dt) {
    auto it = pools_.find(dt);
    if (it == pools_.end())
      it = pools_.emplace(dt, makePool(dt, false, rng_, kPoolElems)).first;
    return it->second;
  }
  void check(const Shape &s, const Variant &var, const Set &set, double scale, Result &r);

  const Options &o_;
  const tlrt::Kernel *spin_;
  std::mt19937_64 rng_;
  std::map<DType, Pool> pools_;
  std::optional<tlrt::Stream> stream_;
};

// softmax(scale · q Kᵀ) V for row (b, h, i) in double precision, with the
// kernel's masking for lens = S: keys j < S, j <= i when causal.
void Bench::check(const Shape &s, const Variant &var, const Set &set, double scale, Result &r) {
  const Pool &qp = pool(var.qType), &kp = pool(var.kvType);
  const int64_t B = s.B, H = s.H, S = s.S, D = s.D, HK = s.H;
  std::uniform_int_distribution<int64_t> db(0, B - 1), dh(0, H - 1), di(0, S - 1);
  std::vector<std::array<int64_t, 3>> rows = {{0, 0, 0}, {B - 1, H - 1, S - 1}};
  while (static_cast<int>(rows.size()) < o_.rows)
    rows.push_back({db(rng_), dh(rng_), di(rng_)});
  rows.resize(std::max(1, o_.rows));

  const size_t oes = static_cast<size_t>(tlrt::dtypeStorageBytes(var.oType, 1));
  double sumRef2 = 0, sumErr2 = 0, maxRel = 0, lseErr = 0;
  std::vector<double> refs, gots;
  int bad = 0;
  std::vector<double> q(D), sc(S), o(D);
  std::vector<uint8_t> rowBytes(D * oes);
  for (auto [b, h, i] : rows) {
    const int64_t hk = h / (H / HK);
    const size_t qBase = set.q.offset + static_cast<size_t>(((b * S + i) * H + h) * D);
    for (int64_t d = 0; d < D; ++d)
      q[d] = qp.value(qBase + d);
    const int64_t nKeys = s.causal ? std::min(i + 1, S) : S;
    double mx = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < nKeys; ++j) {
      const size_t kBase = set.k.offset + static_cast<size_t>(((b * S + j) * HK + hk) * D);
      double dot = 0;
      for (int64_t d = 0; d < D; ++d)
        dot += q[d] * kp.value(kBase + d);
      sc[j] = scale * dot;
      mx = std::max(mx, sc[j]);
    }
    double l = 0;
    std::fill(o.begin(), o.end(), 0.0);
    for (int64_t j = 0; j < nKeys; ++j) {
      double p = std::exp(sc[j] - mx);
      l += p;
      const size_t vBase = set.v.offset + static_cast<size_t>(((b * S + j) * HK + hk) * D);
      for (int64_t d = 0; d < D; ++d)
        o[d] += p * kp.value(vBase + d);
    }
    const double lseRef = mx + std::log(l);

    const size_t oIndex = static_cast<size_t>(((b * S + i) * H + h) * D);
    set.o.copyToHost(rowBytes.data(), rowBytes.size(), oIndex * oes);
    for (int64_t d = 0; d < D; ++d) {
      uint16_t bits;
      std::memcpy(&bits, rowBytes.data() + d * oes, 2);
      double got = var.oType == DType::BFloat16 ? tlrt::bf16ToF32(bits) : tlrt::f16ToF32(bits);
      refs.push_back(o[d] / l);
      gots.push_back(got);
    }
    double lseGot = readElement(set.lse, DType::Float32, static_cast<size_t>((b * H + h) * S + i));
    if (!std::isfinite(lseGot))
      ++bad;
    else
      lseErr = std::max(lseErr, std::fabs(lseGot - lseRef));
  }
  for (double v : refs)
    sumRef2 += v * v;
  const double rms = std::sqrt(sumRef2 / refs.size());
  for (size_t t = 0; t < refs.size(); ++t) {
    if (!std::isfinite(gots[t])) { // also catches the 0xFF poison (NaN)
      ++bad;
      continue;
    }
    double e = gots[t] - refs[t];
    sumErr2 += e * e;
    // Relative to the element, with a floor of 1% of the typical magnitude.
    maxRel = std::max(maxRel, std::fabs(e) / std::max(std::fabs(refs[t]), 1e-2 * rms));
  }
  r.rows = static_cast<int>(rows.size());
  r.badSamples = bad;
  r.relErr = sumRef2 > 0 ? std::sqrt(sumErr2 / sumRef2) : std::sqrt(sumErr2);
  r.maxRelErr = maxRel;
  r.lseMaxAbsErr = lseErr;
  // Norm-wise O error (METHOD.md; bf16 P in the second product and bf16 O
  // give a few 1e-3), and LSE (f32 math, ~1e-5) within the same tolerance in
  // absolute terms; single elements are only reported.
  r.checkOk = bad == 0 && r.relErr <= o_.tolerance && lseErr <= o_.tolerance;
}

Result Bench::run(const Shape &s, Variant &var) {
  Result r;
  r.shape = s;
  const tlrt::Kernel &kernel = var.module->kernel(var.kernelName);
  const bool hostOnly = kernel.place() == tlrt::Place::Host;
  if (!hostOnly && !stream_)
    stream_.emplace(o_.device);
  const tlrt::KernelSpec &spec = specOf(var);
  const int64_t B = s.B, H = s.H, S = s.S, D = s.D, HK = s.H;
  const std::vector<int64_t> qShape = {B, S, H, D}, kvShape = {B, S, HK, D}, lseShape = {B, H, S};
  const size_t qElems = B * S * H * D, kvElems = B * S * HK * D, lseElems = B * H * S;
  auto bytesOf = [](DType dt, size_t n) {
    return static_cast<size_t>(tlrt::dtypeStorageBytes(dt, static_cast<int64_t>(n)));
  };
  const size_t qBytes = bytesOf(var.qType, qElems), kvBytes = bytesOf(var.kvType, kvElems),
               oBytes = bytesOf(var.oType, qElems), lseBytes = lseElems * 4;
  const size_t perSet = qBytes + 2 * kvBytes + oBytes + lseBytes;
  int nsets = static_cast<int>(std::floor(2 * o_.l2MB * 1e6 / std::max<size_t>(perSet, 1))) + 1;
  nsets = hostOnly ? 1 : std::clamp(nsets, 1, o_.maxSets);
  r.sets = nsets;

  // Shared by every set: lens (all S) and sinks (not read by timed variants).
  Buffer lens(std::max<size_t>(B * 4, 16), hostOnly, o_.device);
  {
    std::vector<int32_t> l(B, static_cast<int32_t>(S));
    lens.copyFromHost(l.data(), B * 4, 0);
  }
  Buffer sinks(std::max<size_t>(H * 4, 16), hostOnly, o_.device);
  {
    std::vector<float> v(H);
    for (float &x : v)
      x = std::uniform_real_distribution<float>(-1, 1)(rng_);
    sinks.copyFromHost(v.data(), H * 4, 0);
  }
  const Pool &qPool = pool(var.qType), &kvPool = pool(var.kvType);
  std::vector<Set> sets(nsets);
  std::uniform_int_distribution<size_t> start(0, kPoolElems - 1);
  for (Set &set : sets) {
    auto fill = [&](FilledBuffer &fb, const Pool &p, size_t elems, size_t bytes) {
      fb.buf = Buffer(std::max<size_t>(bytes, 16), hostOnly, o_.device);
      fb.offset = start(rng_);
      fillFromPool(fb, p, elems);
    };
    fill(set.q, qPool, qElems, qBytes);
    fill(set.k, kvPool, kvElems, kvBytes);
    fill(set.v, kvPool, kvElems, kvBytes);
    set.o = Buffer(std::max<size_t>(oBytes, 16), hostOnly, o_.device);
    set.o.memset(0xFF);
    set.lse = Buffer(std::max<size_t>(lseBytes, 16), hostOnly, o_.device);
    set.lse.memset(0xFF);
  }
  const double scale = o_.scale > 0 ? o_.scale : 1.0 / std::sqrt(static_cast<double>(D));
  std::vector<std::vector<tlrt::Arg>> args;
  for (const Set &set : sets) {
    std::vector<tlrt::Arg> a(spec.params.size(), tlrt::Arg(0));
    a[var.q] = set.q.buf.view(var.qType, qShape);
    a[var.k] = set.k.buf.view(var.kvType, kvShape);
    a[var.v] = set.v.buf.view(var.kvType, kvShape);
    a[var.lensQ] = lens.view(DType::Int32, {B});
    a[var.lensK] = lens.view(DType::Int32, {B});
    if (var.sinks >= 0)
      a[var.sinks] = sinks.view(DType::Float32, {H});
    a[var.o] = set.o.view(var.oType, qShape);
    a[var.lse] = set.lse.view(DType::Float32, lseShape);
    a[var.scale] = tlrt::Arg(static_cast<float>(scale));
    args.push_back(std::move(a));
  }

  // Correctness: set 0's outputs are poisoned; one launch; sampled rows.
  if (hostOnly) {
    kernel.launch(args[0]); // runs to completion
    check(s, var, sets[0], scale, r);
    r.ran = true;
    return r;
  }
  tlrt::Stream &stream = *stream_;
  kernel.launch(args[0], &stream);
  stream.synchronize();
  check(s, var, sets[0], scale, r);

  r.timing = timeLaunches(kernel, args, stream, spin_,
                          {o_.warmupMs, o_.repMs, o_.maxReps, o_.device});
  r.flops = 4.0 * B * H * static_cast<double>(S) * S * D * (s.causal ? 0.5 : 1.0);
  r.tflops = r.flops / (r.timing.medianMs * 1e-3) / 1e12;
  r.ran = true;
  return r;
}

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

std::string jsonHead(const std::string &variant, const std::string &kernel,
                     const std::string &manifest, const std::string &device, const Shape &s) {
  return fmt::format("{{\"impl\": \"tlc\", \"api\": \"tlc\", \"kind\": \"attn\", \"variant\": "
                     "\"{}\", \"kernel\": \"{}\", \"manifest\": \"{}\", \"device\": \"{}\", "
                     "\"B\": {}, \"H\": {}, \"HK\": {}, \"S\": {}, \"D\": {}, \"causal\": {}",
                     jsonEscape(variant), jsonEscape(kernel), jsonEscape(manifest),
                     jsonEscape(device), s.B, s.H, s.H, s.S, s.D, s.causal ? "true" : "false");
}

std::string jsonLine(const Variant *var, const std::string &device, const Result &r) {
  std::string s = jsonHead(var ? var->name : "-", var ? var->kernelName : "-",
                           var ? var->manifestPath : "-", device, r.shape);
  if (!r.skipped.empty())
    return s + fmt::format(", \"skipped\": \"{}\"}}", jsonEscape(r.skipped));
  if (!r.ran)
    return s + fmt::format(", \"error\": \"{}\"}}", jsonEscape(r.error));
  std::string check = fmt::format(
      ", \"rows\": {}, \"rel_err\": {}, \"max_rel_err\": {}, \"lse_max_abs_err\": {}, "
      "\"bad_samples\": {}, \"check\": \"{}\"}}",
      r.rows, jsonNum(r.relErr), jsonNum(r.maxRelErr), jsonNum(r.lseMaxAbsErr), r.badSamples,
      r.checkOk ? "ok" : "WARN");
  if (r.timing.reps == 0) // cpu manifest: checked, not timed
    return s + ", \"check_only\": true" + check;
  const Timing &t = r.timing;
  return s + fmt::format(", \"ms\": {}, \"min_ms\": {}, \"p10_ms\": {}, \"p90_ms\": {}, "
                         "\"tflops\": {}, \"flops\": {}, \"reps\": {}, \"sets\": {}, "
                         "\"host_launch_us\": {}, \"spin_us\": {}",
                         jsonNum(t.medianMs), jsonNum(t.minMs), jsonNum(t.p10Ms), jsonNum(t.p90Ms),
                         jsonNum(r.tflops), jsonNum(r.flops), t.reps, r.sets,
                         jsonNum(t.hostLaunchUs), jsonNum(t.spinUs)) +
         check;
}

int realMain(int argc, char **argv) {
  Options o;
  CLI::App app{"Times tlc-compiled FlashAttention forward kernels through libtlrt (see "
               "docs/perf.md)"};
  app.option_defaults()->always_capture_default();
  app.add_option("--manifest", o.manifests,
                 "kernel manifest (tlc examples/flash_attn_fwd.tl --emit ptx); repeat for "
                 "several variants")
      ->required();
  app.add_option("--kernel", o.kernel, "kernel name (default: each manifest's only kernel)");
  app.add_option("--shapes", o.shapes, "B,H,S,D,causal[;B,H,S,D,causal...]")->required();
  app.add_option("--warmup-ms", o.warmupMs, "warm-up time per shape (ms)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rep-ms", o.repMs, "timed launches per shape: about this many ms")
      ->check(CLI::PositiveNumber);
  app.add_option("--json", o.json, "write one JSON line per shape and variant to this file");
  app.add_option("--rows", o.rows, "output rows checked against the host reference")
      ->check(CLI::Range(1, 100000));
  app.add_option("--scale", o.scale, "softmax scale (default 1/sqrt(D))")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--tolerance", o.tolerance,
                 "max O relative error (norm-wise) and LSE absolute error before a warning");
  app.add_option("--l2-mb", o.l2MB, "L2 size in MB; input sets rotate over > 2x this")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-sets", o.maxSets, "at most this many input sets")
      ->check(CLI::Range(1, 100000));
  app.add_option("--device", o.device, "CUDA device ordinal")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", o.seed, "random seed (default: from the clock)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (o.seed == 0)
    o.seed = static_cast<uint64_t>(
        std::chrono::high_resolution_clock::now().time_since_epoch().count());

  std::vector<Shape> shapes;
  std::vector<Variant> variants;
  try {
    shapes = parseShapes(o.shapes);
    for (const std::string &m : o.manifests)
      variants.push_back(planVariant(m, o.kernel));
  } catch (const UsageError &e) {
    fmt::print(stderr, "tlc_attn_bench: {}\n", e.what());
    return 2;
  } catch (const tlrt::Error &e) {
    fmt::print(stderr, "tlc_attn_bench: {}\n", e.what());
    return 2;
  }
  bool gpu = false, cpu = false;
  for (const Variant &v : variants)
    (tlrt::isGpuTarget(v.manifest.target) ? gpu : cpu) = true;
  if (gpu && cpu) {
    fmt::print(stderr, "tlc_attn_bench: mixed cpu and GPU manifests; run them separately\n");
    return 2;
  }
  std::string why;
  if (gpu && !tlrt::cudaAvailable(&why)) {
    fmt::print(stderr, "tlc_attn_bench: {}\n", why);
    return 1;
  }
  if (gpu && tlrt::cudaDeviceCount() <= o.device) {
    fmt::print(stderr, "tlc_attn_bench: no CUDA device {} ({} present)\n", o.device,
               tlrt::cudaDeviceCount());
    return 1;
  }

  std::unique_ptr<std::ofstream> json;
  if (!o.json.empty()) {
    json = std::make_unique<std::ofstream>(o.json, std::ios::trunc);
    if (!*json) {
      fmt::print(stderr, "tlc_attn_bench: cannot write {}\n", o.json);
      return 2;
    }
  }

  int rc = 0;
  try {
    std::string device = gpu ? tlrt::Context::get(o.device).deviceName()
                             : fmt::format("host ({} threads)", tlrt::Module::cpuThreads());
    std::string spinWhy;
    std::optional<tlrt::Module> spinModule;
    if (gpu)
      spinModule = loadSpinModule(o.device, spinWhy);
    const tlrt::Kernel *spin = spinModule ? &spinModule->kernel("spin") : nullptr;
    if (!gpu)
      fmt::print("# cpu target: checking results only, no timing\n");
    else if (!spin)
      fmt::print(stderr,
                 "tlc_attn_bench: warning: no spin kernel ({}); host launch cost may show in "
                 "the times of small shapes\n",
                 spinWhy);
    fmt::print("# {} | seed {} | warmup {} ms, rep {} ms\n", device, o.seed, o.warmupMs, o.repMs);
    for (const Variant &v : variants)
      fmt::print("# variant {}: D={} causal={} window={} sink={} ({}){}\n", v.name, v.D, v.causal,
                 v.window, v.sink, v.origin,
                 timedVariant(v) ? "" : " -- not timed: the bench shapes have no window or sink");
    std::fflush(stdout);

    Bench bench(o, spin);
    auto emit = [&](const Variant *v, const Result &r) {
      if (json) {
        *json << jsonLine(v, device, r) << "\n";
        json->flush();
      }
    };
    for (const Shape &s : shapes) {
      bool any = false;
      for (Variant &v : variants) {
        if (!timedVariant(v) || v.D != s.D || v.causal != s.causal)
          continue;
        any = true;
        std::string head = fmt::format("{} {}", v.name, shapeText(s));
        Result r;
        r.shape = s;
        try {
          if (!v.module && v.loadError.empty()) {
            try {
              v.module.emplace(tlrt::Module::load(v.manifestPath, o.device));
            } catch (const tlrt::Error &e) {
              v.loadError = e.what();
            }
          }
          if (!v.module)
            throw tlrt::Error(v.loadError);
          r = bench.run(s, v);
        } catch (const tlrt::Error &e) {
          r = Result{};
          r.shape = s;
          r.error = e.what();
        }
        if (!r.ran) {
          fmt::print("{}: ERROR: {}\n", head, r.error);
          rc = 1;
        } else if (r.timing.reps == 0) {
          fmt::print("{}: check only | {} rows: O rel_err {:.2e} max_rel {:.2e}, LSE max abs err "
                     "{:.2e}{}\n",
                     head, r.rows, r.relErr, r.maxRelErr, r.lseMaxAbsErr,
                     r.checkOk ? " ok" : "  WARNING: spot check failed");
        } else {
          fmt::print("{}: {:.4f} ms (min {:.4f}) {:7.1f} TFLOP/s | sets {} reps {} host {:.1f} us "
                     "spin {:.0f} us | O rel_err {:.2e} max_rel {:.2e}, LSE err {:.2e}{}\n",
                     head, r.timing.medianMs, r.timing.minMs, r.tflops, r.sets, r.timing.reps,
                     r.timing.hostLaunchUs, r.timing.spinUs, r.relErr, r.maxRelErr,
                     r.lseMaxAbsErr,
                     r.checkOk ? ""
                               : fmt::format("  WARNING: spot check failed ({} non-finite values "
                                             "in {} rows, tolerance {})",
                                             r.badSamples, r.rows, o.tolerance));
        }
        if (r.ran && !r.checkOk && rc == 0)
          rc = 3;
        std::fflush(stdout);
        emit(&v, r);
      }
      if (!any) {
        Result r;
        r.shape = s;
        r.skipped = fmt::format("no variant with D={} causal={} among the {} manifest(s) given",
                                s.D, s.causal ? "true" : "false", variants.size());
        fmt::print("{}: skipped: {}\n", shapeText(s), r.skipped);
        emit(nullptr, r);
      }
    }
  } catch (const tlrt::Error &e) {
    fmt::print(stderr, "tlc_attn_bench: {}\n", e.what());
    return 1;
  }
  return rc;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return realMain(argc, argv);
  } catch (const std::exception &e) {
    fmt::print(stderr, "tlc_attn_bench: {}\n", e.what());
    return 1;
  }
}
