// tl.copy and tl.fill.
//
//  * register <-> memory: each thread moves the elements its layout gives
//    it, in vector runs where the layout's register bits walk the memory's
//    contiguous dimension (16-byte accesses for blocked layouts, 8-byte pairs
//    for MMA accumulators); global accesses past the tensor read as zero and
//    are not written;
//  * register <-> register: slot for slot (the same layout), converting the
//    dtype;
//  * memory <-> memory: the executing threads share the box in 16-byte
//    vectors where both sides are contiguous and aligned;
//  * asynchronous (with a barrier): TMA (`cp.async.bulk.tensor`) when
//    tl-pipeline gave the copy a tensor map, one instruction per swizzle
//    chunk, completing on the barrier; otherwise the lanes of the issuing
//    warp use cp.async and arrive on the barrier when their copies land;
//  * gathers (a `rows` operand): the source row of each point is read from
//    the index buffer (a row outside the tensor reads zeros); cooperative
//    copies look it up per vector, cp.async copies per row, each lane taking
//    whole rows;
//  * TMA stores of a whole shared tile to a global tensor.
#include "Common.h"

namespace tlc::nvvm {

namespace {

SmallVector<int64_t> squeeze(ArrayRef<int64_t> sizes) {
  SmallVector<int64_t> s;
  for (int64_t x : sizes)
    if (x != 1)
      s.push_back(x);
  if (s.empty())
    s.push_back(1);
  return s;
}

/// Full coordinates of one side of a copy for point `q` of the squeezed box:
/// unit dimensions are dropped dimensions unless the side has as many
/// dimensions as the box.
SmallVector<Value> expandCoords(OpBuilder &b, Location loc, ArrayRef<Value> offsets,
                                ArrayRef<int64_t> sizes, ArrayRef<Value> q) {
  SmallVector<Value> out;
  size_t qi = 0;
  bool consumeAll = sizes.size() == q.size();
  for (size_t d = 0; d < sizes.size(); ++d) {
    Value off = offsets.empty() ? Value() : offsets[d];
    Value c = (consumeAll || sizes[d] != 1) ? q[qi++] : cIndex(b, loc, 0);
    out.push_back(off ? Value(arith::AddIOp::create(b, loc, off, c)) : c);
  }
  return out;
}

/// The squeezed box point of a side's coordinates (relative to its origin).
SmallVector<Value> boxPoint(ArrayRef<Value> coords, ArrayRef<int64_t> sizes, size_t boxRank) {
  SmallVector<Value> q;
  bool consumeAll = sizes.size() == boxRank;
  for (size_t d = 0; d < sizes.size(); ++d)
    if (consumeAll || sizes[d] != 1)
      q.push_back(coords[d]);
  return q;
}

bool isTmem(Type t) { return tl::getMemScope(t) == tl::MemScope::Tmem; }

bool isRegister(Type t) {
  auto s = tl::getMemScope(t);
  return s == tl::MemScope::Fragment || s == tl::MemScope::Local || s == tl::MemScope::Tmem;
}

/// Register bits 0.. of `l` that step the last dimension by 1, 2, 4, ...:
/// how many consecutive slots hold consecutive elements of a row.
int64_t contiguousRun(const tl::LinearLayout &l) {
  int64_t run = 1;
  unsigned last = l.getRank() - 1;
  for (const tl::LinearLayout::Coords &b : l.getBases(tl::LinearLayout::Register)) {
    bool ok = b[last] == run;
    for (unsigned d = 0; d < last; ++d)
      ok &= b[d] == 0;
    if (!ok)
      break;
    run *= 2;
  }
  return run;
}

/// A side of a copy that is memory (global or shared).
struct MemSide {
  Value buffer;        // original
  Value converted;     // adaptor value
  MemRefType type;
  SmallVector<Value> offsets;
  ArrayRef<int64_t> sizes;
  bool global = false;
  GlobalView g;
};

MemSide memSide(OpBuilder &b, Location loc, Value buf, Value conv, ValueRange offsets,
                ArrayRef<int64_t> sizes) {
  MemSide m;
  m.buffer = buf;
  m.converted = conv;
  m.type = cast<MemRefType>(buf.getType());
  m.offsets.assign(offsets.begin(), offsets.end());
  m.sizes = sizes;
  m.global = tl::getMemScope(m.type) == tl::MemScope::Global;
  if (m.global)
    m.g = unpackGlobal(b, loc, conv, m.type.getRank());
  return m;
}

Value memLoad(OpBuilder &b, Location loc, const MemSide &m, ArrayRef<Value> c) {
  Type elem = m.type.getElementType();
  if (!m.global)
    return loadShared(b, loc, m.converted, m.type, c);
  Value ok = inBounds(b, loc, c, m.g.dims);
  auto ifOp = scf::IfOp::create(b, loc, TypeRange{registerType(elem)}, ok, true);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  scf::YieldOp::create(b, loc, loadGlobal(b, loc, m.g, elem, c));
  b.setInsertionPointToStart(ifOp.elseBlock());
  scf::YieldOp::create(b, loc, zeroOf(b, loc, registerType(elem)));
  return ifOp.getResult(0);
}

void memStore(OpBuilder &b, Location loc, const MemSide &m, ArrayRef<Value> c, Value v) {
  if (!m.global) {
    storeShared(b, loc, m.converted, m.type, c, v);
    return;
  }
  auto ifOp = scf::IfOp::create(b, loc, inBounds(b, loc, c, m.g.dims), false);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  storeGlobal(b, loc, m.g, m.type.getElementType(), c, v);
}

/// Pointer to element `c` of a memory side (for vector accesses).
Value memPtr(OpBuilder &b, Location loc, const MemSide &m, ArrayRef<Value> c) {
  Type reg = registerType(m.type.getElementType());
  if (!m.global)
    return sharedElementPtr(b, loc, m.converted, m.type, c);
  Value lin = globalIndex(b, loc, c, m.g.dims);
  return LLVM::GEPOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext(), 1), reg, m.g.ptr,
                             ValueRange{lin});
}

