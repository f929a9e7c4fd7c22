// The semantic analyser's internal class, shared by Sema.cpp (declarations,
// scopes, statements), SemaExpr.cpp (expressions, regions, promotion) and
// SemaBuiltins.cpp (the T.* builtin table and its checkers).
#ifndef TLC_LIB_FRONTEND_SEMAIMPL_H
#define TLC_LIB_FRONTEND_SEMAIMPL_H

#include "tlc/Frontend/Sema.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tlc::sema {

class Sema;

/// Arguments of a builtin call bound to its parameters.
struct BoundArgs {
  std::vector<Expr *> args; // per parameter, null if absent
  std::vector<Expr *> varargs;
  Expr *get(size_t i) const { return i < args.size() ? args[i] : nullptr; }
};

/// Where a builtin may appear.
enum class BuiltinUse { Expr, Loop, Kernel };

/// One row of the builtin table.
struct BuiltinSpec {
  const char *name;                // "T.copy"
  std::vector<const char *> params; // parameter names, in positional order
  unsigned required;               // leading parameters that must be given
  /// Variadic builtins take positionals minVar..maxVar into `varargs`; their
  /// named parameters are then keyword-only.
  bool variadic = false;
  unsigned minVar = 0, maxVar = 0;
  BuiltinUse use = BuiltinUse::Expr;
  SemaValue (Sema::*check)(CallExpr &call, BoundArgs &args) = nullptr;
};

const BuiltinSpec *findBuiltin(const std::string &name);
/// The closest builtin name for "did you mean" notes ("" if none is close).
std::string closestBuiltin(const std::string &name);

/// The checked operands of a T.gemm (C absent for `part = T.gemm(A, B)`),
/// with M, N and K once the shapes agree.
struct GemmOperands {
  Expr &a, &b;
  Expr *c;
  const RegionInfo &ra, &rb;
  const std::optional<RegionInfo> &rc;
  bool ta, tb;
  int64_t m = 0, n = 0, k = 0;
};

/// The form of a tile operand.
enum class RegionForm { Whole, StartIndex, Sliced };

class Sema {
public:
  Sema(Module &module, const SemaOptions &options, DiagnosticEngine &diags, SemaResult &result)
      : module_(module), options_(options), diags_(diags), result_(result) {}
  bool run();

  // Builtin checkers (SemaBuiltins.cpp).
  SemaValue checkKernelCall(CallExpr &call, BoundArgs &args);
  SemaValue checkLoopCall(CallExpr &call, BoundArgs &args);
  SemaValue checkThreadId(CallExpr &call, BoundArgs &args);
  SemaValue checkNumThreads(CallExpr &call, BoundArgs &args);
  SemaValue checkWarpLane(CallExpr &call, BoundArgs &args);
  SemaValue checkSyncThreads(CallExpr &call, BoundArgs &args);
  SemaValue checkUseSwizzle(CallExpr &call, BoundArgs &args);
  bool checkWarpContext(CallExpr &call);
  SemaValue checkShuffle(CallExpr &call, BoundArgs &args);
  SemaValue checkVote(CallExpr &call, BoundArgs &args);
  SemaValue checkMatchAny(CallExpr &call, BoundArgs &args);
  SemaValue checkAlloc(CallExpr &call, BoundArgs &args);
  SemaValue checkAllocBarrier(CallExpr &call, BoundArgs &args);
  SemaValue checkReshape(CallExpr &call, BoundArgs &args);
  SemaValue checkCopy(CallExpr &call, BoundArgs &args);
  SemaValue checkClear(CallExpr &call, BoundArgs &args);
  SemaValue checkFill(CallExpr &call, BoundArgs &args);
  SemaValue checkGemm(CallExpr &call, BoundArgs &args);
  bool checkGemmScopes(const GemmOperands &g);
  bool checkGemmShapes(GemmOperands &g);
  std::optional<DType> checkGemmDtypes(const GemmOperands &g, bool scaled);
  bool checkGemmScales(CallExpr &call, BoundArgs &args, const GemmOperands &g);
  SemaValue checkReduce(CallExpr &call, BoundArgs &args);
  SemaValue checkAtomicAdd(CallExpr &call, BoundArgs &args);
  SemaValue checkTopk(CallExpr &call, BoundArgs &args);
  SemaValue checkBarrierOp(CallExpr &call, BoundArgs &args);
  SemaValue checkUnaryMath(CallExpr &call, BoundArgs &args);
  SemaValue checkMinMax(CallExpr &call, BoundArgs &args);
  SemaValue checkClamp(CallExpr &call, BoundArgs &args);
  SemaValue checkIfThenElse(CallExpr &call, BoundArgs &args);
  SemaValue checkCeilDiv(CallExpr &call, BoundArgs &args);
  SemaValue checkBytePerm(CallExpr &call, BoundArgs &args);
  SemaValue checkInfNan(CallExpr &call, BoundArgs &args);
  SemaValue checkCast(CallExpr &call, BoundArgs &args);
  SemaValue checkReinterpret(CallExpr &call, BoundArgs &args);
  SemaValue checkQuantize(CallExpr &call, BoundArgs &args);
  SemaValue checkDequantize(CallExpr &call, BoundArgs &args);
  SemaValue checkPrint(CallExpr &call, BoundArgs &args);
  SemaValue checkAssert(CallExpr &call, BoundArgs &args);

