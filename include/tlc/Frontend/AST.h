// The .tl abstract syntax tree. Built by the Parser, annotated by Sema (the
// `sema` fields), dumped by ASTDump (`tlc --emit=ast`) and read by MLIRGen.
// Every node carries the source location of its first token.
#ifndef TLC_FRONTEND_AST_H
#define TLC_FRONTEND_AST_H

#include "tlc/Frontend/Diagnostics.h"
#include "tlc/Frontend/Types.h"

#include <iosfwd>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tlc {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

enum class ExprKind {
  IntLit,    // 128
  FloatLit,  // 1e-6
  BoolLit,   // True
  StringLit, // "msg"
  Name,      // x
  Attribute, // base.attr   (T.float32, T.GemmWarpPolicy.Square)
  Call,      // callee(args, kw=val)
  Subscript, // base[i, a:b]
  Slice,     // a:b (only as a Subscript index)
  Tuple,     // (a, b)
  Unary,     // -x, not x, ~x
  Binary,    // a + b, a and b, a < b (comparisons are binary, no chaining)
  IfExp,     // a if c else b
};

enum class UnaryOp { Neg, Pos, Not, Invert };
enum class BinaryOp {
  Add, Sub, Mul, Div, FloorDiv, Mod, Pow,
  Shl, Shr, BitAnd, BitOr, BitXor,
  Lt, Le, Gt, Ge, Eq, Ne,
  And, Or,
};

const char *toString(UnaryOp op);
const char *toString(BinaryOp op);
/// Binding strength of a binary operator, Python's order: or 2, and 3,
/// comparisons 5, | 6, ^ 7, & 8, shifts 9, + - 10, * / // % 11, ** 13.
int precedence(BinaryOp op);

struct Symbol;

struct Expr {
  ExprKind kind;
  SourceLoc loc;
  /// Filled by Sema: what this expression is (constant, index, scalar,
  /// buffer, region, ...). Default-constructed (kind Unknown) before Sema.
  SemaValue sema;

  Expr(ExprKind kind, SourceLoc loc) : kind(kind), loc(loc) {}
  virtual ~Expr() = default;
};
using ExprPtr = std::unique_ptr<Expr>;

struct IntLitExpr : Expr {
  int64_t value;
  IntLitExpr(SourceLoc loc, int64_t v) : Expr(ExprKind::IntLit, loc), value(v) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::IntLit; }
};

struct FloatLitExpr : Expr {
  double value;
  FloatLitExpr(SourceLoc loc, double v) : Expr(ExprKind::FloatLit, loc), value(v) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::FloatLit; }
};

struct BoolLitExpr : Expr {
  bool value;
  BoolLitExpr(SourceLoc loc, bool v) : Expr(ExprKind::BoolLit, loc), value(v) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::BoolLit; }
};

struct StringLitExpr : Expr {
  std::string value;
  StringLitExpr(SourceLoc loc, std::string v)
      : Expr(ExprKind::StringLit, loc), value(std::move(v)) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::StringLit; }
};

struct NameExpr : Expr {
  std::string name;
  /// Filled by Sema: the symbol this name refers to (null for builtins such
  /// as `T` and `range`, or when resolution failed).
  Symbol *symbol = nullptr;
  NameExpr(SourceLoc loc, std::string n) : Expr(ExprKind::Name, loc), name(std::move(n)) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Name; }
};

struct AttributeExpr : Expr {
  ExprPtr base;
  std::string attr;
  AttributeExpr(SourceLoc loc, ExprPtr b, std::string a)
      : Expr(ExprKind::Attribute, loc), base(std::move(b)), attr(std::move(a)) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Attribute; }
  /// "T.copy" for T.copy, "T.GemmWarpPolicy.Square" for nested attributes,
  /// "" when the base is not a chain of names.
  std::string dottedName() const;
};

struct KeywordArg {
  std::string name;
  SourceLoc loc;
  ExprPtr value;
};

struct CallExpr : Expr {
  ExprPtr callee;
  std::vector<ExprPtr> args;
  std::vector<KeywordArg> kwargs;
  CallExpr(SourceLoc loc, ExprPtr c) : Expr(ExprKind::Call, loc), callee(std::move(c)) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Call; }
  /// The dotted callee name ("T.copy", "range"), or "" if not a name chain.
  std::string calleeName() const;
  /// The keyword argument `name`, or null.
  const KeywordArg *kwarg(const std::string &name) const;
};

struct SliceExpr : Expr {
  ExprPtr lower; // may be null (":b")
  ExprPtr upper; // may be null ("a:")
  SliceExpr(SourceLoc loc, ExprPtr lo, ExprPtr hi)
      : Expr(ExprKind::Slice, loc), lower(std::move(lo)), upper(std::move(hi)) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Slice; }
};

