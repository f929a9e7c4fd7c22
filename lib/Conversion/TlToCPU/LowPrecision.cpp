// Generated-code conversions between f32 and the narrow formats, following
// runtime/src/LowPrecision.cpp rule by rule (that file is the reference, checked
// against the H100's cvt instructions). Encoders are integer bit manipulation
// on the f32 pattern; decoders of 8/4-bit codes are table lookups (256 or 16
// f32 values built here from the format definitions), bf16/f16 decoders are
// bit manipulation. Everything goes through f32: every narrow format, bf16 and
// f16 widen into f32 exactly, so "decode to f32, then encode" rounds once.
#include "LowPrecision.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/bit.h"

#include <cmath>
#include <cstdint>
#include <vector>

using namespace mlir;

namespace tlc::cpu {

bool isNarrowFloat(Type type) {
  return isa<Float8E4M3FNType, Float8E5M2Type, Float4E2M1FNType, Float8E8M0FNUType>(type);
}

namespace {

struct Gen {
  OpBuilder &b;
  Location loc;
  ModuleOp module;

  Type i8() { return b.getI8Type(); }
  Type i16() { return b.getI16Type(); }
  Type i32() { return b.getI32Type(); }
  Type f32() { return b.getF32Type(); }

  Value c(Type t, int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, v));
  }
  Value c32(int64_t v) { return c(i32(), v); }
  Value shl(Value a, Value s) { return arith::ShLIOp::create(b, loc, a, s); }
  Value shr(Value a, Value s) { return arith::ShRUIOp::create(b, loc, a, s); }
  Value band(Value a, Value x) { return arith::AndIOp::create(b, loc, a, x); }
  Value bor(Value a, Value x) { return arith::OrIOp::create(b, loc, a, x); }
  Value add(Value a, Value x) { return arith::AddIOp::create(b, loc, a, x); }
  Value sub(Value a, Value x) { return arith::SubIOp::create(b, loc, a, x); }
  Value cmp(arith::CmpIPredicate p, Value a, Value x) {
    return arith::CmpIOp::create(b, loc, p, a, x);
  }
  Value sel(Value cond, Value t, Value f) { return arith::SelectOp::create(b, loc, cond, t, f); }
  Value bitcast(Value v, Type t) { return arith::BitcastOp::create(b, loc, t, v); }
  Value trunc(Value v, Type t) { return arith::TruncIOp::create(b, loc, t, v); }
  Value zext(Value v, Type t) { return arith::ExtUIOp::create(b, loc, t, v); }

  /// i8 code of a narrow float value, or the narrow float of an i8 code.
  Value toCode(Value narrow) {
    return UnrealizedConversionCastOp::create(b, loc, i8(), narrow).getResult(0);
  }
  Value fromCode(Value code, Type narrowType) {
    return UnrealizedConversionCastOp::create(b, loc, narrowType, code).getResult(0);
  }

  /// roundMinifloat of LowPrecision.cpp on the i32 magnitude pattern `a`
  /// (finite, non-negative): RNE to a minifloat with manBits mantissa bits
  /// and the given bias, unsaturated.
  Value roundMinifloat(Value a, int manBits, int bias) {
    int minNormal = 1 - bias;
    Value biased = shr(a, c32(23));
    Value e = sub(arith::MaxSIOp::create(b, loc, biased, c32(1)), c32(127));
    Value isSub = cmp(arith::CmpIPredicate::eq, biased, c32(0));
    Value m = bor(band(a, c32(0x7FFFFF)), sel(isSub, c32(0), c32(0x800000)));
    // s = max(e, minNormal) - manBits - (e - 23); m < 2^24, so any s >= 25
    // rounds to 0 exactly as s = 25 does, which keeps every shift in range.
    Value s = sub(add(arith::MaxSIOp::create(b, loc, e, c32(minNormal)), c32(23 - manBits)), e);
    s = arith::MinSIOp::create(b, loc, s, c32(25));
    Value half = shl(c32(1), sub(s, c32(1)));
    Value lsb = band(shr(m, s), c32(1));
    Value n = shr(add(add(m, sub(half, c32(1))), lsb), s);
    Value normal = sub(add(shl(add(sub(e, c32(minNormal)), c32(1)), c32(manBits)), n),
                       c32(1 << manBits));
    return sel(cmp(arith::CmpIPredicate::slt, e, c32(minNormal)), n, normal);
  }

