// DType: the element types of the tl language as the runtime sees them:
// names (as written in manifests), sizes in bits and bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tlrt {

enum class DType {
  BFloat16,
  Float16,
  Float32,
  Int8,
  UInt8,
  Int32,
  Int64,
  Bool,
  Float8E4M3,
  Float8E5M2,
  Float4E2M1, // two elements per byte, the even element in the low nibble
  UE8M0,
  UInt16,
  UInt32,
  UInt64,
};

// The manifest / language name: "bfloat16", "float8_e4m3", ...
const char *dtypeName(DType t);
// Parses a manifest name; std::nullopt for an unknown one.
std::optional<DType> parseDType(const std::string &name);
// "bfloat16 float16 ... ue8m0": for error messages.
std::string allDTypeNames();

// Bits per element (4 for float4_e2m1).
int dtypeBits(DType t);
// Bytes occupied by `numElements` elements, rounded up to whole bytes.
int64_t dtypeStorageBytes(DType t, int64_t numElements);

bool isFloatDType(DType t);   // float32/16, bfloat16
bool isIntegerDType(DType t); // int8, uint8/16/32/64, int32, int64

} // namespace tlrt
