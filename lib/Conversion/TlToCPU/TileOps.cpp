// The tile operations of --tl-lower-to-cpu (KernelLowering.h) as loop nests:
// copies with bounds checks, fills, GEMMs with f32 accumulation, reductions,
// top-k and atomic adds (memref.atomic_rmw).
#include "KernelLowering.h"

namespace tlc::cpu {


bool isGlobal(Value buf) {
  auto scope = getMemScope(buf.getType());
  return scope && *scope == MemScope::Global;
}

void KernelLowering::lowerCopy(CopyOp op) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value src = op.getSrc(), dst = op.getDst();
  Type srcElem = cast<MemRefType>(src.getType()).getElementType();
  Type dstElem = cast<MemRefType>(dst.getType()).getElementType();
  ArrayRef<int64_t> srcSizes = op.getSrcSizes(), dstSizes = op.getDstSizes();
  auto offsets = [&](ValueRange offs, size_t rank) {
    SmallVector<Value> v(offs.begin(), offs.end());
    if (v.empty())
      for (size_t d = 0; d < rank; ++d)
        v.push_back(cIdx(b, loc, 0));
    return v;
  };
  SmallVector<Value> srcOff = offsets(op.getSrcOffsets(), srcSizes.size());
  SmallVector<Value> dstOff = offsets(op.getDstOffsets(), dstSizes.size());
  // Iterate over the squeezed shape (unit sizes removed; equal on both sides).
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t s : srcSizes)
    if (s != 1) {
      lbs.push_back(cIdx(b, loc, 0));
      ubs.push_back(cIdx(b, loc, s));
      steps.push_back(cIdx(b, loc, 1));
    }
  bool srcGlobal = isGlobal(src), dstGlobal = isGlobal(dst);
  scf::buildLoopNest(b, loc, lbs, ubs, steps, [&](OpBuilder &nb, Location l, ValueRange ivs) {
    auto indices = [&](ArrayRef<int64_t> sizes, ArrayRef<Value> off) {
      SmallVector<Value> idx;
      size_t q = 0;
      for (auto [d, s] : llvm::enumerate(sizes))
        idx.push_back(s == 1 ? off[d] : Value(arith::AddIOp::create(nb, l, off[d], ivs[q++])));
      return idx;
    };
    SmallVector<Value> si = indices(srcSizes, srcOff), di = indices(dstSizes, dstOff);
    if (Value rows = op.getRows()) {
      // A gather: the position along gather_dim picks the source row.
      int64_t g = *op.getGatherDim();
      Value at = arith::SubIOp::create(nb, l, si[g], srcOff[g]);
      Value row;
      if (isGlobal(rows)) {
        // rows[i], or rows[o0, ..., o_last + i] for a slice of a tensor; an
        // entry past the rows tensor names no row: -1, read as zeros.
        SmallVector<Value> ri(op.getRowsOffsets().begin(), op.getRowsOffsets().end());
        if (ri.empty())
          ri.push_back(at);
        else
          ri.back() = arith::AddIOp::create(nb, l, ri.back(), at);
        auto ifOp = scf::IfOp::create(
            nb, l, inBounds(nb, l, rows, ri),
            [&](OpBuilder &tb, Location tl) {
              scf::YieldOp::create(tb, tl, loadElem(tb, tl, rows, ri));
            },
            [&](OpBuilder &eb, Location el) {
              scf::YieldOp::create(eb, el, Value(arith::ConstantOp::create(
                                               eb, el, eb.getI32IntegerAttr(-1))));
            });
        row = ifOp.getResult(0);
      } else {
        row = loadElem(nb, l, rows, {at});
      }
      si[g] = arith::IndexCastOp::create(nb, l, nb.getIndexType(), row);
    }
    Value v;
    if (srcGlobal) {
      Value ok = inBounds(nb, l, src, si);
      auto ifOp = scf::IfOp::create(
          nb, l, ok,
          [&](OpBuilder &tb, Location tl) {
            scf::YieldOp::create(tb, tl, loadElem(tb, tl, src, si));
          },
          [&](OpBuilder &eb, Location el) {
            // Out of bounds reads as zero bits of the source type.
            Type st = storageElementType(srcElem);
            Value zero;
            if (auto ft = dyn_cast<FloatType>(srcElem))
              zero = arith::ConstantOp::create(
                  eb, el, eb.getFloatAttr(ft, APFloat(ft.getFloatSemantics(),
                                                      APInt(ft.getWidth(), 0))));
            else
              zero = arith::ConstantOp::create(eb, el, eb.getIntegerAttr(st, 0));
            scf::YieldOp::create(eb, el, zero);
          });
      v = ifOp.getResult(0);
    } else {
      v = loadElem(nb, l, src, si);
    }
    v = convert(nb, l, v, dstElem);
    if (dstGlobal) {
      Value ok = inBounds(nb, l, dst, di);
      scf::IfOp::create(nb, l, ok, [&](OpBuilder &tb, Location tl) {
        storeElem(tb, tl, dst, di, v);
        scf::YieldOp::create(tb, tl);
      });
    } else {
      storeElem(nb, l, dst, di, v);
    }
  });
  rewriter.eraseOp(op);
}