/// i1: a vector of `n` elements at `c` can be accessed at once (global:
/// aligned and inside the tensor; shared: always).
Value vectorOk(OpBuilder &b, Location loc, const MemSide &m, ArrayRef<Value> c, int64_t n) {
  if (!m.global)
    return arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
  Value lin = globalIndex(b, loc, c, m.g.dims);
  Value aligned = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                        arith::RemUIOp::create(b, loc, lin, cI64(b, loc, n)),
                                        cI64(b, loc, 0));
  SmallVector<Value> lastc(c.begin(), c.end());
  lastc.back() = arith::AddIOp::create(b, loc, lastc.back(), cIndex(b, loc, n - 1));
  return arith::AndIOp::create(b, loc, aligned, inBounds(b, loc, lastc, m.g.dims));
}

/// A gather's source row for the point whose source coordinates are `sc`:
/// its position i along gather_dim reads rows[i] (a 1-D buffer) or
/// rows[o0, ..., o_last + i] (a slice of a global tensor; past its end: -1).
/// A row outside the source then reads zeros through the usual guards.
Value gatherRow(OpBuilder &b, Location loc, tl::CopyOp op, tl::CopyOp::Adaptor adaptor,
                const MemSide &src, ArrayRef<Value> sc) {
  int64_t g = *op.getGatherDim();
  Value at = sc[g];
  if (!src.offsets.empty())
    at = arith::SubIOp::create(b, loc, at, src.offsets[g]);
  auto rt = cast<MemRefType>(op.getRows().getType());
  Value row;
  if (tl::getMemScope(rt) == tl::MemScope::Shared) {
    row = loadShared(b, loc, adaptor.getRows(), rt, {at});
  } else {
    SmallVector<Value> c(adaptor.getRowsOffsets().begin(), adaptor.getRowsOffsets().end());
    if (c.empty())
      c.push_back(at);
    else
      c.back() = arith::AddIOp::create(b, loc, c.back(), at);
    GlobalView gv = unpackGlobal(b, loc, adaptor.getRows(), rt.getRank());
    auto ifOp = scf::IfOp::create(b, loc, TypeRange{b.getI32Type()}, inBounds(b, loc, c, gv.dims),
                                  true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    scf::YieldOp::create(b, loc, loadGlobal(b, loc, gv, rt.getElementType(), c));
    b.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(b, loc, cI32(b, loc, -1));
    row = ifOp.getResult(0);
  }
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), row);
}

//===----------------------------------------------------------------------===//
// Register <-> memory
//===----------------------------------------------------------------------===//

} // namespace

