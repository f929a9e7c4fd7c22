// LLVM dialect (with arith/scf/math leftovers from the tl lowering) -> LLVM IR
// -> PTX through LLVM's NVPTX back end, in process.
#include "tlc/Conversion/TlToNVVM.h"
#include "tlc/Target/LLVMPipeline.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/IR/Instructions.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Triple.h"

#include <cstdlib>
#include <mutex>

using namespace mlir;

namespace tlc {
namespace {

// T.assert at run time (cf.assert from MLIRGen): a failing thread prints the
// message with vprintf (the CUDA device printf) and traps, which ends the
// kernel with an error the runtime reports (cudaErrorIllegalInstruction /
// CUDA_ERROR_LAUNCH_FAILED on the next synchronisation).
void lowerAsserts(ModuleOp module) {
  SmallVector<cf::AssertOp> asserts;
  module.walk([&](cf::AssertOp op) { asserts.push_back(op); });
  if (asserts.empty())
    return;
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i32 = IntegerType::get(ctx, 32);
  auto vprintf = module.lookupSymbol<LLVM::LLVMFuncOp>("vprintf");
  if (!vprintf) {
    b.setInsertionPointToStart(module.getBody());
    vprintf = LLVM::LLVMFuncOp::create(b, module.getLoc(), "vprintf",
                                       LLVM::LLVMFunctionType::get(i32, {ptr, ptr}));
  }
  for (auto [i, op] : llvm::enumerate(asserts)) {
    Location loc = op.getLoc();
    // The message as a printf format: '%' doubled, a newline, a NUL.
    std::string text;
    for (char c : op.getMsg())
      text += c == '%' ? std::string("%%") : std::string(1, c);
    text += '\n';
    text.push_back('\0');
    b.setInsertionPointToStart(module.getBody());
    auto type = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), text.size());
    std::string name = "__tl_assert_msg_" + std::to_string(i);
    auto global = LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true,
                                         LLVM::Linkage::Internal, name, b.getStringAttr(text));
    Block *before = op->getBlock();
    Block *cont = before->splitBlock(std::next(op->getIterator()));
    Block *fail = b.createBlock(cont);
    b.setInsertionPointToStart(fail);
    Value fmt = LLVM::AddressOfOp::create(b, loc, global);
    Value null = LLVM::ZeroOp::create(b, loc, ptr);
    LLVM::CallOp::create(b, loc, vprintf, ValueRange{fmt, null});
    LLVM::Trap::create(b, loc);
    LLVM::UnreachableOp::create(b, loc);
    b.setInsertionPointToEnd(before);
    cf::CondBranchOp::create(b, loc, op.getArg(), cont, fail);
    op.erase();
  }
}

// Finishes the conversion to the LLVM dialect: the tl lowering leaves scf,
// arith (on index), cf and a few math ops inside llvm.func bodies.
LogicalResult finishLLVMConversion(ModuleOp module) {
  MLIRContext *ctx = module.getContext();
  {
    PassManager pm(ctx);
    pm.addPass(createSCFToControlFlowPass());
    if (failed(pm.run(module)))
      return failure();
  }
  lowerAsserts(module);
  {
    // Only the integer divisions and scaled conversions need expanding:
    // arith.maxnumf/minnumf stay whole so they become max.f32/min.f32, not a
    // compare and a select (attention's running max is on the critical path).
    RewritePatternSet expand(ctx);
    arith::populateCeilFloorDivExpandOpsPatterns(expand);
    arith::populateExpandScalingExtTruncPatterns(expand);
    if (failed(applyPatternsGreedily(module, std::move(expand))))
      return failure();
  }
  // Index arithmetic (thread ids, coordinates, loop counters) in 32 bits, as
  // GPU code wants it; global element offsets are computed in 64 bits by the
  // lowering (globalIndex) where they may pass 2^31.
  LowerToLLVMOptions options(ctx);
  options.overrideIndexBitwidth(32);
  LLVMTypeConverter converter(ctx, options);
  RewritePatternSet patterns(ctx);
  arith::populateArithToLLVMConversionPatterns(converter, patterns);
  cf::populateControlFlowToLLVMConversionPatterns(converter, patterns);
  populateMathToLLVMConversionPatterns(converter, patterns);
  index::populateIndexToLLVMConversionPatterns(converter, patterns);
  LLVMConversionTarget target(*ctx);
  target.addLegalOp<ModuleOp>();
  target.addLegalDialect<NVVM::NVVMDialect>();
  if (failed(applyPartialConversion(module, target, std::move(patterns))))
    return failure();
  PassManager pm(ctx);
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  return pm.run(module);
}

