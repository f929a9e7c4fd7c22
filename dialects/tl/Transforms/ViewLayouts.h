// Layouts of views for tl-infer-layouts (ViewLayouts.cpp): the shared tiles
// T.gemm reads through tl.view (K-slices, ring stages) and the types of
// tl.view / tl.reshape results once their sources are laid out.
#ifndef TL_TRANSFORMS_VIEWLAYOUTS_H
#define TL_TRANSFORMS_VIEWLAYOUTS_H

#include "tl/IR/TlOps.h"

namespace mlir::tl {

/// The buffer a shared T.gemm operand is a view of (through any chain of
/// tl.view), or the operand itself.
Value getViewRoot(Value v);

/// The swizzled layout of a shared MMA operand tile `type` (rank 2, or a
/// stack of 2-D tiles: a ring's stages above the tile's offsets); `where`
/// reports the shapes that have none.
FailureOr<LinearLayout> mmaSharedLayout(MemRefType type, Operation *where);

/// Rewrites the result types of the tl.view and tl.reshape ops in `launch`
/// for their sources' layouts (decided by tl-infer-layouts): a view of a
/// shared buffer has the restriction of its source's layout or none (it is
/// then addressed through its source); a reshape reads its source's layout
/// in the new shape. Reports what the GPU lowering cannot do yet (views of
/// fragments, reshapes of fragments or of MMA operand tiles to another type).
LogicalResult retypeViews(LaunchOp launch);

/// Reports the views the GPU lowering cannot lay out (of fragments and
/// locals, reshapes of fragments) before inference starts.
LogicalResult checkRegisterViews(LaunchOp launch);

} // namespace mlir::tl

#endif // TL_TRANSFORMS_VIEWLAYOUTS_H
