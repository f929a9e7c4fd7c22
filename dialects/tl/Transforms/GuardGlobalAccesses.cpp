// tl-guard-global-accesses: which element accesses of global tensors need a
// bounds guard.
//
// The language promises that an element load of a global tensor out of range
// reads zero and a store out of range is dropped (docs/language.md §5), as
// T.copy regions do. Guards cost a compare and a branch per access, so this
// pass removes the ones it can show redundant and records its decision on
// each access as `tl.bounds` (the IR says what the compiler decided);
// tl-materialize-guards writes the guards later.
//
// The proof is interval reasoning with symbolic ends: each index value gets
// lower and upper bounds that are linear expressions over the kernel's size
// names (the dim strings of tl.arg_dims: equal names are equal at launch, the
// runtime checks it) and over opaque run-time values. An index is in range
// when some lower bound is provably >= 0 and some upper bound provably
// <= size - 1, "provably" meaning the difference is a constant plus
// non-negative multiples of size names (sizes are never negative). Bounds
// come from constants, T.Parallel extents, scf.for / T.Pipelined ranges
// (iv < ub), block indices (< grid size), +, -, * by constants, T.min /
// T.max clamps, selects, `%` and `//` by positive constants. Anything else
// is opaque: exact, but only cancels against itself. This is sound for
// every launch the runtime accepts, and deliberately simple: `by * BM + i`
// against M is not provable (ragged edge tiles are real), `k` in
// `range(K)` against a dimension named K is.
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <map>
#include <string>

namespace mlir::tl {
#define GEN_PASS_DEF_TLGUARDGLOBALACCESSES
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

/// c + sum(coeff * symbol). Symbols named "dim:..." are tensor sizes (never
/// negative); "val:..." are opaque run-time values of unknown sign.
struct Lin {
  int64_t c = 0;
  std::map<std::string, int64_t> terms;

  static Lin constant(int64_t v) { return Lin{v, {}}; }
  static Lin symbol(std::string s) {
    Lin l;
    l.terms[std::move(s)] = 1;
    return l;
  }
  Lin operator+(const Lin &o) const {
    Lin r = *this;
    r.c += o.c;
    for (const auto &[s, k] : o.terms)
      if ((r.terms[s] += k) == 0)
        r.terms.erase(s);
    return r;
  }
  Lin scaled(int64_t k) const {
    if (k == 0)
      return constant(0);
    Lin r{c * k, {}};
    for (const auto &[s, v] : terms)
      r.terms[s] = v * k;
    return r;
  }
  Lin operator-(const Lin &o) const { return *this + o.scaled(-1); }
  std::optional<int64_t> asConstant() const {
    return terms.empty() ? std::optional<int64_t>(c) : std::nullopt;
  }
  /// Provably >= 0 for every value of the symbols: sizes are at least 0,
  /// or at least `minOf[size]` where an enclosing loop runs only then.
  bool nonNegative() const {
    int64_t least = c;
    for (const auto &[s, k] : terms) {
      if (k < 0 || !llvm::StringRef(s).starts_with("dim:"))
        return false;
      auto it = minOf().find(s);
      least += it == minOf().end() ? 0 : k * it->second;
    }
    return least >= 0;
  }
  /// Facts about the sizes at the access being analysed (set per access).
  static std::map<std::string, int64_t> &minOf() {
    static thread_local std::map<std::string, int64_t> facts;
    return facts;
  }
};

bool provablyLE(const Lin &a, const Lin &b) { return (b - a).nonNegative(); }

/// Candidate bounds of a value: it is >= every `lo` and <= every `hi`.
/// Empty lists mean unknown.
struct Range {
  SmallVector<Lin, 2> lo, hi;
  static Range exact(const Lin &l) { return Range{{l}, {l}}; }
};

constexpr size_t kMaxCandidates = 4;

void addCandidate(SmallVector<Lin, 2> &list, Lin l) {
  if (list.size() < kMaxCandidates)
    list.push_back(std::move(l));
}

/// Pairwise combination of two candidate lists.
template <typename F>
SmallVector<Lin, 2> combine(ArrayRef<Lin> a, ArrayRef<Lin> b, F &&f) {
  SmallVector<Lin, 2> out;
  for (const Lin &x : a)
    for (const Lin &y : b)
      if (std::optional<Lin> z = f(x, y))
        addCandidate(out, std::move(*z));
  return out;
}

/// The smaller (larger) of two bounds where they are comparable.
std::optional<Lin> lesser(const Lin &x, const Lin &y) {
  if (provablyLE(x, y))
    return x;
  if (provablyLE(y, x))
    return y;
  return std::nullopt;
}
std::optional<Lin> greater(const Lin &x, const Lin &y) {
  if (provablyLE(x, y))
    return y;
  if (provablyLE(y, x))
    return x;
  return std::nullopt;
}

struct BoundsAnalysis {
  func::FuncOp func;
  DenseMap<Value, Range> memo;
  unsigned depth = 0;

