// tlc_gemm_bench: times a tlc-compiled GEMM kernel (bf16, or FP8 with
// 1x128 activation / 128x128 weight scales) through libtlrt and spot-checks
// its result against a double-precision host reference.
//
//   tlc_gemm_bench --manifest out/gemm_bf16.manifest.json --kind bf16 \
//       --shapes "4096,4096,4096;128,1024,4096" [--kernel NAME]
//       [--warmup-ms 200] [--rep-ms 1000] [--json out.jsonl]
//
// Method (docs/perf.md): per shape, random inputs (never zeros) in enough
// input sets that the working set exceeds twice the L2, so every launch
// reads its operands from device memory; a warm-up; then many launches each
// between two events, preceded by a short spin kernel that keeps the GPU
// busy while the host enqueues the next launch (so host-side launch cost
// does not show up in the measured time, as with triton's do_bench); the
// median of the per-launch times. Before timing, the output of set 0 is
// poisoned (0xFF bytes, NaN), the kernel runs once, and `--samples` random
// output elements are compared with a double-precision reference computed
// from the same inputs. Pools, buffers, the spin kernel and the timed loop
// are shared with the attention bench (bench/common/BenchSupport.h).
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
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cerrno>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace tlcbench;
using tlrt::DType;

struct Shape {
  int64_t M = 0, N = 0, K = 0;
};

struct Options {
  std::string manifest;
  std::string kernel;
  std::string kind;
  std::string shapes;
  std::string json;
  std::string variant;
  double warmupMs = 200;
  double repMs = 1000;
  double l2MB = 50;
  int samples = 64;
  int maxSets = 256;
  int maxReps = 5000;
  int device = 0;
  uint64_t seed = 0;
  double tolerance = 2e-2;
};

// "M,N,K;M,N,K" (newlines also separate shapes; 'x' also separates numbers).
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
    std::string t = item;
    for (char &c : t)
      if (c == 'x' || c == 'X')
        c = ',';
    std::vector<int64_t> v;
    std::stringstream is(t);
    std::string num;
    while (std::getline(is, num, ',')) {
      num = trim(num);
      char *end = nullptr;
      errno = 0;
      long long x = std::strtoll(num.c_str(), &end, 10);
      if (num.empty() || *end != '\0' || errno != 0 || x <= 0)
        throw UsageError(fmt::format("--shapes: bad shape '{}' (expected M,N,K with positive "
                                     "integers)",
                                     item));
      v.push_back(x);
    }
    if (v.size() != 3)
      throw UsageError(fmt::format("--shapes: bad shape '{}' (expected M,N,K)", item));
    out.push_back({v[0], v[1], v[2]});
  }
  if (out.empty())
    throw UsageError("--shapes: no shapes given");
  return out;
}


// ---------------------------------------------------------------------------
// The kernel's parameters, as the manifest states them.

enum class Role { A, B, C, SA, SB };

struct ParamPlan {
  Role role;
  int index;  // in the kernel's parameter list
  DType dtype;
  bool transposed = false; // scales stored [K blocks, rows] instead of [rows, K blocks]
};

struct KernelPlan {
  std::vector<ParamPlan> params; // in parameter order
  bool fp8 = false;
  std::string mSym, nSym, kSym; // dimension symbols of A[M, K] and B[N, K]
  DType aType, bType, cType, saType = DType::Float32, sbType = DType::Float32;
};

