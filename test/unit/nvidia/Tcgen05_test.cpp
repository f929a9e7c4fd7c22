//===- Tcgen05_test.cpp - tcgen05 encodings against the PTX ISA tables ----===//
//
// Every expected constant below is derived by hand from the PTX ISA tables
// (derivation in the comment next to it), not computed by the code under
// test. Section names: PTX ISA 9.1, 9.7.16 "TensorCore 5th Generation Family
// Instructions".
//
//===----------------------------------------------------------------------===//
#include "tlc/Target/NVIDIA/Tcgen05.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

using namespace tlc::tcgen05;

namespace {

uint32_t idesc(const InstrDesc &d) {
  Result<uint32_t> r = instrDescriptor(d);
  EXPECT_TRUE(bool(r)) << r.error;
  return r.value;
}

std::string idescError(const InstrDesc &d) {
  Result<uint32_t> r = instrDescriptor(d);
  EXPECT_FALSE(bool(r)) << "expected an error, got 0x" << std::hex << r.value;
  return r.error;
}

InstrDesc dense(Kind k, Format a, Format b, Accum acc, int m, int n, int cta = 1) {
  InstrDesc d;
  d.kind = k;
  d.a = a;
  d.b = b;
  d.accum = acc;
  d.m = m;
  d.n = n;
  d.ctaGroup = cta;
  return d;
}

InstrDesc scaled(Kind k, Format a, Format b, int m, int n, int cta = 1) {
  return dense(k, a, b, Accum::F32, m, n, cta);
}

bool contains(const std::string &s, const std::string &sub) {
  return s.find(sub) != std::string::npos;
}

} // namespace

//===----------------------------------------------------------------------===//
// Instruction descriptor, dense kinds: table "Instruction descriptor format
// for .kind::tf32, .kind::f16, .kind::f8f6f4 and .kind::i8".
//===----------------------------------------------------------------------===//

TEST(Tcgen05InstrDesc, F16KindBf16) {
  // bf16 x bf16 -> f32, M=128, N=256, K-major:
  // D fmt F32=1 at bits 4-5 -> 0x10; A BF16=1 at 7-9 -> 0x80; B BF16=1 at
  // 10-12 -> 0x400; N>>3=32 at 17-22 -> 0x400000; M>>4=8 at 24-28 -> 0x08000000.
  EXPECT_EQ(idesc(dense(Kind::F16, Format::BF16, Format::BF16, Accum::F32, 128, 256)), 0x08400490u);
}

TEST(Tcgen05InstrDesc, F16KindF16AccumAndSmallestShape) {
  // f16 x f16 -> f16, M=64, N=8: D F16=0; A=B=F16=0; N>>3=1 -> 1<<17 =
  // 0x20000; M>>4=4 -> 4<<24 = 0x04000000.
  EXPECT_EQ(idesc(dense(Kind::F16, Format::F16, Format::F16, Accum::F16, 64, 8)), 0x04020000u);
}

TEST(Tcgen05InstrDesc, F16KindNegateAndTranspose) {
  // f16 x f16 -> f32, M=128, N=128, negate A (bit 13 = 0x2000), A M-major
  // (bit 15 = 0x8000), B N-major (bit 16 = 0x10000); D F32 0x10;
  // N>>3=16 -> 0x200000; M>>4=8 -> 0x08000000. Sum 0x0821A010.
  InstrDesc d = dense(Kind::F16, Format::F16, Format::F16, Accum::F32, 128, 128);
  d.negateA = true;
  d.aMNMajor = true;
  d.bMNMajor = true;
  EXPECT_EQ(idesc(d), 0x0821A010u);
  // negate B alone: bit 14 = 0x4000 on top of 0x08200010.
  InstrDesc e = dense(Kind::F16, Format::F16, Format::F16, Accum::F32, 128, 128);
  e.negateB = true;
  EXPECT_EQ(idesc(e), 0x08204010u);
}

TEST(Tcgen05InstrDesc, Tf32Kind) {
  // tf32 x tf32 -> f32, M=128, N=64: D 0x10; A TF32=2 -> 2<<7 = 0x100;
  // B TF32=2 -> 2<<10 = 0x800; N>>3=8 -> 0x100000; M>>4=8 -> 0x08000000.
  EXPECT_EQ(idesc(dense(Kind::TF32, Format::TF32, Format::TF32, Accum::F32, 128, 64)), 0x08100910u);
}

TEST(Tcgen05InstrDesc, F8F6F4KindEveryFormatCode) {
  // e4m3 x e5m2 -> f32, M=128, N=256: D 0x10; A E4M3=0; B E5M2=1 -> 0x400;
  // N 0x400000; M 0x08000000.
  EXPECT_EQ(idesc(dense(Kind::F8F6F4, Format::E4M3, Format::E5M2, Accum::F32, 128, 256)),
            0x08400410u);
  // e2m3 x e3m2 -> f16, M=64, N=120: D F16=0; A E2M3=3 -> 0x180; B E3M2=4 ->
  // 0x1000; N>>3=15 -> 15<<17 = 0x1E0000; M>>4=4 -> 0x04000000.
  EXPECT_EQ(idesc(dense(Kind::F8F6F4, Format::E2M3, Format::E3M2, Accum::F16, 64, 120)),
            0x041E1180u);
  // e2m1 x e2m1 -> f32, M=128, N=16: D 0x10; A E2M1=5 -> 0x280; B 5 ->
  // 0x1400; N>>3=2 -> 0x40000; M 0x08000000.
  EXPECT_EQ(idesc(dense(Kind::F8F6F4, Format::E2M1, Format::E2M1, Accum::F32, 128, 16)),
            0x08041690u);
  // Codes by themselves (A/B format field).
  EXPECT_EQ(formatCode(Kind::F8F6F4, Format::E4M3).value, 0u);
  EXPECT_EQ(formatCode(Kind::F8F6F4, Format::E5M2).value, 1u);
  EXPECT_EQ(formatCode(Kind::F8F6F4, Format::E2M3).value, 3u);
  EXPECT_EQ(formatCode(Kind::F8F6F4, Format::E3M2).value, 4u);
  EXPECT_EQ(formatCode(Kind::F8F6F4, Format::E2M1).value, 5u);
  EXPECT_EQ(formatCode(Kind::F16, Format::F16).value, 0u);
  EXPECT_EQ(formatCode(Kind::F16, Format::BF16).value, 1u);
  EXPECT_EQ(formatCode(Kind::TF32, Format::TF32).value, 2u);
  EXPECT_EQ(formatCode(Kind::I8, Format::U8).value, 0u);
  EXPECT_EQ(formatCode(Kind::I8, Format::S8).value, 1u);
  EXPECT_EQ(formatCode(Kind::MXF4, Format::E2M1).value, 1u);
  EXPECT_EQ(formatCode(Kind::MXF4NVF4, Format::E2M1).value, 1u);
}

