// Names, sizes and classes of .tl dtypes and memory scopes, and the printed
// forms of buffer types and compile-time constants (docs/language.md §3-4).
#include "tlc/Frontend/Types.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tlc {

namespace {
struct DTypeInfo {
  DType type;
  const char *name;
  const char *alias; // "" when there is none
  unsigned bits;
};

const DTypeInfo kDTypes[] = {
    {DType::Bool, "bool", "", 8},
    {DType::I8, "int8", "i8", 8},
    {DType::U8, "uint8", "u8", 8},
    {DType::U16, "uint16", "u16", 16},
    {DType::I32, "int32", "i32", 32},
    {DType::U32, "uint32", "u32", 32},
    {DType::I64, "int64", "i64", 64},
    {DType::U64, "uint64", "u64", 64},
    {DType::F16, "float16", "f16", 16},
    {DType::BF16, "bfloat16", "bf16", 16},
    {DType::F32, "float32", "f32", 32},
    {DType::F8E4M3, "float8_e4m3", "fp8_e4m3", 8},
    {DType::F8E5M2, "float8_e5m2", "fp8_e5m2", 8},
    {DType::F4E2M1, "float4_e2m1", "fp4_e2m1", 4},
    {DType::UE8M0, "ue8m0", "", 8},
};

const DTypeInfo &info(DType t) {
  for (const DTypeInfo &i : kDTypes)
    if (i.type == t)
      return i;
  return kDTypes[0];
}

/// Shortest decimal spelling that reads back as the same double, written
/// the way Python's repr() does: fixed notation for exponents -4..15 (always
/// with a '.'), scientific otherwise ("1e-06", "1.5e+20").
std::string floatRepr(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  char buf[64];
  int prec = 1;
  for (; prec < 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
    if (std::strtod(buf, nullptr) == v)
      break;
  }
  std::snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
  std::string sci = buf;
  size_t e = sci.find('e');
  int exponent = std::atoi(sci.c_str() + e + 1);
  if (exponent < -4 || exponent >= 16) {
    std::string mantissa = sci.substr(0, e);
    if (mantissa.find('.') != std::string::npos) {
      mantissa.erase(mantissa.find_last_not_of('0') + 1);
      if (mantissa.back() == '.')
        mantissa.pop_back();
    }
    char exp[16];
    std::snprintf(exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return mantissa + exp;
  }
  int decimals = std::max(prec - 1 - exponent, 1);
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string fixed = buf;
  fixed.erase(fixed.find_last_not_of('0') + 1);
  if (fixed.back() == '.')
    fixed += '0';
  return fixed;
}
} // namespace

const char *dtypeName(DType t) { return info(t).name; }

std::optional<DType> parseDType(std::string_view name) {
  if (name.substr(0, 2) == "T.")
    name.remove_prefix(2);
  if (name.empty())
    return std::nullopt;
  for (const DTypeInfo &i : kDTypes)
    if (name == i.name || name == i.alias)
      return i.type;
  return std::nullopt;
}

unsigned dtypeBits(DType t) { return info(t).bits; }

bool isFloat(DType t) {
  switch (t) {
  case DType::F16:
  case DType::BF16:
  case DType::F32:
  case DType::F8E4M3:
  case DType::F8E5M2:
  case DType::F4E2M1:
  case DType::UE8M0:
    return true;
  default:
    return false;
  }
}

bool isInteger(DType t) {
  return t == DType::I8 || t == DType::U8 || t == DType::U16 || t == DType::I32 ||
         t == DType::U32 || t == DType::I64 || t == DType::U64;
}

bool isUnsigned(DType t) {
  return t == DType::U8 || t == DType::U16 || t == DType::U32 || t == DType::U64;
}

bool isNarrowFloat(DType t) {
  return t == DType::F8E4M3 || t == DType::F8E5M2 || t == DType::F4E2M1 || t == DType::UE8M0;
}

const char *scopeName(MemScope s) {
  switch (s) {
  case MemScope::Global:
    return "global";
  case MemScope::Shared:
    return "shared";
  case MemScope::Fragment:
    return "fragment";
  case MemScope::Local:
    return "local";
  case MemScope::TMem:
    return "tmem";
  }
  return "global";
}

std::string BufferType::str() const {
  if (barrierCount > 0)
    return "barrier<" + std::to_string(barrierCount) + ">";
  std::string s = scopeName(scope);
  s += "<";
  for (const Dim &d : shape) {
    if (d.isStatic()) {
      s += std::to_string(d.size);
    } else {
      bool simple = !d.symbol.empty() &&
                    d.symbol.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                "0123456789_") == std::string::npos;
      s += simple ? d.symbol : "(" + (d.symbol.empty() ? std::string("?") : d.symbol) + ")";
    }
    s += "x";
  }
  s += dtypeName(dtype);
  s += ">";
  return s;
}

std::string constToString(const ConstValue &v) {
  if (const int64_t *i = std::get_if<int64_t>(&v))
    return std::to_string(*i);
  if (const double *d = std::get_if<double>(&v))
    return floatRepr(*d);
  if (const bool *b = std::get_if<bool>(&v))
    return *b ? "True" : "False";
  if (const DType *t = std::get_if<DType>(&v))
    return std::string("T.") + dtypeName(*t);
  const std::string &s = std::get<std::string>(v);
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '"':
      out += "\\\"";
      break;
    default:
      out += c;
    }
  }
  return out + "\"";
}

} // namespace tlc
