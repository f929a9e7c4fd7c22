// Kernel manifest (docs/abi.md, version 1) from a tl kernel function.
#include "tlc/Target/Manifest.h"

#include "tl/IR/TlOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace json = llvm::json;

namespace tlc {

std::string manifestDtypeName(Type t) {
  if (t.isBF16())
    return "bfloat16";
  if (t.isF16())
    return "float16";
  if (t.isF32())
    return "float32";
  if (t.isInteger(1))
    return "bool";
  if (t.isInteger(8))
    return "int8";
  if (t.isInteger(16))
    return "uint16"; // the one 16-bit integer dtype
  if (t.isInteger(32))
    return "int32";
  if (t.isInteger(64) || t.isIndex())
    return "int64";
  if (isa<Float8E4M3FNType>(t))
    return "float8_e4m3";
  if (isa<Float8E5M2Type>(t))
    return "float8_e5m2";
  if (isa<Float4E2M1FNType>(t))
    return "float4_e2m1";
  if (isa<Float8E8M0FNUType>(t))
    return "ue8m0";
  return "";
}

namespace {

/// The grid expression of docs/abi.md for an index value computed from the
/// kernel's arguments.
FailureOr<json::Value> gridExpr(Value v, func::FuncOp kernel) {
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (arg.getOwner() == &kernel.getBody().front() && isa<IntegerType, IndexType>(arg.getType()))
      return json::Value(json::Object{{"scalar", static_cast<int64_t>(arg.getArgNumber())}});
    return emitError(arg.getLoc(), "a grid size of kernel '")
           << kernel.getName() << "' depends on a value the manifest cannot express";
  }
  Operation *op = v.getDefiningOp();
  if (auto c = dyn_cast<arith::ConstantOp>(op))
    if (auto ia = dyn_cast<IntegerAttr>(c.getValue()))
      return json::Value(ia.getValue().getSExtValue());
  if (auto dim = dyn_cast<memref::DimOp>(op)) {
    auto arg = dyn_cast<BlockArgument>(dim.getSource());
    std::optional<int64_t> d = dim.getConstantIndex();
    if (arg && d && arg.getOwner() == &kernel.getBody().front())
      return json::Value(json::Object{
          {"dim", json::Array{static_cast<int64_t>(arg.getArgNumber()), *d}}});
  }
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp, arith::ExtUIOp>(op))
    return gridExpr(op->getOperand(0), kernel);
  const char *name = llvm::TypeSwitch<Operation *, const char *>(op)
                         .Case<arith::AddIOp>([](auto) { return "add"; })
                         .Case<arith::SubIOp>([](auto) { return "sub"; })
                         .Case<arith::MulIOp>([](auto) { return "mul"; })
                         .Case<arith::FloorDivSIOp, arith::DivUIOp>([](auto) { return "floordiv"; })
                         .Case<arith::CeilDivSIOp, arith::CeilDivUIOp>([](auto) { return "ceildiv"; })
                         .Case<arith::RemSIOp, arith::RemUIOp>([](auto) { return "rem"; })
                         .Case<arith::MaxSIOp, arith::MaxUIOp>([](auto) { return "max"; })
                         .Case<arith::MinSIOp, arith::MinUIOp>([](auto) { return "min"; })
                         .Default([](auto) { return nullptr; });
  if (name && op->getNumOperands() == 2) {
    FailureOr<json::Value> l = gridExpr(op->getOperand(0), kernel);
    if (failed(l))
      return failure();
    FailureOr<json::Value> r = gridExpr(op->getOperand(1), kernel);
    if (failed(r))
      return failure();
    return json::Value(json::Object{{"op", name}, {"args", json::Array{*l, *r}}});
  }
  return op->emitError("a grid size of kernel '")
         << kernel.getName() << "' is computed by '" << op->getName()
         << "', which the manifest's grid expressions cannot express";
}

int64_t sharedBytes(tl::LaunchOp launch) {
  if (auto attr = launch->getAttrOfType<IntegerAttr>(tl::kSmemBytesAttrName))
    return attr.getInt();
  int64_t bytes = 0;
  launch.walk([&](Operation *op) {
    if (auto alloc = dyn_cast<tl::AllocSharedOp>(op))
      bytes += tl::getBufferBytes(alloc.getResult().getType());
    else if (auto bar = dyn_cast<tl::AllocBarrierOp>(op))
      bytes = (bytes + 7) / 8 * 8 + bar.getResult().getType().getCount() * 8;
  });
  return bytes;
}

} // namespace