TEST(Tcgen05InstrDesc, I8Kind) {
  // s8 x u8 -> s32, saturate, M=128, N=48: saturate bit 3 -> 0x8; D S32=2 ->
  // 0x20; A S8=1 -> 0x80; B U8=0; N>>3=6 -> 0xC0000; M 0x08000000.
  InstrDesc d = dense(Kind::I8, Format::S8, Format::U8, Accum::S32, 128, 48);
  d.saturate = true;
  EXPECT_EQ(idesc(d), 0x080C00A8u);
  // u8 x s8 -> s32, M=64, N=24: D 0x20; B S8=1 -> 0x400; N>>3=3 -> 0x60000;
  // M>>4=4 -> 0x04000000.
  EXPECT_EQ(idesc(dense(Kind::I8, Format::U8, Format::S8, Accum::S32, 64, 24)), 0x04060420u);
}

TEST(Tcgen05InstrDesc, CtaGroup2FieldBoundaries) {
  // bf16, cta_group::2, M=256, N=256 (both maxima): D 0x10, A 0x80, B 0x400,
  // N>>3=32 -> 0x400000, M>>4=16 -> 16<<24 = 0x10000000 (bit 28, top of the
  // 5-bit M field).
  EXPECT_EQ(idesc(dense(Kind::F16, Format::BF16, Format::BF16, Accum::F32, 256, 256, 2)),
            0x10400490u);
  // f16, cta_group::2, M=128, N=16 (minima): D 0x10, N>>3=2 -> 0x40000,
  // M>>4=8 -> 0x08000000.
  EXPECT_EQ(idesc(dense(Kind::F16, Format::F16, Format::F16, Accum::F32, 128, 16, 2)), 0x08040010u);
}

//===----------------------------------------------------------------------===//
// Instruction descriptor, block-scaled kinds: tables "Instruction descriptor
// format for .kind::mxf8f6f4" and "... for .kind::mxf4 and .kind::mxf4nvf4".
//===----------------------------------------------------------------------===//

TEST(Tcgen05InstrDesc, Mxf8f6f4) {
  // e4m3 x e4m3, ue8m0, M=128, N=256, ids 0: no D field; N>>3=32 ->
  // 0x400000; scale type UE8M0=1 at bit 23 -> 0x800000; M>>7=1 at bits 27-28
  // -> 0x08000000.
  EXPECT_EQ(idesc(scaled(Kind::MXF8F6F4, Format::E4M3, Format::E4M3, 128, 256)), 0x08C00000u);
  // Same with SFA id 3 (bits 29-30 -> 0x60000000) and SFB id 2 (bits 4-5 ->
  // 0x20).
  InstrDesc d = scaled(Kind::MXF8F6F4, Format::E4M3, Format::E4M3, 128, 256);
  d.sfaId = 3;
  d.sfbId = 2;
  EXPECT_EQ(idesc(d), 0x68C00020u);
  // e2m1 x e5m2, M=128, N=8, ids 1/1: SFB 1 -> 0x10; A E2M1=5 -> 0x280; B
  // E5M2=1 -> 0x400; N>>3=1 -> 0x20000; UE8M0 0x800000; M 0x08000000; SFA 1
  // -> 0x20000000.
  InstrDesc e = scaled(Kind::MXF8F6F4, Format::E2M1, Format::E5M2, 128, 8);
  e.sfaId = 1;
  e.sfbId = 1;
  EXPECT_EQ(idesc(e), 0x28820690u);
  // cta_group::2, M=256: M>>7=2 at bits 27-28 -> 0x10000000.
  EXPECT_EQ(idesc(scaled(Kind::MXF8F6F4, Format::E4M3, Format::E4M3, 256, 256, 2)), 0x10C00000u);
}

TEST(Tcgen05InstrDesc, Mxf4AndMxf4nvf4) {
  // mxf4 e2m1 x e2m1, ue8m0, M=128, N=128, SFA=SFB=2 (second halfword):
  // SFB 2 -> 0x20; A E2M1=1 -> 0x80; B E2M1=1 -> 0x400; N>>3=16 -> 0x200000;
  // UE8M0 0x800000; M>>7=1 -> 0x08000000; SFA 2 -> 0x40000000.
  InstrDesc d = scaled(Kind::MXF4, Format::E2M1, Format::E2M1, 128, 128);
  d.sfaId = 2;
  d.sfbId = 2;
  EXPECT_EQ(idesc(d), 0x48A004A0u);
  // mxf4nvf4 with ue4m3 16-element blocks (scale_vec::4X), M=128, N=256:
  // A 0x80, B 0x400, N 0x400000, scale type UE4M3=0, M 0x08000000.
  InstrDesc e = scaled(Kind::MXF4NVF4, Format::E2M1, Format::E2M1, 128, 256);
  e.scale = ScaleFormat::UE4M3;
  e.scaleVecSize = 16;
  EXPECT_EQ(idesc(e), 0x08400480u);
  // mxf4nvf4 with ue8m0 32-element blocks (scale_vec::2X): + bit 23.
  EXPECT_EQ(idesc(scaled(Kind::MXF4NVF4, Format::E2M1, Format::E2M1, 128, 256)), 0x08C00480u);
}

