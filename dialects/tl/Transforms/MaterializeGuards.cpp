// tl-materialize-guards: writes the bounds guards tl-guard-global-accesses
// decided.
//
// An access marked `tl.bounds = "guard"` moves into
//   scf.if (i0 <u dim0 && i1 <u dim1 ...) { access } else { zero }
// (an unsigned compare also rejects negative indices; a load yields the zero
// bits of its type, as an out-of-range T.copy element does; a vector atomic
// needs its last lane in range too). One marked "check" gets the same guard
// with a tl.trap in the other branch, whose message names the kernel, the
// access's file:line:col, the tensor (its parameter name) and the index
// values and sizes. The pass runs late -- on the GPU after
// tl-distribute-parallel -- so that the layout and scheduling passes see
// plain element accesses (tl-warp-specialize recomputes global loads for its
// producer, which it cannot do through a region).
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include "llvm/Support/FormatVariadic.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLMATERIALIZEGUARDS
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

/// Zero bits of element type `t` (for ue8m0: code 0, as a TMA zero fill).
Value zeroOf(OpBuilder &b, Location loc, Type t) {
  if (auto ft = dyn_cast<FloatType>(t)) {
    if (ft.isF32() || ft.isF16() || ft.isBF16() || ft.isF64())
      return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, 0.0));
    // Narrow floats: tl.cast of 0.0 gives code 0 for every one of them (the
    // targets keep these types as byte codes, not as LLVM constants).
    Value z = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    return CastOp::create(b, loc, t, z);
  }
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, 0));
}

/// The .tl name of a kernel argument (MLIRGen gives arguments a NameLoc).
std::string tensorName(Value buf) {
  if (auto nl = dyn_cast<NameLoc>(buf.getLoc()))
    return nl.getName().str();
  if (auto arg = dyn_cast<BlockArgument>(buf))
    return llvm::formatv("argument #{0}", arg.getArgNumber()).str();
  return "tensor";
}

std::string locationText(Location loc) {
  if (auto flc = loc->findInstanceOf<FileLineColLoc>())
    return llvm::formatv("{0}:{1}:{2}", flc.getFilename().getValue(), flc.getLine(),
                         flc.getColumn())
        .str();
  return "an unknown location";
}

struct Access {
  Operation *op;
  Value buf;
  SmallVector<Value> indices;
  int64_t lanes = 1;
  StringRef kind;
};

std::optional<Access> asGlobalAccess(Operation *op) {
  Access a{op, {}, {}, 1, {}};
  if (auto ld = dyn_cast<memref::LoadOp>(op)) {
    a.buf = ld.getMemRef();
    a.indices.assign(ld.getIndices().begin(), ld.getIndices().end());
    a.kind = "load";
  } else if (auto st = dyn_cast<memref::StoreOp>(op)) {
    a.buf = st.getMemRef();
    a.indices.assign(st.getIndices().begin(), st.getIndices().end());
    a.kind = "store";
  } else if (auto at = dyn_cast<AtomicAddOp>(op)) {
    a.buf = at.getDst();
    a.indices.assign(at.getIndices().begin(), at.getIndices().end());
    if (auto vt = dyn_cast<VectorType>(at.getValue().getType()))
      a.lanes = vt.getNumElements();
    a.kind = "atomic_add";
  } else {
    return std::nullopt;
  }
  if (getMemScope(a.buf.getType()) != MemScope::Global)
    return std::nullopt;
  return a;
}

void materialize(const Access &a, bool check, StringRef kernel) {
  Operation *op = a.op;
  Location loc = op->getLoc();
  OpBuilder b(op);
  auto type = cast<MemRefType>(a.buf.getType());
  SmallVector<Value> sizes;
  Value ok;
  for (auto [d, idx] : llvm::enumerate(a.indices)) {
    Value size = type.isDynamicDim(d)
                     ? Value(memref::DimOp::create(b, loc, a.buf, d))
                     : Value(arith::ConstantIndexOp::create(b, loc, type.getDimSize(d)));
    sizes.push_back(size);
    Value in = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, idx, size);
    if (d + 1 == a.indices.size() && a.lanes > 1) {
      Value last = arith::AddIOp::create(b, loc, idx,
                                         arith::ConstantIndexOp::create(b, loc, a.lanes - 1));
      in = arith::AndIOp::create(
          b, loc, in, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, last, size));
    }
    ok = ok ? Value(arith::AndIOp::create(b, loc, ok, in)) : in;
  }
  op->removeAttr(kBoundsAttrName);
  if (!ok)
    return; // a 0-D access is always in range
  TypeRange results = op->getResultTypes();
  auto ifOp = scf::IfOp::create(b, loc, results, ok, /*withElseRegion=*/check || !results.empty());
  // The access moves into the then-branch.
  if (results.empty()) {
    op->moveBefore(ifOp.thenBlock()->getTerminator());
  } else {
    op->replaceAllUsesWith(ifOp.getResults());
    op->moveBefore(ifOp.thenBlock(), ifOp.thenBlock()->end());
    b.setInsertionPointToEnd(ifOp.thenBlock());
    scf::YieldOp::create(b, loc, op->getResults());
  }
  if (!ifOp.elseBlock())
    return;
  if (results.empty())
    b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
  else
    b.setInsertionPointToStart(ifOp.elseBlock());
  if (check) {
    std::string holes, shape;
    for (size_t i = 0; i < a.indices.size(); ++i) {
      holes += i ? ", {}" : "{}";
      shape += i ? ", {}" : "{}";
    }
    std::string message = llvm::formatv(
        "kernel '{0}' at {1}: {2} of {3}[{4}] is out of bounds of shape [{5}]", kernel,
        locationText(loc), a.kind, tensorName(a.buf), holes, shape);
    SmallVector<Value> values(a.indices);
    values.append(sizes);
    TrapOp::create(b, loc, message, values);
  }
  if (!results.empty())
    scf::YieldOp::create(b, loc, zeroOf(b, loc, results.front()));
}

struct MaterializeGuards : public tl::impl::TlMaterializeGuardsBase<MaterializeGuards> {
  using TlMaterializeGuardsBase::TlMaterializeGuardsBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<Access> accesses;
    func.walk([&](Operation *op) {
      if (std::optional<Access> a = asGlobalAccess(op))
        accesses.push_back(*a);
    });
    for (const Access &a : accesses) {
      auto decision = a.op->getAttrOfType<StringAttr>(kBoundsAttrName);
      if (!decision)
        continue; // not seen by tl-guard-global-accesses (made by a later pass)
      if (decision.getValue() == kBoundsGuard || decision.getValue() == kBoundsCheck)
        materialize(a, decision.getValue() == kBoundsCheck, func.getName());
    }
  }
};

} // namespace
