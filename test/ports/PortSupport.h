// Shared by the port tests: the CPU modules tlc compiled at build time
// (TLC_PORT_KERNEL_DIR), loaded once each, and small helpers for inputs and
// comparisons.
#pragma once

#include "KernelTestSupport.h"
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

using tlc_test::uniform;
using tlc_test::worstRatio;

} // namespace tlc_port
