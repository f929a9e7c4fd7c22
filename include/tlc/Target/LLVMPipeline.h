// The LLVM -O3 module pipeline every tlc back end runs before code generation
// (SROA turns fragment arrays into registers, the unroller and instcombine
// clean up the lowerings' index math). Header-only: the back ends live in
// separate libraries.
#ifndef TLC_TARGET_LLVMPIPELINE_H
#define TLC_TARGET_LLVMPIPELINE_H

#include "llvm/IR/Module.h"
#include "llvm/Passes/OptimizationLevel.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Target/TargetMachine.h"

namespace tlc {

inline void runLLVMO3(llvm::Module &module, llvm::TargetMachine &machine) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&machine);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(module, mam);
}

} // namespace tlc

#endif // TLC_TARGET_LLVMPIPELINE_H
