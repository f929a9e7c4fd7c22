// Index arithmetic for linear layouts (LayoutEmitter.h).
#include "tl/Transforms/LayoutEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::tl {

namespace {

Value cIndex(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// One term of a coordinate: ((x >> shift) & mask) << lshift, or a single
/// bit times an arbitrary value.
struct Term {
  unsigned shift = 0;
  int64_t mask = 1;
  unsigned lshift = 0;
  int64_t value = 0; // single-bit term with a non-power-of-two value
  int64_t reach() const { return value ? value : (mask << lshift); }
};

SmallVector<Term> termsFor(ArrayRef<LinearLayout::Coords> bases, unsigned dim) {
  SmallVector<Term> terms;
  for (unsigned k = 0; k < bases.size(); ++k) {
    int64_t v = bases[k][dim];
    if (!v)
      continue;
    if (!llvm::isPowerOf2_64(v)) {
      Term t;
      t.shift = k;
      t.value = v;
      terms.push_back(t);
      continue;
    }
    unsigned p = llvm::Log2_64(v);
    // Extend the previous run when this bit continues it.
    if (!terms.empty() && !terms.back().value) {
      Term &last = terms.back();
      unsigned width = llvm::Log2_64(last.mask + 1);
      if (last.shift + width == k && last.lshift + width == p) {
        last.mask = (last.mask << 1) | 1;
        continue;
      }
    }
    Term t;
    t.shift = k;
    t.mask = 1;
    t.lshift = p;
    terms.push_back(t);
  }
  return terms;
}

Value emitTerm(OpBuilder &b, Location loc, Value x, const Term &t) {
  Value v = x;
  if (t.shift)
    v = arith::ShRUIOp::create(b, loc, v, cIndex(b, loc, t.shift));
  v = arith::AndIOp::create(b, loc, v, cIndex(b, loc, t.value ? 1 : t.mask));
  if (t.value)
    return arith::MulIOp::create(b, loc, v, cIndex(b, loc, t.value));
  if (t.lshift)
    v = arith::ShLIOp::create(b, loc, v, cIndex(b, loc, t.lshift));
  return v;
}

/// Combines coordinate parts: add where the set bits cannot overlap.
Value combine(OpBuilder &b, Location loc, Value acc, int64_t accReach, Value v, int64_t vReach) {
  if (!acc)
    return v;
  if ((accReach & vReach) == 0)
    return arith::AddIOp::create(b, loc, acc, v);
  return arith::XOrIOp::create(b, loc, acc, v);
}

/// All bits a term's value can set (its reach, filled below the top bit for
/// value terms).
int64_t fill(int64_t v) {
  if (v == 0 || llvm::isPowerOf2_64(v))
    return v;
  return static_cast<int64_t>(llvm::NextPowerOf2(v) - 1);
}

} // namespace

HwIndex emitHwIndex(OpBuilder &b, Location loc, Value threadId) {
  HwIndex hw;
  hw.lane = arith::RemUIOp::create(b, loc, threadId, cIndex(b, loc, 32));
  hw.warp = arith::DivUIOp::create(b, loc, threadId, cIndex(b, loc, 32));
  return hw;
}

SmallVector<Value> emitLinearMap(OpBuilder &b, Location loc, ArrayRef<LinearLayout::Coords> bases,
                                 unsigned rank, Value index) {
  SmallVector<Value> out;
  for (unsigned d = 0; d < rank; ++d) {
    Value acc;
    int64_t reach = 0;
    for (const Term &t : termsFor(bases, d)) {
      int64_t r = t.value ? fill(t.value) : t.reach();
      acc = combine(b, loc, acc, reach, emitTerm(b, loc, index, t), r);
      reach |= r;
    }
    out.push_back(acc ? acc : cIndex(b, loc, 0));
  }
  return out;
}

namespace {

SmallVector<Value> withStatic(OpBuilder &b, Location loc, const LinearLayout &layout,
                              ArrayRef<int64_t> regPart, SmallVector<Value> regDyn, HwIndex hw) {
  unsigned rank = layout.getRank();
  SmallVector<Value> lane = emitLinearMap(b, loc, layout.getBases(LinearLayout::Lane), rank,
                                          hw.lane);
  SmallVector<Value> warp = emitLinearMap(b, loc, layout.getBases(LinearLayout::Warp), rank,
                                          hw.warp);
  auto reachOf = [&](LinearLayout::InDim in, unsigned d) {
    int64_t r = 0;
    for (const LinearLayout::Coords &c : layout.getBases(in))
      r |= fill(c[d]);
    return r;
  };
  SmallVector<Value> out;
  for (unsigned d = 0; d < rank; ++d) {
    int64_t laneReach = reachOf(LinearLayout::Lane, d), warpReach = reachOf(LinearLayout::Warp, d);
    Value v;
    int64_t reach = 0;
    if (laneReach) {
      v = lane[d];
      reach = laneReach;
    }
    if (warpReach) {
      v = combine(b, loc, v, reach, warp[d], warpReach);
      reach |= warpReach;
    }
    if (!regDyn.empty()) {
      int64_t regReach = reachOf(LinearLayout::Register, d);
      if (regReach) {
        v = combine(b, loc, v, reach, regDyn[d], regReach);
        reach |= regReach;
      }
    } else if (regPart[d]) {
      v = combine(b, loc, v, reach, cIndex(b, loc, regPart[d]), fill(regPart[d]));
    }
    out.push_back(v ? v : cIndex(b, loc, 0));
  }
  return out;
}

} // namespace

SmallVector<Value> emitSlotCoords(OpBuilder &b, Location loc, const LinearLayout &layout,
                                  int64_t slot, HwIndex hw) {
  return withStatic(b, loc, layout, layout.apply(LinearLayout::Register, slot), {}, hw);
}

SmallVector<Value> emitSlotCoords(OpBuilder &b, Location loc, const LinearLayout &layout,
                                  Value slot, HwIndex hw) {
  SmallVector<Value> reg = emitLinearMap(b, loc, layout.getBases(LinearLayout::Register),
                                         layout.getRank(), slot);
  return withStatic(b, loc, layout, {}, reg, hw);
}

int classifySlot(const LinearLayout &layout, ArrayRef<int64_t> shape,
                 ArrayRef<int64_t> regPart) {
  LinearLayout::Coords varying = layout.getThreadVaryingBits();
  bool maybe = false;
  for (unsigned d = 0; d < layout.getRank(); ++d) {
    if (shape[d] == layout.getOutShape()[d])
      continue;
    // With disjoint bits the coordinate is regPart + a subset of varying:
    // at least regPart, at most regPart | varying.
    int64_t lo = regPart[d] & ~varying[d];
    int64_t hi = regPart[d] | varying[d];
    if (lo >= shape[d])
      return 1;
    if (hi >= shape[d])
      maybe = true;
  }
  return maybe ? 0 : -1;
}

Value emitReplicaLeader(OpBuilder &b, Location loc, const LinearLayout &layout, HwIndex hw) {
  Value cond;
  for (auto [in, v] : {std::pair{LinearLayout::Lane, hw.lane}, std::pair{LinearLayout::Warp, hw.warp}}) {
    int64_t mask = 0;
    for (auto [k, c] : llvm::enumerate(layout.getBases(in)))
      if (llvm::all_of(c, [](int64_t x) { return x == 0; }))
        mask |= int64_t{1} << k;
    if (!mask)
      continue;
    Value bits = arith::AndIOp::create(b, loc, v, cIndex(b, loc, mask));
    Value zero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, bits, cIndex(b, loc, 0));
    cond = cond ? Value(arith::AndIOp::create(b, loc, cond, zero)) : zero;
  }
  return cond;
}