struct SubscriptExpr : Expr {
  ExprPtr base;
  std::vector<ExprPtr> indices; // each an index expression or a SliceExpr
  SubscriptExpr(SourceLoc loc, ExprPtr b) : Expr(ExprKind::Subscript, loc), base(std::move(b)) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Subscript; }
};

struct TupleExpr : Expr {
  std::vector<ExprPtr> elements;
  explicit TupleExpr(SourceLoc loc) : Expr(ExprKind::Tuple, loc) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Tuple; }
};

struct UnaryExpr : Expr {
  UnaryOp op;
  ExprPtr operand;
  UnaryExpr(SourceLoc loc, UnaryOp op, ExprPtr x)
      : Expr(ExprKind::Unary, loc), op(op), operand(std::move(x)) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Unary; }
};

struct BinaryExpr : Expr {
  BinaryOp op;
  ExprPtr lhs, rhs;
  /// Location of the operator token (diagnostics point here).
  SourceLoc opLoc;
  BinaryExpr(SourceLoc loc, BinaryOp op, ExprPtr l, ExprPtr r, SourceLoc opLoc)
      : Expr(ExprKind::Binary, loc), op(op), lhs(std::move(l)), rhs(std::move(r)), opLoc(opLoc) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Binary; }
};

struct IfExpExpr : Expr {
  ExprPtr cond, thenValue, elseValue;
  IfExpExpr(SourceLoc loc, ExprPtr t, ExprPtr c, ExprPtr e)
      : Expr(ExprKind::IfExp, loc), cond(std::move(c)), thenValue(std::move(t)),
        elseValue(std::move(e)) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::IfExp; }
};

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

enum class StmtKind { Expr, Assign, AugAssign, For, If, With, Pass, Break, Continue };

struct Stmt {
  StmtKind kind;
  SourceLoc loc;
  Stmt(StmtKind kind, SourceLoc loc) : kind(kind), loc(loc) {}
  virtual ~Stmt() = default;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Block = std::vector<StmtPtr>;

struct ExprStmt : Stmt {
  ExprPtr expr;
  ExprStmt(SourceLoc loc, ExprPtr e) : Stmt(StmtKind::Expr, loc), expr(std::move(e)) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Expr; }
};

/// `x = value` (target is a NameExpr) or `buf[i, j] = value` (SubscriptExpr).
struct AssignStmt : Stmt {
  ExprPtr target;
  ExprPtr value;
  /// Filled by Sema for name targets: the symbol introduced.
  Symbol *defined = nullptr;
  AssignStmt(SourceLoc loc, ExprPtr t, ExprPtr v)
      : Stmt(StmtKind::Assign, loc), target(std::move(t)), value(std::move(v)) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Assign; }
};

/// `buf[i] op= value` with op one of + - * /.
struct AugAssignStmt : Stmt {
  BinaryOp op;
  ExprPtr target;
  ExprPtr value;
  AugAssignStmt(SourceLoc loc, BinaryOp op, ExprPtr t, ExprPtr v)
      : Stmt(StmtKind::AugAssign, loc), op(op), target(std::move(t)), value(std::move(v)) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::AugAssign; }
};

struct LoopVar {
  std::string name;
  SourceLoc loc;
  Symbol *symbol = nullptr; // filled by Sema
};

/// `for targets in iter: body`. `iter` is a CallExpr (range, T.serial,
/// T.unroll, T.Pipelined, T.Parallel); Sema classifies it.
struct ForStmt : Stmt {
  std::vector<LoopVar> vars;
  ExprPtr iter;
  Block body;
  ForStmt(SourceLoc loc) : Stmt(StmtKind::For, loc) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::For; }
};

/// `if c: ... elif c2: ... else: ...` is stored as nested IfStmts: an `elif`
/// becomes an IfStmt that is the only statement of `elseBody`, with
/// `isElif` set so the dump and diagnostics can tell.
struct IfStmt : Stmt {
  ExprPtr cond;
  Block thenBody;
  Block elseBody;
  bool isElif = false;
  IfStmt(SourceLoc loc, ExprPtr c) : Stmt(StmtKind::If, loc), cond(std::move(c)) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::If; }
};