  Value isNaN(Value a /*magnitude bits*/) {
    return cmp(arith::CmpIPredicate::ugt, a, c32(0x7F800000));
  }

  /// encodeSatfinite + the NaN rule: i32 code.
  Value encodeSat(Value x, int manBits, int bias, float maxValue, uint32_t maxCode,
                  int signBit, uint32_t nanCode) {
    Value u = bitcast(x, i32());
    Value sign = shl(shr(u, c32(31)), c32(signBit));
    Value a = band(u, c32(0x7FFFFFFF));
    Value r = arith::MinUIOp::create(b, loc, roundMinifloat(a, manBits, bias), c32(maxCode));
    Value sat = cmp(arith::CmpIPredicate::uge, a, c32(llvm::bit_cast<uint32_t>(maxValue)));
    Value code = bor(sign, sel(sat, c32(maxCode), r));
    return sel(isNaN(a), c32(nanCode), code);
  }

  Value f32ToBF16(Value x) {
    Value u = bitcast(x, i32());
    Value lsb = band(shr(u, c32(16)), c32(1));
    Value r = shr(add(add(u, c32(0x7FFF)), lsb), c32(16));
    r = sel(isNaN(band(u, c32(0x7FFFFFFF))), c32(0x7FFF), r);
    return bitcast(trunc(r, i16()), b.getBF16Type());
  }

  Value f32ToF16(Value x) {
    Value u = bitcast(x, i32());
    Value sign = shl(shr(u, c32(31)), c32(15));
    Value a = band(u, c32(0x7FFFFFFF));
    Value r = arith::MinUIOp::create(b, loc, roundMinifloat(a, 10, 15), c32(0x7BFF));
    Value inf = cmp(arith::CmpIPredicate::uge, a, c32(llvm::bit_cast<uint32_t>(65520.0f)));
    Value code = bor(sign, sel(inf, c32(0x7C00), r));
    code = sel(isNaN(a), c32(0x7FFF), code);
    return bitcast(trunc(code, i16()), b.getF16Type());
  }

  /// f32ToUE8M0Ceil: smallest power of two >= x; x <= 0 -> 0, NaN -> 0xFF,
  /// saturating at 254.
  Value f32ToUE8M0(Value x) {
    Value u = bitcast(x, i32());
    Value bexp = shr(u, c32(23)); // x > 0 here, so no sign bit
    Value man = band(u, c32(0x7FFFFF));
    Value normal = arith::MinUIOp::create(
        b, loc, add(bexp, zext(cmp(arith::CmpIPredicate::ne, man, c32(0)), i32())), c32(254));
    // Subnormal x: 2^-127 (0x00400000) or below rounds to code 0, above to 1.
    Value subn = zext(cmp(arith::CmpIPredicate::ugt, u, c32(0x00400000)), i32());
    Value code = sel(cmp(arith::CmpIPredicate::eq, bexp, c32(0)), subn, normal);
    code = sel(cmp(arith::CmpIPredicate::sle, u, c32(0)), c32(0), code);
    return sel(isNaN(band(u, c32(0x7FFFFFFF))), c32(0xFF), code);
  }

  Value bf16ToF32(Value v) {
    Value bits = zext(bitcast(v, i16()), i32());
    return bitcast(shl(bits, c32(16)), f32());
  }

