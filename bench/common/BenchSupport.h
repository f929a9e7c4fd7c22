// What the kernel benchmarks (bench/gemm, bench/attention) share: random
// input pools, host/device buffers, the spin kernel and the timed-launch loop
// of docs/perf.md's method, percentiles and JSON helpers. MLIR-free: only
// libtlrt, fmt and the standard library.
#pragma once

#include "tlrt/DType.h"
#include "tlrt/Gpu.h"
#include "tlrt/Module.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace tlcbench {

// A usage or manifest problem: the benches exit with status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string trim(const std::string &s);
double nowMs();

// "dir/flash_attn_fwd_d128.manifest.json" -> "flash_attn_fwd_d128".
std::string manifestStem(const std::string &path);

//===----------------------------------------------------------------------===//
// Random data: one host pool per element kind; every device buffer is the
// pool read cyclically from a random start, so a host reference can read any
// element without keeping a copy of the buffer.
//===----------------------------------------------------------------------===//

constexpr size_t kPoolElems = 16777259; // a prime, so periods do not align with rows

struct Pool {
  tlrt::DType dtype = tlrt::DType::Float32;
  std::vector<uint8_t> bytes; // `elems` elements of dtype
  size_t elems = 0;
  size_t esize = 0;

  double value(size_t i) const;
};

// Operands: uniform in [-1, 1] away from zero (16-bit floats and f32); random
// finite, non-zero codes (FP8). Scales (isScale): uniform in [0.5, 2] (f32)
// or 2^-1..2^1 (ue8m0).
Pool makePool(tlrt::DType dt, bool isScale, std::mt19937_64 &rng, size_t elems);

// Device memory for GPU kernels; 64-byte aligned host memory for a cpu
// manifest (which the benches only check, never time).
class Buffer {
public:
  Buffer() = default;
  Buffer(size_t bytes, bool host, int device);
  void copyFromHost(const void *src, size_t bytes, size_t offset);
  void copyToHost(void *dst, size_t bytes, size_t offset) const;
  void memset(uint8_t v);
  tlrt::Tensor view(tlrt::DType dt, std::vector<int64_t> shape) const;

private:
  struct Free {
    void operator()(uint8_t *p) const;
  };
  size_t bytes_ = 0;
  bool host_ = false;
  tlrt::DeviceBuffer dev_;
  std::unique_ptr<uint8_t[], Free> hostMem_;
};

// A buffer filled from a pool starting at element `offset`.
struct FilledBuffer {
  Buffer buf;
  size_t offset = 0;
};

void fillFromPool(FilledBuffer &fb, const Pool &pool, size_t elems);

// Element `index` of a bf16 / f16 / f32 buffer, as a double.
double readElement(const Buffer &b, tlrt::DType dt, size_t index);

//===----------------------------------------------------------------------===//
// Timing (docs/perf.md): a warm-up, then many launches each between two
// events, each preceded by a spin kernel that keeps the GPU busy while the
// host enqueues the next launch; the median per launch.
//===----------------------------------------------------------------------===//

// A hand-written PTX kernel that spins for `ns` nanoseconds on %globaltimer;
// loaded for the device's architecture (sm_90a or sm_100a manifest). Empty,
// with `why`, when it cannot be loaded.
std::optional<tlrt::Module> loadSpinModule(int device, std::string &why);

struct TimingOptions {
  double warmupMs = 200;
  double repMs = 1000;
  int maxReps = 5000;
  int device = 0;
};

struct Timing {
  int reps = 0;
  double medianMs = 0, minMs = 0, p10Ms = 0, p90Ms = 0;
  double hostLaunchUs = 0; // host cost of one launch, queue empty
  double spinUs = 0;       // spin before each timed launch (0 without a spin kernel)
};

// Times `kernel` rotating over `args` (one argument list per input set).
Timing timeLaunches(const tlrt::Kernel &kernel, const std::vector<std::vector<tlrt::Arg>> &args,
                    tlrt::Stream &stream, const tlrt::Kernel *spin, const TimingOptions &o);

// Linear interpolation between order statistics; q in [0, 1].
double percentile(std::vector<double> v, double q);

//===----------------------------------------------------------------------===//
// JSON lines
//===----------------------------------------------------------------------===//

std::string jsonEscape(const std::string &s);
std::string jsonNum(double v); // "null" when not finite

} // namespace tlcbench
