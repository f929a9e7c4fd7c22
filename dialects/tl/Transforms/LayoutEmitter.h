// Code for linear layouts: the coordinates a thread's register slot holds,
// and offsets of swizzled (offset-layout) buffers, as index arithmetic.
// Shared by the passes that distribute work over threads and by the target
// lowerings.
#ifndef TL_TRANSFORMS_LAYOUTEMITTER_H
#define TL_TRANSFORMS_LAYOUTEMITTER_H

#include "tl/IR/LinearLayout.h"

#include "mlir/IR/Builders.h"

namespace mlir::tl {

/// This thread's lane and warp (index values) from its thread index.
struct HwIndex {
  Value lane, warp;
};
HwIndex emitHwIndex(OpBuilder &b, Location loc, Value threadId);

/// The linear map of `bases` (one coordinate vector per bit of `index`)
/// applied to a run-time `index`: one index value per tile dimension.
/// Bits whose basis entries are consecutive powers of two become one
/// shift-and-mask; terms that cannot overlap are added, others XORed.
SmallVector<Value> emitLinearMap(OpBuilder &b, Location loc, ArrayRef<LinearLayout::Coords> bases,
                                 unsigned rank, Value index);

/// Coordinates of register slot `slot` of this thread (lane/warp of `hw`).
SmallVector<Value> emitSlotCoords(OpBuilder &b, Location loc, const LinearLayout &layout,
                                  int64_t slot, HwIndex hw);
/// The same for a run-time slot.
SmallVector<Value> emitSlotCoords(OpBuilder &b, Location loc, const LinearLayout &layout,
                                  Value slot, HwIndex hw);

/// Whether coordinate `coords` (static part `regPart` of a slot) of `layout`
/// can lie outside `shape` for some thread: -1 never (always inside), 0 in
/// some threads (a run-time check is needed), 1 always outside (skip).
int classifySlot(const LinearLayout &layout, ArrayRef<int64_t> shape,
                 ArrayRef<int64_t> regPart);

/// i1: this thread is the first of the replicas `layout` makes (lane and
/// warp bits with zero bases are 0), or null when nothing is replicated.
Value emitReplicaLeader(OpBuilder &b, Location loc, const LinearLayout &layout, HwIndex hw);

/// Element offset of `coords` in a buffer of offset layout `layout`
/// (invertible): the XOR of the offsets of the coordinate bits.
Value emitLayoutOffset(OpBuilder &b, Location loc, const LinearLayout &layout,
                       ArrayRef<Value> coords);

/// How an element access inside a loop uses the loop's variables `ivs` (of
/// `extents`) as indices into a buffer of `shape`: the variables that index
/// a buffer dimension of their extent, in increasing loop order (`kept`:
/// those loop dimensions; `at`: the buffer dimension each indexes). Every
/// other index (a serial loop's variable, a constant, an expression) indexes
/// a dimension each thread holds whole. Shared by tl-infer-layouts and
/// tl-distribute-parallel, which must agree on it.
struct LoopIndexing {
  SmallVector<unsigned> kept, at;
};
LoopIndexing matchLoopIndices(ValueRange indices, ArrayRef<int64_t> shape, ValueRange ivs,
                              ArrayRef<int64_t> extents);

} // namespace mlir::tl

#endif // TL_TRANSFORMS_LAYOUTEMITTER_H
