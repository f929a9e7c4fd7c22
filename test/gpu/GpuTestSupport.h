// Helpers of the GPU kernel tests (GpuKernels_test.cpp, GpuViews_test.cpp):
// which kernels the device can run, random inputs, one launch on the GPU and
// one on the CPU target, error norms against a double-precision reference.
#pragma once

#include "tlrt/Gpu.h"
#include "tlrt/LowPrecision.h"
#include "tlrt/Manifest.h"
#include "tlrt/Module.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace tlc::gputest {


// "sm_90a" / "sm_100a" for compute capability 9.x / 10.x, "" otherwise.
inline std::string archOf(std::pair<int, int> cc) {
  if (cc.first == 9)
    return "sm_90a";
  if (cc.first == 10)
    return "sm_100a";
  return "";
}

inline bool gpuReady(std::string &why) {
  if (!tlrt::cudaAvailable(&why))
    return false;
  if (tlrt::cudaDeviceCount() < 1) {
    why = "no CUDA device";
    return false;
  }
  auto cc = tlrt::Context::get(0).computeCapability();
  if (archOf(cc).empty()) {
    why = "device is compute capability " + std::to_string(cc.first) + "." +
          std::to_string(cc.second) + ", neither 9.x (sm_90a) nor 10.x (sm_100a)";
    return false;
  }
  return true;
}

// The device's architecture; only called once gpuReady() holds.
inline std::string deviceArch() { return archOf(tlrt::Context::get(0).computeCapability()); }

inline std::string kernelDir() {
  if (const char *d = std::getenv("TLC_GPU_KERNELS"))
    return d;
  return deviceArch() == "sm_100a" ? TLC_GPU_KERNEL_DIR_SM100A : TLC_GPU_KERNEL_DIR;
}

// Empty when kernels/gpu_<name> exists for the device's architecture,
// otherwise why the test cannot run it.
inline std::string missingKernel(const std::string &name) {
  const std::string arch = deviceArch();
  const std::string path = kernelDir() + "/gpu_" + name + ".manifest.json";
  if (!std::ifstream(path).good())
    return "no " + arch + " build of kernel '" + name + "' (" + path +
           " is missing: not compiled for this architecture)";
  std::string target;
  try {
    target = tlrt::targetName(tlrt::Manifest::load(path).target);
  } catch (const tlrt::Error &e) {
    return e.what();
  }
  if (target != arch)
    return path + " is for " + target + ", the device runs " + arch +
           " (point TLC_GPU_KERNELS at the " + arch + " kernels)";
  return "";
}

#define REQUIRE_GPU()                                                                              \
  do {                                                                                             \
    std::string why;                                                                               \
    if (!gpuReady(why))                                                                            \
      GTEST_SKIP() << why;                                                                         \
  } while (0)

// A GPU and this kernel built for its architecture, or the test skips.
#define REQUIRE_GPU_KERNEL(name)                                                                   \
  do {                                                                                             \
    REQUIRE_GPU();                                                                                 \
    std::string missing = missingKernel(name);                                                     \
    if (!missing.empty())                                                                          \
      GTEST_SKIP() << missing;                                                                     \
  } while (0)

inline std::mt19937_64 &rng() {
  static std::mt19937_64 g([] {
    uint64_t seed = std::random_device{}();
    if (const char *s = std::getenv("TLC_TEST_SEED"))
      seed = std::strtoull(s, nullptr, 10);
    std::printf("[gpu kernels] seed %llu\n", static_cast<unsigned long long>(seed));
    return seed;
  }());
  return g;
}

// TLC_GPU_TEST_SMALL=1 (compute-sanitizer runs): only the first two shapes.
inline bool stopEarly(int &count) {
  const char *e = std::getenv("TLC_GPU_TEST_SMALL");
  return e && *e == '1' && ++count > 2;
}

inline float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng()); }