/// `with T.Kernel(...) as (bx, by): body`, or `with T.no_bounds_check(): body`
/// (no names bound; element accesses of global tensors in `body` are not
/// guarded).
struct WithStmt : Stmt {
  ExprPtr context; // the CallExpr T.Kernel(...) or T.no_bounds_check()
  std::vector<LoopVar> vars;
  Block body;
  WithStmt(SourceLoc loc, ExprPtr c) : Stmt(StmtKind::With, loc), context(std::move(c)) {}
  /// Whether this is `with T.no_bounds_check():`.
  bool isNoBoundsCheck() const;
  static bool classof(const Stmt *s) { return s->kind == StmtKind::With; }
};

struct PassStmt : Stmt {
  explicit PassStmt(SourceLoc loc) : Stmt(StmtKind::Pass, loc) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Pass; }
};

/// `break` or `continue`: leaves the innermost enclosing serial loop, or
/// its current iteration.
struct JumpStmt : Stmt {
  JumpStmt(SourceLoc loc, bool isBreak)
      : Stmt(isBreak ? StmtKind::Break : StmtKind::Continue, loc) {}
  bool isBreak() const { return kind == StmtKind::Break; }
  static bool classof(const Stmt *s) {
    return s->kind == StmtKind::Break || s->kind == StmtKind::Continue;
  }
};

//===----------------------------------------------------------------------===//
// Top level
//===----------------------------------------------------------------------===//

/// A type annotation as written: `int`, `T.float32`, `T.dtype`, or
/// `T.Tensor[(M, K), T.bfloat16]`.
struct TypeExpr {
  SourceLoc loc;
  bool isTensor = false;
  std::vector<ExprPtr> dims; // tensor only
  ExprPtr elementType;       // tensor: the dtype expression; scalar: the type itself
};

/// A compile-time parameter `BM: int = 128`.
struct CompileParam {
  std::string name;
  SourceLoc loc;
  TypeExpr type;
  ExprPtr defaultValue; // may be null
  Symbol *symbol = nullptr;
};

/// A runtime parameter `A: T.Tensor[(M, K), T.bf16]` or `eps: T.float32`.
struct Param {
  std::string name;
  SourceLoc loc;
  TypeExpr type;
  Symbol *symbol = nullptr;
};

struct KernelDef {
  std::string name;
  SourceLoc loc;          // of `def`
  SourceLoc decoratorLoc; // of `@`
  std::vector<CompileParam> compileParams;
  std::vector<Param> params;
  Block body;
};

/// A module-level constant `NAME [: type] = expr`.
struct ConstantDef {
  std::string name;
  SourceLoc loc;
  std::optional<TypeExpr> type;
  ExprPtr value;
  Symbol *symbol = nullptr;
};

/// A device helper `@T.macro def name(a, b): body`, inlined at each call.
/// Parameters are untyped: each takes the kind of its argument (a buffer, a
/// barrier, a scalar or index value, or a compile-time constant).
struct MacroDef {
  std::string name;
  SourceLoc loc;          // of `def`
  SourceLoc decoratorLoc; // of `@`
  std::vector<LoopVar> params;
  Block body;
};

struct Module {
  std::vector<ConstantDef> constants;
  std::vector<KernelDef> kernels;
  std::vector<MacroDef> macros;
  /// Declaration order of constants and kernels (true = constant), so the
  /// dump reproduces the file order.
  std::vector<bool> order;
};

//===----------------------------------------------------------------------===//
// LLVM-style casting helpers (the AST has no LLVM dependency).
//===----------------------------------------------------------------------===//

template <typename To, typename From> bool isa(const From *node) {
  return node && To::classof(node);
}
template <typename To, typename From> To *dyn_cast(From *node) {
  return isa<To>(node) ? static_cast<To *>(node) : nullptr;
}
template <typename To, typename From> const To *dyn_cast(const From *node) {
  return isa<To>(node) ? static_cast<const To *>(node) : nullptr;
}

/// Deep copies without Sema's annotations (a macro body is copied for each
/// call and analysed there).
ExprPtr cloneExpr(const Expr &e);
StmtPtr cloneStmt(const Stmt &s);
Block cloneBlock(const Block &b);

/// The expression as .tl source text with only the parentheses precedence
/// needs ("K // 128", "T.ceildiv(N, 128)", "(a + b) * c").
std::string exprToString(const Expr &e);
/// The same, with `nameText(name)` (when it has a value) written in place
/// of each bare name: a compile-time constant's value in a derived size.
std::string exprToString(
    const Expr &e, const std::function<std::optional<std::string>(const std::string &)> &nameText);

/// Writes the AST as an indented tree with locations (`tlc --emit=ast`).
/// When `withSema` is set, Sema's annotations are printed too.
void dumpAST(const Module &module, std::ostream &os, bool withSema = false);

} // namespace tlc

#endif // TLC_FRONTEND_AST_H
