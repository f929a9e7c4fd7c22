// Tma: the parameters of cuTensorMapEncodeTiled for one manifest "tma"
// entry and an actual tensor, computed and checked on the host (no driver
// needed), then encoded by the GPU launcher.
//
// Mapping (docs/abi.md): CUDA wants dimensions innermost first, so the
// tensor's shape and the manifest's box are reversed; strides are the
// row-major byte strides of the outer dimensions; interleave none, L2
// promotion 256B, out-of-bounds fill zero (CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
// element strides 1. float4_e2m1 tensors are described as packed bytes
// (UINT8, innermost dimension and box halved): the copy moves the packed
// bytes unchanged.
#pragma once

#include "tlrt/Manifest.h"
#include "tlrt/Tensor.h"

#include <array>
#include <cstdint>

namespace tlrt {

struct TmaParams {
  // Numeric values of the CUDA enums (CUtensorMapDataType, ...), so this
  // header needs no cuda.h.
  uint32_t dataType = 0;
  uint32_t rank = 0;
  void *globalAddress = nullptr;
  std::array<uint64_t, 5> globalDim{};     // innermost first, elements
  std::array<uint64_t, 4> globalStrides{}; // bytes, of dimensions 1..rank-1 (innermost first)
  std::array<uint32_t, 5> boxDim{};        // innermost first, elements
  std::array<uint32_t, 5> elementStrides{};
  uint32_t interleave = 0;  // CU_TENSOR_MAP_INTERLEAVE_NONE
  uint32_t swizzle = 0;     // CU_TENSOR_MAP_SWIZZLE_*
  uint32_t l2Promotion = 3; // CU_TENSOR_MAP_L2_PROMOTION_L2_256B
  uint32_t oobFill = 0;     // CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE (zeros)
  int elementBytes = 1;     // of dataType
};

// CUtensorMapDataType value for a dtype (float8/ue8m0/bool/int8 -> UINT8, ...).
uint32_t tmaDataType(DType t);

// Computes and checks the tensor map for `kernel.tma[index]` over `tensor`
// (already validated against the parameter). Throws Error like
//   kernel 'k', parameter 'A' (tensor map 0): row stride of dimension 0 is
//   200 bytes, not a multiple of 16
TmaParams computeTmaParams(const KernelSpec &kernel, int index, const Tensor &tensor);

} // namespace tlrt