//===----------------------------------------------------------------------===//
// Errors: each names what is wrong.
//===----------------------------------------------------------------------===//

TEST(Tcgen05InstrDesc, FormatErrors) {
  EXPECT_TRUE(
      contains(idescError(dense(Kind::F16, Format::E2M1, Format::E2M1, Accum::F32, 128, 128)),
               "e2m1 is not valid for kind::f16"));
  EXPECT_TRUE(
      contains(idescError(dense(Kind::F8F6F4, Format::BF16, Format::E4M3, Accum::F32, 128, 128)),
               "bf16 is not valid for kind::f8f6f4"));
  EXPECT_TRUE(contains(
      idescError(dense(Kind::F16, Format::F16, Format::BF16, Accum::F32, 128, 128)), "one format"));
  EXPECT_TRUE(
      contains(idescError(dense(Kind::MXF4, Format::E4M3, Format::E2M1, Accum::F32, 128, 128)),
               "e4m3 is not valid for kind::mxf4"));
  EXPECT_TRUE(contains(idescError(dense(Kind::I8, Format::S8, Format::E4M3, Accum::S32, 128, 128)),
                       "[matrix B]"));
}

TEST(Tcgen05InstrDesc, ShapeErrors) {
  auto f16 = [](int m, int n, int cta) {
    return dense(Kind::F16, Format::BF16, Format::BF16, Accum::F32, m, n, cta);
  };
  EXPECT_TRUE(contains(idescError(f16(96, 128, 1)), "M=96"));
  EXPECT_TRUE(contains(idescError(f16(256, 128, 1)), "M=256"));
  EXPECT_TRUE(contains(idescError(f16(64, 128, 2)), "M=64"));
  EXPECT_TRUE(contains(idescError(f16(128, 12, 1)), "N=12"));
  EXPECT_TRUE(contains(idescError(f16(128, 264, 1)), "N=264"));
  EXPECT_TRUE(contains(idescError(f16(128, 0, 1)), "N=0"));
  EXPECT_TRUE(contains(idescError(f16(256, 24, 2)), "steps of 16"));
  EXPECT_TRUE(contains(idescError(f16(128, 128, 3)), "cta_group must be 1 or 2"));
  // Valid edges.
  EXPECT_EQ(validateShape(Kind::F16, 64, 8, 1), "");
  EXPECT_EQ(validateShape(Kind::F16, 128, 256, 1), "");
  EXPECT_EQ(validateShape(Kind::TF32, 128, 248, 1), "");
  EXPECT_EQ(validateShape(Kind::F8F6F4, 256, 16, 2), "");
  // i8: N in {8,16,24,32} or steps of 16 above 32; cta_group::2 steps of 32.
  EXPECT_EQ(validateShape(Kind::I8, 128, 24, 1), "");
  EXPECT_EQ(validateShape(Kind::I8, 128, 48, 1), "");
  EXPECT_NE(validateShape(Kind::I8, 128, 40, 1), "");
  EXPECT_NE(validateShape(Kind::I8, 256, 48, 2), "");
  EXPECT_EQ(validateShape(Kind::I8, 256, 64, 2), "");
  // Block-scaled: cta_group::1 only M=128; cta_group::2 M=128/256.
  EXPECT_NE(validateShape(Kind::MXF8F6F4, 64, 128, 1), "");
  EXPECT_EQ(validateShape(Kind::MXF8F6F4, 128, 8, 1), "");
  EXPECT_EQ(validateShape(Kind::MXF4, 256, 256, 2), "");
  EXPECT_NE(validateShape(Kind::MXF4NVF4, 256, 8, 2), "");
}

TEST(Tcgen05InstrDesc, OptionErrors) {
  InstrDesc neg = dense(Kind::I8, Format::S8, Format::S8, Accum::S32, 128, 128);
  neg.negateA = true;
  EXPECT_TRUE(contains(idescError(neg), "kind::i8 cannot negate"));
  InstrDesc sat = dense(Kind::F16, Format::BF16, Format::BF16, Accum::F32, 128, 128);
  sat.saturate = true;
  EXPECT_TRUE(contains(idescError(sat), "saturate"));
  EXPECT_TRUE(contains(idescError(dense(Kind::I8, Format::S8, Format::S8, Accum::F32, 128, 128)),
                       "s32 only"));
  EXPECT_TRUE(contains(
      idescError(dense(Kind::TF32, Format::TF32, Format::TF32, Accum::F16, 128, 128)), "f32 only"));
  EXPECT_TRUE(contains(idescError(dense(Kind::F16, Format::F16, Format::F16, Accum::S32, 128, 128)),
                       "not s32"));
  EXPECT_TRUE(
      contains(idescError(dense(Kind::F16, Format::BF16, Format::BF16, Accum::F16, 128, 128)),
               "f16 accumulator needs f16 inputs"));
  InstrDesc mn = dense(Kind::F8F6F4, Format::E2M1, Format::E4M3, Accum::F32, 128, 128);
  mn.aMNMajor = true;
  EXPECT_TRUE(contains(idescError(mn), "MN-major A is not supported for e2m1"));
  InstrDesc mnOk = dense(Kind::F8F6F4, Format::E4M3, Format::E4M3, Accum::F32, 128, 128);
  mnOk.bMNMajor = true; // 8-bit MN-major is fine: bit 16
  EXPECT_EQ(idesc(mnOk), 0x08200010u | (1u << 16));
  InstrDesc ids = dense(Kind::F16, Format::BF16, Format::BF16, Accum::F32, 128, 128);
  ids.sfaId = 1;
  EXPECT_TRUE(contains(idescError(ids), "only valid for block-scaled"));
}