void KernelLowering::lowerFill(FillOp op) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value dst = op.getDst();
  auto mt = cast<MemRefType>(dst.getType());
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < mt.getRank(); ++d) {
    lbs.push_back(cIdx(b, loc, 0));
    ubs.push_back(dimOf(b, loc, dst, d));
    steps.push_back(cIdx(b, loc, 1));
  }
  Value v = op.getValue();
  scf::buildLoopNest(b, loc, lbs, ubs, steps, [&](OpBuilder &nb, Location l, ValueRange ivs) {
    storeElem(nb, l, dst, ivs, v);
  });
  rewriter.eraseOp(op);
}

void KernelLowering::lowerGemm(GemmOp op) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value A = op.getA(), B = op.getB(), C = op.getC();
  auto at = cast<MemRefType>(A.getType()), bt = cast<MemRefType>(B.getType());
  auto ct = cast<MemRefType>(C.getType());
  bool ta = op.getTransposeA(), tb = op.getTransposeB();
  int64_t M = ct.getDimSize(0), N = ct.getDimSize(1);
  int64_t K = ta ? at.getDimSize(0) : at.getDimSize(1);
  (void)bt;
  Type f32 = b.getF32Type();
  Value c0 = cIdx(b, loc, 0), c1 = cIdx(b, loc, 1);

  // Widen op(A) to Af[M][K] and op(B) to Bf[N][K] once, so the inner product
  // runs over two contiguous f32 rows.
  Value Af = scratch(MemRefType::get({M, K}, f32));
  Value Bf = scratch(MemRefType::get({N, K}, f32));
  auto widen = [&](Value src, Value dstBuf, int64_t rows, bool rowsFirst) {
    scf::buildLoopNest(b, loc, {c0, c0}, {cIdx(b, loc, rows), cIdx(b, loc, K)}, {c1, c1},
                       [&](OpBuilder &nb, Location l, ValueRange iv) {
                         SmallVector<Value> idx = rowsFirst ? SmallVector<Value>{iv[0], iv[1]}
                                                            : SmallVector<Value>{iv[1], iv[0]};
                         Value v = convert(nb, l, loadElem(nb, l, src, idx), f32);
                         memref::StoreOp::create(nb, l, v, dstBuf, iv);
                       });
  };
  widen(A, Af, M, /*rowsFirst=*/!ta); // A is (M,K), or (K,M) transposed
  widen(B, Bf, N, /*rowsFirst=*/tb);  // B is (K,N), or (N,K) transposed

  Value sa = op.getScaleA(), sb = op.getScaleB();
  int64_t block = op.getScaleBlock() ? static_cast<int64_t>(*op.getScaleBlock()) : K;
  int64_t numBlocks = sa ? (K + block - 1) / block : 1;
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  bool clear = op.getClearAccum();
  scf::buildLoopNest(
      b, loc, {c0, c0}, {cIdx(b, loc, M), cIdx(b, loc, N)}, {c1, c1},
      [&](OpBuilder &nb, Location l, ValueRange mn) {
        Value acc = clear ? zero : convert(nb, l, memref::LoadOp::create(nb, l, C, mn), f32);
        auto dot = [&](OpBuilder &db, int64_t k0, int64_t k1, Value init) {
          auto loop = scf::ForOp::create(
              db, l, cIdx(db, l, k0), cIdx(db, l, k1), cIdx(db, l, 1), ValueRange{init},
              [&](OpBuilder &fb, Location fl, Value k, ValueRange iter) {
                Value a = memref::LoadOp::create(fb, fl, Af, ValueRange{mn[0], k});
                Value bv = memref::LoadOp::create(fb, fl, Bf, ValueRange{mn[1], k});
                Value p = arith::MulFOp::create(fb, fl, a, bv);
                scf::YieldOp::create(fb, fl, ValueRange{arith::AddFOp::create(fb, fl, iter[0], p)});
              });
          return loop.getResult(0);
        };
        if (!sa) {
          acc = dot(nb, 0, K, acc);
        } else {
          // C += sum_kb (SA[m,kb] * SB[n,kb]) * (A[m, kb block] . B[kb block, n]).
          for (int64_t kb = 0; kb < numBlocks; ++kb) {
            Value part = dot(nb, kb * block, std::min(K, (kb + 1) * block), zero);
            Value kbIdx = cIdx(nb, l, kb);
            Value s1 = convert(nb, l, memref::LoadOp::create(nb, l, sa, ValueRange{mn[0], kbIdx}),
                               f32);
            Value s2 = convert(nb, l, memref::LoadOp::create(nb, l, sb, ValueRange{mn[1], kbIdx}),
                               f32);
            Value s = arith::MulFOp::create(nb, l, s1, s2);
            acc = arith::AddFOp::create(nb, l, acc, arith::MulFOp::create(nb, l, part, s));
          }
        }
        memref::StoreOp::create(nb, l, convert(nb, l, acc, ct.getElementType()), C, mn);
      });
  rewriter.eraseOp(op);
}

