// Semantic analysis of a parsed .tl module: name resolution, compile-time
// evaluation of parameters and constants, dtypes, shapes, static bounds and
// resource checks. Annotates the AST in place (Expr::sema, Symbol links).
#ifndef TLC_FRONTEND_SEMA_H
#define TLC_FRONTEND_SEMA_H

#include "tlc/Frontend/AST.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace tlc {

struct SemaOptions {
  /// -D NAME=VALUE overrides of compile-time parameters, as written.
  std::map<std::string, std::string> defines;
  /// "sm_90a", "sm_100a" or "cpu" (target-specific checks such as tmem).
  std::string target = "sm_90a";
  /// The GPU architecture the kernel is written for, the value of `T.arch`:
  /// "sm_90a" or "sm_100a". Empty means the target itself for a GPU target
  /// and "sm_100a" for "cpu" (the CPU target then runs the Blackwell code
  /// path of a kernel, which cannot execute anywhere else). tlc's --arch.
  std::string arch;
  /// The value of `T.arch` under these options (see `arch`).
  std::string effectiveArch() const {
    if (!arch.empty())
      return arch;
    return target == "cpu" ? std::string("sm_100a") : target;
  }
  /// Shared-memory budget in bytes; 0 means unlimited.
  int64_t sharedMemoryBudget = 227 * 1024;
  /// If non-empty, only this kernel is analysed (and must exist).
  std::string kernel;
};

/// What kind of entity a name denotes.
enum class SymbolKind {
  Constant,     // module constant
  CompileParam, // [BM: int = 128]
  DynamicDim,   // M in T.Tensor[(M, K), ...]
  TensorParam,  // A: T.Tensor[...]
  ScalarParam,  // eps: T.float32
  BlockIndex,   // bx in `as (bx, by)`
  LoopVar,      // i in `for i in ...`
  Value,        // x = <scalar/index expression>
  Buffer,       // x = T.alloc_*(...) or a tile op result
  Barrier,      // x = T.alloc_barrier(...)
  Macro,        // @T.macro def name(...)
};

struct Symbol {
  std::string name;
  SymbolKind kind;
  SourceLoc loc;
  SemaValue value; // its type / constant value / buffer type
  /// TensorParam/ScalarParam: the position in the kernel signature.
  int paramIndex = -1;
  /// DynamicDim: the tensor parameter and dimension that bind it.
  int boundByParam = -1;
  int boundByDim = -1;
  /// Macro: its definition.
  const MacroDef *macro = nullptr;
  /// Value bound to a run-time integer (`H1 = H0 + 64`): the bound
  /// expression, so slice extents can see through the name.
  const Expr *definition = nullptr;
};

/// One call of a @T.macro: the copy of its body analysed for these
/// arguments, and the symbols its parameters are bound to.
struct MacroExpansion {
  const MacroDef *macro = nullptr;
  std::vector<Symbol *> params;      // per macro parameter
  std::vector<const Expr *> args;    // the argument bound to each parameter
  std::unique_ptr<Block> body;
};

/// A builtin call with its arguments bound to the builtin's parameters (in
/// the builtin table's order; null where an optional argument is absent).
/// Variadic builtins (T.Kernel, T.Parallel, range) keep positionals in `varargs`.
struct CallInfo {
  std::string builtin; // "T.copy", "range", ...
  std::vector<const Expr *> args;
  std::vector<const Expr *> varargs;
  /// The argument bound to parameter `name`, or null.
  const Expr *arg(const std::string &name) const;
  std::vector<const char *> paramNames;
};

/// A tile operand (`buf`, `buf[i, j]`, `buf[a:b, c]`) resolved to a box of its
/// base buffer: one offset and one size per base dimension. Dimensions indexed
/// by a plain index (rank reduction) have size 1 and `kept` false.
struct RegionInfo {
  const Expr *base = nullptr; // the NameExpr of the buffer
  Symbol *symbol = nullptr;
  std::shared_ptr<BufferType> buffer;
  std::vector<const Expr *> offsets; // null = 0
  std::vector<int64_t> sizes;        // -1 = the whole (dynamic) dimension
  std::vector<bool> kept;
  /// A gather (`T.copy(KV[b, rows, 0:D], ...)`): the dimension indexed by a
  /// 1-D int32 buffer of row numbers, and that buffer's name; -1 / null if none.
  int gatherDim = -1;
  const Expr *gatherRows = nullptr;
  /// The region's shape after rank reduction.
  std::vector<int64_t> shape() const;
};

/// The operand type of a run-time comparison or min/max: index arithmetic or a dtype.
struct OperandType {
  bool isIndex = false;
  DType dtype = DType::I32;
};

/// Per-kernel results of Sema that code generation needs.
struct KernelInfo {
  const KernelDef *def = nullptr;
  const WithStmt *launch = nullptr;
  /// Which `with T.Kernel` block of `def` this is (0 for the first): a kernel
  /// with several blocks becomes one launched kernel per block, launched in
  /// order as the file's sequence; the first keeps the def's name, block i
  /// is named "<name>_<i>".
  int part = 0;
  std::string name() const {
    return part == 0 ? def->name : def->name + "_" + std::to_string(part);
  }
  std::map<std::string, ConstValue> compileParams; // final values
  std::vector<Symbol *> dynamicDims;               // in order of first appearance
  int64_t threads = 0;
  std::vector<int64_t> cluster;
  int64_t sharedMemoryBytes = 0;
};

struct SemaResult {
  std::vector<KernelInfo> kernels;
  /// Owns every Symbol the AST points to.
  std::vector<std::unique_ptr<Symbol>> symbols;
  /// Every builtin call Sema accepted.
  std::unordered_map<const CallExpr *, CallInfo> calls;
  /// Every tile-op operand (T.copy, T.gemm, reductions, fill, atomics, topk).
  std::unordered_map<const Expr *, RegionInfo> regions;
  /// Run-time comparisons, T.max/T.min/T.clamp: the type operands convert to.
  std::unordered_map<const Expr *, OperandType> operandTypes;
  /// Every @T.macro call statement, with its expansion.
  std::unordered_map<const CallExpr *, MacroExpansion> macroCalls;
};

/// Analyses `module`; returns false (with diagnostics) on any error.
bool analyze(Module &module, const SemaOptions &options, DiagnosticEngine &diags,
             SemaResult &result);

} // namespace tlc

#endif // TLC_FRONTEND_SEMA_H
