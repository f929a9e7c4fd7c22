// Shared helpers of the tl -> NVVM lowering (Common.h).
#include "Common.h"

namespace tlc::nvvm {

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

TlTypeConverter::TlTypeConverter(MLIRContext *ctx, const LowerToLLVMOptions &options)
    : LLVMTypeConverter(ctx, options) {
  addConversion([ctx](MemRefType t) -> std::optional<Type> {
    auto scope = tl::getMemScope(t);
    if (!scope)
      return std::nullopt;
    switch (*scope) {
    case tl::MemScope::Global: {
      SmallVector<Type> fields{LLVM::LLVMPointerType::get(ctx, 1)};
      fields.append(t.getRank(), IntegerType::get(ctx, 64));
      return LLVM::LLVMStructType::getLiteral(ctx, fields);
    }
    case tl::MemScope::Shared:
      return LLVM::LLVMPointerType::get(ctx, 3);
    case tl::MemScope::Fragment:
    case tl::MemScope::Local:
      return LLVM::LLVMPointerType::get(ctx);
    case tl::MemScope::Tmem:
      return IntegerType::get(ctx, 32);
    }
    return std::nullopt;
  });
  addConversion([ctx](tl::BarrierType) -> Type { return LLVM::LLVMPointerType::get(ctx, 3); });
  addConversion([ctx](Type t) -> std::optional<Type> {
    if (isNarrowFloat(t))
      return IntegerType::get(ctx, 8);
    return std::nullopt;
  });
  // Index arithmetic stays index until the final conversion to LLVM (which
  // makes it i64): patterns mix it with the index values of tl operands.
  addConversion([](IndexType t) -> Type { return t; });
}

//===----------------------------------------------------------------------===//
// Small builders
//===----------------------------------------------------------------------===//

Value cIndex(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}
Value cI32(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(static_cast<int32_t>(v)));
}
Value cI64(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
}
Value toI64(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isIndex())
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), v);
  if (v.getType().isInteger(32))
    return arith::ExtSIOp::create(b, loc, b.getI64Type(), v);
  return v;
}
Value toI32(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isIndex())
    return arith::IndexCastOp::create(b, loc, b.getI32Type(), v);
  if (v.getType().isInteger(64))
    return arith::TruncIOp::create(b, loc, b.getI32Type(), v);
  return v;
}
Value toIndex(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isIndex())
    return v;
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}

static Value inlineAsm(OpBuilder &b, Location loc, Type result, ValueRange operands,
                       StringRef text, StringRef constraints, bool sideEffects) {
  MLIRContext *ctx = b.getContext();
  auto op = LLVM::InlineAsmOp::create(
      b, loc, result ? TypeRange{result} : TypeRange{}, operands, text, constraints, sideEffects,
      /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr::get(ctx, LLVM::AsmDialect::AD_ATT), ArrayAttr());
  return result ? op.getResult(0) : Value();
}

Value asmOp(OpBuilder &b, Location loc, Type result, ValueRange operands, StringRef text,
            StringRef constraints) {
  return inlineAsm(b, loc, result, operands, text, constraints, /*sideEffects=*/true);
}

Value asmPure(OpBuilder &b, Location loc, Type result, ValueRange operands, StringRef text,
              StringRef constraints) {
  return inlineAsm(b, loc, result, operands, text, constraints, /*sideEffects=*/false);
}

Type registerType(Type elem) {
  if (isNarrowFloat(elem) || elem.isInteger(1))
    return IntegerType::get(elem.getContext(), 8);
  return elem;
}

int64_t storageBytes(Type t) {
  if (isFP4(t) || isNarrowFloat(t) || t.isInteger(1) || t.isInteger(8))
    return 1;
  return t.getIntOrFloatBitWidth() / 8;
}

Value zeroOf(OpBuilder &b, Location loc, Type t) {
  if (auto ft = dyn_cast<FloatType>(t))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, 0.0));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, 0));
}

