// tl-lower-to-nvvm: tl kernels (after the tl passes) -> LLVM-dialect GPU
// kernels with NVVM ops and inline PTX.
//
// The kernel frame is built first: an llvm.func with the parameter list of
// docs/abi.md (a pointer and the dynamic sizes per tensor, the scalars, then
// one 128-byte tensor map per TMA copy), the tensors rebuilt as structs of
// pointer and sizes, the block indices, the mbarriers initialised, and the
// launch body moved in. The ops are then converted by the pattern sets of
// the op families (one file each: ThreadAndMemory, Elementwise, Copy,
// Reduce, Atomic, Barrier, GemmWgmma), which a chip (NVIDIATarget) selects.
// What the runtime needs to launch the kernel is left on the llvm.func as
// `tlc.*` attributes and read back by lowerTlKernelsToNVVM for the manifest.
#include "Common.h"

#include "tl/Transforms/Passes.h"
#include "tlc/Conversion/TlToNVVM.h"
#include "tlc/Target/Manifest.h"

#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

namespace tlc {

using namespace mlir;
using namespace tlc::nvvm;

namespace {

/// A launch's thread-block cluster (1 when none).
int64_t clusterX(tl::LaunchOp launch) {
  if (auto c = launch.getCluster(); c && !c->empty())
    return (*c)[0];
  return 1;
}

LogicalResult buildFrame(func::FuncOp func, const NVIDIATarget &target) {
  tl::LaunchOp launch;
  int launches = 0;
  func.walk([&](tl::LaunchOp l) {
    launch = l;
    ++launches;
  });
  if (launches != 1)
    return func.emitError("a kernel needs exactly one T.Kernel launch");
  MLIRContext *ctx = func.getContext();
  Location loc = launch.getLoc();
  OpBuilder b(func);
  int64_t threads = launch.getThreads();
  if (threads % kWarpSize)
    return launch.emitError("the GPU lowering needs a thread count that is a multiple of 32");
  if (auto c = launch.getCluster()) {
    int64_t rest = 1;
    for (size_t i = 1; i < c->size(); ++i)
      rest *= (*c)[i];
    if (rest != 1)
      return launch.emitError() << "on " << target.chip
                                << " a thread-block cluster runs along x, e.g. (2, 1, 1)";
  }

  // --- parameters (docs/abi.md)
  auto ptr0 = LLVM::LLVMPointerType::get(ctx);
  auto ptr1 = LLVM::LLVMPointerType::get(ctx, 1);
  SmallVector<Type> params;
  SmallVector<int64_t> first;
  for (Type t : func.getArgumentTypes()) {
    first.push_back(params.size());
    if (auto mt = dyn_cast<MemRefType>(t)) {
      params.push_back(ptr1);
      for (int64_t d : mt.getShape())
        if (ShapedType::isDynamic(d))
          params.push_back(b.getI64Type());
    } else if (t.isInteger(1)) {
      params.push_back(b.getI8Type());
    } else if (t.isIndex()) {
      params.push_back(b.getI64Type());
    } else {
      params.push_back(t);
    }
  }
  auto maps = func->getAttrOfType<ArrayAttr>(tl::kTmaMapsAttrName);
  int64_t numTma = maps ? maps.size() : 0;
  for (int64_t i = 0; i < numTma; ++i)
    params.push_back(ptr0);

  auto fnType = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), params);
  auto fn = LLVM::LLVMFuncOp::create(b, func.getLoc(), "__tl_lowering_" + func.getName().str(),
                                     fnType);
  fn->setAttr("nvvm.kernel", b.getUnitAttr());
  fn->setAttr("nvvm.maxntid", b.getDenseI32ArrayAttr({static_cast<int32_t>(threads), 1, 1}));
  fn->setAttr("nvvm.minctasm", b.getI32IntegerAttr(1));
  fn->setAttr("tlc_threads", b.getI64IntegerAttr(threads));
  for (int64_t i = params.size() - numTma; i < static_cast<int64_t>(params.size()); ++i) {
    fn.setArgAttr(i, "llvm.byval", TypeAttr::get(LLVM::LLVMArrayType::get(b.getI8Type(), 128)));
    fn.setArgAttr(i, "llvm.align", b.getI64IntegerAttr(64));
    fn.setArgAttr(i, "nvvm.grid_constant", b.getUnitAttr());
  }
  Block *entry = fn.addEntryBlock(b);
  b.setInsertionPointToEnd(entry);

