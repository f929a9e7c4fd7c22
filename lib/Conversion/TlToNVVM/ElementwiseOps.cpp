// Element-wise values: tl.cast with the .tl rounding rules (hardware cvt for
// FP8, bit manipulation for FP4 and ue8m0, identical to runtime/LowPrecision)
// and f32 math on the approximate special-function units.
#include "Common.h"

namespace tlc::nvvm {

Value convertScalar(OpBuilder &b, Location loc, Value v, Type from, Type to) {
  if (from == to)
    return v;
  Type f32 = b.getF32Type();
  auto bitsToF32 = [&](Value bits) { return arith::BitcastOp::create(b, loc, f32, bits); };
  auto c32 = [&](int64_t x) { return cI32(b, loc, x); };
  // Narrow sources -> f32 first.
  if (isNarrowFloat(from)) {
    Value asF32;
    Value code32 = arith::ExtUIOp::create(b, loc, b.getI32Type(), v);
    if (isa<Float8E4M3FNType, Float8E5M2Type>(from)) {
      Value code16 = arith::ExtUIOp::create(b, loc, b.getI16Type(), v);
      std::string text = llvm::formatv(
          "{{ .reg .b32 t; .reg .b16 lo, hi; cvt.rn.f16x2.{0}x2 t, $1; mov.b32 {{lo, hi}, t; "
          "cvt.f32.f16 $0, lo; }",
          isa<Float8E4M3FNType>(from) ? "e4m3" : "e5m2");
      asF32 = asmPure(b, loc, f32, {code16}, text, "=f,h");
    } else if (isa<Float8E8M0FNUType>(from)) {
      Value isNan = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, code32, c32(255));
      Value isZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, code32, c32(0));
      Value bits = arith::ShLIOp::create(b, loc, code32, c32(23));
      bits = arith::SelectOp::create(b, loc, isZero, c32(0x00400000), bits);
      bits = arith::SelectOp::create(b, loc, isNan, c32(0x7FC00000), bits);
      asF32 = bitsToF32(bits);
    } else { // e2m1
      Value mag = arith::AndIOp::create(b, loc, code32, c32(7));
      Value e = arith::ShRUIOp::create(b, loc, mag, c32(1));
      Value m = arith::AndIOp::create(b, loc, mag, c32(1));
      Value normal = arith::OrIOp::create(
          b, loc, arith::ShLIOp::create(b, loc, arith::AddIOp::create(b, loc, e, c32(126)), c32(23)),
          arith::ShLIOp::create(b, loc, m, c32(22)));
      Value sub = arith::SelectOp::create(
          b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, m, c32(0)),
          c32(0x3F000000), c32(0));
      Value isSub = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, e, c32(0));
      Value bits = arith::SelectOp::create(b, loc, isSub, sub, normal);
      Value sign = arith::ShLIOp::create(b, loc, arith::AndIOp::create(b, loc, code32, c32(8)),
                                         c32(28));
      asF32 = bitsToF32(arith::OrIOp::create(b, loc, bits, sign));
    }
    return convertScalar(b, loc, asF32, f32, to);
  }
  if (isNarrowFloat(to)) {
    Value x = convertScalar(b, loc, v, from, f32);
    Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), x);
    if (isa<Float8E4M3FNType, Float8E5M2Type>(to)) {
      std::string text = llvm::formatv(
          "{{ .reg .b16 t; cvt.rn.satfinite.{0}x2.f32 t, $1, $1; cvt.u32.u16 $0, t; }",
          isa<Float8E4M3FNType>(to) ? "e4m3" : "e5m2");
      Value r = asmPure(b, loc, b.getI32Type(), {x}, text, "=r,f");
      return arith::TruncIOp::create(b, loc, b.getI8Type(), r);
    }
    if (isa<Float8E8M0FNUType>(to)) {
      // Smallest power of two >= x (LowPrecision f32ToUE8M0Ceil).
      Value expo = arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, bits, c32(23)),
                                         c32(255));
      Value mant = arith::AndIOp::create(b, loc, bits, c32(0x7FFFFF));
      Value mantNZ = arith::ExtUIOp::create(
          b, loc, b.getI32Type(),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, mant, c32(0)));
      Value normal = arith::MinUIOp::create(b, loc, arith::AddIOp::create(b, loc, expo, mantNZ),
                                            c32(254));
      Value subnormal = arith::ExtUIOp::create(
          b, loc, b.getI32Type(),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, bits, c32(0x00400000)));
      Value code = arith::SelectOp::create(
          b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, expo, c32(0)), subnormal,
          normal);
      Value isNan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
      Value nonPos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, x, zeroOf(b, loc, f32));
      code = arith::SelectOp::create(b, loc, nonPos, c32(0), code);
      code = arith::SelectOp::create(b, loc, isNan, c32(255), code);
      return arith::TruncIOp::create(b, loc, b.getI8Type(), code);
    }
    // e2m1: round to nearest even on {0, .5, 1, 1.5, 2, 3, 4, 6}, saturate; NaN -> 7.
    Value a = math::AbsFOp::create(b, loc, x);
    // Thresholds between neighbouring codes, from the top; ties go to the
    // even code (<= where the lower neighbour is even, < where it is odd).
    struct Step {
      float t;
      bool le;
      int64_t code;
    };
    const Step steps[] = {{5.0f, true, 6},  {3.5f, false, 5},  {2.5f, true, 4}, {1.75f, false, 3},
                          {1.25f, true, 2}, {0.75f, false, 1}, {0.25f, true, 0}};
    Value code = c32(7);
    for (const Step &st : steps)
      code = arith::SelectOp::create(
          b, loc,
          arith::CmpFOp::create(b, loc,
                                st.le ? arith::CmpFPredicate::OLE : arith::CmpFPredicate::OLT, a,
                                arith::ConstantOp::create(b, loc, b.getF32FloatAttr(st.t))),
          c32(st.code), code);
    Value sign = arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, bits, c32(28)),
                                       c32(8));
    code = arith::OrIOp::create(b, loc, code, sign);
    Value isNan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
    code = arith::SelectOp::create(b, loc, isNan, c32(7), code);
    return arith::TruncIOp::create(b, loc, b.getI8Type(), code);
  }
  auto fromF = dyn_cast<FloatType>(from);
  auto toF = dyn_cast<FloatType>(to);
  if (fromF && toF) {
    if (fromF.getWidth() < toF.getWidth())
      return arith::ExtFOp::create(b, loc, to, v);
    if (fromF.getWidth() > toF.getWidth())
      return arith::TruncFOp::create(b, loc, to, v);
    // bf16 <-> f16 through f32.
    return convertScalar(b, loc, convertScalar(b, loc, v, from, f32), f32, to);
  }
  if (fromF && to.isInteger()) {
    if (to.isInteger(1))
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v, zeroOf(b, loc, from));
    return arith::FPToSIOp::create(b, loc, to, v);
  }
  if (from.isInteger() && toF) {
    if (from.isInteger(1))
      return arith::UIToFPOp::create(b, loc, to, v);
    return arith::SIToFPOp::create(b, loc, to, v);
  }
  if (from.isInteger() && to.isInteger()) {
    unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
    if (fw < tw)
      return from.isInteger(1) ? Value(arith::ExtUIOp::create(b, loc, to, v))
                               : Value(arith::ExtSIOp::create(b, loc, to, v));
    if (tw == 1)
      return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v, zeroOf(b, loc, from));
    return arith::TruncIOp::create(b, loc, to, v);
  }
  return v;
}

