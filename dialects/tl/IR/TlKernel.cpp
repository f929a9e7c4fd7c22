// Kernel-level attributes of the `tl` dialect: tl.kernel, tl.arg_dims and
// tl.params on func.func, tl.unroll on scf.for. The dialect verifies them
// through verifyOperationAttribute, so a malformed kernel dies at the func.
#include "tl/IR/TlDialect.h"
#include "tl/IR/TlOps.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::tl;

bool mlir::tl::isTlKernel(func::FuncOp func) {
  return func && func->hasAttr(kKernelAttrName);
}

static bool isScalarArgType(Type type) {
  return type.isIndex() || type.isInteger(1) || type.isInteger(8) || type.isInteger(16) ||
         type.isInteger(32) || type.isInteger(64) || isa<FloatType>(type);
}

/// Checks one entry of tl.arg_dims against the argument's type.
static LogicalResult verifyArgDims(func::FuncOp func, unsigned index,
                                   Attribute dims) {
  Type type = func.getArgument(index).getType();
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref) {
    auto array = dyn_cast<ArrayAttr>(dims);
    if (isa<UnitAttr>(dims) || (array && array.empty()))
      return success();
    return func.emitOpError("tl.arg_dims entry ")
           << index << " of scalar argument must be a unit attribute or [], got "
           << dims;
  }
  auto array = dyn_cast<ArrayAttr>(dims);
  if (!array)
    return func.emitOpError("tl.arg_dims entry ")
           << index << " of a tensor argument must be an array, got " << dims;
  if (array.size() != static_cast<size_t>(memref.getRank()))
    return func.emitOpError("tl.arg_dims entry ")
           << index << " has " << array.size() << " dims but the argument has rank "
           << memref.getRank();
  for (auto [d, dim] : llvm::enumerate(array.getValue())) {
    if (auto name = dyn_cast<StringAttr>(dim)) {
      if (name.getValue().empty())
        return func.emitOpError("tl.arg_dims entry ")
               << index << " dim " << d << " is an empty string";
      continue;
    }
    auto size = dyn_cast<IntegerAttr>(dim);
    if (!size)
      return func.emitOpError("tl.arg_dims entry ")
             << index << " dim " << d
             << " must be a string expression or an integer, got " << dim;
    int64_t value = size.getValue().getSExtValue();
    if (value < 0)
      return func.emitOpError("tl.arg_dims entry ")
             << index << " dim " << d << " is negative (" << value << ")";
    if (!memref.isDynamicDim(d) && memref.getDimSize(d) != value)
      return func.emitOpError("tl.arg_dims entry ")
             << index << " dim " << d << " is " << value
             << " but the argument type has " << memref.getDimSize(d);
  }
  return success();
}

static LogicalResult verifyKernel(func::FuncOp func) {
  if (func.isExternal())
    return func.emitOpError("tl.kernel function must have a body");
  if (func.getNumResults() != 0)
    return func.emitOpError("tl.kernel function must not return values");

  bool hasDynamicDims = false;
  for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
    Type type = arg.getType();
    if (auto memref = dyn_cast<MemRefType>(type)) {
      if (getMemScope(memref) != MemScope::Global)
        return func.emitOpError("tl.kernel argument ")
               << i << " must be a memref in #tl.scope<global>, got " << type;
      hasDynamicDims |= !memref.hasStaticShape();
      continue;
    }
    if (!isScalarArgType(type))
      return func.emitOpError("tl.kernel argument ")
             << i << " must be a global memref or a scalar, got " << type;
  }

  if (auto dims = func->getAttr(kArgDimsAttrName)) {
    auto array = dyn_cast<ArrayAttr>(dims);
    if (!array)
      return func.emitOpError("tl.arg_dims must be an array, got ") << dims;
    if (array.size() != func.getNumArguments())
      return func.emitOpError("tl.arg_dims has ")
             << array.size() << " entries but the kernel has "
             << func.getNumArguments() << " arguments";
    for (auto [i, entry] : llvm::enumerate(array.getValue()))
      if (failed(verifyArgDims(func, i, entry)))
        return failure();
  } else if (hasDynamicDims) {
    return func.emitOpError(
        "tl.kernel with dynamically shaped arguments needs tl.arg_dims");
  }

  unsigned launches = 0;
  func.walk([&](LaunchOp) { ++launches; });
  if (launches != 1)
    return func.emitOpError("tl.kernel body must contain exactly one tl.launch, found ")
           << launches;
  return success();
}

