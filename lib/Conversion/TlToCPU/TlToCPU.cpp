// --tl-lower-to-cpu: tl kernels -> scf/memref/arith/math/func for the host.
//
// Each kernel function is rewritten in place, in this order:
//  1. its signature becomes the CPU entry of docs/abi.md,
//     `(!llvm.ptr args, i64 block_begin, i64 block_end)`; the entry block
//     unpacks the argument slots and builds memref descriptors from the host
//     pointers and dynamic sizes (f4 tensors become packed i8 views);
//  2. tl.launch becomes one scf.for over the linear block range, block ids
//     delinearised x fastest; every allocation in the launch is hoisted in
//     front of that loop (one memref.alloc per call, freed after it);
//  3. tl.parallel / tl.pipelined become scf.for nests; tl.view and
//     tl.reshape become memref views of their source (Views.cpp);
//  4. tile ops become loop nests (copy with bounds checks, fill, gemm with f32
//     accumulation, reduce, topk, atomic_add via memref.atomic_rmw);
//     synchronisation and barriers vanish (a block runs to completion alone);
//  5. tl.cast and narrow-type arith casts become exact integer emulation
//     (LowPrecision.cpp);
//  6. all types are legalised: tl memory spaces dropped, f8/f4 stored as i8.
// Thread-level code (tl.thread_id) must have been turned into loops over the
// block's threads by --tl-cpu-thread-loops (ThreadLoops.cpp) before.
#include "tlc/Conversion/TlToCPU.h"

#include "KernelLowering.h"

namespace tlc::cpu {


/// Type of an element value on the CPU: narrow floats are i8 codes.
Type storageElementType(Type t) {
  if (isNarrowFloat(t))
    return IntegerType::get(t.getContext(), 8);
  return t;
}

/// Element type of a buffer on the CPU: also bf16/f16 are stored as i16, so
/// that moving them never passes through x86's soft-promoted half registers
/// (whose truncation would quieten NaN payloads); loads and stores bitcast.
Type memoryElementType(Type t) {
  if (t.isBF16() || t.isF16())
    return IntegerType::get(t.getContext(), 16);
  return storageElementType(t);
}

/// The legal CPU type of any value type: memrefs lose their tl scope, narrow
/// floats become i8 (scalars, vectors and memref elements).
Type legalType(Type t) {
  if (auto mt = dyn_cast<MemRefType>(t)) {
    Attribute space = mt.getMemorySpace();
    if (space && isa<MemScopeAttr>(space))
      space = Attribute();
    return MemRefType::get(mt.getShape(), memoryElementType(mt.getElementType()),
                           mt.getLayout(), space);
  }
  if (auto vt = dyn_cast<VectorType>(t))
    return vt.clone(storageElementType(vt.getElementType()));
  return storageElementType(t);
}


Value KernelLowering::dimOf(OpBuilder &b, Location loc, Value buf, int64_t d) {
  auto it = packed.find(buf);
  if (it != packed.end())
    return it->second.dims[d];
  auto mt = cast<MemRefType>(buf.getType());
  if (!mt.isDynamicDim(d))
    return cIdx(b, loc, mt.getDimSize(d));
  return memref::DimOp::create(b, loc, buf, d);
}

Value KernelLowering::loadElem(OpBuilder &b, Location loc, Value buf, ValueRange idx) {
  auto it = packed.find(buf);
  if (it == packed.end())
    return memref::LoadOp::create(b, loc, buf, idx);
  // Element i of the last dimension lives in byte i / 2, low nibble if even.
  SmallVector<Value> bidx(idx.begin(), idx.end());
  Value last = bidx.back();
  Value two = cIdx(b, loc, 2);
  bidx.back() = arith::DivUIOp::create(b, loc, last, two);
  Value byte = memref::LoadOp::create(b, loc, it->second.bytes, bidx);
  Value odd = arith::IndexCastUIOp::create(b, loc, b.getI8Type(),
                                           arith::RemUIOp::create(b, loc, last, two));
  Value shift = arith::MulIOp::create(
      b, loc, odd, arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(4)));
  Value code = arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, byte, shift),
                                     arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0xF)));
  Type f4 = cast<MemRefType>(buf.getType()).getElementType();
  return UnrealizedConversionCastOp::create(b, loc, f4, code).getResult(0);
}

