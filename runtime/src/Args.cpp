// Argument validation, packing and grid evaluation (docs/abi.md).
#include "tlrt/Args.h"

#include "tlrt/Error.h"
#include "tlrt/LowPrecision.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>

namespace tlrt {

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n = checkedMul(n, d);
  return n;
}

int64_t Tensor::nbytes() const { return dtypeStorageBytes(dtype, numel()); }

int64_t Tensor::strideBytes(int dim) const {
  int64_t n = 1;
  for (int i = dim + 1; i < rank(); ++i)
    n = checkedMul(n, shape[i]);
  return checkedMul(n, dtypeBits(dtype)) / 8;
}

std::string Tensor::str() const {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i)
    dims += (i ? ", " : "") + std::to_string(shape[i]);
  return fmt::format("{}[{}] ({})", dtypeName(dtype), dims, placeName(place));
}

std::string Arg::describe() const {
  switch (kind_) {
  case TensorArg: return fmt::format("a {} {} tensor", placeName(tensor_.place), dtypeName(tensor_.dtype));
  case FloatArg: return fmt::format("a floating-point value ({})", f_);
  case IntArg: return fmt::format("an integer ({})", i_);
  case BoolArg: return fmt::format("a bool ({})", b_ ? "true" : "false");
  }
  return "?";
}

namespace {

std::string where(const KernelSpec &k, const ParamSpec &p) {
  return fmt::format("kernel '{}', parameter '{}'", k.name, p.name);
}

void checkScalar(const KernelSpec &k, const ParamSpec &p, const Arg &a) {
  auto wrongKind = [&]() {
    throw Error(fmt::format("{}: expected a {} scalar, got {}", where(k, p), dtypeName(p.dtype),
                            a.describe()));
  };
  switch (p.dtype) {
  case DType::Float32:
  case DType::Float16:
  case DType::BFloat16:
    if (a.kind() != Arg::FloatArg)
      wrongKind();
    return;
  case DType::Bool:
    if (a.kind() != Arg::BoolArg)
      wrongKind();
    return;
  default:
    break;
  }
  if (a.kind() != Arg::IntArg)
    wrongKind();
  int64_t lo = 0, hi = 0;
  switch (p.dtype) {
  case DType::Int8: lo = INT8_MIN; hi = INT8_MAX; break;
  case DType::UInt8: lo = 0; hi = UINT8_MAX; break;
  case DType::UInt16: lo = 0; hi = UINT16_MAX; break;
  case DType::UInt32: lo = 0; hi = UINT32_MAX; break;
  case DType::UInt64:
    // Any value up to 2^64 - 1 (an unsigned argument above 2^63 included).
    if (a.intValue() < 0 && !a.unsignedTooLarge())
      throw Error(fmt::format("{}: value {} does not fit in uint64", where(k, p), a.intValue()));
    return;
  case DType::Int32: lo = INT32_MIN; hi = INT32_MAX; break;
  default: lo = INT64_MIN; hi = INT64_MAX; break;
  }
  if (a.unsignedTooLarge() || a.intValue() < lo || a.intValue() > hi)
    throw Error(fmt::format("{}: value {} does not fit in {}", where(k, p),
                            a.unsignedTooLarge() ? std::string("(unsigned, above 2^63)")
                                                 : std::to_string(a.intValue()),
                            dtypeName(p.dtype)));
}

// Checks everything about one tensor argument that needs no other argument;
// binds the plain symbols this parameter binds first.
void checkTensor(const KernelSpec &k, int pi, const Arg &a, Place place, SymbolValues &syms) {
  const ParamSpec &p = k.params[pi];
  const Tensor &t = a.tensor();
  if (t.dtype != p.dtype)
    throw Error(fmt::format("{}: expected dtype {}, got {}", where(k, p), dtypeName(p.dtype),
                            dtypeName(t.dtype)));
  if (t.rank() != p.rank())
    throw Error(fmt::format("{}: expected rank {}, got rank {} (shape {})", where(k, p), p.rank(),
                            t.rank(), t.str()));
  if (t.place != place)
    throw Error(fmt::format("{}: expected a {} tensor, got a {} tensor (kernel target needs {} "
                            "memory)",
                            where(k, p), placeName(place), placeName(t.place), placeName(place)));
  for (int d = 0; d < t.rank(); ++d)
    if (t.shape[d] < 0)
      throw Error(fmt::format("{}: dimension {} is negative ({})", where(k, p), d, t.shape[d]));
  if (p.dtype == DType::Float4E2M1 && t.shape.back() % 2 != 0)
    throw Error(fmt::format("{}: the last dimension of a float4_e2m1 tensor must be even, got {}",
                            where(k, p), t.shape.back()));
  int64_t n;
  try {
    n = t.numel();
  } catch (const Error &) {
    throw Error(fmt::format("{}: the element count of {} overflows int64", where(k, p), t.str()));
  }
  if (t.data == nullptr && n != 0)
    throw Error(fmt::format("{}: data pointer is null", where(k, p)));
  if (reinterpret_cast<uintptr_t>(t.data) % 16 != 0)
    throw Error(fmt::format("{}: data pointer {} is not 16-byte aligned", where(k, p), t.data));

  for (int d = 0; d < p.rank(); ++d) {
    const DimSpec &ds = p.shape[d];
    int64_t got = t.shape[d];
    if (ds.fixed) {
      if (got != ds.value)
        throw Error(fmt::format("{}: dimension {} must be {}, got {}", where(k, p), d, ds.value,
                                got));
      continue;
    }
    if (!ds.expr->isSymbol())
      continue; // derived: checked once every symbol is bound
    const std::string &s = ds.expr->symbol();
    auto site = k.symbolSites.at(s);
    if (site.first == pi && site.second == d) {
      syms[s] = got;
      continue;
    }
    int64_t want = syms.at(s); // bound earlier: sites come first in order
    if (got != want)
      throw Error(fmt::format("{}: dimension {} is '{}' = {} (bound by parameter '{}', dimension "
                              "{}), got {}",
                              where(k, p), d, s, want, k.params[site.first].name, site.second,
                              got));
  }
}

void checkDerived(const KernelSpec &k, int pi, const Arg &a, const SymbolValues &syms) {
  const ParamSpec &p = k.params[pi];
  const Tensor &t = a.tensor();
  for (int d = 0; d < p.rank(); ++d) {
    const DimSpec &ds = p.shape[d];
    if (ds.fixed || ds.expr->isSymbol())
      continue;
    int64_t want;
    try {
      want = ds.expr->eval(syms);
    } catch (const Error &e) {
      throw Error(fmt::format("{}: dimension {}: {}", where(k, p), d, e.what()));
    }
    if (t.shape[d] != want) {
      std::string bindings;
      for (const auto &s : ds.expr->symbols())
        bindings += fmt::format("{}{} = {}", bindings.empty() ? "" : ", ", s, syms.at(s));
      throw Error(fmt::format("{}: dimension {} must be '{}' = {} ({}), got {}", where(k, p), d,
                              ds.expr->text(), want, bindings, t.shape[d]));
    }
  }
}

} // namespace