void KernelLowering::lowerReduce(ReduceOp op) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value src = op.getSrc(), dst = op.getDst();
  auto st = cast<MemRefType>(src.getType()), dt = cast<MemRefType>(dst.getType());
  int64_t dim = op.getDim();
  Type dstElem = dt.getElementType();
  bool isFloat = isa<FloatType>(dstElem);
  Type accType = isFloat ? b.getF32Type() : dstElem;
  ReduceKind kind = op.getKind();
  Value c0 = cIdx(b, loc, 0), c1 = cIdx(b, loc, 1);

  auto identity = [&](OpBuilder &ib, Location l) -> Value {
    if (kind == ReduceKind::Max || kind == ReduceKind::Min) {
      bool isMax = kind == ReduceKind::Max;
      if (isFloat)
        return arith::ConstantOp::create(
            ib, l, ib.getF32FloatAttr(isMax ? -std::numeric_limits<float>::infinity()
                                            : std::numeric_limits<float>::infinity()));
      unsigned w = dstElem.getIntOrFloatBitWidth();
      APInt v = isMax ? APInt::getSignedMinValue(w) : APInt::getSignedMaxValue(w);
      return arith::ConstantOp::create(ib, l, ib.getIntegerAttr(dstElem, v));
    }
    if (isFloat)
      return arith::ConstantOp::create(ib, l, ib.getF32FloatAttr(0.0f));
    return arith::ConstantOp::create(ib, l, ib.getIntegerAttr(dstElem, 0));
  };
  auto combine = [&](OpBuilder &cb, Location l, Value acc, Value x) -> Value {
    if (kind == ReduceKind::AbsSum || kind == ReduceKind::AbsMax)
      x = isFloat ? Value(math::AbsFOp::create(cb, l, x)) : Value(math::AbsIOp::create(cb, l, x));
    switch (kind) {
    case ReduceKind::Sum:
    case ReduceKind::AbsSum:
      return isFloat ? Value(arith::AddFOp::create(cb, l, acc, x))
                     : Value(arith::AddIOp::create(cb, l, acc, x));
    case ReduceKind::Max:
    case ReduceKind::AbsMax:
      return isFloat ? Value(arith::MaxNumFOp::create(cb, l, acc, x))
                     : Value(arith::MaxSIOp::create(cb, l, acc, x));
    case ReduceKind::Min:
      return isFloat ? Value(arith::MinNumFOp::create(cb, l, acc, x))
                     : Value(arith::MinSIOp::create(cb, l, acc, x));
    }
    return acc;
  };

  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < st.getRank(); ++d)
    if (d != dim) {
      lbs.push_back(c0);
      ubs.push_back(cIdx(b, loc, st.getDimSize(d)));
      steps.push_back(c1);
    }
  scf::buildLoopNest(b, loc, lbs, ubs, steps, [&](OpBuilder &nb, Location l, ValueRange outer) {
    SmallVector<Value> di(outer.begin(), outer.end());
    if (di.empty())
      di.push_back(cIdx(nb, l, 0)); // 1-D src reduces into (1,)
    Value init = op.getClear() ? identity(nb, l)
                               : convert(nb, l, memref::LoadOp::create(nb, l, dst, di), accType);
    auto loop = scf::ForOp::create(
        nb, l, cIdx(nb, l, 0), cIdx(nb, l, st.getDimSize(dim)), cIdx(nb, l, 1),
        ValueRange{init}, [&](OpBuilder &fb, Location fl, Value j, ValueRange iter) {
          SmallVector<Value> si;
          size_t q = 0;
          for (int64_t d = 0; d < st.getRank(); ++d)
            si.push_back(d == dim ? j : outer[q++]);
          Value x = convert(fb, fl, memref::LoadOp::create(fb, fl, src, si), accType);
          scf::YieldOp::create(fb, fl, ValueRange{combine(fb, fl, iter[0], x)});
        });
    memref::StoreOp::create(nb, l, convert(nb, l, loop.getResult(0), dstElem), dst, di);
  });
  rewriter.eraseOp(op);
}