KernelPlan planKernel(const tlrt::KernelSpec &k, const std::string &kind) {
  KernelPlan plan;
  plan.fp8 = kind == "fp8";
  auto where = [&](const std::string &p) {
    return fmt::format("kernel '{}', parameter '{}'", k.name, p);
  };
  bool seen[5] = {false, false, false, false, false};
  for (size_t i = 0; i < k.params.size(); ++i) {
    const tlrt::ParamSpec &p = k.params[i];
    Role r;
    if (p.name == "A")
      r = Role::A;
    else if (p.name == "B")
      r = Role::B;
    else if (p.name == "C")
      r = Role::C;
    else if (p.name == "SA" && plan.fp8)
      r = Role::SA;
    else if (p.name == "SB" && plan.fp8)
      r = Role::SB;
    else
      throw UsageError(fmt::format("{}: the {} GEMM bench knows only parameters {}", where(p.name),
                                   kind, plan.fp8 ? "A, SA, B, SB, C" : "A, B, C"));
    if (p.kind != tlrt::ParamKind::Tensor || p.rank() != 2)
      throw UsageError(fmt::format("{}: expected a rank-2 tensor", where(p.name)));
    seen[static_cast<int>(r)] = true;
    plan.params.push_back({r, static_cast<int>(i), p.dtype});
  }
  const char *names[5] = {"A", "B", "C", "SA", "SB"};
  for (int r = 0; r < (plan.fp8 ? 5 : 3); ++r)
    if (!seen[r])
      throw UsageError(fmt::format("kernel '{}': no parameter '{}' (a {} GEMM needs {})", k.name,
                                   names[r], kind, plan.fp8 ? "A, SA, B, SB, C" : "A, B, C"));

  const tlrt::ParamSpec &A = k.params[k.paramIndex("A")];
  const tlrt::ParamSpec &B = k.params[k.paramIndex("B")];
  const tlrt::ParamSpec &C = k.params[k.paramIndex("C")];
  plan.aType = A.dtype;
  plan.bType = B.dtype;
  plan.cType = C.dtype;
  auto symOf = [&](const tlrt::ParamSpec &p, int d) -> std::string {
    const tlrt::DimSpec &ds = p.shape[d];
    if (ds.fixed)
      return "";
    if (!ds.expr->isSymbol())
      throw UsageError(fmt::format("{}: dimension {} is '{}'; the bench needs a plain symbol or "
                                   "an integer",
                                   where(p.name), d, ds.text()));
    return ds.expr->symbol();
  };
  plan.mSym = symOf(A, 0);
  plan.kSym = symOf(A, 1);
  plan.nSym = symOf(B, 0);

  std::vector<DType> opTypes = plan.fp8
                                   ? std::vector<DType>{DType::Float8E4M3, DType::Float8E5M2}
                                   : std::vector<DType>{DType::BFloat16, DType::Float16};
  for (const tlrt::ParamSpec *p : {&A, &B})
    if (std::find(opTypes.begin(), opTypes.end(), p->dtype) == opTypes.end())
      throw UsageError(fmt::format("{}: dtype {} does not fit --kind {}", where(p->name),
                                   tlrt::dtypeName(p->dtype), kind));
  if (C.dtype != DType::BFloat16 && C.dtype != DType::Float16 && C.dtype != DType::Float32)
    throw UsageError(fmt::format("{}: output dtype {} not supported (bfloat16, float16, float32)",
                                 where("C"), tlrt::dtypeName(C.dtype)));
  for (ParamPlan &pp : plan.params) {
    if (pp.role != Role::SA && pp.role != Role::SB)
      continue;
    const tlrt::ParamSpec &p = k.params[pp.index];
    if (p.dtype != DType::Float32 && p.dtype != DType::UE8M0)
      throw UsageError(fmt::format("{}: scale dtype {} not supported (float32, ue8m0)",
                                   where(p.name), tlrt::dtypeName(p.dtype)));
    // Row-major [rows, K blocks] unless the first dimension is written over K
    // (then [K blocks, rows]).
    const tlrt::DimSpec &first = p.shape[0];
    if (!first.fixed && !plan.kSym.empty()) {
      std::vector<std::string> syms = first.expr->symbols();
      pp.transposed = std::find(syms.begin(), syms.end(), plan.kSym) != syms.end();
    }
    (pp.role == Role::SA ? plan.saType : plan.sbType) = p.dtype;
  }
  return plan;
}