namespace {

struct CastLowering : public OpConversionPattern<tl::CastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::CastOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Type from = op.getIn().getType(), to = op.getOut().getType();
    Location loc = op.getLoc();
    auto vf = dyn_cast<VectorType>(from);
    if (!vf) {
      rewriter.replaceOp(op, convertScalar(rewriter, loc, adaptor.getIn(), from, to));
      return success();
    }
    // Vectors: element by element.
    auto vt = cast<VectorType>(to);
    Type resT = VectorType::get(vt.getShape(), registerType(vt.getElementType()));
    Value out = LLVM::UndefOp::create(rewriter, loc, resT);
    for (int64_t i = 0; i < vf.getNumElements(); ++i) {
      Value e = LLVM::ExtractElementOp::create(rewriter, loc, adaptor.getIn(), cI32(rewriter, loc, i));
      Value c = convertScalar(rewriter, loc, e, vf.getElementType(), vt.getElementType());
      out = LLVM::InsertElementOp::create(rewriter, loc, out, c, cI32(rewriter, loc, i));
    }
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// f32 math on the special-function units (what nvcc's fast paths use): the
/// CPU target keeps libm, so GPU-vs-CPU checks use tolerances.
template <typename MathOp>
struct ApproxMath : public OpConversionPattern<MathOp> {
  ApproxMath(TypeConverter &tc, MLIRContext *ctx, StringRef text, double preScale = 0,
             double postScale = 0)
      : OpConversionPattern<MathOp>(tc, ctx, /*benefit=*/2), text(text.str()), pre(preScale),
        post(postScale) {}
  LogicalResult matchAndRewrite(MathOp op, typename MathOp::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Type t = op.getResult().getType();
    if (!t.isF32())
      return failure();
    Location loc = op.getLoc();
    Value x = adaptor.getOperands()[0];
    if (pre)
      x = arith::MulFOp::create(rewriter, loc, x,
                                arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(pre)));
    Value r = asmPure(rewriter, loc, t, {x}, text, "=f,f");
    if (post)
      r = arith::MulFOp::create(rewriter, loc, r,
                                arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(post)));
    rewriter.replaceOp(op, r);
    return success();
  }
  std::string text;
  double pre, post;
};