  // Expressions (SemaExpr.cpp).
  SemaValue expr(Expr &e);
  SemaValue nameExpr(NameExpr &e);
  SemaValue attributeExpr(AttributeExpr &e);
  SemaValue subscriptExpr(SubscriptExpr &e);
  SemaValue unaryExpr(UnaryExpr &e);
  SemaValue binaryExpr(BinaryExpr &e);
  SemaValue ifExpExpr(IfExpExpr &e);
  SemaValue tupleExpr(TupleExpr &e);
  SemaValue callExpr(CallExpr &e, BuiltinUse use = BuiltinUse::Expr);
  /// Run-time arithmetic type of two operands (reports narrow-float errors at `loc`).
  std::optional<OperandType> promote(const Expr &a, const Expr &b, const std::string &what);
  std::optional<OperandType> promoteValues(const SemaValue &a, SourceLoc la, const SemaValue &b,
                                           SourceLoc lb, const std::string &what);
  /// Checks `v` is usable as a number in arithmetic; reports at `loc`.
  bool checkArithOperand(const SemaValue &v, SourceLoc loc, const std::string &what);
  /// `T.arch == "..."` / `!=`: the string must name a known architecture.
  bool checkArchComparison(const BinaryExpr &e);

  /// Tile operands.
  RegionForm regionForm(Expr &e);
  /// Resolves a tile operand. `other` gives the shape a start-index operand
  /// takes; null means "a start-index form is an error here".
  std::optional<RegionInfo> region(Expr &e, const std::string &what,
                                   const std::vector<int64_t> *other);
  /// A tile operand that is a buffer (gemm, reductions, fill, topk): a whole
  /// buffer, or a view of an on-chip one (`buf[s]`, `buf[:, 0:64]`), which
  /// code generation turns into a tl.view (SemaViews.cpp).
  std::optional<RegionInfo> bufferOperand(Expr &e, const std::string &what);
  /// Whether `e` subscripts an on-chip buffer with fewer indices than its
  /// rank (`ring[s]`: the trailing dimensions are whole).
  bool isPartialView(Expr &e);
  /// Whether index `e` of a region names a 1-D buffer or a slice of a tensor
  /// (a gather's rows).
  bool isGatherIndex(Expr &e);
  /// Dimension d of a region indexed by a gather's rows: checks and records it.
  bool gatherDimension(Expr &idx, size_t d, const BufferType &buf, const std::string &dimWhat,
                       RegionInfo &info);
  /// The value of a view of an on-chip buffer (a buffer of the region's
  /// shape); reports views that cannot be taken here.
  SemaValue viewValue(Expr &e, const RegionInfo &r);
  bool checkRegionBounds(const RegionInfo &r, Expr &e);

  // Constant helpers.
  std::optional<int64_t> constInt(Expr &e, const std::string &what, bool report = true);
  std::optional<DType> constDType(Expr &e, const std::string &what);
  std::optional<bool> constBool(Expr &e, const std::string &what);
  std::optional<std::vector<int64_t>> constShape(Expr &e, const std::string &what);
  /// A tuple, a conditional of tuples, or a name bound to a shape.
  bool isShapeExpr(const Expr &e) const;
  /// Index operand (const int, index, integer scalar); reports otherwise.
  bool checkIndex(Expr &e, const std::string &what);

