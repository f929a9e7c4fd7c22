// Shared by the CPU-target kernel tests: the kernels tlc compiled for the
// CPU at build time (TLC_CPU_KERNEL_DIR), loaded once per module.
#pragma once

#include "tlrt/Module.h"

#include <map>
#include <memory>
#include <string>

namespace tlc_test {

/// Kernel `name` of the CPU module `module` (<module>.manifest.json).
inline const tlrt::Kernel &kernel(const std::string &module, const std::string &name) {
  static std::map<std::string, std::unique_ptr<tlrt::Module>> modules;
  auto &m = modules[module];
  if (!m)
    m = std::make_unique<tlrt::Module>(
        tlrt::Module::load(std::string(TLC_CPU_KERNEL_DIR) + "/" + module + ".manifest.json"));
  return m->kernel(name);
}

} // namespace tlc_test
