// Shared pieces of the tl -> NVVM lowering (lib/Conversion/TlToNVVM): the
// target description, the type converter, and helpers the op-family
// patterns use (inline PTX, addresses of global/shared elements, dtype
// conversions with the .tl rounding rules, mbarriers). Private to the
// directory.
#pragma once

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"
#include "tl/IR/TlDialect.h"
#include "tl/IR/TlOps.h"
#include "tl/Transforms/LayoutEmitter.h"
#include "llvm/Support/FormatVariadic.h"

#include <string>

namespace tlc::nvvm {

using namespace mlir;

constexpr int64_t kWarpSize = 32;
/// On the scf.if a warp-specialised role becomes: [index, first thread, threads].
inline constexpr llvm::StringLiteral kRoleAttrName = "tlc_role";
constexpr int64_t kWarpgroup = 128;

/// What differs between the NVIDIA chips the lowering targets.
struct NVIDIATarget {
  std::string chip = "sm_90a";
  /// tcgen05 MMAs with accumulators in tensor memory (sm_100a); wgmma with
  /// register accumulators otherwise (sm_90a).
  bool tcgen05() const { return chip == "sm_100a"; }
  /// Registers per thread a producer warpgroup keeps (setmaxnreg).
  int64_t producerRegs() const { return tcgen05() ? 80 : 40; }
};

/// tl buffers and barriers in the LLVM dialect: a global tensor is a struct
/// of its pointer and its sizes (i64, outermost first); shared buffers and
/// barriers are pointers into the block's shared window; fragments and
/// locals are per-thread arrays (allocas SROA turns into registers); tmem
/// buffers are 32-bit tensor-memory addresses. Narrow floats are i8 codes.
class TlTypeConverter : public LLVMTypeConverter {
public:
  TlTypeConverter(MLIRContext *ctx, const LowerToLLVMOptions &options);
};

//===----------------------------------------------------------------------===//
// Small builders
//===----------------------------------------------------------------------===//

Value cIndex(OpBuilder &b, Location loc, int64_t v);
Value cI32(OpBuilder &b, Location loc, int64_t v);
Value cI64(OpBuilder &b, Location loc, int64_t v);
Value toI64(OpBuilder &b, Location loc, Value v);
Value toI32(OpBuilder &b, Location loc, Value v);
Value toIndex(OpBuilder &b, Location loc, Value v);

/// Inline PTX with side effects (result null for none).
Value asmOp(OpBuilder &b, Location loc, Type result, ValueRange operands, StringRef text,
            StringRef constraints);
/// Inline PTX computing a value from its operands alone (math, conversions):
/// LLVM may fold, hoist and CSE it.
Value asmPure(OpBuilder &b, Location loc, Type result, ValueRange operands, StringRef text,
              StringRef constraints);
inline void asmVoid(OpBuilder &b, Location loc, ValueRange operands, StringRef text,
                    StringRef constraints) {
  asmOp(b, loc, Type(), operands, text, constraints);
}

inline bool isNarrowFloat(Type t) {
  return isa<Float8E4M3FNType, Float8E5M2Type, Float4E2M1FNType, Float8E8M0FNUType>(t);
}
inline bool isFP4(Type t) { return isa<Float4E2M1FNType>(t); }
/// The LLVM type a value of element type `elem` lives in (i8 codes for
/// narrow floats and bools in memory).
Type registerType(Type elem);
/// Bytes per element in memory (FP4: 1, addressed by nibble).
int64_t storageBytes(Type elem);
Value zeroOf(OpBuilder &b, Location loc, Type regType);

//===----------------------------------------------------------------------===//
// Thread indices
//===----------------------------------------------------------------------===//

/// %tid.x as index.
Value threadIdx(OpBuilder &b, Location loc);
/// This thread's lane and warp.
tl::HwIndex hwIndex(OpBuilder &b, Location loc);
/// bar.sync over `threads` threads on named barrier `id` (0 = the block).
void namedBarrier(OpBuilder &b, Location loc, int64_t id, int64_t threads);
/// The barrier the threads running `op` synchronise on: the block, or the
/// named barrier of its warp-specialised role.
void syncThreadsOf(OpBuilder &b, Location loc, Operation *op);
/// Threads that run `op` (its role's, else the launch's) and the first.
int64_t threadsOf(Operation *op);
int64_t firstThreadOf(Operation *op);

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

/// The dynamic shared-memory window (`__tl_smem`, !llvm.ptr<3>).
Value sharedBase(OpBuilder &b, Location loc);
/// A shared pointer as a 32-bit shared-window address (for PTX operands).
Value sharedAddr32(OpBuilder &b, Location loc, Value ptr3);

/// A global tensor's base pointer and sizes (i64) from its struct.
struct GlobalView {
  Value ptr;
  SmallVector<Value> dims;
};
GlobalView unpackGlobal(OpBuilder &b, Location loc, Value desc, int64_t rank);
/// Row-major element index (index values) of `coords` in `dims`.
Value linearize(OpBuilder &b, Location loc, ArrayRef<Value> coords, ArrayRef<Value> dims);
/// The same in 64-bit arithmetic (i64): element offsets in global tensors,
/// which may pass 2^31 while index arithmetic is 32-bit.
Value globalIndex(OpBuilder &b, Location loc, ArrayRef<Value> coords, ArrayRef<Value> dims);
/// i1: every coordinate is below its size.
Value inBounds(OpBuilder &b, Location loc, ArrayRef<Value> coords, ArrayRef<Value> dims);

/// Loads/stores element `linear` of an array of `elem` at `base` (FP4 by
/// nibble: stores with 32-bit atomics so neighbouring threads do not race).
Value loadElement(OpBuilder &b, Location loc, Value base, Type elem, Value linear);
void storeElement(OpBuilder &b, Location loc, Value base, Type elem, Value linear, Value value);

/// The address of element `coords` of a shared buffer of `type` based at
/// `base`: by its offset layout, or row-major. FP4: see sharedNibble.
Value sharedElementPtr(OpBuilder &b, Location loc, Value base, MemRefType type,
                       ArrayRef<Value> coords);
/// Element access to a shared buffer (handles FP4 nibbles).
Value loadShared(OpBuilder &b, Location loc, Value base, MemRefType type, ArrayRef<Value> coords);
void storeShared(OpBuilder &b, Location loc, Value base, MemRefType type, ArrayRef<Value> coords,
                 Value value);
/// Element access to a global tensor.
Value loadGlobal(OpBuilder &b, Location loc, const GlobalView &g, Type elem,
                 ArrayRef<Value> coords);
void storeGlobal(OpBuilder &b, Location loc, const GlobalView &g, Type elem,
                 ArrayRef<Value> coords, Value value);

/// Pointer to register slot `slot` of a register buffer's array.
Value slotPtr(OpBuilder &b, Location loc, Value base, Type regType, Value slot);
Value slotPtr(OpBuilder &b, Location loc, Value base, Type regType, int64_t slot);

/// The body of a register <-> memory tl.copy for register slots [slotBegin,
/// slotEnd) of its register side, whose slot array is `regs` and type (with
/// its layout) `regT`: vector runs along the memory's contiguous dimension,
/// bounds of global tensors, one replica of replicated elements. The caller
/// synchronises around it and erases the op (CopyOps; TmemOps streams
/// tensor memory through it a piece at a time).
LogicalResult emitRegisterMemoryCopy(tl::CopyOp op, tl::CopyOp::Adaptor adaptor, OpBuilder &b,
                                     Value regs, MemRefType regT, bool toMemory,
                                     int64_t slotBegin, int64_t slotEnd);

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

/// Converts a register value of .tl dtype `from` to `to` (tl.cast rules:
/// round to nearest even, saturating narrow floats, exact widening).
Value convertScalar(OpBuilder &b, Location loc, Value v, Type from, Type to);

//===----------------------------------------------------------------------===//
// mbarriers
//===----------------------------------------------------------------------===//

void mbarrierInit(OpBuilder &b, Location loc, Value addr32, int64_t count);
void mbarrierWait(OpBuilder &b, Location loc, Value addr32, Value parity);
void mbarrierArrive(OpBuilder &b, Location loc, Value addr32);
void mbarrierArriveExpectTx(OpBuilder &b, Location loc, Value addr32, Value bytes);

//===----------------------------------------------------------------------===//
// MMA operand tiles in shared memory (MmaOperands.cpp)
//===----------------------------------------------------------------------===//

/// A shared T.gemm operand addressed through the nearest buffer that has a
/// layout: the operand itself, or the buffer it is a view of (a K-slice
/// inside a swizzle atom has no layout of its own). Element (r, c) of the
/// operand is element `origin` + (r, c) on dimensions `dims` of that buffer.
struct SharedTileRef {
  Value base;      // the laid-out buffer (!llvm.ptr<3>)
  MemRefType type; // its type
  tl::LinearLayout layout;
  SmallVector<Value> origin; // an index per dimension of `type`
  unsigned dims[2] = {0, 1};
  /// Element offset (index) of element (r, c) of the operand.
  Value elementOffset(OpBuilder &b, Location loc, Value r, Value c) const;
  /// The offset of (r, c) from (0, 0) of the laid-out buffer's tile
  /// (strides of the layout: no origin).
  std::optional<int64_t> strideOffset(int64_t r, int64_t c) const;
};

/// Resolves the operand `orig` (converted `conv`) of `op`; `mnMajor` when the
/// MMA reads it MN-major (K along its rows). Reports operands with no
/// swizzled layout and views that start where no descriptor can.
FailureOr<SharedTileRef> resolveSharedTile(ConversionPatternRewriter &rewriter, Operation *op,
                                           Value orig, Value conv, StringRef what, bool mnMajor);

//===----------------------------------------------------------------------===//
// Pattern sets, one per op family
//===----------------------------------------------------------------------===//

void populateThreadAndMemoryPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                                     const NVIDIATarget &target);
void populateElementwisePatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                                 const NVIDIATarget &target);
void populateCopyPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                          const NVIDIATarget &target);
void populateReducePatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                            const NVIDIATarget &target);
void populateAtomicPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                            const NVIDIATarget &target);
void populateTopKPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                          const NVIDIATarget &target);
void populateBarrierPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                             const NVIDIATarget &target);
void populateWgmmaPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                           const NVIDIATarget &target);
void populateTcgen05Patterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                             const NVIDIATarget &target);
void populateTmemPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                          const NVIDIATarget &target);
void populateTrapPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                          const NVIDIATarget &target);
void populateWarpPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                          const NVIDIATarget &target);