  /// The size of dimension `d` of kernel argument `buf`, as a Lin.
  std::optional<Lin> dimSize(Value buf, int64_t d) {
    auto type = cast<MemRefType>(buf.getType());
    if (!type.isDynamicDim(d))
      return Lin::constant(type.getDimSize(d));
    auto arg = dyn_cast<BlockArgument>(buf);
    auto dims = func->getAttrOfType<ArrayAttr>(kArgDimsAttrName);
    if (!arg || !dims || arg.getOwner() != &func.getBody().front() ||
        arg.getArgNumber() >= dims.size())
      return std::nullopt;
    auto entry = dyn_cast<ArrayAttr>(dims[arg.getArgNumber()]);
    if (!entry || d >= static_cast<int64_t>(entry.size()))
      return std::nullopt;
    if (auto name = dyn_cast<StringAttr>(entry[d]))
      return Lin::symbol("dim:" + name.getValue().str());
    if (auto size = dyn_cast<IntegerAttr>(entry[d]))
      return Lin::constant(size.getInt());
    return std::nullopt;
  }

  Lin opaque(Value v) {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << "val:" << v.getAsOpaquePointer();
    return Lin::symbol(s);
  }

  /// [0, n - 1] for a value below `n`.
  Range below(Value n) {
    Range r;
    r.lo.push_back(Lin::constant(0));
    for (const Lin &h : get(n).hi)
      addCandidate(r.hi, h - Lin::constant(1));
    return r;
  }

  /// [lo(lb), hi(ub) - 1] for an induction variable of a loop with a
  /// positive step.
  Range loopRange(Value lb, Value ub) {
    Range r;
    r.lo = get(lb).lo;
    for (const Lin &h : get(ub).hi)
      addCandidate(r.hi, h - Lin::constant(1));
    return r;
  }

  Range blockArg(BlockArgument arg) {
    Operation *owner = arg.getOwner()->getParentOp();
    unsigned n = arg.getArgNumber();
    if (auto par = dyn_cast<ParallelOp>(owner))
      return Range{{Lin::constant(0)}, {Lin::constant(par.getExtents()[n] - 1)}};
    if (auto loop = dyn_cast<scf::ForOp>(owner)) {
      std::optional<int64_t> step = getConstantIntValue(loop.getStep());
      if (arg == loop.getInductionVar() && step && *step > 0)
        return loopRange(loop.getLowerBound(), loop.getUpperBound());
    }
    if (auto loop = dyn_cast<PipelinedOp>(owner)) {
      std::optional<int64_t> step = getConstantIntValue(loop.getStep());
      if (step && *step > 0)
        return loopRange(loop.getLowerBound(), loop.getUpperBound());
    }
    if (auto launch = dyn_cast<LaunchOp>(owner); launch && n < launch.getGrid().size())
      return below(launch.getGrid()[n]);
    return Range::exact(opaque(arg));
  }

