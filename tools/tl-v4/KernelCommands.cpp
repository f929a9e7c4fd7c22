// KernelCommands: `tl-v4 build-kernels`, the device model's kernels for a
// checkpoint's shape (KernelSet.h), compiled with tlc.
#include "Commands.h"

#include "tlv4/Checkpoint.h"
#include "tlv4/KernelSet.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <sstream>
#include <stdexcept>

namespace tlv4::tool {
namespace {

struct BuildKernelsOptions {
  std::string checkpoint, config, shape, out, targets = "cpu", tlc, sources;
  int jobs = 2;
  bool list = false;
};

void runBuildKernels(const BuildKernelsOptions &o) {
  const int given = !o.checkpoint.empty() + !o.config.empty() + !o.shape.empty();
  if (given != 1)
    throw std::runtime_error("give one of --checkpoint, --config or --shape");
  const Config config = !o.checkpoint.empty() ? Checkpoint::open(o.checkpoint).config()
                        : !o.config.empty()   ? Config::fromFile(o.config)
                        : o.shape == "tiny"   ? Config::tiny()
                                              : Config::flash();
  if (o.list) {
    for (const KernelModule &m : kernelPlan(config))
      fmt::print("{}\n", m.line());
    return;
  }
  if (o.out.empty())
    throw std::runtime_error("--out is required");
  BuildOptions b;
  b.tlc = o.tlc.empty() ? TLV4_DEFAULT_TLC : o.tlc;
  b.sourceDir = o.sources.empty() ? TLV4_KERNEL_SOURCE_DIR : o.sources;
  b.outDir = o.out;
  b.jobs = o.jobs;
  b.verbose = true;
  b.targets.clear();
  std::stringstream ss(o.targets);
  for (std::string t; std::getline(ss, t, ',');) {
    if (t != "cpu" && t != "sm_90a" && t != "sm_100a")
      throw std::runtime_error(fmt::format("unknown target '{}' (cpu, sm_90a, sm_100a)", t));
    b.targets.push_back(t);
  }
  buildKernelSet(config, b);
}

} // namespace

void registerKernelCommands(CLI::App &app) {
  auto o = std::make_shared<BuildKernelsOptions>();
  CLI::App *cmd = app.add_subcommand(
      "build-kernels", "Compile the device model's kernels for a checkpoint's shape with tlc");
  cmd->add_option("--checkpoint", o->checkpoint, "the shape of this checkpoint's config");
  cmd->add_option("--config", o->config, "the shape of this config.json");
  cmd->add_option("--shape", o->shape, "a built-in shape")->check(CLI::IsMember({"tiny", "flash"}));
  cmd->add_option("--out", o->out, "the kernel set's directory");
  cmd->add_option("--target", o->targets, "comma-separated: cpu, sm_90a, sm_100a (default cpu)");
  cmd->add_option("--tlc", o->tlc, "the tlc binary (default: the one built with tl-v4)");
  cmd->add_option("--sources", o->sources, "models/deepseek_v4/kernels (default: this source tree's)");
  cmd->add_option("-j,--jobs", o->jobs, "parallel tlc runs (default 2)")->check(CLI::Range(1, 256));
  cmd->add_flag("--list", o->list, "print the plan (module, source, -D values) and stop");
  cmd->callback([o] { runBuildKernels(*o); });
}

} // namespace tlv4::tool
