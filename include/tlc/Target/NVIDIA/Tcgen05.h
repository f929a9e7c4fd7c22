//===- Tcgen05.h - Blackwell (sm_100a) tcgen05 encodings --------*- C++ -*-===//
//
// Pure C++ (no MLIR/LLVM) encoders for the 5th-generation tensor core
// (tcgen05) of sm_100a: the shared-memory matrix descriptor, the 32-bit
// instruction descriptor of every MMA kind, the valid MMA shapes, Tensor
// Memory (TMEM) addressing, the accumulator and scale-factor placement in
// TMEM, and the PTX opcode spellings that ptxas 13 accepts.
//
// Every number here comes from the PTX ISA (section 9.7.16 "TensorCore 5th
// Generation Family Instructions" in the 9.0/9.1 numbering); the section
// and table names are cited at each declaration and collected, with the
// PTX forms ptxas accepted, in docs/blackwell-encodings.md.
//
//===----------------------------------------------------------------------===//
#ifndef TLC_TARGET_NVIDIA_TCGEN05_H
#define TLC_TARGET_NVIDIA_TCGEN05_H

#include <cstdint>
#include <string>
#include <utility>

namespace tlc::tcgen05 {

/// A value or an error message naming what is invalid. `error` is empty on
/// success; `value` is meaningful only then.
template <typename T> struct Result {
  T value{};
  std::string error;
  explicit operator bool() const { return error.empty(); }
  static Result success(T v) { return Result{v, {}}; }
  static Result failure(std::string msg) { return Result{T{}, std::move(msg)}; }
};

//===----------------------------------------------------------------------===//
// Shared-memory matrix descriptor (PTX 9.7.16.4.1 "Shared Memory
// Descriptor", table "Shared memory descriptor layout").
//
//   bits  0-13  start address, (addr & 0x3FFFF) >> 4
//   bits 16-29  leading-dimension byte offset >> 4 (LBO)
//   bits 32-45  stride-dimension byte offset >> 4 (SBO)
//   bits 46-48  fixed constant 0b001
//   bits 49-51  matrix base offset
//   bit  52     LBO mode (0 relative offset, 1 absolute address)
//   bits 61-63  swizzle mode (see swizzleCode)
//===----------------------------------------------------------------------===//

enum class Swizzle { None, B32, B64, B128, B128Atom32 };

/// The 3-bit ISA code of a swizzle mode: none 0, 128B-with-32B-atomicity 1,
/// 128B 2, 64B 4, 32B 6.
uint32_t swizzleCode(Swizzle s);
/// Width in bytes of one swizzle row (16 for None: one core-matrix row).
uint32_t swizzleBytes(Swizzle s);
const char *swizzleName(Swizzle s);

/// Full descriptor for an operand at shared::cta byte address
/// `smemByteAddr`. Errors: address not 16-byte aligned or >= 256 KiB; LBO/SBO
/// not a multiple of 16 or >= 256 KiB; baseOffset > 7.
Result<uint64_t> smemDescriptor(uint32_t smemByteAddr, uint32_t lboBytes, uint32_t sboBytes,
                                Swizzle swizzle, uint32_t baseOffset = 0, bool lboAbsolute = false);

/// The address-independent part of the descriptor (every field except bits
/// 0-13). A kernel whose shared-memory base is only known at run time builds
/// the descriptor as `constantPart | smemAddressField(addr)`.
Result<uint64_t> smemDescriptorConstantPart(uint32_t lboBytes, uint32_t sboBytes, Swizzle swizzle,
                                            uint32_t baseOffset = 0, bool lboAbsolute = false);
/// Bits 0-13 for a shared::cta byte address: (addr & 0x3FFFF) >> 4.
constexpr uint64_t smemAddressField(uint32_t smemByteAddr) {
  return (smemByteAddr & 0x3FFFFu) >> 4;
}

/// LBO/SBO of a dense K-major tile written by TMA with the given swizzle
/// (rows of swizzleBytes(s) bytes, 8-row core-matrix groups back to back):
/// SBO = 8 * swizzleBytes, LBO = 16 (ignored by the hardware for swizzled
/// K-major operands; the field is 1). Not meaningful for Swizzle::None,
/// whose LBO depends on how the caller tiles K (error).
struct OperandStrides {
  uint32_t lboBytes = 0;
  uint32_t sboBytes = 0;
};
Result<OperandStrides> kMajorSwizzledStrides(Swizzle s);

/// Amount to add to the descriptor (its start-address field) to step `kElems`
/// elements of `elemBits` bits along K inside one K-major swizzle atom:
/// (kElems * elemBits / 8) >> 4. Errors if the step is not a multiple of 16
/// bytes or leaves the swizzle row.
Result<uint64_t> kMajorDescriptorAdvance(uint32_t kElems, uint32_t elemBits, Swizzle s);

/// MN-major operands (transpose bit set), from the PTX canonical-layout table
/// ("Canonical layouts", 9.7.16.4.1): with swizzle W = swizzleBytes(s) the
/// tile is made of atoms of 8 K-rows x W bytes (MN contiguous);
///   SBO = byte distance between 8-row groups along K (8*W when the groups of
///         one atom column are back to back),
///   LBO = byte distance between atoms adjacent along MN (`atomColumnBytes`,
///         e.g. kRows*W when each W-byte MN slice holds all kRows K rows).
/// Errors for Swizzle::None (layout is caller-defined) and a bad LBO.
Result<OperandStrides> mnMajorSwizzledStrides(Swizzle s, uint32_t atomColumnBytes);
/// Advance for stepping `kElems` (a multiple of 8) along K in an MN-major
/// swizzled tile whose 8-row groups are `sboBytes` apart: (kElems/8)*SBO >> 4.
Result<uint64_t> mnMajorDescriptorAdvance(uint32_t kElems, uint32_t sboBytes);

//===----------------------------------------------------------------------===//
// MMA kinds, element formats and shapes (PTX 9.7.16.2.1 "Matrix Shape",
// table "Various combinations of .kind and shapes"; 9.7.16.10.7 "Block
// Scaling", tables "Valid combinations of scale_vectorsize ...").
//===----------------------------------------------------------------------===//

enum class Kind { F16, TF32, F8F6F4, I8, MXF8F6F4, MXF4, MXF4NVF4 };
enum class Format { F16, BF16, TF32, E4M3, E5M2, E2M3, E3M2, E2M1, S8, U8 };
enum class Accum { F32, F16, S32 };
enum class ScaleFormat { UE8M0, UE4M3 };

const char *kindName(Kind k);     ///< "kind::f16", ...
const char *formatName(Format f); ///< "bf16", "e4m3", ...
bool isBlockScaled(Kind k);       ///< mxf8f6f4, mxf4, mxf4nvf4
uint32_t formatBits(Format f);    ///< element width in bits

/// K of one dense MMA: f16 16, tf32 8, f8f6f4 32, i8 32, mxf8f6f4 32,
/// mxf4 64, mxf4nvf4 64.
int mmaK(Kind k);

/// Empty when (kind, M, N, cta_group) is a valid dense non-.ws tcgen05.mma
/// shape; otherwise a message naming the invalid part. M is the MMA's M:
/// for cta_group::2 the pair's M (each CTA holds M/2 rows of D).
///   f16/tf32/f8f6f4: cta1 M in {64,128}, N 8..256 step 8;  cta2 M in {128,256}, N 16..256 step 16
///   i8:              cta1 M in {64,128}, N in {8,16,24,32} or 48..256 step 16;
///                    cta2 M in {128,256}, N 32..256 step 32
///   mx*:             cta1 M = 128, N 8..256 step 8;  cta2 M in {128,256}, N 16..256 step 16
std::string validateShape(Kind k, int m, int n, int ctaGroup);

//===----------------------------------------------------------------------===//
// Instruction descriptor (PTX 9.7.16.4.2 "Instruction descriptor").
//
// Dense kinds (table "Instruction descriptor format for .kind::tf32,
// .kind::f16, .kind::f8f6f4 and .kind::i8"):
//   bits 0-1 sparsity selector, 2 sparse, 3 saturate (i8), 4-5 D format
//   (F16 0, F32 1, S32 2), 7-9 A format, 10-12 B format, 13/14 negate A/B,
//   15/16 transpose (MN-major) A/B, 17-22 N>>3, 24-28 M>>4, 30-31 .ws shift.
// Block-scaled kinds (tables for .kind::mxf8f6f4 and .kind::mxf4/mxf4nvf4):
//   bit 2 sparse, 4-5 SFB id, 7-9 A format, 10-12 B format (10-11 for
//   mxf4*), 13/14 negate, 15/16 transpose, 17-22 N>>3, 23 scale type
//   (UE4M3 0, UE8M0 1), 27-28 M>>7, 29-30 SFA id, 31 K=96 (mxf4* only; 0).
//===----------------------------------------------------------------------===//

struct InstrDesc {
  Kind kind = Kind::F16;
  Format a = Format::BF16, b = Format::BF16;
  Accum accum = Accum::F32; ///< i8 needs S32; block-scaled kinds need F32
  int m = 128, n = 128;
  int ctaGroup = 1;
  bool aMNMajor = false, bMNMajor = false; ///< transpose bits (false = K-major)
  bool negateA = false, negateB = false;   ///< not for i8
  bool saturate = false;                   ///< i8 only
  // Block-scaled kinds only:
  ScaleFormat scale = ScaleFormat::UE8M0;
  int scaleVecSize = 32; ///< K elements per scale: 32 (1X/2X) or 16 (4X, mxf4nvf4)
  int sfaId = 0, sfbId = 0;
};

/// The 32-bit descriptor, or an error naming the invalid kind/format
/// combination, shape, scale setting or scale-factor id.
Result<uint32_t> instrDescriptor(const InstrDesc &d);

/// The ISA code of a format under a kind (A/B format field), or an error.
Result<uint32_t> formatCode(Kind k, Format f);

//===----------------------------------------------------------------------===//
// Block scaling (PTX 9.7.16.10.7 "Block Scaling", 9.7.16.10.7.2/3 "Scale
// Factor A/B ID").
//
// Each MMA reads, per row of A (and per column n of B), one 32-bit TMEM word
// of scale bytes; the SF id selects bytes in it: scale_vec::1X (mxf8f6f4,
// one ue8m0 per 32 K, K=32/MMA): byte id 0..3; scale_vec::2X (mxf4*, two
// per MMA of K=64): halfword, id 0 or 2; scale_vec::4X (mxf4nvf4, four
// 16-element blocks per MMA): the whole word, id 0.
//
// tlc's placement (the one CUTLASS/DeepGEMM use): a "scale word" of row r is
// 4 consecutive scales ("chunks" c = 0..3) along K; it covers 4*scaleVecSize
// K elements (128 for 32-element blocks). For a tile of R rows (R = M of A or
// N of B), the word of row r lives at
//     TMEM column  sfBase + r/32,  lanes (r%32) + 32q for q = 0..3,  byte c.
// ("Scale factors for A and B need to be duplicated to all 32 lane
// partitions of tensor memory.") The shared-memory staging tile that one
// tcgen05.cp.32x128b.warpx4 per 128 rows moves there is
//     offset(r, c) = (r/128)*512 + (r%32)*16 + ((r%128)/32)*4 + c
// with a no-swizzle descriptor: start = tile + 512*i, SBO = 128, LBO = 0,
// destination column sfBase + 4*i.
//===----------------------------------------------------------------------===//

/// ".scale_vec::1X" / "::2X" / "::4X" for (kind, scaleVecSize), or an error.
Result<std::string> scaleVecSuffix(Kind k, int scaleVecSize);
/// MMAs that consume one 4-byte scale word: 1X 4, 2X 2, 4X 1 (0 on error).
int mmasPerScaleWord(Kind k, int scaleVecSize);
/// SF id (for both SFA and SFB) of the `step`-th MMA inside one scale word:
/// 1X: step, 2X: 2*step, 4X: 0.
Result<int> scaleFactorId(Kind k, int scaleVecSize, int step);

constexpr uint32_t kScaleRowsPerCopy = 128;  ///< rows one tcgen05.cp moves
constexpr uint32_t kScaleBytesPerCopy = 512; ///< 128 rows x 4 bytes
constexpr uint32_t kScaleColumnsPerCopy = 4; ///< TMEM columns one copy fills
constexpr const char *kScaleCopyShape = "32x128b.warpx4";

/// Byte offset in the staging tile of scale `chunk` (0..3) of row `row`.
uint32_t scaleSmemOffset(uint32_t row, uint32_t chunk);
/// Staging-tile bytes and TMEM columns for `rows` rows (rounded up to 128).
uint32_t scaleTileBytes(uint32_t rows);
uint32_t scaleTmemColumns(uint32_t rows);
/// Number of tcgen05.cp.32x128b.warpx4 copies for `rows` rows.
uint32_t scaleCopyCount(uint32_t rows);

struct ScaleTmemPlace {
  uint32_t column; ///< relative to the scale region's base column
  uint32_t lane;   ///< in [0, 32); the word is replicated at lane + 32q
  uint32_t byte;   ///< byte within the 32-bit cell (what the SF id selects)
};
/// Where the MMA reads scale `chunk` of row `row` after the copies.
ScaleTmemPlace scaleTmemPlace(uint32_t row, uint32_t chunk);

/// Descriptor (no swizzle, SBO 128, LBO 0) of the source of copy `copyIndex`
/// for a staging tile at shared byte address `tileAddr` (16-byte aligned).
Result<uint64_t> scaleCopyDescriptor(uint32_t tileAddr, uint32_t copyIndex);
/// TMEM column offset (from the scale base) that copy `copyIndex` writes.
constexpr uint32_t scaleCopyColumn(uint32_t copyIndex) { return copyIndex * kScaleColumnsPerCopy; }

//===----------------------------------------------------------------------===//
// Tensor Memory (PTX 9.7.16.1 "Tensor Memory", 9.7.16.1.1 "Tensor Memory
// Addressing", 9.7.16.7 "tcgen05.alloc"): 128 lanes x 512 columns of 32-bit
// cells per CTA; address = lane << 16 | column.
//===----------------------------------------------------------------------===//

constexpr uint32_t kTmemLanes = 128;
constexpr uint32_t kTmemColumns = 512;

/// Columns to allocate for `columnsNeeded`: the next power of two >= 32;
/// 0 when more than 512 are needed.
uint32_t tmemAllocColumns(uint32_t columnsNeeded);
constexpr uint32_t tmemAddress(uint32_t lane, uint32_t column) {
  return (lane << 16) | (column & 0xFFFFu);
}
/// First TMEM lane that warp `warpId` (of the CTA) may ld/st: 32*(warpId%4).
constexpr uint32_t tmemLaneBase(uint32_t warpId) { return 32 * (warpId % 4); }

struct TmemPlace {
  uint32_t lane;
  uint32_t column;
};
/// Where element (row, col) of the f32/s32 accumulator D lives, relative to
/// the D address (PTX 9.7.16.10.5 "Data Path Layout Organization"):
///   M=128 cta_group::1 (Layout D): lane row, column col.
///   M=256 cta_group::2 (Layout A): row is the CTA-local row (0..127) of the
///         CTA's half of D: lane row, column col.
///   M=64  cta_group::1 (Layout F, half the datapath): lane 32*(row/16) +
///         row%16, column col (D lane alignment 0).
/// M=128 cta_group::2 (Layout B) is not supported (error).
Result<TmemPlace> accumulatorPlace(int m, int ctaGroup, uint32_t row, uint32_t col);

//===----------------------------------------------------------------------===//
// tcgen05.ld / tcgen05.st shapes (PTX 9.7.16.2.3 "Data Movement Shape",
// 9.7.16.8.3 "tcgen05.ld"): registers per thread for .num = xN.
//===----------------------------------------------------------------------===//

enum class LdShape { S32x32b, S16x64b, S16x128b, S16x256b, S16x32bx2 };
const char *ldShapeName(LdShape s); ///< "32x32b", ...
/// 32x32b, 16x64b, 16x32bx2: N; 16x128b: 2N; 16x256b: 4N. Errors: N not a
/// power of two in [1, 128], or more than 128 registers.
Result<int> tmemLdRegisters(LdShape s, int num);

//===----------------------------------------------------------------------===//
// PTX spellings (all accepted by ptxas 13.0 for .version 8.8 / sm_100a; see
// docs/blackwell-encodings.md for the operand lists).
//===----------------------------------------------------------------------===//

/// "tcgen05.mma.cta_group::1.kind::f16", or for block-scaled kinds
/// "tcgen05.mma.cta_group::1.kind::mxf8f6f4.block_scale.scale_vec::1X".
Result<std::string> mmaOpcode(Kind k, int ctaGroup, int scaleVecSize = 32);
/// "tcgen05.ld.sync.aligned.32x32b.x8.b32" (".pack::16b" inserted if pack16).
Result<std::string> ldOpcode(LdShape s, int num, bool pack16 = false);
/// "tcgen05.cp.cta_group::1.32x128b.warpx4" (the scale-factor copy).
Result<std::string> scaleCopyOpcode(int ctaGroup);
/// "tcgen05.commit.cta_group::1.mbarrier::arrive::one.shared::cluster.b64",
/// with ".multicast::cluster" before ".b64" when multicast (takes a b16 mask).
Result<std::string> commitOpcode(int ctaGroup, bool multicast = false);
/// "tcgen05.alloc.cta_group::1.sync.aligned.shared::cta.b32" etc.
Result<std::string> allocOpcode(int ctaGroup);
Result<std::string> deallocOpcode(int ctaGroup);
Result<std::string> relinquishOpcode(int ctaGroup);

} // namespace tlc::tcgen05

#endif // TLC_TARGET_NVIDIA_TCGEN05_H
