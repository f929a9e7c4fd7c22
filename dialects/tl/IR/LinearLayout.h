// Linear layouts: how a tile's elements are placed on hardware.
//
// A layout maps hardware indices to tile coordinates. Each hardware index is
// an input dimension of power-of-two size, given as bits:
//   register layouts:  Register (slot of a thread's array), Lane, Warp;
//   memory layouts:    Offset (element index from the buffer's base).
// Every input bit has a basis vector (one coordinate per tile dimension), and
// the coordinates of an index are the XOR of the basis vectors of its set
// bits. Linear maps over GF(2) compose, invert and project with bit-matrix
// algebra, which is what layout conversion, reductions, broadcasts and
// swizzled addressing need. A basis vector of zeros means the bit does not
// move the element: the data is replicated along it (a row statistic
// replicated over the four lanes of a quad, a value every warp holds).
//
// Tile dimensions of a layout have power-of-two sizes (the padded shape). A
// buffer whose logical shape is smaller leaves the coordinates past its
// shape unused: code that walks a layout skips or masks them.
#ifndef TL_IR_LINEARLAYOUT_H
#define TL_IR_LINEARLAYOUT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace mlir::tl {

class LinearLayout {
public:
  enum InDim : unsigned { Register = 0, Lane = 1, Warp = 2, Offset = 3 };
  static constexpr unsigned kNumInDims = 4;
  /// One coordinate per tile dimension.
  using Coords = llvm::SmallVector<int64_t, 4>;

  LinearLayout() = default;
  /// A layout with no input bits over a tile of `outShape` (powers of two).
  explicit LinearLayout(llvm::ArrayRef<int64_t> outShape);

  llvm::ArrayRef<int64_t> getOutShape() const { return outShape; }
  unsigned getRank() const { return outShape.size(); }
  llvm::ArrayRef<Coords> getBases(InDim d) const { return bases[d]; }
  unsigned getInBits(InDim d) const { return bases[d].size(); }
  int64_t getInSize(InDim d) const { return int64_t{1} << bases[d].size(); }
  /// Appends the basis vector of the next (most significant) bit of `d`.
  void addBasis(InDim d, llvm::ArrayRef<int64_t> coords);
  /// True when the layout has register/lane/warp bits (a register layout).
  bool isRegisterLayout() const { return !bases[Register].empty() || !bases[Lane].empty() ||
                                         !bases[Warp].empty(); }

  /// Coordinates of index `index` of input dimension `d` alone.
  Coords apply(InDim d, int64_t index) const;
  /// Coordinates held by register slot `reg` of lane `lane` in warp `warp`.
  Coords apply(int64_t reg, int64_t lane, int64_t warp) const;
  /// XOR of two coordinate vectors.
  static Coords xorCoords(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);

  /// Bits of the flattened coordinate space a coordinate vector sets
  /// (dimension 0 in the most significant bits).
  uint64_t flatten(llvm::ArrayRef<int64_t> coords) const;
  Coords unflatten(uint64_t bits) const;
  unsigned getOutBits() const;

  /// The union, per tile dimension, of the coordinate bits that lane and warp
  /// bits can set: the part of a coordinate a thread cannot know statically.
  Coords getThreadVaryingBits() const;

  /// The register slot `r` with apply(Register, r) == coords, if the
  /// register bases span them (the lowest such slot).
  std::optional<int64_t> solveRegister(llvm::ArrayRef<int64_t> coords) const;

  /// Drops tile dimension `dim` (a projection): what a row reduction leaves.
  LinearLayout dropOutDim(unsigned dim) const;
  /// Removes register bits whose basis lies in the span of the lower ones
  /// (zero, or a repeat): every slot then holds a distinct element.
  LinearLayout withoutRedundantRegisters() const;
  /// For a bijective Offset layout: the offset of each coordinate bit, i.e.
  /// offsetOf(coords) = XOR over set coordinate bits of the returned masks
  /// (indexed by flattened bit, bit 0 = least significant bit of the last
  /// dimension). Empty when the layout is not invertible.
  llvm::SmallVector<uint64_t> invertOffsets() const;
  /// The offset of `coords` under an invertible Offset layout.
  std::optional<int64_t> offsetOf(llvm::ArrayRef<int64_t> coords) const;