  // Macros (SemaMacros.cpp).
  void declareMacros();
  /// A statement `name(args)` calling a @T.macro: binds the arguments and
  /// analyses a copy of the body in the macro's own scope.
  void macroCall(CallExpr &call, Symbol &macro);
  /// The macro named by a call's callee, or null.
  Symbol *calledMacro(const CallExpr &call) const;

  // Diagnostics. Errors inside a macro expansion get a note per call site.
  void error(SourceLoc loc, const std::string &msg) {
    // A branch a compile-time condition does not take is checked for
    // names only: it may be ill-typed for these parameters (`if D == 64:`).
    if (inDeadCode() && msg.rfind("unknown name", 0) != 0)
      return;
    diags_.error(loc, msg);
    noteExpansions();
  }
  void noteExpansions() {
    for (auto it = expansions_.rbegin(); it != expansions_.rend(); ++it)
      diags_.note(it->second, "in macro '" + it->first->name + "' called here");
  }
  void note(SourceLoc loc, const std::string &msg) {
    if (!inDeadCode())
      diags_.note(loc, msg);
  }

  // Scopes (Sema.cpp).
  Symbol *lookup(const std::string &name) const;
  Symbol *define(const std::string &name, SymbolKind kind, SourceLoc loc, SemaValue value);
  void pushScope() { scopes_.emplace_back(); }
  void popScope() { scopes_.pop_back(); }

  const SemaOptions &options() const { return options_; }
  SemaResult &result() { return result_; }
  KernelInfo *kernel() { return kernel_; }
  bool inParallel() const { return parallelDepth_ > 0; }
  /// Inside the branch a compile-time condition does not take.
  bool inDeadCode() const { return deadDepth_ > 0; }

private:
  void declareConstants();
  void analyzeKernel(KernelDef &k);
  bool compileParams(KernelDef &k);
  bool params(KernelDef &k);
  std::optional<Dim> tensorDim(Expr &e, const std::string &tensor, size_t dimIdx);
  void block(Block &b);
  void stmt(Stmt &s);
  void withStmt(WithStmt &s);
  void noBoundsCheckStmt(WithStmt &s);
  void forStmt(ForStmt &s);
  void ifStmt(IfStmt &s);
  void assignStmt(AssignStmt &s);
  void augAssignStmt(AugAssignStmt &s);
  void exprStmt(ExprStmt &s);
  void jumpStmt(JumpStmt &s);
  void storeCheck(Expr &target, const SemaValue &value, SourceLoc valueLoc);
  void countSharedMemory(CallExpr &call, int64_t bytes);

  Module &module_;
  const SemaOptions &options_;
  DiagnosticEngine &diags_;
  SemaResult &result_;
  std::vector<std::map<std::string, Symbol *>> scopes_;
  KernelInfo *kernel_ = nullptr;
  const WithStmt *launch_ = nullptr;
  int parallelDepth_ = 0;
  /// The builtin of each enclosing for loop ("range", "T.Parallel", ...),
  /// innermost last: where `break` / `continue` go.
  std::vector<std::string> loops_;
  /// The macros being expanded, outermost first, with their call sites.
  std::vector<std::pair<const MacroDef *, SourceLoc>> expansions_;
  int deadDepth_ = 0;
  bool storeTarget_ = false; // analysing the target of a store
  bool allowGather_ = false; // resolving the source of T.copy: rows buffers allowed
  bool sharedBudgetReported_ = false;
};

/// The values `T.arch` can take (SemaOptions::arch).
inline constexpr const char *kKnownArchs[] = {"sm_90a", "sm_100a"};

/// Helpers on SemaValue.
bool isConstInt(const SemaValue &v);
bool isConstFloat(const SemaValue &v);
bool isConstBool(const SemaValue &v);
bool isNumeric(const SemaValue &v); // constant number, index, scalar or element
bool isIntegral(const SemaValue &v); // constant int/bool, index, integer scalar/element
bool isRuntimeNumber(const SemaValue &v);
/// "a bfloat16 value", "an index value", "int constant 3", "a shared buffer" ...
std::string describe(const SemaValue &v);
std::string shapeToString(const std::vector<int64_t> &shape);
SemaValue makeConst(ConstValue c);
SemaValue makeIndex();
SemaValue makeScalar(DType t);
/// The value of the buffer `b` (its dtype is the value's).
SemaValue makeBuffer(std::shared_ptr<BufferType> b);
SemaValue makeNone();

} // namespace tlc::sema

#endif // TLC_LIB_FRONTEND_SEMAIMPL_H