void KernelLowering::storeElem(OpBuilder &b, Location loc, Value buf, ValueRange idx, Value v) {
  auto it = packed.find(buf);
  if (it == packed.end()) {
    memref::StoreOp::create(b, loc, v, buf, idx);
    return;
  }
  // Two atomic read-modify-writes: clear our nibble, then set it. Blocks on
  // other host threads may write the other nibble of the same byte.
  SmallVector<Value> bidx(idx.begin(), idx.end());
  Value last = bidx.back();
  Value two = cIdx(b, loc, 2);
  bidx.back() = arith::DivUIOp::create(b, loc, last, two);
  Type i8 = b.getI8Type();
  Value odd = arith::IndexCastUIOp::create(b, loc, i8, arith::RemUIOp::create(b, loc, last, two));
  Value shift = arith::MulIOp::create(b, loc, odd,
                                      arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(4)));
  Value code = UnrealizedConversionCastOp::create(b, loc, i8, v).getResult(0);
  Value nib = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0xF));
  code = arith::ShLIOp::create(b, loc, arith::AndIOp::create(b, loc, code, nib), shift);
  Value keep = arith::XOrIOp::create(
      b, loc, arith::ShLIOp::create(b, loc, nib, shift),
      arith::ConstantOp::create(b, loc, b.getIntegerAttr(i8, -1)));
  memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::andi, keep, it->second.bytes, bidx);
  memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::ori, code, it->second.bytes, bidx);
}

Value KernelLowering::inBounds(OpBuilder &b, Location loc, Value buf, ValueRange idx) {
  Value ok;
  for (auto [d, i] : llvm::enumerate(idx)) {
    // Unsigned compare: a negative index is out of bounds too.
    Value c = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, i,
                                    dimOf(b, loc, buf, static_cast<int64_t>(d)));
    ok = ok ? Value(arith::AndIOp::create(b, loc, ok, c)) : c;
  }
  return ok ? ok : Value(arith::ConstantOp::create(b, loc, b.getBoolAttr(true)));
}

Value KernelLowering::scratch(MemRefType type) {
  OpBuilder b(blockLoop);
  Location loc = blockLoop.getLoc();
  Value buf = memref::AllocOp::create(b, loc, type, b.getI64IntegerAttr(64));
  b.setInsertionPointAfter(blockLoop);
  memref::DeallocOp::create(b, loc, buf);
  return buf;
}

// --- 0. what the CPU target cannot run -------------------------------------

LogicalResult KernelLowering::checkSupported() {
  bool ok = true;
  func.walk([&](Operation *op) {
    if (isa<ThreadIdOp>(op)) {
      op->emitError("T.thread_id reached the CPU lowering: run --tl-cpu-thread-loops first "
                    "(it turns the block's threads into loops)");
      ok = false;
    } else if (auto cast = dyn_cast<CastOp>(op)) {
      (void)cast;
    } else if (op->getDialect() && op->getDialect()->getNamespace() == "arith" &&
               !isa<arith::ConstantOp, arith::SelectOp, arith::TruncFOp, arith::ExtFOp,
                    arith::SIToFPOp, arith::UIToFPOp, arith::FPToSIOp, arith::FPToUIOp>(op)) {
      for (Type t : op->getOperandTypes())
        if (isNarrowFloat(getElementTypeOrSelf(t))) {
          op->emitError("arithmetic on ")
              << t << " is not supported by the CPU target; cast to float32 first";
          ok = false;
          break;
        }
    }
  });
  return success(ok);
}

// --- 1. the ABI entry -------------------------------------------------------