  Range compute(Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v))
      return blockArg(arg);
    Operation *op = v.getDefiningOp();
    if (std::optional<int64_t> c = getConstantIntValue(v))
      return Range::exact(Lin::constant(*c));
    if (auto dim = dyn_cast<memref::DimOp>(op)) {
      std::optional<int64_t> d = dim.getConstantIndex();
      if (d)
        if (std::optional<Lin> size = dimSize(dim.getSource(), *d))
          return Range::exact(*size);
    }
    if (auto bid = dyn_cast<BlockIdOp>(op)) {
      auto launch = op->getParentOfType<LaunchOp>();
      if (launch && static_cast<size_t>(bid.getDim()) < launch.getGrid().size())
        return below(launch.getGrid()[bid.getDim()]);
    }
    if (auto tid = dyn_cast<ThreadIdOp>(op)) {
      auto launch = op->getParentOfType<LaunchOp>();
      if (launch && tid.getDim() == 0)
        return Range{{Lin::constant(0)}, {Lin::constant(launch.getThreads() - 1)}};
    }
    if (auto add = dyn_cast<arith::AddIOp>(op)) {
      Range a = get(add.getLhs()), b = get(add.getRhs());
      auto sum = [](const Lin &x, const Lin &y) { return std::optional<Lin>(x + y); };
      return Range{combine(a.lo, b.lo, sum), combine(a.hi, b.hi, sum)};
    }
    if (auto sub = dyn_cast<arith::SubIOp>(op)) {
      Range a = get(sub.getLhs()), b = get(sub.getRhs());
      auto diff = [](const Lin &x, const Lin &y) { return std::optional<Lin>(x - y); };
      return Range{combine(a.lo, b.hi, diff), combine(a.hi, b.lo, diff)};
    }
    if (auto mul = dyn_cast<arith::MulIOp>(op)) {
      Value x = mul.getLhs();
      std::optional<int64_t> k = getConstantIntValue(mul.getRhs());
      if (!k) {
        k = getConstantIntValue(mul.getLhs());
        x = mul.getRhs();
      }
      if (k) {
        Range a = get(x), r;
        for (const Lin &l : *k >= 0 ? a.lo : a.hi)
          addCandidate(r.lo, l.scaled(*k));
        for (const Lin &h : *k >= 0 ? a.hi : a.lo)
          addCandidate(r.hi, h.scaled(*k));
        return r;
      }
    }
    if (isa<arith::MinSIOp, arith::MaxSIOp>(op)) {
      Range a = get(op->getOperand(0)), b = get(op->getOperand(1)), r;
      bool isMin = isa<arith::MinSIOp>(op);
      // min <= each operand's upper bounds; max >= each operand's lower ones.
      SmallVector<Lin, 2> &loose = isMin ? r.hi : r.lo;
      for (const Lin &l : isMin ? a.hi : a.lo)
        addCandidate(loose, l);
      for (const Lin &l : isMin ? b.hi : b.lo)
        addCandidate(loose, l);
      if (isMin)
        r.lo = combine(a.lo, b.lo, lesser);
      else
        r.hi = combine(a.hi, b.hi, greater);
      return r;
    }
    if (auto sel = dyn_cast<arith::SelectOp>(op)) {
      if (std::optional<Range> r = floorModPattern(sel))
        return *r;
      Range a = get(sel.getTrueValue()), b = get(sel.getFalseValue());
      return Range{combine(a.lo, b.lo, lesser), combine(a.hi, b.hi, greater)};
    }
    if (isa<arith::RemSIOp, arith::RemUIOp, arith::FloorDivSIOp, arith::DivSIOp,
            arith::DivUIOp>(op)) {
      std::optional<int64_t> k = getConstantIntValue(op->getOperand(1));
      Range a = get(op->getOperand(0)), r;
      bool nonNeg = llvm::any_of(a.lo, [](const Lin &l) { return l.nonNegative(); });
      if (k && *k > 0 && nonNeg) {
        // x >= 0: x % k in [0, k - 1] and below x; x / k in [0, x].
        r.lo.push_back(Lin::constant(0));
        if (isa<arith::RemSIOp, arith::RemUIOp>(op))
          r.hi.push_back(Lin::constant(*k - 1));
        for (const Lin &h : a.hi)
          addCandidate(r.hi, h);
        return r;
      }
    }
    return Range::exact(opaque(v));
  }

  /// MLIRGen's Python modulo by a positive constant:
  /// select(remsi(x, k) < 0, remsi(x, k) + k, remsi(x, k)) is in [0, k - 1].
  std::optional<Range> floorModPattern(arith::SelectOp sel) {
    auto rem = sel.getFalseValue().getDefiningOp<arith::RemSIOp>();
    auto cmp = sel.getCondition().getDefiningOp<arith::CmpIOp>();
    auto add = sel.getTrueValue().getDefiningOp<arith::AddIOp>();
    if (!rem || !cmp || !add || cmp.getPredicate() != arith::CmpIPredicate::slt ||
        cmp.getLhs() != rem.getResult() || getConstantIntValue(cmp.getRhs()) != 0)
      return std::nullopt;
    std::optional<int64_t> k = getConstantIntValue(rem.getRhs());
    if (!k || *k <= 0 || add.getLhs() != rem.getResult() ||
        getConstantIntValue(add.getRhs()) != k)
      return std::nullopt;
    return Range{{Lin::constant(0)}, {Lin::constant(*k - 1)}};
  }

  Range get(Value v) {
    if (auto it = memo.find(v); it != memo.end())
      return it->second;
    // Deep chains of index arithmetic are rare; give up on them soundly.
    if (depth > 64)
      return Range::exact(opaque(v));
    ++depth;
    Range r = compute(v);
    --depth;
    memo[v] = r;
    return r;
  }

  /// v <= bound (v >= bound with `below` false) for every launch. Clamps
  /// at the top of an index (T.min, T.max, T.clamp, selects) are split
  /// into their operands; below them, candidate bounds decide.
  bool provably(Value v, const Lin &bound, bool below) {
    Operation *op = v.getDefiningOp();
    if (op && isa<arith::MinSIOp, arith::MaxSIOp>(op)) {
      bool either = isa<arith::MinSIOp>(op) == below; // min <= b if either operand is
      bool a = provably(op->getOperand(0), bound, below);
      bool b = provably(op->getOperand(1), bound, below);
      return either ? (a || b) : (a && b);
    }
    if (auto sel = dyn_cast_or_null<arith::SelectOp>(op))
      if (!floorModPattern(sel))
        return provably(sel.getTrueValue(), bound, below) &&
               provably(sel.getFalseValue(), bound, below);
    Range r = get(v);
    if (below)
      return llvm::any_of(r.hi, [&](const Lin &h) { return provablyLE(h, bound); });
    return llvm::any_of(r.lo, [&](const Lin &l) { return provablyLE(bound, l); });
  }

  /// Whether `idx` (plus `extra` more elements) is in [0, size of dim d).
  bool inRange(Value buf, int64_t d, Value idx, int64_t extra) {
    std::optional<Lin> size = dimSize(buf, d);
    if (!size)
      return false;
    return provably(idx, Lin::constant(0), /*below=*/false) &&
           provably(idx, *size - Lin::constant(1 + extra), /*below=*/true);
  }

  /// What the loops and the launch around `op` say about sizes: a loop from
  /// a constant lb to `S + c` runs only when S >= lb - c + 1, a block index
  /// exists only when its grid size is >= 1.
  void collectFacts(Operation *op) {
    auto &facts = Lin::minOf();
    facts.clear();
    auto atLeast = [&](Value v, int64_t least) {
      Range r = get(v);
      if (r.lo.size() != 1 || r.hi.size() != 1 || r.lo[0].terms != r.hi[0].terms ||
          r.lo[0].c != r.hi[0].c || r.lo[0].terms.size() != 1)
        return;
      const auto &[sym, k] = *r.lo[0].terms.begin();
      if (k != 1 || !llvm::StringRef(sym).starts_with("dim:"))
        return;
      facts[sym] = std::max(facts[sym], least - r.lo[0].c);
    };
    for (Operation *p = op->getParentOp(); p; p = p->getParentOp()) {
      Value lb, ub;
      if (auto loop = dyn_cast<scf::ForOp>(p)) {
        lb = loop.getLowerBound();
        ub = loop.getUpperBound();
      } else if (auto loop = dyn_cast<PipelinedOp>(p)) {
        lb = loop.getLowerBound();
        ub = loop.getUpperBound();
      } else if (auto launch = dyn_cast<LaunchOp>(p)) {
        for (Value g : launch.getGrid())
          atLeast(g, 1);
      }
      if (lb)
        if (std::optional<int64_t> c = getConstantIntValue(lb))
          atLeast(ub, *c + 1);
    }
  }
};

