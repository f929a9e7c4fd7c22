// MLIRGen's internal class, shared by MLIRGen.cpp (helpers, kernels),
// MLIRGenStmt.cpp (statements), MLIRGenTile.cpp (buffers and tile operations)
// and MLIRGenExpr.cpp (expressions). MLIRGen lowers the analysed .tl AST to the
// `tl` dialect (plus func, arith, math, memref, scf and vector). Sema has
// already checked everything a user can get wrong; what remains is a straight
// walk that reads Sema's annotations (Expr::sema, SemaResult::calls/regions/
// operandTypes). Each op carries a FileLineColLoc of the AST node it comes from.
#ifndef TLC_LIB_FRONTEND_MLIRGENIMPL_H
#define TLC_LIB_FRONTEND_MLIRGENIMPL_H

#include "tlc/Frontend/MLIRGen.h"
#include "tlc/Frontend/AST.h"
#include "tlc/Frontend/Sema.h"

#include "tl/IR/TlDialect.h"
#include "tl/IR/TlOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"

#include <cmath>
#include <unordered_map>

namespace tlc::mlirgen {

using mlir::Location;
using mlir::Type;
using mlir::Value;
namespace arith = mlir::arith;
namespace math = mlir::math;
namespace memref = mlir::memref;
namespace scf = mlir::scf;
namespace tl = mlir::tl;

inline bool isComparison(BinaryOp op) {
  return op == BinaryOp::Lt || op == BinaryOp::Le || op == BinaryOp::Gt || op == BinaryOp::Ge ||
         op == BinaryOp::Eq || op == BinaryOp::Ne;
}

class MLIRGenImpl {
public:
  MLIRGenImpl(mlir::MLIRContext &ctx, const Module &module, const SemaResult &sema,
              DiagnosticEngine &diags)
      : ctx_(ctx), b_(&ctx), module_(module), sema_(sema), diags_(diags) {
    file_ = mlir::StringAttr::get(&ctx, diags.file().path());
  }

  mlir::OwningOpRef<mlir::ModuleOp> run();

private:
  //===--------------------------------------------------------------------===//
  // Helpers
  //===--------------------------------------------------------------------===//

  Location loc(SourceLoc l);

  void fail(SourceLoc l, const std::string &msg);

  Type dtypeType(DType t);

  Type opType(const OperandType &t) { return t.isIndex ? b_.getIndexType() : dtypeType(t.dtype); }

  static tl::MemScope scopeOf(MemScope s);

  mlir::MemRefType bufferType(const BufferType &buf);

  static bool isNarrow(Type t);

  Value index(Location l, int64_t v) { return arith::ConstantIndexOp::create(b_, l, v); }

  /// A constant of type `t`. Narrow floats are made from f32 with tl.cast, so
  /// they get the language's saturating conversion.
  Value constant(Location l, const ConstValue &c, Type t);

  /// Converts `v` to `to` with the language's rules (arith for ordinary
  /// types, tl.cast into and out of the narrow floats).
  Value convert(Location l, Value v, Type to);

  Type naturalType(const SemaValue &v);

  /// The expression's value converted to `to`.
  Value genAs(const Expr &e, Type to, bool toUnsigned = false);
  Value convertSigned(Location l, Value v, Type to, bool fromUnsigned, bool toUnsigned);
  Value genIndex(const Expr &e) { return genAs(e, b_.getIndexType()); }

  //===--------------------------------------------------------------------===//
  // Kernels
  //===--------------------------------------------------------------------===//

  void kernel(const KernelInfo &k);

  void launch(const WithStmt &w, const KernelInfo &k);
  static bool isWarpBuiltin(const std::string &n);
  Value warpBuiltin(const CallExpr &call, const CallInfo &info);
  const CallExpr *useSwizzle(const WithStmt &w);
  llvm::SmallVector<Value> swizzledIds(const CallExpr &call, llvm::ArrayRef<Value> ids,
                                       llvm::ArrayRef<Value> grid);

  //===--------------------------------------------------------------------===//
  // Statements
  //===--------------------------------------------------------------------===//

  void block(const Block &stmts);

  void stmt(const Stmt &s);

  void assign(const AssignStmt &s);

  llvm::SmallVector<Value> indices(const SubscriptExpr &sub);

