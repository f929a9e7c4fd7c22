// DType names and sizes.
#include "tlrt/DType.h"

namespace tlrt {

namespace {
struct DTypeInfo {
  DType type;
  const char *name;
  int bits;
};
constexpr DTypeInfo kInfos[] = {
    {DType::BFloat16, "bfloat16", 16},  {DType::Float16, "float16", 16},
    {DType::Float32, "float32", 32},    {DType::Int8, "int8", 8},
    {DType::UInt8, "uint8", 8},         {DType::UInt16, "uint16", 16},
    {DType::Int32, "int32", 32},        {DType::UInt32, "uint32", 32},
    {DType::Int64, "int64", 64},        {DType::UInt64, "uint64", 64},
    {DType::Bool, "bool", 8},
    {DType::Float8E4M3, "float8_e4m3", 8}, {DType::Float8E5M2, "float8_e5m2", 8},
    {DType::Float4E2M1, "float4_e2m1", 4}, {DType::UE8M0, "ue8m0", 8},
};

const DTypeInfo &info(DType t) {
  for (const auto &i : kInfos)
    if (i.type == t)
      return i;
  return kInfos[0]; // unreachable: every enumerator is listed
}
} // namespace

const char *dtypeName(DType t) { return info(t).name; }

std::optional<DType> parseDType(const std::string &name) {
  for (const auto &i : kInfos)
    if (name == i.name)
      return i.type;
  return std::nullopt;
}

std::string allDTypeNames() {
  std::string s;
  for (const auto &i : kInfos) {
    if (!s.empty())
      s += ' ';
    s += i.name;
  }
  return s;
}

int dtypeBits(DType t) { return info(t).bits; }

int64_t dtypeStorageBytes(DType t, int64_t numElements) {
  return (numElements * dtypeBits(t) + 7) / 8;
}

bool isFloatDType(DType t) {
  return t == DType::Float32 || t == DType::Float16 || t == DType::BFloat16;
}

bool isIntegerDType(DType t) {
  return t == DType::Int8 || t == DType::UInt8 || t == DType::Int32 ||
         t == DType::Int64 || t == DType::UInt16 || t == DType::UInt32 || t == DType::UInt64;
}

} // namespace tlrt