//===----------------------------------------------------------------------===//
// Thread indices
//===----------------------------------------------------------------------===//

Value threadIdx(OpBuilder &b, Location loc) {
  return toIndex(b, loc, NVVM::ThreadIdXOp::create(b, loc, b.getI32Type()));
}

tl::HwIndex hwIndex(OpBuilder &b, Location loc) {
  return tl::emitHwIndex(b, loc, threadIdx(b, loc));
}

void namedBarrier(OpBuilder &b, Location loc, int64_t id, int64_t threads) {
  if (id == 0)
    asmVoid(b, loc, {}, "bar.sync 0;", "~{memory}");
  else
    asmVoid(b, loc, {}, llvm::formatv("bar.sync {0}, {1};", id, threads).str(), "~{memory}");
}

namespace {
/// The warp-specialised role region around `op` (its index), if any.
/// The role (index, first thread, threads) `op` runs in: a tl.warp_specialize
/// region, or, once that is lowered, the scf.if marked `tlc_role`.
struct Role {
  int64_t index = -1, first = 0, threads = 0;
};
Role roleOf(Operation *op) {
  for (Operation *p = op; p; p = p->getParentOp()) {
    Operation *parent = p->getParentOp();
    if (auto ws = dyn_cast_or_null<tl::WarpSpecializeOp>(parent)) {
      unsigned i = p->getParentRegion()->getRegionNumber();
      return {i, ws.getRoleBegin(i), ws.getRoles()[i]};
    }
    if (parent)
      if (auto r = parent->getAttrOfType<DenseI64ArrayAttr>(kRoleAttrName))
        return {r[0], r[1], r[2]};
  }
  return {};
}
} // namespace

int64_t threadsOf(Operation *op) {
  Role r = roleOf(op);
  if (r.index >= 0)
    return r.threads;
  if (auto launch = op->getParentOfType<tl::LaunchOp>())
    return launch.getThreads();
  // After the frame is built the launch is gone: the kernel's block size.
  if (auto fn = op->getParentOfType<LLVM::LLVMFuncOp>())
    if (auto t = fn->getAttrOfType<IntegerAttr>("tlc_threads"))
      return t.getInt();
  return 0;
}

int64_t firstThreadOf(Operation *op) { return roleOf(op).first; }

void syncThreadsOf(OpBuilder &b, Location loc, Operation *op) {
  Role r = roleOf(op);
  if (r.index < 0) {
    namedBarrier(b, loc, 0, 0);
    return;
  }
  // Named barriers 1.. per role (0 is the whole block).
  namedBarrier(b, loc, 1 + r.index, r.threads);
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

Value sharedBase(OpBuilder &b, Location loc) {
  return LLVM::AddressOfOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext(), 3),
                                   "__tl_smem");
}

Value sharedAddr32(OpBuilder &b, Location loc, Value ptr3) {
  return LLVM::PtrToIntOp::create(b, loc, b.getI32Type(), ptr3);
}

GlobalView unpackGlobal(OpBuilder &b, Location loc, Value desc, int64_t rank) {
  GlobalView g;
  g.ptr = LLVM::ExtractValueOp::create(b, loc, desc, ArrayRef<int64_t>{0});
  for (int64_t d = 0; d < rank; ++d)
    g.dims.push_back(
        toIndex(b, loc, LLVM::ExtractValueOp::create(b, loc, desc, ArrayRef<int64_t>{d + 1})));
  return g;
}

Value linearize(OpBuilder &b, Location loc, ArrayRef<Value> coords, ArrayRef<Value> dims) {
  Value lin;
  for (size_t i = 0; i < coords.size(); ++i)
    lin = lin ? Value(arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, lin, dims[i]),
                                            coords[i]))
              : coords[i];
  return lin ? lin : cIndex(b, loc, 0);
}

