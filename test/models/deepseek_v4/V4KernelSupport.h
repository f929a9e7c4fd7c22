// Shared by the V4 kernel tests: the CPU modules tlc compiled at build time
// (TLV4_TEST_KERNEL_DIR), loaded once each, bf16 / e4m3 conversions, random
// inputs and error ratios. The oracle is the reference (tlv4/Reference*.h).
#pragma once

#include "KernelTestSupport.h"
#include "tlrt/Gpu.h"
#include "tlrt/LowPrecision.h"
#include "tlrt/Module.h"
#include "tlv4/ReferenceOps.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace tlv4_test {

/// Where the kernels run. By default the CPU modules tlc compiled at build time
/// (TLV4_TEST_KERNEL_DIR). With TLV4_GPU_KERNELS=<dir> set (scripts/gpu-check.sh), the same
/// tests load <dir>/<module>.manifest.json, the PTX build of the same variant, and run it on
/// the GPU: every tensor is copied to the device, the kernel launched, and every tensor
/// copied back (outputs and in-place state alike), so each check runs unchanged on the GPU.
inline const char *gpuKernelDir() { return std::getenv("TLV4_GPU_KERNELS"); }

/// A kernel of a module, launched with host tensors on the CPU target or the GPU.
class Launcher {
public:
  Launcher(const tlrt::Kernel &k, bool gpu) : k_(k), gpu_(gpu) {}
  void launch(const std::vector<tlrt::Arg> &host) const {
    if (!gpu_) {
      k_.launch(host);
      return;
    }
    std::vector<tlrt::DeviceBuffer> bufs;
    std::vector<tlrt::Arg> args;
    bufs.reserve(host.size());
    for (const tlrt::Arg &a : host) {
      if (!a.isTensor()) {
        args.push_back(a);
        continue;
      }
      const tlrt::Tensor &t = a.tensor();
      const size_t n = size_t(t.nbytes());
      bufs.emplace_back(std::max<size_t>(n, 16));
      bufs.back().copyFromHost(t.data, n);
      args.push_back(tlrt::Tensor(bufs.back().data(), t.dtype, t.shape, tlrt::Place::Device));
    }
    tlrt::Stream stream;
    k_.launch(args, &stream);
    stream.synchronize();
    size_t b = 0;
    for (const tlrt::Arg &a : host)
      if (a.isTensor())
        bufs[b++].copyToHost(a.tensor().data, size_t(a.tensor().nbytes()));
  }

private:
  const tlrt::Kernel &k_;
  bool gpu_;
};

/// Whether `module` can run here: always on the CPU; on the GPU when the bundle holds its
/// PTX build (small CPU test shapes below the tensor cores' tile minimum have none). Tests that
/// loop over variants skip the missing ones and say so.
inline bool available(const std::string &module) {
  const char *gpu = gpuKernelDir();
  if (!gpu)
    return true;
  if (std::ifstream(std::string(gpu) + "/" + module + ".manifest.json").good())
    return true;
  std::printf("[ note ] %s: no GPU build of this test shape, skipped\n", module.c_str());
  return false;
}

/// Kernel `name` of module `module` (<module>.manifest.json), CPU or GPU as above.
inline Launcher kernel(const std::string &module, const std::string &name) {
  static std::map<std::string, std::unique_ptr<tlrt::Module>> modules;
  const char *gpu = gpuKernelDir();
  auto &m = modules[module];
  if (!m) {
    const std::string path =
        std::string(gpu ? gpu : TLV4_TEST_KERNEL_DIR) + "/" + module + ".manifest.json";
    // A small CPU test shape that tlc cannot build for the GPU (tiles below the tensor
    // cores' minimum): the test fails with this message on the GPU run, which lists them.
    if (gpu && !std::ifstream(path).good())
      throw std::runtime_error("no GPU build of test module '" + module +
                               "' (scripts/gpu-v4.sh bundle could not compile it)");
    m = std::make_unique<tlrt::Module>(tlrt::Module::load(path));
  }
  return Launcher(m->kernel(name), gpu != nullptr);
}

using tlc_test::uniform;
using tlc_test::worstRatio;

/// 0 .. n-1 in a random order drawn from `rng` (distinct experts, shuffled ramps).
template <typename Rng> std::vector<int32_t> shuffledIota(int64_t n, Rng &rng) {
  std::vector<int32_t> v(n);
  for (int64_t i = 0; i < n; ++i)
    v[i] = int32_t(i);
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

/// The RoPE frequencies of V4's compressed layers (compress_rope_theta 160000 with YaRN,
/// factor 16) over `ropeDim` dims, YaRN's original context `originalMax` (65536 in V4-Flash).
inline std::vector<float> compressedRopeFreqs(int64_t ropeDim, int64_t originalMax = 65536) {
  tlv4::ref::RopeParams p;
  p.theta = 160000.0;
  p.ropeDim = ropeDim;
  p.yarn = true;
  p.factor = 16.0;
  p.originalMaxPositions = originalMax;
  return tlv4::ref::ropeFrequencies(p);
}

/// The reference's f32 RoPE table rows [0, positions) of `freqs`, pair-major per position.
inline void ropeTable(const std::vector<float> &freqs, int64_t positions, std::vector<float> &cos,
                      std::vector<float> &sin) {
  const int64_t half = int64_t(freqs.size());
  cos.resize(positions * half);
  sin.resize(positions * half);
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t i = 0; i < half; ++i) {
      tlv4::ref::RopeCosSin t = tlv4::ref::ropeCosSin(freqs, p, i);
      cos[p * half + i] = t.cos;
      sin[p * half + i] = t.sin;
    }
}

/// bf16 bits of each value (round to nearest even) and back.
inline std::vector<uint16_t> toBf16(const std::vector<float> &v) {
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    out[i] = tlrt::f32ToBF16(v[i]);
  return out;
}
inline std::vector<float> fromBf16(const std::vector<uint16_t> &v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    out[i] = tlrt::bf16ToF32(v[i]);
  return out;
}
/// Each value rounded to bf16 (what a bf16 tensor of it holds).
inline std::vector<float> roundBf16(std::vector<float> v) {
  for (auto &x : v)
    x = tlrt::bf16ToF32(tlrt::f32ToBF16(x));
  return v;
}

} // namespace tlv4_test
