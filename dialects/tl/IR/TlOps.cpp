// Verifiers, builders and custom syntax of the `tl` operations. The rules
// enforced here are listed per op in docs/dialect.md.
#include "tl/IR/TlOps.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::tl;

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

static LogicalResult verifyInLaunch(Operation *op) {
  if (!op->getParentOfType<LaunchOp>())
    return op->emitOpError("must be nested in a tl.launch");
  return success();
}

static StringRef scopeName(std::optional<MemScope> scope) {
  if (!scope)
    return "no #tl.scope";
  return stringifyMemScope(*scope);
}

/// Checks that `value` is a memref whose #tl.scope is one of `allowed`.
static LogicalResult verifyScope(Operation *op, Value value, StringRef what,
                                 ArrayRef<MemScope> allowed) {
  std::optional<MemScope> scope = getMemScope(value.getType());
  if (scope && llvm::is_contained(allowed, *scope))
    return success();
  InFlightDiagnostic diag = op->emitOpError() << what << " must be in ";
  llvm::interleave(
      allowed, diag, [&](MemScope s) { diag << stringifyMemScope(s); }, " or ");
  diag << " memory, got " << scopeName(scope);
  return diag;
}

static constexpr MemScope kAllScopes[] = {MemScope::Global, MemScope::Shared,
                                          MemScope::Fragment, MemScope::Local,
                                          MemScope::Tmem};
static constexpr MemScope kOnChipScopes[] = {MemScope::Shared, MemScope::Fragment,
                                             MemScope::Local};

static bool isFloat8(Type t) { return isa<Float8E4M3FNType, Float8E5M2Type>(t); }
static bool isNarrowFloat(Type t) { return isFloat8(t) || isa<Float4E2M1FNType>(t); }

/// Index operand that must address one of `count` barriers.
static LogicalResult verifyBarrierIndex(Operation *op, Value barrier, Value index) {
  int64_t count = cast<BarrierType>(barrier.getType()).getCount();
  std::optional<int64_t> constant = getConstantIntValue(index);
  if (constant && (*constant < 0 || *constant >= count))
    return op->emitOpError("barrier index ")
           << *constant << " is out of range for " << count << " barrier(s)";
  return success();
}

static void printShape(InFlightDiagnostic &diag, ArrayRef<int64_t> shape) {
  diag << "(";
  llvm::interleaveComma(shape, diag, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      diag << "?";
    else
      diag << d;
  });
  diag << ")";
}

//===----------------------------------------------------------------------===//
// LaunchOp
//===----------------------------------------------------------------------===//

void LaunchOp::build(OpBuilder &builder, OperationState &state, ValueRange grid,
                     int64_t threads, ArrayRef<int64_t> cluster) {
  state.addOperands(grid);
  Properties &props = state.getOrAddProperties<Properties>();
  props.threads = builder.getI64IntegerAttr(threads);
  if (!cluster.empty())
    props.cluster = builder.getDenseI64ArrayAttr(cluster);
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  for (size_t i = 0; i < grid.size(); ++i)
    block->addArgument(builder.getIndexType(), state.location);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(block);
  YieldOp::create(builder, state.location);
}