Value globalIndex(OpBuilder &b, Location loc, ArrayRef<Value> coords, ArrayRef<Value> dims) {
  Value lin;
  for (size_t i = 0; i < coords.size(); ++i) {
    Value c = toI64(b, loc, coords[i]);
    lin = lin ? Value(arith::AddIOp::create(
                    b, loc, arith::MulIOp::create(b, loc, lin, toI64(b, loc, dims[i])), c))
              : c;
  }
  return lin ? lin : cI64(b, loc, 0);
}

Value inBounds(OpBuilder &b, Location loc, ArrayRef<Value> coords, ArrayRef<Value> dims) {
  Value ok;
  for (auto [c, d] : llvm::zip(coords, dims)) {
    Value lt = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, c, d);
    ok = ok ? Value(arith::AndIOp::create(b, loc, ok, lt)) : lt;
  }
  return ok ? ok : arith::ConstantOp::create(b, loc, b.getBoolAttr(true)).getResult();
}

/// A constant of the integer type of `like` (index or i64).
static Value cLike(OpBuilder &b, Location loc, Value like, int64_t v) {
  if (like.getType().isIndex())
    return cIndex(b, loc, v);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(like.getType(), v));
}

Value loadElement(OpBuilder &b, Location loc, Value base, Type elem, Value linear) {
  auto ptrT = cast<LLVM::LLVMPointerType>(base.getType());
  if (isFP4(elem)) {
    Value byteIdx = arith::DivUIOp::create(b, loc, linear, cLike(b, loc, linear, 2));
    Value p = LLVM::GEPOp::create(b, loc, ptrT, b.getI8Type(), base,
                                  ValueRange{toI64(b, loc, byteIdx)});
    Value byte = LLVM::LoadOp::create(b, loc, b.getI8Type(), p);
    Value odd = arith::TruncIOp::create(
        b, loc, b.getI8Type(),
        toI64(b, loc, arith::RemUIOp::create(b, loc, linear, cLike(b, loc, linear, 2))));
    Value shift = arith::MulIOp::create(b, loc, odd,
                                        arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(4)));
    return arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, byte, shift),
                                 arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(15)));
  }
  Type mem = elem.isInteger(1) ? b.getI8Type() : registerType(elem);
  Value p = LLVM::GEPOp::create(b, loc, ptrT, mem, base, ValueRange{toI64(b, loc, linear)});
  Value v = LLVM::LoadOp::create(b, loc, mem, p);
  if (elem.isInteger(1))
    return arith::TruncIOp::create(b, loc, b.getI1Type(), v);
  return v;
}

void storeElement(OpBuilder &b, Location loc, Value base, Type elem, Value linear, Value value) {
  auto ptrT = cast<LLVM::LLVMPointerType>(base.getType());
  if (isFP4(elem)) {
    // Two threads may own the two nibbles of one byte: clear and set the
    // nibble with 32-bit atomics on the word holding it.
    auto cl = [&](int64_t v) { return cLike(b, loc, linear, v); };
    Value byteIdx = arith::DivUIOp::create(b, loc, linear, cl(2));
    Value wordIdx = arith::DivUIOp::create(b, loc, byteIdx, cl(4));
    Value bitPos = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, byteIdx, cl(4)), cl(8)),
        arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, linear, cl(2)), cl(4)));
    Value shift = toI32(b, loc, bitPos);
    Value p = LLVM::GEPOp::create(b, loc, ptrT, b.getI32Type(), base,
                                  ValueRange{toI64(b, loc, wordIdx)});
    Value nib = arith::AndIOp::create(b, loc, arith::ExtUIOp::create(b, loc, b.getI32Type(), value),
                                      cI32(b, loc, 15));
    Value mask = arith::XOrIOp::create(
        b, loc, arith::ShLIOp::create(b, loc, cI32(b, loc, 15), shift), cI32(b, loc, -1));
    LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::_and, p, mask,
                              LLVM::AtomicOrdering::monotonic);
    LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::_or, p,
                              arith::ShLIOp::create(b, loc, nib, shift),
                              LLVM::AtomicOrdering::monotonic);
    return;
  }
  Type mem = elem.isInteger(1) ? b.getI8Type() : registerType(elem);
  if (elem.isInteger(1))
    value = arith::ExtUIOp::create(b, loc, b.getI8Type(), value);
  Value p = LLVM::GEPOp::create(b, loc, ptrT, mem, base, ValueRange{toI64(b, loc, linear)});
  LLVM::StoreOp::create(b, loc, value, p);
}