LogicalResult KernelLowering::lowerSignature() {
  MLIRContext *ctx = func.getContext();
  Block &entry = func.getBody().front();
  Location loc = func.getLoc();
  numOldArgs = entry.getNumArguments();
  auto ptrTy = LLVM::LLVMPointerType::get(ctx);
  Type i64 = IntegerType::get(ctx, 64);
  Value argsPtr = entry.addArgument(ptrTy, loc);
  Value begin = entry.addArgument(i64, loc);
  Value end = entry.addArgument(i64, loc);

  OpBuilder b(ctx);
  b.setInsertionPointToStart(&entry);
  auto argDims = func->getAttrOfType<ArrayAttr>(kArgDimsAttrName);
  int64_t slot = 0;
  auto loadSlot = [&](Type t) -> Value {
    Value p = LLVM::GEPOp::create(b, loc, ptrTy, ptrTy, argsPtr,
                                  ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(slot++)});
    Value vp = LLVM::LoadOp::create(b, loc, ptrTy, p);
    return LLVM::LoadOp::create(b, loc, t, vp);
  };
  auto i64c = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  };

  for (unsigned i = 0; i < numOldArgs; ++i) {
    BlockArgument arg = entry.getArgument(i);
    Type t = arg.getType();
    if (auto mt = dyn_cast<MemRefType>(t)) {
      ArrayAttr dimsAttr;
      if (argDims && i < argDims.size())
        dimsAttr = dyn_cast<ArrayAttr>(argDims[i]);
      Value ptr = loadSlot(ptrTy);
      SmallVector<Value> sizes;
      for (int64_t d = 0; d < mt.getRank(); ++d) {
        bool symbolic = dimsAttr && d < static_cast<int64_t>(dimsAttr.size()) &&
                        isa<StringAttr>(dimsAttr[d]);
        Value v = symbolic ? loadSlot(i64) : Value();
        if (!mt.isDynamicDim(d)) {
          sizes.push_back(i64c(mt.getDimSize(d)));
        } else if (v) {
          sizes.push_back(v);
        } else {
          return func.emitError("argument ")
                 << i << " of kernel '" << func.getName()
                 << "' has a dynamic dimension without a tl.arg_dims expression";
        }
      }
      bool isF4 = isa<Float4E2M1FNType>(mt.getElementType());
      SmallVector<Value> storeSizes = sizes;
      SmallVector<int64_t> storeShape(mt.getShape());
      Type storeType = t;
      if (isF4) {
        if (mt.getRank() == 0)
          return func.emitError("a rank-0 float4_e2m1 tensor cannot be packed");
        storeSizes.back() = arith::DivUIOp::create(b, loc, arith::AddIOp::create(
                                                             b, loc, sizes.back(), i64c(1)),
                                                   i64c(2));
        if (!ShapedType::isDynamic(storeShape.back()))
          storeShape.back() = (storeShape.back() + 1) / 2;
        storeType = MemRefType::get(storeShape, b.getI8Type());
      }
      // Row-major descriptor {alloc, aligned, offset, sizes, strides}.
      int64_t rank = mt.getRank();
      SmallVector<Type> fields{ptrTy, ptrTy, i64};
      if (rank > 0) {
        fields.push_back(LLVM::LLVMArrayType::get(i64, rank));
        fields.push_back(LLVM::LLVMArrayType::get(i64, rank));
      }
      auto descTy = LLVM::LLVMStructType::getLiteral(ctx, fields);
      Value desc = LLVM::PoisonOp::create(b, loc, descTy);
      auto ins = [&](Value v, ArrayRef<int64_t> pos) {
        desc = LLVM::InsertValueOp::create(b, loc, desc, v, b.getDenseI64ArrayAttr(pos));
      };
      ins(ptr, {0});
      ins(ptr, {1});
      ins(i64c(0), {2});
      Value stride = i64c(1);
      for (int64_t d = rank - 1; d >= 0; --d) {
        ins(storeSizes[d], {3, d});
        ins(stride, {4, d});
        stride = arith::MulIOp::create(b, loc, stride, storeSizes[d]);
      }
      Value view = UnrealizedConversionCastOp::create(b, loc, storeType, desc).getResult(0);
      if (isF4) {
        PackedF4 p;
        p.bytes = view;
        for (Value s : sizes)
          p.dims.push_back(arith::IndexCastOp::create(b, loc, b.getIndexType(), s));
        packed[arg] = p;
      } else {
        arg.replaceAllUsesWith(view);
      }
      continue;
    }
    Value v;
    if (t.isInteger(1)) {
      v = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, loadSlot(b.getI8Type()),
                                arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0)));
    } else if (t.isIndex()) {
      v = arith::IndexCastOp::create(b, loc, t, loadSlot(i64));
    } else if (isNarrowFloat(t)) {
      v = UnrealizedConversionCastOp::create(b, loc, t, loadSlot(b.getI8Type())).getResult(0);
    } else if (isa<IntegerType, FloatType>(t)) {
      v = loadSlot(t);
    } else {
      return func.emitError("argument ") << i << " of kernel '" << func.getName()
                                          << "' has a type the CPU target cannot pass: " << t;
    }
    arg.replaceAllUsesWith(v);
  }
  blockBegin = arith::IndexCastOp::create(b, loc, b.getIndexType(), begin);
  blockEnd = arith::IndexCastOp::create(b, loc, b.getIndexType(), end);
  return success();
}