TEST(Tcgen05InstrDesc, BlockScaleErrors) {
  InstrDesc a = scaled(Kind::MXF4, Format::E2M1, Format::E2M1, 128, 128);
  a.sfaId = 1; // 2X selects halfwords: 0 or 2
  EXPECT_TRUE(contains(idescError(a), "SFA id 1 is invalid"));
  InstrDesc b = scaled(Kind::MXF4NVF4, Format::E2M1, Format::E2M1, 128, 128);
  b.scaleVecSize = 16;
  b.sfbId = 2; // 4X uses the whole word: 0 only
  EXPECT_TRUE(contains(idescError(b), "SFB id 2 is invalid"));
  InstrDesc c = scaled(Kind::MXF8F6F4, Format::E4M3, Format::E4M3, 128, 128);
  c.scale = ScaleFormat::UE4M3;
  EXPECT_TRUE(contains(idescError(c), "ue4m3"));
  InstrDesc c2 = scaled(Kind::MXF4NVF4, Format::E2M1, Format::E2M1, 128, 128);
  c2.scale = ScaleFormat::UE4M3; // ue4m3 needs 16-element blocks
  EXPECT_TRUE(contains(idescError(c2), "ue4m3"));
  InstrDesc d = scaled(Kind::MXF8F6F4, Format::E4M3, Format::E4M3, 128, 128);
  d.scaleVecSize = 16;
  EXPECT_TRUE(contains(idescError(d), "16-element"));
  InstrDesc e = scaled(Kind::MXF8F6F4, Format::E4M3, Format::E4M3, 128, 128);
  e.accum = Accum::F16;
  EXPECT_TRUE(contains(idescError(e), "f32 only"));
  InstrDesc f = scaled(Kind::MXF8F6F4, Format::E4M3, Format::E4M3, 128, 128);
  f.sfaId = 4;
  EXPECT_TRUE(contains(idescError(f), "SFA id 4"));
}

//===----------------------------------------------------------------------===//
// Shared-memory descriptor: table "Shared memory descriptor layout".
//===----------------------------------------------------------------------===//

TEST(Tcgen05SmemDesc, KMajorSwizzle128) {
  // addr 0x400, LBO 16, SBO 1024, 128B swizzle:
  //   low word : addr>>4 = 0x40 (bits 0-13) | LBO>>4 = 1 at bit 16 -> 0x00010040
  //   high word: SBO>>4 = 64 -> 0x40 | bit 46 (= high bit 14) 0x4000 |
  //              swizzle 2 at bit 61 (= high bits 29-31) 0x40000000 -> 0x40004040
  Result<uint64_t> d = smemDescriptor(0x400, 16, 1024, Swizzle::B128);
  ASSERT_TRUE(bool(d)) << d.error;
  EXPECT_EQ(d.value, 0x4000404000010040ull);
  Result<OperandStrides> s = kMajorSwizzledStrides(Swizzle::B128);
  ASSERT_TRUE(bool(s));
  EXPECT_EQ(s.value.sboBytes, 1024u);
  EXPECT_EQ(s.value.lboBytes, 16u);
  EXPECT_EQ(kMajorSwizzledStrides(Swizzle::B64).value.sboBytes, 512u);
  EXPECT_EQ(kMajorSwizzledStrides(Swizzle::B32).value.sboBytes, 256u);
  EXPECT_FALSE(bool(kMajorSwizzledStrides(Swizzle::None)));
  EXPECT_FALSE(bool(kMajorSwizzledStrides(Swizzle::B128Atom32)));
}

TEST(Tcgen05SmemDesc, FieldBoundaries) {
  // Highest 16-aligned address below 256 KiB, 0x3FFF0 -> field 0x3FFF (all 14
  // bits); no swizzle, LBO 128 -> 8 at bit 16 = 0x80000; SBO 256 -> 16 ->
  // high 0x10; bit 46 -> high 0x4000.
  EXPECT_EQ(smemDescriptor(0x3FFF0, 128, 256, Swizzle::None).value, 0x0000401000083FFFull);
  // Largest SBO 0x3FFF0 -> field 0x3FFF fills high bits 0-13 without touching
  // bit 46: high word 0x3FFF | 0x4000 = 0x7FFF. Largest LBO likewise ->
  // low bits 16-29 = 0x3FFF0000.
  EXPECT_EQ(smemDescriptor(0, 0x3FFF0, 0x3FFF0, Swizzle::None).value, 0x00007FFF3FFF0000ull);
  // Swizzle codes land in bits 61-63: 32B=6, 64B=4, 128B-atom32=1.
  EXPECT_EQ(smemDescriptor(0, 0, 0, Swizzle::B32).value, 0xC000400000000000ull);
  EXPECT_EQ(smemDescriptor(0, 0, 0, Swizzle::B64).value, 0x8000400000000000ull);
  EXPECT_EQ(smemDescriptor(0, 0, 0, Swizzle::B128Atom32).value, 0x2000400000000000ull);
  // Base offset 7 at bits 49-51 (high bits 17-19 = 0xE0000); LBO-absolute bit
  // 52 (high bit 20 = 0x100000).
  EXPECT_EQ(smemDescriptor(0, 0, 0, Swizzle::None, 7).value, 0x000E400000000000ull);
  EXPECT_EQ(smemDescriptor(0, 0, 0, Swizzle::None, 0, true).value, 0x0010400000000000ull);
  // The constant part plus the address field equals the full descriptor.
  EXPECT_EQ(smemDescriptorConstantPart(16, 1024, Swizzle::B128).value | smemAddressField(0x2400),
            smemDescriptor(0x2400, 16, 1024, Swizzle::B128).value);
  EXPECT_EQ(swizzleCode(Swizzle::None), 0u);
  EXPECT_EQ(swizzleCode(Swizzle::B128Atom32), 1u);
  EXPECT_EQ(swizzleCode(Swizzle::B128), 2u);
  EXPECT_EQ(swizzleCode(Swizzle::B64), 4u);
  EXPECT_EQ(swizzleCode(Swizzle::B32), 6u);
}