//===----------------------------------------------------------------------===//
// Tensor memory (sm_100a)
//===----------------------------------------------------------------------===//

/// On the kernel's llvm.func: the shared byte offset of the word
/// tcgen05.alloc writes the tensor-memory base to (the frame's).
inline constexpr llvm::StringLiteral kTmemSlotAttrName = "tlc_tmem_slot";

/// How a thread reaches its part of a tensor-memory tile laid out as
/// tcgen05.ld 32x32b delivers it (LinearLayout::tmem32x32b): its warp's
/// lanes (rows) 32 * (warp % 4) + 0..31, the thread's own row at its lane;
/// register slot s is element column `column + s`.
struct TmemRow {
  Value lane;          // i32: the warp's first TMEM lane (the address's lane)
  Value column;        // i32: element column of slot 0
  int64_t slots = 0;   // register slots per thread (within the tile's columns)
};
/// The part of `type` (a tmem or register buffer with a 32x32b layout) the
/// calling thread owns, or failure with an error at `op`.
FailureOr<TmemRow> tmemRow(OpBuilder &b, Location loc, Operation *op, MemRefType type);
/// The TMEM address (lane << 16 | column) of 32-bit column `column` (i32)
/// of lane `lane` (i32) from `base` (i32).
Value tmemAddress(OpBuilder &b, Location loc, Value base, Value lane, Value column);
/// tcgen05.commit of the calling thread's earlier tcgen05 operations to the
/// mbarrier at shared address `addr32`.
void tcgen05Commit(OpBuilder &b, Location loc, Value addr32);
/// i1: the calling thread is the first of its role (the one issuing tcgen05
/// MMAs and copies for it).
Value isIssuingThread(OpBuilder &b, Location loc, Operation *op);

} // namespace tlc::nvvm