namespace {
/// Element index of `coords` in a shared buffer (by its layout or row-major).
Value sharedIndex(OpBuilder &b, Location loc, MemRefType type, ArrayRef<Value> coords) {
  if (std::optional<tl::LinearLayout> l = tl::getBufferLayout(type))
    return tl::emitLayoutOffset(b, loc, *l, coords);
  SmallVector<Value> dims;
  for (int64_t d : type.getShape())
    dims.push_back(cIndex(b, loc, d));
  return linearize(b, loc, coords, dims);
}
} // namespace

Value sharedElementPtr(OpBuilder &b, Location loc, Value base, MemRefType type,
                       ArrayRef<Value> coords) {
  Type elem = type.getElementType();
  Value idx = sharedIndex(b, loc, type, coords);
  return LLVM::GEPOp::create(b, loc, base.getType(), registerType(elem), base,
                             ValueRange{toI64(b, loc, idx)});
}

Value loadShared(OpBuilder &b, Location loc, Value base, MemRefType type, ArrayRef<Value> coords) {
  return loadElement(b, loc, base, type.getElementType(), sharedIndex(b, loc, type, coords));
}

void storeShared(OpBuilder &b, Location loc, Value base, MemRefType type, ArrayRef<Value> coords,
                 Value value) {
  storeElement(b, loc, base, type.getElementType(), sharedIndex(b, loc, type, coords), value);
}

Value loadGlobal(OpBuilder &b, Location loc, const GlobalView &g, Type elem,
                 ArrayRef<Value> coords) {
  return loadElement(b, loc, g.ptr, elem, globalIndex(b, loc, coords, g.dims));
}

void storeGlobal(OpBuilder &b, Location loc, const GlobalView &g, Type elem,
                 ArrayRef<Value> coords, Value value) {
  storeElement(b, loc, g.ptr, elem, globalIndex(b, loc, coords, g.dims), value);
}

Value slotPtr(OpBuilder &b, Location loc, Value base, Type regType, Value slot) {
  return LLVM::GEPOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext()), regType, base,
                             ValueRange{toI64(b, loc, slot)});
}
Value slotPtr(OpBuilder &b, Location loc, Value base, Type regType, int64_t slot) {
  return LLVM::GEPOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext()), regType, base,
                             ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(slot)});
}

//===----------------------------------------------------------------------===//
// mbarriers
//===----------------------------------------------------------------------===//

void mbarrierInit(OpBuilder &b, Location loc, Value addr32, int64_t count) {
  asmVoid(b, loc, {addr32, cI32(b, loc, count)}, "mbarrier.init.shared::cta.b64 [$0], $1;",
          "r,r,~{memory}");
}

void mbarrierWait(OpBuilder &b, Location loc, Value addr32, Value parity) {
  asmVoid(b, loc, {addr32, toI32(b, loc, parity)},
          "{\n.reg .pred p;\nTL_WAIT_${:uid}:\n"
          "mbarrier.try_wait.parity.shared::cta.b64 p, [$0], $1;\n"
          "@!p bra TL_WAIT_${:uid};\n}",
          "r,r,~{memory}");
}

void mbarrierArrive(OpBuilder &b, Location loc, Value addr32) {
  asmVoid(b, loc, {addr32}, "mbarrier.arrive.shared::cta.b64 _, [$0];", "r,~{memory}");
}

void mbarrierArriveExpectTx(OpBuilder &b, Location loc, Value addr32, Value bytes) {
  asmVoid(b, loc, {addr32, toI32(b, loc, bytes)},
          "mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r,~{memory}");
}

} // namespace tlc::nvvm