  Value f16ToF32(Value v) {
    Value h = zext(bitcast(v, i16()), i32());
    Value sign = shl(shr(h, c32(15)), c32(31));
    Value exp = band(shr(h, c32(10)), c32(0x1F));
    Value man = band(h, c32(0x3FF));
    Value manHi = shl(man, c32(13));
    Value infNan = bor(sign, bor(c32(0x7F800000), manHi));
    Value normal = bor(sign, bor(shl(add(exp, c32(112)), c32(23)), manHi));
    // Subnormal: man * 2^-24, exact in f32.
    Value subF = arith::MulFOp::create(
        b, loc, arith::UIToFPOp::create(b, loc, f32(), man),
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(std::ldexp(1.0f, -24))));
    Value subn = bor(sign, bitcast(subF, i32()));
    Value bits = sel(cmp(arith::CmpIPredicate::eq, exp, c32(0)), subn,
                     sel(cmp(arith::CmpIPredicate::eq, exp, c32(0x1F)), infNan, normal));
    return bitcast(bits, f32());
  }

  /// The private decode table `name` (f32 values given as bit patterns).
  Value table(StringRef name, const std::vector<uint32_t> &bits) {
    auto type = MemRefType::get({static_cast<int64_t>(bits.size())}, f32());
    if (!module.lookupSymbol(name)) {
      OpBuilder mb(module.getBodyRegion());
      mb.setInsertionPointToStart(module.getBody());
      std::vector<float> values;
      for (uint32_t v : bits)
        values.push_back(llvm::bit_cast<float>(v));
      auto tensorType = RankedTensorType::get(type.getShape(), f32());
      memref::GlobalOp::create(mb, loc, mb.getStringAttr(name), mb.getStringAttr("private"),
                               TypeAttr::get(type),
                               DenseElementsAttr::get(tensorType, llvm::ArrayRef<float>(values)),
                               mb.getUnitAttr(), mb.getI64IntegerAttr(64));
    }
    return memref::GetGlobalOp::create(b, loc, type, name);
  }

  Value lookup(StringRef name, const std::vector<uint32_t> &bits, Value code, uint32_t mask) {
    Value idx = band(code, c(i8(), mask));
    Value index = arith::IndexCastUIOp::create(b, loc, b.getIndexType(), idx);
    return memref::LoadOp::create(b, loc, table(name, bits), ValueRange{index});
  }

  Value decodeNarrow(Value v) {
    Type t = v.getType();
    Value code = toCode(v);
    if (isa<Float8E4M3FNType>(t))
      return lookup("__tl_cpu_e4m3_to_f32", e4m3Table(), code, 0xFF);
    if (isa<Float8E5M2Type>(t))
      return lookup("__tl_cpu_e5m2_to_f32", e5m2Table(), code, 0xFF);
    if (isa<Float4E2M1FNType>(t))
      return lookup("__tl_cpu_e2m1_to_f32", e2m1Table(), code, 0xF);
    return lookup("__tl_cpu_ue8m0_to_f32", ue8m0Table(), code, 0xFF);
  }

  static uint32_t bitsOf(float f) { return llvm::bit_cast<uint32_t>(f); }

  /// Value of a non-negative minifloat code (IEEE-style subnormals).
  static float minifloat(uint32_t code, int manBits, int bias) {
    uint32_t exp = code >> manBits, man = code & ((1u << manBits) - 1);
    if (exp == 0)
      return std::ldexp(static_cast<float>(man), 1 - bias - manBits);
    return std::ldexp(static_cast<float>((1u << manBits) | man),
                      static_cast<int>(exp) - bias - manBits);
  }

  static std::vector<uint32_t> e4m3Table() {
    std::vector<uint32_t> t;
    for (uint32_t c = 0; c < 256; ++c) {
      uint32_t sign = (c >> 7) << 31, mag = c & 0x7F;
      t.push_back(mag == 0x7F ? sign | 0x7FC00000u : sign | bitsOf(minifloat(mag, 3, 7)));
    }
    return t;
  }
  static std::vector<uint32_t> e5m2Table() {
    std::vector<uint32_t> t;
    for (uint32_t c = 0; c < 256; ++c) {
      uint32_t sign = (c >> 7) << 31, mag = c & 0x7F;
      t.push_back(mag == 0x7C  ? sign | 0x7F800000u
                  : mag > 0x7C ? sign | 0x7FC00000u
                               : sign | bitsOf(minifloat(mag, 2, 15)));
    }
    return t;
  }
  static std::vector<uint32_t> e2m1Table() {
    std::vector<uint32_t> t;
    for (uint32_t c = 0; c < 16; ++c)
      t.push_back((((c >> 3) & 1) << 31) | bitsOf(minifloat(c & 7, 1, 1)));
    return t;
  }
  static std::vector<uint32_t> ue8m0Table() {
    std::vector<uint32_t> t;
    for (uint32_t c = 0; c < 256; ++c)
      t.push_back(c == 0xFF ? 0x7FC00000u : bitsOf(std::ldexp(1.0f, static_cast<int>(c) - 127)));
    return t;
  }

  /// Any tl element type -> f32 (exact for every float type).
  Value toF32(Value v) {
    Type t = v.getType();
    if (t.isF32())
      return v;
    if (t.isBF16())
      return bf16ToF32(v);
    if (t.isF16())
      return f16ToF32(v);
    if (isNarrowFloat(t))
      return decodeNarrow(v);
    if (isa<FloatType>(t))
      return arith::TruncFOp::create(b, loc, f32(), v);
    if (t.isInteger(1))
      return arith::UIToFPOp::create(b, loc, f32(), v);
    return arith::SIToFPOp::create(b, loc, f32(), v);
  }

  /// f32 -> any float type.
  Value fromF32(Value x, Type dst) {
    if (dst.isF32())
      return x;
    if (dst.isBF16())
      return f32ToBF16(x);
    if (dst.isF16())
      return f32ToF16(x);
    if (isa<Float8E4M3FNType>(dst))
      return fromCode(trunc(encodeSat(x, 3, 7, 448.0f, 0x7E, 7, 0x7F), i8()), dst);
    if (isa<Float8E5M2Type>(dst))
      return fromCode(trunc(encodeSat(x, 2, 15, 57344.0f, 0x7B, 7, 0x7F), i8()), dst);
    if (isa<Float4E2M1FNType>(dst))
      return fromCode(trunc(encodeSat(x, 1, 1, 6.0f, 0x7, 3, 0x7), i8()), dst);
    if (isa<Float8E8M0FNUType>(dst))
      return fromCode(trunc(f32ToUE8M0(x), i8()), dst);
    return arith::ExtFOp::create(b, loc, dst, x); // f64
  }

  Value convert(Value v, Type dst) {
    Type src = v.getType();
    if (src == dst)
      return v;
    bool srcInt = isa<IntegerType>(src), dstInt = isa<IntegerType>(dst);
    if (srcInt && dstInt) {
      if (dst.isInteger(1))
        return cmp(arith::CmpIPredicate::ne, v, c(src, 0));
      unsigned sw = src.getIntOrFloatBitWidth(), dw = dst.getIntOrFloatBitWidth();
      if (sw < dw)
        return src.isInteger(1) ? zext(v, dst) : Value(arith::ExtSIOp::create(b, loc, dst, v));
      return trunc(v, dst);
    }
    if (dstInt) {
      Value x = toF32(v);
      if (dst.isInteger(1))
        return arith::CmpFOp::create(
            b, loc, arith::CmpFPredicate::UNE, x,
            arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f)));
      return arith::FPToSIOp::create(b, loc, dst, x);
    }
    return fromF32(toF32(v), dst);
  }
};

} // namespace

Value emitConvert(OpBuilder &b, Location loc, ModuleOp module, Value value, Type dstType) {
  Gen g{b, loc, module};
  return g.convert(value, dstType);
}

} // namespace tlc::cpu
