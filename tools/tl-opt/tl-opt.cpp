// tl-opt: the MLIR optimiser driver with the tl dialect, the upstream
// dialects tl kernels are built from or lowered to, and all upstream passes.
#include "tl/IR/TlDialect.h"
#include "tl/Transforms/Passes.h"
#include "tlc/Conversion/TlToCPU.h"
#include "tlc/Conversion/TlToNVVM.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::tl::TlDialect, mlir::arith::ArithDialect,
                  mlir::cf::ControlFlowDialect, mlir::func::FuncDialect,
                  mlir::gpu::GPUDialect, mlir::index::IndexDialect,
                  mlir::LLVM::LLVMDialect, mlir::NVVM::NVVMDialect,
                  mlir::math::MathDialect, mlir::memref::MemRefDialect,
                  mlir::nvgpu::NVGPUDialect, mlir::scf::SCFDialect,
                  mlir::vector::VectorDialect>();
  // Interfaces the upstream lowering passes (convert-to-llvm, ...) look up.
  mlir::registerAllExtensions(registry);
  mlir::registerAllPasses();
  mlir::tl::registerTlPasses();
  tlc::registerTlToCPUPasses();
  tlc::registerTlToNVVMPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tl optimizer driver\n", registry));
}