TEST(Tcgen05SmemDesc, Errors) {
  EXPECT_TRUE(contains(smemDescriptor(8, 16, 1024, Swizzle::B128).error, "16-byte aligned"));
  EXPECT_TRUE(contains(smemDescriptor(0x40000, 16, 1024, Swizzle::B128).error, "18-bit"));
  EXPECT_TRUE(contains(smemDescriptor(0, 8, 1024, Swizzle::B128).error, "leading-dimension"));
  EXPECT_TRUE(contains(smemDescriptor(0, 16, 0x40000, Swizzle::B128).error, "stride-dimension"));
  EXPECT_TRUE(contains(smemDescriptor(0, 16, 1024, Swizzle::B128, 8).error, "base offset"));
}

TEST(Tcgen05SmemDesc, KAdvanceInsideSwizzleAtom) {
  // One MMA's K slice is 32 bytes for every kind (bf16 K=16, tf32 K=8, fp8
  // K=32, fp4 K=64), i.e. +2 in the 16-byte address field.
  EXPECT_EQ(kMajorDescriptorAdvance(16, 16, Swizzle::B128).value, 2u);
  EXPECT_EQ(kMajorDescriptorAdvance(8, 32, Swizzle::B128).value, 2u);
  EXPECT_EQ(kMajorDescriptorAdvance(32, 8, Swizzle::B128).value, 2u);
  EXPECT_EQ(kMajorDescriptorAdvance(64, 4, Swizzle::B128).value, 2u);
  // Third bf16 step: 48 elements = 96 bytes -> 6.
  EXPECT_EQ(kMajorDescriptorAdvance(48, 16, Swizzle::B128).value, 6u);
  EXPECT_FALSE(bool(kMajorDescriptorAdvance(64, 16, Swizzle::B128))); // 128 B: next atom
  EXPECT_FALSE(bool(kMajorDescriptorAdvance(4, 16, Swizzle::B128)));  // 8 B
  // Advancing the full descriptor is plain addition on bits 0-13.
  uint64_t d = smemDescriptor(0x400, 16, 1024, Swizzle::B128).value;
  EXPECT_EQ(d + 2, smemDescriptor(0x420, 16, 1024, Swizzle::B128).value);
}

TEST(Tcgen05SmemDesc, MnMajorSwizzled) {
  // bf16 B tile of 64 K-rows x 256 N, N contiguous, 128B swizzle: atoms of
  // 8 K-rows x 128 B; each 128-byte N slice holds all 64 K rows, so
  // LBO = 64*128 = 8192 (next atom along N) and SBO = 8*128 = 1024.
  Result<OperandStrides> s = mnMajorSwizzledStrides(Swizzle::B128, 64 * 128);
  ASSERT_TRUE(bool(s)) << s.error;
  EXPECT_EQ(s.value.lboBytes, 8192u);
  EXPECT_EQ(s.value.sboBytes, 1024u);
  // One bf16 MMA step (K=16) = two 8-row groups = 2048 B -> +128 in the field.
  EXPECT_EQ(mnMajorDescriptorAdvance(16, 1024).value, 128u);
  EXPECT_FALSE(bool(mnMajorDescriptorAdvance(12, 1024)));
  EXPECT_FALSE(bool(mnMajorSwizzledStrides(Swizzle::None, 1024)));
  EXPECT_FALSE(bool(mnMajorSwizzledStrides(Swizzle::B64, 8)));
}

//===----------------------------------------------------------------------===//
// Tensor memory.
//===----------------------------------------------------------------------===//

TEST(Tcgen05Tmem, AllocColumnsAndAddresses) {
  EXPECT_EQ(tmemAllocColumns(0), 32u);
  EXPECT_EQ(tmemAllocColumns(1), 32u);
  EXPECT_EQ(tmemAllocColumns(32), 32u);
  EXPECT_EQ(tmemAllocColumns(33), 64u);
  EXPECT_EQ(tmemAllocColumns(136), 256u);
  EXPECT_EQ(tmemAllocColumns(512), 512u);
  EXPECT_EQ(tmemAllocColumns(513), 0u);
  // lane << 16 | column.
  EXPECT_EQ(tmemAddress(0, 0), 0u);
  EXPECT_EQ(tmemAddress(5, 3), 0x00050003u);
  EXPECT_EQ(tmemAddress(96, 511), 0x006001FFu);
  // Warp w of a warpgroup reaches lanes 32*(w%4)..+31.
  EXPECT_EQ(tmemLaneBase(0), 0u);
  EXPECT_EQ(tmemLaneBase(3), 96u);
  EXPECT_EQ(tmemLaneBase(5), 32u);
}

