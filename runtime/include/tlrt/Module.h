// Module and Kernel: load what a tlc back end produced (manifest + code)
// and launch its kernels. One API for every target: a GPU manifest loads
// PTX/cubin into the device's primary context and launches with the driver;
// a "cpu" manifest dlopens the .so and runs blocks on host threads.
//
//   tlrt::Module m = tlrt::Module::load("build/k.manifest.json");
//   m.kernel("vadd").launch({a, b, c, 2.0f});       // tensors and scalars
//
// Arguments are validated against the manifest before anything runs; a bad
// one throws tlrt::Error naming the kernel and parameter and nothing is
// launched. GPU launches are asynchronous on the given stream (the legacy
// default stream when null); CPU launches run to completion before
// returning (the stream is ignored).
#pragma once

#include "tlrt/Args.h"
#include "tlrt/Error.h"
#include "tlrt/Gpu.h"
#include "tlrt/Manifest.h"

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tlrt {

class Module;

class Kernel {
public:
  const KernelSpec &spec() const { return spec_; }
  const std::string &name() const { return spec_.name; }
  Target target() const;
  // Where tensor arguments must live: Host for cpu kernels, Device otherwise.
  Place place() const;

  // Validates `args` (and, on GPU targets, their tensor maps) without
  // launching; returns the bound dimension symbols.
  SymbolValues validate(const std::vector<Arg> &args) const;
  // The grid these arguments launch.
  std::array<int64_t, 3> grid(const std::vector<Arg> &args) const;
  void launch(const std::vector<Arg> &args, const Stream *stream = nullptr) const;

  struct Impl; // opaque

private:
  friend class Module;
  Kernel(const KernelSpec &spec, Impl *impl) : spec_(spec), impl_(impl) {}
  const KernelSpec &spec_;
  Impl *impl_; // owned by the module
};

class Module {
public:
  // Loads the manifest and the code it names. `device` selects the GPU for
  // sm_* targets (ignored for cpu).
  static Module load(const std::string &manifestPath, int device = 0);

  Module(Module &&) noexcept;
  Module &operator=(Module &&) noexcept;
  ~Module();

  const Manifest &manifest() const;
  Target target() const { return manifest().target; }
  bool hasKernel(const std::string &name) const;
  // Throws Error("<manifest>: no kernel 'x' (kernels: a, b)").
  const Kernel &kernel(const std::string &name) const;

  // Launches the manifest's "sequence" in order on `stream` (a multi-kernel
  // operator). Arguments are by parameter name and shared between the
  // kernels (an intermediate tensor passed to two kernels under one name);
  // every kernel's arguments are validated before the first launch. Throws
  // when the module has no sequence or a kernel's parameter is missing.
  void launchSequence(const std::map<std::string, Arg> &args,
                      const Stream *stream = nullptr) const;

  // CPU executor threads used by the next launch: TLRT_CPU_THREADS when set
  // (a positive integer), else min(hardware threads, 8).
  static int cpuThreads();

  struct Impl;

private:
  explicit Module(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace tlrt