LogicalResult emitRegisterMemoryCopy(tl::CopyOp op, tl::CopyOp::Adaptor adaptor, OpBuilder &rewriter,
                                     Value regConv, MemRefType regT, bool toMemory,
                                     int64_t slotBegin, int64_t slotEnd) {
  Location loc = op.getLoc();
  if (!(toMemory ? op.getSrcOffsets() : op.getDstOffsets()).empty())
    for (Value v : toMemory ? op.getSrcOffsets() : op.getDstOffsets())
      if (getConstantIntValue(v) != std::optional<int64_t>(0))
        return op.emitError("copies into or out of part of a register buffer are not supported");
  tl::LinearLayout l = *tl::getBufferLayout(regT);
  MemSide m = toMemory ? memSide(rewriter, loc, op.getDst(), adaptor.getDst(),
                                 adaptor.getDstOffsets(), op.getDstSizes())
                       : memSide(rewriter, loc, op.getSrc(), adaptor.getSrc(),
                                 adaptor.getSrcOffsets(), op.getSrcSizes());
  Type regElem = regT.getElementType(), memElem = m.type.getElementType();
  Type regReg = registerType(regElem);
  size_t boxRank = squeeze(m.sizes).size();
  if (squeeze(m.sizes) != squeeze(regT.getShape()))
    return op.emitError("copy regions of different shapes are not supported by the GPU lowering");
  tl::HwIndex hw = hwIndex(rewriter, loc);
  // Stores to memory: one replica of replicated elements.
  Value leader = toMemory ? tl::emitReplicaLeader(rewriter, loc, l, hw) : Value();
  // Vector runs along the memory's contiguous dimension.
  int64_t run = contiguousRun(l);
  int64_t maxRun = 16 / storageBytes(memElem);
  bool lastContig = m.sizes.back() != 1 && regT.getShape().back() != 1;
  if (!lastContig || isFP4(memElem) || isFP4(regElem) || run < 2)
    run = 1;
  run = std::min({run, maxRun, tl::LinearLayout::padPow2(regT.getShape().back())});
  if (regT.getShape().back() % run)
    run = 1;
  // Runs stay inside the slot range.
  while (run > 1 && (slotBegin % run || slotEnd % run))
    run /= 2;
  for (int64_t s = slotBegin; s < slotEnd; s += run) {
    tl::LinearLayout::Coords regPart = l.apply(tl::LinearLayout::Register, s);
    int cls = tl::classifySlot(l, regT.getShape(), regPart);
    if (cls == 1)
      continue;
    OpBuilder::InsertionGuard g(rewriter);
    Value guard = leader;
    SmallVector<Value> fc = tl::emitSlotCoords(rewriter, loc, l, s, hw);
    if (cls == 0) {
      Value valid = inBounds(rewriter, loc, fc, [&] {
        SmallVector<Value> dims;
        for (int64_t d : regT.getShape())
          dims.push_back(cIndex(rewriter, loc, d));
        return dims;
      }());
      guard = guard ? Value(arith::AndIOp::create(rewriter, loc, guard, valid)) : valid;
    }
    if (guard) {
      auto ifOp = scf::IfOp::create(rewriter, loc, guard, false);
      rewriter.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    }
    SmallVector<Value> mc =
        expandCoords(rewriter, loc, m.offsets, m.sizes, boxPoint(fc, regT.getShape(), boxRank));
    auto scalar = [&](int64_t count) {
      for (int64_t e = 0; e < count; ++e) {
        SmallVector<Value> ce = mc;
        ce.back() = arith::AddIOp::create(rewriter, loc, ce.back(), cIndex(rewriter, loc, e));
        Value sp = slotPtr(rewriter, loc, regConv, regReg, s + e);
        if (toMemory) {
          Value v = LLVM::LoadOp::create(rewriter, loc, regReg, sp);
          memStore(rewriter, loc, m, ce, convertScalar(rewriter, loc, v, regElem, memElem));
        } else {
          Value v = memLoad(rewriter, loc, m, ce);
          LLVM::StoreOp::create(rewriter, loc, convertScalar(rewriter, loc, v, memElem, regElem), sp);
        }
      }
    };
    if (run == 1) {
      scalar(1);
      continue;
    }
    Type memReg = registerType(memElem);
    Type vecT = VectorType::get({run}, memReg);
    auto ifOp = scf::IfOp::create(rewriter, loc, vectorOk(rewriter, loc, m, mc, run), true);
    rewriter.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    Value ptr = memPtr(rewriter, loc, m, mc);
    int64_t align = run * storageBytes(memElem);
    if (toMemory) {
      Value vec = LLVM::UndefOp::create(rewriter, loc, vecT);
      for (int64_t e = 0; e < run; ++e) {
        Value v = LLVM::LoadOp::create(rewriter, loc, regReg, slotPtr(rewriter, loc, regConv, regReg, s + e));
        vec = LLVM::InsertElementOp::create(rewriter, loc, vec,
                                            convertScalar(rewriter, loc, v, regElem, memElem),
                                            cI32(rewriter, loc, e));
      }
      LLVM::StoreOp::create(rewriter, loc, vec, ptr, align);
    } else {
      Value vec = LLVM::LoadOp::create(rewriter, loc, vecT, ptr, align);
      for (int64_t e = 0; e < run; ++e) {
        Value v = LLVM::ExtractElementOp::create(rewriter, loc, vec, cI32(rewriter, loc, e));
        LLVM::StoreOp::create(rewriter, loc, convertScalar(rewriter, loc, v, memElem, regElem),
                              slotPtr(rewriter, loc, regConv, regReg, s + e));
      }
    }
    rewriter.setInsertionPoint(ifOp.elseBlock()->getTerminator());
    scalar(run);
  }
  return success();
}

