// Builds tl kernels through the C++ builders MLIRGen uses and checks that the
// result verifies, prints the documented syntax and that the verifier rejects
// what it should. Guards the builder API against accidental ODS changes.
#include "tl/IR/TlDialect.h"
#include "tl/IR/TlOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <string>

using namespace mlir;

namespace {

class TlBuildersTest : public ::testing::Test {
protected:
  TlBuildersTest() : builder(&context) {
    context.loadDialect<tl::TlDialect, func::FuncDialect, arith::ArithDialect>();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
  }

  std::string print() {
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os);
    return text;
  }

  /// Verifies the module, collecting diagnostics instead of printing them.
  bool verifies(std::string *message = nullptr) {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      if (message)
        *message += diag.str();
      return success();
    });
    return succeeded(verify(*module));
  }

  Value index(int64_t v) {
    return arith::ConstantIndexOp::create(builder, builder.getUnknownLoc(), v);
  }

  MLIRContext context;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
};

TEST_F(TlBuildersTest, GemmKernel) {
  Location loc = builder.getUnknownLoc();
  Type bf16 = builder.getBF16Type(), f32 = builder.getF32Type();
  auto global = tl::getScopedMemRefType({ShapedType::kDynamic, ShapedType::kDynamic},
                                        bf16, tl::MemScope::Global);
  auto func = func::FuncOp::create(builder, loc, "gemm",
                                   builder.getFunctionType({global, global, global}, {}));
  func->setAttr(tl::kKernelAttrName, builder.getUnitAttr());
  auto dims = [&](StringRef a, StringRef b) {
    return builder.getArrayAttr({builder.getStringAttr(a), builder.getStringAttr(b)});
  };
  func->setAttr(tl::kArgDimsAttrName,
                builder.getArrayAttr({dims("M", "K"), dims("N", "K"), dims("M", "N")}));
  func->setAttr(tl::kParamsAttrName,
                builder.getDictionaryAttr(builder.getNamedAttr("BM", builder.getI64IntegerAttr(128))));
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  Value gx = index(4), gy = index(8);

  auto launch = tl::LaunchOp::create(builder, loc, ValueRange{gx, gy}, 256);
  ASSERT_EQ(launch.getBlockIds().size(), 2u);
  builder.setInsertionPoint(launch.getBodyBlock().getTerminator());
  Value bx = launch.getBlockIds()[0], by = launch.getBlockIds()[1];
  Value as = tl::AllocSharedOp::create(
      builder, loc, tl::getScopedMemRefType({128, 64}, bf16, tl::MemScope::Shared));
  Value bs = tl::AllocSharedOp::create(
      builder, loc, tl::getScopedMemRefType({128, 64}, bf16, tl::MemScope::Shared));
  Value acc = tl::AllocFragmentOp::create(
      builder, loc, tl::getScopedMemRefType({128, 128}, f32, tl::MemScope::Fragment));
  Value zero = arith::ConstantOp::create(builder, loc, builder.getF32FloatAttr(0));
  tl::FillOp::create(builder, loc, acc, zero);
  Value tid = tl::ThreadIdOp::create(builder, loc, 0);
  EXPECT_TRUE(tid.getType().isIndex());

  auto loop = tl::PipelinedOp::create(builder, loc, index(0), index(16), index(1), 3);
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(loop.getBodyBlock().getTerminator());
    Value k = loop.getInductionVar();
    tl::CopyOp::create(builder, loc, func.getArgument(0), ValueRange{by, k},
                       ArrayRef<int64_t>{128, 64}, as, ValueRange{},
                       ArrayRef<int64_t>{128, 64}, Value(), Value());
    tl::CopyOp::create(builder, loc, func.getArgument(1), ValueRange{bx, k},
                       ArrayRef<int64_t>{128, 64}, bs, ValueRange{},
                       ArrayRef<int64_t>{128, 64}, Value(), Value());
    tl::GemmOp::create(builder, loc, as, bs, acc, Value(), Value(),
                       /*transpose_a=*/false, /*transpose_b=*/true,
                       /*clear_accum=*/false, tl::GemmPolicy::Square, IntegerAttr());
  }
  auto par = tl::ParallelOp::create(builder, loc, ArrayRef<int64_t>{128, 128});
  EXPECT_EQ(par.getInductionVars().size(), 2u);
  tl::CopyOp::create(builder, loc, acc, ValueRange{}, ArrayRef<int64_t>{128, 128},
                     func.getArgument(2), ValueRange{by, bx},
                     ArrayRef<int64_t>{128, 128}, Value(), Value());
  builder.setInsertionPointToEnd(entry);
  func::ReturnOp::create(builder, loc);

  std::string message;
  EXPECT_TRUE(verifies(&message)) << message;
  std::string text = print();
  EXPECT_NE(text.find("tl.launch grid(%c4, %c8) threads(256) blocks(%arg3, %arg4)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tl.pipelined %arg5 = %c0 to %c16 step %c1 stages(3)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tl.gemm %0, %1, %2 {transpose_b}"), std::string::npos) << text;
  EXPECT_TRUE(tl::isTlKernel(func));
}