void KernelLowering::lowerTopK(TopKOp op) {
  // Selection: k passes over each row, each taking the largest value not yet
  // taken (strictly greater wins, so ties go to the lower index).
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value src = op.getSrc(), vals = op.getValues(), idxs = op.getIndices();
  auto st = cast<MemRefType>(src.getType());
  int64_t dim = op.getDim(), k = op.getK();
  int64_t rows = st.getDimSize(1 - dim), n = st.getDimSize(dim);
  Type elem = st.getElementType();
  Type f32 = b.getF32Type(), i32 = b.getI32Type(), i1 = b.getI1Type();
  Value taken = scratch(MemRefType::get({n}, b.getI8Type()));
  Value c0 = cIdx(b, loc, 0), c1 = cIdx(b, loc, 1);
  auto at = [&](Value r, Value j) {
    return dim == 1 ? SmallVector<Value>{r, j} : SmallVector<Value>{j, r};
  };
  scf::buildLoopNest(b, loc, {c0}, {cIdx(b, loc, rows)}, {c1}, [&](OpBuilder &nb, Location l,
                                                                   ValueRange rv) {
    Value r = rv[0];
    Value zero8 = arith::ConstantOp::create(nb, l, nb.getI8IntegerAttr(0));
    Value one8 = arith::ConstantOp::create(nb, l, nb.getI8IntegerAttr(1));
    scf::buildLoopNest(nb, l, {c0}, {cIdx(nb, l, n)}, {c1},
                       [&](OpBuilder &cb, Location cl, ValueRange j) {
                         memref::StoreOp::create(cb, cl, zero8, taken, j);
                       });
    scf::buildLoopNest(nb, l, {c0}, {cIdx(nb, l, k)}, {c1}, [&](OpBuilder &tb, Location tl,
                                                              ValueRange t) {
      Value none = cIdx(tb, tl, -1);
      Value negInf = arith::ConstantOp::create(
          tb, tl, tb.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
      auto scan = scf::ForOp::create(
          tb, tl, c0, cIdx(tb, tl, n), c1, ValueRange{negInf, none},
          [&](OpBuilder &fb, Location fl, Value j, ValueRange it) {
            Value x = convert(fb, fl, memref::LoadOp::create(fb, fl, src, at(r, j)), f32);
            Value free = arith::CmpIOp::create(fb, fl, arith::CmpIPredicate::eq,
                                               memref::LoadOp::create(fb, fl, taken, j), zero8);
            Value better = arith::CmpFOp::create(fb, fl, arith::CmpFPredicate::OGT, x, it[0]);
            Value first = arith::CmpIOp::create(fb, fl, arith::CmpIPredicate::eq, it[1], none);
            Value pick = arith::AndIOp::create(
                fb, fl, free, arith::OrIOp::create(fb, fl, better, first));
            (void)i1;
            scf::YieldOp::create(fb, fl,
                                 ValueRange{arith::SelectOp::create(fb, fl, pick, x, it[0]),
                                            arith::SelectOp::create(fb, fl, pick, j, it[1])});
          });
      Value best = scan.getResult(1);
      memref::StoreOp::create(tb, tl, one8, taken, ValueRange{best});
      Value v = memref::LoadOp::create(tb, tl, src, at(r, best));
      memref::StoreOp::create(tb, tl, v, vals, at(r, t[0]));
      memref::StoreOp::create(tb, tl, arith::IndexCastOp::create(tb, tl, i32, best), idxs,
                              at(r, t[0]));
    });
  });
  (void)elem;
  rewriter.eraseOp(op);
}

void KernelLowering::lowerAtomicAdd(AtomicAddOp op) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  Value dst = op.getDst(), value = op.getValue();
  bool isFloat = isa<FloatType>(getElementTypeOrSelf(value.getType()));
  auto kind = isFloat ? arith::AtomicRMWKind::addf : arith::AtomicRMWKind::addi;
  SmallVector<Value> idx(op.getIndices().begin(), op.getIndices().end());
  Type elem = cast<MemRefType>(dst.getType()).getElementType();
  if (elem.isBF16() || elem.isF16()) {
    // old + v in f32, rounded back to bf16/f16 (RNE): a compare-and-swap loop.
    auto lanes = dyn_cast<VectorType>(value.getType());
    int64_t n = lanes ? lanes.getNumElements() : 1;
    Value prev = lanes && op.getPrev() ? Value(ub::PoisonOp::create(b, loc, lanes)) : Value();
    Value scalarPrev;
    for (int64_t lane = 0; lane < n; ++lane) {
      SmallVector<Value> li = idx;
      li.back() = arith::AddIOp::create(b, loc, idx.back(), cIdx(b, loc, lane));
      Value x = lanes ? Value(vector::ExtractOp::create(b, loc, value, ArrayRef<int64_t>{lane}))
                      : value;
      auto rmw = memref::GenericAtomicRMWOp::create(b, loc, dst, li);
      {
        OpBuilder rb = OpBuilder::atBlockBegin(rmw.getBody());
        Value cur = rmw.getCurrentValue();
        Value sum = arith::AddFOp::create(rb, loc, convert(rb, loc, cur, rb.getF32Type()),
                                          convert(rb, loc, x, rb.getF32Type()));
        memref::AtomicYieldOp::create(rb, loc, convert(rb, loc, sum, elem));
      }
      if (prev)
        prev = vector::InsertOp::create(b, loc, rmw.getResult(), prev, ArrayRef<int64_t>{lane});
      scalarPrev = rmw.getResult();
    }
    if (op.getPrev())
      rewriter.replaceOp(op, lanes ? prev : scalarPrev);
    else
      rewriter.eraseOp(op);
    return;
  }
  Value result;
  if (auto vt = dyn_cast<VectorType>(value.getType())) {
    Value prev = op.getPrev() ? Value(ub::PoisonOp::create(b, loc, vt)) : Value();
    for (int64_t lane = 0; lane < vt.getNumElements(); ++lane) {
      SmallVector<Value> li = idx;
      li.back() = arith::AddIOp::create(b, loc, idx.back(), cIdx(b, loc, lane));
      Value x = vector::ExtractOp::create(b, loc, value, ArrayRef<int64_t>{lane});
      Value old = memref::AtomicRMWOp::create(b, loc, kind, x, dst, li);
      if (prev)
        prev = vector::InsertOp::create(b, loc, old, prev, ArrayRef<int64_t>{lane});
    }
    result = prev;
  } else {
    result = memref::AtomicRMWOp::create(b, loc, kind, value, dst, idx);
  }
  if (op.getPrev())
    rewriter.replaceOp(op, result);
  else
    rewriter.eraseOp(op);
}

} // namespace tlc::cpu