namespace {

LogicalResult lowerRegisterCopy(tl::CopyOp op, tl::CopyOp::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) {
  bool toMemory = isRegister(op.getSrc().getType());
  Value reg = toMemory ? op.getSrc() : op.getDst();
  auto regT = cast<MemRefType>(reg.getType());
  bool sharedDst = toMemory && tl::getMemScope(op.getDst().getType()) == tl::MemScope::Shared;
  // Reading shared memory needs no barrier here: the writer synchronised.
  if (sharedDst)
    syncThreadsOf(rewriter, op.getLoc(), op);
  int64_t slots = tl::getBufferLayout(regT)->getInSize(tl::LinearLayout::Register);
  if (failed(emitRegisterMemoryCopy(op, adaptor, rewriter, toMemory ? adaptor.getSrc()
                                                                    : adaptor.getDst(),
                                    regT, toMemory, 0, slots)))
    return failure();
  if (sharedDst)
    syncThreadsOf(rewriter, op.getLoc(), op);
  rewriter.eraseOp(op);
  return success();
}

/// Register -> register of the same shape: slot for slot (same layouts), or
/// from a replicated source by the destination's coordinates.
LogicalResult lowerRegisterToRegister(tl::CopyOp op, tl::CopyOp::Adaptor adaptor,
                                      ConversionPatternRewriter &rewriter) {
  Location loc = op.getLoc();
  auto srcT = cast<MemRefType>(op.getSrc().getType());
  auto dstT = cast<MemRefType>(op.getDst().getType());
  if (srcT.getShape() != dstT.getShape())
    return op.emitError("a copy between register buffers needs whole buffers of one shape");
  tl::LinearLayout ls = *tl::getBufferLayout(srcT), ld = *tl::getBufferLayout(dstT);
  Type se = srcT.getElementType(), de = dstT.getElementType();
  bool same = ls == ld;
  bool srcReplicated = true;
  for (auto in : {tl::LinearLayout::Lane, tl::LinearLayout::Warp})
    for (auto &b : ls.getBases(in))
      srcReplicated &= llvm::all_of(b, [](int64_t x) { return x == 0; });
  if (!same && !srcReplicated)
    return op.emitError("a copy between register buffers of different layouts (internal: "
                        "tl-infer-layouts should have given them one layout)");
  int64_t slots = ld.getInSize(tl::LinearLayout::Register);
  // f32 -> 16-bit float slot pairs convert with one packed cvt (.bf16x2/.f16x2):
  // attention's P = cast(S) halves its conversions this way.
  if (same && se.isF32() && (de.isBF16() || de.isF16()) && slots % 2 == 0) {
    auto d2 = VectorType::get({2}, de);
    std::string text = de.isBF16() ? "cvt.rn.bf16x2.f32 $0, $2, $1;" : "cvt.rn.f16x2.f32 $0, $2, $1;";
    for (int64_t s = 0; s < slots; s += 2) {
      SmallVector<Value> v;
      for (int64_t i = 0; i < 2; ++i)
        v.push_back(LLVM::LoadOp::create(rewriter, loc, se,
                                         slotPtr(rewriter, loc, adaptor.getSrc(), se, cIndex(rewriter, loc, s + i))));
      Value bits = asmPure(rewriter, loc, rewriter.getI32Type(), v, text, "=r,f,f");
      Value packed = LLVM::BitcastOp::create(rewriter, loc, d2, bits);
      for (int64_t i = 0; i < 2; ++i)
        LLVM::StoreOp::create(rewriter, loc,
                              LLVM::ExtractElementOp::create(rewriter, loc, packed, cI32(rewriter, loc, i)),
                              slotPtr(rewriter, loc, adaptor.getDst(), registerType(de), cIndex(rewriter, loc, s + i)));
    }
    rewriter.eraseOp(op);
    return success();
  }
  tl::HwIndex hw = hwIndex(rewriter, loc);
  SmallVector<int64_t> padded = tl::LinearLayout::padShape(srcT.getShape());
  for (int64_t s = 0; s < slots; ++s) {
    Value srcSlot;
    if (same) {
      srcSlot = cIndex(rewriter, loc, s);
    } else {
      SmallVector<Value> c = tl::emitSlotCoords(rewriter, loc, ld, s, hw);
      SmallVector<Value> dims;
      for (int64_t p : padded)
        dims.push_back(cIndex(rewriter, loc, p));
      srcSlot = linearize(rewriter, loc, c, dims);
    }
    Value v = LLVM::LoadOp::create(rewriter, loc, registerType(se),
                                   slotPtr(rewriter, loc, adaptor.getSrc(), registerType(se), srcSlot));
    LLVM::StoreOp::create(rewriter, loc, convertScalar(rewriter, loc, v, se, de),
                          slotPtr(rewriter, loc, adaptor.getDst(), registerType(de), s));
  }
  rewriter.eraseOp(op);
  return success();
}

//===----------------------------------------------------------------------===//
// Memory <-> memory
//===----------------------------------------------------------------------===//

LogicalResult lowerCooperativeCopy(tl::CopyOp op, tl::CopyOp::Adaptor adaptor,
                                   ConversionPatternRewriter &rewriter) {
  Location loc = op.getLoc();
  MemSide src = memSide(rewriter, loc, op.getSrc(), adaptor.getSrc(), adaptor.getSrcOffsets(),
                        op.getSrcSizes());
  MemSide dst = memSide(rewriter, loc, op.getDst(), adaptor.getDst(), adaptor.getDstOffsets(),
                        op.getDstSizes());
  SmallVector<int64_t> box = squeeze(op.getDstSizes());
  if (squeeze(op.getSrcSizes()) != box)
    return op.emitError("copy regions of different shapes are not supported by the GPU lowering");
  Type se = src.type.getElementType(), de = dst.type.getElementType();
  int64_t threads = threadsOf(op);
  Value tid = arith::SubIOp::create(rewriter, loc, threadIdx(rewriter, loc),
                                    cIndex(rewriter, loc, firstThreadOf(op)));
  bool writesShared = !dst.global;
  if (writesShared)
    syncThreadsOf(rewriter, loc, op);
  // 16-byte vectors along the last dimension when both sides are contiguous
  // there and the element types match.
  int64_t vec = 1;
  if (se == de && !isFP4(se) && src.sizes.back() != 1 && dst.sizes.back() != 1) {
    vec = 16 / storageBytes(se);
    while (vec > 1 && box.back() % vec)
      vec /= 2;
  }
  int64_t n = 1;
  for (int64_t x : box)
    n *= x;
  int64_t units = n / vec;
  auto loop = scf::ForOp::create(rewriter, loc, tid, cIndex(rewriter, loc, units),
                                 cIndex(rewriter, loc, threads));
  {
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPoint(loop.getBody()->getTerminator());
    SmallVector<Value> q(box.size());
    Value rem = arith::MulIOp::create(rewriter, loc, loop.getInductionVar(), cIndex(rewriter, loc, vec));
    for (int64_t d = box.size() - 1; d >= 0; --d) {
      q[d] = arith::RemUIOp::create(rewriter, loc, rem, cIndex(rewriter, loc, box[d]));
      rem = arith::DivUIOp::create(rewriter, loc, rem, cIndex(rewriter, loc, box[d]));
    }
    SmallVector<Value> sc = expandCoords(rewriter, loc, src.offsets, src.sizes, q);
    SmallVector<Value> dc = expandCoords(rewriter, loc, dst.offsets, dst.sizes, q);
    if (op.getRows())
      sc[*op.getGatherDim()] = gatherRow(rewriter, loc, op, adaptor, src, sc);
    auto scalar = [&](int64_t count) {
      for (int64_t e = 0; e < count; ++e) {
        SmallVector<Value> sce = sc, dce = dc;
        sce.back() = arith::AddIOp::create(rewriter, loc, sce.back(), cIndex(rewriter, loc, e));
        dce.back() = arith::AddIOp::create(rewriter, loc, dce.back(), cIndex(rewriter, loc, e));
        Value v = memLoad(rewriter, loc, src, sce);
        memStore(rewriter, loc, dst, dce, convertScalar(rewriter, loc, v, se, de));
      }
    };
    if (vec == 1) {
      scalar(1);
    } else {
      Value ok = arith::AndIOp::create(rewriter, loc, vectorOk(rewriter, loc, src, sc, vec),
                                       vectorOk(rewriter, loc, dst, dc, vec));
      auto ifOp = scf::IfOp::create(rewriter, loc, ok, true);
      rewriter.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      Type vecT = VectorType::get({vec}, registerType(se));
      Value v = LLVM::LoadOp::create(rewriter, loc, vecT, memPtr(rewriter, loc, src, sc), 16);
      LLVM::StoreOp::create(rewriter, loc, v, memPtr(rewriter, loc, dst, dc), 16);
      rewriter.setInsertionPoint(ifOp.elseBlock()->getTerminator());
      scalar(vec);
    }
  }
  if (writesShared)
    syncThreadsOf(rewriter, loc, op);
  rewriter.eraseOp(op);
  return success();
}

//===----------------------------------------------------------------------===//
// Asynchronous copies
//===----------------------------------------------------------------------===//

/// The tensor-map parameter `index` of the kernel.
Value tmaParam(Operation *op, int64_t index) {
  auto fn = op->getParentOfType<LLVM::LLVMFuncOp>();
  auto maps = fn->getAttrOfType<ArrayAttr>("tlc_tma_maps");
  return fn.getArgument(fn.getNumArguments() - maps.size() + index);
}

/// A TMA load of a shared tile: one bulk tensor copy per swizzle chunk of
/// the tile's columns, each completing `bytes` on the barrier.
LogicalResult lowerTmaLoad(tl::CopyOp op, tl::CopyOp::Adaptor adaptor,
                           ConversionPatternRewriter &rewriter) {
  Location loc = op.getLoc();
  auto dstT = cast<MemRefType>(op.getDst().getType());
  auto srcT = cast<MemRefType>(op.getSrc().getType());
  int64_t rank = srcT.getRank();
  std::optional<tl::LinearLayout> l = tl::getBufferLayout(dstT);
  int64_t eb = isFP4(dstT.getElementType()) ? 1 : storageBytes(dstT.getElementType());
  int64_t cols = dstT.getShape().back();
  auto maps = op->getParentOfType<LLVM::LLVMFuncOp>()->getAttrOfType<ArrayAttr>("tlc_tma_maps");
  auto map = cast<DictionaryAttr>(maps[*op.getTma()]);
  ArrayRef<int64_t> box = map.getAs<DenseI64ArrayAttr>("box").asArrayRef();
  int64_t chunkCols = box.back();
  Value mapAddr = LLVM::PtrToIntOp::create(rewriter, loc, rewriter.getI64Type(),
                                           tmaParam(op, *op.getTma()));
  Value bar = LLVM::GEPOp::create(rewriter, loc, LLVM::LLVMPointerType::get(op.getContext(), 3),
                                  rewriter.getI64Type(), adaptor.getBarrier(),
                                  ValueRange{toI64(rewriter, loc, adaptor.getBarrierIndex())});
  Value barAddr = sharedAddr32(rewriter, loc, bar);
  Value base = sharedAddr32(rewriter, loc, adaptor.getDst());
  SmallVector<Value> off(adaptor.getSrcOffsets().begin(), adaptor.getSrcOffsets().end());
  if (off.empty())
    off.assign(rank, cIndex(rewriter, loc, 0));
  if (cols % chunkCols)
    return op.emitError("internal: the tensor map's box does not tile the shared buffer");
  for (int64_t c = 0; c < cols / chunkCols; ++c) {
    // The chunk's place in the tile: the layout's offset of its first column.
    int64_t chunkElem = c * chunkCols;
    if (l)
      chunkElem = *l->offsetOf({0, c * chunkCols});
    Value dst = arith::AddIOp::create(rewriter, loc, base, cI32(rewriter, loc, chunkElem * eb));
    SmallVector<Value> operands{dst, mapAddr, barAddr};
    std::string coords;
    for (int64_t d = rank - 1; d >= 0; --d) {
      Value v = off[d];
      if (d == rank - 1 && c)
        v = arith::AddIOp::create(rewriter, loc, v, cIndex(rewriter, loc, c * chunkCols));
      operands.push_back(toI32(rewriter, loc, v));
      coords += (coords.empty() ? "" : ", ") + ("$" + std::to_string(operands.size() - 1));
    }
    std::string cons = "r,l,r";
    for (int64_t d = 0; d < rank; ++d)
      cons += ",r";
    asmVoid(rewriter, loc, operands,
            llvm::formatv("cp.async.bulk.tensor.{0}d.shared::cluster.global.mbarrier::complete_"
                          "tx::bytes [$0], [$1, {{{1}}], [$2];",
                          rank, coords)
                .str(),
            cons + ",~{memory}");
  }
  rewriter.eraseOp(op);
  return success();
}

/// cp.async of the elements by the lanes of the issuing warp, in pieces of
/// tl::getCpAsyncVectorBytes (an element of 4, 8 or 16 bytes, or up to 16
/// bytes of a row of 8-bit elements); each lane's barrier arrival fires when
/// its copies land (the barrier counts them). Where the async proxy reads
/// the stage (`tl.async_proxy`: tcgen05), each lane instead waits for its
/// copies, fences the proxies and arrives itself.
LogicalResult lowerCpAsync(tl::CopyOp op, tl::CopyOp::Adaptor adaptor,
                           ConversionPatternRewriter &rewriter) {
  Location loc = op.getLoc();
  MemSide src = memSide(rewriter, loc, op.getSrc(), adaptor.getSrc(), adaptor.getSrcOffsets(),
                        op.getSrcSizes());
  MemSide dst = memSide(rewriter, loc, op.getDst(), adaptor.getDst(), adaptor.getDstOffsets(),
                        op.getDstSizes());
  Type se = src.type.getElementType();
  int64_t eb = storageBytes(se);
  int64_t bytes =
      op.getRows()
          ? tl::getGatherVectorBytes(src.type, op.getSrcSizes(), dst.type, op.getDstSizes())
          : tl::getCpAsyncVectorBytes(src.type, op.getSrcSizes(), dst.type, op.getDstSizes());
  if (!bytes)
    return op.emitError("an asynchronous copy without a tensor map needs 4, 8 or 16-byte "
                        "elements (or rows of 8-bit elements; a gather: rows of 4, 8 or "
                        "16-byte pieces) of one dtype on both sides");
  int64_t vec = bytes / eb;
  SmallVector<int64_t> box = squeeze(op.getDstSizes());
  int64_t n = 1;
  for (int64_t x : box)
    n *= x;
  Value lane = arith::RemUIOp::create(rewriter, loc, threadIdx(rewriter, loc),
                                      cIndex(rewriter, loc, kWarpSize));
  // The warps sharing the copy (tl-pipeline's tl.copy_warps: the first ones
  // of the role) and this thread's among them.
  int64_t warps = 1;
  if (auto w = op->getAttrOfType<IntegerAttr>(tl::kCopyWarpsAttrName))
    warps = w.getInt();
  Value warpIdx = cIndex(rewriter, loc, 0);
  if (warps > 1)
    warpIdx = arith::DivUIOp::create(
        rewriter, loc,
        arith::SubIOp::create(rewriter, loc, threadIdx(rewriter, loc),
                              cIndex(rewriter, loc, firstThreadOf(op))),
        cIndex(rewriter, loc, kWarpSize));
  // One piece of `vec` elements at box point q (row: a gather's source row
  // for q, read once per row by the caller).
  auto piece = [&](ArrayRef<Value> q, Value row) {
    SmallVector<Value> sc = expandCoords(rewriter, loc, src.offsets, src.sizes, q);
    SmallVector<Value> dc = expandCoords(rewriter, loc, dst.offsets, dst.sizes, q);
    if (op.getRows())
      sc[*op.getGatherDim()] = row ? row : gatherRow(rewriter, loc, op, adaptor, src, sc);
    // Out of bounds: a source size of 0 (zero fill) at the tensor's base; a
    // piece cut by the last dimension copies its part and zero-fills the rest.
    Value ok = inBounds(rewriter, loc, sc, src.g.dims);
    Value lin = arith::SelectOp::create(rewriter, loc, ok, globalIndex(rewriter, loc, sc, src.g.dims),
                                        cI64(rewriter, loc, 0));
    Value sp = LLVM::GEPOp::create(rewriter, loc, LLVM::LLVMPointerType::get(op.getContext(), 1),
                                   registerType(se), src.g.ptr, ValueRange{toI64(rewriter, loc, lin)});
    Value srcAddr = LLVM::PtrToIntOp::create(rewriter, loc, rewriter.getI64Type(), sp);
    Value dstAddr = sharedAddr32(rewriter, loc, sharedElementPtr(rewriter, loc, dst.converted,
                                                                 dst.type, dc));
    Value size = cI32(rewriter, loc, bytes);
    if (vec > 1) {
      Value left = arith::SubIOp::create(rewriter, loc, src.g.dims.back(), sc.back());
      Value elems = arith::MinUIOp::create(rewriter, loc, left, cIndex(rewriter, loc, vec));
      size = toI32(rewriter, loc, arith::MulIOp::create(rewriter, loc, elems, cIndex(rewriter, loc, eb)));
    }
    size = arith::SelectOp::create(rewriter, loc, ok, size, cI32(rewriter, loc, 0));
    asmVoid(rewriter, loc, {dstAddr, srcAddr, size},
            llvm::formatv("cp.async.{0}.shared.global [$0], [$1], {1}, $2;",
                          bytes == 16 ? "cg" : "ca", bytes).str(),
            "r,l,r,~{memory}");
  };
  // Where the gathered dimension sits in the box (-1: not a gather).
  int64_t gatherBox = -1;
  if (op.getRows() && op.getSrcSizes()[*op.getGatherDim()] != 1) {
    gatherBox = 0;
    for (int64_t d = 0; d < static_cast<int64_t>(*op.getGatherDim()); ++d)
      gatherBox += op.getSrcSizes()[d] != 1;
  }
  if (box.size() == 2 && gatherBox == 0) {
    // A gather of whole rows. A group of Lr lanes (the row's pieces rounded
    // up to a power of two, at most the warp) copies one row together, so a
    // warp's pieces are consecutive bytes of few rows: coalesced global reads
    // and shared writes without bank conflicts (lane-per-row pieces touched
    // 32 rows per instruction). Each lane first reads one row number per 32
    // rows; a group takes its row's number from that lane by a shuffle. The
    // steps are unrolled (constant trip counts), so the loads, shuffles and
    // copies of different rows are independent instructions. With several
    // copying warps, warp w takes rows [w * perWarp, (w + 1) * perWarp).
    int64_t pieces = box[1] / vec;
    int64_t lanesPerRow = std::min<int64_t>(kWarpSize, llvm::PowerOf2Ceil(pieces));
    int64_t rowsPerStep = kWarpSize / lanesPerRow;
    int64_t colSteps = llvm::divideCeil(pieces, lanesPerRow);
    int64_t perWarp = llvm::divideCeil(box[0], warps);
    int64_t chunks = llvm::divideCeil(perWarp, kWarpSize);
    bool ragged = box[0] % warps != 0; // the last warp's rows run past the box
    Type i32 = rewriter.getI32Type();
    Value rowsN = cIndex(rewriter, loc, box[0]);
    Value perWarpN = cIndex(rewriter, loc, perWarp);
    Value base = arith::MulIOp::create(rewriter, loc, warpIdx, perWarpN);
    // Row `local` of this warp: inside its share and the box.
    auto rowOk = [&](Value local, Value p) {
      Value ok = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult, local, perWarpN);
      if (ragged)
        ok = arith::AndIOp::create(
            rewriter, loc, ok,
            arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult, p, rowsN));
      return ok;
    };
    Value lanesPerRowV = cIndex(rewriter, loc, lanesPerRow);
    Value sub = arith::RemUIOp::create(rewriter, loc, lane, lanesPerRowV);
    Value group = arith::DivUIOp::create(rewriter, loc, lane, lanesPerRowV);
    // Runs body under `cond` where `guard` (else unconditionally).
    auto guarded = [&](bool guard, Value cond, llvm::function_ref<void()> body) {
      if (!guard) {
        body();
        return;
      }
      auto ifOp = scf::IfOp::create(rewriter, loc, cond, false);
      OpBuilder::InsertionGuard gi(rewriter);
      rewriter.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      body();
    };
    SmallVector<Value> rowNums;
    for (int64_t ch = 0; ch < chunks; ++ch) {
      Value local = arith::AddIOp::create(rewriter, loc, cIndex(rewriter, loc, ch * kWarpSize), lane);
      Value mine = arith::AddIOp::create(rewriter, loc, base, local);
      auto rowIf = scf::IfOp::create(rewriter, loc, TypeRange{i32}, rowOk(local, mine), true);
      OpBuilder::InsertionGuard gi(rewriter);
      rewriter.setInsertionPointToStart(rowIf.thenBlock());
      SmallVector<Value> sc0 = expandCoords(rewriter, loc, src.offsets, src.sizes,
                                            {mine, cIndex(rewriter, loc, 0)});
      Value r = gatherRow(rewriter, loc, op, adaptor, src, sc0);
      scf::YieldOp::create(rewriter, loc,
                           arith::IndexCastOp::create(rewriter, loc, i32, r).getResult());
      rewriter.setInsertionPointToStart(rowIf.elseBlock());
      scf::YieldOp::create(rewriter, loc, cI32(rewriter, loc, -1));
      rowNums.push_back(rowIf.getResult(0));
    }
    Value full = cI32(rewriter, loc, -1);
    for (int64_t ch = 0; ch < chunks; ++ch)
      for (int64_t j = 0; j < kWarpSize && ch * kWarpSize + j < perWarp; j += rowsPerStep) {
        // Every lane reaches the shuffle; the copies below it are guarded
        // where a step may run past the rows or a row's pieces.
        Value rr = arith::AddIOp::create(rewriter, loc, cIndex(rewriter, loc, j), group);
        Value row32 = NVVM::ShflOp::create(rewriter, loc, i32, full, rowNums[ch],
                                           arith::IndexCastOp::create(rewriter, loc, i32, rr),
                                           cI32(rewriter, loc, 0x1f), NVVM::ShflKind::idx,
                                           mlir::UnitAttr());
        Value row = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(), row32);
        Value local = arith::AddIOp::create(rewriter, loc, cIndex(rewriter, loc, ch * kWarpSize), rr);
        Value p = arith::AddIOp::create(rewriter, loc, base, local);
        bool rowGuard = ragged || ch * kWarpSize + j + rowsPerStep > perWarp;
        guarded(rowGuard, rowOk(local, p),
                [&] {
                  for (int64_t k = 0; k < colSteps; ++k) {
                    Value c = arith::AddIOp::create(rewriter, loc, sub,
                                                    cIndex(rewriter, loc, k * lanesPerRow));
                    bool colGuard = (k + 1) * lanesPerRow > pieces;
                    guarded(colGuard,
                            arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult, c,
                                                  cIndex(rewriter, loc, pieces)),
                            [&] {
                              piece({p, arith::MulIOp::create(rewriter, loc, c,
                                                              cIndex(rewriter, loc, vec))},
                                    row);
                            });
                  }
                });
      }
  } else {
    Value first = arith::AddIOp::create(
        rewriter, loc, arith::MulIOp::create(rewriter, loc, warpIdx, cIndex(rewriter, loc, kWarpSize)),
        lane);
    auto loop = scf::ForOp::create(rewriter, loc, first, cIndex(rewriter, loc, n / vec),
                                   cIndex(rewriter, loc, kWarpSize * warps));
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPoint(loop.getBody()->getTerminator());
    SmallVector<Value> q(box.size());
    Value rem = arith::MulIOp::create(rewriter, loc, loop.getInductionVar(),
                                      cIndex(rewriter, loc, vec));
    for (int64_t d = box.size() - 1; d >= 0; --d) {
      q[d] = arith::RemUIOp::create(rewriter, loc, rem, cIndex(rewriter, loc, box[d]));
      rem = arith::DivUIOp::create(rewriter, loc, rem, cIndex(rewriter, loc, box[d]));
    }
    piece(q, Value());
  }
  Value bar = LLVM::GEPOp::create(rewriter, loc, LLVM::LLVMPointerType::get(op.getContext(), 3),
                                  rewriter.getI64Type(), adaptor.getBarrier(),
                                  ValueRange{toI64(rewriter, loc, adaptor.getBarrierIndex())});
  Value barAddr = sharedAddr32(rewriter, loc, bar);
  if (op->hasAttr(tl::kAsyncProxyAttrName)) {
    asmVoid(rewriter, loc, {}, "cp.async.wait_all;", "~{memory}");
    asmVoid(rewriter, loc, {}, "fence.proxy.async.shared::cta;", "~{memory}");
    mbarrierArrive(rewriter, loc, barAddr);
  } else {
    asmVoid(rewriter, loc, {barAddr}, "cp.async.mbarrier.arrive.noinc.shared::cta.b64 [$0];",
            "r,~{memory}");
  }
  rewriter.eraseOp(op);
  return success();
}