// --- 2. the grid ------------------------------------------------------------

LogicalResult KernelLowering::lowerLaunch(LaunchOp launch) {
  Location loc = launch.getLoc();
  OpBuilder b(launch);
  SmallVector<Value> grid(launch.getGrid().begin(), launch.getGrid().end());
  Block &body = launch.getBodyBlock();

  // tl.block_id d is the launch's d-th block argument (0 past the grid rank).
  SmallVector<BlockIdOp> ids;
  launch.walk([&](BlockIdOp op) { ids.push_back(op); });
  for (BlockIdOp op : ids) {
    int64_t d = op.getDim();
    Value repl;
    if (d < static_cast<int64_t>(body.getNumArguments())) {
      repl = body.getArgument(d);
    } else {
      OpBuilder ib(op);
      repl = cIdx(ib, op.getLoc(), 0);
    }
    rewriter.replaceOp(op, repl);
  }

  Value total = cIdx(b, loc, 1);
  for (Value g : grid)
    total = arith::MulIOp::create(b, loc, total, g);
  Value lo = arith::MaxSIOp::create(b, loc, blockBegin, cIdx(b, loc, 0));
  Value hi = arith::MinSIOp::create(b, loc, blockEnd, total);
  blockLoop = scf::ForOp::create(b, loc, lo, hi, cIdx(b, loc, 1));

  // Allocations: once per call, before the block loop.
  SmallVector<Operation *> allocs;
  launch.walk([&](Operation *op) {
    if (isa<AllocSharedOp, AllocFragmentOp, AllocLocalOp, AllocTmemOp>(op))
      allocs.push_back(op);
  });
  for (Operation *op : allocs) {
    auto type = cast<MemRefType>(op->getResult(0).getType());
    rewriter.replaceOp(op, scratch(type));
  }

  OpBuilder lb = OpBuilder::atBlockBegin(blockLoop.getBody());
  Value linear = blockLoop.getInductionVar();
  SmallVector<Value> blockIds;
  for (size_t d = 0; d < grid.size(); ++d) {
    if (d + 1 == grid.size()) {
      blockIds.push_back(linear);
    } else {
      blockIds.push_back(arith::RemSIOp::create(lb, loc, linear, grid[d]));
      linear = arith::DivSIOp::create(lb, loc, linear, grid[d]);
    }
  }
  rewriter.eraseOp(body.getTerminator());
  rewriter.inlineBlockBefore(&body, blockLoop.getBody()->getTerminator(), blockIds);
  rewriter.eraseOp(launch);
  return success();
}

// --- 3. loops ----------------------------------------------------------------

void KernelLowering::lowerParallel(ParallelOp op) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t e : op.getExtents()) {
    lbs.push_back(cIdx(b, loc, 0));
    ubs.push_back(cIdx(b, loc, e));
    steps.push_back(cIdx(b, loc, 1));
  }
  scf::LoopNest nest = scf::buildLoopNest(b, loc, lbs, ubs, steps);
  SmallVector<Value> ivs;
  for (scf::ForOp f : nest.loops)
    ivs.push_back(f.getInductionVar());
  Block &body = op.getBodyBlock();
  rewriter.eraseOp(body.getTerminator());
  rewriter.inlineBlockBefore(&body, nest.loops.back().getBody()->getTerminator(), ivs);
  rewriter.eraseOp(op);
}

void KernelLowering::lowerPipelined(PipelinedOp op) {
  OpBuilder b(op);
  auto loop = scf::ForOp::create(b, op.getLoc(), op.getLowerBound(), op.getUpperBound(),
                                 op.getStep());
  Block &body = op.getBodyBlock();
  rewriter.eraseOp(body.getTerminator());
  rewriter.inlineBlockBefore(&body, loop.getBody()->getTerminator(),
                             ValueRange{loop.getInductionVar()});
  rewriter.eraseOp(op);
}

