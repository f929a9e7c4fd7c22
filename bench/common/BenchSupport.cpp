// Shared pieces of the kernel benchmarks (see BenchSupport.h).
#include "BenchSupport.h"

#include "tlrt/Error.h"
#include "tlrt/LowPrecision.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <unistd.h>

namespace tlcbench {

using tlrt::DType;

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos)
    return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

double nowMs() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

std::string manifestStem(const std::string &path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  const std::string suffix = ".manifest.json";
  if (base.size() > suffix.size() &&
      base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0)
    base.resize(base.size() - suffix.size());
  return base;
}

//===----------------------------------------------------------------------===//
// Pools and buffers
//===----------------------------------------------------------------------===//

double Pool::value(size_t i) const {
  const uint8_t *p = bytes.data() + (i % elems) * esize;
  switch (dtype) {
  case DType::BFloat16: {
    uint16_t b;
    std::memcpy(&b, p, 2);
    return tlrt::bf16ToF32(b);
  }
  case DType::Float16: {
    uint16_t b;
    std::memcpy(&b, p, 2);
    return tlrt::f16ToF32(b);
  }
  case DType::Float32: {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  case DType::Float8E4M3:
    return tlrt::e4m3ToF32(*p);
  case DType::Float8E5M2:
    return tlrt::e5m2ToF32(*p);
  case DType::UE8M0:
    return tlrt::ue8m0ToF32(*p);
  default:
    return 0;
  }
}

Pool makePool(DType dt, bool isScale, std::mt19937_64 &rng, size_t elems) {
  Pool p;
  p.dtype = dt;
  p.elems = elems;
  p.esize = static_cast<size_t>(tlrt::dtypeStorageBytes(dt, 1));
  p.bytes.resize(elems * p.esize);
  std::uniform_real_distribution<float> sym(-1.0f, 1.0f);
  std::uniform_real_distribution<float> scale(0.5f, 2.0f);
  for (size_t i = 0; i < elems; ++i) {
    uint8_t *dst = p.bytes.data() + i * p.esize;
    switch (dt) {
    case DType::BFloat16:
    case DType::Float16: {
      float f = sym(rng);
      if (std::fabs(f) < 1e-3f)
        f = f < 0 ? -1e-3f : 1e-3f;
      uint16_t b = dt == DType::BFloat16 ? tlrt::f32ToBF16(f) : tlrt::f32ToF16(f);
      std::memcpy(dst, &b, 2);
      break;
    }
    case DType::Float32: {
      float f = isScale ? scale(rng) : sym(rng);
      std::memcpy(dst, &f, 4);
      break;
    }
    case DType::Float8E4M3:
    case DType::Float8E5M2: {
      // Every code except zeros and the non-finite ones.
      uint8_t c;
      for (;;) {
        c = static_cast<uint8_t>(rng());
        uint8_t mag = c & 0x7F;
        if (mag == 0)
          continue;
        if (dt == DType::Float8E4M3 && mag == 0x7F)
          continue; // NaN
        if (dt == DType::Float8E5M2 && mag >= 0x7C)
          continue; // Inf / NaN
        break;
      }
      *dst = c;
      break;
    }
    case DType::UE8M0:
      *dst = static_cast<uint8_t>(126 + rng() % 3); // 0.5, 1, 2
      break;
    default:
      throw UsageError(fmt::format("no random data generator for dtype {}", tlrt::dtypeName(dt)));
    }
  }
  return p;
}

void Buffer::Free::operator()(uint8_t *p) const { std::free(p); }

Buffer::Buffer(size_t bytes, bool host, int device) : bytes_(bytes), host_(host) {
  if (host) {
    size_t rounded = (bytes + 63) / 64 * 64;
    hostMem_.reset(static_cast<uint8_t *>(std::aligned_alloc(64, rounded)));
    if (!hostMem_)
      throw tlrt::Error(fmt::format("host allocation of {} bytes failed", bytes));
  } else {
    dev_ = tlrt::DeviceBuffer(bytes, device);
  }
}

void Buffer::copyFromHost(const void *src, size_t bytes, size_t offset) {
  if (host_)
    std::memcpy(hostMem_.get() + offset, src, bytes);
  else
    dev_.copyFromHost(src, bytes, offset);
}

void Buffer::copyToHost(void *dst, size_t bytes, size_t offset) const {
  if (host_)
    std::memcpy(dst, hostMem_.get() + offset, bytes);
  else
    dev_.copyToHost(dst, bytes, offset);
}

void Buffer::memset(uint8_t v) {
  if (host_)
    std::memset(hostMem_.get(), v, bytes_);
  else
    dev_.memset(v);
}

tlrt::Tensor Buffer::view(DType dt, std::vector<int64_t> shape) const {
  if (host_)
    return tlrt::Tensor(hostMem_.get(), dt, std::move(shape), tlrt::Place::Host);
  return dev_.view(dt, std::move(shape));
}

void fillFromPool(FilledBuffer &fb, const Pool &pool, size_t elems) {
  size_t done = 0;
  size_t pos = fb.offset % pool.elems;
  while (done < elems) {
    size_t n = std::min(elems - done, pool.elems - pos);
    fb.buf.copyFromHost(pool.bytes.data() + pos * pool.esize, n * pool.esize, done * pool.esize);
    done += n;
    pos = 0;
  }
}

double readElement(const Buffer &b, DType dt, size_t index) {
  switch (dt) {
  case DType::BFloat16: {
    uint16_t v;
    b.copyToHost(&v, 2, index * 2);
    return tlrt::bf16ToF32(v);
  }
  case DType::Float16: {
    uint16_t v;
    b.copyToHost(&v, 2, index * 2);
    return tlrt::f16ToF32(v);
  }
  default: {
    float f;
    b.copyToHost(&f, 4, index * 4);
    return f;
  }
  }
}

//===----------------------------------------------------------------------===//
// Spin kernel and timing
//===----------------------------------------------------------------------===//

namespace {

// PTX for sm_90 JIT-compiles on every later architecture, so the same text
// serves Hopper and Blackwell; only the manifest's target must match the
// device (the runtime checks it at load).
const char *kSpinPtx = R"ptx(
.version 8.0
.target sm_90
.address_size 64

.visible .entry tlc_bench_spin(.param .s64 tlc_bench_spin_ns)
{
    .reg .pred %p<2>;
    .reg .b64 %rd<5>;

    ld.param.s64 %rd1, [tlc_bench_spin_ns];
    mov.u64 %rd2, %globaltimer;
$L_spin:
    mov.u64 %rd3, %globaltimer;
    sub.s64 %rd4, %rd3, %rd2;
    setp.lt.s64 %p1, %rd4, %rd1;
    @%p1 bra $L_spin;
    ret;
}
)ptx";

const char *kSpinManifest = R"json({
  "format": "tlc-manifest", "version": 1, "target": "{TARGET}", "module": "spin.ptx",
  "kernels": [{"name": "spin", "entry": "tlc_bench_spin",
    "params": [{"name": "ns", "kind": "scalar", "dtype": "int64"}],
    "threads": [32, 1, 1], "grid": [1, 1, 1]}]})json";

} // namespace