TEST_F(TlBuildersTest, BarriersAtomicsAndReduce) {
  Location loc = builder.getUnknownLoc();
  Type f32 = builder.getF32Type();
  auto func = func::FuncOp::create(builder, loc, "k", builder.getFunctionType({}, {}));
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  auto launch = tl::LaunchOp::create(builder, loc, ValueRange{index(1)}, 128,
                                     ArrayRef<int64_t>{2});
  builder.setInsertionPoint(launch.getBodyBlock().getTerminator());
  Value bar = tl::AllocBarrierOp::create(builder, loc, tl::BarrierType::get(&context, 2), 128);
  tl::BarrierWaitOp::create(builder, loc, bar, index(1), index(0));
  Value s = tl::AllocSharedOp::create(
      builder, loc, tl::getScopedMemRefType({64}, f32, tl::MemScope::Shared));
  Value frag = tl::AllocFragmentOp::create(
      builder, loc, tl::getScopedMemRefType({4, 64}, f32, tl::MemScope::Fragment));
  Value one = arith::ConstantOp::create(builder, loc, builder.getF32FloatAttr(1));
  auto prev = tl::AtomicAddOp::create(builder, loc, s, ValueRange{index(3)}, one, true);
  EXPECT_EQ(prev.getPrev().getType(), f32);
  auto noPrev = tl::AtomicAddOp::create(builder, loc, s, ValueRange{index(3)}, one, false);
  EXPECT_FALSE(noPrev.getPrev());
  Value row = tl::AllocFragmentOp::create(
      builder, loc, tl::getScopedMemRefType({4}, f32, tl::MemScope::Fragment));
  tl::ReduceOp::create(builder, loc, tl::ReduceKind::Max, frag, row, 1, /*clear=*/true);
  Value q = tl::CastOp::create(builder, loc, builder.getType<Float8E4M3FNType>(), one);
  tl::PrintOp::create(builder, loc, "q", q);
  builder.setInsertionPointToEnd(entry);
  func::ReturnOp::create(builder, loc);

  std::string message;
  EXPECT_TRUE(verifies(&message)) << message;
  std::string text = print();
  EXPECT_NE(text.find("cluster(2)"), std::string::npos) << text;
  EXPECT_NE(text.find("tl.reduce max"), std::string::npos) << text;
  EXPECT_NE(text.find("tl.alloc_barrier arrive_count(128) : !tl.barrier<2>"),
            std::string::npos)
      << text;
}

TEST_F(TlBuildersTest, VerifierRejectsBadThreads) {
  Location loc = builder.getUnknownLoc();
  auto func = func::FuncOp::create(builder, loc, "k", builder.getFunctionType({}, {}));
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  tl::LaunchOp::create(builder, loc, ValueRange{index(1)}, 100);
  func::ReturnOp::create(builder, loc);
  std::string message;
  EXPECT_FALSE(verifies(&message));
  EXPECT_NE(message.find("threads must be a multiple of 32"), std::string::npos) << message;
}

TEST_F(TlBuildersTest, BufferSizes) {
  auto fp4 = tl::getScopedMemRefType({64, 128}, builder.getType<Float4E2M1FNType>(),
                                     tl::MemScope::Shared);
  EXPECT_EQ(tl::getBufferBytes(fp4), 4096);
  EXPECT_EQ(tl::getMemScope(fp4), tl::MemScope::Shared);
  auto tmem = tl::getScopedMemRefType({128, 256}, builder.getBF16Type(), tl::MemScope::Tmem);
  EXPECT_EQ(tl::getTmemColumns(tmem), 128);
  EXPECT_EQ(tl::getMemScope(MemRefType::get({4}, builder.getF32Type())), std::nullopt);
}

} // namespace
