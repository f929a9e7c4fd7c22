// DType: safetensors dtype labels and storage sizes.
#include "tlv4/DType.h"

#include <cstring>

namespace tlv4 {
namespace {

struct DTypeInfo {
  DType dtype;
  const char *label;
  int bits;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::Bool, "BOOL", 8},      {DType::U8, "U8", 8},
    {DType::I8, "I8", 8},          {DType::U16, "U16", 16},
    {DType::I16, "I16", 16},       {DType::U32, "U32", 32},
    {DType::I32, "I32", 32},       {DType::U64, "U64", 64},
    {DType::I64, "I64", 64},       {DType::F16, "F16", 16},
    {DType::BF16, "BF16", 16},     {DType::F32, "F32", 32},
    {DType::F64, "F64", 64},       {DType::F8E4M3, "F8_E4M3", 8},
    {DType::F8E5M2, "F8_E5M2", 8}, {DType::F8E8M0, "F8_E8M0", 8},
    {DType::F4, "F4", 4},
};

const DTypeInfo &infoOf(DType dtype) {
  for (const DTypeInfo &info : kDTypes)
    if (info.dtype == dtype)
      return info;
  return kDTypes[0]; // unreachable: every enumerator is listed
}

} // namespace

const char *dtypeName(DType dtype) { return infoOf(dtype).label; }

int dtypeBits(DType dtype) { return infoOf(dtype).bits; }

std::optional<DType> parseDType(const std::string &label) {
  for (const DTypeInfo &info : kDTypes)
    if (label == info.label)
      return info.dtype;
  return std::nullopt;
}

} // namespace tlv4
