// Run-time checks: tl.trap (the `tlc --check-bounds` reports) as device
// printf (vprintf: a format string in global memory and a buffer of 64-bit
// arguments) followed by `trap`, which ends the launch with an error the
// runtime reports with the kernel's name.
#include "Common.h"

#include "llvm/ADT/StringExtras.h"

namespace tlc::nvvm {

namespace {

/// `message` with `{}` as %lld (and a literal % escaped), one line.
std::string printfFormat(StringRef message) {
  std::string out;
  for (size_t i = 0; i < message.size(); ++i) {
    if (message.substr(i).starts_with("{}")) {
      out += "%lld";
      ++i;
    } else if (message[i] == '%') {
      out += "%%";
    } else {
      out += message[i];
    }
  }
  return out + "\n";
}

struct TrapLowering : public OpConversionPattern<tl::TrapOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::TrapOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto module = op->getParentOfType<ModuleOp>();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = rewriter.getI64Type();
    std::string format = printfFormat(op.getMessage());
    // One global per distinct message, named after its hash.
    std::string name = "__tl_trap_fmt_" + llvm::utohexstr(llvm::hash_value(format));
    auto global = module.lookupSymbol<LLVM::GlobalOp>(name);
    auto vprintf = module.lookupSymbol<LLVM::LLVMFuncOp>("vprintf");
    {
      OpBuilder::InsertionGuard g(rewriter);
      rewriter.setInsertionPointToStart(module.getBody());
      if (!global) {
        std::string bytes = format + '\0';
        auto type = LLVM::LLVMArrayType::get(rewriter.getI8Type(), bytes.size());
        global = LLVM::GlobalOp::create(rewriter, loc, type, /*isConstant=*/true,
                                        LLVM::Linkage::Internal, name,
                                        rewriter.getStringAttr(bytes));
      }
      if (!vprintf)
        vprintf = LLVM::LLVMFuncOp::create(
            rewriter, loc, "vprintf",
            LLVM::LLVMFunctionType::get(rewriter.getI32Type(), {ptr, ptr}));
    }
    Value fmt = LLVM::AddressOfOp::create(rewriter, loc, global);
    Value args = LLVM::ZeroOp::create(rewriter, loc, ptr);
    if (!adaptor.getValues().empty()) {
      auto bufType = LLVM::LLVMArrayType::get(i64, adaptor.getValues().size());
      args = LLVM::AllocaOp::create(rewriter, loc, ptr, bufType, cI64(rewriter, loc, 1));
      for (auto [i, v] : llvm::enumerate(adaptor.getValues())) {
        Value slot = LLVM::GEPOp::create(rewriter, loc, ptr, i64, args,
                                         ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
        LLVM::StoreOp::create(rewriter, loc, toI64(rewriter, loc, v), slot);
      }
    }
    LLVM::CallOp::create(rewriter, loc, vprintf, ValueRange{fmt, args});
    LLVM::Trap::create(rewriter, loc);
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateTrapPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                          const NVIDIATarget &) {
  patterns.add<TrapLowering>(tc, patterns.getContext());
}

} // namespace tlc::nvvm
