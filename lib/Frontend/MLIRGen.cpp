// Lowers the analysed .tl AST to the `tl` dialect: the entry point, the
// type and constant helpers, and kernels (func + tl.launch). Statements,
// tile operations and expressions are in MLIRGen{Stmt,Tile,Expr}.cpp.
#include "MLIRGenImpl.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace tlc::mlirgen {

mlir::OwningOpRef<mlir::ModuleOp> MLIRGenImpl::run() {
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

Location MLIRGenImpl::loc(SourceLoc l) {
  Location flc = mlir::FileLineColLoc::get(file_, l.line ? l.line : 1, l.col ? l.col : 1);
  // Inside a macro expansion: the body's line, called from the call site.
  if (!callSites_.empty())
    return mlir::CallSiteLoc::get(flc, callSites_.back());
  return flc;
}

void MLIRGenImpl::fail(SourceLoc l, const std::string &msg) {
  if (!failed_)
    diags_.error(l, msg);
  failed_ = true;
}

Type MLIRGenImpl::dtypeType(DType t) {
  switch (t) {
  case DType::Bool: return b_.getI1Type();
  case DType::I8:
  case DType::U8: return b_.getI8Type();
  case DType::U16: return b_.getI16Type();
  case DType::I32:
  case DType::U32: return b_.getI32Type();
  case DType::I64:
  case DType::U64: return b_.getI64Type();
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

tl::MemScope MLIRGenImpl::scopeOf(MemScope s) {
  switch (s) {
  case MemScope::Global: return tl::MemScope::Global;
  case MemScope::Shared: return tl::MemScope::Shared;
  case MemScope::Fragment: return tl::MemScope::Fragment;
  case MemScope::Local: return tl::MemScope::Local;
  case MemScope::TMem: return tl::MemScope::Tmem;
  }
  return tl::MemScope::Global;
}

mlir::MemRefType MLIRGenImpl::bufferType(const BufferType &buf) {
  llvm::SmallVector<int64_t> shape;
  for (const Dim &d : buf.shape)
    shape.push_back(d.isStatic() ? d.size : mlir::ShapedType::kDynamic);
  return tl::getScopedMemRefType(shape, dtypeType(buf.dtype), scopeOf(buf.scope));
}

bool MLIRGenImpl::isNarrow(Type t) {
  return mlir::isa<mlir::Float8E4M3FNType, mlir::Float8E5M2Type, mlir::Float4E2M1FNType,
                   mlir::Float8E8M0FNUType>(t);
}

/// A constant of type `t`. Narrow floats are made from f32 with tl.cast, so
/// they get the language's saturating conversion.
Value MLIRGenImpl::constant(Location l, const ConstValue &c, Type t) {
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
    // Unsigned constants above the signed range wrap to their bit pattern.
    llvm::APInt bits(it.getWidth(), static_cast<uint64_t>(i), /*isSigned=*/false,
                     /*implicitTrunc=*/true);
    return arith::ConstantOp::create(b_, l, mlir::IntegerAttr::get(t, bits));
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
Value MLIRGenImpl::convert(Location l, Value v, Type to) {
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

Type MLIRGenImpl::naturalType(const SemaValue &v) {
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
Value MLIRGenImpl::genAs(const Expr &e, Type to, bool toUnsigned) {
  if (e.sema.kind == SemaValue::Constant && e.sema.constant)
    return constant(loc(e.loc), *e.sema.constant, to);
  Value v = gen(e);
  if (!v)
    return {};
  bool fromUnsigned = (e.sema.kind == SemaValue::Scalar || e.sema.kind == SemaValue::Element) &&
                      isUnsigned(e.sema.dtype);
  return convertSigned(loc(e.loc), v, to, fromUnsigned, toUnsigned);
}

/// `convert` where the integer source or destination may be unsigned (the
/// MLIR integer types are signless): zero extension, unsigned int <-> float.
Value MLIRGenImpl::convertSigned(Location l, Value v, Type to, bool fromUnsigned,
                                 bool toUnsigned) {
  Type from = v.getType();
  if (from == to)
    return v;
  if (fromUnsigned && mlir::isa<mlir::IntegerType>(from) && !to.isInteger(1)) {
    unsigned fw = from.getIntOrFloatBitWidth();
    if (to.isIndex())
      return arith::IndexCastUIOp::create(b_, l, to, v);
    if (auto ti = mlir::dyn_cast<mlir::IntegerType>(to)) {
      if (ti.getWidth() > fw)
        return arith::ExtUIOp::create(b_, l, to, v);
      return arith::TruncIOp::create(b_, l, to, v);
    }
    if (isNarrow(to))
      return convert(l, arith::UIToFPOp::create(b_, l, b_.getF32Type(), v), to);
    return arith::UIToFPOp::create(b_, l, to, v);
  }
  if (toUnsigned && mlir::isa<mlir::FloatType>(from) && mlir::isa<mlir::IntegerType>(to) &&
      !to.isInteger(1)) {
    if (isNarrow(from))
      v = convert(l, v, b_.getF32Type());
    return arith::FPToUIOp::create(b_, l, to, v);
  }
  return convert(l, v, to);
}

void MLIRGenImpl::kernel(const KernelInfo &k) {
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
  auto func = mlir::func::FuncOp::create(b_, l, k.name(), b_.getFunctionType(argTypes, {}));
  func->setAttr(tl::kKernelAttrName, b_.getUnitAttr());
  func->setAttr(tl::kArgDimsAttrName, b_.getArrayAttr(argDims));
  // The signless integer types do not tell uint32 from int32: name the
  // dtypes for the manifest where any parameter is unsigned.
  llvm::SmallVector<mlir::Attribute> argDTypes;
  bool anyUnsigned = false;
  for (const Param &p : def.params) {
    const SemaValue &v = p.symbol->value;
    DType dt = v.kind == SemaValue::Buffer ? v.buffer->dtype
               : v.kind == SemaValue::Index ? DType::I32
                                            : v.dtype;
    anyUnsigned |= isUnsigned(dt);
    argDTypes.push_back(b_.getStringAttr(dtypeName(dt)));
  }
  if (anyUnsigned)
    func->setAttr("tl.arg_dtypes", b_.getArrayAttr(argDTypes));
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
    // The parameter's name travels with the argument (manifests, the
    // bounds-check reports).
    arg.setLoc(mlir::NameLoc::get(b_.getStringAttr(p.name), loc(p.loc)));
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

void MLIRGenImpl::launch(const WithStmt &w, const KernelInfo &k) {
  auto *call = dyn_cast<CallExpr>(w.context.get());
  const CallInfo &info = sema_.calls.at(call);
  llvm::SmallVector<Value> grid;
  for (const Expr *g : info.varargs)
    grid.push_back(genIndex(*g));
  auto op = tl::LaunchOp::create(b_, loc(w.loc), grid, k.threads, k.cluster);
  mlir::OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPoint(op.getBodyBlock().getTerminator());
  llvm::SmallVector<Value> ids;
  for (size_t i = 0; i < grid.size(); ++i)
    ids.push_back(op.getBodyBlock().getArgument(i));
  if (const CallExpr *swizzle = useSwizzle(w))
    ids = swizzledIds(*swizzle, ids, grid);
  for (size_t i = 0; i < w.vars.size() && i < ids.size(); ++i)
    if (w.vars[i].symbol)
      values_[w.vars[i].symbol] = ids[i];
  block(w.body);
}

const CallExpr *MLIRGenImpl::useSwizzle(const WithStmt &w) {
  // A statement of the block, after allocations only (Sema checked).
  for (const StmtPtr &st : w.body) {
    auto *s = dyn_cast<ExprStmt>(st.get());
    auto *call = s ? dyn_cast<CallExpr>(s->expr.get()) : nullptr;
    auto it = call ? sema_.calls.find(call) : sema_.calls.end();
    if (it == sema_.calls.end() || it->second.builtin != "T.use_swizzle")
      continue;
    const CallInfo &info = it->second;
    bool enable = info.args.size() < 2 || constBool(info.args[1], true);
    return enable ? call : nullptr;
  }
  return nullptr;
}

/// T.use_swizzle(G): grouped block order for L2 reuse (docs/language.md).
/// The launch order pid = by * gx + bx walks panels of G block rows: within
/// a panel, consecutive pids go down a column of (up to) G rows, then to the
/// next column, so the blocks running together share A rows and B columns.
llvm::SmallVector<Value> MLIRGenImpl::swizzledIds(const CallExpr &call,
                                                  llvm::ArrayRef<Value> ids,
                                                  llvm::ArrayRef<Value> grid) {
  Location l = loc(call.loc);
  const CallInfo &info = sema_.calls.at(&call);
  Value g = index(l, constInt(info.args[0], 1));
  Value gx = grid[0], gy = grid[1];
  Value pid = arith::AddIOp::create(b_, l, arith::MulIOp::create(b_, l, ids[1], gx), ids[0]);
  Value perPanel = arith::MulIOp::create(b_, l, g, gx);
  Value panel = arith::DivUIOp::create(b_, l, pid, perPanel);
  Value firstY = arith::MulIOp::create(b_, l, panel, g);
  Value rows = arith::MinUIOp::create(b_, l, arith::SubIOp::create(b_, l, gy, firstY), g);
  Value local = arith::RemUIOp::create(b_, l, pid, perPanel);
  Value y = arith::AddIOp::create(b_, l, firstY, arith::RemUIOp::create(b_, l, local, rows));
  Value x = arith::DivUIOp::create(b_, l, local, rows);
  return {x, y};
}

} // namespace tlc::mlirgen

namespace tlc {
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context, const Module &module,
                                          const SemaResult &sema, DiagnosticEngine &diags) {
  context.loadDialect<mlir::cf::ControlFlowDialect, mlir::NVVM::NVVMDialect>();
  context.loadDialect<mlir::tl::TlDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                      mlir::math::MathDialect, mlir::memref::MemRefDialect, mlir::scf::SCFDialect,
                      mlir::vector::VectorDialect>();
  mlirgen::MLIRGenImpl gen(context, module, sema, diags);
  return gen.run();
}

} // namespace tlc
