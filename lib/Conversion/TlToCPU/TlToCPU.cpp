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

#include "LowPrecision.h"
#include "Trap.h"
#include "Views.h"

#include "tl/IR/TlOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <limits>

using namespace mlir;
using namespace mlir::tl;
using tlc::cpu::emitConvert;
using tlc::cpu::isNarrowFloat;

namespace {

/// A packed FP4 tensor argument: the i8 view of its bytes and its logical
/// sizes (index values).
struct PackedF4 {
  Value bytes;
  SmallVector<Value> dims;
};

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

class KernelLowering {
public:
  KernelLowering(func::FuncOp func, ModuleOp module)
      : func(func), module(module), rewriter(func.getContext()) {}

  LogicalResult run();

private:
  func::FuncOp func;
  ModuleOp module;
  IRRewriter rewriter;
  DenseMap<Value, PackedF4> packed;
  Value blockBegin, blockEnd; // index
  scf::ForOp blockLoop;
  unsigned numOldArgs = 0;

  LogicalResult checkSupported();
  LogicalResult lowerSignature();
  LogicalResult lowerLaunch(LaunchOp launch);
  void lowerParallel(ParallelOp op);
  void lowerPipelined(PipelinedOp op);
  LogicalResult lowerTileOps();
  void lowerCopy(CopyOp op);
  void lowerFill(FillOp op);
  void lowerGemm(GemmOp op);
  void lowerReduce(ReduceOp op);
  void lowerTopK(TopKOp op);
  void lowerAtomicAdd(AtomicAddOp op);
  LogicalResult lowerPackedUses();
  void lowerCasts();
  LogicalResult finishSignature();
  void legaliseTypes();

  // Helpers.
  Value cIdx(OpBuilder &b, Location loc, int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v);
  }
  Value dimOf(OpBuilder &b, Location loc, Value buf, int64_t d);
  Value loadElem(OpBuilder &b, Location loc, Value buf, ValueRange idx);
  void storeElem(OpBuilder &b, Location loc, Value buf, ValueRange idx, Value v);
  Value convert(OpBuilder &b, Location loc, Value v, Type dst) {
    if (v.getType() == dst)
      return v;
    return emitConvert(b, loc, module, v, dst);
  }
  Value scratch(MemRefType type);
  Value inBounds(OpBuilder &b, Location loc, Value buf, ValueRange idx);
};

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

// --- 4. tile ops ---------------------------------------------------------------

bool isGlobal(Value buf) {
  auto scope = getMemScope(buf.getType());
  return scope && *scope == MemScope::Global;
}

void KernelLowering::lowerCopy(CopyOp op) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value src = op.getSrc(), dst = op.getDst();
  Type srcElem = cast<MemRefType>(src.getType()).getElementType();
  Type dstElem = cast<MemRefType>(dst.getType()).getElementType();
  ArrayRef<int64_t> srcSizes = op.getSrcSizes(), dstSizes = op.getDstSizes();
  auto offsets = [&](ValueRange offs, size_t rank) {
    SmallVector<Value> v(offs.begin(), offs.end());
    if (v.empty())
      for (size_t d = 0; d < rank; ++d)
        v.push_back(cIdx(b, loc, 0));
    return v;
  };
  SmallVector<Value> srcOff = offsets(op.getSrcOffsets(), srcSizes.size());
  SmallVector<Value> dstOff = offsets(op.getDstOffsets(), dstSizes.size());
  // Iterate over the squeezed shape (unit sizes removed; equal on both sides).
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t s : srcSizes)
    if (s != 1) {
      lbs.push_back(cIdx(b, loc, 0));
      ubs.push_back(cIdx(b, loc, s));
      steps.push_back(cIdx(b, loc, 1));
    }
  bool srcGlobal = isGlobal(src), dstGlobal = isGlobal(dst);
  scf::buildLoopNest(b, loc, lbs, ubs, steps, [&](OpBuilder &nb, Location l, ValueRange ivs) {
    auto indices = [&](ArrayRef<int64_t> sizes, ArrayRef<Value> off) {
      SmallVector<Value> idx;
      size_t q = 0;
      for (auto [d, s] : llvm::enumerate(sizes))
        idx.push_back(s == 1 ? off[d] : Value(arith::AddIOp::create(nb, l, off[d], ivs[q++])));
      return idx;
    };
    SmallVector<Value> si = indices(srcSizes, srcOff), di = indices(dstSizes, dstOff);
    Value v;
    if (srcGlobal) {
      Value ok = inBounds(nb, l, src, si);
      auto ifOp = scf::IfOp::create(
          nb, l, ok,
          [&](OpBuilder &tb, Location tl) {
            scf::YieldOp::create(tb, tl, loadElem(tb, tl, src, si));
          },
          [&](OpBuilder &eb, Location el) {
            // Out of bounds reads as zero bits of the source type.
            Type st = storageElementType(srcElem);
            Value zero;
            if (auto ft = dyn_cast<FloatType>(srcElem))
              zero = arith::ConstantOp::create(
                  eb, el, eb.getFloatAttr(ft, APFloat(ft.getFloatSemantics(),
                                                      APInt(ft.getWidth(), 0))));
            else
              zero = arith::ConstantOp::create(eb, el, eb.getIntegerAttr(st, 0));
            scf::YieldOp::create(eb, el, zero);
          });
      v = ifOp.getResult(0);
    } else {
      v = loadElem(nb, l, src, si);
    }
    v = convert(nb, l, v, dstElem);
    if (dstGlobal) {
      Value ok = inBounds(nb, l, dst, di);
      scf::IfOp::create(nb, l, ok, [&](OpBuilder &tb, Location tl) {
        storeElem(tb, tl, dst, di, v);
        scf::YieldOp::create(tb, tl);
      });
    } else {
      storeElem(nb, l, dst, di, v);
    }
  });
  rewriter.eraseOp(op);
}

