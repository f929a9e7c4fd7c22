// CudaDriver (private): the CUDA driver API loaded at run time with
// dlopen("libcuda.so.1") and cuGetProcAddress, so libtlrt links no CUDA
// library and works (CPU only) on machines without a driver.
#pragma once

#include <string>

#ifdef TLRT_HAVE_CUDA_H
#include <cuda.h>

namespace tlrt::cuda {

// Entry points, named without the "cu" prefix: cuda.h #defines many of the
// prefixed names to their _v2 symbols.
struct Driver {
  CUresult (*init)(unsigned);
  CUresult (*getErrorName)(CUresult, const char **);
  CUresult (*getErrorString)(CUresult, const char **);
  CUresult (*deviceGetCount)(int *);
  CUresult (*deviceGet)(CUdevice *, int);
  CUresult (*deviceGetName)(char *, int, CUdevice);
  CUresult (*deviceGetAttribute)(int *, CUdevice_attribute, CUdevice);
  CUresult (*devicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*ctxSetCurrent)(CUcontext);
  CUresult (*ctxSynchronize)();
  CUresult (*moduleLoadDataEx)(CUmodule *, const void *, unsigned, CUjit_option *, void **);
  CUresult (*moduleUnload)(CUmodule);
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*funcSetAttribute)(CUfunction, CUfunction_attribute, int);
  CUresult (*funcGetAttribute)(int *, CUfunction_attribute, CUfunction);
  CUresult (*launchKernelEx)(const CUlaunchConfig *, CUfunction, void **, void **);
  CUresult (*occupancyMaxActiveClusters)(int *, CUfunction, const CUlaunchConfig *);
  CUresult (*memAlloc)(CUdeviceptr *, size_t);
  CUresult (*memFree)(CUdeviceptr);
  CUresult (*memcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*memcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*memsetD8)(CUdeviceptr, unsigned char, size_t);
  CUresult (*streamCreate)(CUstream *, unsigned);
  CUresult (*streamDestroy)(CUstream);
  CUresult (*streamSynchronize)(CUstream);
  CUresult (*eventCreate)(CUevent *, unsigned);
  CUresult (*eventDestroy)(CUevent);
  CUresult (*eventRecord)(CUevent, CUstream);
  CUresult (*eventSynchronize)(CUevent);
  CUresult (*eventElapsedTime)(float *, CUevent, CUevent);
  CUresult (*streamBeginCapture)(CUstream, CUstreamCaptureMode);
  CUresult (*streamEndCapture)(CUstream, CUgraph *);
  CUresult (*graphInstantiateWithFlags)(CUgraphExec *, CUgraph, unsigned long long);
  CUresult (*graphLaunch)(CUgraphExec, CUstream);
  CUresult (*graphDestroy)(CUgraph);
  CUresult (*graphExecDestroy)(CUgraphExec);
  CUresult (*tensorMapEncodeTiled)(CUtensorMap *, CUtensorMapDataType, cuuint32_t, void *,
                                   const cuuint64_t *, const cuuint64_t *, const cuuint32_t *,
                                   const cuuint32_t *, CUtensorMapInterleave, CUtensorMapSwizzle,
                                   CUtensorMapL2promotion, CUtensorMapFloatOOBfill);
};

// The loaded, initialised driver; throws Error("no CUDA driver: ...") when
// libcuda cannot be loaded or cuInit fails.
const Driver &driver();

// "CUDA_ERROR_INVALID_VALUE (invalid argument)"
std::string errorText(CUresult r);
// Throws Error("<what>: <errorText>") unless r == CUDA_SUCCESS.
void check(CUresult r, const std::string &what);

} // namespace tlrt::cuda
#endif

namespace tlrt::cuda {
// Why GPU support is unavailable ("" when the driver loaded).
std::string unavailableReason();
} // namespace tlrt::cuda
