// Lowers the analysed .tl AST to the `tl` dialect (plus func, arith, math,
// memref, scf and vector). Sema has already checked everything a user can get
// wrong; what remains here is a straight walk that reads Sema's annotations
// (Expr::sema, SemaResult::calls/regions/operandTypes). Each op carries a
// FileLineColLoc of the AST node it comes from.
#include "tlc/Frontend/MLIRGen.h"

#include "tl/IR/TlDialect.h"
#include "tl/IR/TlOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
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

namespace tlc {
namespace {

using mlir::Location;
using mlir::Type;
using mlir::Value;
namespace arith = mlir::arith;
namespace math = mlir::math;
namespace memref = mlir::memref;
namespace scf = mlir::scf;
namespace tl = mlir::tl;

bool isComparison(BinaryOp op) {
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

  mlir::OwningOpRef<mlir::ModuleOp> run() {
    mlir::OwningOpRef<mlir::ModuleOp> m = mlir::ModuleOp::create(loc(SourceLoc{1, 1}));
    (void)module_;
    for (const KernelInfo &k : sema_.kernels) {
      b_.setInsertionPointToEnd(m->getBody());
      kernel(k);
      if (failed_)
        return nullptr;
    }
    if (mlir::failed(mlir::verify(*m))) {
      // The verifier's diagnostics went through the context's handler, with
      // the user's location; this one says whose fault it is.
      diags_.error({}, "internal compiler error: the generated tl IR does not verify (please "
                       "report this with the input file)");
      return nullptr;
    }
    return m;
  }

private:
  //===--------------------------------------------------------------------===//
  // Helpers
  //===--------------------------------------------------------------------===//

  Location loc(SourceLoc l) {
    return mlir::FileLineColLoc::get(file_, l.line ? l.line : 1, l.col ? l.col : 1);
  }

  void fail(SourceLoc l, const std::string &msg) {
    if (!failed_)
      diags_.error(l, msg);
    failed_ = true;
  }

  Type dtypeType(DType t) {
    switch (t) {
    case DType::Bool: return b_.getI1Type();
    case DType::I8:
    case DType::U8: return b_.getI8Type();
    case DType::I32: return b_.getI32Type();
    case DType::I64: return b_.getI64Type();
    case DType::F16: return b_.getF16Type();
    case DType::BF16: return b_.getBF16Type();
    case DType::F32: return b_.getF32Type();
    case DType::F8E4M3: return mlir::Float8E4M3FNType::get(&ctx_);
    case DType::F8E5M2: return mlir::Float8E5M2Type::get(&ctx_);
    case DType::F4E2M1: return mlir::Float4E2M1FNType::get(&ctx_);
    case DType::UE8M0: return mlir::Float8E8M0FNUType::get(&ctx_);
    }
    return b_.getF32Type();
  }

  Type opType(const OperandType &t) { return t.isIndex ? b_.getIndexType() : dtypeType(t.dtype); }

  static tl::MemScope scopeOf(MemScope s) {
    switch (s) {
    case MemScope::Global: return tl::MemScope::Global;
    case MemScope::Shared: return tl::MemScope::Shared;
    case MemScope::Fragment: return tl::MemScope::Fragment;
    case MemScope::Local: return tl::MemScope::Local;
    case MemScope::TMem: return tl::MemScope::Tmem;
    }
    return tl::MemScope::Global;
  }

  mlir::MemRefType bufferType(const BufferType &buf) {
    llvm::SmallVector<int64_t> shape;
    for (const Dim &d : buf.shape)
      shape.push_back(d.isStatic() ? d.size : mlir::ShapedType::kDynamic);
    return tl::getScopedMemRefType(shape, dtypeType(buf.dtype), scopeOf(buf.scope));
  }

  static bool isNarrow(Type t) {
    return mlir::isa<mlir::Float8E4M3FNType, mlir::Float8E5M2Type, mlir::Float4E2M1FNType,
                     mlir::Float8E8M0FNUType>(t);
  }

  Value index(Location l, int64_t v) { return arith::ConstantIndexOp::create(b_, l, v); }

  /// A constant of type `t`. Narrow floats are made from f32 with tl.cast, so
  /// they get the language's saturating conversion.
  Value constant(Location l, const ConstValue &c, Type t) {
    double d = 0;
    int64_t i = 0;
    if (auto *p = std::get_if<int64_t>(&c))
      i = *p, d = static_cast<double>(*p);
    else if (auto *p = std::get_if<double>(&c))
      d = *p, i = static_cast<int64_t>(*p);
    else if (auto *p = std::get_if<bool>(&c))
      i = *p, d = *p;
    if (t.isIndex())
      return index(l, i);
    if (auto it = mlir::dyn_cast<mlir::IntegerType>(t)) {
      if (it.getWidth() == 1)
        return arith::ConstantOp::create(b_, l, b_.getBoolAttr(i != 0));
      return arith::ConstantOp::create(b_, l, b_.getIntegerAttr(t, i));
    }
    if (isNarrow(t)) {
      // Exactly representable values (0, 1.5, e5m2's inf) are plain constants;
      // the rest go through tl.cast so they round and saturate like T.cast.
      llvm::APFloat v(d);
      bool losesInfo = true;
      auto status = v.convert(mlir::cast<mlir::FloatType>(t).getFloatSemantics(),
                              llvm::APFloat::rmNearestTiesToEven, &losesInfo);
      if (status == llvm::APFloat::opOK && !losesInfo)
        return arith::ConstantOp::create(b_, l, b_.getFloatAttr(t, v));
      Value f = arith::ConstantOp::create(b_, l, b_.getF32FloatAttr(static_cast<float>(d)));
      return tl::CastOp::create(b_, l, t, f);
    }
    return arith::ConstantOp::create(b_, l, b_.getFloatAttr(t, d));
  }

  /// Converts `v` to `to` with the language's rules (arith for ordinary
  /// types, tl.cast into and out of the narrow floats).
  Value convert(Location l, Value v, Type to) {
    Type from = v.getType();
    if (from == to)
      return v;
    if (isNarrow(from) || isNarrow(to)) {
      if (isNarrow(from) && isNarrow(to))
        return tl::CastOp::create(b_, l, to, v);
      if (isNarrow(to) && (from.isIntOrIndex()))
        v = convert(l, v, b_.getF32Type());
      if (isNarrow(from) && to.isIntOrIndex())
        return convert(l, tl::CastOp::create(b_, l, b_.getF32Type(), v), to);
      return tl::CastOp::create(b_, l, to, v);
    }
    if (to.isInteger(1)) {
      if (mlir::isa<mlir::FloatType>(from))
        return arith::CmpFOp::create(b_, l, arith::CmpFPredicate::UNE, v,
                                     constant(l, ConstValue(0.0), from));
      return arith::CmpIOp::create(b_, l, arith::CmpIPredicate::ne, v,
                                   constant(l, ConstValue(int64_t(0)), from));
    }
    if (from.isIndex()) {
      if (to.isInteger())
        return arith::IndexCastOp::create(b_, l, to, v);
      Value i = arith::IndexCastOp::create(b_, l, b_.getI64Type(), v);
      return arith::SIToFPOp::create(b_, l, to, i);
    }
    if (from.isInteger(1)) {
      Value w = arith::ExtUIOp::create(b_, l, b_.getI32Type(), v);
      return w.getType() == to ? w : convert(l, w, to);
    }
    if (auto fi = mlir::dyn_cast<mlir::IntegerType>(from)) {
      if (to.isIndex())
        return arith::IndexCastOp::create(b_, l, to, v);
      if (auto ti = mlir::dyn_cast<mlir::IntegerType>(to)) {
        if (ti.getWidth() > fi.getWidth())
          return arith::ExtSIOp::create(b_, l, to, v);
        return arith::TruncIOp::create(b_, l, to, v);
      }
      return arith::SIToFPOp::create(b_, l, to, v);
    }
    auto ff = mlir::cast<mlir::FloatType>(from);
    if (to.isIndex()) {
      Value i = arith::FPToSIOp::create(b_, l, b_.getI64Type(), v);
      return arith::IndexCastOp::create(b_, l, to, i);
    }
    if (to.isInteger())
      return arith::FPToSIOp::create(b_, l, to, v);
    auto tf = mlir::cast<mlir::FloatType>(to);
    if (tf.getWidth() > ff.getWidth())
      return arith::ExtFOp::create(b_, l, to, v);
    if (tf.getWidth() < ff.getWidth())
      return arith::TruncFOp::create(b_, l, to, v);
    // f16 <-> bf16: through f32.
    return arith::TruncFOp::create(b_, l, to, arith::ExtFOp::create(b_, l, b_.getF32Type(), v));
  }

  Type naturalType(const SemaValue &v) {
    switch (v.kind) {
    case SemaValue::Index: return b_.getIndexType();
    case SemaValue::Scalar:
    case SemaValue::Element: return dtypeType(v.dtype);
    case SemaValue::Constant:
      if (v.constant && std::holds_alternative<double>(*v.constant))
        return isFloat(v.dtype) && !isNarrowFloat(v.dtype) ? dtypeType(v.dtype) : b_.getF32Type();
      if (v.constant && std::holds_alternative<bool>(*v.constant))
        return b_.getI1Type();
      return b_.getIndexType();
    default: return b_.getIndexType();
    }
  }

  /// The expression's value converted to `to`.
  Value genAs(const Expr &e, Type to) {
    if (e.sema.kind == SemaValue::Constant && e.sema.constant)
      return constant(loc(e.loc), *e.sema.constant, to);
    Value v = gen(e);
    if (!v)
      return {};
    // uint8 is the one unsigned dtype: widen it with zero extension first.
    if ((e.sema.kind == SemaValue::Scalar || e.sema.kind == SemaValue::Element) &&
        e.sema.dtype == DType::U8 && to != v.getType())
      v = arith::ExtUIOp::create(b_, loc(e.loc), b_.getI32Type(), v);
    return convert(loc(e.loc), v, to);
  }
  Value genIndex(const Expr &e) { return genAs(e, b_.getIndexType()); }

  //===--------------------------------------------------------------------===//
  // Kernels
  //===--------------------------------------------------------------------===//

  void kernel(const KernelInfo &k) {
    const KernelDef &def = *k.def;
    Location l = loc(def.loc);
    llvm::SmallVector<Type> argTypes;
    llvm::SmallVector<mlir::Attribute> argDims;
    for (const Param &p : def.params) {
      if (!p.symbol) {
        fail(p.loc, "internal error: parameter '" + p.name + "' was not analysed");
        return;
      }
      const SemaValue &v = p.symbol->value;
      if (v.kind == SemaValue::Buffer) {
        argTypes.push_back(bufferType(*v.buffer));
        llvm::SmallVector<mlir::Attribute> dims;
        for (const Dim &d : v.buffer->shape)
          dims.push_back(d.isStatic() ? mlir::Attribute(b_.getI64IntegerAttr(d.size))
                                      : mlir::Attribute(b_.getStringAttr(d.symbol)));
        argDims.push_back(b_.getArrayAttr(dims));
      } else {
        argTypes.push_back(v.kind == SemaValue::Index ? b_.getI32Type() : dtypeType(v.dtype));
        argDims.push_back(b_.getUnitAttr());
      }
    }
    auto func = mlir::func::FuncOp::create(b_, l, def.name, b_.getFunctionType(argTypes, {}));
    func->setAttr(tl::kKernelAttrName, b_.getUnitAttr());
    func->setAttr(tl::kArgDimsAttrName, b_.getArrayAttr(argDims));
    llvm::SmallVector<mlir::NamedAttribute> params;
    for (const auto &[name, value] : k.compileParams) {
      mlir::Attribute a;
      if (auto *i = std::get_if<int64_t>(&value))
        a = b_.getI64IntegerAttr(*i);
      else if (auto *d = std::get_if<double>(&value))
        a = b_.getF64FloatAttr(*d);
      else if (auto *bv = std::get_if<bool>(&value))
        a = b_.getBoolAttr(*bv);
      else if (auto *dt = std::get_if<DType>(&value))
        a = mlir::TypeAttr::get(dtypeType(*dt));
      else
        a = b_.getStringAttr(std::get<std::string>(value));
      params.push_back(b_.getNamedAttr(name, a));
    }
    func->setAttr(tl::kParamsAttrName, b_.getDictionaryAttr(params));

    mlir::Block *entry = func.addEntryBlock();
    b_.setInsertionPointToStart(entry);
    values_.clear();
    for (size_t i = 0; i < def.params.size(); ++i) {
      const Param &p = def.params[i];
      Value arg = entry->getArgument(i);
      arg.setLoc(loc(p.loc));
      if (p.symbol->value.kind == SemaValue::Index)
        arg = arith::IndexCastOp::create(b_, loc(p.loc), b_.getIndexType(), arg);
      values_[p.symbol] = arg;
    }
    for (Symbol *dim : k.dynamicDims) {
      Value tensor = entry->getArgument(dim->boundByParam);
      values_[dim] = memref::DimOp::create(b_, loc(dim->loc), tensor, dim->boundByDim);
    }
    if (k.launch)
      launch(*k.launch, k);
    mlir::func::ReturnOp::create(b_, l);
  }

  void launch(const WithStmt &w, const KernelInfo &k) {
    auto *call = dyn_cast<CallExpr>(w.context.get());
    const CallInfo &info = sema_.calls.at(call);
    llvm::SmallVector<Value> grid;
    for (const Expr *g : info.varargs)
      grid.push_back(genIndex(*g));
    auto op = tl::LaunchOp::create(b_, loc(w.loc), grid, k.threads, k.cluster);
    mlir::OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPoint(op.getBodyBlock().getTerminator());
    for (size_t i = 0; i < w.vars.size() && i < grid.size(); ++i)
      if (w.vars[i].symbol)
        values_[w.vars[i].symbol] = op.getBodyBlock().getArgument(i);
    block(w.body);
  }

  //===--------------------------------------------------------------------===//
  // Statements
  //===--------------------------------------------------------------------===//

  void block(const Block &stmts) {
    for (const StmtPtr &s : stmts) {
      if (failed_)
        return;
      stmt(*s);
    }
  }

  void stmt(const Stmt &s) {
    switch (s.kind) {
    case StmtKind::Expr: {
      auto &e = static_cast<const ExprStmt &>(s);
      if (auto *call = dyn_cast<CallExpr>(e.expr.get()))
        callStmt(*call);
      return;
    }
    case StmtKind::Assign: return assign(static_cast<const AssignStmt &>(s));
    case StmtKind::AugAssign: return augAssign(static_cast<const AugAssignStmt &>(s));
    case StmtKind::For: return forStmt(static_cast<const ForStmt &>(s));
    case StmtKind::If: return ifStmt(static_cast<const IfStmt &>(s));
    case StmtKind::With: fail(s.loc, "internal error: nested T.Kernel"); return;
    case StmtKind::Pass: return;
    }
  }

  void assign(const AssignStmt &s) {
    if (auto *sub = dyn_cast<SubscriptExpr>(s.target.get())) {
      store(*sub, [&](Type elem) { return genAs(*s.value, elem); });
      return;
    }
    if (!s.defined)
      return;
    const SemaValue &v = s.defined->value;
    if (v.kind == SemaValue::Constant)
      return; // uses fold to the constant
    Value value;
    if (v.kind == SemaValue::Buffer || v.kind == SemaValue::Barrier) {
      value = bufferOf(*s.value);
    } else {
      value = gen(*s.value);
      if (value && v.kind == SemaValue::Scalar)
        value = convert(loc(s.value->loc), value, dtypeType(v.dtype));
    }
    if (value)
      values_[s.defined] = value;
  }

  llvm::SmallVector<Value> indices(const SubscriptExpr &sub) {
    llvm::SmallVector<Value> idx;
    for (const ExprPtr &i : sub.indices)
      idx.push_back(genIndex(*i));
    return idx;
  }

  template <typename F> void store(const SubscriptExpr &sub, F &&valueFn) {
    Value buf = bufferOf(*sub.base);
    if (!buf)
      return;
    Type elem = mlir::cast<mlir::MemRefType>(buf.getType()).getElementType();
    llvm::SmallVector<Value> idx = indices(sub);
    Value v = valueFn(elem);
    if (!v)
      return;
    memref::StoreOp::create(b_, loc(sub.loc), v, buf, idx);
  }

  void augAssign(const AugAssignStmt &s) {
    auto *sub = dyn_cast<SubscriptExpr>(s.target.get());
    auto ty = sema_.operandTypes.find(s.target.get());
    if (!sub || ty == sema_.operandTypes.end()) {
      fail(s.loc, "internal error: unanalysed augmented assignment");
      return;
    }
    Location l = loc(s.loc);
    Type t = opType(ty->second);
    store(*sub, [&](Type elem) -> Value {
      Value buf = bufferOf(*sub->base);
      Value old = memref::LoadOp::create(b_, l, buf, indices(*sub));
      Value rhs = genAs(*s.value, t);
      if (!rhs)
        return {};
      Value r = arith(l, s.op, convert(l, old, t), rhs, t,
                      !ty->second.isIndex && ty->second.dtype == DType::U8);
      return r ? convert(l, r, elem) : Value();
    });
  }

  void forStmt(const ForStmt &s) {
    auto *call = dyn_cast<CallExpr>(s.iter.get());
    const CallInfo &info = sema_.calls.at(call);
    Location l = loc(s.loc);
    if (info.builtin == "T.Parallel") {
      llvm::SmallVector<int64_t> extents;
      for (const Expr *e : info.varargs)
        extents.push_back(std::get<int64_t>(*e->sema.constant));
      auto op = tl::ParallelOp::create(b_, l, extents);
      mlir::OpBuilder::InsertionGuard guard(b_);
      b_.setInsertionPoint(op.getBodyBlock().getTerminator());
      for (size_t i = 0; i < s.vars.size(); ++i)
        values_[s.vars[i].symbol] = op.getBodyBlock().getArgument(i);
      block(s.body);
      return;
    }
    if (info.builtin == "T.Pipelined") {
      const auto &a = info.varargs;
      Value lb = a.size() == 2 ? genIndex(*a[0]) : index(l, 0);
      Value ub = genIndex(*a.back());
      int64_t stages = info.args[0] ? std::get<int64_t>(*info.args[0]->sema.constant) : 1;
      if (stages == 0) {
        // num_stages=0: no software pipelining (TileLang's meaning), a plain
        // serial loop whose copies are synchronous on every target.
        auto loop = scf::ForOp::create(b_, l, lb, ub, index(l, 1));
        mlir::OpBuilder::InsertionGuard guard(b_);
        b_.setInsertionPointToStart(loop.getBody());
        values_[s.vars[0].symbol] = loop.getInductionVar();
        block(s.body);
        return;
      }
      auto op = tl::PipelinedOp::create(b_, l, lb, ub, index(l, 1), stages);
      mlir::OpBuilder::InsertionGuard guard(b_);
      b_.setInsertionPoint(op.getBodyBlock().getTerminator());
      values_[s.vars[0].symbol] = op.getInductionVar();
      block(s.body);
      return;
    }
    // range / T.serial / T.unroll
    const auto &a = info.varargs;
    Value lb = a.size() >= 2 ? genIndex(*a[0]) : index(l, 0);
    Value ub = genIndex(*a[a.size() >= 2 ? 1 : 0]);
    int64_t step = a.size() == 3 ? std::get<int64_t>(*a[2]->sema.constant) : 1;
    scf::ForOp op;
    if (step > 0) {
      op = scf::ForOp::create(b_, l, lb, ub, index(l, step));
    } else {
      // A negative step counts ceil((lb - ub) / -step) iterations down from lb.
      Value span = arith::SubIOp::create(b_, l, lb, ub);
      Value n = arith::CeilDivSIOp::create(b_, l, span, index(l, -step));
      n = arith::MaxSIOp::create(b_, l, n, index(l, 0));
      op = scf::ForOp::create(b_, l, index(l, 0), n, index(l, 1));
    }
    if (info.builtin == "T.unroll")
      op->setAttr(tl::kUnrollAttrName, b_.getUnitAttr());
    mlir::OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPointToStart(op.getBody());
    Value iv = op.getInductionVar();
    if (step < 0)
      iv = arith::AddIOp::create(b_, l, lb, arith::MulIOp::create(b_, l, iv, index(l, step)));
    values_[s.vars[0].symbol] = iv;
    block(s.body);
  }

  void ifStmt(const IfStmt &s) {
    const SemaValue &c = s.cond->sema;
    if (c.kind == SemaValue::Constant && c.constant && std::holds_alternative<bool>(*c.constant)) {
      block(std::get<bool>(*c.constant) ? s.thenBody : s.elseBody);
      return;
    }
    Value cond = genAs(*s.cond, b_.getI1Type());
    if (!cond)
      return;
    auto op = scf::IfOp::create(b_, loc(s.loc), cond, /*withElseRegion=*/!s.elseBody.empty());
    {
      mlir::OpBuilder::InsertionGuard guard(b_);
      b_.setInsertionPoint(op.thenBlock()->getTerminator());
      block(s.thenBody);
    }
    if (!s.elseBody.empty()) {
      mlir::OpBuilder::InsertionGuard guard(b_);
      b_.setInsertionPoint(op.elseBlock()->getTerminator());
      block(s.elseBody);
    }
  }

  //===--------------------------------------------------------------------===//
  // Buffers and tile operations
  //===--------------------------------------------------------------------===//

  /// The memref (or !tl.barrier) a buffer-valued expression denotes,
  /// generating the allocation if it is one.
  Value bufferOf(const Expr &e) {
    if (auto *n = dyn_cast<NameExpr>(&e)) {
      auto it = n->symbol ? values_.find(n->symbol) : values_.end();
      if (it == values_.end()) {
        fail(e.loc, "internal error: no value for '" + n->name + "'");
        return {};
      }
      return it->second;
    }
    if (auto *call = dyn_cast<CallExpr>(&e))
      return callValue(*call);
    if (isa<SubscriptExpr>(&e))
      return view(e);
    fail(e.loc, "internal error: expected a buffer");
    return {};
  }

  /// A view of an on-chip buffer (`ring[s]`, `tile[:, 0:64]`): tl.view of
  /// the box, the region's dropped dimensions left out of its shape.
  Value view(const Expr &e) {
    auto it = sema_.regions.find(&e);
    if (it == sema_.regions.end() || !e.sema.buffer) {
      fail(e.loc, "internal error: unanalysed view");
      return {};
    }
    const RegionInfo &info = it->second;
    Value src = bufferOf(*info.base);
    if (!src)
      return {};
    Location l = loc(e.loc);
    llvm::SmallVector<Value> offsets;
    llvm::SmallVector<int64_t> sizes(info.sizes.begin(), info.sizes.end());
    for (const Expr *o : info.offsets)
      offsets.push_back(o ? genIndex(*o) : index(l, 0));
    return tl::ViewOp::create(b_, l, bufferType(*e.sema.buffer), src, offsets, sizes);
  }

  struct Region {
    Value buffer;
    llvm::SmallVector<Value> offsets;
    llvm::SmallVector<int64_t> sizes;
  };

  Region region(const Expr &e) {
    Region r;
    auto it = sema_.regions.find(&e);
    if (it == sema_.regions.end()) {
      fail(e.loc, "internal error: unanalysed tile operand");
      return r;
    }
    const RegionInfo &info = it->second;
    r.buffer = bufferOf(*info.base);
    bool anyOffset = false;
    for (const Expr *o : info.offsets)
      anyOffset |= o != nullptr;
    for (size_t d = 0; d < info.sizes.size(); ++d) {
      r.sizes.push_back(info.sizes[d]);
      if (anyOffset)
        r.offsets.push_back(info.offsets[d] ? genIndex(*info.offsets[d]) : index(loc(e.loc), 0));
    }
    return r;
  }

  /// A barrier operand (`bar[i]` or a one-barrier array): value and index.
  std::pair<Value, Value> barrier(const Expr &e) {
    Location l = loc(e.loc);
    if (auto *sub = dyn_cast<SubscriptExpr>(&e))
      return {bufferOf(*sub->base), genIndex(*sub->indices[0])};
    return {bufferOf(e), index(l, 0)};
  }

  const CallInfo &callInfo(const CallExpr &call) { return sema_.calls.at(&call); }

  static bool constBool(const Expr *e, bool dflt) {
    if (!e || !e->sema.constant || !std::holds_alternative<bool>(*e->sema.constant))
      return dflt;
    return std::get<bool>(*e->sema.constant);
  }
  static int64_t constInt(const Expr *e, int64_t dflt) {
    if (!e || !e->sema.constant || !std::holds_alternative<int64_t>(*e->sema.constant))
      return dflt;
    return std::get<int64_t>(*e->sema.constant);
  }

  /// Statement-level builtin calls.
  void callStmt(const CallExpr &call) {
    const CallInfo &info = callInfo(call);
    const std::string &n = info.builtin;
    Location l = loc(call.loc);
    if (n == "T.copy") {
      Region src = region(*info.args[0]);
      Region dst = region(*info.args[1]);
      Value bar, barIdx;
      if (info.args[2])
        std::tie(bar, barIdx) = barrier(*info.args[2]);
      if (!src.buffer || !dst.buffer)
        return;
      tl::CopyOp::create(b_, l, src.buffer, src.offsets, src.sizes, dst.buffer, dst.offsets,
                         dst.sizes, bar, barIdx);
      return;
    }
    if (n == "T.clear" || n == "T.fill") {
      Value buf = bufferOf(*info.args[0]);
      if (!buf)
        return;
      Type elem = mlir::cast<mlir::MemRefType>(buf.getType()).getElementType();
      Value v = n == "T.clear" ? constant(l, ConstValue(int64_t(0)), elem) : genAs(*info.args[1], elem);
      if (v)
        tl::FillOp::create(b_, l, buf, v);
      return;
    }
    if (n == "T.gemm") {
      gemm(call, info, Value());
      return;
    }
    if (n.rfind("T.reduce_", 0) == 0) {
      Value src = bufferOf(*info.args[0]);
      Value dst = bufferOf(*info.args[1]);
      if (!src || !dst)
        return;
      std::string kind = n.substr(9);
      tl::ReduceKind k = kind == "sum"      ? tl::ReduceKind::Sum
                         : kind == "max"    ? tl::ReduceKind::Max
                         : kind == "min"    ? tl::ReduceKind::Min
                         : kind == "abssum" ? tl::ReduceKind::AbsSum
                                            : tl::ReduceKind::AbsMax;
      int64_t rank = mlir::cast<mlir::MemRefType>(src.getType()).getRank();
      int64_t dim = constInt(info.args[2], -1);
      if (dim < 0)
        dim += rank;
      tl::ReduceOp::create(b_, l, k, src, dst, static_cast<uint64_t>(dim),
                           constBool(info.args[3], true));
      return;
    }
    if (n == "T.topk") {
      Value src = bufferOf(*info.args[0]);
      Value vals = bufferOf(*info.args[1]);
      Value idx = bufferOf(*info.args[2]);
      if (!src || !vals || !idx)
        return;
      tl::TopKOp::create(b_, l, src, vals, idx, static_cast<uint64_t>(constInt(info.args[3], 1)),
                         uint64_t(1));
      return;
    }
    if (n == "T.atomic_add") {
      atomicAdd(call, info);
      return;
    }
    if (n == "T.barrier_arrive" || n == "T.barrier_expect_tx" || n == "T.barrier_wait") {
      auto [bar, idx] = barrier(*info.args[0]);
      if (!bar)
        return;
      if (n == "T.barrier_arrive")
        tl::BarrierArriveOp::create(b_, l, bar, idx);
      else if (n == "T.barrier_expect_tx")
        tl::BarrierExpectTxOp::create(b_, l, bar, idx, genIndex(*info.args[1]));
      else
        tl::BarrierWaitOp::create(b_, l, bar, idx, genIndex(*info.args[1]));
      return;
    }
    if (n == "T.sync_threads") {
      tl::SyncThreadsOp::create(b_, l);
      return;
    }
    if (n == "T.print") {
      std::string msg;
      if (info.args[1] && info.args[1]->sema.constant)
        msg = std::get<std::string>(*info.args[1]->sema.constant);
      const Expr &x = *info.args[0];
      Value v;
      if (x.sema.kind == SemaValue::Buffer)
        v = bufferOf(x);
      else
        v = genAs(x, naturalType(x.sema));
      if (v)
        tl::PrintOp::create(b_, l, msg, v);
      return;
    }
    // Value builtins used as statements (atomics with return_prev) or
    // allocations whose result is dropped.
    callValue(call);
  }

  Value gemm(const CallExpr &call, const CallInfo &info, Value c) {
    Location l = loc(call.loc);
    Value a = bufferOf(*info.args[0]);
    Value bb = bufferOf(*info.args[1]);
    if (!a || !bb)
      return {};
    bool ta = constBool(info.args[3], false), tb = constBool(info.args[4], false);
    bool clear = constBool(info.args[5], false);
    if (info.args[2]) {
      c = bufferOf(*info.args[2]);
    } else {
      // `part = T.gemm(A, B)`: a fresh fragment, overwritten by the product.
      auto at = mlir::cast<mlir::MemRefType>(a.getType());
      auto bt = mlir::cast<mlir::MemRefType>(bb.getType());
      int64_t m = ta ? at.getDimSize(1) : at.getDimSize(0);
      int64_t n = tb ? bt.getDimSize(0) : bt.getDimSize(1);
      DType accum = call.sema.buffer ? call.sema.buffer->dtype : DType::F32;
      auto type = tl::getScopedMemRefType({m, n}, dtypeType(accum), tl::MemScope::Fragment);
      c = tl::AllocFragmentOp::create(b_, l, type);
      clear = true;
    }
    if (!c)
      return {};
    tl::GemmPolicy policy = tl::GemmPolicy::Square;
    if (const Expr *p = info.args[6]; p && p->sema.constant) {
      const std::string &name = std::get<std::string>(*p->sema.constant);
      policy = name == "FullRow" ? tl::GemmPolicy::FullRow
               : name == "FullCol" ? tl::GemmPolicy::FullCol
                                   : tl::GemmPolicy::Square;
    }
    Value sa, sb;
    mlir::IntegerAttr block;
    if (info.args[7]) {
      sa = bufferOf(*info.args[7]);
      sb = bufferOf(*info.args[8]);
      block = b_.getI64IntegerAttr(constInt(info.args[9], 32));
    }
    tl::GemmOp::create(b_, l, a, bb, c, sa, sb, ta, tb, clear, policy, block);
    return c;
  }

  Value atomicAdd(const CallExpr &call, const CallInfo &info) {
    Location l = loc(call.loc);
    const Expr &dst = *info.args[0];
    bool returnPrev = constBool(info.args[2], false);
    auto it = sema_.regions.find(&dst);
    if (it == sema_.regions.end()) {
      fail(dst.loc, "internal error: unanalysed atomic destination");
      return {};
    }
    const RegionInfo &r = it->second;
    Value buf = bufferOf(*r.base);
    if (!buf)
      return {};
    Type elem = mlir::cast<mlir::MemRefType>(buf.getType()).getElementType();
    llvm::SmallVector<Value> idx;
    for (const Expr *o : r.offsets)
      idx.push_back(o ? genIndex(*o) : index(l, 0));
    Value value;
    bool vector = false;
    for (bool k : r.kept)
      vector |= k;
    if (vector) {
      Value local = bufferOf(*info.args[1]);
      if (!local)
        return {};
      auto lt = mlir::cast<mlir::MemRefType>(local.getType());
      int64_t lanes = lt.getNumElements();
      llvm::SmallVector<Value> zeros(lt.getRank(), index(l, 0));
      // Lane by lane (element loads every target lowers), gathered into a
      // vector of the lanes.
      llvm::SmallVector<Value> lanesV;
      for (int64_t i = 0; i < lanes; ++i) {
        llvm::SmallVector<Value> at(zeros);
        for (int64_t d = lt.getRank() - 1, rem = i; d >= 0; --d) {
          at[d] = index(l, rem % lt.getDimSize(d));
          rem /= lt.getDimSize(d);
        }
        lanesV.push_back(mlir::memref::LoadOp::create(b_, l, local, at));
      }
      auto vt = mlir::VectorType::get({lanes}, elem);
      value = mlir::vector::FromElementsOp::create(b_, l, vt, lanesV);
    } else {
      value = genAs(*info.args[1], elem);
    }
    if (!value)
      return {};
    auto op = tl::AtomicAddOp::create(b_, l, returnPrev ? value.getType() : Type(), buf, idx,
                                      value, returnPrev);
    return returnPrev ? op.getPrev() : Value();
  }

  //===--------------------------------------------------------------------===//
  // Expressions
  //===--------------------------------------------------------------------===//

  Value gen(const Expr &e) {
    Location l = loc(e.loc);
    if (e.sema.kind == SemaValue::Constant && e.sema.constant)
      return constant(l, *e.sema.constant, naturalType(e.sema));
    switch (e.kind) {
    case ExprKind::Name: {
      auto &n = static_cast<const NameExpr &>(e);
      auto it = n.symbol ? values_.find(n.symbol) : values_.end();
      if (it == values_.end()) {
        fail(e.loc, "internal error: no value for '" + n.name + "'");
        return {};
      }
      return it->second;
    }
    case ExprKind::Subscript: {
      auto &s = static_cast<const SubscriptExpr &>(e);
      if (e.sema.kind != SemaValue::Element) {
        fail(e.loc, "internal error: a region used as a value");
        return {};
      }
      Value buf = bufferOf(*s.base);
      if (!buf)
        return {};
      return memref::LoadOp::create(b_, l, buf, indices(s));
    }
    case ExprKind::Unary: return unary(static_cast<const UnaryExpr &>(e));
    case ExprKind::Binary: return binary(static_cast<const BinaryExpr &>(e));
    case ExprKind::IfExp: {
      auto &i = static_cast<const IfExpExpr &>(e);
      const SemaValue &c = i.cond->sema;
      if (c.kind == SemaValue::Constant && c.constant && std::holds_alternative<bool>(*c.constant))
        return gen(std::get<bool>(*c.constant) ? *i.thenValue : *i.elseValue);
      Type t = opType(sema_.operandTypes.at(&e));
      Value cond = genAs(*i.cond, b_.getI1Type());
      Value a = genAs(*i.thenValue, t), bv = genAs(*i.elseValue, t);
      if (!cond || !a || !bv)
        return {};
      return arith::SelectOp::create(b_, l, cond, a, bv);
    }
    case ExprKind::Call: return callValue(static_cast<const CallExpr &>(e));
    default:
      fail(e.loc, "internal error: unexpected expression in MLIRGen");
      return {};
    }
  }

  Value unary(const UnaryExpr &u) {
    Location l = loc(u.loc);
    Type t = naturalType(u.sema);
    Value x = genAs(*u.operand, t);
    if (!x)
      return {};
    switch (u.op) {
    case UnaryOp::Pos: return x;
    case UnaryOp::Neg:
      if (mlir::isa<mlir::FloatType>(t))
        return arith::NegFOp::create(b_, l, x);
      return arith::SubIOp::create(b_, l, constant(l, ConstValue(int64_t(0)), t), x);
    case UnaryOp::Not:
      return arith::XOrIOp::create(b_, l, x, constant(l, ConstValue(true), t));
    case UnaryOp::Invert:
      return arith::XOrIOp::create(b_, l, x, constant(l, ConstValue(int64_t(-1)), t));
    }
    return {};
  }

  /// Python floor division and modulo on signed integers (or index).
  Value floorMod(Location l, Value a, Value bv) {
    Type t = a.getType();
    Value r = arith::RemSIOp::create(b_, l, a, bv);
    Value zero = constant(l, ConstValue(int64_t(0)), t);
    std::optional<int64_t> divisor = mlir::getConstantIntValue(bv);
    if (divisor && *divisor > 0) {
      // The common `i % BM`: only a negative remainder needs the fix-up.
      Value neg = arith::CmpIOp::create(b_, l, arith::CmpIPredicate::slt, r, zero);
      return arith::SelectOp::create(b_, l, neg, arith::AddIOp::create(b_, l, r, bv), r);
    }
    Value rNonZero = arith::CmpIOp::create(b_, l, arith::CmpIPredicate::ne, r, zero);
    Value rNeg = arith::CmpIOp::create(b_, l, arith::CmpIPredicate::slt, r, zero);
    Value bNeg = arith::CmpIOp::create(b_, l, arith::CmpIPredicate::slt, bv, zero);
    Value signsDiffer = arith::XOrIOp::create(b_, l, rNeg, bNeg);
    Value fix = arith::AndIOp::create(b_, l, rNonZero, signsDiffer);
    Value adjusted = arith::AddIOp::create(b_, l, r, bv);
    return arith::SelectOp::create(b_, l, fix, adjusted, r);
  }

  Value arith(Location l, BinaryOp op, Value a, Value bv, Type t, bool isUnsigned = false) {
    bool f = mlir::isa<mlir::FloatType>(t);
    if (isUnsigned) {
      switch (op) {
      case BinaryOp::FloorDiv: return arith::DivUIOp::create(b_, l, a, bv);
      case BinaryOp::Mod: return arith::RemUIOp::create(b_, l, a, bv);
      case BinaryOp::Shr: return arith::ShRUIOp::create(b_, l, a, bv);
      case BinaryOp::Lt: return arith::CmpIOp::create(b_, l, arith::CmpIPredicate::ult, a, bv);
      case BinaryOp::Le: return arith::CmpIOp::create(b_, l, arith::CmpIPredicate::ule, a, bv);
      case BinaryOp::Gt: return arith::CmpIOp::create(b_, l, arith::CmpIPredicate::ugt, a, bv);
      case BinaryOp::Ge: return arith::CmpIOp::create(b_, l, arith::CmpIPredicate::uge, a, bv);
      default: break;
      }
    }
    switch (op) {
    case BinaryOp::Add: return f ? (Value)arith::AddFOp::create(b_, l, a, bv) : (Value)arith::AddIOp::create(b_, l, a, bv);
    case BinaryOp::Sub: return f ? (Value)arith::SubFOp::create(b_, l, a, bv) : (Value)arith::SubIOp::create(b_, l, a, bv);
    case BinaryOp::Mul: return f ? (Value)arith::MulFOp::create(b_, l, a, bv) : (Value)arith::MulIOp::create(b_, l, a, bv);
    case BinaryOp::Div: return arith::DivFOp::create(b_, l, a, bv);
    case BinaryOp::FloorDiv:
      if (f)
        return math::FloorOp::create(b_, l, arith::DivFOp::create(b_, l, a, bv));
      return arith::FloorDivSIOp::create(b_, l, a, bv);
    case BinaryOp::Mod:
      if (f) {
        Value q = math::FloorOp::create(b_, l, arith::DivFOp::create(b_, l, a, bv));
        return arith::SubFOp::create(b_, l, a, arith::MulFOp::create(b_, l, q, bv));
      }
      return floorMod(l, a, bv);
    case BinaryOp::Pow: return math::PowFOp::create(b_, l, a, bv);
    case BinaryOp::Shl: return arith::ShLIOp::create(b_, l, a, bv);
    case BinaryOp::Shr: return arith::ShRSIOp::create(b_, l, a, bv);
    case BinaryOp::BitAnd: return arith::AndIOp::create(b_, l, a, bv);
    case BinaryOp::BitOr: return arith::OrIOp::create(b_, l, a, bv);
    case BinaryOp::BitXor: return arith::XOrIOp::create(b_, l, a, bv);
    default: break;
    }
    if (isComparison(op)) {
      if (f) {
        arith::CmpFPredicate p = op == BinaryOp::Lt   ? arith::CmpFPredicate::OLT
                                 : op == BinaryOp::Le ? arith::CmpFPredicate::OLE
                                 : op == BinaryOp::Gt ? arith::CmpFPredicate::OGT
                                 : op == BinaryOp::Ge ? arith::CmpFPredicate::OGE
                                 : op == BinaryOp::Eq ? arith::CmpFPredicate::OEQ
                                                      : arith::CmpFPredicate::UNE;
        return arith::CmpFOp::create(b_, l, p, a, bv);
      }
      arith::CmpIPredicate p = op == BinaryOp::Lt   ? arith::CmpIPredicate::slt
                               : op == BinaryOp::Le ? arith::CmpIPredicate::sle
                               : op == BinaryOp::Gt ? arith::CmpIPredicate::sgt
                               : op == BinaryOp::Ge ? arith::CmpIPredicate::sge
                               : op == BinaryOp::Eq ? arith::CmpIPredicate::eq
                                                    : arith::CmpIPredicate::ne;
      return arith::CmpIOp::create(b_, l, p, a, bv);
    }
    return {};
  }

  Value binary(const BinaryExpr &e) {
    Location l = loc(e.opLoc.valid() ? e.opLoc : e.loc);
    if (e.op == BinaryOp::And || e.op == BinaryOp::Or) {
      // A constant operand that does not decide the result drops out.
      const Expr *lhs = e.lhs.get(), *rhs = e.rhs.get();
      if (lhs->sema.kind == SemaValue::Constant)
        return genAs(*rhs, b_.getI1Type());
      if (rhs->sema.kind == SemaValue::Constant)
        return genAs(*lhs, b_.getI1Type());
      Value a = genAs(*lhs, b_.getI1Type()), bv = genAs(*rhs, b_.getI1Type());
      if (!a || !bv)
        return {};
      if (e.op == BinaryOp::And)
        return arith::AndIOp::create(b_, l, a, bv);
      return arith::OrIOp::create(b_, l, a, bv);
    }
    auto ty = sema_.operandTypes.find(&e);
    if (ty == sema_.operandTypes.end()) {
      fail(e.loc, "internal error: unanalysed binary expression");
      return {};
    }
    Type t = opType(ty->second);
    Value a = genAs(*e.lhs, t), bv = genAs(*e.rhs, t);
    if (!a || !bv)
      return {};
    return arith(l, e.op, a, bv, t, !ty->second.isIndex && ty->second.dtype == DType::U8);
  }

  /// Value-producing builtin calls (and allocations).
  Value callValue(const CallExpr &call) {
    auto found = sema_.calls.find(&call);
    if (found == sema_.calls.end()) {
      fail(call.loc, "internal error: unanalysed call");
      return {};
    }
    const CallInfo &info = found->second;
    const std::string &n = info.builtin;
    Location l = loc(call.loc);
    if (n.rfind("T.alloc_", 0) == 0 && n != "T.alloc_barrier") {
      if (!call.sema.buffer)
        return {};
      mlir::MemRefType type = bufferType(*call.sema.buffer);
      if (n == "T.alloc_shared")
        return tl::AllocSharedOp::create(b_, l, type);
      if (n == "T.alloc_fragment")
        return tl::AllocFragmentOp::create(b_, l, type);
      if (n == "T.alloc_local")
        return tl::AllocLocalOp::create(b_, l, type);
      return tl::AllocTmemOp::create(b_, l, type);
    }
    if (n == "T.alloc_barrier") {
      auto type = tl::BarrierType::get(&ctx_, call.sema.buffer->barrierCount);
      return tl::AllocBarrierOp::create(b_, l, type,
                                        static_cast<uint64_t>(constInt(info.args[0], 1)));
    }
    if (n == "T.gemm")
      return gemm(call, info, Value());
    if (n == "T.reshape" || n == "T.view") {
      Value src = bufferOf(*info.args[0]);
      if (!src || !call.sema.buffer)
        return {};
      return tl::ReshapeOp::create(b_, l, bufferType(*call.sema.buffer), src);
    }
    if (n == "T.atomic_add")
      return atomicAdd(call, info);
    if (n == "T.thread_id")
      return tl::ThreadIdOp::create(b_, l, constInt(info.args[0], 0));
    if (n == "T.block_id")
      return tl::BlockIdOp::create(b_, l, constInt(info.args[0], 0));
    if (n == "T.warp_id" || n == "T.lane_id") {
      Value tid = tl::ThreadIdOp::create(b_, l, int64_t(0));
      if (n == "T.warp_id")
        return arith::DivUIOp::create(b_, l, tid, index(l, 32));
      return arith::RemUIOp::create(b_, l, tid, index(l, 32));
    }
    Type t = naturalType(call.sema);
    if (n == "T.exp" || n == "T.exp2" || n == "T.log" || n == "T.log2" || n == "T.sqrt" ||
        n == "T.rsqrt" || n == "T.tanh" || n == "T.abs" || n == "T.ceil" || n == "T.floor" ||
        n == "T.round" || n == "T.sigmoid" || n == "T.softplus") {
      Value x = genAs(*info.args[0], t);
      if (!x)
        return {};
      if (n == "T.exp") return math::ExpOp::create(b_, l, x);
      if (n == "T.exp2") return math::Exp2Op::create(b_, l, x);
      if (n == "T.log") return math::LogOp::create(b_, l, x);
      if (n == "T.log2") return math::Log2Op::create(b_, l, x);
      if (n == "T.sqrt") return math::SqrtOp::create(b_, l, x);
      if (n == "T.rsqrt") return math::RsqrtOp::create(b_, l, x);
      if (n == "T.tanh") return math::TanhOp::create(b_, l, x);
      if (n == "T.ceil") return math::CeilOp::create(b_, l, x);
      if (n == "T.floor") return math::FloorOp::create(b_, l, x);
      if (n == "T.round") return math::RoundEvenOp::create(b_, l, x);
      if (n == "T.abs") {
        if (mlir::isa<mlir::FloatType>(t))
          return math::AbsFOp::create(b_, l, x);
        return math::AbsIOp::create(b_, l, x);
      }
      Value one = constant(l, ConstValue(1.0), t);
      if (n == "T.sigmoid") {
        // 1 / (1 + exp(-x))
        Value e = math::ExpOp::create(b_, l, arith::NegFOp::create(b_, l, x));
        return arith::DivFOp::create(b_, l, one, arith::AddFOp::create(b_, l, one, e));
      }
      // softplus(x) = max(x, 0) + log1p(exp(-|x|)): no overflow for large |x|.
      Value zero = constant(l, ConstValue(0.0), t);
      Value pos = arith::MaximumFOp::create(b_, l, x, zero);
      Value negAbs = arith::NegFOp::create(b_, l, math::AbsFOp::create(b_, l, x));
      Value tail = math::Log1pOp::create(b_, l, math::ExpOp::create(b_, l, negAbs));
      return arith::AddFOp::create(b_, l, pos, tail);
    }
    if (n == "T.max" || n == "T.min" || n == "T.clamp") {
      Type ot = opType(sema_.operandTypes.at(&call));
      bool f = mlir::isa<mlir::FloatType>(ot);
      auto mx = [&](Value a, Value bv) -> Value {
        return f ? (Value)arith::MaximumFOp::create(b_, l, a, bv) : (Value)arith::MaxSIOp::create(b_, l, a, bv);
      };
      auto mn = [&](Value a, Value bv) -> Value {
        return f ? (Value)arith::MinimumFOp::create(b_, l, a, bv) : (Value)arith::MinSIOp::create(b_, l, a, bv);
      };
      Value a = genAs(*info.args[0], ot), bv = genAs(*info.args[1], ot);
      if (!a || !bv)
        return {};
      if (n == "T.max")
        return mx(a, bv);
      if (n == "T.min")
        return mn(a, bv);
      Value hi = genAs(*info.args[2], ot);
      return hi ? mn(mx(a, bv), hi) : Value();
    }
    if (n == "T.if_then_else") {
      const Expr &c = *info.args[0];
      if (c.sema.kind == SemaValue::Constant && c.sema.constant)
        return gen(std::get<bool>(*c.sema.constant) ? *info.args[1] : *info.args[2]);
      Type ot = opType(sema_.operandTypes.at(&call));
      Value cond = genAs(c, b_.getI1Type());
      Value a = genAs(*info.args[1], ot), bv = genAs(*info.args[2], ot);
      if (!cond || !a || !bv)
        return {};
      return arith::SelectOp::create(b_, l, cond, a, bv);
    }
    if (n == "T.ceildiv") {
      Value a = genAs(*info.args[0], t), bv = genAs(*info.args[1], t);
      if (!a || !bv)
        return {};
      return arith::CeilDivSIOp::create(b_, l, a, bv);
    }
    if (n == "T.cast") {
      const Expr &x = *info.args[0];
      return genAs(x, t);
    }
    if (n == "T.quantize") {
      // T.cast(x / scale, dtype), the division in f32.
      Type f32 = b_.getF32Type();
      Value x = genAs(*info.args[0], f32), s = genAs(*info.args[1], f32);
      if (!x || !s)
        return {};
      return convert(l, arith::DivFOp::create(b_, l, x, s), t);
    }
    if (n == "T.dequantize") {
      // T.cast(q, f32) * T.cast(scale, f32)
      Type f32 = b_.getF32Type();
      Value q = genAs(*info.args[0], f32), s = genAs(*info.args[1], f32);
      if (!q || !s)
        return {};
      return arith::MulFOp::create(b_, l, q, s);
    }
    fail(call.loc, n + " cannot be used as a value here");
    return {};
  }

  mlir::MLIRContext &ctx_;
  mlir::OpBuilder b_;
  const Module &module_;
  const SemaResult &sema_;
  DiagnosticEngine &diags_;
  mlir::StringAttr file_;
  std::unordered_map<const Symbol *, Value> values_;
  bool failed_ = false;
};

} // namespace

mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context, const Module &module,
                                          const SemaResult &sema, DiagnosticEngine &diags) {
  context.loadDialect<mlir::tl::TlDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                      mlir::math::MathDialect, mlir::memref::MemRefDialect, mlir::scf::SCFDialect,
                      mlir::vector::VectorDialect>();
  MLIRGenImpl gen(context, module, sema, diags);
  return gen.run();
}

} // namespace tlc