LogicalResult TlDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == kUnrollAttrName) {
    if (!isa<scf::ForOp>(op))
      return op->emitError("tl.unroll applies only to scf.for");
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError("tl.unroll must be a unit attribute");
    return success();
  }
  if (name == kSmemBytesAttrName || name == kTmemColumnsAttrName) {
    if (!isa<LaunchOp>(op))
      return op->emitError(name) << " applies only to tl.launch";
    if (!isa<IntegerAttr>(attr.getValue()))
      return op->emitError(name) << " must be an integer";
    return success();
  }
  if (name == kOffsetAttrName) {
    if (!isa<AllocSharedOp, AllocBarrierOp, AllocTmemOp>(op))
      return op->emitError(
          "tl.offset applies only to tl.alloc_shared, tl.alloc_barrier and tl.alloc_tmem");
    auto v = dyn_cast<IntegerAttr>(attr.getValue());
    if (!v || v.getInt() < 0)
      return op->emitError("tl.offset must be a non-negative integer");
    return success();
  }
  if (name == kScratchAttrName) {
    auto v = dyn_cast<IntegerAttr>(attr.getValue());
    if (!v || v.getInt() < 0)
      return op->emitError("tl.scratch must be a non-negative integer");
    return success();
  }
  if (name == kPipelineStateAttrName || name == kPersistentAttrName ||
      name == kAsyncProxyAttrName) {
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError(name) << " must be a unit attribute";
    return success();
  }
  // Set by --tl-cpu-thread-loops (lib/Conversion/TlToCPU/ThreadLoops.cpp) on
  // the scf.for loops over a block's threads; only that pass and the CPU
  // lowering read it, so it is not in TlDialect.h.
  if (name == "tl.thread_loop") {
    if (!isa<UnitAttr>(attr.getValue()) || op->getName().getStringRef() != "scf.for")
      return op->emitError("tl.thread_loop must be a unit attribute on scf.for");
    return success();
  }
  if (name == kCopyWarpsAttrName) {
    auto v = dyn_cast<IntegerAttr>(attr.getValue());
    if (!isa<CopyOp>(op) || !v || v.getInt() < 1 || v.getInt() > 32)
      return op->emitError("tl.copy_warps must be an integer from 1 to 32 on a tl.copy");
    return success();
  }
  if (name == kProducerAttrName) {
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError("tl.producer must be a unit attribute");
    return success();
  }
  if (name == kBoundsAttrName) {
    if (!isa<memref::LoadOp, memref::StoreOp, AtomicAddOp>(op))
      return op->emitError("tl.bounds applies only to memref.load, memref.store and tl.atomic_add");
    auto v = dyn_cast<StringAttr>(attr.getValue());
    if (!v || !llvm::is_contained({kBoundsProven, kBoundsGuard, kBoundsCheck, kBoundsUnchecked},
                                  v.getValue()))
      return op->emitError("tl.bounds must be \"proven\", \"guard\", \"check\" or \"unchecked\"");
    return success();
  }
  if (name == kTmaMapsAttrName) {
    auto maps = dyn_cast<ArrayAttr>(attr.getValue());
    if (!isa<func::FuncOp>(op) || !maps ||
        !llvm::all_of(maps, [](Attribute a) { return isa<DictionaryAttr>(a); }))
      return op->emitError("tl.tma_maps must be an array of dictionaries on a kernel");
    return success();
  }
  // tl.arg_dtypes: the language dtype of each argument ("uint32" where the
  // signless i32 does not say), for the manifest.
  if (name == "tl.arg_dtypes") {
    auto names = dyn_cast<ArrayAttr>(attr.getValue());
    if (!isa<func::FuncOp>(op) || !names ||
        !llvm::all_of(names, [](Attribute a) { return isa<StringAttr>(a); }))
      return op->emitError("tl.arg_dtypes must be an array of strings on a kernel");
    return success();
  }
  if (name != kKernelAttrName && name != kArgDimsAttrName &&
      name != kParamsAttrName)
    return op->emitError("unknown tl attribute '") << name << "'";

  auto func = dyn_cast<func::FuncOp>(op);
  if (!func)
    return op->emitError(name) << " applies only to func.func";
  if (name == kParamsAttrName && !isa<DictionaryAttr>(attr.getValue()))
    return op->emitError("tl.params must be a dictionary, got ") << attr.getValue();
  if (name != kKernelAttrName) {
    if (!isTlKernel(func))
      return op->emitError(name) << " requires the tl.kernel attribute";
    return success(); // checked with the kernel, once
  }
  if (!isa<UnitAttr>(attr.getValue()))
    return op->emitError("tl.kernel must be a unit attribute");
  return verifyKernel(func);
}