  // --- arguments
  IRMapping map;
  TlTypeConverter tc(ctx, LowerToLLVMOptions(ctx));
  for (auto [i, t] : llvm::enumerate(func.getArgumentTypes())) {
    Value orig = func.getArgument(i);
    int64_t p = first[i];
    if (auto mt = dyn_cast<MemRefType>(t)) {
      Type structT = tc.convertType(mt);
      Value s = LLVM::UndefOp::create(b, loc, structT);
      s = LLVM::InsertValueOp::create(b, loc, s, entry->getArgument(p++), ArrayRef<int64_t>{0});
      for (auto [d, size] : llvm::enumerate(mt.getShape())) {
        Value v = ShapedType::isDynamic(size) ? Value(entry->getArgument(p++))
                                              : cI64(b, loc, size);
        s = LLVM::InsertValueOp::create(b, loc, s, v, ArrayRef<int64_t>{int64_t(d) + 1});
      }
      map.map(orig, UnrealizedConversionCastOp::create(b, loc, mt, s).getResult(0));
    } else if (t.isInteger(1)) {
      map.map(orig, arith::TruncIOp::create(b, loc, b.getI1Type(), entry->getArgument(p)));
    } else if (t.isIndex()) {
      map.map(orig, toIndex(b, loc, entry->getArgument(p)));
    } else {
      map.map(orig, entry->getArgument(p));
    }
  }
  // Values computed before the launch (grid sizes, dims).
  for (Operation &op : func.getBody().front()) {
    if (&op == launch.getOperation())
      break;
    b.clone(op, map);
  }
  Value bids[3] = {toIndex(b, loc, NVVM::BlockIdXOp::create(b, loc, b.getI32Type())),
                   toIndex(b, loc, NVVM::BlockIdYOp::create(b, loc, b.getI32Type())),
                   toIndex(b, loc, NVVM::BlockIdZOp::create(b, loc, b.getI32Type()))};
  for (auto [i, arg] : llvm::enumerate(launch.getBlockIds()))
    map.map(arg, bids[i]);