// --- 4. tile ops (each lowered in TileOps.cpp) ----------------------------------
LogicalResult KernelLowering::lowerTileOps() {
  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) {
    if (op->getDialect() && isa<TlDialect>(op->getDialect()))
      ops.push_back(op);
  });
  bool ok = true;
  SmallVector<Operation *> barriers;
  for (Operation *op : ops) {
    if (auto o = dyn_cast<CopyOp>(op))
      lowerCopy(o);
    else if (auto o = dyn_cast<FillOp>(op))
      lowerFill(o);
    else if (auto o = dyn_cast<GemmOp>(op))
      lowerGemm(o);
    else if (auto o = dyn_cast<ReduceOp>(op))
      lowerReduce(o);
    else if (auto o = dyn_cast<TopKOp>(op))
      lowerTopK(o);
    else if (auto o = dyn_cast<AtomicAddOp>(op))
      lowerAtomicAdd(o);
    else if (isa<SyncThreadsOp, NamedBarrierOp, BarrierArriveOp, BarrierExpectTxOp,
                 BarrierWaitOp>(op))
      rewriter.eraseOp(op); // a block runs alone and its copies are synchronous
    else if (isa<AllocBarrierOp>(op))
      barriers.push_back(op);
    else if (auto o = dyn_cast<TrapOp>(op))
      tlc::cpu::lowerTrap(o, module, rewriter); // a --check-bounds report
    else if (isa<CastOp>(op))
      continue; // step 5
    else if (auto o = dyn_cast<BytePermOp>(op))
      lowerBytePerm(o);
    else if (isa<PrintOp>(op)) {
      op->emitError("T.print is not supported by the CPU target yet");
      ok = false;
    } else {
      op->emitError("'") << op->getName() << "' is not supported by the CPU target yet";
      ok = false;
    }
  }
  for (Operation *op : barriers)
    rewriter.eraseOp(op);
  return success(ok);
}

/// T.byte_perm: byte n of the result is byte (sel >> 4n) & 7 of b:a, by
/// shifts of the 64-bit pair.
void KernelLowering::lowerBytePerm(BytePermOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  auto c = [&](Type t, int64_t v) { return arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, v)); };
  Value pair = arith::OrIOp::create(
      b, loc, arith::ShLIOp::create(b, loc, arith::ExtUIOp::create(b, loc, i64, op.getB()), c(i64, 32)),
      arith::ExtUIOp::create(b, loc, i64, op.getA()));
  Value sel = arith::ExtUIOp::create(b, loc, i64, op.getSel());
  Value out = c(i64, 0);
  for (int n = 0; n < 4; ++n) {
    Value idx = arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, sel, c(i64, 4 * n)),
                                      c(i64, 7));
    Value byte = arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, pair, arith::MulIOp::create(b, loc, idx, c(i64, 8))),
        c(i64, 255));
    out = arith::OrIOp::create(b, loc, out, arith::ShLIOp::create(b, loc, byte, c(i64, 8 * n)));
  }
  rewriter.replaceOp(op, arith::TruncIOp::create(b, loc, i32, out));
}

// --- packed FP4 tensors used directly --------------------------------------

LogicalResult KernelLowering::lowerPackedUses() {
  bool ok = true;
  for (auto &[arg, p] : packed) {
    for (Operation *user : llvm::make_early_inc_range(arg.getUsers())) {
      OpBuilder b(user);
      if (auto load = dyn_cast<memref::LoadOp>(user)) {
        rewriter.replaceOp(load, loadElem(b, load.getLoc(), arg, load.getIndices()));
      } else if (auto store = dyn_cast<memref::StoreOp>(user)) {
        storeElem(b, store.getLoc(), arg, store.getIndices(), store.getValueToStore());
        rewriter.eraseOp(store);
      } else if (auto dim = dyn_cast<memref::DimOp>(user)) {
        std::optional<int64_t> d = dim.getConstantIndex();
        if (!d) {
          dim.emitError("memref.dim of a float4_e2m1 tensor needs a constant dimension");
          ok = false;
          continue;
        }
        rewriter.replaceOp(dim, p.dims[*d]);
      } else {
        user->emitError("this use of a float4_e2m1 tensor is not supported by the CPU target");
        ok = false;
      }
    }
  }
  return success(ok);
}

// --- 5. casts -------------------------------------------------------------------

bool needsEmulation(Type t) {
  Type e = getElementTypeOrSelf(t);
  return isNarrowFloat(e) || e.isBF16() || e.isF16();
}

