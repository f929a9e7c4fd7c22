// CPU target: TlToCPU, upstream conversions to the LLVM dialect, LLVM IR,
// -O3 codegen for x86-64 (PIC) and `cc -shared`.
#include "tlc/Target/CPUTarget.h"
#include "tlc/Target/LLVMPipeline.h"

#include "tlc/Conversion/TlToCPU.h"

#include "tl/Transforms/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <cstdlib>
#include <memory>

using namespace mlir;

namespace tlc {

namespace {

LLVM::LLVMFuncOp declareLibc(ModuleOp module, StringRef name, LLVM::LLVMFunctionType type) {
  if (auto f = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return f;
  OpBuilder b(module.getContext());
  b.setInsertionPointToStart(module.getBody());
  return LLVM::LLVMFuncOp::create(b, module.getLoc(), name, type);
}

// T.assert at run time (cf.assert from MLIRGen): the message goes to stderr
// with write(2) (unbuffered, so it is not lost to the abort) and the process
// aborts. Upstream's cf.assert lowering prints with puts to stdout, whose
// buffer abort() discards when stdout is a pipe or a file.
void lowerAssertsForCPU(ModuleOp module) {
  SmallVector<cf::AssertOp> asserts;
  module.walk([&](cf::AssertOp op) { asserts.push_back(op); });
  if (asserts.empty())
    return;
  MLIRContext *ctx = module.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i32 = IntegerType::get(ctx, 32), i64 = IntegerType::get(ctx, 64);
  auto write = declareLibc(module, "write", LLVM::LLVMFunctionType::get(i64, {i32, ptr, i64}));
  auto abortFn =
      declareLibc(module, "abort", LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {}));
  OpBuilder b(ctx);
  for (auto [i, op] : llvm::enumerate(asserts)) {
    Location loc = op.getLoc();
    std::string text = op.getMsg().str() + "\n";
    b.setInsertionPointToStart(module.getBody());
    auto type = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), text.size());
    auto global = LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true, LLVM::Linkage::Internal,
                                         "__tl_assert_msg_" + std::to_string(i),
                                         b.getStringAttr(text));
    Block *before = op->getBlock();
    Block *cont = before->splitBlock(std::next(op->getIterator()));
    Block *fail = b.createBlock(cont);
    b.setInsertionPointToStart(fail);
    Value msg = LLVM::AddressOfOp::create(b, loc, global);
    Value fd = LLVM::ConstantOp::create(b, loc, i32, 2);
    Value len = LLVM::ConstantOp::create(b, loc, i64, static_cast<int64_t>(text.size()));
    LLVM::CallOp::create(b, loc, write, ValueRange{fd, msg, len});
    LLVM::CallOp::create(b, loc, abortFn, ValueRange{});
    LLVM::UnreachableOp::create(b, loc);
    b.setInsertionPointToEnd(before);
    cf::CondBranchOp::create(b, loc, op.getArg(), cont, fail);
    op.erase();
  }
}

} // namespace

LogicalResult lowerToLLVMDialectForCPU(ModuleOp module, bool checkBounds) {
  {
    PassManager pm(module.getContext());
    tl::TlGuardGlobalAccessesOptions guard;
    guard.checkBounds = checkBounds;
    pm.addNestedPass<func::FuncOp>(tl::createTlGuardGlobalAccesses(guard));
    pm.addNestedPass<func::FuncOp>(tl::createTlMaterializeGuards());
    pm.addNestedPass<func::FuncOp>(tl::createTlUnroll());
    pm.addPass(createTlCPUWarpExchangePass());
    pm.addPass(createTlCPUThreadLoopsPass());
    pm.addPass(createTlLowerToCPUPass());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(arith::createArithExpandOpsPass());
    pm.addPass(createSCFToControlFlowPass());
    if (failed(pm.run(module)))
      return failure();
  }
  lowerAssertsForCPU(module);
  PassManager pm(module.getContext());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  // Views (memref.subview) expand to affine offset arithmetic.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // The body of a compare-and-swap loop (bf16/f16 atomics,
  // memref.generic_atomic_rmw) must be LLVM already when memref lowers it.
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  return pm.run(module);
}

namespace {

std::unique_ptr<llvm::Module> translate(ModuleOp module, llvm::LLVMContext &ctx,
                                        std::string &error) {
  registerBuiltinDialectTranslation(*module.getContext());
  registerLLVMDialectTranslation(*module.getContext());
  std::unique_ptr<llvm::Module> m = translateModuleToLLVMIR(module, ctx, "tlc-cpu");
  if (!m)
    error = "cannot translate the lowered module to LLVM IR";
  return m;
}

std::unique_ptr<llvm::TargetMachine> hostMachine(std::string &error) {
  static bool initialised = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialised;
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  if (triple.getArch() != llvm::Triple::x86_64) {
    error = "the CPU target supports x86-64 hosts only (this host is " + triple.str() + ")";
    return nullptr;
  }
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  llvm::TargetOptions options;
  // Generic x86-64: the object must run on any machine that runs the tests.
  // No FMA contraction, so results are reproducible against plain C++.
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, "x86-64", "", options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    error = "cannot create an x86-64 target machine";
  return tm;
}

} // namespace

FailureOr<std::string> emitCPULLVMIR(ModuleOp module, std::string &error) {
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> m = translate(module, ctx, error);
  if (!m)
    return failure();
  std::string out;
  llvm::raw_string_ostream os(out);
  m->print(os, nullptr);
  return out;
}

FailureOr<std::string> emitCPUObject(ModuleOp module, std::string &error) {
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> m = translate(module, ctx, error);
  if (!m)
    return failure();
  std::unique_ptr<llvm::TargetMachine> tm = hostMachine(error);
  if (!tm)
    return failure();
  m->setDataLayout(tm->createDataLayout());
  m->setTargetTriple(tm->getTargetTriple());
  runLLVMO3(*m, *tm);

  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    error = "the x86-64 target cannot emit an object file";
    return failure();
  }
  pm.run(*m);
  return std::string(buffer.str());
}

bool linkCPUSharedObject(llvm::StringRef objectBytes, llvm::StringRef soPath,
                         std::string &error) {
  std::string ccName = "cc";
  if (const char *env = std::getenv("TLC_CC"); env && *env)
    ccName = env;
  llvm::ErrorOr<std::string> cc = llvm::sys::findProgramByName(ccName);
  if (!cc) {
    error = "cannot find the C compiler '" + ccName +
            "' on PATH; it links the CPU shared object (install a C toolchain, or set TLC_CC)";
    return false;
  }
  llvm::SmallString<128> objPath;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("tlc-cpu", "o", objPath)) {
    error = "cannot create a temporary object file: " + ec.message();
    return false;
  }
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(objPath, ec);
    if (ec) {
      error = "cannot write '" + objPath.str().str() + "': " + ec.message();
      return false;
    }
    out << objectBytes;
  }
  std::string so = soPath.str();
  llvm::SmallVector<llvm::StringRef> args{*cc, "-shared", "-o", so, objPath, "-lm"};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*cc, args, std::nullopt, {}, 0, 0, &message);
  llvm::sys::fs::remove(objPath);
  if (rc != 0) {
    error = "'" + *cc + " -shared' failed to link '" + so + "'" +
            (message.empty() ? "" : ": " + message) + " (exit status " + std::to_string(rc) + ")";
    return false;
  }
  return true;
}

} // namespace tlc