// A host tensor: bytes plus its runtime description.
struct HostTensor {
  tlrt::DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  HostTensor(tlrt::DType d, std::vector<int64_t> s) : dtype(d), shape(std::move(s)) {
    tlrt::Tensor t(nullptr, dtype, shape);
    bytes.assign(static_cast<size_t>(t.nbytes()), 0);
  }
  template <typename T> T *as() { return reinterpret_cast<T *>(bytes.data()); }
  template <typename T> const T *as() const { return reinterpret_cast<const T *>(bytes.data()); }
  tlrt::Tensor host() { return tlrt::Tensor(bytes.data(), dtype, shape, tlrt::Place::Host); }
};

// One launch on each target; `outputs` lists which tensors are written.
struct LaunchResult {
  std::vector<HostTensor> gpu, cpu;
};

// `name` is the kernel file (kernels/{gpu,cpu}_<name>.*); the .tl kernel name
// is the part before any "__" variant suffix.
inline LaunchResult runBoth(const std::string &name, const std::vector<HostTensor> &inputs,
                     const std::vector<bool> &isOutput,
                     const std::vector<tlrt::Arg> &scalars = {}) {
  LaunchResult r;
  const std::string kernel = name.substr(0, name.find("__"));
  // GPU
  {
    tlrt::Module m = tlrt::Module::load(kernelDir() + "/gpu_" + name + ".manifest.json");
    std::vector<tlrt::DeviceBuffer> bufs;
    std::vector<tlrt::Arg> args;
    for (size_t i = 0; i < inputs.size(); ++i) {
      bufs.emplace_back(std::max<size_t>(inputs[i].bytes.size(), 16));
      if (isOutput[i])
        bufs.back().memset(0xFF);
      else
        bufs.back().copyFromHost(inputs[i].bytes.data(), inputs[i].bytes.size());
      args.push_back(
          tlrt::Tensor(bufs.back().data(), inputs[i].dtype, inputs[i].shape, tlrt::Place::Device));
    }
    for (const tlrt::Arg &s : scalars)
      args.push_back(s);
    tlrt::Stream stream;
    m.kernel(kernel).launch(args, &stream);
    stream.synchronize();
    for (size_t i = 0; i < inputs.size(); ++i) {
      r.gpu.push_back(inputs[i]);
      bufs[i].copyToHost(r.gpu.back().bytes.data(), r.gpu.back().bytes.size());
    }
  }
  // CPU (golden)
  {
    tlrt::Module m = tlrt::Module::load(kernelDir() + "/cpu_" + name + ".manifest.json");
    std::vector<tlrt::Arg> args;
    r.cpu = inputs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (isOutput[i])
        std::memset(r.cpu[i].bytes.data(), 0xFF, r.cpu[i].bytes.size());
      args.push_back(r.cpu[i].host());
    }
    for (const tlrt::Arg &s : scalars)
      args.push_back(s);
    m.kernel(kernel).launch(args);
  }
  return r;
}

struct ErrorStats {
  double rel = 0;  // ||out - ref|| / ||ref||
  int64_t nan = 0; // unwritten (poison) or NaN outputs
};

template <typename GetOut, typename GetRef> ErrorStats compare(int64_t n, GetOut out, GetRef ref) {
  double num = 0, den = 0;
  ErrorStats s;
  for (int64_t i = 0; i < n; ++i) {
    double o = out(i), r = ref(i);
    if (std::isnan(o)) {
      ++s.nan;
      continue;
    }
    num += (o - r) * (o - r);
    den += r * r;
  }
  s.rel = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  return s;
}

// GPU output against the f64 reference and against the CPU target's output:
// both within `bound` (norm-wise), no NaN or unwritten element.
template <typename GetGpu, typename GetCpu>
inline void expectNear(const std::string &what, int64_t n, GetGpu gpu, GetCpu cpu,
                const std::vector<double> &ref, double bound) {
  ErrorStats vsRef = compare(n, gpu, [&](int64_t i) { return ref[i]; });
  ErrorStats vsCpu = compare(n, gpu, cpu);
  EXPECT_EQ(vsRef.nan, 0) << what << ": unwritten or NaN outputs";
  EXPECT_LT(vsRef.rel, bound) << what;
  EXPECT_LT(vsCpu.rel, bound) << what;
  std::printf("[gpu kernels] %s rel err vs f64 %.2e, vs CPU target %.2e\n", what.c_str(), vsRef.rel,
              vsCpu.rel);
}

