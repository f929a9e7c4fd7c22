// tl-allocate-shared: a byte offset for every shared buffer, barrier array
// and per-op scratch of a launch, sharing bytes between buffers whose
// lifetimes do not overlap, and the budget check with each buffer's bytes.
//
// Lifetimes are intervals of the program order in one block: each use of a
// buffer is charged to the op that contains it in the launch body, or in the
// body of the warp-specialised role it runs in. A buffer used inside a loop
// is live for the whole loop (the next iteration may read it), a buffer used
// by two roles is live for the whole launch (roles run concurrently), and a
// scratch (a reduction's partials, a layout conversion's tile) lives only
// while its op runs. Buffers are placed largest first at the lowest offset
// free of every buffer live at the same time. Barriers are never shared:
// they are initialised once, at the start of the kernel. FP4 buffers take
// half a byte per value, except those TMA fills through an unpacking map
// (a byte per value).
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLALLOCATESHARED
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

/// On a shared buffer tl-stage-shared made: what it is, for the budget
/// report of tl-allocate-shared (the two passes spell it alike).
constexpr llvm::StringLiteral kStagedAsAttrName = "tlc_staged_as";

constexpr int64_t kBarrierBytes = 8;

struct Item {
  Operation *op = nullptr; // the alloc, or the op owning a scratch
  bool scratch = false;
  int64_t bytes = 0;
  int64_t align = 16;
  Block *block = nullptr; // null: live for the whole launch
  int64_t begin = 0, end = 0;
  int64_t offset = -1;

  bool overlaps(const Item &o) const {
    if (!block || !o.block || block != o.block)
      return true;
    return begin <= o.end && o.begin <= end;
  }
};

/// The op in `launch`'s body, or in a role body of a tl.warp_specialize,
/// that contains `op`.
Operation *anchorOf(Operation *op, LaunchOp launch) {
  Operation *cur = op;
  while (cur) {
    Operation *parent = cur->getParentOp();
    if (parent == launch.getOperation() || isa_and_nonnull<WarpSpecializeOp>(parent))
      return cur;
    cur = parent;
  }
  return nullptr;
}

int64_t positionIn(Operation *op) {
  int64_t i = 0;
  for (Operation &o : *op->getBlock()) {
    if (&o == op)
      return i;
    ++i;
  }
  return -1;
}

/// Extends `item`'s lifetime by a use inside `user`.
void addUse(Item &item, Operation *user, LaunchOp launch, bool &first) {
  // Views and reshapes are uses of their source.
  if (isa<ViewOp, ReshapeOp>(user)) {
    for (Operation *u : user->getResult(0).getUsers())
      addUse(item, u, launch, first);
    return;
  }
  Operation *a = anchorOf(user, launch);
  if (!a)
    return;
  int64_t pos = positionIn(a);
  if (first) {
    item.block = a->getBlock();
    item.begin = item.end = pos;
    first = false;
    return;
  }
  if (item.block != a->getBlock()) {
    item.block = nullptr;
    return;
  }
  item.begin = std::min(item.begin, pos);
  item.end = std::max(item.end, pos);
}

/// Whether `buf` (or a view of it) is the destination of a TMA copy whose
/// tensor map unpacks FP4 (`unpack_fp4`, tl-pipeline on sm_100a): TMA then
/// writes a byte per value, not the packed two per byte.
bool filledUnpacked(Value buf, ArrayAttr maps) {
  for (Operation *user : buf.getUsers()) {
    if (isa<ViewOp, ReshapeOp>(user)) {
      if (filledUnpacked(user->getResult(0), maps))
        return true;
      continue;
    }
    auto copy = dyn_cast<CopyOp>(user);
    if (!copy || copy.getDst() != buf || !copy.getTma() || !maps ||
        *copy.getTma() >= static_cast<int64_t>(maps.size()))
      continue;
    if (auto map = dyn_cast<DictionaryAttr>(maps[*copy.getTma()]); map && map.get("unpack_fp4"))
      return true;
  }
  return false;
}