/// A whole shared tile stored to a global tensor by TMA, by one thread,
/// after the tile's ordinary stores are made visible to the async proxy.
LogicalResult lowerTmaStore(tl::CopyOp op, tl::CopyOp::Adaptor adaptor,
                            ConversionPatternRewriter &rewriter) {
  Location loc = op.getLoc();
  auto dstT = cast<MemRefType>(op.getDst().getType());
  int64_t rank = dstT.getRank();
  asmVoid(rewriter, loc, {}, "fence.proxy.async.shared::cta;", "~{memory}");
  syncThreadsOf(rewriter, loc, op);
  Value tid = threadIdx(rewriter, loc);
  Value first = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, tid,
                                      cIndex(rewriter, loc, firstThreadOf(op)));
  auto ifOp = scf::IfOp::create(rewriter, loc, first, false);
  {
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    Value mapAddr = LLVM::PtrToIntOp::create(rewriter, loc, rewriter.getI64Type(),
                                             tmaParam(op, *op.getTma()));
    SmallVector<Value> operands{mapAddr, sharedAddr32(rewriter, loc, adaptor.getSrc())};
    SmallVector<Value> off(adaptor.getDstOffsets().begin(), adaptor.getDstOffsets().end());
    if (off.empty())
      off.assign(rank, cIndex(rewriter, loc, 0));
    std::string coords, cons = "l,r";
    for (int64_t d = rank - 1; d >= 0; --d) {
      operands.push_back(toI32(rewriter, loc, off[d]));
      coords += (coords.empty() ? "" : ", ") + ("$" + std::to_string(operands.size() - 1));
      cons += ",r";
    }
    asmVoid(rewriter, loc, operands,
            llvm::formatv("cp.async.bulk.tensor.{0}d.global.shared::cta.bulk_group [$0, {{{1}}], "
                          "[$1];",
                          rank, coords)
                .str(),
            cons + ",~{memory}");
    asmVoid(rewriter, loc, {}, "cp.async.bulk.commit_group;", "~{memory}");
    asmVoid(rewriter, loc, {}, "cp.async.bulk.wait_group.read 0;", "~{memory}");
  }
  syncThreadsOf(rewriter, loc, op);
  rewriter.eraseOp(op);
  return success();
}

