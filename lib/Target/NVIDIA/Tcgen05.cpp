//===- Tcgen05.cpp - Blackwell (sm_100a) tcgen05 encodings ----------------===//
//
// Implements include/tlc/Target/NVIDIA/Tcgen05.h. The bit positions and
// codes are those of the PTX ISA tables cited in the header; the reasoning
// behind the scale-factor placement is in docs/blackwell-encodings.md.
//
//===----------------------------------------------------------------------===//
#include "tlc/Target/NVIDIA/Tcgen05.h"

#include <utility>

namespace tlc::tcgen05 {
namespace {

std::string str(int v) { return std::to_string(v); }

bool isPow2(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

std::string ctaGroupError(int ctaGroup) {
  if (ctaGroup == 1 || ctaGroup == 2)
    return {};
  return "tcgen05: cta_group must be 1 or 2, got " + str(ctaGroup);
}

std::string ctaGroupSuffix(int ctaGroup) { return ".cta_group::" + str(ctaGroup); }

/// Field `value` must fit in `bits` bits after the 4-bit shift.
std::string checkOffset(const char *what, uint32_t bytes) {
  if (bytes % 16 != 0)
    return std::string("tcgen05 smem descriptor: ") + what + " " + str(int(bytes)) +
           " is not a multiple of 16 bytes";
  if ((bytes >> 4) >= (1u << 14))
    return std::string("tcgen05 smem descriptor: ") + what + " " + str(int(bytes)) +
           " does not fit the 14-bit field (must be < 262144 bytes)";
  return {};
}

bool mnMajorAllowed(Format f) {
  switch (f) {
  case Format::F16:
  case Format::BF16:
  case Format::TF32:
  case Format::E4M3:
  case Format::E5M2:
  case Format::S8:
  case Format::U8:
    return true;
  default: // 6-bit and 4-bit formats are K-major only
    return false;
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Shared-memory descriptor
//===----------------------------------------------------------------------===//

uint32_t swizzleCode(Swizzle s) {
  switch (s) {
  case Swizzle::None:
    return 0;
  case Swizzle::B128Atom32:
    return 1;
  case Swizzle::B128:
    return 2;
  case Swizzle::B64:
    return 4;
  case Swizzle::B32:
    return 6;
  }
  return 0;
}

uint32_t swizzleBytes(Swizzle s) {
  switch (s) {
  case Swizzle::None:
    return 16;
  case Swizzle::B32:
    return 32;
  case Swizzle::B64:
    return 64;
  case Swizzle::B128:
  case Swizzle::B128Atom32:
    return 128;
  }
  return 16;
}

const char *swizzleName(Swizzle s) {
  switch (s) {
  case Swizzle::None:
    return "none";
  case Swizzle::B32:
    return "32B";
  case Swizzle::B64:
    return "64B";
  case Swizzle::B128:
    return "128B";
  case Swizzle::B128Atom32:
    return "128B-atom32B";
  }
  return "?";
}

Result<uint64_t> smemDescriptorConstantPart(uint32_t lboBytes, uint32_t sboBytes, Swizzle swizzle,
                                            uint32_t baseOffset, bool lboAbsolute) {
  using R = Result<uint64_t>;
  if (std::string e = checkOffset("leading-dimension byte offset", lboBytes); !e.empty())
    return R::failure(e);
  if (std::string e = checkOffset("stride-dimension byte offset", sboBytes); !e.empty())
    return R::failure(e);
  if (baseOffset > 7)
    return R::failure("tcgen05 smem descriptor: matrix base offset " + str(int(baseOffset)) +
                      " does not fit 3 bits");
  uint64_t d = 0;
  d |= uint64_t(lboBytes >> 4) << 16;
  d |= uint64_t(sboBytes >> 4) << 32;
  d |= uint64_t(1) << 46; // bits 46-48: fixed constant 0b001
  d |= uint64_t(baseOffset) << 49;
  d |= uint64_t(lboAbsolute ? 1 : 0) << 52;
  d |= uint64_t(swizzleCode(swizzle)) << 61;
  return R::success(d);
}

Result<uint64_t> smemDescriptor(uint32_t smemByteAddr, uint32_t lboBytes, uint32_t sboBytes,
                                Swizzle swizzle, uint32_t baseOffset, bool lboAbsolute) {
  using R = Result<uint64_t>;
  if (smemByteAddr % 16 != 0)
    return R::failure("tcgen05 smem descriptor: start address " + str(int(smemByteAddr)) +
                      " is not 16-byte aligned");
  if (smemByteAddr >= (1u << 18))
    return R::failure("tcgen05 smem descriptor: start address " + str(int(smemByteAddr)) +
                      " is beyond the 18-bit shared-memory window");
  R c = smemDescriptorConstantPart(lboBytes, sboBytes, swizzle, baseOffset, lboAbsolute);
  if (!c)
    return c;
  return R::success(c.value | smemAddressField(smemByteAddr));
}

Result<OperandStrides> kMajorSwizzledStrides(Swizzle s) {
  using R = Result<OperandStrides>;
  if (s == Swizzle::None)
    return R::failure("tcgen05: K-major strides without swizzle depend on the K tiling; "
                      "give LBO (core matrices along K) and SBO (along M/N) explicitly");
  if (s == Swizzle::B128Atom32)
    return R::failure("tcgen05: 128B swizzle with 32B atomicity exists only for MN-major "
                      "operands (PTX table \"Layout for swizzle atoms\")");
  return R::success(OperandStrides{16, 8 * swizzleBytes(s)});
}

Result<uint64_t> kMajorDescriptorAdvance(uint32_t kElems, uint32_t elemBits, Swizzle s) {
  using R = Result<uint64_t>;
  uint32_t bits = kElems * elemBits;
  if (bits % 128 != 0)
    return R::failure("tcgen05: a K step of " + str(int(kElems)) + " x " + str(int(elemBits)) +
                      "-bit elements is not a multiple of 16 bytes");
  uint32_t bytes = bits / 8;
  if (bytes >= swizzleBytes(s) && s != Swizzle::None)
    return R::failure("tcgen05: a K step of " + str(int(bytes)) + " bytes leaves the " +
                      swizzleName(s) + " swizzle row; step to the next atom instead");
  return R::success(bytes >> 4);
}

Result<OperandStrides> mnMajorSwizzledStrides(Swizzle s, uint32_t atomColumnBytes) {
  using R = Result<OperandStrides>;
  if (s == Swizzle::None)
    return R::failure("tcgen05: MN-major strides without swizzle depend on the tiling; give LBO "
                      "(core matrices along K) and SBO (along MN) explicitly");
  if (std::string e = checkOffset("leading-dimension byte offset", atomColumnBytes); !e.empty())
    return R::failure(e);
  return R::success(OperandStrides{atomColumnBytes, 8 * swizzleBytes(s)});
}

Result<uint64_t> mnMajorDescriptorAdvance(uint32_t kElems, uint32_t sboBytes) {
  using R = Result<uint64_t>;
  if (kElems % 8 != 0)
    return R::failure("tcgen05: an MN-major K step of " + str(int(kElems)) +
                      " rows is not a multiple of the 8-row core-matrix group");
  if (sboBytes % 16 != 0)
    return R::failure("tcgen05: SBO " + str(int(sboBytes)) + " is not a multiple of 16 bytes");
  return R::success(uint64_t(kElems / 8) * sboBytes >> 4);
}

//===----------------------------------------------------------------------===//
// Kinds, formats, shapes
//===----------------------------------------------------------------------===//

const char *kindName(Kind k) {
  switch (k) {
  case Kind::F16:
    return "kind::f16";
  case Kind::TF32:
    return "kind::tf32";
  case Kind::F8F6F4:
    return "kind::f8f6f4";
  case Kind::I8:
    return "kind::i8";
  case Kind::MXF8F6F4:
    return "kind::mxf8f6f4";
  case Kind::MXF4:
    return "kind::mxf4";
  case Kind::MXF4NVF4:
    return "kind::mxf4nvf4";
  }
  return "kind::?";
}

const char *formatName(Format f) {
  switch (f) {
  case Format::F16:
    return "f16";
  case Format::BF16:
    return "bf16";
  case Format::TF32:
    return "tf32";
  case Format::E4M3:
    return "e4m3";
  case Format::E5M2:
    return "e5m2";
  case Format::E2M3:
    return "e2m3";
  case Format::E3M2:
    return "e3m2";
  case Format::E2M1:
    return "e2m1";
  case Format::S8:
    return "s8";
  case Format::U8:
    return "u8";
  }
  return "?";
}

uint32_t formatBits(Format f) {
  switch (f) {
  case Format::F16:
  case Format::BF16:
    return 16;
  case Format::TF32:
    return 32;
  case Format::E4M3:
  case Format::E5M2:
  case Format::S8:
  case Format::U8:
    return 8;
  case Format::E2M3:
  case Format::E3M2:
    return 6;
  case Format::E2M1:
    return 4;
  }
  return 0;
}

bool isBlockScaled(Kind k) { return k == Kind::MXF8F6F4 || k == Kind::MXF4 || k == Kind::MXF4NVF4; }

int mmaK(Kind k) {
  switch (k) {
  case Kind::F16:
    return 16;
  case Kind::TF32:
    return 8;
  case Kind::F8F6F4:
  case Kind::I8:
  case Kind::MXF8F6F4:
    return 32;
  case Kind::MXF4:
  case Kind::MXF4NVF4:
    return 64;
  }
  return 0;
}

std::string validateShape(Kind k, int m, int n, int ctaGroup) {
  if (std::string e = ctaGroupError(ctaGroup); !e.empty())
    return e;
  std::string where = std::string("tcgen05.mma.") + kindName(k) + " cta_group::" + str(ctaGroup);
  bool mOk;
  std::string mAllowed;
  if (ctaGroup == 1 && isBlockScaled(k)) {
    mOk = m == 128;
    mAllowed = "128";
  } else if (ctaGroup == 1) {
    mOk = m == 64 || m == 128;
    mAllowed = "64 or 128";
  } else {
    mOk = m == 128 || m == 256;
    mAllowed = "128 or 256";
  }
  if (!mOk)
    return where + ": M=" + str(m) + " is not supported (M must be " + mAllowed + ")";

  int lo, step;
  std::string nAllowed;
  if (k == Kind::I8 && ctaGroup == 1) {
    bool ok = n == 8 || n == 16 || n == 24 || n == 32 || (n > 32 && n <= 256 && n % 16 == 0);
    if (!ok)
      return where + ": N=" + str(n) +
             " is not supported (N must be 8, 16, 24, 32, or 48..256 in steps of 16)";
    return {};
  }
  if (k == Kind::I8) {
    lo = 32;
    step = 32;
  } else if (ctaGroup == 1) {
    lo = 8;
    step = 8;
  } else {
    lo = 16;
    step = 16;
  }
  if (n < lo || n > 256 || n % step != 0)
    return where + ": N=" + str(n) + " is not supported (N must be " + str(lo) +
           "..256 in steps of " + str(step) + ")";
  return {};
}

//===----------------------------------------------------------------------===//
// Instruction descriptor
//===----------------------------------------------------------------------===//

Result<uint32_t> formatCode(Kind k, Format f) {
  using R = Result<uint32_t>;
  auto bad = [&](const char *allowed) {
    return R::failure(std::string("tcgen05: format ") + formatName(f) + " is not valid for " +
                      kindName(k) + " (allowed: " + allowed + ")");
  };
  switch (k) {
  case Kind::F16:
    if (f == Format::F16)
      return R::success(0);
    if (f == Format::BF16)
      return R::success(1);
    return bad("f16, bf16");
  case Kind::TF32:
    if (f == Format::TF32)
      return R::success(2);
    return bad("tf32");
  case Kind::F8F6F4:
  case Kind::MXF8F6F4:
    switch (f) {
    case Format::E4M3:
      return R::success(0);
    case Format::E5M2:
      return R::success(1);
    case Format::E2M3:
      return R::success(3);
    case Format::E3M2:
      return R::success(4);
    case Format::E2M1:
      return R::success(5);
    default:
      return bad("e4m3, e5m2, e2m3, e3m2, e2m1");
    }
  case Kind::I8:
    if (f == Format::U8)
      return R::success(0);
    if (f == Format::S8)
      return R::success(1);
    return bad("u8, s8");
  case Kind::MXF4:
  case Kind::MXF4NVF4:
    if (f == Format::E2M1)
      return R::success(1);
    return bad("e2m1");
  }
  return bad("?");
}

Result<std::string> scaleVecSuffix(Kind k, int scaleVecSize) {
  using R = Result<std::string>;
  std::string where = std::string("tcgen05: ") + kindName(k) + " with " + str(scaleVecSize) +
                      "-element scale blocks";
  switch (k) {
  case Kind::MXF8F6F4:
    if (scaleVecSize == 32)
      return R::success(".scale_vec::1X");
    return R::failure(where + " is not supported (mxf8f6f4 scales 32-element blocks)");
  case Kind::MXF4:
    if (scaleVecSize == 32)
      return R::success(".scale_vec::2X");
    return R::failure(where + " is not supported (mxf4 scales 32-element blocks)");
  case Kind::MXF4NVF4:
    if (scaleVecSize == 32)
      return R::success(".scale_vec::2X");
    if (scaleVecSize == 16)
      return R::success(".scale_vec::4X");
    return R::failure(where + " is not supported (mxf4nvf4 scales 16- or 32-element blocks)");
  default:
    return R::failure(std::string("tcgen05: ") + kindName(k) + " is not a block-scaled kind");
  }
}

int mmasPerScaleWord(Kind k, int scaleVecSize) {
  if (!scaleVecSuffix(k, scaleVecSize))
    return 0;
  // A word holds 4 one-byte scales; one MMA consumes mmaK/scaleVecSize.
  return 4 / (mmaK(k) / scaleVecSize);
}

Result<int> scaleFactorId(Kind k, int scaleVecSize, int step) {
  using R = Result<int>;
  int perWord = mmasPerScaleWord(k, scaleVecSize);
  if (perWord == 0)
    return R::failure(scaleVecSuffix(k, scaleVecSize).error);
  if (step < 0 || step >= perWord)
    return R::failure("tcgen05: MMA step " + str(step) + " is outside one scale word (" +
                      str(perWord) + " MMAs of " + kindName(k) + " per word)");
  return R::success(step * (4 / perWord));
}

Result<uint32_t> instrDescriptor(const InstrDesc &d) {
  using R = Result<uint32_t>;
  if (std::string e = validateShape(d.kind, d.m, d.n, d.ctaGroup); !e.empty())
    return R::failure(e);
  R a = formatCode(d.kind, d.a);
  if (!a)
    return R::failure(a.error + " [matrix A]");
  R b = formatCode(d.kind, d.b);
  if (!b)
    return R::failure(b.error + " [matrix B]");
  std::string kind = kindName(d.kind);
  if ((d.kind == Kind::F16 || d.kind == Kind::TF32) && d.a != d.b)
    return R::failure("tcgen05: " + kind + " needs A and B of one format, got " + formatName(d.a) +
                      " x " + formatName(d.b));
  if (d.aMNMajor && !mnMajorAllowed(d.a))
    return R::failure(std::string("tcgen05: MN-major A is not supported for ") + formatName(d.a) +
                      " (6- and 4-bit formats must be K-major)");
  if (d.bMNMajor && !mnMajorAllowed(d.b))
    return R::failure(std::string("tcgen05: MN-major B is not supported for ") + formatName(d.b) +
                      " (6- and 4-bit formats must be K-major)");
  if (d.kind == Kind::I8 && (d.negateA || d.negateB))
    return R::failure("tcgen05: kind::i8 cannot negate A or B");
  if (d.saturate && d.kind != Kind::I8)
    return R::failure("tcgen05: saturate is only valid for kind::i8");

  uint32_t w = 0;
  w |= a.value << 7;
  w |= b.value << 10;
  w |= uint32_t(d.negateA) << 13;
  w |= uint32_t(d.negateB) << 14;
  w |= uint32_t(d.aMNMajor) << 15;
  w |= uint32_t(d.bMNMajor) << 16;
  w |= uint32_t(d.n >> 3) << 17;

  if (!isBlockScaled(d.kind)) {
    if (d.sfaId != 0 || d.sfbId != 0)
      return R::failure("tcgen05: scale-factor ids are only valid for block-scaled kinds, not " +
                        kind);
    uint32_t dfmt;
    switch (d.kind) {
    case Kind::F16:
      if (d.accum == Accum::S32)
        return R::failure("tcgen05: kind::f16 accumulates in f32 or f16, not s32");
      if (d.accum == Accum::F16 && d.a != Format::F16)
        return R::failure("tcgen05: an f16 accumulator needs f16 inputs, got " +
                          std::string(formatName(d.a)));
      dfmt = d.accum == Accum::F32 ? 1 : 0;
      break;
    case Kind::TF32:
      if (d.accum != Accum::F32)
        return R::failure("tcgen05: kind::tf32 accumulates in f32 only");
      dfmt = 1;
      break;
    case Kind::F8F6F4:
      if (d.accum == Accum::S32)
        return R::failure("tcgen05: kind::f8f6f4 accumulates in f32 or f16, not s32");
      dfmt = d.accum == Accum::F32 ? 1 : 0;
      break;
    default: // I8
      if (d.accum != Accum::S32)
        return R::failure("tcgen05: kind::i8 accumulates in s32 only");
      dfmt = 2;
      break;
    }
    w |= uint32_t(d.saturate) << 3;
    w |= dfmt << 4;
    w |= uint32_t(d.m >> 4) << 24;
    return R::success(w);
  }

  // Block-scaled kinds.
  if (d.accum != Accum::F32)
    return R::failure("tcgen05: " + kind + " accumulates in f32 only");
  Result<std::string> vec = scaleVecSuffix(d.kind, d.scaleVecSize);
  if (!vec)
    return R::failure(vec.error);
  if (d.scale == ScaleFormat::UE4M3 && !(d.kind == Kind::MXF4NVF4 && d.scaleVecSize == 16))
    return R::failure("tcgen05: ue4m3 scales are only valid for kind::mxf4nvf4 with 16-element "
                      "blocks (scale_vec::4X); " +
                      kind + " with " + str(d.scaleVecSize) + "-element blocks needs ue8m0");
  // Valid ids: 1X any byte 0..3, 2X halfword 0 or 2, 4X 0 only.
  int perWord = mmasPerScaleWord(d.kind, d.scaleVecSize);
  int idStride = 4 / perWord;
  for (auto [name, id] : {std::pair<const char *, int>{"SFA", d.sfaId}, {"SFB", d.sfbId}}) {
    if (id < 0 || id > 3 || id % idStride != 0)
      return R::failure(std::string("tcgen05: ") + name + " id " + str(id) + " is invalid for " +
                        kind + vec.value + " (valid: " +
                        (idStride == 1   ? "0..3"
                         : idStride == 2 ? "0 or 2"
                                         : "0") +
                        ")");
  }
  w |= uint32_t(d.sfbId) << 4;
  w |= uint32_t(d.scale == ScaleFormat::UE8M0 ? 1 : 0) << 23;
  w |= uint32_t(d.m >> 7) << 27;
  w |= uint32_t(d.sfaId) << 29;
  return R::success(w);
}

//===----------------------------------------------------------------------===//
// Scale-factor staging and TMEM placement
//===----------------------------------------------------------------------===//

uint32_t scaleSmemOffset(uint32_t row, uint32_t chunk) {
  return (row / 128) * kScaleBytesPerCopy + (row % 32) * 16 + ((row % 128) / 32) * 4 + chunk;
}

uint32_t scaleCopyCount(uint32_t rows) {
  return (rows + kScaleRowsPerCopy - 1) / kScaleRowsPerCopy;
}
uint32_t scaleTileBytes(uint32_t rows) { return scaleCopyCount(rows) * kScaleBytesPerCopy; }
uint32_t scaleTmemColumns(uint32_t rows) { return scaleCopyCount(rows) * kScaleColumnsPerCopy; }

ScaleTmemPlace scaleTmemPlace(uint32_t row, uint32_t chunk) {
  return ScaleTmemPlace{row / 32, row % 32, chunk};
}

Result<uint64_t> scaleCopyDescriptor(uint32_t tileAddr, uint32_t copyIndex) {
  // One copy reads 32 rows of 16 bytes, stored as canonical no-swizzle
  // core matrices (8 rows x 16 B) 128 bytes apart (SBO); the K extent is one
  // core matrix, so LBO is never used.
  return smemDescriptor(tileAddr + copyIndex * kScaleBytesPerCopy, /*lbo=*/0, /*sbo=*/128,
                        Swizzle::None);
}

//===----------------------------------------------------------------------===//
// Tensor memory
//===----------------------------------------------------------------------===//

uint32_t tmemAllocColumns(uint32_t columnsNeeded) {
  if (columnsNeeded > kTmemColumns)
    return 0;
  uint32_t c = 32;
  while (c < columnsNeeded)
    c <<= 1;
  return c;
}

Result<TmemPlace> accumulatorPlace(int m, int ctaGroup, uint32_t row, uint32_t col) {
  using R = Result<TmemPlace>;
  if (std::string e = ctaGroupError(ctaGroup); !e.empty())
    return R::failure(e);
  if (col >= kTmemColumns)
    return R::failure("tcgen05: accumulator column " + str(int(col)) + " is beyond 512");
  if (ctaGroup == 1 && m == 128) {
    if (row >= 128)
      return R::failure("tcgen05: row " + str(int(row)) + " is outside M=128");
    return R::success(TmemPlace{row, col});
  }
  if (ctaGroup == 2 && m == 256) {
    if (row >= 128)
      return R::failure("tcgen05: CTA-local row " + str(int(row)) +
                        " is outside the 128 rows each CTA holds for M=256 cta_group::2");
    return R::success(TmemPlace{row, col});
  }
  if (ctaGroup == 1 && m == 64) {
    if (row >= 64)
      return R::failure("tcgen05: row " + str(int(row)) + " is outside M=64");
    return R::success(TmemPlace{32 * (row / 16) + row % 16, col});
  }
  return R::failure("tcgen05: accumulator layout for M=" + str(m) + " cta_group::" + str(ctaGroup) +
                    " is not supported (use M=64/128 with cta_group::1 or "
                    "M=256 with cta_group::2)");
}

//===----------------------------------------------------------------------===//
// tcgen05.ld
//===----------------------------------------------------------------------===//

const char *ldShapeName(LdShape s) {
  switch (s) {
  case LdShape::S32x32b:
    return "32x32b";
  case LdShape::S16x64b:
    return "16x64b";
  case LdShape::S16x128b:
    return "16x128b";
  case LdShape::S16x256b:
    return "16x256b";
  case LdShape::S16x32bx2:
    return "16x32bx2";
  }
  return "?";
}

Result<int> tmemLdRegisters(LdShape s, int num) {
  using R = Result<int>;
  if (num < 1 || num > 128 || !isPow2(uint32_t(num)))
    return R::failure("tcgen05.ld: .x" + str(num) + " is not a power of two in [1, 128]");
  int per = s == LdShape::S16x128b ? 2 : s == LdShape::S16x256b ? 4 : 1;
  if (num * per > 128)
    return R::failure(std::string("tcgen05.ld.") + ldShapeName(s) + ".x" + str(num) + " needs " +
                      str(num * per) + " registers (at most 128)");
  return R::success(num * per);
}

//===----------------------------------------------------------------------===//
// PTX spellings
//===----------------------------------------------------------------------===//

Result<std::string> mmaOpcode(Kind k, int ctaGroup, int scaleVecSize) {
  using R = Result<std::string>;
  if (std::string e = ctaGroupError(ctaGroup); !e.empty())
    return R::failure(e);
  std::string op = "tcgen05.mma" + ctaGroupSuffix(ctaGroup) + "." + kindName(k);
  if (!isBlockScaled(k))
    return R::success(op);
  Result<std::string> vec = scaleVecSuffix(k, scaleVecSize);
  if (!vec)
    return R::failure(vec.error);
  return R::success(op + ".block_scale" + vec.value);
}

Result<std::string> ldOpcode(LdShape s, int num, bool pack16) {
  using R = Result<std::string>;
  Result<int> regs = tmemLdRegisters(s, num);
  if (!regs)
    return R::failure(regs.error);
  return R::success(std::string("tcgen05.ld.sync.aligned.") + ldShapeName(s) + ".x" + str(num) +
                    (pack16 ? ".pack::16b" : "") + ".b32");
}

Result<std::string> scaleCopyOpcode(int ctaGroup) {
  using R = Result<std::string>;
  if (std::string e = ctaGroupError(ctaGroup); !e.empty())
    return R::failure(e);
  return R::success("tcgen05.cp" + ctaGroupSuffix(ctaGroup) + "." + kScaleCopyShape);
}

Result<std::string> commitOpcode(int ctaGroup, bool multicast) {
  using R = Result<std::string>;
  if (std::string e = ctaGroupError(ctaGroup); !e.empty())
    return R::failure(e);
  return R::success("tcgen05.commit" + ctaGroupSuffix(ctaGroup) +
                    ".mbarrier::arrive::one.shared::cluster" +
                    (multicast ? ".multicast::cluster" : "") + ".b64");
}

Result<std::string> allocOpcode(int ctaGroup) {
  using R = Result<std::string>;
  if (std::string e = ctaGroupError(ctaGroup); !e.empty())
    return R::failure(e);
  return R::success("tcgen05.alloc" + ctaGroupSuffix(ctaGroup) + ".sync.aligned.shared::cta.b32");
}

Result<std::string> deallocOpcode(int ctaGroup) {
  using R = Result<std::string>;
  if (std::string e = ctaGroupError(ctaGroup); !e.empty())
    return R::failure(e);
  return R::success("tcgen05.dealloc" + ctaGroupSuffix(ctaGroup) + ".sync.aligned.b32");
}

Result<std::string> relinquishOpcode(int ctaGroup) {
  using R = Result<std::string>;
  if (std::string e = ctaGroupError(ctaGroup); !e.empty())
    return R::failure(e);
  return R::success("tcgen05.relinquish_alloc_permit" + ctaGroupSuffix(ctaGroup) + ".sync.aligned");
}

} // namespace tlc::tcgen05