void KernelLowering::lowerCasts() {
  SmallVector<Operation *> casts;
  func.walk([&](Operation *op) {
    if (isa<CastOp>(op)) {
      casts.push_back(op);
    } else if (isa<arith::TruncFOp, arith::ExtFOp, arith::SIToFPOp, arith::UIToFPOp,
                   arith::FPToSIOp, arith::FPToUIOp>(op)) {
      if (needsEmulation(op->getOperand(0).getType()) || needsEmulation(op->getResult(0).getType()))
        casts.push_back(op);
    }
  });
  for (Operation *op : casts) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    Value in = op->getOperand(0);
    Type outType = op->getResult(0).getType();
    Value result;
    if (auto vt = dyn_cast<VectorType>(outType)) {
      // Element by element.
      result = ub::PoisonOp::create(b, loc, vt);
      for (int64_t i = 0; i < vt.getNumElements(); ++i) {
        SmallVector<int64_t> pos;
        int64_t rest = i;
        for (int64_t d = vt.getRank() - 1; d >= 0; --d) {
          pos.insert(pos.begin(), rest % vt.getDimSize(d));
          rest /= vt.getDimSize(d);
        }
        Value x = vector::ExtractOp::create(b, loc, in, pos);
        Value y = convert(b, loc, x, vt.getElementType());
        result = vector::InsertOp::create(b, loc, y, result, pos);
      }
    } else if (isa<arith::FPToUIOp>(op)) {
      result = arith::FPToUIOp::create(b, loc, outType, convert(b, loc, in, b.getF32Type()));
    } else if (isa<arith::UIToFPOp>(op)) {
      result = convert(b, loc, arith::UIToFPOp::create(b, loc, b.getF32Type(), in), outType);
    } else {
      result = convert(b, loc, in, outType);
    }
    rewriter.replaceOp(op, result);
  }
}

// --- 6. types ---------------------------------------------------------------------

LogicalResult KernelLowering::finishSignature() {
  Block &entry = func.getBody().front();
  for (unsigned i = 0; i < numOldArgs; ++i) {
    BlockArgument arg = entry.getArgument(i);
    if (!arg.use_empty()) {
      arg.getUses().begin()->getOwner()->emitError(
          "the CPU lowering left a use of kernel argument ")
          << i;
      return failure();
    }
  }
  entry.eraseArguments(0, numOldArgs);
  func.setFunctionType(FunctionType::get(func.getContext(), entry.getArgumentTypes(), {}));
  func->removeAttr(kKernelAttrName);
  func->removeAttr(kArgDimsAttrName);
  func->removeAttr(kParamsAttrName);
  func->removeAttr("tl.arg_dtypes");
  func.setPublic();
  return success();
}

void KernelLowering::legaliseTypes() {
  SmallVector<Operation *> constants, casts;
  func.walk([&](Operation *op) {
    for (Region &r : op->getRegions())
      for (Block &blk : r)
        for (BlockArgument a : blk.getArguments())
          a.setType(legalType(a.getType()));
    for (Value res : op->getResults())
      res.setType(legalType(res.getType()));
    if (auto c = dyn_cast<arith::ConstantOp>(op))
      if (auto fa = dyn_cast<FloatAttr>(c.getValue()); fa && isNarrowFloat(fa.getType()))
        constants.push_back(op);
    if (isa<UnrealizedConversionCastOp>(op))
      casts.push_back(op);
  });
  for (Operation *op : constants) {
    auto fa = cast<FloatAttr>(cast<arith::ConstantOp>(op).getValue());
    OpBuilder b(op);
    APInt bits = fa.getValue().bitcastToAPInt().zextOrTrunc(8);
    rewriter.replaceOp(op, arith::ConstantOp::create(b, op->getLoc(), b.getIntegerAttr(
                                                                           b.getI8Type(), bits)));
  }
  for (Operation *op : casts) {
    if (op->getNumOperands() == 1 && op->getNumResults() == 1 &&
        op->getOperand(0).getType() == op->getResult(0).getType())
      rewriter.replaceOp(op, op->getOperand(0));
  }
  // bf16/f16 buffers now hold i16: bitcast at every load and store.
  func.walk([&](memref::LoadOp load) {
    Type t = load.getResult().getType();
    Type mem = load.getMemRefType().getElementType();
    if (t == mem)
      return;
    load.getResult().setType(mem);
    OpBuilder b(load->getContext());
    b.setInsertionPointAfter(load);
    auto cast = arith::BitcastOp::create(b, load.getLoc(), t, load.getResult());
    load.getResult().replaceAllUsesExcept(cast, cast);
  });
  // bf16/f16 atomics (compare-and-swap loops): the loop moves i16 and its
  // body computes on the bitcast value.
  func.walk([&](memref::GenericAtomicRMWOp rmw) {
    Type t = rmw.getResult().getType();
    Type mem = rmw.getMemref().getType().getElementType();
    if (t == mem)
      return;
    Block *body = rmw.getBody();
    BlockArgument cur = body->getArgument(0);
    cur.setType(mem);
    OpBuilder b = OpBuilder::atBlockBegin(body);
    auto in = arith::BitcastOp::create(b, rmw.getLoc(), t, cur);
    cur.replaceAllUsesExcept(in, in);
    auto yield = cast<memref::AtomicYieldOp>(body->getTerminator());
    b.setInsertionPoint(yield);
    yield.getResultMutable().assign(
        arith::BitcastOp::create(b, rmw.getLoc(), mem, yield.getResult()));
    rmw.getResult().setType(mem);
    b.setInsertionPointAfter(rmw);
    auto out = arith::BitcastOp::create(b, rmw.getLoc(), t, rmw.getResult());
    rmw.getResult().replaceAllUsesExcept(out, out);
  });
  func.walk([&](memref::StoreOp store) {
    Type mem = store.getMemRefType().getElementType();
    if (store.getValueToStore().getType() == mem)
      return;
    OpBuilder b(store);
    store.getValueMutable().assign(
        arith::BitcastOp::create(b, store.getLoc(), mem, store.getValueToStore()));
  });
}

