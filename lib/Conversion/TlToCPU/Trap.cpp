// tl.trap on the CPU target: the report goes to stderr with dprintf (no
// stdio buffering to lose when the process aborts), then abort(). The CPU
// entry returns nothing (docs/abi.md), so a failed check cannot be returned
// to the runtime; a test observes it as the process dying with the report.
#include "Trap.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace tlc::cpu {

namespace {

/// The libc function `name` of type `type`, declared once per module.
LLVM::LLVMFuncOp declare(ModuleOp module, Location loc, StringRef name,
                         LLVM::LLVMFunctionType type) {
  if (auto f = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return f;
  OpBuilder b(module.getBodyRegion());
  b.setInsertionPointToStart(module.getBody());
  return LLVM::LLVMFuncOp::create(b, loc, name, type);
}

} // namespace

void lowerTrap(tl::TrapOp op, ModuleOp module, RewriterBase &rewriter) {
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i32 = IntegerType::get(ctx, 32);
  auto i64 = IntegerType::get(ctx, 64);
  std::string format = "tlc: error: ";
  StringRef message = op.getMessage();
  for (size_t i = 0; i < message.size(); ++i) {
    if (message.substr(i).starts_with("{}")) {
      format += "%lld";
      ++i;
    } else {
      format += message[i] == '%' ? "%%" : std::string(1, message[i]);
    }
  }
  format += "\n";
  std::string name = "__tl_trap_fmt_" + llvm::utohexstr(llvm::hash_value(format));
  auto global = module.lookupSymbol<LLVM::GlobalOp>(name);
  if (!global) {
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToStart(module.getBody());
    std::string bytes = format + '\0';
    global = LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(b.getI8Type(), bytes.size()),
                                    /*isConstant=*/true, LLVM::Linkage::Internal, name,
                                    b.getStringAttr(bytes));
  }
  auto dprintf = declare(module, loc, "dprintf",
                         LLVM::LLVMFunctionType::get(i32, {i32, ptr}, /*isVarArg=*/true));
  auto abortFn = declare(module, loc, "abort",
                         LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {}));
  rewriter.setInsertionPoint(op);
  SmallVector<Value> args{
      LLVM::ConstantOp::create(rewriter, loc, i32, rewriter.getI32IntegerAttr(2)),
      LLVM::AddressOfOp::create(rewriter, loc, global)};
  for (Value v : op.getValues())
    args.push_back(arith::IndexCastOp::create(rewriter, loc, i64, v));
  LLVM::CallOp::create(rewriter, loc, dprintf, args);
  LLVM::CallOp::create(rewriter, loc, abortFn, ValueRange{});
  rewriter.eraseOp(op);
}

} // namespace tlc::cpu
