// check-lowprecision-gpu: exhaustive conformance check of tlrt's host
// conversions against the GPU's cvt instructions, over all 2^32 f32 bit
// patterns: f32->bf16 (cvt.rn.bf16.f32), f32->f16 (cvt.rn.f16.f32),
// f32->e4m3 and f32->e5m2 (cvt.rn.satfinite.{e4m3,e5m2}x2.f32, sm_89+).
// e2m1 and ue8m0 need sm_100; f32ToE2M1 is instead compared over all 2^32
// inputs with a brute-force nearest-value reference on the host.
// Build/run: scripts/check-lowprecision-gpu.sh
#include "tlrt/LowPrecision.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

// Nearest of the 8 e2m1 magnitudes, ties to the even code, saturating;
// NaN -> 0x7 (the documented choice).
uint32_t e2m1Reference(float x) {
  static const double values[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  if (std::isnan(x))
    return 0x7;
  uint32_t sign = std::signbit(x) ? 8 : 0;
  double a = std::fabs(static_cast<double>(x));
  if (a >= 6.0) // saturate first: distances to 4 and 6 blur for huge a
    return sign | 7;
  uint32_t best = 0;
  for (uint32_t c = 1; c < 8; ++c) {
    double d = std::fabs(values[c] - a), bd = std::fabs(values[best] - a);
    if (d < bd || (d == bd && (c & 1) == 0))
      best = c;
  }
  return sign | best;
}

constexpr uint64_t kChunk = uint64_t(1) << 28;

__global__ void convert(uint32_t base, uint16_t *bf16, uint16_t *f16,
                        uint8_t *e4m3, uint8_t *e5m2) {
  uint64_t i = blockIdx.x * uint64_t(blockDim.x) + threadIdx.x;
  if (i >= kChunk)
    return;
  float x = __uint_as_float(base + static_cast<uint32_t>(i));
  uint16_t b, h, p4, p5;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(b) : "f"(x));
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x));
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(p4) : "f"(x), "f"(x));
  asm("cvt.rn.satfinite.e5m2x2.f32 %0, %1, %2;" : "=h"(p5) : "f"(x), "f"(x));
  bf16[i] = b;
  f16[i] = h;
  // Both halves convert x; a disagreement would show as a mismatch.
  e4m3[i] = (p4 & 0xFF) == (p4 >> 8) ? (p4 & 0xFF) : 0xEE;
  e5m2[i] = (p5 & 0xFF) == (p5 >> 8) ? (p5 & 0xFF) : 0xEE;
}

void check(cudaError_t e, const char *what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
    std::exit(2);
  }
}

} // namespace

int main() {
  uint16_t *dBf16, *dF16;
  uint8_t *dE4m3, *dE5m2;
  check(cudaMalloc(&dBf16, kChunk * 2), "cudaMalloc");
  check(cudaMalloc(&dF16, kChunk * 2), "cudaMalloc");
  check(cudaMalloc(&dE4m3, kChunk), "cudaMalloc");
  check(cudaMalloc(&dE5m2, kChunk), "cudaMalloc");
  std::vector<uint16_t> bf16(kChunk), f16(kChunk);
  std::vector<uint8_t> e4m3(kChunk), e5m2(kChunk);
  std::atomic<uint64_t> bad[5] = {};
  const char *names[5] = {"bf16", "f16", "e4m3", "e5m2", "e2m1 (host ref)"};
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());

  for (uint64_t chunk = 0; chunk < (uint64_t(1) << 32) / kChunk; ++chunk) {
    uint32_t base = static_cast<uint32_t>(chunk * kChunk);
    convert<<<kChunk / 256, 256>>>(base, dBf16, dF16, dE4m3, dE5m2);
    check(cudaGetLastError(), "convert launch");
    check(cudaMemcpy(bf16.data(), dBf16, kChunk * 2, cudaMemcpyDeviceToHost),
          "copy");
    check(cudaMemcpy(f16.data(), dF16, kChunk * 2, cudaMemcpyDeviceToHost),
          "copy");
    check(cudaMemcpy(e4m3.data(), dE4m3, kChunk, cudaMemcpyDeviceToHost),
          "copy");
    check(cudaMemcpy(e5m2.data(), dE5m2, kChunk, cudaMemcpyDeviceToHost),
          "copy");
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        uint64_t local[5] = {};
        for (uint64_t i = t; i < kChunk; i += threads) {
          uint32_t u = base + static_cast<uint32_t>(i);
          float x;
          std::memcpy(&x, &u, 4);
          uint32_t got[5] = {tlrt::f32ToBF16(x), tlrt::f32ToF16(x),
                             tlrt::f32ToE4M3(x), tlrt::f32ToE5M2(x),
                             tlrt::f32ToE2M1(x)};
          uint32_t want[5] = {bf16[i], f16[i], e4m3[i], e5m2[i],
                              e2m1Reference(x)};
          for (int k = 0; k < 5; ++k) {
            if (got[k] == want[k])
              continue;
            if (local[k]++ < 3)
              std::printf("MISMATCH %s x=0x%08x (%g): host 0x%x gpu 0x%x\n",
                          names[k], u, x, got[k], want[k]);
          }
        }
        for (int k = 0; k < 5; ++k)
          bad[k] += local[k];
      });
    }
    for (std::thread &th : pool)
      th.join();
  }
  int rc = 0;
  for (int k = 0; k < 5; ++k) {
    std::printf("%s: %llu mismatches over 2^32 inputs\n", names[k],
                static_cast<unsigned long long>(bad[k].load()));
    rc |= bad[k] != 0;
  }
  return rc;
}