LogicalResult KernelLowering::run() {
  if (failed(checkSupported()) || failed(lowerSignature()))
    return failure();
  SmallVector<LaunchOp> launches;
  func.walk([&](LaunchOp l) { launches.push_back(l); });
  if (launches.size() != 1)
    return func.emitError("a tl kernel needs exactly one tl.launch");
  if (failed(lowerLaunch(launches.front())))
    return failure();
  SmallVector<Operation *> loops;
  func.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<ParallelOp, PipelinedOp>(op))
      loops.push_back(op);
  });
  for (Operation *op : loops) {
    if (auto p = dyn_cast<ParallelOp>(op))
      lowerParallel(p);
    else
      lowerPipelined(cast<PipelinedOp>(op));
  }
  if (failed(tlc::cpu::lowerViews(func, rewriter)) || failed(lowerTileOps()) ||
      failed(lowerPackedUses()))
    return failure();
  lowerCasts();
  if (failed(finishSignature()))
    return failure();
  legaliseTypes();
  // Thread loops (--tl-cpu-thread-loops) are plain loops from here on.
  func.walk([](scf::ForOp f) { f->removeAttr("tl.thread_loop"); });
  bool ok = true;
  func.walk([&](Operation *op) {
    if (op->getDialect() && isa<TlDialect>(op->getDialect())) {
      op->emitError("'") << op->getName() << "' survived the CPU lowering";
      ok = false;
    }
  });
  return success(ok);
}

struct TlLowerToCPUPass : public PassWrapper<TlLowerToCPUPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TlLowerToCPUPass)

  StringRef getArgument() const final { return "tl-lower-to-cpu"; }
  StringRef getDescription() const final {
    return "Lower tl kernels to scf/memref/arith/math with the CPU entry ABI of docs/abi.md";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, func::FuncDialect, LLVM::LLVMDialect,
                    math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
                    ub::UBDialect, vector::VectorDialect>();
  }
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> kernels;
    for (auto f : module.getOps<func::FuncOp>())
      if (isTlKernel(f))
        kernels.push_back(f);
    for (func::FuncOp f : kernels) {
      KernelLowering lowering(f, module);
      if (failed(lowering.run()))
        return signalPassFailure();
    }
  }
};

} // namespace tlc::cpu

namespace tlc {

std::unique_ptr<mlir::Pass> createTlLowerToCPUPass() {
  return std::make_unique<cpu::TlLowerToCPUPass>();
}

void registerTlToCPUPasses() {
  mlir::PassRegistration<cpu::TlLowerToCPUPass>();
  registerTlCPUThreadLoopsPass();
  registerTlCPUWarpExchangePass();
}

} // namespace tlc