void KernelLowering::lowerFill(FillOp op) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value dst = op.getDst();
  auto mt = cast<MemRefType>(dst.getType());
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < mt.getRank(); ++d) {
    lbs.push_back(cIdx(b, loc, 0));
    ubs.push_back(dimOf(b, loc, dst, d));
    steps.push_back(cIdx(b, loc, 1));
  }
  Value v = op.getValue();
  scf::buildLoopNest(b, loc, lbs, ubs, steps, [&](OpBuilder &nb, Location l, ValueRange ivs) {
    storeElem(nb, l, dst, ivs, v);
  });
  rewriter.eraseOp(op);
}

void KernelLowering::lowerGemm(GemmOp op) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value A = op.getA(), B = op.getB(), C = op.getC();
  auto at = cast<MemRefType>(A.getType()), bt = cast<MemRefType>(B.getType());
  auto ct = cast<MemRefType>(C.getType());
  bool ta = op.getTransposeA(), tb = op.getTransposeB();
  int64_t M = ct.getDimSize(0), N = ct.getDimSize(1);
  int64_t K = ta ? at.getDimSize(0) : at.getDimSize(1);
  (void)bt;
  Type f32 = b.getF32Type();
  Value c0 = cIdx(b, loc, 0), c1 = cIdx(b, loc, 1);

  // Widen op(A) to Af[M][K] and op(B) to Bf[N][K] once, so the inner product
  // runs over two contiguous f32 rows.
  Value Af = scratch(MemRefType::get({M, K}, f32));
  Value Bf = scratch(MemRefType::get({N, K}, f32));
  auto widen = [&](Value src, Value dstBuf, int64_t rows, bool rowsFirst) {
    scf::buildLoopNest(b, loc, {c0, c0}, {cIdx(b, loc, rows), cIdx(b, loc, K)}, {c1, c1},
                       [&](OpBuilder &nb, Location l, ValueRange iv) {
                         SmallVector<Value> idx = rowsFirst ? SmallVector<Value>{iv[0], iv[1]}
                                                            : SmallVector<Value>{iv[1], iv[0]};
                         Value v = convert(nb, l, loadElem(nb, l, src, idx), f32);
                         memref::StoreOp::create(nb, l, v, dstBuf, iv);
                       });
  };
  widen(A, Af, M, /*rowsFirst=*/!ta); // A is (M,K), or (K,M) transposed
  widen(B, Bf, N, /*rowsFirst=*/tb);  // B is (K,N), or (N,K) transposed

  Value sa = op.getScaleA(), sb = op.getScaleB();
  int64_t block = op.getScaleBlock() ? static_cast<int64_t>(*op.getScaleBlock()) : K;
  int64_t numBlocks = sa ? (K + block - 1) / block : 1;
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  bool clear = op.getClearAccum();
  scf::buildLoopNest(
      b, loc, {c0, c0}, {cIdx(b, loc, M), cIdx(b, loc, N)}, {c1, c1},
      [&](OpBuilder &nb, Location l, ValueRange mn) {
        Value acc = clear ? zero : convert(nb, l, memref::LoadOp::create(nb, l, C, mn), f32);
        auto dot = [&](OpBuilder &db, int64_t k0, int64_t k1, Value init) {
          auto loop = scf::ForOp::create(
              db, l, cIdx(db, l, k0), cIdx(db, l, k1), cIdx(db, l, 1), ValueRange{init},
              [&](OpBuilder &fb, Location fl, Value k, ValueRange iter) {
                Value a = memref::LoadOp::create(fb, fl, Af, ValueRange{mn[0], k});
                Value bv = memref::LoadOp::create(fb, fl, Bf, ValueRange{mn[1], k});
                Value p = arith::MulFOp::create(fb, fl, a, bv);
                scf::YieldOp::create(fb, fl, ValueRange{arith::AddFOp::create(fb, fl, iter[0], p)});
              });
          return loop.getResult(0);
        };
        if (!sa) {
          acc = dot(nb, 0, K, acc);
        } else {
          // C += sum_kb (SA[m,kb] * SB[n,kb]) * (A[m, kb block] . B[kb block, n]).
          for (int64_t kb = 0; kb < numBlocks; ++kb) {
            Value part = dot(nb, kb * block, std::min(K, (kb + 1) * block), zero);
            Value kbIdx = cIdx(nb, l, kb);
            Value s1 = convert(nb, l, memref::LoadOp::create(nb, l, sa, ValueRange{mn[0], kbIdx}),
                               f32);
            Value s2 = convert(nb, l, memref::LoadOp::create(nb, l, sb, ValueRange{mn[1], kbIdx}),
                               f32);
            Value s = arith::MulFOp::create(nb, l, s1, s2);
            acc = arith::AddFOp::create(nb, l, acc, arith::MulFOp::create(nb, l, part, s));
          }
        }
        memref::StoreOp::create(nb, l, convert(nb, l, acc, ct.getElementType()), C, mn);
      });
  rewriter.eraseOp(op);
}