  // --- mbarriers: initialised by thread 0 before anything runs.
  SmallVector<tl::AllocBarrierOp> barriers;
  launch.walk([&](tl::AllocBarrierOp bar) { barriers.push_back(bar); });
  if (!barriers.empty()) {
    Value tid = threadIdx(b, loc);
    Value isT0 = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, cIndex(b, loc, 0));
    auto ifOp = scf::IfOp::create(b, loc, isT0, /*withElse=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    Value base = sharedAddr32(b, loc, sharedBase(b, loc));
    for (tl::AllocBarrierOp bar : barriers) {
      auto off = bar->getAttrOfType<IntegerAttr>(tl::kOffsetAttrName);
      if (!off)
        return bar.emitError("mbarrier without a shared-memory offset (run tl-allocate-shared)");
      for (int64_t i = 0; i < bar.getResult().getType().getCount(); ++i)
        mbarrierInit(b, loc, arith::AddIOp::create(b, loc, base, cI32(b, loc, off.getInt() + 8 * i)),
                     bar.getArriveCount());
    }
    asmVoid(b, loc, {}, "fence.mbarrier_init.release.cluster;", "~{memory}");
  }
  if (!barriers.empty()) {
    if (clusterX(launch) > 1) {
      asmVoid(b, loc, {}, "barrier.cluster.arrive.release.aligned;", "~{memory}");
      asmVoid(b, loc, {}, "barrier.cluster.wait.acquire.aligned;", "~{memory}");
    } else {
      namedBarrier(b, loc, 0, 0);
    }
  }

  // --- MMA operands in shared memory written by ordinary stores (not only
  // by TMA) must be made visible to the async proxy before the MMA reads
  // them: mark those gemms.
  launch.walk([&](tl::GemmOp g) {
    for (Value operand : {g.getA(), g.getB()}) {
      Value root = operand;
      while (auto v = root.getDefiningOp<tl::ViewOp>())
        root = v.getSrc();
      if (tl::getMemScope(root.getType()) != tl::MemScope::Shared)
        continue;
      SmallVector<Value> bufs{root};
      for (Operation *u : root.getUsers())
        if (auto v = dyn_cast<tl::ViewOp>(u))
          bufs.push_back(v.getResult());
      for (Value buf : bufs)
        for (Operation *u : buf.getUsers()) {
          bool writes = false;
          if (auto st = dyn_cast<memref::StoreOp>(u))
            writes = st.getMemRef() == buf;
          else if (auto c = dyn_cast<tl::CopyOp>(u))
            writes = c.getDst() == buf && !c.getBarrier();
          else if (auto f = dyn_cast<tl::FillOp>(u))
            writes = f.getDst() == buf;
          else if (auto a = dyn_cast<tl::AtomicAddOp>(u))
            writes = a.getDst() == buf;
          if (writes)
            g->setAttr("tlc_fence", b.getUnitAttr());
        }
    }
  });

  // --- the body (pass annotations stay behind)
  for (Operation &op : launch.getBodyBlock().without_terminator())
    b.clone(op, map)->walk([](Operation *o) { o->removeAttr(tl::kProducerAttrName); });
  if (clusterX(launch) > 1) {
    // No block leaves while a peer may still signal its barriers.
    asmVoid(b, loc, {}, "barrier.cluster.arrive.release.aligned;", "~{memory}");
    asmVoid(b, loc, {}, "barrier.cluster.wait.acquire.aligned;", "~{memory}");
  }
  LLVM::ReturnOp::create(b, loc, ValueRange{});

  // --- what the manifest needs
  int64_t smem = 0;
  if (auto s = launch->getAttrOfType<IntegerAttr>(tl::kSmemBytesAttrName))
    smem = s.getInt();
  fn->setAttr("tlc_smem_bytes", b.getI64IntegerAttr(smem));
  fn->setAttr("tlc_cluster", b.getI64IntegerAttr(clusterX(launch)));
  bool ws = false;
  launch.walk([&](tl::WarpSpecializeOp) { ws = true; });
  fn->setAttr("tlc_warp_specialized", b.getBoolAttr(ws));
  fn->setAttr("tlc_persistent", b.getBoolAttr(launch->hasAttr(tl::kPersistentAttrName)));
  if (maps)
    fn->setAttr("tlc_tma_maps", maps);
  fn->setAttr("tlc_name", b.getStringAttr(func.getName()));
  func.erase();
  return success();
}

struct TlLowerToNVVMPass : public PassWrapper<TlLowerToNVVMPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TlLowerToNVVMPass)

  TlLowerToNVVMPass() = default;
  TlLowerToNVVMPass(const TlLowerToNVVMPass &other) : PassWrapper(other) {}
  explicit TlLowerToNVVMPass(StringRef c) { chip = c.str(); }

  StringRef getArgument() const final { return "tl-lower-to-nvvm"; }
  StringRef getDescription() const final {
    return "Lower tl kernels (after the tl passes) to LLVM-dialect GPU kernels: NVVM ops and "
           "inline PTX for TMA, mbarriers, wgmma and tcgen05";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<LLVM::LLVMDialect, NVVM::NVVMDialect, scf::SCFDialect, arith::ArithDialect,
                    math::MathDialect>();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    NVIDIATarget target;
    target.chip = chip;
    SmallVector<func::FuncOp> kernels;
    for (auto f : module.getOps<func::FuncOp>())
      if (tl::isTlKernel(f))
        kernels.push_back(f);
    if (kernels.empty())
      return;
    // Every kernel's frame is built before giving up, so that each kernel
    // of a file that cannot be lowered is reported, not only the first.
    bool framesOk = true;
    for (func::FuncOp f : kernels)
      framesOk &= succeeded(buildFrame(f, target));
    if (!framesOk)
      return signalPassFailure();

    LowerToLLVMOptions options(ctx);
    options.overrideIndexBitwidth(64);
    TlTypeConverter tc(ctx, options);
    RewritePatternSet patterns(ctx);
    populateThreadAndMemoryPatterns(tc, patterns, target);
    populateElementwisePatterns(tc, patterns, target);
    populateCopyPatterns(tc, patterns, target);
    populateReducePatterns(tc, patterns, target);
    populateAtomicPatterns(tc, patterns, target);
    populateBarrierPatterns(tc, patterns, target);
    populateWgmmaPatterns(tc, patterns, target);
    ConversionTarget legal(*ctx);
    legal.addLegalDialect<LLVM::LLVMDialect, NVVM::NVVMDialect, arith::ArithDialect,
                          math::MathDialect, scf::SCFDialect>();
    legal.addIllegalDialect<tl::TlDialect>();
    legal.addIllegalOp<memref::LoadOp, memref::StoreOp, memref::DimOp>();
    legal.addLegalOp<ModuleOp, UnrealizedConversionCastOp>();
    // f32 special functions go to the approximate units (Elementwise).
    legal.addDynamicallyLegalOp<math::Exp2Op, math::ExpOp, math::Log2Op, math::LogOp,
                                math::RsqrtOp, math::TanhOp, math::SinOp, math::CosOp,
                                math::SqrtOp>(
        [](Operation *op) { return !op->getResult(0).getType().isF32(); });
    // Shared memory: one dynamic window, 1024-byte aligned for the swizzles.
    OpBuilder b(ctx);
    b.setInsertionPointToStart(module.getBody());
    if (!module.lookupSymbol("__tl_smem"))
      LLVM::GlobalOp::create(b, module.getLoc(), LLVM::LLVMArrayType::get(b.getI8Type(), 0),
                             /*isConstant=*/false, LLVM::Linkage::External, "__tl_smem",
                             Attribute(), /*alignment=*/1024, /*addrSpace=*/3);
    // A pattern that cannot lower its op says why, at the op; the driver's
    // "failed to legalize operation" that follows for the same op adds
    // nothing for the user, so it is dropped (other diagnostics pass on).
    DenseSet<Location> reported;
    ScopedDiagnosticHandler dropLegalizeEcho(ctx, [&](Diagnostic &diag) {
      if (diag.getSeverity() != DiagnosticSeverity::Error)
        return failure();
      if (reported.contains(diag.getLocation()) &&
          StringRef(diag.str()).starts_with("failed to legalize operation"))
        return success();
      reported.insert(diag.getLocation());
      return failure();
    });
    if (failed(applyPartialConversion(module, legal, std::move(patterns))))
      return signalPassFailure();
    // Swap the kernels in under their names.
    for (auto fn : llvm::make_early_inc_range(module.getOps<LLVM::LLVMFuncOp>()))
      if (auto name = fn->getAttrOfType<StringAttr>("tlc_name"))
        fn.setSymName(name.getValue());
  }

  Option<std::string> chip{*this, "chip", llvm::cl::desc("sm_90a or sm_100a"),
                           llvm::cl::init("sm_90a")};
};

} // namespace