SymbolValues validateArgs(const KernelSpec &k, const std::vector<Arg> &args, Place place) {
  if (args.size() != k.params.size())
    throw Error(fmt::format("kernel '{}': expected {} argument{}, got {}", k.name,
                            k.params.size(), k.params.size() == 1 ? "" : "s", args.size()));
  SymbolValues syms;
  for (size_t i = 0; i < args.size(); ++i) {
    const ParamSpec &p = k.params[i];
    const Arg &a = args[i];
    if (p.kind == ParamKind::Tensor) {
      if (!a.isTensor())
        throw Error(fmt::format("{}: expected a tensor, got {}", where(k, p), a.describe()));
      checkTensor(k, static_cast<int>(i), a, place, syms);
    } else {
      if (a.isTensor())
        throw Error(fmt::format("{}: expected a {} scalar, got {}", where(k, p),
                                dtypeName(p.dtype), a.describe()));
      checkScalar(k, p, a);
    }
  }
  for (size_t i = 0; i < args.size(); ++i)
    if (k.params[i].kind == ParamKind::Tensor)
      checkDerived(k, static_cast<int>(i), args[i], syms);
  return syms;
}

void *PackedArgs::append(std::string what, const void *value, size_t size, size_t align) {
  size_t offset = (used_ + align - 1) / align * align;
  size_t need = offset + size;
  if (need > storage_.size() * sizeof(Block)) {
    // Grow by copying: earlier pointers are recomputed in pointers().
    storage_.resize((need + sizeof(Block) - 1) / sizeof(Block) + storage_.size());
  }
  unsigned char *base = reinterpret_cast<unsigned char *>(storage_.data());
  std::memcpy(base + offset, value, size);
  used_ = need;
  slots_.push_back({std::move(what), offset, size, align});
  return base + offset;
}

void **PackedArgs::pointers() {
  unsigned char *base = reinterpret_cast<unsigned char *>(storage_.data());
  pointers_.clear();
  for (const auto &s : slots_)
    pointers_.push_back(base + s.offset);
  return pointers_.data();
}

const unsigned char *PackedArgs::bytes() const {
  return reinterpret_cast<const unsigned char *>(storage_.data());
}