TEST(Tcgen05Tmem, AccumulatorPlacement) {
  // Layout D (M=128, cta_group::1): row i -> lane i, column j -> column j.
  EXPECT_EQ(accumulatorPlace(128, 1, 77, 200).value.lane, 77u);
  EXPECT_EQ(accumulatorPlace(128, 1, 77, 200).value.column, 200u);
  // Layout A (M=256, cta_group::2): each CTA's 128 rows -> lanes 0..127.
  EXPECT_EQ(accumulatorPlace(256, 2, 127, 3).value.lane, 127u);
  // Layout F (M=64): 16 rows per 32-lane partition.
  EXPECT_EQ(accumulatorPlace(64, 1, 0, 0).value.lane, 0u);
  EXPECT_EQ(accumulatorPlace(64, 1, 15, 0).value.lane, 15u);
  EXPECT_EQ(accumulatorPlace(64, 1, 16, 0).value.lane, 32u);
  EXPECT_EQ(accumulatorPlace(64, 1, 63, 0).value.lane, 111u);
  EXPECT_FALSE(bool(accumulatorPlace(128, 2, 0, 0))); // Layout B not supported
  EXPECT_FALSE(bool(accumulatorPlace(128, 1, 128, 0)));
  EXPECT_FALSE(bool(accumulatorPlace(128, 1, 0, 512)));
}

TEST(Tcgen05Tmem, LoadRegisterCounts) {
  EXPECT_EQ(tmemLdRegisters(LdShape::S32x32b, 1).value, 1);
  EXPECT_EQ(tmemLdRegisters(LdShape::S32x32b, 128).value, 128);
  EXPECT_EQ(tmemLdRegisters(LdShape::S16x64b, 4).value, 4);
  EXPECT_EQ(tmemLdRegisters(LdShape::S16x128b, 4).value, 8);
  EXPECT_EQ(tmemLdRegisters(LdShape::S16x256b, 32).value, 128);
  EXPECT_EQ(tmemLdRegisters(LdShape::S16x32bx2, 2).value, 2);
  EXPECT_FALSE(bool(tmemLdRegisters(LdShape::S16x256b, 64)));
  EXPECT_FALSE(bool(tmemLdRegisters(LdShape::S32x32b, 3)));
  EXPECT_FALSE(bool(tmemLdRegisters(LdShape::S32x32b, 256)));
}

TEST(Tcgen05Shapes, MmaK) {
  EXPECT_EQ(mmaK(Kind::F16), 16);
  EXPECT_EQ(mmaK(Kind::TF32), 8);
  EXPECT_EQ(mmaK(Kind::F8F6F4), 32);
  EXPECT_EQ(mmaK(Kind::I8), 32);
  EXPECT_EQ(mmaK(Kind::MXF8F6F4), 32);
  EXPECT_EQ(mmaK(Kind::MXF4), 64);
  EXPECT_EQ(mmaK(Kind::MXF4NVF4), 64);
}

//===----------------------------------------------------------------------===//
// Scale factors: staging layout, tcgen05.cp.32x128b.warpx4, MMA read.
//===----------------------------------------------------------------------===//

TEST(Tcgen05Scale, SmemOffsets) {
  // offset(r, c) = (r/128)*512 + (r%32)*16 + ((r%128)/32)*4 + c
  EXPECT_EQ(scaleSmemOffset(0, 0), 0u);
  EXPECT_EQ(scaleSmemOffset(1, 0), 16u);
  EXPECT_EQ(scaleSmemOffset(32, 0), 4u);
  EXPECT_EQ(scaleSmemOffset(33, 2), 22u);
  EXPECT_EQ(scaleSmemOffset(127, 3), 511u);
  EXPECT_EQ(scaleSmemOffset(128, 0), 512u);
  EXPECT_EQ(scaleSmemOffset(255, 3), 1023u);
  EXPECT_EQ(scaleTileBytes(64), 512u);
  EXPECT_EQ(scaleTileBytes(256), 1024u);
  EXPECT_EQ(scaleTmemColumns(128), 4u);
  EXPECT_EQ(scaleTmemColumns(256), 8u);
  EXPECT_EQ(scaleCopyCount(200), 2u);
  EXPECT_EQ(scaleCopyColumn(1), 4u);
}

TEST(Tcgen05Scale, EveryRowChunkHasItsOwnByte) {
  for (uint32_t rows : {64u, 128u, 192u, 256u}) {
    std::set<uint32_t> seen;
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t c = 0; c < 4; ++c) {
        uint32_t o = scaleSmemOffset(r, c);
        EXPECT_LT(o, scaleTileBytes(rows));
        EXPECT_TRUE(seen.insert(o).second) << "row " << r << " chunk " << c;
      }
  }
}

namespace {
/// The ISA's tcgen05.cp.32x128b.warpx4: the source is a 32-row x 128-bit
/// matrix described by a no-swizzle K-major descriptor (8-row x 16-byte core
/// matrices, SBO apart along rows; 9.7.16.10.6 / "K major no-swizzling
/// mode"); row i lands in lane i of each of the four 32-lane partitions,
/// 4 consecutive 32-bit columns from the destination column.
using Tmem = std::vector<std::array<uint8_t, 4>>; // [lane*512 + column] -> bytes
void simulateCopy32x128bWarpx4(const std::vector<uint8_t> &smem, uint64_t desc, uint32_t dstCol,
                               Tmem &tmem) {
  uint32_t start = uint32_t(desc & 0x3FFF) << 4;
  uint32_t sbo = uint32_t((desc >> 32) & 0x3FFF) << 4;
  ASSERT_EQ((desc >> 61) & 7, 0u) << "scale copies use no swizzle";
  for (uint32_t i = 0; i < 32; ++i) {
    uint32_t rowAddr = start + (i / 8) * sbo + (i % 8) * 16;
    for (uint32_t q = 0; q < 4; ++q)
      for (uint32_t j = 0; j < 4; ++j)
        for (uint32_t b = 0; b < 4; ++b)
          tmem[(32 * q + i) * 512 + dstCol + j][b] = smem[rowAddr + 4 * j + b];
  }
}
} // namespace