void KernelLowering::lowerReduce(ReduceOp op) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value src = op.getSrc(), dst = op.getDst();
  auto st = cast<MemRefType>(src.getType()), dt = cast<MemRefType>(dst.getType());
  int64_t dim = op.getDim();
  Type dstElem = dt.getElementType();
  bool isFloat = isa<FloatType>(dstElem);
  Type accType = isFloat ? b.getF32Type() : dstElem;
  ReduceKind kind = op.getKind();
  Value c0 = cIdx(b, loc, 0), c1 = cIdx(b, loc, 1);

  auto identity = [&](OpBuilder &ib, Location l) -> Value {
    if (kind == ReduceKind::Max || kind == ReduceKind::Min) {
      bool isMax = kind == ReduceKind::Max;
      if (isFloat)
        return arith::ConstantOp::create(
            ib, l, ib.getF32FloatAttr(isMax ? -std::numeric_limits<float>::infinity()
                                            : std::numeric_limits<float>::infinity()));
      unsigned w = dstElem.getIntOrFloatBitWidth();
      APInt v = isMax ? APInt::getSignedMinValue(w) : APInt::getSignedMaxValue(w);
      return arith::ConstantOp::create(ib, l, ib.getIntegerAttr(dstElem, v));
    }
    if (isFloat)
      return arith::ConstantOp::create(ib, l, ib.getF32FloatAttr(0.0f));
    return arith::ConstantOp::create(ib, l, ib.getIntegerAttr(dstElem, 0));
  };
  auto combine = [&](OpBuilder &cb, Location l, Value acc, Value x) -> Value {
    if (kind == ReduceKind::AbsSum || kind == ReduceKind::AbsMax)
      x = isFloat ? Value(math::AbsFOp::create(cb, l, x)) : Value(math::AbsIOp::create(cb, l, x));
    switch (kind) {
    case ReduceKind::Sum:
    case ReduceKind::AbsSum:
      return isFloat ? Value(arith::AddFOp::create(cb, l, acc, x))
                     : Value(arith::AddIOp::create(cb, l, acc, x));
    case ReduceKind::Max:
    case ReduceKind::AbsMax:
      return isFloat ? Value(arith::MaxNumFOp::create(cb, l, acc, x))
                     : Value(arith::MaxSIOp::create(cb, l, acc, x));
    case ReduceKind::Min:
      return isFloat ? Value(arith::MinNumFOp::create(cb, l, acc, x))
                     : Value(arith::MinSIOp::create(cb, l, acc, x));
    }
    return acc;
  };

  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < st.getRank(); ++d)
    if (d != dim) {
      lbs.push_back(c0);
      ubs.push_back(cIdx(b, loc, st.getDimSize(d)));
      steps.push_back(c1);
    }
  scf::buildLoopNest(b, loc, lbs, ubs, steps, [&](OpBuilder &nb, Location l, ValueRange outer) {
    SmallVector<Value> di(outer.begin(), outer.end());
    if (di.empty())
      di.push_back(cIdx(nb, l, 0)); // 1-D src reduces into (1,)
    Value init = op.getClear() ? identity(nb, l)
                               : convert(nb, l, memref::LoadOp::create(nb, l, dst, di), accType);
    auto loop = scf::ForOp::create(
        nb, l, cIdx(nb, l, 0), cIdx(nb, l, st.getDimSize(dim)), cIdx(nb, l, 1),
        ValueRange{init}, [&](OpBuilder &fb, Location fl, Value j, ValueRange iter) {
          SmallVector<Value> si;
          size_t q = 0;
          for (int64_t d = 0; d < st.getRank(); ++d)
            si.push_back(d == dim ? j : outer[q++]);
          Value x = convert(fb, fl, memref::LoadOp::create(fb, fl, src, si), accType);
          scf::YieldOp::create(fb, fl, ValueRange{combine(fb, fl, iter[0], x)});
        });
    memref::StoreOp::create(nb, l, convert(nb, l, loop.getResult(0), dstElem), dst, di);
  });
  rewriter.eraseOp(op);
}