/// log1p (T.softplus): log(u) * x / (u - 1) with u = 1 + x, which cancels
/// the rounding of u (exact where u - 1 == x); x itself where u rounds to 1.
struct Log1pLowering : public OpConversionPattern<math::Log1pOp> {
  Log1pLowering(TypeConverter &tc, MLIRContext *ctx)
      : OpConversionPattern<math::Log1pOp>(tc, ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(math::Log1pOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Type t = op.getResult().getType();
    if (!t.isF32())
      return failure();
    Location loc = op.getLoc();
    Value x = adaptor.getOperand();
    Value one = arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(1.0f));
    Value u = arith::AddFOp::create(rewriter, loc, x, one);
    Value d = arith::SubFOp::create(rewriter, loc, u, one);
    Value l = arith::MulFOp::create(
        rewriter, loc, asmPure(rewriter, loc, t, {u}, "lg2.approx.f32 $0, $1;", "=f,f"),
        arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(0.6931471805599453f)));
    Value scaled = arith::MulFOp::create(rewriter, loc, l, arith::DivFOp::create(rewriter, loc, x, d));
    Value exact = arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OEQ, d,
                                        arith::ConstantOp::create(rewriter, loc,
                                                                  rewriter.getF32FloatAttr(0.0f)));
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, exact, x, scaled);
    return success();
  }
};

/// T.byte_perm: prmt.b32 in its index mode. The selector's bit 3 of each
/// nibble (prmt's sign replication) is cleared: the op reads 3 bits a byte.
struct BytePermLowering : public OpConversionPattern<tl::BytePermOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::BytePermOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value sel = arith::AndIOp::create(rewriter, loc, adaptor.getSel(), cI32(rewriter, loc, 0x7777));
    rewriter.replaceOp(op, asmPure(rewriter, loc, rewriter.getI32Type(),
                                   {adaptor.getA(), adaptor.getB(), sel},
                                   "prmt.b32 $0, $1, $2, $3;", "=r,r,r,r"));
    return success();
  }
};

} // namespace

void populateElementwisePatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                                 const NVIDIATarget &) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<CastLowering, Log1pLowering, BytePermLowering>(tc, ctx);
  patterns.add<ApproxMath<math::Exp2Op>>(tc, ctx, "ex2.approx.ftz.f32 $0, $1;");
  patterns.add<ApproxMath<math::ExpOp>>(tc, ctx, "ex2.approx.ftz.f32 $0, $1;",
                                        1.4426950408889634);
  patterns.add<ApproxMath<math::Log2Op>>(tc, ctx, "lg2.approx.f32 $0, $1;");
  patterns.add<ApproxMath<math::LogOp>>(tc, ctx, "lg2.approx.f32 $0, $1;", 0,
                                        0.6931471805599453);
  patterns.add<ApproxMath<math::RsqrtOp>>(tc, ctx, "rsqrt.approx.f32 $0, $1;");
  patterns.add<ApproxMath<math::TanhOp>>(tc, ctx, "tanh.approx.f32 $0, $1;");
  patterns.add<ApproxMath<math::SinOp>>(tc, ctx, "sin.approx.f32 $0, $1;");
  patterns.add<ApproxMath<math::CosOp>>(tc, ctx, "cos.approx.f32 $0, $1;");
  patterns.add<ApproxMath<math::SqrtOp>>(tc, ctx, "sqrt.rn.f32 $0, $1;");
}

} // namespace tlc::nvvm
