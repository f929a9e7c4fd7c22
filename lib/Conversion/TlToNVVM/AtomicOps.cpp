// tl.atomic_add: scalars through LLVM's atomicrmw; 2/4-lane vectors in
// global memory through PTX's vector red/atom (sm_90+: f32, and f16/bf16
// without a result); other vectors (shared memory) lane by lane.
#include "Common.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace tlc::nvvm {

namespace {

struct AtomicAddLowering : public OpConversionPattern<tl::AtomicAddOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::AtomicAddOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<MemRefType>(op.getDst().getType());
    Type elem = type.getElementType();
    SmallVector<Value> idx(adaptor.getIndices().begin(), adaptor.getIndices().end());
    Value ptr;
    unsigned space;
    auto scope = tl::getMemScope(type);
    if (scope == tl::MemScope::Global) {
      GlobalView g = unpackGlobal(rewriter, loc, adaptor.getDst(), type.getRank());
      Value lin = globalIndex(rewriter, loc, idx, g.dims);
      ptr = LLVM::GEPOp::create(rewriter, loc, LLVM::LLVMPointerType::get(op.getContext(), 1),
                                elem, g.ptr, ValueRange{toI64(rewriter, loc, lin)});
      space = 1;
    } else if (scope == tl::MemScope::Shared) {
      ptr = sharedElementPtr(rewriter, loc, adaptor.getDst(), type, idx);
      space = 3;
    } else {
      return op.emitError("atomic adds go to global or shared memory");
    }
    auto kind = isa<FloatType>(elem) ? LLVM::AtomicBinOp::fadd : LLVM::AtomicBinOp::add;
    auto vt = dyn_cast<VectorType>(op.getValue().getType());
    if (!vt) {
      Value old = LLVM::AtomicRMWOp::create(rewriter, loc, kind, ptr, adaptor.getValue(),
                                            LLVM::AtomicOrdering::monotonic);
      if (op.getPrev())
        rewriter.replaceOp(op, old);
      else
        rewriter.eraseOp(op);
      return success();
    }
    int64_t n = vt.getNumElements();
    std::string sp = "global";
    // 16-bit floats: PTX's vector red (sm_90+, global memory only) on the
    // lanes' bit patterns.
    if ((elem.isF16() || elem.isBF16()) && space == 1 && !op.getPrev() && (n == 2 || n == 4)) {
      Value addr = LLVM::PtrToIntOp::create(rewriter, loc, rewriter.getI64Type(), ptr);
      SmallVector<Value> operands{addr};
      std::string vals, cons = "l";
      for (int64_t i = 0; i < n; ++i) {
        Value lane = LLVM::ExtractElementOp::create(rewriter, loc, adaptor.getValue(),
                                                    cI32(rewriter, loc, i));
        operands.push_back(LLVM::BitcastOp::create(rewriter, loc, rewriter.getI16Type(), lane));
        vals += (i ? ", $" : "$") + std::to_string(i + 1);
        cons += ",h";
      }
      asmVoid(rewriter, loc, operands,
              llvm::formatv("red.global.add.noftz.v{0}.{1} [$0], {{{2}};", n,
                            elem.isF16() ? "f16" : "bf16", vals)
                  .str(),
              cons + ",~{memory}");
      rewriter.eraseOp(op);
      return success();
    }
    // PTX has vector red/atom for global memory only: shared lanes go one by one.
    if (elem.isF32() && space == 1 && (n == 2 || n == 4)) {
      SmallVector<Value> lanes;
      for (int64_t i = 0; i < n; ++i)
        lanes.push_back(LLVM::ExtractElementOp::create(rewriter, loc, adaptor.getValue(),
                                                       cI32(rewriter, loc, i)));
      std::string vals, cons;
      Value addr = space == 1 ? Value(LLVM::PtrToIntOp::create(rewriter, loc, rewriter.getI64Type(), ptr))
                              : sharedAddr32(rewriter, loc, ptr);
      std::string addrCons = space == 1 ? "l" : "r";
      if (!op.getPrev()) {
        for (int64_t i = 0; i < n; ++i)
          vals += (i ? ", $" : "$") + std::to_string(i + 1);
        cons = addrCons;
        for (int64_t i = 0; i < n; ++i)
          cons += ",f";
        SmallVector<Value> operands{addr};
        operands.append(lanes);
        asmVoid(rewriter, loc, operands,
                llvm::formatv("red.{0}.add.v{1}.f32 [$0], {{{2}};", sp, n, vals).str(),
                cons + ",~{memory}");
        rewriter.eraseOp(op);
        return success();
      }
      std::string outs;
      for (int64_t i = 0; i < n; ++i) {
        outs += (i ? ", $" : "$") + std::to_string(i);
        vals += (i ? ", $" : "$") + std::to_string(n + 1 + i);
        cons += "=f,";
      }
      cons += addrCons;
      for (int64_t i = 0; i < n; ++i)
        cons += ",f";
      SmallVector<Value> operands{addr};
      operands.append(lanes);
      auto st = LLVM::LLVMStructType::getLiteral(op.getContext(),
                                                 SmallVector<Type>(n, rewriter.getF32Type()));
      Value r = asmOp(rewriter, loc, st, operands,
                      llvm::formatv("atom.{0}.add.v{1}.f32 {{{2}}, [${3}], {{{4}};", sp, n, outs,
                                    n, vals)
                          .str(),
                      cons + ",~{memory}");
      Value out = LLVM::UndefOp::create(rewriter, loc, vt);
      for (int64_t i = 0; i < n; ++i)
        out = LLVM::InsertElementOp::create(rewriter, loc, out,
                                            LLVM::ExtractValueOp::create(rewriter, loc, r, ArrayRef<int64_t>{i}),
                                            cI32(rewriter, loc, i));
      rewriter.replaceOp(op, out);
      return success();
    }
    // Other vectors: an atomic per lane.
    Value out = op.getPrev() ? Value(LLVM::UndefOp::create(rewriter, loc, vt)) : Value();
    for (int64_t i = 0; i < n; ++i) {
      Value lp = LLVM::GEPOp::create(rewriter, loc, ptr.getType(), elem, ptr,
                                     ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
      Value v = LLVM::ExtractElementOp::create(rewriter, loc, adaptor.getValue(), cI32(rewriter, loc, i));
      Value old = LLVM::AtomicRMWOp::create(rewriter, loc, kind, lp, v, LLVM::AtomicOrdering::monotonic);
      if (out)
        out = LLVM::InsertElementOp::create(rewriter, loc, out, old, cI32(rewriter, loc, i));
    }
    if (out)
      rewriter.replaceOp(op, out);
    else
      rewriter.eraseOp(op);
    return success();
  }
};

/// The lanes of a vector atomic's value, gathered by the front end
/// (vector.from_elements of element loads of a local buffer).
struct FromElementsLowering : public OpConversionPattern<vector::FromElementsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(vector::FromElementsOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto vt = op.getType();
    if (vt.getRank() != 1)
      return rewriter.notifyMatchFailure(op, "1-D vectors only");
    Location loc = op.getLoc();
    Value out = LLVM::UndefOp::create(rewriter, loc, typeConverter->convertType(vt));
    for (auto [i, e] : llvm::enumerate(adaptor.getElements()))
      out = LLVM::InsertElementOp::create(rewriter, loc, out, e, cI32(rewriter, loc, i));
    rewriter.replaceOp(op, out);
    return success();
  }
};

} // namespace

void populateAtomicPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                            const NVIDIATarget &) {
  patterns.add<AtomicAddLowering, FromElementsLowering>(tc, patterns.getContext());
}

} // namespace tlc::nvvm
