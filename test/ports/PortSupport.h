// Shared by the port tests: the CPU modules tlc compiled at build time
// (TLC_PORT_KERNEL_DIR), loaded once each, and small helpers for inputs and
// comparisons.
#pragma once

#include "tlrt/Module.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace tlc_port {

/// Kernel `name` of the CPU module `module` (<module>.manifest.json).
inline const tlrt::Kernel &kernel(const std::string &module, const std::string &name) {
  static std::map<std::string, std::unique_ptr<tlrt::Module>> modules;
  auto &m = modules[module];
  if (!m)
    m = std::make_unique<tlrt::Module>(
        tlrt::Module::load(std::string(TLC_PORT_KERNEL_DIR) + "/" + module + ".manifest.json"));
  return m->kernel(name);
}

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

} // namespace tlc_port