Value emitLayoutOffset(OpBuilder &b, Location loc, const LinearLayout &layout,
                       ArrayRef<Value> coords) {
  SmallVector<uint64_t> inv = layout.invertOffsets();
  // Coordinate bit j (flattened, dimension 0 most significant) contributes
  // inv[j]: group the bits of each dimension as a linear map of its value.
  Value acc;
  int64_t reach = 0;
  unsigned bit = 0;
  for (int64_t d = layout.getRank() - 1; d >= 0; --d) {
    unsigned width = llvm::Log2_64(layout.getOutShape()[d]);
    SmallVector<LinearLayout::Coords> bases;
    for (unsigned k = 0; k < width; ++k)
      bases.push_back({static_cast<int64_t>(inv[bit + k])});
    bit += width;
    for (const Term &t : termsFor(bases, 0)) {
      int64_t r = t.value ? fill(t.value) : t.reach();
      acc = combine(b, loc, acc, reach, emitTerm(b, loc, coords[d], t), r);
      reach |= r;
    }
  }
  return acc ? acc : cIndex(b, loc, 0);
}

LoopIndexing matchLoopIndices(ValueRange indices, ArrayRef<int64_t> shape, ValueRange ivs,
                              ArrayRef<int64_t> extents) {
  LoopIndexing r;
  for (auto [p, idx] : llvm::enumerate(indices)) {
    auto it = llvm::find(ivs, idx);
    if (it == ivs.end())
      continue;
    unsigned d = it - ivs.begin();
    if ((!r.kept.empty() && d <= r.kept.back()) || shape[p] != extents[d])
      continue;
    r.kept.push_back(d);
    r.at.push_back(p);
  }
  return r;
}

} // namespace mlir::tl
