// Host-side tensor-map parameters and their checks (cuTensorMapEncodeTiled's
// documented requirements).
#include "tlrt/Tma.h"

#include "tlrt/Error.h"

#include <fmt/format.h>

namespace tlrt {

namespace {
// Numeric values of CUtensorMapDataType (cuda.h, CUDA 12/13).
enum : uint32_t {
  kU8 = 0, kU16 = 1, kU32 = 2, kI32 = 3, kU64 = 4, kI64 = 5,
  kF16 = 6, kF32 = 7, kF64 = 8, kBF16 = 9, k16U4Align16B = 14,
};
} // namespace

uint32_t tmaDataType(DType t) {
  switch (t) {
  case DType::BFloat16: return kBF16;
  case DType::Float16: return kF16;
  case DType::Float32: return kF32;
  case DType::Int32: return kI32;
  case DType::Int64: return kI64;
  case DType::UInt16: return kU16;
  case DType::UInt32: return kU32;
  case DType::UInt64: return kU64;
  default: return kU8; // 1-byte types and packed float4 (as bytes)
  }
}

TmaParams computeTmaParams(const KernelSpec &k, int index, const Tensor &t) {
  const TmaSpec &spec = k.tma.at(index);
  const ParamSpec &p = k.params.at(spec.param);
  std::string where =
      fmt::format("kernel '{}', parameter '{}' (tensor map {})", k.name, p.name, index);
  auto fail = [&](const std::string &why) { throw Error(fmt::format("{}: {}", where, why)); };

  int rank = t.rank();
  if (rank < 1 || rank > 5 || rank != static_cast<int>(spec.box.size()))
    fail(fmt::format("rank {} does not match the box of rank {}", rank, spec.box.size()));
  TmaParams r;
  r.dataType = tmaDataType(t.dtype);
  r.elementBytes = t.dtype == DType::Float4E2M1 ? 1 : dtypeBits(t.dtype) / 8;
  r.rank = static_cast<uint32_t>(rank);
  r.globalAddress = t.data;
  r.swizzle = static_cast<uint32_t>(spec.swizzle); // None/32B/64B/128B = 0/1/2/3 as in CUDA
  bool packed = t.dtype == DType::Float4E2M1 && !spec.unpackFP4;
  if (spec.unpackFP4) {
    // Dimensions count FP4 values; shared memory gets 16 values per 16 bytes.
    if (t.dtype != DType::Float4E2M1)
      fail("an unpacking tensor map needs a float4_e2m1 tensor");
    r.dataType = k16U4Align16B;
    if (reinterpret_cast<uintptr_t>(t.data) % 32 != 0)
      fail(fmt::format("base address {} is not 32-byte aligned (needed to unpack float4)", t.data));
    if (t.shape[rank - 1] % 128 != 0)
      fail(fmt::format("the innermost dimension is {}; unpacking float4 needs a multiple of 128",
                       t.shape[rank - 1]));
    if (spec.box[rank - 1] != 128)
      fail(fmt::format("the innermost box dimension is {}; unpacking float4 needs 128",
                       spec.box[rank - 1]));
  }

  if (reinterpret_cast<uintptr_t>(t.data) % 16 != 0)
    fail(fmt::format("base address {} is not 16-byte aligned", t.data));
  for (int i = 0; i < rank; ++i) {
    int d = rank - 1 - i; // tensor dimension for CUDA dimension i
    int64_t extent = t.shape[d];
    int64_t box = spec.box[d];
    if (packed && i == 0) {
      if (box % 2 != 0)
        fail(fmt::format("the innermost box dimension of a float4_e2m1 tensor must be even, got "
                         "{}", box));
      extent /= 2;
      box /= 2;
    }
    if (extent < 1 || extent > (int64_t(1) << 32))
      fail(fmt::format("dimension {} is {}; a tensor map needs 1 to 2^32 elements", d,
                       t.shape[d]));
    r.globalDim[i] = static_cast<uint64_t>(extent);
    r.boxDim[i] = static_cast<uint32_t>(box);
    r.elementStrides[i] = 1;
  }
  for (int i = 1; i < rank; ++i) {
    int d = rank - 1 - i;
    int64_t stride = t.strideBytes(d);
    int64_t strideAlign = spec.unpackFP4 ? 32 : 16;
    if (stride % strideAlign != 0)
      fail(fmt::format("stride of dimension {} is {} bytes, not a multiple of {}", d, stride,
                       strideAlign));
    if (stride >= (int64_t(1) << 40))
      fail(fmt::format("stride of dimension {} is {} bytes, not below 2^40", d, stride));
    r.globalStrides[i - 1] = static_cast<uint64_t>(stride);
  }
  int64_t innerBytes = int64_t(r.boxDim[0]) * r.elementBytes; // shared-memory bytes
  if (innerBytes % 16 != 0)
    fail(fmt::format("the innermost box dimension is {} bytes, not a multiple of 16", innerBytes));
  int64_t span = spec.swizzle == Swizzle::B32 ? 32
                 : spec.swizzle == Swizzle::B64 ? 64
                 : spec.swizzle == Swizzle::B128 ? 128
                                                 : 0;
  if (span && innerBytes > span)
    fail(fmt::format("the innermost box dimension is {} bytes, more than the {} swizzle span",
                     innerBytes, swizzleName(spec.swizzle)));
  return r;
}

} // namespace tlrt