struct CopyLowering : public OpConversionPattern<tl::CopyOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::CopyOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    bool srcReg = isRegister(op.getSrc().getType()), dstReg = isRegister(op.getDst().getType());
    if (isTmem(op.getSrc().getType()) || isTmem(op.getDst().getType()))
      return rewriter.notifyMatchFailure(op, "tensor memory: TmemOps");
    if (op.getBarrier())
      return op.getTma() ? lowerTmaLoad(op, adaptor, rewriter) : lowerCpAsync(op, adaptor, rewriter);
    if (op.getTma())
      return lowerTmaStore(op, adaptor, rewriter);
    if (srcReg && dstReg)
      return lowerRegisterToRegister(op, adaptor, rewriter);
    if (srcReg || dstReg)
      return lowerRegisterCopy(op, adaptor, rewriter);
    return lowerCooperativeCopy(op, adaptor, rewriter);
  }
};

struct FillLowering : public OpConversionPattern<tl::FillOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::FillOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<MemRefType>(op.getDst().getType());
    Value v = adaptor.getValue();
    Type reg = registerType(type.getElementType());
    if (isTmem(type))
      return rewriter.notifyMatchFailure(op, "tensor memory: TmemOps");
    if (type.getElementType().isInteger(1))
      v = arith::ExtUIOp::create(rewriter, loc, reg, v);
    if (isRegister(type)) {
      tl::LinearLayout l = *tl::getBufferLayout(type);
      for (int64_t s = 0; s < l.getInSize(tl::LinearLayout::Register); ++s)
        LLVM::StoreOp::create(rewriter, loc, v, slotPtr(rewriter, loc, adaptor.getDst(), reg, s));
      rewriter.eraseOp(op);
      return success();
    }
    if (tl::getMemScope(type) != tl::MemScope::Shared)
      return op.emitError("T.fill of a global tensor is not supported by the GPU lowering; use a "
                          "T.Parallel loop");
    syncThreadsOf(rewriter, loc, op);
    Value tid = arith::SubIOp::create(rewriter, loc, threadIdx(rewriter, loc),
                                      cIndex(rewriter, loc, firstThreadOf(op)));
    auto loop = scf::ForOp::create(rewriter, loc, tid, cIndex(rewriter, loc, type.getNumElements()),
                                   cIndex(rewriter, loc, threadsOf(op)));
    {
      OpBuilder::InsertionGuard g(rewriter);
      rewriter.setInsertionPoint(loop.getBody()->getTerminator());
      SmallVector<Value> coords(type.getRank());
      Value rem = loop.getInductionVar();
      for (int64_t d = type.getRank() - 1; d >= 0; --d) {
        coords[d] = arith::RemUIOp::create(rewriter, loc, rem, cIndex(rewriter, loc, type.getShape()[d]));
        rem = arith::DivUIOp::create(rewriter, loc, rem, cIndex(rewriter, loc, type.getShape()[d]));
      }
      storeShared(rewriter, loc, adaptor.getDst(), type, coords, adaptor.getValue());
    }
    syncThreadsOf(rewriter, loc, op);
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateCopyPatterns(TlTypeConverter &tc, RewritePatternSet &patterns, const NVIDIATarget &) {
  patterns.add<CopyLowering, FillLowering>(tc, patterns.getContext());
}

} // namespace tlc::nvvm