TEST(Tcgen05Scale, RoundTripThroughCopyAndMmaPlacement) {
  const uint32_t tileAddr = 0x1200; // any 16-byte aligned staging address
  const uint32_t sfBase = 256;      // scale region's first TMEM column
  for (uint32_t rows : {64u, 128u, 256u}) {
    std::vector<uint8_t> smem(tileAddr + scaleTileBytes(rows), 0);
    // A distinct value per (row, chunk): row*4+chunk mod 251, +1 so 0 means "not written".
    auto value = [](uint32_t r, uint32_t c) { return uint8_t((r * 4 + c) % 251 + 1); };
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t c = 0; c < 4; ++c)
        smem[tileAddr + scaleSmemOffset(r, c)] = value(r, c);
    Tmem tmem(128 * 512, {0, 0, 0, 0});
    for (uint32_t i = 0; i < scaleCopyCount(rows); ++i) {
      Result<uint64_t> d = scaleCopyDescriptor(tileAddr, i);
      ASSERT_TRUE(bool(d)) << d.error;
      simulateCopy32x128bWarpx4(smem, d.value, sfBase + scaleCopyColumn(i), tmem);
    }
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t c = 0; c < 4; ++c) {
        ScaleTmemPlace p = scaleTmemPlace(r, c);
        EXPECT_LT(p.column, scaleTmemColumns(rows));
        for (uint32_t q = 0; q < 4; ++q) // duplicated in every lane partition
          EXPECT_EQ(tmem[(32 * q + p.lane) * 512 + sfBase + p.column][p.byte], value(r, c))
              << "rows " << rows << " row " << r << " chunk " << c << " partition " << q;
      }
  }
}

TEST(Tcgen05Scale, CopyDescriptor) {
  // Copy 1 of a tile at 0x1000: start 0x1200 -> field 0x120; LBO 0; SBO 128
  // -> 8 (high word 0x8); bit 46 -> high 0x4000; no swizzle.
  EXPECT_EQ(scaleCopyDescriptor(0x1000, 1).value, 0x0000400800000120ull);
  EXPECT_FALSE(bool(scaleCopyDescriptor(0x1004, 0)));
}

TEST(Tcgen05Scale, FactorIdsPerMma) {
  // 1X (mxf8f6f4, K=32/MMA): 4 MMAs per word, ids 0..3 (bytes).
  EXPECT_EQ(mmasPerScaleWord(Kind::MXF8F6F4, 32), 4);
  for (int s = 0; s < 4; ++s)
    EXPECT_EQ(scaleFactorId(Kind::MXF8F6F4, 32, s).value, s);
  // 2X (mxf4 / mxf4nvf4 with 32-blocks, K=64): 2 MMAs, ids 0 and 2 (halfwords).
  EXPECT_EQ(mmasPerScaleWord(Kind::MXF4, 32), 2);
  EXPECT_EQ(scaleFactorId(Kind::MXF4, 32, 1).value, 2);
  EXPECT_EQ(scaleFactorId(Kind::MXF4NVF4, 32, 1).value, 2);
  // 4X (mxf4nvf4 with 16-blocks): 1 MMA, id 0.
  EXPECT_EQ(mmasPerScaleWord(Kind::MXF4NVF4, 16), 1);
  EXPECT_EQ(scaleFactorId(Kind::MXF4NVF4, 16, 0).value, 0);
  EXPECT_FALSE(bool(scaleFactorId(Kind::MXF4NVF4, 16, 1)));
  EXPECT_FALSE(bool(scaleFactorId(Kind::F16, 32, 0)));
  EXPECT_EQ(mmasPerScaleWord(Kind::MXF4, 16), 0);
  // Every id the helper hands out is accepted by the instruction descriptor.
  for (auto [k, v] : {std::pair{Kind::MXF8F6F4, 32},
                      {Kind::MXF4, 32},
                      {Kind::MXF4NVF4, 32},
                      {Kind::MXF4NVF4, 16}}) {
    for (int s = 0; s < mmasPerScaleWord(k, v); ++s) {
      InstrDesc d = scaled(k, k == Kind::MXF8F6F4 ? Format::E4M3 : Format::E2M1,
                           k == Kind::MXF8F6F4 ? Format::E4M3 : Format::E2M1, 128, 128);
      d.scaleVecSize = v;
      d.sfaId = d.sfbId = scaleFactorId(k, v, s).value;
      EXPECT_TRUE(bool(instrDescriptor(d))) << instrDescriptor(d).error;
    }
  }
}

//===----------------------------------------------------------------------===//
// PTX spellings, and ptxas accepting every one of them.
//===----------------------------------------------------------------------===//

TEST(Tcgen05Ptx, Opcodes) {
  EXPECT_EQ(mmaOpcode(Kind::F16, 1).value, "tcgen05.mma.cta_group::1.kind::f16");
  EXPECT_EQ(mmaOpcode(Kind::MXF8F6F4, 2).value,
            "tcgen05.mma.cta_group::2.kind::mxf8f6f4.block_scale.scale_vec::1X");
  EXPECT_EQ(mmaOpcode(Kind::MXF4, 1).value,
            "tcgen05.mma.cta_group::1.kind::mxf4.block_scale.scale_vec::2X");
  EXPECT_EQ(mmaOpcode(Kind::MXF4NVF4, 1, 16).value,
            "tcgen05.mma.cta_group::1.kind::mxf4nvf4.block_scale.scale_vec::4X");
  EXPECT_FALSE(bool(mmaOpcode(Kind::MXF4, 1, 16)));
  EXPECT_FALSE(bool(mmaOpcode(Kind::F16, 3)));
  EXPECT_EQ(ldOpcode(LdShape::S32x32b, 8).value, "tcgen05.ld.sync.aligned.32x32b.x8.b32");
  EXPECT_EQ(ldOpcode(LdShape::S32x32b, 2, true).value,
            "tcgen05.ld.sync.aligned.32x32b.x2.pack::16b.b32");
  EXPECT_EQ(scaleCopyOpcode(1).value, "tcgen05.cp.cta_group::1.32x128b.warpx4");
  EXPECT_EQ(commitOpcode(1).value,
            "tcgen05.commit.cta_group::1.mbarrier::arrive::one.shared::cluster.b64");
  EXPECT_EQ(commitOpcode(2, true).value, "tcgen05.commit.cta_group::2.mbarrier::arrive::one."
                                         "shared::cluster.multicast::cluster.b64");
  EXPECT_EQ(allocOpcode(1).value, "tcgen05.alloc.cta_group::1.sync.aligned.shared::cta.b32");
  EXPECT_EQ(deallocOpcode(2).value, "tcgen05.dealloc.cta_group::2.sync.aligned.b32");
  EXPECT_EQ(relinquishOpcode(1).value, "tcgen05.relinquish_alloc_permit.cta_group::1.sync.aligned");
}