ParseResult LaunchOp::parse(OpAsmParser &parser, OperationState &result) {
  Builder &builder = parser.getBuilder();
  SmallVector<OpAsmParser::UnresolvedOperand> grid;
  int64_t threads = 0;
  if (parser.parseKeyword("grid") ||
      parser.parseOperandList(grid, OpAsmParser::Delimiter::Paren) ||
      parser.resolveOperands(grid, builder.getIndexType(), result.operands) ||
      parser.parseKeyword("threads") || parser.parseLParen() ||
      parser.parseInteger(threads) || parser.parseRParen())
    return failure();
  result.addAttribute(getThreadsAttrName(result.name),
                      builder.getI64IntegerAttr(threads));

  if (succeeded(parser.parseOptionalKeyword("cluster"))) {
    SmallVector<int64_t> cluster;
    if (parser.parseCommaSeparatedList(OpAsmParser::Delimiter::Paren, [&]() {
          return parser.parseInteger(cluster.emplace_back());
        }))
      return failure();
    result.addAttribute(getClusterAttrName(result.name),
                        builder.getDenseI64ArrayAttr(cluster));
  }

  SmallVector<OpAsmParser::Argument> blockIds;
  if (parser.parseKeyword("blocks") ||
      parser.parseArgumentList(blockIds, OpAsmParser::Delimiter::Paren))
    return failure();
  for (OpAsmParser::Argument &arg : blockIds)
    arg.type = builder.getIndexType();
  if (parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();

  Region *body = result.addRegion();
  if (parser.parseRegion(*body, blockIds))
    return failure();
  ensureTerminator(*body, builder, result.location);
  return success();
}

void LaunchOp::print(OpAsmPrinter &p) {
  p << " grid(" << getGrid() << ") threads(" << getThreads() << ")";
  if (std::optional<ArrayRef<int64_t>> cluster = getCluster()) {
    p << " cluster(";
    llvm::interleaveComma(*cluster, p);
    p << ")";
  }
  p << " blocks(";
  llvm::interleaveComma(getBlockIds(), p,
                        [&](BlockArgument arg) { p.printOperand(arg); });
  p << ")";
  p.printOptionalAttrDictWithKeyword(
      (*this)->getAttrs(), {getThreadsAttrName(), getClusterAttrName()});
  p << " ";
  p.printRegion(getBody(), /*printEntryBlockArgs=*/false,
                /*printBlockTerminators=*/false);
}

LogicalResult LaunchOp::verify() {
  size_t rank = getGrid().size();
  if (rank < 1 || rank > 3)
    return emitOpError("grid must have 1 to 3 dimensions, got ") << rank;
  int64_t threads = getThreads();
  if (threads < 32 || threads > 1024 || threads % 32 != 0)
    return emitOpError("threads must be a multiple of 32 in [32, 1024], got ")
           << threads;
  if (std::optional<ArrayRef<int64_t>> cluster = getCluster()) {
    if (cluster->empty() || cluster->size() > 3)
      return emitOpError("cluster must have 1 to 3 dimensions, got ")
             << cluster->size();
    int64_t product = 1;
    for (int64_t c : *cluster) {
      if (c < 1)
        return emitOpError("cluster sizes must be positive, got ") << c;
      product *= c;
    }
    if (product > 16)
      return emitOpError("cluster has ") << product << " blocks, at most 16 allowed";
  }
  Block &body = getBodyBlock();
  if (body.getNumArguments() != rank)
    return emitOpError("body must have one block id per grid dimension (")
           << rank << "), got " << body.getNumArguments();
  for (BlockArgument arg : body.getArguments())
    if (!arg.getType().isIndex())
      return emitOpError("block ids must be of type index");
  if ((*this)->getParentOfType<LaunchOp>())
    return emitOpError("must not be nested in another tl.launch");
  return success();
}

//===----------------------------------------------------------------------===//
// ParallelOp
//===----------------------------------------------------------------------===//

void ParallelOp::build(OpBuilder &builder, OperationState &state,
                       ArrayRef<int64_t> extents) {
  state.getOrAddProperties<Properties>().extents =
      builder.getDenseI64ArrayAttr(extents);
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  for (size_t i = 0; i < extents.size(); ++i)
    block->addArgument(builder.getIndexType(), state.location);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(block);
  YieldOp::create(builder, state.location);
}

ParseResult ParallelOp::parse(OpAsmParser &parser, OperationState &result) {
  Builder &builder = parser.getBuilder();
  SmallVector<OpAsmParser::Argument> ivs;
  SmallVector<int64_t> extents;
  if (parser.parseArgumentList(ivs, OpAsmParser::Delimiter::Paren) ||
      parser.parseKeyword("in") ||
      parser.parseCommaSeparatedList(OpAsmParser::Delimiter::Square, [&]() {
        return parser.parseInteger(extents.emplace_back());
      }))
    return failure();
  for (OpAsmParser::Argument &arg : ivs)
    arg.type = builder.getIndexType();
  result.addAttribute(getExtentsAttrName(result.name),
                      builder.getDenseI64ArrayAttr(extents));
  if (parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  Region *body = result.addRegion();
  if (parser.parseRegion(*body, ivs))
    return failure();
  ensureTerminator(*body, builder, result.location);
  return success();
}

void ParallelOp::print(OpAsmPrinter &p) {
  p << " (";
  llvm::interleaveComma(getInductionVars(), p,
                        [&](BlockArgument arg) { p.printOperand(arg); });
  p << ") in [";
  llvm::interleaveComma(getExtents(), p);
  p << "]";
  p.printOptionalAttrDictWithKeyword((*this)->getAttrs(), {getExtentsAttrName()});
  p << " ";
  p.printRegion(getBody(), /*printEntryBlockArgs=*/false,
                /*printBlockTerminators=*/false);
}

LogicalResult ParallelOp::verify() {
  ArrayRef<int64_t> extents = getExtents();
  if (extents.empty())
    return emitOpError("needs at least one extent");
  for (int64_t e : extents)
    if (e < 1)
      return emitOpError("extents must be positive, got ") << e;
  if (getBodyBlock().getNumArguments() != extents.size())
    return emitOpError("body must have one induction variable per extent (")
           << extents.size() << "), got " << getBodyBlock().getNumArguments();
  for (BlockArgument arg : getInductionVars())
    if (!arg.getType().isIndex())
      return emitOpError("induction variables must be of type index");
  if (getLayout() && getLayout()->getShape() != ArrayRef<int64_t>(LinearLayout::padShape(extents)))
    return emitOpError("layout tile must be the extents padded to powers of two");
  return verifyInLaunch(*this);
}

//===----------------------------------------------------------------------===//
// PipelinedOp
//===----------------------------------------------------------------------===//

void PipelinedOp::build(OpBuilder &builder, OperationState &state, Value lowerBound,
                        Value upperBound, Value step, int64_t numStages) {
  state.addOperands({lowerBound, upperBound, step});
  state.getOrAddProperties<Properties>().num_stages =
      builder.getI64IntegerAttr(numStages);
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  block->addArgument(builder.getIndexType(), state.location);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(block);
  YieldOp::create(builder, state.location);
}

ParseResult PipelinedOp::parse(OpAsmParser &parser, OperationState &result) {
  Builder &builder = parser.getBuilder();
  Type index = builder.getIndexType();
  OpAsmParser::Argument iv;
  OpAsmParser::UnresolvedOperand lb, ub, step;
  int64_t stages = 0;
  if (parser.parseArgument(iv) || parser.parseEqual() ||
      parser.parseOperand(lb) || parser.parseKeyword("to") ||
      parser.parseOperand(ub) || parser.parseKeyword("step") ||
      parser.parseOperand(step) || parser.parseKeyword("stages") ||
      parser.parseLParen() || parser.parseInteger(stages) || parser.parseRParen() ||
      parser.resolveOperand(lb, index, result.operands) ||
      parser.resolveOperand(ub, index, result.operands) ||
      parser.resolveOperand(step, index, result.operands))
    return failure();
  iv.type = index;
  result.addAttribute(getNumStagesAttrName(result.name),
                      builder.getI64IntegerAttr(stages));
  if (parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  Region *body = result.addRegion();
  if (parser.parseRegion(*body, {iv}))
    return failure();
  ensureTerminator(*body, builder, result.location);
  return success();
}

void PipelinedOp::print(OpAsmPrinter &p) {
  p << " ";
  p.printOperand(getInductionVar());
  p << " = " << getLowerBound() << " to " << getUpperBound() << " step "
    << getStep() << " stages(" << getNumStages() << ")";
  p.printOptionalAttrDictWithKeyword((*this)->getAttrs(), {getNumStagesAttrName()});
  p << " ";
  p.printRegion(getBody(), /*printEntryBlockArgs=*/false,
                /*printBlockTerminators=*/false);
}

LogicalResult PipelinedOp::verify() {
  if (getNumStages() < 1)
    return emitOpError("num_stages must be at least 1, got ") << getNumStages();
  if (getBodyBlock().getNumArguments() != 1 ||
      !getInductionVar().getType().isIndex())
    return emitOpError("body must have exactly one index induction variable");
  std::optional<int64_t> step = getConstantIntValue(getStep());
  if (step && *step <= 0)
    return emitOpError("step must be positive, got ") << *step;
  return verifyInLaunch(*this);
}

//===----------------------------------------------------------------------===//
// Ids and block-level synchronisation
//===----------------------------------------------------------------------===//

static LogicalResult verifyIdDim(Operation *op, int64_t dim) {
  if (dim < 0 || dim > 2)
    return op->emitOpError("dim must be 0, 1 or 2, got ") << dim;
  return verifyInLaunch(op);
}

LogicalResult ThreadIdOp::verify() { return verifyIdDim(*this, getDim()); }
LogicalResult ElectOp::verify() {
  if (auto w = getWarps()) {
    if (!getWarp())
      return emitOpError("'warps' needs 'warp' (it counts warps, not threads)");
    if (*w < 1 || *w > 32)
      return emitOpError("'warps' must be between 1 and 32, got ") << *w;
  }
  return success();
}
LogicalResult SpecialRegOp::verify() {
  if (!llvm::is_contained({"nctaid.x", "ctaid.x", "clusterid.x", "nclusterid.x", "cluster_ctarank"},
                          getName()))
    return emitOpError("unknown special register '") << getName() << "'";
  return verifyInLaunch(*this);
}
LogicalResult BlockIdOp::verify() { return verifyIdDim(*this, getDim()); }
LogicalResult SyncThreadsOp::verify() { return verifyInLaunch(*this); }

LogicalResult TrapOp::verify() {
  size_t holes = 0;
  for (size_t at = getMessage().find("{}"); at != StringRef::npos;
       at = getMessage().find("{}", at + 2))
    ++holes;
  if (holes != getValues().size())
    return emitOpError("message has ") << holes << " '{}' placeholders for "
                                       << getValues().size() << " values";
  return verifyInLaunch(*this);
}
LogicalResult NamedBarrierOp::verify() {
  int64_t t = getThreads();
  if (t <= 0 || t % 32 != 0)
    return emitOpError("thread count must be a positive multiple of 32, got ") << t;
  if (std::optional<int64_t> id = getConstantIntValue(getId()); id && (*id < 1 || *id > 15))
    return emitOpError("barrier id must be in 1..15 (0 is the whole block), got ") << *id;
  return verifyInLaunch(*this);
}

LogicalResult WarpOp::verify() {
  StringRef k = getKind();
  Type v = getValue().getType(), r = getResult().getType();
  bool shfl = k.starts_with("shfl_");
  if (shfl != static_cast<bool>(getLane()))
    return emitOpError(shfl ? "a shuffle needs a lane operand" : "only shuffles take a lane operand");
  if (k == "shfl_xor" || k == "shfl_down" || k == "shfl_up" || k == "shfl_idx") {
    if (!(v.isInteger(32) || v.isF32()) || r != v)
      return emitOpError("a shuffle moves a 32-bit value (i32 or f32) and returns its type");
  } else if (k == "any" || k == "all") {
    if (!v.isInteger(1) || !r.isInteger(1))
      return emitOpError("a vote takes and returns i1");
  } else if (k == "ballot") {
    if (!v.isInteger(1) || !r.isInteger(32))
      return emitOpError("a ballot takes i1 and returns i32");
  } else if (k == "match_any") {
    if (!(v.isInteger(32) || v.isInteger(64)) || !r.isInteger(32))
      return emitOpError("match_any takes i32 or i64 and returns i32");
  } else {
    return emitOpError("unknown warp exchange '") << k << "'";
  }
  return verifyInLaunch(*this);
}

//===----------------------------------------------------------------------===//
// Allocation
//===----------------------------------------------------------------------===//

static LogicalResult verifyAlloc(Operation *op, MemScope scope) {
  auto type = cast<MemRefType>(op->getResult(0).getType());
  if (getMemScope(type) != scope)
    return op->emitOpError("result must be in #tl.scope<")
           << stringifyMemScope(scope) << ">, got " << scopeName(getMemScope(type));
  if (!type.getLayout().isIdentity())
    return op->emitOpError("result must have the identity layout");
  if (type.getRank() == 0)
    return op->emitOpError("result must have at least one dimension");
  for (int64_t d : type.getShape())
    if (d < 1)
      return op->emitOpError("dimensions must be positive, got ") << d;
  if (std::optional<LinearLayout> layout = getBufferLayout(type)) {
    if (layout->getOutShape() != ArrayRef<int64_t>(LinearLayout::padShape(type.getShape())))
      return op->emitOpError("layout tile [")
             << layout->getOutShape() << "] is not the buffer shape padded to powers of two";
    bool registers = scope != MemScope::Shared && scope != MemScope::Global;
    if (registers != layout->isRegisterLayout() ||
        (!registers && layout->getInBits(LinearLayout::Offset) != layout->getOutBits()))
      return op->emitOpError(registers ? "a register-resident buffer needs a reg/lane/warp layout"
                                       : "a shared buffer needs an offset layout covering it");
  }
  return verifyInLaunch(op);
}

LogicalResult AllocSharedOp::verify() { return verifyAlloc(*this, MemScope::Shared); }
LogicalResult AllocFragmentOp::verify() {
  return verifyAlloc(*this, MemScope::Fragment);
}
LogicalResult AllocLocalOp::verify() { return verifyAlloc(*this, MemScope::Local); }

LogicalResult AllocTmemOp::verify() {
  if (failed(verifyAlloc(*this, MemScope::Tmem)))
    return failure();
  MemRefType type = getResult().getType();
  if (isa<Float8E8M0FNUType>(type.getElementType())) {
    // Block scales in the placement tcgen05.cp gives them: [rows, chunks]
    // or a ring of those, [slots, rows, chunks].
    if (type.getRank() != 2 && type.getRank() != 3)
      return emitOpError("tmem block scales are [rows, K / 32] or [slots, rows, K / 32], got rank ")
             << type.getRank();
    int64_t rows = type.getDimSize(type.getRank() - 2);
    int64_t chunks = type.getDimSize(type.getRank() - 1);
    if (rows % 128 != 0 || chunks % 4 != 0)
      return emitOpError("tmem block scales need rows in multiples of 128 and K / 32 in "
                         "multiples of 4 (one 32-bit word of scales per row), got ")
             << rows << "x" << chunks;
  } else if (type.getRank() != 2) {
    return emitOpError("tmem buffers must be 2-D (lanes x columns), got rank ")
           << type.getRank();
  } else if (type.getDimSize(0) > 128) {
    return emitOpError("tmem buffers have at most 128 lanes, got ")
           << type.getDimSize(0);
  }
  int64_t columns = getTmemColumns(type);
  if (columns > 512)
    return emitOpError("tmem buffer needs ")
           << columns << " 32-bit columns, at most 512 available";
  return success();
}

//===----------------------------------------------------------------------===//
// Barriers
//===----------------------------------------------------------------------===//

LogicalResult AllocBarrierOp::verify() {
  int64_t arrive = getArriveCount();
  // mbarrier arrival counts are 20-bit.
  if (arrive < 1 || arrive >= (1 << 20))
    return emitOpError("arrive_count must be in [1, 2^20), got ") << arrive;
  return verifyInLaunch(*this);
}

LogicalResult BarrierArriveOp::verify() {
  if (failed(verifyBarrierIndex(*this, getBarrier(), getIndex())))
    return failure();
  return verifyInLaunch(*this);
}

LogicalResult MmaCommitOp::verify() {
  if (failed(verifyBarrierIndex(*this, getBarrier(), getIndex())))
    return failure();
  return verifyInLaunch(*this);
}

LogicalResult MmaWaitOp::verify() {
  if (getPendingAttr().getInt() < 0)
    return emitOpError("pending must be non-negative, got ") << getPendingAttr().getInt();
  if (!getBarrier())
    return success();
  if (!getBarrierIndex() || !getParity())
    return emitOpError("a barrier needs an index and a parity");
  if (getPending() != 0)
    return emitOpError("waits on a barrier for every MMA committed to it: pending must be 0");
  if (failed(verifyBarrierIndex(*this, getBarrier(), getBarrierIndex())))
    return failure();
  std::optional<int64_t> parity = getConstantIntValue(getParity());
  if (parity && *parity != 0 && *parity != 1)
    return emitOpError("parity must be 0 or 1, got ") << *parity;
  return verifyInLaunch(*this);
}

LogicalResult BarrierExpectTxOp::verify() {
  if (failed(verifyBarrierIndex(*this, getBarrier(), getIndex())))
    return failure();
  std::optional<int64_t> bytes = getConstantIntValue(getBytes());
  if (bytes && *bytes < 0)
    return emitOpError("bytes must not be negative, got ") << *bytes;
  return verifyInLaunch(*this);
}

LogicalResult BarrierWaitOp::verify() {
  if (failed(verifyBarrierIndex(*this, getBarrier(), getIndex())))
    return failure();
  std::optional<int64_t> parity = getConstantIntValue(getParity());
  if (parity && *parity != 0 && *parity != 1)
    return emitOpError("parity must be 0 or 1, got ") << *parity;
  return verifyInLaunch(*this);
}

//===----------------------------------------------------------------------===//
// CopyOp
//===----------------------------------------------------------------------===//

/// Checks one side of a copy: offsets, sizes and, for on-chip buffers, bounds.
static LogicalResult verifyCopyRegion(Operation *op, StringRef what, Value buffer,
                                      ValueRange offsets, ArrayRef<int64_t> sizes) {
  auto type = cast<MemRefType>(buffer.getType());
  std::optional<MemScope> scope = getMemScope(type);
  if (!scope)
    return op->emitOpError() << what << " must have a #tl.scope memory space";
  int64_t rank = type.getRank();
  if (!offsets.empty() && static_cast<int64_t>(offsets.size()) != rank)
    return op->emitOpError() << what << " has " << offsets.size()
                             << " offsets but rank " << rank;
  if (static_cast<int64_t>(sizes.size()) != rank)
    return op->emitOpError() << what << " has " << sizes.size()
                             << " sizes but rank " << rank;
  for (int64_t d = 0; d < rank; ++d) {
    if (sizes[d] < 1)
      return op->emitOpError() << what << " size " << sizes[d] << " in dim " << d
                               << " must be positive";
    // Global regions may hang over the edge (read as 0, not written).
    if (*scope == MemScope::Global || type.isDynamicDim(d))
      continue;
    int64_t offset = 0;
    if (!offsets.empty()) {
      std::optional<int64_t> constant = getConstantIntValue(offsets[d]);
      if (!constant)
        continue;
      offset = *constant;
    }
    if (offset < 0 || offset + sizes[d] > type.getDimSize(d))
      return op->emitOpError() << what << " region [" << offset << ", "
                               << offset + sizes[d] << ") is out of bounds in dim "
                               << d << " of size " << type.getDimSize(d);
  }
  return success();
}

static SmallVector<int64_t> squeeze(ArrayRef<int64_t> sizes) {
  SmallVector<int64_t> result;
  for (int64_t s : sizes)
    if (s != 1)
      result.push_back(s);
  return result;
}

LogicalResult CopyOp::verify() {
  if (failed(verifyCopyRegion(*this, "source", getSrc(), getSrcOffsets(),
                              getSrcSizes())) ||
      failed(verifyCopyRegion(*this, "destination", getDst(), getDstOffsets(),
                              getDstSizes())))
    return failure();
  SmallVector<int64_t> srcShape = squeeze(getSrcSizes());
  SmallVector<int64_t> dstShape = squeeze(getDstSizes());
  if (srcShape != dstShape) {
    InFlightDiagnostic diag = emitOpError("source region shape ");
    printShape(diag, srcShape);
    diag << " does not match destination region shape ";
    printShape(diag, dstShape);
    diag << " (unit dimensions dropped)";
    return diag;
  }
  if (static_cast<bool>(getRows()) != getGatherDim().has_value())
    return emitOpError("rows and gather_dim must be given together");
  if (Value rows = getRows()) {
    auto rt = cast<MemRefType>(rows.getType());
    std::optional<MemScope> rs = getMemScope(rt);
    int64_t g = *getGatherDim();
    bool sliced = !getRowsOffsets().empty();
    if (!rt.getElementType().isInteger(32) || !rs ||
        (*rs != MemScope::Shared && *rs != MemScope::Global) || (!sliced && rt.getRank() != 1))
      return emitOpError("gather rows must be a 1-D int32 buffer in shared or global memory, "
                         "or a slice of a global int32 tensor");
    if (sliced && (*rs != MemScope::Global ||
                   static_cast<int64_t>(getRowsOffsets().size()) != rt.getRank()))
      return emitOpError("a slice of gather rows needs a global tensor and one offset per "
                         "dimension");
    if (g < 0 || g >= static_cast<int64_t>(getSrcSizes().size()))
      return emitOpError("gather_dim ") << g << " is not a dimension of the source";
    if (!sliced && !rt.isDynamicDim(0) && getSrcSizes()[g] != rt.getDimSize(0))
      return emitOpError("the source region has ")
             << getSrcSizes()[g] << " points in the gather dimension but rows has "
             << rt.getDimSize(0);
    if (getMemScope(getSrc().getType()) != MemScope::Global ||
        getMemScope(getDst().getType()) != MemScope::Shared)
      return emitOpError("only a copy from global to shared memory can gather");
    if (getBarrier() && *rs != MemScope::Global)
      return emitOpError("an asynchronous gather needs its rows in global memory");
  }
  if (static_cast<bool>(getBarrier()) != static_cast<bool>(getBarrierIndex()))
    return emitOpError("barrier and barrier index must be given together");
  if (getBarrier()) {
    if (getMemScope(getSrc().getType()) != MemScope::Global ||
        getMemScope(getDst().getType()) != MemScope::Shared)
      return emitOpError("a copy completing on a barrier must go from global "
                         "to shared memory");
    if (failed(verifyBarrierIndex(*this, getBarrier(), getBarrierIndex())))
      return failure();
  }
  return verifyInLaunch(*this);
}

//===----------------------------------------------------------------------===//
// SlotLoadOp, SlotStoreOp
//===----------------------------------------------------------------------===//

static LogicalResult verifySlotAccess(Operation *op, Value buffer, Value slot, Type valueType) {
  constexpr MemScope kRegisterScopes[] = {MemScope::Fragment, MemScope::Local, MemScope::Tmem};
  if (failed(verifyScope(op, buffer, "buffer", kRegisterScopes)))
    return failure();
  auto type = cast<MemRefType>(buffer.getType());
  std::optional<LinearLayout> l = getBufferLayout(type);
  if (!l)
    return op->emitOpError("needs a buffer with a layout (run tl-infer-layouts)");
  if (auto c = getConstantIntValue(slot))
    if (*c < 0 || *c >= l->getInSize(LinearLayout::Register))
      return op->emitOpError("slot ") << *c << " is out of range for "
                                      << l->getInSize(LinearLayout::Register) << " slots";
  if (valueType != type.getElementType())
    return op->emitOpError("value type must be the buffer's element type");
  return verifyInLaunch(op);
}

LogicalResult SlotLoadOp::verify() {
  return verifySlotAccess(*this, getBuffer(), getSlot(), getResult().getType());
}
LogicalResult SlotStoreOp::verify() {
  return verifySlotAccess(*this, getBuffer(), getSlot(), getValue().getType());
}

//===----------------------------------------------------------------------===//
// WarpSpecializeOp
//===----------------------------------------------------------------------===//

LogicalResult WarpSpecializeOp::verify() {
  ArrayRef<int64_t> roles = getRoles(), regs = getRegs();
  if (roles.empty() || roles.size() != getBodies().size() || regs.size() != roles.size())
    return emitOpError("needs one thread count and one register count per region");
  for (auto [n, r] : llvm::zip(roles, regs)) {
    if (n < 32 || n % 32)
      return emitOpError("role thread counts must be positive multiples of 32, got ") << n;
    if (r != 0 && (n % 128 || r < 24 || r > 256 || r % 8))
      return emitOpError("a role with a register count runs whole warpgroups and asks for 24 "
                         "to 256 registers in steps of 8, got ")
             << n << " threads and " << r << " registers";
  }
  for (Region &body : getBodies())
    if (body.empty() || !isa<YieldOp>(body.front().back()))
      return emitOpError("each role region ends in tl.yield");
  return verifyInLaunch(*this);
}

//===----------------------------------------------------------------------===//
// ConvertLayoutOp
//===----------------------------------------------------------------------===//

LogicalResult ConvertLayoutOp::verify() {
  constexpr MemScope kRegisterScopes[] = {MemScope::Fragment, MemScope::Local, MemScope::Tmem};
  if (failed(verifyScope(*this, getSrc(), "source", kRegisterScopes)) ||
      failed(verifyScope(*this, getDst(), "destination", kRegisterScopes)))
    return failure();
  auto srcT = cast<MemRefType>(getSrc().getType());
  auto dstT = cast<MemRefType>(getDst().getType());
  if (srcT.getShape() != dstT.getShape() || srcT.getElementType() != dstT.getElementType())
    return emitOpError("source and destination must have the same shape and element type");
  return verifyInLaunch(*this);
}

//===----------------------------------------------------------------------===//
// FillOp
//===----------------------------------------------------------------------===//

LogicalResult FillOp::verify() {
  if (failed(verifyScope(*this, getDst(), "destination", kAllScopes)))
    return failure();
  return verifyInLaunch(*this);
}

//===----------------------------------------------------------------------===//
// GemmOp
//===----------------------------------------------------------------------===//

LogicalResult GemmOp::verify() {
  auto aType = cast<MemRefType>(getA().getType());
  auto bType = cast<MemRefType>(getB().getType());
  auto cType = cast<MemRefType>(getC().getType());
  if (aType.getRank() != 2 || bType.getRank() != 2 || cType.getRank() != 2)
    return emitOpError("A, B and C must be 2-D");
  if (failed(verifyScope(*this, getA(), "A",
                         {MemScope::Shared, MemScope::Fragment, MemScope::Tmem})) ||
      failed(verifyScope(*this, getB(), "B", {MemScope::Shared})) ||
      failed(verifyScope(*this, getC(), "C", {MemScope::Fragment, MemScope::Tmem})))
    return failure();

  int64_t m = getTransposeA() ? aType.getDimSize(1) : aType.getDimSize(0);
  int64_t kA = getTransposeA() ? aType.getDimSize(0) : aType.getDimSize(1);
  int64_t kB = getTransposeB() ? bType.getDimSize(1) : bType.getDimSize(0);
  int64_t n = getTransposeB() ? bType.getDimSize(0) : bType.getDimSize(1);
  if (kA != kB)
    return emitOpError("K of A (") << kA << ") does not match K of B (" << kB << ")";
  if (cType.getDimSize(0) != m || cType.getDimSize(1) != n)
    return emitOpError("C must be ")
           << m << "x" << n << " (M x N), got " << cType.getDimSize(0) << "x"
           << cType.getDimSize(1);

  Type aElem = aType.getElementType(), bElem = bType.getElementType();
  Type cElem = cType.getElementType();
  bool aNarrow = isNarrowFloat(aElem), bNarrow = isNarrowFloat(bElem);
  if (aElem != bElem) {
    // Mixed inputs exist only among the narrow floats: e4m3 x e5m2 (wgmma,
    // tcgen05 kind::f8f6f4) and e2m1 x fp8 (tcgen05 kind::f8f6f4).
    bool mixedOk = aNarrow && bNarrow && (isFloat8(aElem) || isFloat8(bElem));
    if (!mixedOk)
      return emitOpError("A and B element types must match or be a mix of "
                         "f8E4M3FN/f8E5M2/f4E2M1FN with an 8-bit float, got ")
             << aElem << " and " << bElem;
  } else if (!isa<Float16Type, BFloat16Type, Float32Type>(aElem) && !aNarrow) {
    return emitOpError("A and B must be f16, bf16, f32, f8E4M3FN, f8E5M2 or "
                       "f4E2M1FN, got ")
           << aElem;
  }
  if (!isa<Float32Type, Float16Type>(cElem))
    return emitOpError("C must be f32 or f16, got ") << cElem;
  // An f16 accumulator exists for f16 and 8-bit float inputs only.
  if (isa<Float16Type>(cElem) && !isa<Float16Type>(aElem) && !aNarrow)
    return emitOpError("an f16 accumulator needs f16 or 8-bit float inputs, got ")
           << aElem;

  bool hasScaleA = static_cast<bool>(getScaleA());
  bool hasScaleB = static_cast<bool>(getScaleB());
  bool hasBlock = getScaleBlock().has_value();
  if (!hasScaleA && !hasScaleB && !hasBlock)
    return verifyInLaunch(*this);
  if (!hasScaleA || !hasScaleB || !hasBlock)
    return emitOpError("block-scaled gemm needs scale_a, scale_b and scale_block");
  int64_t block = *getScaleBlock();
  if (block < 1)
    return emitOpError("scale_block must be positive, got ") << block;
  if (!aNarrow || !bNarrow)
    return emitOpError("block-scaled gemm needs 8- or 4-bit float A and B");
  if (!isa<Float32Type>(cElem))
    return emitOpError("block-scaled gemm needs an f32 accumulator");
  int64_t kBlocks = (kA + block - 1) / block;
  struct Scale {
    Value value;
    StringRef name;
    int64_t rows;
  } scales[] = {{getScaleA(), "scale_a", m}, {getScaleB(), "scale_b", n}};
  for (const Scale &s : scales) {
    auto type = cast<MemRefType>(s.value.getType());
    if (!isa<Float8E8M0FNUType, Float32Type>(type.getElementType()))
      return emitOpError() << s.name << " must be f8E8M0FNU or f32, got "
                           << type.getElementType();
    if (failed(verifyScope(*this, s.value, s.name,
                           {MemScope::Shared, MemScope::Fragment, MemScope::Local,
                            MemScope::Tmem})))
      return failure();
    if (type.getRank() != 2 || type.getDimSize(0) != s.rows ||
        type.getDimSize(1) != kBlocks)
      return emitOpError() << s.name << " must be " << s.rows << "x" << kBlocks
                           << " (rows x ceil(K / scale_block)), got " << type;
  }
  return verifyInLaunch(*this);
}

//===----------------------------------------------------------------------===//
// ReduceOp
//===----------------------------------------------------------------------===//

static bool isReducible(Type t) {
  return isa<Float16Type, BFloat16Type, Float32Type>(t) || t.isInteger(32) ||
         t.isInteger(64);
}

LogicalResult ReduceOp::verify() {
  if (failed(verifyScope(*this, getSrc(), "source", kOnChipScopes)) ||
      failed(verifyScope(*this, getDst(), "destination", kOnChipScopes)))
    return failure();
  auto srcType = cast<MemRefType>(getSrc().getType());
  auto dstType = cast<MemRefType>(getDst().getType());
  int64_t dim = getDim();
  if (dim < 0 || dim >= srcType.getRank())
    return emitOpError("dim ") << dim << " is out of range for rank "
                               << srcType.getRank();
  SmallVector<int64_t> expected(srcType.getShape());
  expected.erase(expected.begin() + dim);
  bool scalarOk = expected.empty() && dstType.getShape() == ArrayRef<int64_t>{1};
  if (dstType.getShape() != ArrayRef<int64_t>(expected) && !scalarOk) {
    InFlightDiagnostic diag = emitOpError("destination shape must be ");
    printShape(diag, expected);
    diag << " (source shape without dim " << dim << "), got ";
    printShape(diag, dstType.getShape());
    return diag;
  }
  Type srcElem = srcType.getElementType(), dstElem = dstType.getElementType();
  if (!isReducible(srcElem) || !isReducible(dstElem))
    return emitOpError("element types must be f16, bf16, f32, i32 or i64, got ")
           << srcElem << " and " << dstElem;
  if (srcElem != dstElem && !(isa<FloatType>(srcElem) && isa<FloatType>(dstElem)))
    return emitOpError("source and destination element types must match or both "
                       "be floats, got ")
           << srcElem << " and " << dstElem;
  return verifyInLaunch(*this);
}

//===----------------------------------------------------------------------===//
// TopKOp
//===----------------------------------------------------------------------===//

LogicalResult TopKOp::verify() {
  if (failed(verifyScope(*this, getSrc(), "source", kOnChipScopes)) ||
      failed(verifyScope(*this, getValues(), "values", kOnChipScopes)) ||
      failed(verifyScope(*this, getIndices(), "indices", kOnChipScopes)))
    return failure();
  auto srcType = cast<MemRefType>(getSrc().getType());
  auto valuesType = cast<MemRefType>(getValues().getType());
  auto indicesType = cast<MemRefType>(getIndices().getType());
  if (srcType.getRank() != 2)
    return emitOpError("source must be 2-D, got rank ") << srcType.getRank();
  int64_t dim = getDim(), k = getK();
  if (dim < 0 || dim > 1)
    return emitOpError("dim must be 0 or 1, got ") << dim;
  if (k < 1 || k > srcType.getDimSize(dim))
    return emitOpError("k must be in [1, ")
           << srcType.getDimSize(dim) << "], got " << k;
  SmallVector<int64_t> expected(srcType.getShape());
  expected[dim] = k;
  if (valuesType.getShape() != ArrayRef<int64_t>(expected) ||
      indicesType.getShape() != ArrayRef<int64_t>(expected)) {
    InFlightDiagnostic diag = emitOpError("values and indices must be ");
    printShape(diag, expected);
    return diag;
  }
  if (valuesType.getElementType() != srcType.getElementType())
    return emitOpError("values must have the source element type ")
           << srcType.getElementType();
  if (!indicesType.getElementType().isInteger(32))
    return emitOpError("indices must be i32, got ") << indicesType.getElementType();
  return verifyInLaunch(*this);
}

//===----------------------------------------------------------------------===//
// CastOp
//===----------------------------------------------------------------------===//

LogicalResult CastOp::verify() {
  auto inVec = dyn_cast<VectorType>(getIn().getType());
  auto outVec = dyn_cast<VectorType>(getOut().getType());
  if (static_cast<bool>(inVec) != static_cast<bool>(outVec))
    return emitOpError("operand and result must both be scalars or both vectors");
  if (inVec && inVec.getShape() != outVec.getShape())
    return emitOpError("vector shapes must match");
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getIn().getType() == getOut().getType())
    return getIn();
  return {};
}

//===----------------------------------------------------------------------===//
// AtomicAddOp
//===----------------------------------------------------------------------===//

LogicalResult AtomicAddOp::verify() {
  if (failed(verifyScope(*this, getDst(), "destination",
                         {MemScope::Global, MemScope::Shared})))
    return failure();
  auto dstType = cast<MemRefType>(getDst().getType());
  if (static_cast<int64_t>(getIndices().size()) != dstType.getRank())
    return emitOpError("needs ") << dstType.getRank() << " indices, got "
                                 << getIndices().size();
  Type elem = dstType.getElementType();
  if (!isa<Float16Type, BFloat16Type, Float32Type>(elem) && !elem.isInteger(32) &&
      !elem.isInteger(64))
    return emitOpError("element type must be f16, bf16, f32, i32 or i64, got ")
           << elem;
  Type valueType = getValue().getType();
  if (auto vec = dyn_cast<VectorType>(valueType)) {
    if (vec.getRank() != 1 || (vec.getDimSize(0) != 2 && vec.getDimSize(0) != 4) ||
        vec.getElementType() != elem)
      return emitOpError("vector value must be ")
             << VectorType::get({2}, elem) << " or " << VectorType::get({4}, elem)
             << ", got " << vec;
    if (!isa<FloatType>(elem))
      return emitOpError("vector atomics need a float element type");
    int64_t last = dstType.getRank() - 1;
    std::optional<int64_t> index =
        last >= 0 ? getConstantIntValue(getIndices()[last]) : std::nullopt;
    if (last < 0)
      return emitOpError("vector atomics need a destination of rank >= 1");
    if (index && !dstType.isDynamicDim(last) &&
        *index + vec.getDimSize(0) > dstType.getDimSize(last))
      return emitOpError("vector of ") << vec.getDimSize(0) << " at index " << *index
                                       << " overruns the last dimension";
  } else if (valueType != elem) {
    return emitOpError("value must be of the element type ")
           << elem << ", got " << valueType;
  }
  if (getReturnPrev() != static_cast<bool>(getPrev()))
    return emitOpError("has a result exactly when return_prev is set");
  if (getPrev() && getPrev().getType() != valueType)
    return emitOpError("result type must be the value type ") << valueType;
  return verifyInLaunch(*this);
}

#define GET_OP_CLASSES
#include "tl/IR/TlOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shared scratch of tile ops
//===----------------------------------------------------------------------===//

int64_t mlir::tl::getSharedScratchBytes(Operation *op) {
  auto paddedBytes = [](MemRefType t) {
    int64_t n = 1;
    for (int64_t s : LinearLayout::padShape(t.getShape()))
      n *= s;
    return n * std::max<int64_t>(4, getElementBits(t.getElementType()) / 8);
  };
  if (auto conv = dyn_cast<ConvertLayoutOp>(op))
    return paddedBytes(cast<MemRefType>(conv.getSrc().getType()));
  auto red = dyn_cast<ReduceOp>(op);
  if (!red)
    return 0;
  std::optional<LinearLayout> src = getBufferLayout(red.getSrc().getType());
  if (!src)
    return 0;
  // Partials cross warps when a warp bit moves along the reduced dimension:
  // one 8-byte partial per warp and output element.
  bool crossWarp = llvm::any_of(src->getBases(LinearLayout::Warp), [&](auto &b) {
    return b[red.getDim()] != 0;
  });
  auto dst = cast<MemRefType>(red.getDst().getType());
  int64_t n = 1;
  for (int64_t s : LinearLayout::padShape(dst.getShape()))
    n *= s;
  // A destination not laid out as the source's projection (replicated)
  // receives the results through scratch too.
  std::optional<LinearLayout> dl = getBufferLayout(dst);
  bool broadcast = dl && *dl != src->dropOutDim(red.getDim()).withoutRedundantRegisters();
  return std::max(crossWarp ? n * src->getInSize(LinearLayout::Warp) * 8 : 0,
                  broadcast ? n * 8 : 0);
}