// The shape of every parameter for (M, N, K), from the manifest's expressions.
// Returns an explanation when the kernel cannot take this shape.
std::optional<std::string> paramShapes(const tlrt::KernelSpec &k, const KernelPlan &plan,
                                       const Shape &s, std::vector<std::vector<int64_t>> &out) {
  const tlrt::ParamSpec &A = k.params[k.paramIndex("A")];
  const tlrt::ParamSpec &B = k.params[k.paramIndex("B")];
  tlrt::SymbolValues sym;
  auto bind = [&](const std::string &name, const tlrt::DimSpec &d, int64_t v,
                  const char *what) -> std::optional<std::string> {
    if (name.empty()) {
      if (d.value != v)
        return fmt::format("the kernel fixes {} = {}", what, d.value);
      return std::nullopt;
    }
    auto it = sym.find(name);
    if (it != sym.end() && it->second != v)
      return fmt::format("symbol '{}' would be both {} and {}", name, it->second, v);
    sym[name] = v;
    return std::nullopt;
  };
  if (auto e = bind(plan.mSym, A.shape[0], s.M, "M"))
    return e;
  if (auto e = bind(plan.kSym, A.shape[1], s.K, "K"))
    return e;
  if (auto e = bind(plan.nSym, B.shape[0], s.N, "N"))
    return e;
  out.assign(k.params.size(), {});
  for (const ParamPlan &pp : plan.params) {
    const tlrt::ParamSpec &p = k.params[pp.index];
    for (const tlrt::DimSpec &d : p.shape) {
      try {
        out[pp.index].push_back(d.fixed ? d.value : d.expr->eval(sym));
      } catch (const tlrt::Error &e) {
        return fmt::format("parameter '{}': {}", p.name, e.what());
      }
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------

struct Result {
  Shape shape;
  bool ran = false;
  std::string error;   // when it did not run
  std::string skipped; // when the kernel cannot take the shape
  double medianMs = 0, minMs = 0, p10Ms = 0, p90Ms = 0;
  double tflops = 0;
  int reps = 0, sets = 0;
  double hostLaunchUs = 0;
  double spinUs = 0;
  double relErr = 0, maxRelErr = 0;
  int badSamples = 0; // non-finite or unwritten outputs
  bool checkOk = true;
};


class Bench {
public:
  Bench(const Options &o, const tlrt::Kernel &k, const KernelPlan &plan,
        const tlrt::Kernel *spin)
      : o_(o), k_(k), plan_(plan), spin_(spin), hostOnly_(k.place() == tlrt::Place::Host),
        rng_(o.seed) {
    if (!hostOnly_)
      stream_.emplace(o.device);
    poolA_ = makePool(plan.aType, false, rng_, kPoolElems);
    poolB_ = plan.bType == plan.aType ? poolA_ : makePool(plan.bType, false, rng_, kPoolElems);
    if (plan.fp8) {
      poolSA_ = makePool(plan.saType, true, rng_, 1048573);
      poolSB_ = makePool(plan.sbType, true, rng_, 1048573);
    }
  }

  Result run(const Shape &s);

private:
  struct Set {
    FilledBuffer a, b, c, sa, sb;
  };
  std::vector<tlrt::Arg> argsFor(const Set &set) const;
  const Pool &poolFor(Role r) const {
    switch (r) {
    case Role::A:
      return poolA_;
    case Role::B:
      return poolB_;
    case Role::SA:
      return poolSA_;
    default:
      return poolSB_;
    }
  }
  FilledBuffer &bufFor(Set &set, Role r) const {
    switch (r) {
    case Role::A:
      return set.a;
    case Role::B:
      return set.b;
    case Role::C:
      return set.c;
    case Role::SA:
      return set.sa;
    default:
      return set.sb;
    }
  }
  void check(const Shape &s, Set &set, Result &r);

  const Options &o_;
  const tlrt::Kernel &k_;
  const KernelPlan &plan_;
  const tlrt::Kernel *spin_;
  bool hostOnly_; // a cpu manifest: check only
  std::optional<tlrt::Stream> stream_;
  std::mt19937_64 rng_;
  Pool poolA_, poolB_, poolSA_, poolSB_;
  std::vector<std::vector<int64_t>> shapes_; // per parameter, for the current shape
};

std::vector<tlrt::Arg> Bench::argsFor(const Set &set) const {
  std::vector<tlrt::Arg> args(k_.spec().params.size(), tlrt::Arg(0));
  for (const ParamPlan &pp : plan_.params) {
    const FilledBuffer &fb = bufFor(const_cast<Set &>(set), pp.role);
    args[pp.index] = fb.buf.view(pp.dtype, shapes_[pp.index]);
  }
  return args;
}

void Bench::check(const Shape &s, Set &set, Result &r) {
  const int kb = static_cast<int>((s.K + 127) / 128);
  const int64_t nb = (s.N + 127) / 128;
  auto findPlan = [&](Role role) -> const ParamPlan * {
    for (const ParamPlan &pp : plan_.params)
      if (pp.role == role)
        return &pp;
    return nullptr;
  };
  const ParamPlan *saPlan = findPlan(Role::SA), *sbPlan = findPlan(Role::SB);
  std::uniform_int_distribution<int64_t> di(0, s.M - 1), dj(0, s.N - 1);
  std::vector<std::pair<int64_t, int64_t>> points = {{0, 0}, {s.M - 1, s.N - 1}};
  while (static_cast<int>(points.size()) < o_.samples)
    points.push_back({di(rng_), dj(rng_)});
  points.resize(std::max(1, o_.samples));

  std::vector<double> refs, gots;
  std::vector<double> sa(kb), sb(kb);
  for (auto [i, j] : points) {
    if (plan_.fp8) {
      for (int q = 0; q < kb; ++q) {
        size_t ia = saPlan->transposed ? q * s.M + i : i * kb + q;
        size_t ib = sbPlan->transposed ? q * nb + j / 128 : (j / 128) * kb + q;
        sa[q] = poolSA_.value(set.sa.offset + ia);
        sb[q] = poolSB_.value(set.sb.offset + ib);
      }
    }
    double acc = 0;
    size_t baseA = set.a.offset + static_cast<size_t>(i) * s.K;
    size_t baseB = set.b.offset + static_cast<size_t>(j) * s.K;
    if (plan_.fp8) {
      for (int q = 0; q < kb; ++q) {
        double part = 0;
        int64_t kEnd = std::min<int64_t>(s.K, (q + 1) * 128);
        for (int64_t k = q * 128; k < kEnd; ++k)
          part += poolA_.value(baseA + k) * poolB_.value(baseB + k);
        acc += part * sa[q] * sb[q];
      }
    } else {
      for (int64_t k = 0; k < s.K; ++k)
        acc += poolA_.value(baseA + k) * poolB_.value(baseB + k);
    }
    refs.push_back(acc);
    gots.push_back(readElement(set.c.buf, plan_.cType, static_cast<size_t>(i * s.N + j)));
  }
  double sumRef2 = 0;
  for (double v : refs)
    sumRef2 += v * v;
  double rms = std::sqrt(sumRef2 / refs.size());
  double sumErr2 = 0, maxRel = 0;
  int bad = 0;
  for (size_t t = 0; t < refs.size(); ++t) {
    if (!std::isfinite(gots[t])) { // also catches the 0xFF poison (NaN)
      ++bad;
      continue;
    }
    double e = gots[t] - refs[t];
    sumErr2 += e * e;
    // Relative to the element, with a floor of 1% of the typical magnitude so
    // a reference that happens to cancel to ~0 does not dominate.
    maxRel = std::max(maxRel, std::fabs(e) / std::max(std::fabs(refs[t]), 1e-2 * rms));
  }
  r.badSamples = bad;
  r.relErr = sumRef2 > 0 ? std::sqrt(sumErr2 / sumRef2) : std::sqrt(sumErr2);
  r.maxRelErr = maxRel;
  // The check is the norm-wise error (METHOD.md): one sample's relative
  // error can be large where the sum nearly cancels (FP8 products are summed
  // on the tensor cores with a narrower accumulator); it is reported, and
  // only flagged when it exceeds 5x the tolerance.
  r.checkOk = bad == 0 && r.relErr <= o_.tolerance && maxRel <= 5 * o_.tolerance;
}

Result Bench::run(const Shape &s) {
  Result r;
  r.shape = s;
  if (auto why = paramShapes(k_.spec(), plan_, s, shapes_)) {
    r.skipped = *why;
    return r;
  }
  // Bytes of one input set, then enough sets to exceed 2x L2.
  size_t perSet = 0;
  std::vector<size_t> elems(k_.spec().params.size());
  for (const ParamPlan &pp : plan_.params) {
    size_t n = 1;
    for (int64_t d : shapes_[pp.index])
      n *= static_cast<size_t>(d);
    elems[pp.index] = n;
    perSet += static_cast<size_t>(tlrt::dtypeStorageBytes(pp.dtype, n));
  }
  const double l2Bytes = o_.l2MB * 1e6;
  int nsets = static_cast<int>(std::floor(2 * l2Bytes / std::max<size_t>(perSet, 1))) + 1;
  nsets = hostOnly_ ? 1 : std::clamp(nsets, 1, o_.maxSets);
  r.sets = nsets;

  std::vector<Set> sets(nsets);
  for (Set &set : sets) {
    for (const ParamPlan &pp : plan_.params) {
      FilledBuffer &fb = bufFor(set, pp.role);
      size_t bytes = static_cast<size_t>(tlrt::dtypeStorageBytes(pp.dtype, elems[pp.index]));
      fb.buf = Buffer(std::max<size_t>(bytes, 16), hostOnly_, o_.device);
      if (pp.role == Role::C) {
        fb.buf.memset(0xFF);
        continue;
      }
      const Pool &pool = poolFor(pp.role);
      fb.offset = std::uniform_int_distribution<size_t>(0, pool.elems - 1)(rng_);
      fillFromPool(fb, pool, elems[pp.index]);
    }
  }
  std::vector<std::vector<tlrt::Arg>> args;
  for (const Set &set : sets)
    args.push_back(argsFor(set));

  // Correctness: set 0's output is poisoned; one launch; sampled check.
  if (hostOnly_) {
    k_.launch(args[0]); // runs to completion
    check(s, sets[0], r);
    r.ran = true;
    return r;
  }
  tlrt::Stream &stream = *stream_;
  k_.launch(args[0], &stream);
  stream.synchronize();
  check(s, sets[0], r);

  tlcbench::Timing t = tlcbench::timeLaunches(
      k_, args, stream, spin_, {o_.warmupMs, o_.repMs, o_.maxReps, o_.device});
  r.reps = t.reps;
  r.medianMs = t.medianMs;
  r.minMs = t.minMs;
  r.p10Ms = t.p10Ms;
  r.p90Ms = t.p90Ms;
  r.hostLaunchUs = t.hostLaunchUs;
  r.spinUs = t.spinUs;
  double flops = 2.0 * s.M * s.N * s.K;
  r.tflops = flops / (r.medianMs * 1e-3) / 1e12;
  r.ran = true;
  return r;
}

std::string variantName(const Options &o) {
  return o.variant.empty() ? manifestStem(o.manifest) : o.variant;
}

std::string jsonLine(const Options &o, const std::string &kernel, const std::string &device,
                     const Result &r) {
  std::string s = fmt::format(
      "{{\"impl\": \"tlc\", \"api\": \"tlc\", \"kind\": \"{}\", \"variant\": \"{}\", "
      "\"kernel\": \"{}\", \"manifest\": \"{}\", \"device\": \"{}\", \"M\": {}, \"N\": {}, "
      "\"K\": {}",
      o.kind, jsonEscape(variantName(o)), jsonEscape(kernel), jsonEscape(o.manifest),
      jsonEscape(device), r.shape.M, r.shape.N, r.shape.K);
  if (!r.skipped.empty())
    return s + fmt::format(", \"skipped\": \"{}\"}}", jsonEscape(r.skipped));
  if (!r.ran)
    return s + fmt::format(", \"error\": \"{}\"}}", jsonEscape(r.error));
  if (r.reps == 0) // cpu manifest: checked, not timed
    return s + fmt::format(", \"check_only\": true, \"rel_err\": {}, \"max_rel_err\": {}, "
                           "\"bad_samples\": {}, \"check\": \"{}\"}}",
                           jsonNum(r.relErr), jsonNum(r.maxRelErr), r.badSamples,
                           r.checkOk ? "ok" : "WARN");
  s += fmt::format(", \"ms\": {}, \"min_ms\": {}, \"p10_ms\": {}, \"p90_ms\": {}, \"tflops\": {}, "
                   "\"reps\": {}, \"sets\": {}, \"host_launch_us\": {}, \"spin_us\": {}, "
                   "\"rel_err\": {}, \"max_rel_err\": {}, \"bad_samples\": {}, \"check\": \"{}\"}}",
                   jsonNum(r.medianMs), jsonNum(r.minMs), jsonNum(r.p10Ms), jsonNum(r.p90Ms),
                   jsonNum(r.tflops), r.reps, r.sets, jsonNum(r.hostLaunchUs), jsonNum(r.spinUs),
                   jsonNum(r.relErr), jsonNum(r.maxRelErr), r.badSamples,
                   r.checkOk ? "ok" : "WARN");
  return s;
}

int realMain(int argc, char **argv) {
  Options o;
  CLI::App app{"Times a tlc-compiled GEMM kernel through libtlrt (see docs/perf.md)"};
  app.option_defaults()->always_capture_default();
  app.add_option("--manifest", o.manifest, "kernel manifest (tlc --emit ptx|cubin)")->required();
  app.add_option("--kernel", o.kernel, "kernel name (default: the manifest's only kernel)");
  app.add_option("--kind", o.kind, "bf16 | fp8 (block-scaled, 1x128 / 128x128 scales)")
      ->required()
      ->check(CLI::IsMember({"bf16", "fp8"}));
  app.add_option("--shapes", o.shapes, "M,N,K[;M,N,K...]")->required();
  app.add_option("--warmup-ms", o.warmupMs, "warm-up time per shape (ms)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rep-ms", o.repMs, "timed launches per shape: about this many ms")
      ->check(CLI::PositiveNumber);
  app.add_option("--json", o.json, "write one JSON line per shape to this file");
  app.add_option("--variant", o.variant, "name for the JSON (default: the manifest's file stem)");
  app.add_option("--samples", o.samples, "output elements checked against the host reference")
      ->check(CLI::Range(1, 100000));
  app.add_option("--tolerance", o.tolerance, "max relative error before a warning");
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
  tlrt::Manifest manifest;
  KernelPlan plan;
  std::string kernelName;
  try {
    shapes = parseShapes(o.shapes);
    manifest = tlrt::Manifest::load(o.manifest);
    if (o.kernel.empty()) {
      if (manifest.kernels.size() != 1)
        throw UsageError(fmt::format("{}: {} kernels; name one with --kernel", o.manifest,
                                     manifest.kernels.size()));
      kernelName = manifest.kernels[0].name;
    } else {
      kernelName = o.kernel;
    }
    const tlrt::KernelSpec *spec = manifest.findKernel(kernelName);
    if (!spec)
      throw UsageError(fmt::format("{}: no kernel '{}'", o.manifest, kernelName));
    plan = planKernel(*spec, o.kind);
  } catch (const UsageError &e) {
    fmt::print(stderr, "tlc_gemm_bench: {}\n", e.what());
    return 2;
  } catch (const tlrt::Error &e) {
    fmt::print(stderr, "tlc_gemm_bench: {}\n", e.what());
    return 2;
  }

  const bool gpu = tlrt::isGpuTarget(manifest.target);
  std::string why;
  if (gpu && !tlrt::cudaAvailable(&why)) {
    fmt::print(stderr, "tlc_gemm_bench: {}\n", why);
    return 1;
  }
  if (gpu && tlrt::cudaDeviceCount() <= o.device) {
    fmt::print(stderr, "tlc_gemm_bench: no CUDA device {} ({} present)\n", o.device,
               tlrt::cudaDeviceCount());
    return 1;
  }

  std::unique_ptr<std::ofstream> json;
  if (!o.json.empty()) {
    json = std::make_unique<std::ofstream>(o.json, std::ios::trunc);
    if (!*json) {
      fmt::print(stderr, "tlc_gemm_bench: cannot write {}\n", o.json);
      return 2;
    }
  }

  int rc = 0;
  try {
    std::string device = gpu ? tlrt::Context::get(o.device).deviceName()
                             : fmt::format("host ({} threads)", tlrt::Module::cpuThreads());
    tlrt::Module module = tlrt::Module::load(o.manifest, o.device);
    const tlrt::Kernel &kernel = module.kernel(kernelName);
    std::string spinWhy;
    std::optional<tlrt::Module> spinModule;
    if (gpu)
      spinModule = loadSpinModule(o.device, spinWhy);
    const tlrt::Kernel *spin = spinModule ? &spinModule->kernel("spin") : nullptr;
    if (!gpu)
      fmt::print("# cpu target: checking results only, no timing\n");
    else if (!spin)
      fmt::print(stderr,
                 "tlc_gemm_bench: warning: no spin kernel ({}); host launch cost may show in "
                 "the times of small shapes\n",
                 spinWhy);
    fmt::print("# {} | kernel {} ({}) | {} | seed {} | warmup {} ms, rep {} ms\n", device,
               kernelName, variantName(o), o.kind, o.seed, o.warmupMs, o.repMs);
    std::fflush(stdout);
    Bench bench(o, kernel, plan, spin);
    for (const Shape &s : shapes) {
      Result r;
      try {
        r = bench.run(s);
      } catch (const tlrt::Error &e) {
        r = Result{};
        r.shape = s;
        r.error = e.what();
      }
      std::string head = fmt::format("{} {} M={} N={} K={}", variantName(o), o.kind, s.M, s.N, s.K);
      if (!r.skipped.empty()) {
        fmt::print("{}: skipped: {}\n", head, r.skipped);
      } else if (!r.ran) {
        fmt::print("{}: ERROR: {}\n", head, r.error);
        rc = 1;
      } else if (r.reps == 0) {
        fmt::print("{}: check only | rel_err {:.2e} max_rel {:.2e}{}\n", head, r.relErr,
                   r.maxRelErr, r.checkOk ? " ok" : "  WARNING: spot check failed");
        if (!r.checkOk && rc == 0)
          rc = 3;
      } else {
        fmt::print("{}: {:.4f} ms (min {:.4f}) {:7.1f} TFLOP/s | sets {} reps {} host {:.1f} us "
                   "spin {:.0f} us | rel_err {:.2e} max_rel {:.2e}{}\n",
                   head, r.medianMs, r.minMs, r.tflops, r.sets, r.reps, r.hostLaunchUs, r.spinUs,
                   r.relErr, r.maxRelErr,
                   r.checkOk ? ""
                             : fmt::format("  WARNING: spot check failed ({} non-finite of {}, "
                                           "tolerance {})",
                                           r.badSamples, o.samples, o.tolerance));
        if (!r.checkOk && rc == 0)
          rc = 3;
      }
      std::fflush(stdout);
      if (json) {
        *json << jsonLine(o, kernelName, device, r) << "\n";
        json->flush();
      }
    }
  } catch (const tlrt::Error &e) {
    fmt::print(stderr, "tlc_gemm_bench: {}\n", e.what());
    return 1;
  }
  return rc;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return realMain(argc, argv);
  } catch (const std::exception &e) {
    fmt::print(stderr, "tlc_gemm_bench: {}\n", e.what());
    return 1;
  }
}
