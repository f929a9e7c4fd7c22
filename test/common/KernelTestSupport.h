// Helpers shared by the tests that run tlc-compiled kernels against plain C++
// references (test/ports, test/models/deepseek_v4): reproducible random
// inputs, error ratios, and f32 bit patterns for poisoned outputs.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace tlc_test {

/// n floats uniform in [lo, hi), reproducible from `seed`.
inline std::vector<float> uniform(size_t n, uint32_t seed, float lo = -1, float hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto &x : v)
    x = u(rng);
  return v;
}

/// Largest |got - want| / (atol + rtol * |want|) over the elements; <= 1 passes.
inline double worstRatio(const std::vector<float> &got, const std::vector<float> &want,
                         double atol, double rtol, size_t *where = nullptr) {
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double r = std::abs(double(got[i]) - want[i]) / (atol + rtol * std::abs(double(want[i])));
    if (!(r <= worst)) { // NaN counts as worst
      worst = std::isnan(r) ? INFINITY : r;
      if (where)
        *where = i;
    }
  }
  return worst;
}

/// The f32 with bit pattern `bits`, and the bit pattern of an f32.
inline float floatOfBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

} // namespace tlc_test
