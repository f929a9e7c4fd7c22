// Front-end types: element dtypes, memory scopes, and the value descriptions
// Sema attaches to expressions (SemaValue). Plain C++, no MLIR.
#ifndef TLC_FRONTEND_TYPES_H
#define TLC_FRONTEND_TYPES_H

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tlc {

enum class DType {
  Bool,
  I8,
  U8,
  U16,
  I32,
  U32,
  I64,
  U64,
  F16,
  BF16,
  F32,
  F8E4M3,
  F8E5M2,
  F4E2M1,
  UE8M0,
};

/// Canonical spelling without the `T.` prefix ("bfloat16", "float8_e4m3").
const char *dtypeName(DType t);
/// Parses a canonical name or a short alias ("bf16", "fp8_e4m3", "i32").
std::optional<DType> parseDType(std::string_view name);
/// Storage size in bits (4 for float4_e2m1, 8 for bool).
unsigned dtypeBits(DType t);
bool isFloat(DType t);      // f16, bf16, f32 and the narrow float formats
bool isInteger(DType t);    // bool excluded
bool isUnsigned(DType t);   // uint8, uint16, uint32, uint64
bool isNarrowFloat(DType t); // float8_*, float4_e2m1, ue8m0: need T.cast before arithmetic

enum class MemScope { Global, Shared, Fragment, Local, TMem };
const char *scopeName(MemScope s);

/// One dimension of a buffer shape: a static size, or a dynamic size given by
/// a symbolic expression over the kernel's dynamic size names ("M",
/// "K // 128"). `symbol` is the printed expression for dynamic dims.
struct Dim {
  int64_t size = -1; // -1 = dynamic
  std::string symbol;
  bool isStatic() const { return size >= 0; }
};

struct BufferType {
  MemScope scope = MemScope::Global;
  DType dtype = DType::F32;
  std::vector<Dim> shape;
  /// Number of mbarriers for barrier arrays (scope Shared, dtype I64) — 0 for
  /// ordinary buffers.
  int64_t barrierCount = 0;
  /// A view of another buffer (`ring[s]`, `tile[:, 0:64]`, T.reshape):
  /// allocates nothing.
  bool view = false;
  std::string str() const; // "shared<128x64xbfloat16>"
};

/// A compile-time constant value.
using ConstValue = std::variant<int64_t, double, bool, DType, std::string>;
std::string constToString(const ConstValue &v);

/// What an expression denotes, as decided by Sema.
struct SemaValue {
  enum Kind {
    Unknown,  // not analysed (or erroneous)
    Constant, // compile-time constant (constant holds it)
    Index,    // run-time integer (loop var, block id, dynamic size): int32
    Scalar,   // run-time element value of `dtype`
    Buffer,   // a whole buffer (buffer holds its type)
    Region,   // a region of a buffer (buffer = the base buffer, regionShape)
    Element,  // one element of a buffer (an lvalue / load)
    Barrier,  // an mbarrier array or one barrier of it
    Module,   // the `T` namespace and its sub-namespaces
    Builtin,  // a builtin function or a value like T.GemmWarpPolicy.Square
    None,     // the result of a statement-only builtin
    Shape,    // a compile-time shape tuple bound to a name (regionShape holds it)
  };
  Kind kind = Unknown;
  DType dtype = DType::I32;
  std::optional<ConstValue> constant;
  std::shared_ptr<BufferType> buffer;
  std::vector<int64_t> regionShape; // Region: the static shape after rank reduction
};

} // namespace tlc

#endif // TLC_FRONTEND_TYPES_H