/// Bytes of a shared buffer: packed (getBufferBytes) unless TMA fills it
/// with unpacked FP4.
int64_t sharedBytes(AllocSharedOp alloc) {
  MemRefType t = alloc.getType();
  auto fn = alloc->getParentOfType<func::FuncOp>();
  auto maps = fn ? fn->getAttrOfType<ArrayAttr>(kTmaMapsAttrName) : ArrayAttr();
  if (isa<Float4E2M1FNType>(t.getElementType()) && filledUnpacked(alloc.getResult(), maps))
    return t.getNumElements();
  return getBufferBytes(t);
}

int64_t alignmentFor(MemRefType type) {
  // Swizzled tiles (offset layouts) repeat every 1024 bytes at most (the
  // 128-byte swizzle's 8 rows); TMA and the MMA descriptors need that.
  if (getBufferLayout(type))
    return 1024;
  return 128;
}

struct AllocateShared : public tl::impl::TlAllocateSharedBase<AllocateShared> {
  using TlAllocateSharedBase::TlAllocateSharedBase;

  void runOnOperation() override {
    getOperation().walk([&](LaunchOp launch) {
      if (failed(allocate(launch)))
        signalPassFailure();
    });
  }

  LogicalResult allocate(LaunchOp launch) {
    SmallVector<Item> items;
    int64_t barrierBytes = 0;
    SmallVector<AllocBarrierOp> barriers;
    launch.walk([&](Operation *op) {
      if (auto alloc = dyn_cast<AllocSharedOp>(op)) {
        Item it;
        it.op = op;
        it.bytes = sharedBytes(alloc);
        it.align = alignmentFor(alloc.getType());
        bool first = true;
        for (Operation *user : alloc.getResult().getUsers())
          addUse(it, user, launch, first);
        if (first) // unused: give it a place anyway, live nowhere else
          it.block = nullptr;
        items.push_back(it);
      } else if (auto bar = dyn_cast<AllocBarrierOp>(op)) {
        barriers.push_back(bar);
      } else if (int64_t bytes = getSharedScratchBytes(op)) {
        Item it;
        it.op = op;
        it.scratch = true;
        it.bytes = bytes;
        Operation *a = anchorOf(op, launch);
        it.block = a->getBlock();
        it.begin = it.end = positionIn(a);
        items.push_back(it);
      }
    });
    // Largest first, lowest free offset.
    SmallVector<Item *> order;
    for (Item &it : items)
      order.push_back(&it);
    llvm::stable_sort(order, [](Item *a, Item *b) { return a->bytes > b->bytes; });
    int64_t top = 0;
    SmallVector<Item *> placed;
    for (Item *it : order) {
      int64_t off = 0;
      bool moved = true;
      while (moved) {
        moved = false;
        off = llvm::alignTo(off, it->align);
        for (Item *p : placed)
          if (it->overlaps(*p) && off < p->offset + p->bytes && p->offset < off + it->bytes) {
            off = p->offset + p->bytes;
            moved = true;
          }
      }
      it->offset = off;
      top = std::max(top, off + it->bytes);
      placed.push_back(it);
    }
    top = llvm::alignTo(top, kBarrierBytes);
    Builder b(launch.getContext());
    for (AllocBarrierOp bar : barriers) {
      bar->setAttr(kOffsetAttrName, b.getI64IntegerAttr(top));
      int64_t n = bar.getResult().getType().getCount() * kBarrierBytes;
      top += n;
      barrierBytes += n;
    }
    for (Item &it : items)
      it.op->setAttr(it.scratch ? kScratchAttrName : kOffsetAttrName,
                     b.getI64IntegerAttr(it.offset));
    launch->setAttr(kSmemBytesAttrName, b.getI64IntegerAttr(top));
    if (budget > 0 && top > budget) {
      InFlightDiagnostic diag = launch.emitError(llvm::formatv(
          "the kernel needs {0} bytes of shared memory, over the budget of {1} bytes "
          "(pipeline stages and swizzle alignment included)",
          top, static_cast<int64_t>(budget)));
      for (Item &it : items) {
        std::string what = it.scratch ? "scratch of this op" : "this buffer";
        if (auto staged = it.op->getAttrOfType<StringAttr>(kStagedAsAttrName))
          what = staged.str();
        diag.attachNote(it.op->getLoc())
            << what << ": " << it.bytes << " bytes at offset " << it.offset;
      }
      if (barrierBytes)
        diag.attachNote(barriers.front().getLoc()) << "mbarriers: " << barrierBytes << " bytes";
      return failure();
    }
    return success();
  }
};

} // namespace