inline std::string shapeName(const std::string &name, int64_t M, int64_t N, int64_t K) {
  return name + " " + std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
}

inline void fillBF16(HostTensor &t, float lo, float hi) {
  auto *p = t.as<uint16_t>();
  for (int64_t i = 0; i < (int64_t)t.bytes.size() / 2; ++i)
    p[i] = tlrt::f32ToBF16(uniform(lo, hi));
}


struct GemmShape {
  int64_t M, N, K;
};

// C[M, N] (f32) = A B^T for 16- and 8-bit operands, against f64 and the CPU
// target. `mnMajor` stores the operands as At[K, M] and Bt[K, N] (then M and
// N are TMA row pitches: multiples of 16 bytes), otherwise A[M, K], B[N, K].
inline void checkGemmF32Out(const std::string &name, tlrt::DType dt, bool mnMajor = false) {
  const GemmShape kMajorShapes[] = {{256, 256, 256}, {200, 136, 144}, {129, 257, 400}, {1000, 520, 1024}};
  const GemmShape mnMajorShapes[] = {{256, 256, 256}, {200, 136, 144}, {136, 264, 400}, {1000, 520, 1000}};
  int count = 0;
  for (const GemmShape &s : mnMajor ? mnMajorShapes : kMajorShapes) {
    if (stopEarly(count))
      break;
    SCOPED_TRACE(name + " M=" + std::to_string(s.M) + " N=" + std::to_string(s.N) +
                 " K=" + std::to_string(s.K));
    HostTensor A(dt, mnMajor ? std::vector<int64_t>{s.K, s.M} : std::vector<int64_t>{s.M, s.K});
    HostTensor B(dt, mnMajor ? std::vector<int64_t>{s.K, s.N} : std::vector<int64_t>{s.N, s.K});
    HostTensor C(tlrt::DType::Float32, {s.M, s.N});
    // Random operands in `dt`, and their exact values as floats.
    auto fill = [&](HostTensor &t, int64_t n, std::vector<float> &values) {
      values.resize(n);
      for (int64_t i = 0; i < n; ++i) {
        if (dt == tlrt::DType::Float16) {
          t.as<uint16_t>()[i] = tlrt::f32ToF16(uniform(-1, 1));
          values[i] = tlrt::f16ToF32(t.as<uint16_t>()[i]);
        } else if (dt == tlrt::DType::BFloat16) {
          t.as<uint16_t>()[i] = tlrt::f32ToBF16(uniform(-1, 1));
          values[i] = tlrt::bf16ToF32(t.as<uint16_t>()[i]);
        } else {
          t.bytes[i] = tlrt::f32ToE5M2(uniform(-4, 4));
          values[i] = tlrt::e5m2ToF32(t.bytes[i]);
        }
      }
    };
    std::vector<float> af, bf;
    fill(A, s.M * s.K, af);
    fill(B, s.N * s.K, bf);
    LaunchResult r = runBoth(name, {A, B, C}, {false, false, true});
    std::vector<double> ref(s.M * s.N);
    for (int64_t m = 0; m < s.M; ++m)
      for (int64_t n = 0; n < s.N; ++n) {
        double acc = 0;
        for (int64_t k = 0; k < s.K; ++k)
          acc += mnMajor ? double(af[k * s.M + m]) * bf[k * s.N + n]
                         : double(af[m * s.K + k]) * bf[n * s.K + k];
        ref[m * s.N + n] = acc;
      }
    const float *g = r.gpu[2].as<float>(), *c = r.cpu[2].as<float>();
    // f32 output: only the tensor cores' accumulation differs from f64 (FP8
    // products are summed with a narrower accumulator on Hopper).
    double bound = dt == tlrt::DType::Float8E5M2 ? 1e-2 : 1e-4;
    expectNear(
        shapeName(name, s.M, s.N, s.K), s.M * s.N, [&](int64_t i) { return g[i]; },
        [&](int64_t i) { return c[i]; }, ref, bound);
  }
}

} // namespace tlc::gputest