namespace {
std::string findPtxas() {
  if (const char *p = std::getenv("PTXAS"))
    return p;
  const char *cand = "/usr/local/cuda/bin/ptxas";
  if (std::ifstream(cand).good())
    return cand;
  return {};
}

/// One kernel using every spelling for `cta`, with the descriptors computed
/// here as immediates where the operand allows it.
std::string moduleFor(int cta) {
  std::string s = ".version 8.8\n.target sm_100a\n.address_size 64\n"
                  ".visible .entry k()\n{\n"
                  "  .reg .pred p;\n  .reg .b32 r<140>;\n  .reg .b64 rd<8>;\n  .reg .b16 h<2>;\n"
                  "  .shared .align 8 .b64 bar;\n  .shared .align 4 .b32 slot;\n"
                  "  mov.u32 r0, slot;\n  mov.u32 r7, bar;\n  setp.ne.b32 p, r2, 0;\n";
  s += "  " + allocOpcode(cta).value + " [r0], " + std::to_string(tmemAllocColumns(300)) + ";\n";
  s += "  " + relinquishOpcode(cta).value + ";\n";
  s += "  ld.shared.b32 r1, [slot];\n";
  auto hex = [](uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)v);
    return std::string(buf);
  };
  s += "  mov.b64 rd0, " + hex(smemDescriptor(0x400, 16, 1024, Swizzle::B128).value) + ";\n";
  s += "  mov.b64 rd1, " + hex(smemDescriptor(0x4400, 16, 1024, Swizzle::B128).value) + ";\n";
  int m = cta == 1 ? 128 : 256;
  struct K {
    Kind k;
    Format f;
    Accum acc;
    int vec;
  };
  for (K k :
       {K{Kind::F16, Format::BF16, Accum::F32, 32}, K{Kind::TF32, Format::TF32, Accum::F32, 32},
        K{Kind::F8F6F4, Format::E4M3, Accum::F32, 32}, K{Kind::I8, Format::S8, Accum::S32, 32},
        K{Kind::MXF8F6F4, Format::E4M3, Accum::F32, 32},
        K{Kind::MXF4, Format::E2M1, Accum::F32, 32},
        K{Kind::MXF4NVF4, Format::E2M1, Accum::F32, 32},
        K{Kind::MXF4NVF4, Format::E2M1, Accum::F32, 16}}) {
    InstrDesc d = dense(k.k, k.f, k.f, k.acc, m, 256, cta);
    d.scaleVecSize = k.vec;
    s += "  mov.b32 r3, " + hex(instrDescriptor(d).value) + ";\n";
    s += "  " + mmaOpcode(k.k, cta, k.vec).value + " [r1], rd0, rd1, r3" +
         (isBlockScaled(k.k) ? ", [r5], [r6]" : "") + ", p;\n";
  }
  s += "  mov.b64 rd2, " + hex(scaleCopyDescriptor(0x8000, 0).value) + ";\n";
  s += "  " + scaleCopyOpcode(cta).value + " [r5], rd2;\n";
  s += "  " + commitOpcode(cta).value + " [r7];\n";
  if (cta == 2)
    s += "  mov.b16 h0, 3;\n  " + commitOpcode(cta, true).value + " [r7], h0;\n";
  s += "  tcgen05.fence::before_thread_sync;\n  tcgen05.fence::after_thread_sync;\n";
  for (auto [shape, num] : {std::pair{LdShape::S32x32b, 8},
                            {LdShape::S32x32b, 128},
                            {LdShape::S16x64b, 4},
                            {LdShape::S16x128b, 4},
                            {LdShape::S16x256b, 2}}) {
    int regs = tmemLdRegisters(shape, num).value;
    s += "  " + ldOpcode(shape, num).value + " {";
    for (int i = 0; i < regs; ++i)
      s += (i ? ", r" : "r") + std::to_string(10 + i);
    s += "}, [r1];\n";
  }
  s += "  tcgen05.wait::ld.sync.aligned;\n";
  s += "  " + deallocOpcode(cta).value + " r1, " + std::to_string(tmemAllocColumns(300)) + ";\n";
  s += "  ret;\n}\n";
  return s;
}
} // namespace

TEST(Tcgen05Ptx, PtxasAcceptsEverySpelling) {
  std::string ptxas = findPtxas();
  if (ptxas.empty())
    GTEST_SKIP() << "ptxas not found (set PTXAS or install CUDA at /usr/local/cuda)";
  for (int cta : {1, 2}) {
    std::string path = ::testing::TempDir() + "tcgen05_cta" + std::to_string(cta) + ".ptx";
    {
      std::ofstream out(path);
      out << moduleFor(cta);
    }
    std::string cmd = ptxas + " -arch=sm_100a " + path + " -o /dev/null 2>&1";
    FILE *pipe = popen(cmd.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char buf[512];
    while (fgets(buf, sizeof buf, pipe))
      output += buf;
    int rc = pclose(pipe);
    EXPECT_EQ(rc, 0) << "ptxas rejected " << path << ":\n" << output << "\n" << moduleFor(cta);
  }
}