std::unique_ptr<llvm::Module> toLLVMModule(ModuleOp module, llvm::LLVMContext &llvmCtx) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  module.getContext()->appendDialectRegistry(registry);
  if (failed(finishLLVMConversion(module)))
    return nullptr;
  auto llvmModule = translateModuleToLLVMIR(module, llvmCtx, "tlc");
  if (!llvmModule) {
    if (std::getenv("TLC_DUMP_LOWERING"))
      module.print(llvm::errs());
    emitError(module.getLoc()) << "translation to LLVM IR failed";
    return nullptr;
  }
  llvmModule->setTargetTriple(llvm::Triple("nvptx64-nvidia-cuda"));
  // Inline PTX such as bar.sync and the .sync.aligned tcgen05/wgmma forms
  // must run in whole warps at one place: convergent keeps LLVM from
  // duplicating it into divergent branches (as clang marks CUDA calls).
  for (llvm::Function &f : *llvmModule)
    for (llvm::BasicBlock &bb : f)
      for (llvm::Instruction &i : bb)
        if (auto *call = llvm::dyn_cast<llvm::CallInst>(&i); call && call->isInlineAsm())
          call->addFnAttr(llvm::Attribute::Convergent);
  return llvmModule;
}

} // namespace

LogicalResult translateToLLVMIR(ModuleOp module, std::string &out) {
  llvm::LLVMContext llvmCtx;
  auto llvmModule = toLLVMModule(module, llvmCtx);
  if (!llvmModule)
    return failure();
  llvm::raw_string_ostream os(out);
  llvmModule->print(os, nullptr);
  return success();
}

LogicalResult translateToPTX(ModuleOp module, const std::string &chip, std::string &out) {
  static std::once_flag initOnce;
  std::call_once(initOnce, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
  llvm::LLVMContext llvmCtx;
  auto llvmModule = toLLVMModule(module, llvmCtx);
  if (!llvmModule)
    return failure();

  llvm::Triple triple("nvptx64-nvidia-cuda");
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return emitError(module.getLoc()) << "NVPTX target unavailable in this LLVM: " << error;
  llvm::TargetOptions targetOptions;
  // Like nvcc's default --fmad=true: a * b + c may become one fma.rn. The CPU
  // target keeps separate roundings; GPU results are checked with tolerances.
  targetOptions.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  std::unique_ptr<llvm::TargetMachine> machine(
      target->createTargetMachine(triple, chip, "+ptx88", targetOptions, llvm::Reloc::Static,
                                  std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return emitError(module.getLoc()) << "cannot create an NVPTX target machine for " << chip;
  llvmModule->setDataLayout(machine->createDataLayout());

  runLLVMO3(*llvmModule, *machine);
  if (llvm::verifyModule(*llvmModule, &llvm::errs()))
    return emitError(module.getLoc()) << "internal error: invalid LLVM IR after optimisation";

  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, os, nullptr, llvm::CodeGenFileType::AssemblyFile))
    return emitError(module.getLoc()) << "NVPTX back end cannot emit assembly";
  codegen.run(*llvmModule);
  out.assign(buffer.begin(), buffer.end());
  return success();
}

} // namespace tlc