FailureOr<json::Object> buildKernelManifest(func::FuncOp kernel,
                                            const KernelManifestOptions &options) {
  tl::LaunchOp launch;
  kernel.walk([&](tl::LaunchOp l) { launch = l; });
  if (!launch)
    return kernel.emitError("kernel '") << kernel.getName() << "' has no tl.launch";

  json::Object k;
  k["name"] = kernel.getName().str();
  k["entry"] = options.entry.empty() ? kernel.getName().str() : options.entry;

  json::Object constants;
  if (auto params = kernel->getAttrOfType<DictionaryAttr>(tl::kParamsAttrName)) {
    for (NamedAttribute p : params) {
      Attribute a = p.getValue();
      if (auto b = dyn_cast<BoolAttr>(a))
        constants[p.getName().str()] = b.getValue();
      else if (auto i = dyn_cast<IntegerAttr>(a))
        constants[p.getName().str()] = i.getType().isInteger(1) ? json::Value(i.getInt() != 0)
                                                               : json::Value(i.getInt());
      else if (auto f = dyn_cast<FloatAttr>(a))
        constants[p.getName().str()] = f.getValueAsDouble();
      // dtype and string parameters are left out: abi.md's constants are
      // numbers and booleans (the runtime rejects anything else).
    }
  }
  k["constants"] = std::move(constants);

  auto argDims = kernel->getAttrOfType<ArrayAttr>(tl::kArgDimsAttrName);
  json::Array params;
  for (BlockArgument arg : kernel.getArguments()) {
    unsigned i = arg.getArgNumber();
    json::Object p;
    std::string name;
    if (i < options.paramNames.size())
      name = options.paramNames[i];
    else if (auto nl = dyn_cast<NameLoc>(arg.getLoc()))
      name = nl.getName().str();
    else
      name = "arg" + std::to_string(i);
    p["name"] = name;
    Type t = arg.getType();
    Type elem = t;
    if (auto mt = dyn_cast<MemRefType>(t)) {
      p["kind"] = "tensor";
      elem = mt.getElementType();
      json::Array shape;
      ArrayAttr dims = argDims && i < argDims.size() ? dyn_cast<ArrayAttr>(argDims[i]) : ArrayAttr();
      for (int64_t d = 0; d < mt.getRank(); ++d) {
        Attribute e = dims && d < static_cast<int64_t>(dims.size()) ? dims[d] : Attribute();
        if (auto s = dyn_cast_or_null<StringAttr>(e))
          shape.push_back(s.getValue().str());
        else if (auto ia = dyn_cast_or_null<IntegerAttr>(e))
          shape.push_back(ia.getInt());
        else if (!mt.isDynamicDim(d))
          shape.push_back(mt.getDimSize(d));
        else
          return kernel.emitError("parameter '")
                 << name << "' of kernel '" << kernel.getName()
                 << "' has a dynamic dimension without a tl.arg_dims entry";
      }
      p["shape"] = std::move(shape);
    } else {
      p["kind"] = "scalar";
    }
    std::string dtype = manifestDtypeName(elem);
    // MLIRGen names the dtypes where a signless integer type is ambiguous.
    if (auto names = kernel->getAttrOfType<ArrayAttr>("tl.arg_dtypes"))
      if (i < names.size())
        if (auto n = dyn_cast<StringAttr>(names[i]))
          dtype = n.getValue().str();
    if (dtype.empty())
      return kernel.emitError("parameter '")
             << name << "' of kernel '" << kernel.getName() << "' has type " << t
             << ", which has no manifest dtype";
    p["dtype"] = dtype;
    params.push_back(std::move(p));
  }
  k["params"] = std::move(params);

  k["threads"] = json::Array{launch.getThreads(), 1, 1};
  json::Array grid;
  for (Value g : launch.getGrid()) {
    FailureOr<json::Value> e = gridExpr(g, kernel);
    if (failed(e))
      return failure();
    grid.push_back(std::move(*e));
  }
  while (grid.size() < 3)
    grid.push_back(1);
  k["grid"] = std::move(grid);
  json::Array cluster;
  if (auto c = launch.getCluster())
    for (int64_t v : *c)
      cluster.push_back(v);
  while (cluster.size() < 3)
    cluster.push_back(1);
  k["cluster"] = std::move(cluster);
  k["shared_bytes"] = sharedBytes(launch);
  json::Array tma;
  for (const ManifestTma &t : options.tma) {
    json::Array box;
    for (int64_t b : t.box)
      box.push_back(b);
    tma.push_back(json::Object{
        {"param", t.param}, {"dtype", t.dtype}, {"box", std::move(box)}, {"swizzle", t.swizzle}});
  }
  k["tma"] = std::move(tma);
  return k;
}

std::string renderManifest(llvm::StringRef target, llvm::StringRef module,
                           llvm::StringRef source, std::vector<json::Object> kernels) {
  json::Array ks;
  // Several kernels of one file form a multi-kernel operator: the runtime's
  // Module::launchSequence launches them in file order (docs/abi.md).
  json::Array sequence;
  for (json::Object &k : kernels) {
    if (const json::Value *name = k.get("name"))
      sequence.push_back(*name);
    ks.push_back(std::move(k));
  }
  json::Object doc{{"format", "tlc-manifest"}, {"version", 1},         {"target", target.str()},
                   {"module", module.str()},   {"source", source.str()}, {"kernels", std::move(ks)}};
  if (sequence.size() > 1)
    doc["sequence"] = std::move(sequence);
  std::string out;
  llvm::raw_string_ostream os(out);
  os << llvm::formatv("{0:2}", json::Value(std::move(doc))) << "\n";
  return out;
}

std::string manifestPathFor(llvm::StringRef codePath) {
  llvm::SmallString<256> p(codePath);
  llvm::sys::path::replace_extension(p, "manifest.json");
  return std::string(p.str());
}

} // namespace tlc