struct GuardGlobalAccesses : public tl::impl::TlGuardGlobalAccessesBase<GuardGlobalAccesses> {
  using TlGuardGlobalAccessesBase::TlGuardGlobalAccessesBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (!isTlKernel(func))
      return;
    BoundsAnalysis analysis{func, {}, 0};
    Builder b(func.getContext());
    func.walk([&](Operation *op) {
      Value buf;
      ValueRange idx;
      int64_t lanes = 1;
      if (auto ld = dyn_cast<memref::LoadOp>(op)) {
        buf = ld.getMemRef();
        idx = ld.getIndices();
      } else if (auto st = dyn_cast<memref::StoreOp>(op)) {
        buf = st.getMemRef();
        idx = st.getIndices();
      } else if (auto at = dyn_cast<AtomicAddOp>(op)) {
        buf = at.getDst();
        idx = at.getIndices();
        if (auto vt = dyn_cast<VectorType>(at.getValue().getType()))
          lanes = vt.getNumElements();
      } else {
        return;
      }
      if (getMemScope(buf.getType()) != MemScope::Global)
        return;
      auto prior = op->getAttrOfType<StringAttr>(kBoundsAttrName);
      // Facts differ between accesses, and comparisons made under them are
      // memoised inside bounds: start afresh (kernels are small).
      analysis.memo.clear();
      analysis.collectFacts(op);
      analysis.memo.clear();
      bool proven = true;
      for (auto [d, i] : llvm::enumerate(idx)) {
        int64_t extra = d + 1 == idx.size() ? lanes - 1 : 0;
        proven = proven && analysis.inRange(buf, d, i, extra);
      }
      StringRef decision = proven ? kBoundsProven
                           : checkBounds ? kBoundsCheck
                           : prior && prior.getValue() == kBoundsUnchecked ? kBoundsUnchecked
                                                                           : kBoundsGuard;
      op->setAttr(kBoundsAttrName, b.getStringAttr(decision));
    });
    Lin::minOf().clear();
  }
};

} // namespace
