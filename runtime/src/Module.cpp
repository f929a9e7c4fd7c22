// Module loading and kernel launch for GPU (driver API) and CPU (dlopen)
// targets behind one API.
#include "tlrt/Module.h"

#include "CudaDriver.h"
#include "tlrt/Error.h"
#include "tlrt/Tma.h"

#include <fmt/format.h>

#include <atomic>

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

namespace tlrt {

using CpuEntry = void (*)(void **, int64_t, int64_t);

struct Kernel::Impl {
  void *function = nullptr; // CUfunction
  CpuEntry cpuEntry = nullptr;
  int device = 0;
  Target target = Target::CPU;
  // Resident clusters of a persistent cluster kernel (asked once).
  std::atomic<int64_t> residentClusters{0};
};

struct Module::Impl {
  Manifest manifest;
  int device = 0;
  void *cuModule = nullptr; // CUmodule
  void *soHandle = nullptr;
  std::vector<std::unique_ptr<Kernel::Impl>> kernelImpls;
  std::vector<std::unique_ptr<Kernel>> kernels;

  ~Impl() {
#ifdef TLRT_HAVE_CUDA_H
    if (cuModule) {
      try {
        const auto &d = cuda::driver();
        d.ctxSetCurrent(static_cast<CUcontext>(Context::get(device).handle()));
        d.moduleUnload(static_cast<CUmodule>(cuModule));
      } catch (...) {
      }
    }
#endif
    if (soHandle)
      dlclose(soHandle);
  }
};

Module::Module(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Module::Module(Module &&) noexcept = default;
Module &Module::operator=(Module &&) noexcept = default;
Module::~Module() = default;

const Manifest &Module::manifest() const { return impl_->manifest; }

bool Module::hasKernel(const std::string &name) const {
  return impl_->manifest.findKernel(name) != nullptr;
}

const Kernel &Module::kernel(const std::string &name) const {
  for (const auto &k : impl_->kernels)
    if (k->name() == name)
      return *k;
  std::string names;
  for (const auto &k : impl_->kernels)
    names += (names.empty() ? "" : ", ") + k->name();
  throw Error(fmt::format("{}: no kernel '{}' (kernels: {})", impl_->manifest.path, name, names));
}

void Module::launchSequence(const std::map<std::string, Arg> &args,
                            const Stream *stream) const {
  const Manifest &m = impl_->manifest;
  if (m.sequence.empty())
    throw Error(fmt::format("{}: this module has no kernel sequence", m.path));
  std::vector<std::pair<const Kernel *, std::vector<Arg>>> steps;
  for (size_t s = 0; s < m.sequence.size(); ++s) {
    const Kernel &k = kernel(m.sequence[s]);
    std::vector<Arg> kargs;
    for (const ParamSpec &p : k.spec().params) {
      auto it = args.find(p.name);
      if (it == args.end())
        throw Error(fmt::format("{}: sequence step {} (kernel '{}') needs argument '{}'", m.path,
                                s, k.name(), p.name));
      kargs.push_back(it->second);
    }
    k.validate(kargs);
    steps.emplace_back(&k, std::move(kargs));
  }
  for (auto &[k, kargs] : steps)
    k->launch(kargs, stream);
}

int Module::cpuThreads() {
  if (const char *env = std::getenv("TLRT_CPU_THREADS")) {
    char *end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (*env == '\0' || *end != '\0' || n < 1 || n > 1024)
      throw Error(fmt::format("TLRT_CPU_THREADS must be an integer from 1 to 1024, got '{}'", env));
    return static_cast<int>(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(hw, 1u, 8u));
}

namespace {

std::string readFile(const std::string &path, const std::string &manifestPath) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(fmt::format("{}: cannot open module '{}'", manifestPath, path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

#ifdef TLRT_HAVE_CUDA_H
void loadGpu(Module::Impl &m) {
  const Manifest &man = m.manifest;
  Context &ctx = Context::get(m.device);
  auto cc = ctx.computeCapability();
  std::pair<int, int> want = man.target == Target::SM90a ? std::make_pair(9, 0)
                                                         : std::make_pair(10, 0);
  if (cc != want)
    throw Error(fmt::format("{}: module targets {} but device {} ({}) has compute capability "
                            "{}.{}",
                            man.path, targetName(man.target), m.device, ctx.deviceName(),
                            cc.first, cc.second));
  ctx.makeCurrent();
  std::string image = readFile(man.modulePath, man.path);
  image.push_back('\0'); // PTX is loaded as a NUL-terminated string
  std::vector<char> log(16384, '\0');
  CUjit_option opts[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *vals[] = {log.data(), reinterpret_cast<void *>(log.size() - 1)};
  CUmodule mod;
  const auto &d = cuda::driver();
  CUresult r = d.moduleLoadDataEx(&mod, image.data(), 2, opts, vals);
  if (r != CUDA_SUCCESS) {
    std::string jit(log.data());
    throw Error(fmt::format("{}: loading '{}' failed: cuModuleLoadDataEx: {}{}{}", man.path,
                            man.modulePath, cuda::errorText(r), jit.empty() ? "" : "\n", jit));
  }
  m.cuModule = mod;
  for (const KernelSpec &k : man.kernels) {
    auto ki = std::make_unique<Kernel::Impl>();
    ki->device = m.device;
    ki->target = man.target;
    CUfunction fn;
    cuda::check(d.moduleGetFunction(&fn, mod, k.entry.c_str()),
                fmt::format("kernel '{}': entry '{}' not found in '{}'", k.name, k.entry,
                            man.modulePath));
    if (k.sharedBytes > 48 * 1024)
      cuda::check(d.funcSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                     static_cast<int>(k.sharedBytes)),
                  fmt::format("kernel '{}': raising the dynamic shared memory limit to {} bytes",
                              k.name, k.sharedBytes));
    if (k.cluster[0] * k.cluster[1] * k.cluster[2] > 8)
      cuda::check(d.funcSetAttribute(fn, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1),
                  fmt::format("kernel '{}': allowing a non-portable cluster size", k.name));
    ki->function = fn;
    m.kernelImpls.push_back(std::move(ki));
  }
}
#endif

void loadCpu(Module::Impl &m) {
  const Manifest &man = m.manifest;
  dlerror();
  void *h = dlopen(man.modulePath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror();
    throw Error(fmt::format("{}: cannot load cpu module '{}': {}", man.path, man.modulePath,
                            e ? e : "unknown error"));
  }
  m.soHandle = h;
  for (const KernelSpec &k : man.kernels) {
    auto ki = std::make_unique<Kernel::Impl>();
    dlerror();
    void *sym = dlsym(h, k.entry.c_str());
    if (!sym)
      throw Error(fmt::format("kernel '{}': entry '{}' not found in '{}'", k.name, k.entry,
                              man.modulePath));
    ki->cpuEntry = reinterpret_cast<CpuEntry>(sym);
    m.kernelImpls.push_back(std::move(ki));
  }
}

} // namespace

Module Module::load(const std::string &manifestPath, int device) {
  auto impl = std::make_unique<Impl>();
  impl->manifest = Manifest::load(manifestPath);
  impl->device = device;
  if (impl->manifest.target == Target::CPU) {
    loadCpu(*impl);
  } else {
#ifdef TLRT_HAVE_CUDA_H
    std::string why;
    if (!cudaAvailable(&why))
      throw Error(fmt::format("{}: cannot load a {} module: {}", manifestPath,
                              targetName(impl->manifest.target), why));
    loadGpu(*impl);
#else
    throw Error(fmt::format("{}: cannot load a {} module: {}", manifestPath,
                            targetName(impl->manifest.target), cuda::unavailableReason()));
#endif
  }
  for (size_t i = 0; i < impl->manifest.kernels.size(); ++i)
    impl->kernels.push_back(std::unique_ptr<Kernel>(
        new Kernel(impl->manifest.kernels[i], impl->kernelImpls[i].get())));
  return Module(std::move(impl));
}

Target Kernel::target() const { return impl_->target; }

Place Kernel::place() const {
  return impl_->target == Target::CPU ? Place::Host : Place::Device;
}

namespace {
std::vector<TmaParams> tmaParamsFor(const KernelSpec &k, const std::vector<Arg> &args) {
  std::vector<TmaParams> out;
  for (size_t i = 0; i < k.tma.size(); ++i)
    out.push_back(computeTmaParams(k, static_cast<int>(i), args[k.tma[i].param].tensor()));
  return out;
}
} // namespace

namespace {
bool emptyGrid(const std::array<int64_t, 3> &g) { return g[0] == 0 || g[1] == 0 || g[2] == 0; }

#ifdef TLRT_HAVE_CUDA_H
// `attr` must outlive `cfg` (it holds the cluster shape).
void fillLaunchConfig(CUlaunchConfig &cfg, CUlaunchAttribute &attr, const KernelSpec &k,
                      const std::array<int64_t, 3> &g, CUstream stream) {
  cfg = CUlaunchConfig{};
  cfg.gridDimX = static_cast<unsigned>(g[0]);
  cfg.gridDimY = static_cast<unsigned>(g[1]);
  cfg.gridDimZ = static_cast<unsigned>(g[2]);
  cfg.blockDimX = static_cast<unsigned>(k.threads[0]);
  cfg.blockDimY = static_cast<unsigned>(k.threads[1]);
  cfg.blockDimZ = static_cast<unsigned>(k.threads[2]);
  cfg.sharedMemBytes = static_cast<unsigned>(k.sharedBytes);
  cfg.hStream = stream;
  if (k.hasCluster()) {
    attr = CUlaunchAttribute{};
    attr.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attr.value.clusterDim.x = static_cast<unsigned>(k.cluster[0]);
    attr.value.clusterDim.y = static_cast<unsigned>(k.cluster[1]);
    attr.value.clusterDim.z = static_cast<unsigned>(k.cluster[2]);
    cfg.attrs = &attr;
    cfg.numAttrs = 1;
  }
}

// Clusters of `k` that fit on the device at once (the driver knows the GPC
// layout and the kernel's resources); `fallback` when the driver cannot say.
int64_t maxActiveClusters(const KernelSpec &k, CUfunction f, int64_t gridX, int64_t fallback) {
  const auto &d = cuda::driver();
  CUlaunchConfig cfg;
  CUlaunchAttribute attr;
  fillLaunchConfig(cfg, attr, k, {gridX, 1, 1}, nullptr);
  int n = 0;
  if (!d.occupancyMaxActiveClusters || d.occupancyMaxActiveClusters(&n, f, &cfg) != CUDA_SUCCESS ||
      n < 1)
    return fallback;
  return n;
}
#endif
} // namespace

SymbolValues Kernel::validate(const std::vector<Arg> &args) const {
  SymbolValues syms = validateArgs(spec_, args, place());
  // An empty grid launches nothing, so its (possibly empty) tensors need no map.
  if (place() == Place::Device && !emptyGrid(evalGrid(spec_, args)))
    tmaParamsFor(spec_, args);
  return syms;
}

std::array<int64_t, 3> Kernel::grid(const std::vector<Arg> &args) const {
  validateArgs(spec_, args, place());
  return evalGrid(spec_, args);
}

void Kernel::launch(const std::vector<Arg> &args, const Stream *stream) const {
  validateArgs(spec_, args, place());
  std::array<int64_t, 3> g = evalGrid(spec_, args);

  if (impl_->cpuEntry) {
    PackedArgs packed = packArgs(spec_, args);
    int64_t total = checkedMul(checkedMul(g[0], g[1]), g[2]);
    if (total == 0)
      return;
    void **ptrs = packed.pointers();
    int64_t nthreads = std::min<int64_t>(Module::cpuThreads(), total);
    CpuEntry entry = impl_->cpuEntry;
    std::vector<std::thread> workers;
    int64_t chunk = total / nthreads, extra = total % nthreads;
    int64_t begin = 0;
    std::pair<int64_t, int64_t> first{0, 0};
    for (int64_t t = 0; t < nthreads; ++t) {
      int64_t end = begin + chunk + (t < extra ? 1 : 0);
      if (t == 0) {
        first = {begin, end};
      } else {
        try {
          workers.emplace_back(entry, ptrs, begin, end);
        } catch (const std::system_error &) {
          entry(ptrs, begin, end); // no thread available: run it here
        }
      }
      begin = end;
    }
    entry(ptrs, first.first, first.second);
    for (auto &w : workers)
      w.join();
    return;
  }

#ifndef TLRT_HAVE_CUDA_H
  (void)stream;
  throw Error(fmt::format("kernel '{}': {}", spec_.name, cuda::unavailableReason()));
#else
  // An empty grid (say, an expert with no tokens) launches nothing; its empty
  // tensors could not be described by a tensor map anyway.
  if (emptyGrid(g))
    return;
  std::vector<TmaParams> tma = tmaParamsFor(spec_, args);
  // A persistent kernel walks its logical grid itself (in groups of
  // cluster-size x tiles), so only directly launched grids must divide.
  for (int i = 0; i < 3 && !spec_.persistent; ++i)
    if (g[i] % spec_.cluster[i] != 0)
      throw Error(fmt::format("kernel '{}': grid {} = {} is not a multiple of the cluster size {}",
                              spec_.name, "xyz"[i], g[i], spec_.cluster[i]));
  if (stream && stream->device() != impl_->device)
    throw Error(fmt::format("kernel '{}': the stream belongs to device {}, the module to device {}",
                            spec_.name, stream->device(), impl_->device));
  const auto &d = cuda::driver();
  Context::get(impl_->device).makeCurrent();
  PackedArgs packed = packArgs(spec_, args);
  for (size_t i = 0; i < tma.size(); ++i) {
    const TmaParams &t = tma[i];
    alignas(64) CUtensorMap map;
    cuda::check(d.tensorMapEncodeTiled(&map, static_cast<CUtensorMapDataType>(t.dataType), t.rank,
                                       t.globalAddress, t.globalDim.data(),
                                       t.globalStrides.data(), t.boxDim.data(),
                                       t.elementStrides.data(),
                                       static_cast<CUtensorMapInterleave>(t.interleave),
                                       static_cast<CUtensorMapSwizzle>(t.swizzle),
                                       static_cast<CUtensorMapL2promotion>(t.l2Promotion),
                                       static_cast<CUtensorMapFloatOOBfill>(t.oobFill)),
                fmt::format("kernel '{}', parameter '{}' (tensor map {}): cuTensorMapEncodeTiled",
                            spec_.name, spec_.params[spec_.tma[i].param].name, i));
    static_assert(sizeof(CUtensorMap) == 128, "CUtensorMap is 128 bytes");
    packed.append(fmt::format("tensor map {}", i), &map, sizeof(map), 64);
  }
  if (spec_.persistent) {
    // One block per SM at most; the kernel walks the logical grid itself.
    // With clusters of cx blocks along x: as many clusters as can be resident
    // at once, each walking groups of cx adjacent x tiles (docs/abi.md).
    int64_t cx = spec_.cluster[0];
    int64_t total = checkedMul(checkedMul((g[0] + cx - 1) / cx, g[1]), g[2]);
    int64_t sms = Context::get(impl_->device).multiprocessorCount();
    int64_t resident = sms / cx;
    if (cx > 1) {
      int64_t known = impl_->residentClusters.load();
      if (!known) {
        known = maxActiveClusters(spec_, static_cast<CUfunction>(impl_->function), sms / cx * cx,
                                  resident);
        impl_->residentClusters.store(known);
      }
      resident = std::min(resident, known);
    }
    g = {std::max<int64_t>(1, std::min(total, resident)) * cx, 1, 1};
  }
  CUlaunchConfig cfg;
  CUlaunchAttribute attr;
  fillLaunchConfig(cfg, attr, spec_, g, stream ? static_cast<CUstream>(stream->handle()) : nullptr);
  cuda::check(d.launchKernelEx(&cfg, static_cast<CUfunction>(impl_->function), packed.pointers(),
                               nullptr),
              fmt::format("kernel '{}': cuLaunchKernelEx (grid [{}, {}, {}], block [{}, {}, {}], "
                          "{} bytes shared)",
                          spec_.name, g[0], g[1], g[2], spec_.threads[0], spec_.threads[1],
                          spec_.threads[2], spec_.sharedBytes));
#endif
}



} // namespace tlrt