  template <typename F> void store(const SubscriptExpr &sub, F &&valueFn) {
    Value buf = bufferOf(*sub.base);
    if (!buf)
      return;
    Type elem = mlir::cast<mlir::MemRefType>(buf.getType()).getElementType();
    llvm::SmallVector<Value> idx = indices(sub);
    Value v = valueFn(elem);
    if (!v)
      return;
    markUnchecked(memref::StoreOp::create(b_, loc(sub.loc), v, buf, idx));
  }

  /// Inside `with T.no_bounds_check():` element accesses of global tensors
  /// say so (tl.bounds = "unchecked"); tl-guard-global-accesses keeps it.
  template <typename OpT> OpT markUnchecked(OpT op) {
    Value buf = op->getOperand(mlir::isa<memref::StoreOp>(op.getOperation()) ? 1 : 0);
    if (uncheckedDepth_ > 0 && tl::getMemScope(buf.getType()) == tl::MemScope::Global)
      op->setAttr(tl::kBoundsAttrName, b_.getStringAttr(tl::kBoundsUnchecked));
    return op;
  }

  void augAssign(const AugAssignStmt &s);

  void forStmt(const ForStmt &s);
  /// Whether a statement (block) holds a `break` (or `continue`, unless
  /// `breakOnly`) of the loop being generated, outside nested loops.
  static bool hasJump(const Stmt &s, bool breakOnly);
  static bool hasJump(const Block &b, bool breakOnly);
  void breakLoop(const ForStmt &s, Value first, Value last, Value step,
                 llvm::function_ref<void(Value)> bindVar);
  std::pair<Value, Value> jumpSeq(const Block &stmts, size_t from);

  void ifStmt(const IfStmt &s);
  void macroCall(const CallExpr &call, const MacroExpansion &ex);

  //===--------------------------------------------------------------------===//
  // Buffers and tile operations
  //===--------------------------------------------------------------------===//

  /// The memref (or !tl.barrier) a buffer-valued expression denotes,
  /// generating the allocation if it is one.
  Value bufferOf(const Expr &e);

  /// A view of an on-chip buffer (`ring[s]`, `tile[:, 0:64]`): tl.view of
  /// the box, the region's dropped dimensions left out of its shape.
  Value view(const Expr &e);

  struct Region {
    Value buffer;
    llvm::SmallVector<Value> offsets;
    llvm::SmallVector<int64_t> sizes;
  };

  Region region(const Expr &e);

  /// A barrier operand (`bar[i]` or a one-barrier array): value and index.
  std::pair<Value, Value> barrier(const Expr &e);

  const CallInfo &callInfo(const CallExpr &call) { return sema_.calls.at(&call); }

  static bool constBool(const Expr *e, bool dflt);
  static int64_t constInt(const Expr *e, int64_t dflt);

  /// Statement-level builtin calls.
  void callStmt(const CallExpr &call);

  Value gemm(const CallExpr &call, const CallInfo &info, Value c);

  Value atomicAdd(const CallExpr &call, const CallInfo &info);

  //===--------------------------------------------------------------------===//
  // Expressions
  //===--------------------------------------------------------------------===//

  Value gen(const Expr &e);

  Value unary(const UnaryExpr &u);

  /// Python floor division and modulo on signed integers (or index).
  Value floorMod(Location l, Value a, Value bv);

  Value arith(Location l, BinaryOp op, Value a, Value bv, Type t, bool isUnsigned = false);

  Value binary(const BinaryExpr &e);

  /// Value-producing builtin calls (and allocations).
  Value callValue(const CallExpr &call);

  mlir::MLIRContext &ctx_;
  mlir::OpBuilder b_;
  const Module &module_;
  const SemaResult &sema_;
  DiagnosticEngine &diags_;
  mlir::StringAttr file_;
  std::unordered_map<const Symbol *, Value> values_;
  bool failed_ = false;
  int uncheckedDepth_ = 0; // nesting of `with T.no_bounds_check():`
  /// Locations of the macro calls being expanded, innermost last.
  llvm::SmallVector<Location> callSites_;
};

} // namespace tlc::mlirgen

#endif // TLC_LIB_FRONTEND_MLIRGENIMPL_H
