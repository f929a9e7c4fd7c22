// The `tl` dialect: registration, enums, attributes, types and kernel helpers.
// Include "tl/IR/TlOps.h" for the operations.
#ifndef TL_IR_TLDIALECT_H
#define TL_IR_TLDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"

#include "tl/IR/LinearLayout.h"

#include <optional>

#include "tl/IR/TlDialect.h.inc"
#include "tl/IR/TlEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "tl/IR/TlAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "tl/IR/TlTypes.h.inc"

namespace mlir::tl {

/// Names of the discardable attributes the dialect gives meaning to.
inline constexpr llvm::StringLiteral kKernelAttrName = "tl.kernel";
inline constexpr llvm::StringLiteral kArgDimsAttrName = "tl.arg_dims";
inline constexpr llvm::StringLiteral kParamsAttrName = "tl.params";
inline constexpr llvm::StringLiteral kUnrollAttrName = "tl.unroll";
/// Set on tl.launch by tl-verify-shared-memory (tl.tmem_columns also by
/// tl-assign-tmem: the columns the kernel allocates, a power of two).
inline constexpr llvm::StringLiteral kSmemBytesAttrName = "tl.smem_bytes";
inline constexpr llvm::StringLiteral kTmemColumnsAttrName = "tl.tmem_columns";
/// Byte offset of a shared buffer or barrier array in the block's shared
/// memory (tl-allocate-shared); on a tl.alloc_tmem its first column in the
/// block's tensor memory (tl-assign-tmem).
inline constexpr llvm::StringLiteral kOffsetAttrName = "tl.offset";
/// Byte offset of the shared scratch an op uses while it runs (a reduction
/// across warps, a layout conversion), set by tl-allocate-shared.
inline constexpr llvm::StringLiteral kScratchAttrName = "tl.scratch";
/// The tensor maps of a kernel's TMA copies (tl-pipeline): dictionaries
/// {param, box, swizzle, dtype[, unpack_fp4]} in parameter order.
inline constexpr llvm::StringLiteral kTmaMapsAttrName = "tl.tma_maps";
/// Marks the ops of a pipelined loop that fill its stages (tl-pipeline), for
/// tl-warp-specialize to move into the producer role.
inline constexpr llvm::StringLiteral kProducerAttrName = "tl.producer";
/// Marks the reads and updates of a pipelined loop's running iteration
/// count (tl-pipeline): every role that runs the loop keeps its own.
inline constexpr llvm::StringLiteral kPipelineStateAttrName = "tl.pipeline_state";
/// On a tl.copy that the async proxy will read the destination of (a
/// cp.async stage read by tcgen05.cp or an MMA): the copying thread waits
/// for its copies and fences the proxies before it arrives (tl-pipeline).
inline constexpr llvm::StringLiteral kAsyncProxyAttrName = "tl.async_proxy";
/// On a pipelined cp.async tl.copy: how many warps (the first ones of the
/// threads running it, `tl.elect {warps = N}`) share its pieces.
inline constexpr llvm::StringLiteral kCopyWarpsAttrName = "tl.copy_warps";
/// On an element access (memref.load/store, tl.atomic_add) of a global
/// tensor: what tl-guard-global-accesses decided (kBounds* below).
inline constexpr llvm::StringLiteral kBoundsAttrName = "tl.bounds";
/// In range for every launch (shown by the compiler): no guard.
inline constexpr llvm::StringLiteral kBoundsProven = "proven";
/// Out-of-range loads give zero, stores are dropped (the default).
inline constexpr llvm::StringLiteral kBoundsGuard = "guard";
/// `tlc --check-bounds`: out of range stops the kernel with a report.
inline constexpr llvm::StringLiteral kBoundsCheck = "check";
/// The author opted out (`with T.no_bounds_check():`): no guard.
inline constexpr llvm::StringLiteral kBoundsUnchecked = "unchecked";
/// On a tl.launch whose roles walk the grid themselves (tl-persistent).
inline constexpr llvm::StringLiteral kPersistentAttrName = "tl.persistent";

/// True if `func` is a tl kernel (carries the `tl.kernel` unit attribute).
bool isTlKernel(func::FuncOp func);

/// The memory scope of a memref type, or nullopt if its memory space is not a
/// `#tl.scope<...>` attribute.
std::optional<MemScope> getMemScope(Type type);

/// The layout chosen for a buffer (`#tl.scope<..., #tl.layout<...>>`), if any.
std::optional<LinearLayout> getBufferLayout(Type type);

/// `type` with the layout `layout` in its memory space (same scope).
MemRefType withBufferLayout(MemRefType type, const LinearLayout &layout);

/// A memref type of the given shape and element type in `scope`.
MemRefType getScopedMemRefType(ArrayRef<int64_t> shape, Type elementType,
                               MemScope scope);

/// Storage bits of one element (4 for f4E2M1FN, 8 for i1: bools are bytes).
unsigned getElementBits(Type elementType);

/// The name a buffer was bound to in the source (`acc = T.alloc_fragment(...)`
/// gives its allocation a NameLoc), quoted for messages ("'acc'"), or "this
/// buffer" when it has none.
std::string describeBuffer(Value buffer);

/// A dtype as the language spells it ("float32", "float8_e4m3", "int32");
/// unsigned integers, which the IR does not tell apart, print as intN.
std::string describeDType(Type type);

/// Bytes a statically shaped buffer occupies (FP4 packed two per byte).
int64_t getBufferBytes(MemRefType type);

/// 32-bit TMEM columns a tmem buffer occupies: ceil(dim1 * bits / 32) for a
/// 2-D tile (16-bit elements two per column); for f8E8M0FNU block scales
/// ([rows, chunks] or [slots, rows, chunks]) 4 columns per 128 rows per 4
/// chunks per slot, the placement tcgen05.cp 32x128b.warpx4 gives them.
int64_t getTmemColumns(MemRefType type);

/// The swizzle span in bytes (16-byte units XORed over rows of that many
/// bytes: 32, 64 or 128) of a shared MMA tile laid out by
/// LinearLayout::swizzledShared, or 0 when the buffer has no such layout.
/// FP4 tiles count a byte per element (tcgen05 reads them unpacked).
int64_t getSwizzleBytes(MemRefType type);

/// Bytes one cp.async moves for a copy of the region `srcSizes` of `src` to
/// the region `dstSizes` of the shared buffer `dst` (same element type): the
/// element itself for 4, 8 and 16-byte elements; for 1-byte elements the
/// widest of 16, 8, 4 bytes that whole rows split into and that `dst`'s
/// layout keeps contiguous and aligned. 0 when cp.async cannot copy it.
int64_t getCpAsyncVectorBytes(MemRefType src, ArrayRef<int64_t> srcSizes, MemRefType dst,
                              ArrayRef<int64_t> dstSizes);
/// The same for a gather (T.copy whose source rows come from an index
/// buffer): pieces of 16, 8 or 4 bytes of any element width, the widest that
/// the rows split into and `dst`'s layout keeps contiguous and aligned; 0 when
/// none does.
int64_t getGatherVectorBytes(MemRefType src, ArrayRef<int64_t> srcSizes, MemRefType dst,
                             ArrayRef<int64_t> dstSizes);

/// The source dimensions a tl.view of the box `sizes` keeps when its result
/// has shape `result`: `sizes` with some unit dimensions dropped, in order
/// (where a unit dimension may be kept or dropped, the leftmost is kept).
/// nullopt when `result` is not such a shape.
std::optional<SmallVector<unsigned>> getViewKeptDims(ArrayRef<int64_t> sizes,
                                                     ArrayRef<int64_t> result);

/// The layout of the view of the box `sizes` at `offsets` (constants, or
/// nullopt for run-time offsets), keeping the source dimensions `kept`, of a
/// shared buffer laid out by the offset layout `layout`, when the box is a
/// restriction of it: the box's elements sit at the lowest offsets of the
/// layout moved by the offset of its origin, and that offset adds to them
/// without carries (whole stages of a ring, whole chunks of a swizzled
/// tile). nullopt when the box is not (a K-slice inside a swizzle atom).
std::optional<LinearLayout> restrictViewLayout(const LinearLayout &layout,
                                               ArrayRef<std::optional<int64_t>> offsets,
                                               ArrayRef<int64_t> sizes, ArrayRef<unsigned> kept);

/// Whether the box `sizes` of a row-major buffer of `shape` is one run of
/// memory: unit dimensions, then one partial dimension, then whole ones.
bool isContiguousBox(ArrayRef<int64_t> shape, ArrayRef<int64_t> sizes);

/// `layout` with its tile read as `shape` in row-major order (tl.reshape):
/// every basis keeps its flattened coordinate. nullopt unless the layout's
/// tile and `shape` are powers of two of the same size.
std::optional<LinearLayout> reshapeLayout(const LinearLayout &layout, ArrayRef<int64_t> shape);
/// A shared tile's Offset layout read as elements of another width (a
/// tl.reshape to another element type): the same bytes at the same
/// addresses, `shape` elements of `resBits` each (both widths whole bytes).
/// Each new element must be whole in the source's layout: its bytes at
/// consecutive offsets that no other offset bit disturbs (a 4-byte word of a
/// tile swizzled in 16-byte units, for instance). Nullopt otherwise, or for
/// shapes that are not powers of two.
std::optional<LinearLayout> reinterpretLayout(const LinearLayout &layout, int64_t srcBits,
                                              ArrayRef<int64_t> shape, int64_t resBits);

/// Bytes of shared scratch `op` needs while it runs (0 for none): partial
/// results of a reduction across warps, the tile of a layout conversion.
int64_t getSharedScratchBytes(Operation *op);

} // namespace mlir::tl

#endif // TL_IR_TLDIALECT_H