PackedArgs packArgs(const KernelSpec &k, const std::vector<Arg> &args) {
  PackedArgs out;
  for (size_t i = 0; i < k.params.size(); ++i) {
    const ParamSpec &p = k.params[i];
    const Arg &a = args.at(i);
    if (p.kind == ParamKind::Tensor) {
      void *ptr = a.tensor().data;
      out.append(p.name, &ptr, sizeof(ptr), alignof(void *));
      for (int d = 0; d < p.rank(); ++d)
        if (!p.shape[d].fixed) {
          int64_t v = a.tensor().shape[d];
          out.append(fmt::format("{}.shape[{}]", p.name, d), &v, sizeof(v), alignof(int64_t));
        }
      continue;
    }
    switch (p.dtype) {
    case DType::Float32: {
      float v = static_cast<float>(a.floatValue());
      out.append(p.name, &v, 4, 4);
      break;
    }
    case DType::Float16: {
      uint16_t v = f32ToF16(static_cast<float>(a.floatValue()));
      out.append(p.name, &v, 2, 2);
      break;
    }
    case DType::BFloat16: {
      uint16_t v = f32ToBF16(static_cast<float>(a.floatValue()));
      out.append(p.name, &v, 2, 2);
      break;
    }
    case DType::Int32: {
      int32_t v = static_cast<int32_t>(a.intValue());
      out.append(p.name, &v, 4, 4);
      break;
    }
    case DType::Int64: {
      int64_t v = a.intValue();
      out.append(p.name, &v, 8, 8);
      break;
    }
    case DType::Bool: {
      uint8_t v = a.boolValue() ? 1 : 0;
      out.append(p.name, &v, 1, 1);
      break;
    }
    case DType::Int8: {
      int8_t v = static_cast<int8_t>(a.intValue());
      out.append(p.name, &v, 1, 1);
      break;
    }
    case DType::UInt8: {
      uint8_t v = static_cast<uint8_t>(a.intValue());
      out.append(p.name, &v, 1, 1);
      break;
    }
    case DType::UInt16: {
      uint16_t v = static_cast<uint16_t>(a.intValue());
      out.append(p.name, &v, 2, 2);
      break;
    }
    case DType::UInt32: {
      uint32_t v = static_cast<uint32_t>(a.intValue());
      out.append(p.name, &v, 4, 4);
      break;
    }
    case DType::UInt64: {
      uint64_t v = static_cast<uint64_t>(a.intValue());
      out.append(p.name, &v, 8, 8);
      break;
    }
    default:
      throw Error(fmt::format("kernel '{}', parameter '{}': dtype {} cannot be passed as a scalar",
                              k.name, p.name, dtypeName(p.dtype)));
    }
  }
  return out;
}

namespace {
int64_t evalGridExpr(const GridExpr &g, const KernelSpec &k, const std::vector<Arg> &args) {
  switch (g.kind) {
  case GridExpr::Const: return g.value;
  case GridExpr::Dim: return args.at(g.param).tensor().shape.at(g.dim);
  case GridExpr::Scalar: return args.at(g.param).intValue();
  default: break;
  }
  int64_t a = evalGridExpr(*g.lhs, k, args);
  int64_t b = evalGridExpr(*g.rhs, k, args);
  switch (g.kind) {
  case GridExpr::Add: return checkedAdd(a, b);
  case GridExpr::Sub: return checkedSub(a, b);
  case GridExpr::Mul: return checkedMul(a, b);
  case GridExpr::FloorDiv: return floorDiv(a, b);
  case GridExpr::CeilDiv: return ceilDiv(a, b);
  case GridExpr::Rem: return floorMod(a, b);
  case GridExpr::Max: return a > b ? a : b;
  case GridExpr::Min: return a < b ? a : b;
  default: return 0;
  }
}
} // namespace

std::array<int64_t, 3> evalGrid(const KernelSpec &k, const std::vector<Arg> &args) {
  std::array<int64_t, 3> g{};
  static const char *axis[] = {"x", "y", "z"};
  for (int i = 0; i < 3; ++i) {
    try {
      g[i] = evalGridExpr(k.grid[i], k, args);
    } catch (const Error &e) {
      throw Error(fmt::format("kernel '{}': grid {} = {}: {}", k.name, axis[i], k.grid[i].str(),
                              e.what()));
    }
    if (g[i] < 0)
      throw Error(fmt::format("kernel '{}': grid {} = {} is negative ({})", k.name, axis[i],
                              k.grid[i].str(), g[i]));
    int64_t limit = i == 0 ? INT32_MAX : 65535;
    if (g[i] > limit)
      throw Error(fmt::format("kernel '{}': grid {} = {} is {}, above the limit {}", k.name,
                              axis[i], k.grid[i].str(), g[i], limit));
  }
  return g;
}

} // namespace tlrt
