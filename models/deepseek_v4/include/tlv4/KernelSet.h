// KernelSet: the tlc-compiled kernels the device model runs, for one model
// shape. Every kernel of models/deepseek_v4/kernels takes its sizes (hidden
// width, heads, experts, ...) as compile-time parameters, so a checkpoint's
// Config decides one "plan": the list of modules, each a .tl source with its
// -D values. `buildKernelSet` runs tlc over the plan (at build time for the
// tiny and V4-Flash shapes, or by `tl-v4 build-kernels` for any other); the
// set's directory holds <target>/<module>.{ptx,so} with manifests and the
// plan it was built from (plan.txt). Opening a set checks that plan against
// the checkpoint's and names the first module that differs.
#pragma once

#include "tlv4/Config.h"
#include "tlrt/Module.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tlv4 {

struct KernelModule {
  std::string name;                 // e.g. "norm_q"
  std::string source;               // file under models/deepseek_v4/kernels, e.g. "norm.tl"
  std::vector<std::string> defines; // NAME=VALUE, passed to tlc as -D
  std::string line() const;         // "norm_q norm.tl D=128 G=4 ..."
};

// The modules the device model needs for `config`. Throws for shapes the
// kernels do not support (naming the limit).
std::vector<KernelModule> kernelPlan(const Config &config);

struct BuildOptions {
  std::string tlc;        // the tlc binary
  std::string sourceDir;  // models/deepseek_v4/kernels
  std::string outDir;     // the set's directory
  std::vector<std::string> targets = {"cpu"};
  int jobs = 2;
  bool verbose = false;
};
// Compiles every module of kernelPlan(config) for each target (skipping
// outputs newer than their source and tlc) and writes plan.txt. Throws with
// tlc's message on the first failure.
void buildKernelSet(const Config &config, const BuildOptions &options);

class KernelSet {
public:
  // Loads <dir>/<target>/*.manifest.json for the modules of kernelPlan(config)
  // after checking <dir>/plan.txt. `target` is "cpu", "sm_90a" or "sm_100a".
  static std::unique_ptr<KernelSet> open(const std::string &dir, const std::string &target,
                                         const Config &config);

  const tlrt::Kernel &kernel(const std::string &module, const std::string &name) const;
  bool gpu() const { return target_ != "cpu"; }
  const std::string &target() const { return target_; }
  const std::string &dir() const { return dir_; }

private:
  std::string dir_, target_;
  std::map<std::string, std::unique_ptr<tlrt::Module>> modules_;
};

// The directory of the kernel sets built with this tlv4 (CMake), and the
// names of the sets built there ("tiny", "flash").
std::string builtKernelSetDir(const std::string &name);

} // namespace tlv4
