// DType: the element types a safetensors file can hold, with their header
// labels and storage sizes. FP4 (e2m1) is the one sub-byte type: two values
// per byte, low nibble = even element.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tlv4 {

enum class DType {
  Bool,
  U8,
  I8,
  U16,
  I16,
  U32,
  I32,
  U64,
  I64,
  F16,
  BF16,
  F32,
  F64,
  F8E4M3, // "F8_E4M3"  float8_e4m3fn
  F8E5M2, // "F8_E5M2"  float8_e5m2
  F8E8M0, // "F8_E8M0"  float8_e8m0fnu (ue8m0 scales)
  F4,     // "F4"       float4_e2m1fn, packed two per byte
};

// The label written in safetensors headers ("BF16", "F8_E4M3", "F4", ...).
const char *dtypeName(DType dtype);
// Parse a header label; std::nullopt for unknown labels.
std::optional<DType> parseDType(const std::string &label);
// Storage bits per element (4 for F4, 8 for F8_*, ...).
int dtypeBits(DType dtype);

} // namespace tlv4