void KernelLowering::lowerTopK(TopKOp op) {
  // Selection: k passes over each row, each taking the largest value not yet
  // taken (strictly greater wins, so ties go to the lower index).
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value src = op.getSrc(), vals = op.getValues(), idxs = op.getIndices();
  auto st = cast<MemRefType>(src.getType());
  int64_t dim = op.getDim(), k = op.getK();
  int64_t rows = st.getDimSize(1 - dim), n = st.getDimSize(dim);
  Type elem = st.getElementType();
  Type f32 = b.getF32Type(), i32 = b.getI32Type(), i1 = b.getI1Type();
  Value taken = scratch(MemRefType::get({n}, b.getI8Type()));
  Value c0 = cIdx(b, loc, 0), c1 = cIdx(b, loc, 1);
  auto at = [&](Value r, Value j) {
    return dim == 1 ? SmallVector<Value>{r, j} : SmallVector<Value>{j, r};
  };
  scf::buildLoopNest(b, loc, {c0}, {cIdx(b, loc, rows)}, {c1}, [&](OpBuilder &nb, Location l,
                                                                   ValueRange rv) {
    Value r = rv[0];
    Value zero8 = arith::ConstantOp::create(nb, l, nb.getI8IntegerAttr(0));
    Value one8 = arith::ConstantOp::create(nb, l, nb.getI8IntegerAttr(1));
    scf::buildLoopNest(nb, l, {c0}, {cIdx(nb, l, n)}, {c1},
                       [&](OpBuilder &cb, Location cl, ValueRange j) {
                         memref::StoreOp::create(cb, cl, zero8, taken, j);
                       });
    scf::buildLoopNest(nb, l, {c0}, {cIdx(nb, l, k)}, {c1}, [&](OpBuilder &tb, Location tl,
                                                              ValueRange t) {
      Value none = cIdx(tb, tl, -1);
      Value negInf = arith::ConstantOp::create(
          tb, tl, tb.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
      auto scan = scf::ForOp::create(
          tb, tl, c0, cIdx(tb, tl, n), c1, ValueRange{negInf, none},
          [&](OpBuilder &fb, Location fl, Value j, ValueRange it) {
            Value x = convert(fb, fl, memref::LoadOp::create(fb, fl, src, at(r, j)), f32);
            Value free = arith::CmpIOp::create(fb, fl, arith::CmpIPredicate::eq,
                                               memref::LoadOp::create(fb, fl, taken, j), zero8);
            Value better = arith::CmpFOp::create(fb, fl, arith::CmpFPredicate::OGT, x, it[0]);
            Value first = arith::CmpIOp::create(fb, fl, arith::CmpIPredicate::eq, it[1], none);
            Value pick = arith::AndIOp::create(
                fb, fl, free, arith::OrIOp::create(fb, fl, better, first));
            (void)i1;
            scf::YieldOp::create(fb, fl,
                                 ValueRange{arith::SelectOp::create(fb, fl, pick, x, it[0]),
                                            arith::SelectOp::create(fb, fl, pick, j, it[1])});
          });
      Value best = scan.getResult(1);
      memref::StoreOp::create(tb, tl, one8, taken, ValueRange{best});
      Value v = memref::LoadOp::create(tb, tl, src, at(r, best));
      memref::StoreOp::create(tb, tl, v, vals, at(r, t[0]));
      memref::StoreOp::create(tb, tl, arith::IndexCastOp::create(tb, tl, i32, best), idxs,
                              at(r, t[0]));
    });
  });
  (void)elem;
  rewriter.eraseOp(op);
}

void KernelLowering::lowerAtomicAdd(AtomicAddOp op) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value dst = op.getDst(), value = op.getValue();
  bool isFloat = isa<FloatType>(getElementTypeOrSelf(value.getType()));
  auto kind = isFloat ? arith::AtomicRMWKind::addf : arith::AtomicRMWKind::addi;
  SmallVector<Value> idx(op.getIndices().begin(), op.getIndices().end());
  Type elem = cast<MemRefType>(dst.getType()).getElementType();
  if (elem.isBF16() || elem.isF16()) {
    // old + v in f32, rounded back to bf16/f16 (RNE): a compare-and-swap loop.
    auto lanes = dyn_cast<VectorType>(value.getType());
    int64_t n = lanes ? lanes.getNumElements() : 1;
    Value prev = lanes && op.getPrev() ? Value(ub::PoisonOp::create(b, loc, lanes)) : Value();
    Value scalarPrev;
    for (int64_t lane = 0; lane < n; ++lane) {
      SmallVector<Value> li = idx;
      li.back() = arith::AddIOp::create(b, loc, idx.back(), cIdx(b, loc, lane));
      Value x = lanes ? Value(vector::ExtractOp::create(b, loc, value, ArrayRef<int64_t>{lane}))
                      : value;
      auto rmw = memref::GenericAtomicRMWOp::create(b, loc, dst, li);
      {
        OpBuilder rb = OpBuilder::atBlockBegin(rmw.getBody());
        Value cur = rmw.getCurrentValue();
        Value sum = arith::AddFOp::create(rb, loc, convert(rb, loc, cur, rb.getF32Type()),
                                          convert(rb, loc, x, rb.getF32Type()));
        memref::AtomicYieldOp::create(rb, loc, convert(rb, loc, sum, elem));
      }
      if (prev)
        prev = vector::InsertOp::create(b, loc, rmw.getResult(), prev, ArrayRef<int64_t>{lane});
      scalarPrev = rmw.getResult();
    }
    if (op.getPrev())
      rewriter.replaceOp(op, lanes ? prev : scalarPrev);
    else
      rewriter.eraseOp(op);
    return;
  }
  Value result;
  if (auto vt = dyn_cast<VectorType>(value.getType())) {
    Value prev = op.getPrev() ? Value(ub::PoisonOp::create(b, loc, vt)) : Value();
    for (int64_t lane = 0; lane < vt.getNumElements(); ++lane) {
      SmallVector<Value> li = idx;
      li.back() = arith::AddIOp::create(b, loc, idx.back(), cIdx(b, loc, lane));
      Value x = vector::ExtractOp::create(b, loc, value, ArrayRef<int64_t>{lane});
      Value old = memref::AtomicRMWOp::create(b, loc, kind, x, dst, li);
      if (prev)
        prev = vector::InsertOp::create(b, loc, old, prev, ArrayRef<int64_t>{lane});
    }
    result = prev;
  } else {
    result = memref::AtomicRMWOp::create(b, loc, kind, value, dst, idx);
  }
  if (op.getPrev())
    rewriter.replaceOp(op, result);
  else
    rewriter.eraseOp(op);
}

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

} // namespace

namespace tlc {

std::unique_ptr<Pass> createTlLowerToCPUPass() { return std::make_unique<TlLowerToCPUPass>(); }

void registerTlToCPUPasses() {
  PassRegistration<TlLowerToCPUPass>();
  registerTlCPUThreadLoopsPass();
  registerTlCPUWarpExchangePass();
}

} // namespace tlc