std::unique_ptr<Pass> createTlLowerToNVVMPass(StringRef chip) {
  return std::make_unique<TlLowerToNVVMPass>(chip);
}

void registerTlToNVVMPasses() { PassRegistration<TlLowerToNVVMPass>(); }

void buildTlToNVVMPipeline(OpPassManager &pm, const GpuTargetOptions &options) {
  tl::TlInferLayoutsOptions infer;
  infer.chip = options.chip;
  pm.addNestedPass<func::FuncOp>(tl::createTlInferLayouts(infer));
  tl::TlPipelineOptions pipe;
  pipe.chip = options.chip;
  pm.addNestedPass<func::FuncOp>(tl::createTlPipeline(pipe));
  pm.addNestedPass<func::FuncOp>(tl::createTlPipelineMma());
  tl::TlWarpSpecializeOptions ws;
  ws.producerRegs = options.chip == "sm_100a" ? 80 : 40;
  pm.addNestedPass<func::FuncOp>(tl::createTlWarpSpecialize(ws));
  if (options.chip != "sm_100a")
    pm.addNestedPass<func::FuncOp>(tl::createTlRotateMma());
  pm.addNestedPass<func::FuncOp>(tl::createTlPersistent());
  pm.addNestedPass<func::FuncOp>(tl::createTlDistributeParallel());
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createCSEPass());
  tl::TlAllocateSharedOptions alloc;
  alloc.budget = options.smemLimit;
  pm.addNestedPass<func::FuncOp>(tl::createTlAllocateShared(alloc));
  pm.addPass(createTlLowerToNVVMPass(options.chip));
}

LogicalResult lowerTlKernelsToNVVM(ModuleOp module, const GpuTargetOptions &options,
                                   std::vector<GpuKernelInfo> &kernels, bool printIR) {
  MLIRContext *ctx = module.getContext();
  PassManager pm(ctx);
  if (printIR) {
    ctx->disableMultithreading();
    pm.enableIRPrinting();
  }
  buildTlToNVVMPipeline(pm, options);
  if (failed(pm.run(module)))
    return failure();
  for (auto fn : module.getOps<LLVM::LLVMFuncOp>()) {
    auto name = fn->getAttrOfType<StringAttr>("tlc_name");
    if (!name)
      continue;
    GpuKernelInfo info;
    info.name = name.getValue().str();
    info.threads = fn->getAttrOfType<IntegerAttr>("tlc_threads").getInt();
    info.sharedBytes = fn->getAttrOfType<IntegerAttr>("tlc_smem_bytes").getInt();
    info.cluster = {fn->getAttrOfType<IntegerAttr>("tlc_cluster").getInt(), 1, 1};
    info.warpSpecialized = fn->getAttrOfType<BoolAttr>("tlc_warp_specialized").getValue();
    info.persistent = fn->getAttrOfType<BoolAttr>("tlc_persistent").getValue();
    if (auto maps = fn->getAttrOfType<ArrayAttr>("tlc_tma_maps"))
      for (Attribute a : maps) {
        auto d = cast<DictionaryAttr>(a);
        GpuTmaMap m;
        m.param = d.getAs<IntegerAttr>("param").getInt();
        m.dtype = d.getAs<StringAttr>("dtype").getValue().str();
        m.swizzle = d.getAs<StringAttr>("swizzle").getValue().str();
        for (int64_t x : d.getAs<DenseI64ArrayAttr>("box").asArrayRef())
          m.box.push_back(x);
        m.unpackFP4 = d.get("unpack_fp4") != nullptr;
        info.tma.push_back(m);
      }
    for (StringRef a : {"tlc_name", "tlc_threads", "tlc_smem_bytes", "tlc_cluster",
                        "tlc_warp_specialized", "tlc_persistent", "tlc_tma_maps"})
      fn->removeAttr(a);
    kernels.push_back(info);
  }
  return success();
}

} // namespace tlc
