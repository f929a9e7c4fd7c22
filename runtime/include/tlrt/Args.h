// Launch arguments: Arg (a tensor or a scalar), validation against a
// kernel's manifest entry, packing into the parameter layout of
// docs/abi.md, and grid evaluation. All of this is pure host code, shared by
// the GPU launcher and the CPU executor.
#pragma once

#include "tlrt/Error.h"
#include "tlrt/Manifest.h"
#include "tlrt/Tensor.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace tlrt {

class Arg {
public:
  enum Kind { TensorArg, FloatArg, IntArg, BoolArg };

  Arg(const Tensor &t) : kind_(TensorArg), tensor_(t) {}
  Arg(float v) : kind_(FloatArg), f_(v) {}
  Arg(double v) : kind_(FloatArg), f_(v) {}
  Arg(bool v) : kind_(BoolArg), b_(v) {}
  template <typename I, typename = std::enable_if_t<std::is_integral_v<I> &&
                                                    !std::is_same_v<I, bool>>>
  Arg(I v) : kind_(IntArg), i_(static_cast<int64_t>(v)) {
    if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(int64_t))
      unsignedTooLarge_ = v > static_cast<uint64_t>(INT64_MAX);
  }

  Kind kind() const { return kind_; }
  bool isTensor() const { return kind_ == TensorArg; }
  const Tensor &tensor() const { return tensor_; }
  double floatValue() const { return f_; }
  int64_t intValue() const { return i_; }
  bool boolValue() const { return b_; }
  bool unsignedTooLarge() const { return unsignedTooLarge_; }
  // "a float32 host tensor", "an integer (42)", ... for messages.
  std::string describe() const;

private:
  Kind kind_;
  Tensor tensor_;
  double f_ = 0;
  int64_t i_ = 0;
  bool b_ = false;
  bool unsignedTooLarge_ = false;
};

// Checks `args` against `kernel`: count, kind, dtype, rank, fixed
// dimensions, symbol binding and derived dimensions, null and 16-byte
// aligned data pointers, placement (`place`), scalar types and ranges.
// Returns the bound dimension symbols. Throws Error like
//   kernel 'gemm_bf16', parameter 'A': expected dtype bfloat16, got float32
SymbolValues validateArgs(const KernelSpec &kernel, const std::vector<Arg> &args, Place place);

// One parameter value in the packed layout.
struct ParamSlot {
  std::string what; // "A", "A.shape[0]", "eps", "tensor map 0"
  size_t offset = 0;
  size_t size = 0;
  size_t align = 0;
};

// Parameter values laid out one after another (each at its natural
// alignment), with a pointer to each: the `void **` that cuLaunchKernelEx
// and the CPU entry take.
class PackedArgs {
public:
  PackedArgs() = default;
  PackedArgs(const PackedArgs &) = delete;
  PackedArgs &operator=(const PackedArgs &) = delete;
  PackedArgs(PackedArgs &&) = default;
  PackedArgs &operator=(PackedArgs &&) = default;

  // Appends `size` bytes at `align`; returns where they were written.
  void *append(std::string what, const void *value, size_t size, size_t align);
  const std::vector<ParamSlot> &slots() const { return slots_; }
  // Pointers to each value, in order (valid while this object lives).
  void **pointers();
  const unsigned char *bytes() const;
  size_t size() const { return used_; }

private:
  struct alignas(64) Block {
    unsigned char b[64];
  };
  std::vector<Block> storage_;
  size_t used_ = 0;
  std::vector<ParamSlot> slots_;
  std::vector<void *> pointers_;
};

// Packs validated arguments per docs/abi.md: tensor -> pointer then one
// int64 per non-fixed dimension; scalar -> its value in the parameter's type
// (float32 f32, float16/bfloat16 16-bit pattern, int32, int64,
// bool/int8/uint8 one byte). Tensor maps are appended by the GPU launcher.
PackedArgs packArgs(const KernelSpec &kernel, const std::vector<Arg> &args);

// Evaluates the manifest's grid for (validated) arguments. Throws Error
// naming the kernel on a negative result, overflow or division by zero.
std::array<int64_t, 3> evalGrid(const KernelSpec &kernel, const std::vector<Arg> &args);

} // namespace tlrt
