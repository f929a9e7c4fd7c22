// KernelLowering.h: the per-kernel lowering of --tl-lower-to-cpu, shared by
// TlToCPU.cpp (signature, launch, loops, casts, types) and TileOps.cpp (the
// tile operations as loop nests). Private to lib/Conversion/TlToCPU.
#pragma once

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

namespace tlc::cpu {

using namespace mlir;
using namespace mlir::tl;

/// A packed FP4 tensor argument: the i8 view of its bytes and its logical
/// sizes (index values).
struct PackedF4 {
  Value bytes;
  SmallVector<Value> dims;
};

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
  void lowerBytePerm(BytePermOp op);
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

/// Whether `buf` is a tensor in global memory.
bool isGlobal(Value buf);

/// Type of an element value on the CPU: narrow floats are i8 codes.
Type storageElementType(Type t);

} // namespace tlc::cpu
