// Shared state of the NVIDIA GPU lowering (sm_90a and sm_100a).
//
// KernelLowering turns one tl kernel into an LLVM-dialect GPU kernel. The
// common machinery (layouts, shared-memory planning, TMA producer, mbarrier
// pipelines, SIMT code) is defined in TlToHopper.cpp; the tcgen05/TMEM parts
// that only sm_100a uses live in lib/Conversion/TlToBlackwell. Private to
// those two directories.
#pragma once

// location; nothing asserts.
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/Pass.h"
#include "tl/IR/TlDialect.h"
#include "tl/IR/TlOps.h"
#include "tlc/Conversion/TlToHopper.h"
#include "tlc/Target/Manifest.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FormatVariadic.h"
#include <functional>
#include <numeric>
#include <optional>

namespace tlc {
namespace nvgpu {

// A private header of the two lowering directories: MLIR names unqualified.
using namespace mlir;

constexpr int64_t kWarpSize = 32;
constexpr int64_t kWarpgroup = 128;

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

inline bool isNarrowFloat(Type t) {
  return isa<Float8E4M3FNType, Float8E5M2Type, Float4E2M1FNType, Float8E8M0FNUType>(t);
}
inline bool isFP4(Type t) { return isa<Float4E2M1FNType>(t); }

// Bytes per element in memory; FP4 is packed two per byte (reported as 1 and
// handled with nibble addressing).
inline int64_t storageBytes(Type t) {
  if (isFP4(t) || isNarrowFloat(t) || t.isInteger(1) || t.isInteger(8))
    return 1;
  return t.getIntOrFloatBitWidth() / 8;
}

inline std::optional<tl::MemScope> scopeOf(Value v) { return tl::getMemScope(v.getType()); }

inline int64_t numElements(ArrayRef<int64_t> shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

//===----------------------------------------------------------------------===//
// Layouts
//===----------------------------------------------------------------------===//

// Tmem (sm_100a): the tcgen05 accumulator as 32x32b TMEM loads deliver it:
// thread t holds row t % 128 and columns (t / 128) * slots ... + slots - 1.
enum class LayoutKind { Distributed, Replicated, Wgmma, Tmem };

struct Layout {
  LayoutKind kind = LayoutKind::Distributed;
  SmallVector<int64_t> shape;
  int64_t vec = 1;     // Distributed: contiguous elements per slot run
  int64_t threads = 0; // threads the layout spreads over
  int64_t mTiles = 1;  // Wgmma: 64-row tiles per warpgroup

  int64_t numel() const { return numElements(shape); }
  int64_t slots() const {
    switch (kind) {
    case LayoutKind::Replicated:
      return numel();
    case LayoutKind::Distributed:
      return llvm::divideCeil(numel(), threads * vec) * vec;
    case LayoutKind::Wgmma:
      return mTiles * shape[1] / 2;
    case LayoutKind::Tmem:
      return shape[1] / (threads / 128);
    }
    return 0;
  }
  // Consecutive slots [s, s + run) hold consecutive elements of one row.
  int64_t run() const {
    switch (kind) {
    case LayoutKind::Replicated:
      return shape.empty() ? 1 : shape.back();
    case LayoutKind::Distributed:
      return vec;
    case LayoutKind::Wgmma:
      return 2;
    case LayoutKind::Tmem:
      return 4; // 16 bytes of f32: vector accesses never claim more alignment
    }
    return 1;
  }
  bool operator==(const Layout &o) const {
    return kind == o.kind && shape == o.shape && vec == o.vec && threads == o.threads &&
           mTiles == o.mTiles;
  }
};

struct TensorArg {
  Value ptr;               // !llvm.ptr<1>
  SmallVector<Value> dims; // index
  MemRefType type;
  int64_t paramIndex = 0;
};

struct SharedBuf {
  int64_t offset = 0; // bytes from the dynamic shared base
  int64_t bytes = 0;  // one stage
  int64_t stages = 1;
  bool swizzle128 = false;
  // sm_100a block scales: the tcgen05.cp.32x128b.warpx4 staging layout
  // (docs/blackwell.md): byte (row, chunk) at group*blocks*512 +
  // (row/128)*512 + (row%32)*16 + ((row%128)/32)*4 + chunk%4, group = chunk/4.
  bool scaleTile = false;
  MemRefType type;
};

// A tensor-memory resident accumulator (sm_100a): `columns` 32-bit TMEM
// columns per copy, `ring` copies so the MMA warp can fill one while the
// epilogue drains another.
struct TmemBuf {
  int64_t column = 0;
  int64_t columns = 0;
  int64_t ring = 1;
};

// Block scales of a tcgen05 block-scaled gemm in TMEM (two copies, by
// pipeline iteration parity).
struct ScaleTmem {
  int64_t column = 0;
  int64_t columnsPerGroup = 0; // 4 per 128 rows
  int64_t groups = 1;          // 4 chunks per group
  int64_t copyColumns = 0;     // one copy: groups * columnsPerGroup
};

struct FragBuf {
  Value base; // !llvm.ptr (alloca)
  Layout layout;
  MemRefType type;
  Type storeType; // register element type
};

// What the parallel loop being emitted drives its fragments with.
struct ParallelCtx {
  const Layout *layout = nullptr;
  int64_t slot = 0;
  SmallVector<Value> ivs; // the original tl.parallel block arguments
};

// A T.Pipelined loop turned into a TMA producer / wgmma consumer pipeline.
struct PipelinePlan {
  tl::PipelinedOp op;
  SmallVector<tl::CopyOp> tmaCopies;
  SmallVector<tl::CopyOp> producerCopies; // plain copies done by the producer warp
  SmallVector<int64_t> tmaMapIndex;       // per tmaCopies entry: index in info.tma
  // Per tmaCopies entry: the tile is the same for every block of the cluster
  // (its source does not depend on the cluster's grid dimension), so each
  // block loads 1/clusterX of its rows and multicasts them to all.
  SmallVector<bool> multicast;
  int64_t stages = 1;
  int64_t txBytes = 0;
  // Plain copies issued as cp.async whose completion the full barrier tracks
  // (no conversion, 4/8/16-byte elements): the producer never waits on them.
  bool asyncPlainCopies = false;
  int64_t barrierOffset = 0; // full[stages] then empty[stages]
};

//===----------------------------------------------------------------------===//
// KernelLowering
//===----------------------------------------------------------------------===//

class KernelLowering {
public:
  KernelLowering(func::FuncOp func, const GpuTargetOptions &options, GpuKernelInfo &info)
      : func_(func), options_(options), info_(info), b_(func.getContext()),
        ctx_(func.getContext()) {}

  LogicalResult run();

private:
  // --- analysis
  LogicalResult inferLayouts();
  LogicalResult planPipeline();
  LogicalResult planSharedMemory();

  // --- emission
  LogicalResult emitBlock(Block &block);
  LogicalResult emitOp(Operation *op);
  LogicalResult emitCopy(tl::CopyOp op);
  LogicalResult emitFill(tl::FillOp op);
  LogicalResult emitGemm(tl::GemmOp op);
  LogicalResult emitReduce(tl::ReduceOp op);
  LogicalResult emitParallel(tl::ParallelOp op);
  LogicalResult emitPipelined(tl::PipelinedOp op);
  LogicalResult emitWarpSpecialisedLoop(tl::PipelinedOp op);
  LogicalResult emitOverlappedLoop(tl::PipelinedOp op, tl::GemmOp gemm, ArrayRef<Operation *> rest);
  LogicalResult emitProducer();
  LogicalResult emitLoad(memref::LoadOp op);
  LogicalResult emitStore(memref::StoreOp op);
  LogicalResult emitAtomicAdd(tl::AtomicAddOp op);
  LogicalResult emitMath(Operation *op);
  LogicalResult emitCast(tl::CastOp op);

  // --- helpers
  Location loc() const { return loc_; }
  Value cIndex(int64_t v) { return arith::ConstantIndexOp::create(b_, loc(), v); }
  Value cI32(int64_t v) {
    return arith::ConstantOp::create(b_, loc(), b_.getI32IntegerAttr(static_cast<int32_t>(v)));
  }
  Value cI64(int64_t v) { return arith::ConstantOp::create(b_, loc(), b_.getI64IntegerAttr(v)); }
  Value toI64(Value v) {
    if (v.getType().isIndex())
      return arith::IndexCastOp::create(b_, loc(), b_.getI64Type(), v);
    return v;
  }
  Value toI32(Value v) {
    if (v.getType().isIndex())
      return arith::IndexCastOp::create(b_, loc(), b_.getI32Type(), v);
    if (v.getType().isInteger(64))
      return arith::TruncIOp::create(b_, loc(), b_.getI32Type(), v);
    return v;
  }
  Value addI(Value a, Value c) { return arith::AddIOp::create(b_, loc(), a, c); }
  Value mulI(Value a, Value c) { return arith::MulIOp::create(b_, loc(), a, c); }
  Value asmOp(Type result, ValueRange operands, StringRef text, StringRef constraints);
  void asmVoid(ValueRange operands, StringRef text, StringRef constraints) {
    asmOp(Type(), operands, text, constraints);
  }
  Value mapped(Value v) { return map_.lookupOrNull(v); }
  Type registerType(Type elem);
  Value sharedBase();
  Value sharedPtr(Value byteOffset); // index byte offset -> !llvm.ptr<3>
  Value sharedByteOffset(Value buffer, ArrayRef<Value> coords);
  Value sharedBufferBase(Value buffer);
  Value sharedLinear(Value buffer, ArrayRef<Value> coords);
  Value globalLinear(const TensorArg &t, ArrayRef<Value> coords);
  Value loadElement(Value ptrBase, Type elem, Value linear, unsigned addrSpace);
  void storeElement(Value ptrBase, Type elem, Value linear, Value value, unsigned addrSpace);
  Value loadFromBuffer(Value buffer, ArrayRef<Value> coords);
  void storeToBuffer(Value buffer, ArrayRef<Value> coords, Value value);
  Value fragSlotPtr(const FragBuf &f, Value slot);
  Value fragSlotPtr(const FragBuf &f, int64_t slot) { return fragSlotPtr(f, cIndex(slot)); }
  FailureOr<Value> fragAccessSlot(Operation *op, Value buffer, ValueRange indices);
  Value convert(Value v, Type from, Type to);
  Value zeroOf(Type regType);
  void blockBarrier();
  Value threadInWarpgroup() { return arith::RemUIOp::create(b_, loc(), tid_, cIndex(kWarpgroup)); }
  Value laneId() { return arith::RemUIOp::create(b_, loc(), tid_, cIndex(kWarpSize)); }
  Value warpId() { return arith::DivUIOp::create(b_, loc(), tid_, cIndex(kWarpSize)); }
  // Coordinates of slot `slot` for this thread; `valid` is null when the slot
  // always holds an element, else an i1.
  SmallVector<Value> layoutCoords(const Layout &l, int64_t slot, Value &valid, bool &skip);
  Value emitWarpAllReduce(Value v, tl::ReduceKind kind);
  Value combine(tl::ReduceKind kind, Value a, Value c);
  Value identity(tl::ReduceKind kind, Type t);
  Value cloneProducerValue(Value v, IRMapping &m);
  Value globalIter(Value it) { return iterBase_ ? addI(iterBase_, it) : it; }
  void mapTile(Value linear);
  // Thread-block clusters along x (warp-specialised pipelines): clusterX_
  // blocks share the multicast operand tiles and walk tile groups together.
  Value clusterRank();
  void releaseStage(Value barrierOffset); // one arrival per warp, on every block of the cluster
  void clusterSync();
  // Iteration `k` of the pipelined loop (lower bound lb, step st): its index
  // in this tile, counted across the persistent loop's tiles, its stage and
  // that stage's phase parity.
  struct PipeIter {
    Value it, git, stage, phase;
  };
  PipeIter pipeIter(Value k, Value lb, Value st);
  Value fullBarrier(Value stage);
  Value emptyBarrier(Value stage);
  // One arrival per warp: the warp converges and lane 0 arrives on
  // `barrierOffset` (a stage release goes to every block of a cluster), when
  // `when` (if given) holds.
  void warpArrive(Value barrierOffset, bool stageRelease, Value when = Value());
  // "cta_group::1" or "cta_group::2" (CTA pairs): every tcgen05 op of a
  // kernel uses the same.
  const char *ctaGroup() const { return pairM_ ? "cta_group::2" : "cta_group::1"; }
  // The shared::cluster address of `offset` in the cluster's block `rank`.
  Value peerAddr(Value offset, int64_t rank);
  void waitBarrier(Value barrierOffset, Value parity);
  void wgmmaWait(const FragBuf &c, int64_t pending);
  void arriveBarrier(Value barrierOffset);

  // --- sm_100a: tcgen05 and tensor memory (lib/Conversion/TlToBlackwell)
  bool isTcgen05() const { return options_.chip == "sm_100a"; }
  LogicalResult planTensorMemory();
  LogicalResult checkRegisterBudget();
  bool isTmemResident(Value v) const { return tmem_.count(v); }
  Value smemAddr32(int64_t offset);
  Value smemAddr32(Value offset);
  Value tmemAddress(Value laneBase, Value column); // i32 TMEM address from the base
  void emitTmemAlloc();
  void emitTmemDealloc();
  Value rowAddress(const FragBuf &f, Value column, int64_t slot);
  void tmemLoadFragment(const FragBuf &f, Value column, Value zeroIf);
  void tmemLoadSlots(const FragBuf &f, Value column, Value zeroIf, int64_t first, int64_t count);
  LogicalResult emitStreamedTmemRead(Operation *reader, const FragBuf &f, Value column,
                                     Value zeroIf);
  LogicalResult emitPendingTmemRead(Operation *reader);
  Operation *soleReader(Value c, Operation *after, Block &block);
  void tmemStoreFragment(const FragBuf &f, Value column);
  FailureOr<Value> instrDescriptor(tl::GemmOp op, int64_t sfaId, int64_t sfbId);
  LogicalResult emitTcgen05Mmas(tl::GemmOp op, Value dColumn, Value enableFirst, Value scaleSet);
  LogicalResult checkTcgen05Gemm(tl::GemmOp op);
  LogicalResult emitGemmTcgen05Plain(tl::GemmOp op);
  LogicalResult emitMmaIssuer();
  LogicalResult emitTcgen05ConsumerLoop(tl::PipelinedOp op);
  void commitTo(Value barrierOffset);
  Value waitAccumulator(Value slot, Value use);
  void releaseAccumulator(Value slot);

  func::FuncOp func_;
  const GpuTargetOptions &options_;
  GpuKernelInfo &info_;
  OpBuilder b_;
  MLIRContext *ctx_;
  Location loc_ = UnknownLoc::get(ctx_);
  tl::LaunchOp launch_;
  LLVM::LLVMFuncOp newFunc_;
  IRMapping map_;
  DenseMap<Value, TensorArg> tensors_;
  DenseMap<Value, SharedBuf> shared_;
  DenseMap<Value, FragBuf> frags_;
  DenseMap<Value, Layout> layouts_;
  std::optional<ParallelCtx> par_;
  std::optional<PipelinePlan> pipe_;
  Value stage_; // index: the consumer's current stage inside the pipeline
  Value tid_;   // index: thread id among the compute threads
  SmallVector<Value> blockIds_;
  int64_t threads_ = 0; // compute (declared) threads
  int64_t totalThreads_ = 0;
  int64_t sharedTop_ = 0;
  int64_t reduceScratch_ = -1;
  int64_t reduceScratchBytes_ = 0;
  int64_t clusterX_ = 1; // blocks per cluster (the launch's clusters run along x)
  // sm_100a cluster=(1, 2, 1): the two blocks of a cluster take adjacent M
  // tiles of one N tile and compute them as one M = 256 tcgen05 MMA with
  // cta_group::2, each holding its A rows and half of B.
  bool pairM_ = false;
  bool warpSpecialised_ = false;
  // In a pipelined loop whose accumulator nothing else touches, keep one
  // wgmma group in flight (wait_group 1) and release the previous stage.
  bool deferWait_ = false;
  bool skipGemmWait_ = false; // the caller waits (overlapped promotion)
  // Persistent pipelines: iterations of earlier tiles (stage/phase counters
  // continue across tiles) and this tile's pipeline trip count.
  Value iterBase_;
  Value lastTripCount_;
  // Shared -> global copies done by a TMA store: op -> index in info_.tma.
  DenseMap<Operation *, int64_t> tmaStores_;
  Block *allocaBlock_ = nullptr;

  // sm_100a state.
  DenseMap<Value, TmemBuf> tmem_;
  DenseMap<Value, ScaleTmem> scaleTmem_; // keyed by the shared scale buffer
  DenseSet<Operation *> foldedFills_;    // T.clear folded into the first MMA
  int64_t tmemColumns_ = 0;              // allocated TMEM columns (power of two)
  int64_t tmemSlot_ = -1;                // shared word the allocation writes
  int64_t mmaBarOffset_ = -1;            // WS: accFull[ring], accEmpty[ring]; plain: one
  Value tmemBase_;                       // i32 TMEM base address
  Value mmaPhase_;                       // plain schedule: alloca i32 phase bit
  tl::GemmOp wsGemm_;                    // the pipelined gemm the MMA warp issues
  bool ringOverIters_ = false;           // product consumed per iteration (FP8 promotion)
  bool consumersInLoop_ = true;          // consumers have work inside the k-loop
  Value tileCount_;                      // persistent loop: tiles this block has done
  // A TMEM accumulator slot to be read by one op, streamed in 32-column
  // pieces (emitPendingTmemRead): the op, the slot's ring index and use count.
  Operation *pendingReader_ = nullptr;
  Value pendingSlot_, pendingUse_, pendingZeroIf_;
  // Fragment slots an element loop or copy emits (all when slotHi_ < 0).
  int64_t slotLo_ = 0, slotHi_ = -1;
};

Value linearize(OpBuilder &b, Location loc, ArrayRef<Value> coords, ArrayRef<Value> dims);
SmallVector<Value> expandCoords(OpBuilder &b, Location loc, ArrayRef<Value> offsets,
                                ArrayRef<int64_t> sizes, ArrayRef<Value> q);

} // namespace nvgpu
} // namespace tlc
