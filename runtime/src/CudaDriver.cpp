// Run-time loading of the CUDA driver API.
#include "CudaDriver.h"

#include "tlrt/Error.h"

#include <fmt/format.h>

#ifdef TLRT_HAVE_CUDA_H
#include <dlfcn.h>
#endif

namespace tlrt::cuda {

#ifndef TLRT_HAVE_CUDA_H

std::string unavailableReason() {
  return "libtlrt was built without cuda.h (set TLRT_CUDA_INCLUDE_DIR), so it has no GPU "
         "support";
}

#else

namespace {

struct Loaded {
  Driver d{};
  std::string error; // empty when usable
};

// cuGetProcAddress_v2 (CUDA >= 12.0).
using GetProc = CUresult (*)(const char *, void **, int, cuuint64_t,
                             CUdriverProcAddressQueryResult *);

Loaded load() {
  Loaded l;
  void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror();
    l.error = fmt::format("no CUDA driver: dlopen(libcuda.so.1) failed: {}", e ? e : "unknown");
    return l;
  }
  auto getProc = reinterpret_cast<GetProc>(dlsym(h, "cuGetProcAddress_v2"));
  // The API version whose signatures the Driver fields use. Every function
  // used here has had its current signature since CUDA 12.0.
  constexpr int kApiVersion = 12000;
  struct Entry {
    const char *name;     // base name for cuGetProcAddress
    const char *fallback; // exported symbol for dlsym
    void **slot;
  };
  Driver &d = l.d;
#define TLRT_ENTRY(field, base, sym) {base, sym, reinterpret_cast<void **>(&d.field)}
  const Entry entries[] = {
      TLRT_ENTRY(init, "cuInit", "cuInit"),
      TLRT_ENTRY(getErrorName, "cuGetErrorName", "cuGetErrorName"),
      TLRT_ENTRY(getErrorString, "cuGetErrorString", "cuGetErrorString"),
      TLRT_ENTRY(deviceGetCount, "cuDeviceGetCount", "cuDeviceGetCount"),
      TLRT_ENTRY(deviceGet, "cuDeviceGet", "cuDeviceGet"),
      TLRT_ENTRY(deviceGetName, "cuDeviceGetName", "cuDeviceGetName"),
      TLRT_ENTRY(deviceGetAttribute, "cuDeviceGetAttribute", "cuDeviceGetAttribute"),
      TLRT_ENTRY(devicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRetain"),
      TLRT_ENTRY(ctxSetCurrent, "cuCtxSetCurrent", "cuCtxSetCurrent"),
      TLRT_ENTRY(ctxSynchronize, "cuCtxSynchronize", "cuCtxSynchronize"),
      TLRT_ENTRY(moduleLoadDataEx, "cuModuleLoadDataEx", "cuModuleLoadDataEx"),
      TLRT_ENTRY(moduleUnload, "cuModuleUnload", "cuModuleUnload"),
      TLRT_ENTRY(moduleGetFunction, "cuModuleGetFunction", "cuModuleGetFunction"),
      TLRT_ENTRY(funcSetAttribute, "cuFuncSetAttribute", "cuFuncSetAttribute"),
      TLRT_ENTRY(funcGetAttribute, "cuFuncGetAttribute", "cuFuncGetAttribute"),
      TLRT_ENTRY(launchKernelEx, "cuLaunchKernelEx", "cuLaunchKernelEx"),
      TLRT_ENTRY(occupancyMaxActiveClusters, "cuOccupancyMaxActiveClusters",
                 "cuOccupancyMaxActiveClusters"),
      TLRT_ENTRY(memAlloc, "cuMemAlloc", "cuMemAlloc_v2"),
      TLRT_ENTRY(memFree, "cuMemFree", "cuMemFree_v2"),
      TLRT_ENTRY(memcpyHtoD, "cuMemcpyHtoD", "cuMemcpyHtoD_v2"),
      TLRT_ENTRY(memcpyDtoH, "cuMemcpyDtoH", "cuMemcpyDtoH_v2"),
      TLRT_ENTRY(memsetD8, "cuMemsetD8", "cuMemsetD8_v2"),
      TLRT_ENTRY(streamCreate, "cuStreamCreate", "cuStreamCreate"),
      TLRT_ENTRY(streamDestroy, "cuStreamDestroy", "cuStreamDestroy_v2"),
      TLRT_ENTRY(streamSynchronize, "cuStreamSynchronize", "cuStreamSynchronize"),
      TLRT_ENTRY(eventCreate, "cuEventCreate", "cuEventCreate"),
      TLRT_ENTRY(eventDestroy, "cuEventDestroy", "cuEventDestroy_v2"),
      TLRT_ENTRY(eventRecord, "cuEventRecord", "cuEventRecord"),
      TLRT_ENTRY(eventSynchronize, "cuEventSynchronize", "cuEventSynchronize"),
      TLRT_ENTRY(eventElapsedTime, "cuEventElapsedTime", "cuEventElapsedTime"),
      TLRT_ENTRY(streamBeginCapture, "cuStreamBeginCapture", "cuStreamBeginCapture_v2"),
      TLRT_ENTRY(streamEndCapture, "cuStreamEndCapture", "cuStreamEndCapture"),
      TLRT_ENTRY(graphInstantiateWithFlags, "cuGraphInstantiateWithFlags",
                 "cuGraphInstantiateWithFlags"),
      TLRT_ENTRY(graphLaunch, "cuGraphLaunch", "cuGraphLaunch"),
      TLRT_ENTRY(graphDestroy, "cuGraphDestroy", "cuGraphDestroy"),
      TLRT_ENTRY(graphExecDestroy, "cuGraphExecDestroy", "cuGraphExecDestroy"),
      TLRT_ENTRY(tensorMapEncodeTiled, "cuTensorMapEncodeTiled", "cuTensorMapEncodeTiled"),
  };
#undef TLRT_ENTRY
  for (const Entry &e : entries) {
    *e.slot = nullptr;
    if (getProc) {
      CUdriverProcAddressQueryResult status{};
      if (getProc(e.name, e.slot, kApiVersion, CU_GET_PROC_ADDRESS_DEFAULT, &status) !=
              CUDA_SUCCESS ||
          status != CU_GET_PROC_ADDRESS_SUCCESS)
        *e.slot = nullptr;
    }
    if (!*e.slot)
      *e.slot = dlsym(h, e.fallback);
    if (!*e.slot) {
      l.error = fmt::format("no usable CUDA driver: libcuda.so.1 lacks {} (driver too old?)",
                            e.name);
      return l;
    }
  }
  CUresult r = d.init(0);
  if (r != CUDA_SUCCESS) {
    const char *name = nullptr;
    d.getErrorName(r, &name);
    l.error = fmt::format("no CUDA device: cuInit failed: {}", name ? name : "unknown error");
  }
  return l;
}

const Loaded &loaded() {
  static const Loaded l = load();
  return l;
}

} // namespace

const Driver &driver() {
  const Loaded &l = loaded();
  if (!l.error.empty())
    throw Error(l.error);
  return l.d;
}

std::string unavailableReason() { return loaded().error; }

std::string errorText(CUresult r) {
  const Loaded &l = loaded();
  const char *name = nullptr;
  const char *desc = nullptr;
  if (l.d.getErrorName)
    l.d.getErrorName(r, &name);
  if (l.d.getErrorString)
    l.d.getErrorString(r, &desc);
  std::string s = name ? name : fmt::format("CUDA error {}", static_cast<int>(r));
  if (desc)
    s += fmt::format(" ({})", desc);
  return s;
}

void check(CUresult r, const std::string &what) {
  if (r != CUDA_SUCCESS)
    throw Error(fmt::format("{}: {}", what, errorText(r)));
}

#endif

} // namespace tlrt::cuda