std::optional<tlrt::Module> loadSpinModule(int device, std::string &why) {
  std::string target;
  try {
    auto cc = tlrt::Context::get(device).computeCapability();
    if (cc.first == 9)
      target = "sm_90a";
    else if (cc.first == 10)
      target = "sm_100a";
    else {
      why = fmt::format("compute capability {}.{} has no tlc target", cc.first, cc.second);
      return std::nullopt;
    }
  } catch (const tlrt::Error &e) {
    why = e.what();
    return std::nullopt;
  }
  char dirTemplate[] = "/tmp/tlc_bench_spin.XXXXXX";
  char *dir = mkdtemp(dirTemplate);
  if (!dir) {
    why = "mkdtemp failed";
    return std::nullopt;
  }
  std::string d = dir;
  std::string ptx = d + "/spin.ptx", man = d + "/spin.manifest.json";
  {
    std::string manifest = kSpinManifest;
    manifest.replace(manifest.find("{TARGET}"), 8, target);
    std::ofstream(ptx) << kSpinPtx;
    std::ofstream(man) << manifest;
  }
  std::optional<tlrt::Module> m;
  try {
    m.emplace(tlrt::Module::load(man, device));
  } catch (const tlrt::Error &e) {
    why = e.what();
  }
  std::remove(ptx.c_str());
  std::remove(man.c_str());
  rmdir(d.c_str());
  return m;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double pos = q * (v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

Timing timeLaunches(const tlrt::Kernel &kernel, const std::vector<std::vector<tlrt::Arg>> &args,
                    tlrt::Stream &stream, const tlrt::Kernel *spin, const TimingOptions &o) {
  Timing t;
  const size_t nsets = args.size();
  size_t it = 0;

  // Host cost of one launch (queue empty, so nothing blocks).
  stream.synchronize();
  double h0 = nowMs();
  const int hostN = 8;
  for (int i = 0; i < hostN; ++i)
    kernel.launch(args[(it++) % nsets], &stream);
  t.hostLaunchUs = (nowMs() - h0) * 1e3 / hostN;
  stream.synchronize();

  // Warm-up: back-to-back batches; the last batch's event time estimates
  // one launch (an upper bound when the host is the bottleneck).
  tlrt::Event e0(o.device), e1(o.device);
  double estMs = 0;
  double w0 = nowMs();
  do {
    const int batch = 10;
    e0.record(&stream);
    for (int i = 0; i < batch; ++i)
      kernel.launch(args[(it++) % nsets], &stream);
    e1.record(&stream);
    e1.synchronize();
    estMs = tlrt::Event::elapsedMs(e0, e1) / batch;
  } while (nowMs() - w0 < o.warmupMs);

  // Timed launches, each between its own events, each after a spin.
  double spinMs = 0;
  if (spin)
    spinMs = std::clamp(2 * (t.hostLaunchUs + 10) * 1e-3, 0.02, 1.0);
  t.spinUs = spinMs * 1e3;
  int reps = static_cast<int>(o.repMs / std::max(estMs + spinMs, 1e-4));
  reps = std::clamp(reps, 10, o.maxReps);
  std::vector<tlrt::Event> starts, ends;
  starts.reserve(reps);
  ends.reserve(reps);
  for (int i = 0; i < reps; ++i) {
    starts.emplace_back(o.device);
    ends.emplace_back(o.device);
  }
  const int64_t spinNs = static_cast<int64_t>(spinMs * 1e6);
  for (int i = 0; i < reps; ++i) {
    if (spin)
      spin->launch({tlrt::Arg(spinNs)}, &stream);
    starts[i].record(&stream);
    kernel.launch(args[(it++) % nsets], &stream);
    ends[i].record(&stream);
  }
  stream.synchronize();
  std::vector<double> times(reps);
  for (int i = 0; i < reps; ++i)
    times[i] = tlrt::Event::elapsedMs(starts[i], ends[i]);
  t.reps = reps;
  t.medianMs = percentile(times, 0.5);
  t.minMs = *std::min_element(times.begin(), times.end());
  t.p10Ms = percentile(times, 0.1);
  t.p90Ms = percentile(times, 0.9);
  return t;
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

std::string jsonEscape(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20)
        out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
      else
        out += c;
    }
  }
  return out;
}

std::string jsonNum(double v) {
  if (!std::isfinite(v))
    return "null";
  return fmt::format("{:.6g}", v);
}

} // namespace tlcbench