  bool operator==(const LinearLayout &o) const {
    return outShape == o.outShape && bases == o.bases;
  }
  bool operator!=(const LinearLayout &o) const { return !(*this == o); }
  std::string str() const;

  //===--------------------------------------------------------------------===//
  // Layouts of the hardware
  //===--------------------------------------------------------------------===//

  /// The wgmma accumulator (and 16-bit register A operand) of an M x N tile
  /// spread over `warpgroups` warpgroups, `wgAlongM` of them stacked along M
  /// and the rest along N. Each warpgroup holds (M / wgAlongM) rows, a
  /// multiple of 64, as 64-row tiles of n = N / wgAlongN columns: register
  /// pairs of adjacent columns, rows r and r + 8, lanes in quads along the
  /// columns, warps 16 rows apart (PTX ISA, wgmma D fragment). Returns
  /// nullopt when the shape does not split that way.
  static std::optional<LinearLayout> wgmmaAccumulator(int64_t M, int64_t N, int64_t warpgroups,
                                                      int64_t wgAlongM);
  /// What tcgen05.ld.32x32b delivers for a 128-row TMEM accumulator read by
  /// `warpgroups` warpgroups: thread t of a warpgroup holds row t, the
  /// warpgroups split the N columns, register i is column i of its share.
  static std::optional<LinearLayout> tmem32x32b(int64_t M, int64_t N, int64_t warpgroups);
  /// A row-major distribution over `threads` threads: runs of `vec`
  /// contiguous elements of the last dimension per thread, consecutive lanes
  /// on consecutive runs, then warps, then further registers. Threads beyond
  /// the tile's elements hold replicas.
  static LinearLayout blocked(llvm::ArrayRef<int64_t> shape, int64_t threads, int64_t vec);
  /// Every thread holds the whole tile (row-major slots).
  static LinearLayout replicated(llvm::ArrayRef<int64_t> shape, int64_t threads);
  /// A 2-D shared tile as TMA's swizzle modes and the MMA descriptors lay it
  /// out: the columns are cut into chunks `swizzleBytes` wide, each chunk is
  /// rows x swizzleBytes bytes, and within it the 16-byte unit of byte
  /// address bits [4, 4 + b) is XORed with bits [7, 7 + b) (b = 3, 2, 1 for
  /// 128, 64, 32 bytes). `elemBits` >= 8.
  static std::optional<LinearLayout> swizzledShared(int64_t rows, int64_t cols, int64_t elemBits,
                                                    int64_t swizzleBytes);

  /// The shared-memory tile of tcgen05 block scales ([rows, chunks] ue8m0,
  /// powers of two, rows >= 128, chunks >= 4) as tcgen05.cp 32x128b.warpx4
  /// reads it: offset(r, c) = (c/4)*(rows/128)*512 + (r/128)*512 +
  /// (r%32)*16 + ((r%128)/32)*4 + c%4 (docs/blackwell-encodings.md, 6).
  static std::optional<LinearLayout> tcgen05ScaleStaging(int64_t rows, int64_t chunks);

  /// The next power of two >= n (n >= 1).
  static int64_t padPow2(int64_t n);
  static llvm::SmallVector<int64_t> padShape(llvm::ArrayRef<int64_t> shape);

private:
  llvm::SmallVector<int64_t, 4> outShape;
  std::array<llvm::SmallVector<Coords>, kNumInDims> bases;
};

const char *stringifyInDim(LinearLayout::InDim d);

/// A buffer laid out by `buf`, indexed inside a loop laid out by `driver`:
/// the loop variables `kept` index the buffer dimensions `at` (in order),
/// anything else indexes the others. Whether the thread that runs each loop
/// point holds the element it indexes, at a register slot fixed per loop
/// slot, and holds each other dimension whole in consecutive register bits;
/// if so, per buffer dimension, the first of those bits (-1 for the
/// dimensions in `at`): the slot of an element is the loop point's plus
/// index << bit for each such dimension.
std::optional<llvm::SmallVector<int64_t>> alignAlongLoop(const LinearLayout &driver,
                                                         llvm::ArrayRef<unsigned> kept,
                                                         llvm::ArrayRef<unsigned> at,
                                                         const LinearLayout &buf);

} // namespace mlir::tl

#endif // TL_IR_LINEARLAYOUT_H
