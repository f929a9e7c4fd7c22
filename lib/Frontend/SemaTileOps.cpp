// The checkers of the tile operations (language.md §7): T.copy, T.clear,
// T.fill, T.gemm, the reductions, T.atomic_add and T.topk. The builtin table
// and the other checkers are in SemaBuiltins.cpp.
#include "SemaImpl.h"

#include "ConstEval.h"

#include <algorithm>

namespace tlc::sema {

namespace {
std::string calleeOf(const CallExpr &call) { return call.calleeName(); }
} // namespace

//===----------------------------------------------------------------------===//
// Tile operations
//===----------------------------------------------------------------------===//

namespace {
bool sameShape(std::vector<int64_t> a, std::vector<int64_t> b) {
  if (a == b)
    return true;
  // Unit dimensions do not change the element order: (64, 1) copies to (64,).
  a.erase(std::remove(a.begin(), a.end(), 1), a.end());
  b.erase(std::remove(b.begin(), b.end(), 1), b.end());
  return a == b;
}
bool hasDynamic(const std::vector<int64_t> &s) {
  return std::any_of(s.begin(), s.end(), [](int64_t d) { return d < 0; });
}
} // namespace

SemaValue Sema::checkCopy(CallExpr &call, BoundArgs &args) {
  Expr &src = *args.get(0);
  Expr &dst = *args.get(1);
  // TileLang's vector-width hint: accepted and checked, the lowering picks
  // its own widths (16-byte runs where the layout allows).
  if (Expr *w = args.get(3)) {
    std::optional<int64_t> width = constInt(*w, "coalesced_width of T.copy");
    if (!width)
      return {};
    if (*width < 1) {
      error(w->loc, "coalesced_width of T.copy must be at least 1, found " +
                        std::to_string(*width));
      return {};
    }
  }
  RegionForm fs = regionForm(src), fd = regionForm(dst);
  if (fs == RegionForm::StartIndex && fd == RegionForm::StartIndex) {
    error(src.loc, "T.copy: both operands are start-index regions, so neither gives the shape; "
                   "use a whole buffer or a slice a:a+N for one of them");
    return {};
  }
  std::optional<RegionInfo> rs, rd;
  std::vector<int64_t> shape;
  auto wholeDynamic = [&](Expr &e, const std::optional<RegionInfo> &r) {
    if (r && hasDynamic(r->shape())) {
      error(e.loc, "T.copy: '" + exprToString(e) + "' has a dynamic shape; copy a region with a "
                                                  "constant shape (start indices or slices)");
      return true;
    }
    return false;
  };
  auto sourceRegion = [&](const std::vector<int64_t> *other) {
    allowGather_ = true;
    std::optional<RegionInfo> r = region(src, "the source of T.copy", other);
    allowGather_ = false;
    return r;
  };
  if (fs != RegionForm::StartIndex) {
    rs = sourceRegion(nullptr);
    if (!rs || wholeDynamic(src, rs))
      return {};
    shape = rs->shape();
    rd = region(dst, "the destination of T.copy", &shape);
    if (!rd || wholeDynamic(dst, rd))
      return {};
  } else {
    rd = region(dst, "the destination of T.copy", nullptr);
    if (!rd || wholeDynamic(dst, rd))
      return {};
    shape = rd->shape();
    rs = sourceRegion(&shape);
    if (!rs)
      return {};
  }
  if (rs->gatherDim >= 0 && (rd->buffer->scope != MemScope::Shared || args.get(2))) {
    error(dst.loc, "T.copy gather: the destination must be shared memory, with no barrier "
                   "(a gather is a synchronous copy of the whole block)");
    return {};
  }
  if (!sameShape(rs->shape(), rd->shape())) {
    error(src.loc, "T.copy: source shape " + shapeToString(rs->shape()) +
                       " does not match destination shape " + shapeToString(rd->shape()));
    return {};
  }
  if (Expr *bar = args.get(2)) {
    SemaValue b = expr(*bar);
    if (b.kind == SemaValue::Unknown)
      return {};
    if (b.kind != SemaValue::Barrier) {
      error(bar->loc, "the barrier of T.copy must be a barrier bar[i], found " + describe(b));
      return {};
    }
    if (!isa<SubscriptExpr>(bar) && b.buffer && b.buffer->barrierCount != 1) {
      error(bar->loc, "the barrier of T.copy must be one barrier: index the array, bar[i]");
      return {};
    }
    if (rs->buffer->scope != MemScope::Global || rd->buffer->scope != MemScope::Shared) {
      error(bar->loc, "T.copy: a copy that completes on a barrier must go from global to shared "
                      "memory");
      return {};
    }
  }
  return makeNone();
}

/// Dimension d of a T.copy source region indexed by a buffer of row numbers
/// (language.md §6: a gather): checks it and records it in `info`.
bool Sema::gatherDimension(Expr &idx, size_t d, const BufferType &buf, const std::string &dimWhat,
                           RegionInfo &info) {
  // A gather: row i of this dimension is rows[i] (or Idx[..., a + i]).
  auto *rowsSub = dyn_cast<SubscriptExpr>(&idx);
  auto &rowsNameExpr = static_cast<NameExpr &>(rowsSub ? *rowsSub->base : idx);
  const BufferType &rows = *lookup(rowsNameExpr.name)->value.buffer;
  std::string rowsName = rowsNameExpr.name;
  if (!allowGather_) {
    error(idx.loc, dimWhat + " is the buffer '" + rowsName +
                       "': a buffer of row numbers may only index the source of T.copy "
                       "(a gather)");
    return false;
  }
  if (info.gatherDim >= 0) {
    error(idx.loc, "T.copy gathers along one dimension only; '" + rowsName +
                       "' is a second buffer of row numbers");
    return false;
  }
  int64_t count = 0;
  if (rowsSub) {
    // A slice of a global int32 tensor along its last dimension.
    if (buf.scope != MemScope::Global || rows.dtype != DType::I32 ||
        rows.scope != MemScope::Global) {
      error(idx.loc, "T.copy gather: the rows '" + exprToString(idx) +
                         "' must be a slice of a global int32 tensor (or a 1-D int32 "
                         "buffer), indexing a global tensor");
      return false;
    }
    std::optional<RegionInfo> rr = region(idx, "the rows of the T.copy gather", nullptr);
    if (!rr)
      return false;
    count = rr->sizes.back();
  } else {
    if (buf.scope != MemScope::Global || rows.dtype != DType::I32 ||
        (rows.scope != MemScope::Shared && rows.scope != MemScope::Global) ||
        !rows.shape[0].isStatic()) {
      error(idx.loc, "T.copy gather: the rows '" + rowsName +
                         "' must be a 1-D int32 buffer of static length in shared or "
                         "global memory, indexing a global tensor");
      return false;
    }
    expr(idx);
    count = rows.shape[0].size;
  }
  info.gatherDim = int(d);
  info.gatherRows = &idx;
  info.offsets.push_back(nullptr);
  info.sizes.push_back(count);
  info.kept.push_back(true);
  return true;
}

SemaValue Sema::checkClear(CallExpr &call, BoundArgs &args) {
  std::optional<RegionInfo> r = bufferOperand(*args.get(0), "the operand of " + calleeOf(call));
  if (!r)
    return {};
  if (hasDynamic(r->shape())) {
    error(args.get(0)->loc, calleeOf(call) + ": the operand has a dynamic shape");
    return {};
  }
  return makeNone();
}

SemaValue Sema::checkFill(CallExpr &call, BoundArgs &args) {
  SemaValue ok = checkClear(call, args);
  SemaValue value = expr(*args.get(1));
  if (ok.kind == SemaValue::Unknown || value.kind == SemaValue::Unknown)
    return {};
  if (!isNumeric(value)) {
    error(args.get(1)->loc, "the fill value of T.fill must be a number, found " + describe(value));
    return {};
  }
  return makeNone();
}

bool Sema::checkGemmScopes(const GemmOperands &g) {
  Expr &a = g.a, &b = g.b;
  Expr *c = g.c;
  const std::optional<RegionInfo> &rc = g.rc;
  // Scopes.
  MemScope sa = g.ra.buffer->scope, sb = g.rb.buffer->scope;
  if (sa != MemScope::Shared && sa != MemScope::Fragment) {
    error(a.loc, std::string("T.gemm: A must be in shared memory or a fragment, found a ") +
                     scopeName(sa) + " buffer");
    return false;
  }
  if (sb != MemScope::Shared) {
    error(b.loc, std::string("T.gemm: B must be in shared memory, found a ") + scopeName(sb) +
                     " buffer");
    return false;
  }
  if (rc && rc->buffer->scope != MemScope::Fragment && rc->buffer->scope != MemScope::TMem) {
    error(c->loc, std::string("T.gemm: the accumulator C must be a fragment (or tmem on sm_100a), "
                              "found a ") + scopeName(rc->buffer->scope) + " buffer");
    return false;
  }
  return true;
}

bool Sema::checkGemmShapes(GemmOperands &g) {
  Expr &a = g.a;
  Expr *c = g.c;
  bool ta = g.ta, tb = g.tb;
  const std::optional<RegionInfo> &rc = g.rc;
  // Shapes: op(A) is (M, K), op(B) is (K, N).
  std::vector<int64_t> as = g.ra.shape(), bs = g.rb.shape();
  int64_t m = ta ? as[1] : as[0], ka = ta ? as[0] : as[1];
  int64_t kb = tb ? bs[1] : bs[0], n = tb ? bs[0] : bs[1];
  if (ka != kb) {
    error(a.loc, "T.gemm: K of A (" + std::to_string(ka) + ") does not match K of B (" +
                     std::to_string(kb) + ")" +
                     (tb ? "" : "; B is (K, N) unless transpose_B=True"));
    return false;
  }
  if (rc) {
    std::vector<int64_t> cs = rc->shape();
    if (cs[0] != m) {
      error(c->loc, "T.gemm: M of C (" + std::to_string(cs[0]) + ") does not match M of A (" +
                        std::to_string(m) + ")");
      return false;
    }
    if (cs[1] != n) {
      error(c->loc, "T.gemm: N of C (" + std::to_string(cs[1]) + ") does not match N of B (" +
                        std::to_string(n) + ")");
      return false;
    }
  }
  g.m = m;
  g.n = n;
  g.k = ka;
  return true;
}

std::optional<DType> Sema::checkGemmDtypes(const GemmOperands &g, bool scaled) {
  Expr &a = g.a, &b = g.b;
  Expr *c = g.c;
  const std::optional<RegionInfo> &rc = g.rc;
  // Dtypes.
  DType da = g.ra.buffer->dtype, db = g.rb.buffer->dtype;
  auto mmaType = [](DType t) {
    return t == DType::F16 || t == DType::BF16 || t == DType::F32 || t == DType::F8E4M3 ||
           t == DType::F8E5M2 || t == DType::F4E2M1;
  };
  for (auto [t, e, which] : {std::tuple<DType, Expr *, const char *>{da, &a, "A"}, {db, &b, "B"}})
    if (!mmaType(t)) {
      error(e->loc, std::string("T.gemm: ") + which + " has dtype " + dtypeName(t) +
                        "; operands must be float16, bfloat16, float32, float8_e4m3, "
                        "float8_e5m2 or float4_e2m1");
      return std::nullopt;
    }
  bool narrowA = isNarrowFloat(da), narrowB = isNarrowFloat(db);
  bool fp8Mix = narrowA && narrowB && (da != DType::F4E2M1 || db != DType::F4E2M1);
  if (da != db && !fp8Mix) {
    error(b.loc, std::string("T.gemm: A is ") + dtypeName(da) + " but B is " + dtypeName(db) +
                     "; the operands must have the same dtype (or mix 8-bit floats with FP8/FP4)");
    return std::nullopt;
  }
  DType accum = DType::F32;
  if (rc) {
    DType dc = rc->buffer->dtype;
    bool f16Ok = (da == DType::F16 || narrowA) && !scaled;
    bool good = dc == DType::F32 || (dc == DType::F16 && f16Ok);
    if (!good) {
      error(c->loc, std::string("T.gemm: the accumulator C must be ") +
                        (f16Ok ? "float32 or float16" : "float32") + " for " + dtypeName(da) +
                        " operands" + (scaled ? " in the block-scaled form" : "") +
                        ", found " + dtypeName(dc));
      return std::nullopt;
    }
    accum = dc;
  }
  return accum;
}

bool Sema::checkGemmScales(CallExpr &call, BoundArgs &args, const GemmOperands &g) {
  Expr &a = g.a, &b = g.b;
  DType da = g.ra.buffer->dtype, db = g.rb.buffer->dtype;
  bool narrowA = isNarrowFloat(da), narrowB = isNarrowFloat(db);
  // Block-scaled form.
  Expr *scaleA = args.get(7), *scaleB = args.get(8), *scaleBlock = args.get(9);
  if ((scaleA != nullptr) != (scaleB != nullptr)) {
    error((scaleA ? scaleA : scaleB)->loc, "T.gemm: scale_A and scale_B must be given together");
    return false;
  }
  if (!scaleA) {
    if (scaleBlock) {
      error(scaleBlock->loc, "T.gemm: scale_block needs scale_A and scale_B");
      return false;
    }
    if (da == DType::F4E2M1 || db == DType::F4E2M1) {
      error(da == DType::F4E2M1 ? a.loc : b.loc,
            "T.gemm: float4_e2m1 operands need the block-scaled form (scale_A=..., scale_B=...)");
      return false;
    }
  } else {
    if (!narrowA || !narrowB) {
      error(narrowA ? b.loc : a.loc, std::string("T.gemm: the block-scaled form needs FP8 or FP4 "
                                                 "operands, found ") + dtypeName(narrowA ? db : da));
      return false;
    }
    int64_t block = 32;
    if (scaleBlock) {
      std::optional<int64_t> sbv = constInt(*scaleBlock, "scale_block of T.gemm");
      if (!sbv)
        return false;
      block = *sbv;
      if (block <= 0 || g.k % block != 0) {
        error(scaleBlock->loc, "T.gemm: scale_block (" + std::to_string(block) +
                                   ") must be positive and divide K (" + std::to_string(g.k) + ")");
        return false;
      }
    } else if (g.k % block != 0) {
      error(call.loc, "T.gemm: K (" + std::to_string(g.k) + ") is not a multiple of the default "
                      "scale_block 32");
      return false;
    }
    std::optional<RegionInfo> rsa = bufferOperand(*scaleA, "scale_A of T.gemm");
    std::optional<RegionInfo> rsb = bufferOperand(*scaleB, "scale_B of T.gemm");
    if (!rsa || !rsb)
      return false;
    for (auto [r, e, rows, which] :
         {std::tuple<RegionInfo *, Expr *, int64_t, const char *>{&*rsa, scaleA, g.m, "scale_A"},
          {&*rsb, scaleB, g.n, "scale_B"}}) {
      DType t = r->buffer->dtype;
      if (r->buffer->scope == MemScope::Global) {
        error(e->loc, std::string("T.gemm: ") + which + " must be on chip (shared, fragment, local "
                      "or tmem); T.copy the scales in first");
        return false;
      }
      if (t != DType::UE8M0 && t != DType::F32) {
        error(e->loc, std::string("T.gemm: ") + which + " must be ue8m0 or float32, found " + dtypeName(t));
        return false;
      }
      std::vector<int64_t> want = {rows, g.k / block};
      if (r->shape() != want) {
        error(e->loc, std::string("T.gemm: ") + which + " has shape " + shapeToString(r->shape()) +
                          ", expected " + shapeToString(want) + " (one scale per " +
                          std::to_string(block) + " elements of K)");
        return false;
      }
    }
  }
  return true;
}

SemaValue Sema::checkGemm(CallExpr &call, BoundArgs &args) {
  Expr &a = *args.get(0);
  Expr &b = *args.get(1);
  Expr *c = args.get(2);
  bool ok = true;
  // TileLang's k_pack packs K for AMD's MFMA; NVIDIA MMAs take 1 only.
  if (Expr *kp = args.get(10)) {
    std::optional<int64_t> k = constInt(*kp, "k_pack of T.gemm");
    if (!k)
      return {};
    if (*k != 1) {
      error(kp->loc, "k_pack of T.gemm must be 1 on NVIDIA GPUs (it packs K for AMD's MFMA), "
                     "found " + std::to_string(*k));
      return {};
    }
  }
  auto flag = [&](size_t i, const char *what) {
    if (Expr *e = args.get(i)) {
      std::optional<bool> v = constBool(*e, std::string(what) + " of T.gemm");
      ok &= v.has_value();
      return v.value_or(false);
    }
    return false;
  };
  bool ta = flag(3, "transpose_A"), tb = flag(4, "transpose_B");
  flag(5, "clear_accum");
  if (Expr *p = args.get(6)) {
    SemaValue pv = expr(*p);
    if (pv.kind != SemaValue::Unknown &&
        !(pv.kind == SemaValue::Builtin && pv.constant &&
          std::holds_alternative<std::string>(*pv.constant))) {
      error(p->loc, "policy of T.gemm must be T.GemmWarpPolicy.Square, FullRow or FullCol, found " +
                        describe(pv));
      ok = false;
    }
  }
  std::optional<RegionInfo> ra = bufferOperand(a, "A of T.gemm");
  std::optional<RegionInfo> rb = bufferOperand(b, "B of T.gemm");
  std::optional<RegionInfo> rc;
  if (c)
    rc = bufferOperand(*c, "C of T.gemm");
  if (!ra || !rb || (c && !rc) || !ok)
    return {};
  auto rank2 = [&](const RegionInfo &r, Expr &e, const char *which) {
    if (r.shape().size() != 2) {
      error(e.loc, std::string("T.gemm: ") + which + " must be 2-D, found shape " +
                       shapeToString(r.shape()));
      return false;
    }
    return true;
  };
  if (!rank2(*ra, a, "A") || !rank2(*rb, b, "B") || (rc && !rank2(*rc, *c, "C")))
    return {};
  GemmOperands g{a, b, c, *ra, *rb, rc, ta, tb};
  if (!checkGemmScopes(g) || !checkGemmShapes(g))
    return {};
  std::optional<DType> accumType = checkGemmDtypes(g, args.get(7) != nullptr);
  if (!accumType || !checkGemmScales(call, args, g))
    return {};
  DType accum = *accumType;
  int64_t m = g.m, n = g.n;
  if (c)
    return makeNone();
  // `part = T.gemm(A, B)`: a fresh (M, N) fragment.
  auto buf = std::make_shared<BufferType>();
  buf->scope = MemScope::Fragment;
  buf->dtype = accum;
  buf->shape = {Dim{m, ""}, Dim{n, ""}};
  return makeBuffer(buf);
}

SemaValue Sema::checkReduce(CallExpr &call, BoundArgs &args) {
  std::string name = calleeOf(call);
  Expr &src = *args.get(0);
  Expr &dst = *args.get(1);
  std::optional<RegionInfo> rs = bufferOperand(src, "the source of " + name);
  std::optional<RegionInfo> rd = bufferOperand(dst, "the destination of " + name);
  if (!rs || !rd)
    return {};
  std::vector<int64_t> ss = rs->shape();
  int64_t rank = static_cast<int64_t>(ss.size());
  int64_t dim = -1;
  if (Expr *d = args.get(2)) {
    std::optional<int64_t> v = constInt(*d, "dim of " + name);
    if (!v)
      return {};
    dim = *v;
    if (dim < -rank || dim >= rank) {
      error(d->loc, name + ": dim " + std::to_string(dim) + " is out of range for the rank-" +
                        std::to_string(rank) + " source (expected " + std::to_string(-rank) +
                        ".." + std::to_string(rank - 1) + ")");
      return {};
    }
  }
  if (dim < 0)
    dim += rank;
  if (Expr *c = args.get(3))
    if (!constBool(*c, "clear of " + name))
      return {};
  if (hasDynamic(ss)) {
    error(src.loc, name + ": the source has a dynamic shape");
    return {};
  }
  std::vector<int64_t> want = ss;
  want.erase(want.begin() + dim);
  if (want.empty())
    want.push_back(1);
  if (rd->shape() != want) {
    error(dst.loc, name + ": destination shape " + shapeToString(rd->shape()) +
                       " does not match the source shape " + shapeToString(ss) + " without dim " +
                       std::to_string(dim) + ": " + shapeToString(want));
    return {};
  }
  for (auto [r, e] : {std::pair<RegionInfo *, Expr *>{&*rs, &src}, {&*rd, &dst}}) {
    if (r->buffer->scope == MemScope::Global || r->buffer->scope == MemScope::TMem) {
      error(e->loc, name + ": operands must be fragment, local or shared buffers, found a " +
                        scopeName(r->buffer->scope) + " buffer");
      return {};
    }
    DType t = r->buffer->dtype;
    if (!(t == DType::F16 || t == DType::BF16 || t == DType::F32 || t == DType::I32 ||
          t == DType::I64)) {
      error(e->loc, name + ": cannot reduce " + dtypeName(t) +
                        " values (float16, bfloat16, float32, int32 or int64); T.copy them into "
                        "a float32 fragment first");
      return {};
    }
  }
  if (rs->buffer->dtype != rd->buffer->dtype &&
      !(isFloat(rs->buffer->dtype) && isFloat(rd->buffer->dtype))) {
    error(dst.loc, name + ": source is " + dtypeName(rs->buffer->dtype) + " but destination is " +
                       dtypeName(rd->buffer->dtype));
    return {};
  }
  return makeNone();
}

SemaValue Sema::checkAtomicAdd(CallExpr &call, BoundArgs &args) {
  Expr &dst = *args.get(0);
  Expr &value = *args.get(1);
  bool returnPrev = false;
  if (Expr *rp = args.get(2)) {
    std::optional<bool> v = constBool(*rp, "return_prev of T.atomic_add");
    if (!v)
      return {};
    returnPrev = *v;
  }
  RegionForm form = regionForm(dst);
  if (form == RegionForm::Whole) {
    error(dst.loc, "T.atomic_add: the destination must be an element C[i, j] or a slice of 2 or 4 "
                   "contiguous elements C[i, j:j+2]");
    return {};
  }
  std::optional<RegionInfo> r;
  DType dt;
  if (form == RegionForm::StartIndex) {
    SemaValue e = expr(dst);
    if (e.kind == SemaValue::Unknown)
      return {};
    if (e.kind != SemaValue::Element) {
      error(dst.loc, "T.atomic_add: the destination must be an element, found " + describe(e));
      return {};
    }
    RegionInfo info;
    auto &sub = static_cast<SubscriptExpr &>(dst);
    info.base = sub.base.get();
    info.symbol = dyn_cast<NameExpr>(sub.base.get()) ? static_cast<NameExpr *>(sub.base.get())->symbol : nullptr;
    info.buffer = e.buffer;
    for (ExprPtr &i : sub.indices) {
      info.offsets.push_back(i.get());
      info.sizes.push_back(1);
      info.kept.push_back(false);
    }
    result_.regions[&dst] = info;
    dt = e.dtype;
    SemaValue v = expr(value);
    if (v.kind == SemaValue::Unknown || !checkArithOperand(v, value.loc, "the value of T.atomic_add"))
      return {};
  } else {
    r = region(dst, "the destination of T.atomic_add", nullptr);
    if (!r)
      return {};
    std::vector<int64_t> s = r->shape();
    bool lastOnly = s.size() == 1 && r->kept.back();
    if (!lastOnly || (s[0] != 2 && s[0] != 4)) {
      error(dst.loc, "T.atomic_add: a vector atomic covers 2 or 4 contiguous elements of the last "
                     "dimension, found shape " + shapeToString(s));
      return {};
    }
    dt = r->buffer->dtype;
    // Unlike copies, a vector atomic may not hang over the edge of a tensor.
    size_t last = r->sizes.size() - 1;
    const Expr *off = r->offsets[last];
    int64_t lastDim = r->buffer->shape[last].size;
    if (off && isConstInt(off->sema) && lastDim >= 0 &&
        std::get<int64_t>(*off->sema.constant) + s[0] > lastDim) {
      error(off->loc, "T.atomic_add: the vector of " + std::to_string(s[0]) + " at index " +
                          std::to_string(std::get<int64_t>(*off->sema.constant)) +
                          " overruns the last dimension (size " + std::to_string(lastDim) + ")");
      return {};
    }
    if (!isFloat(dt)) {
      error(dst.loc, "T.atomic_add: vector atomics need a float destination, found " +
                         std::string(dtypeName(dt)));
      return {};
    }
    std::optional<RegionInfo> rv = bufferOperand(value, "the value of T.atomic_add");
    if (!rv)
      return {};
    if (rv->buffer->scope != MemScope::Local || rv->buffer->dtype != dt) {
      error(value.loc, std::string("T.atomic_add: the value of a vector atomic must be a local ") +
                           dtypeName(dt) + " buffer");
      return {};
    }
    if (!sameShape(rv->shape(), s)) {
      error(value.loc, "T.atomic_add: the value has shape " + shapeToString(rv->shape()) +
                           " but the destination covers " + shapeToString(s));
      return {};
    }
    if (returnPrev) {
      error(args.get(2)->loc, "T.atomic_add: return_prev=True is supported for single elements only");
      return {};
    }
  }
  if (auto it = result_.regions.find(&dst); it != result_.regions.end() &&
      it->second.buffer->scope != MemScope::Global && it->second.buffer->scope != MemScope::Shared) {
    error(dst.loc, std::string("T.atomic_add: the destination must be in global or shared memory, "
                               "found a ") + scopeName(it->second.buffer->scope) + " buffer");
    return {};
  }
  if (!(dt == DType::F32 || dt == DType::F16 || dt == DType::BF16 || dt == DType::I32 ||
        dt == DType::I64)) {
    error(dst.loc, std::string("T.atomic_add: atomics on ") + dtypeName(dt) +
                       " are not supported (float32, float16, bfloat16, int32, int64)");
    return {};
  }
  return returnPrev ? makeScalar(dt) : makeNone();
}

SemaValue Sema::checkTopk(CallExpr &, BoundArgs &args) {
  Expr &src = *args.get(0);
  Expr &vals = *args.get(1);
  Expr &idx = *args.get(2);
  std::optional<int64_t> k = constInt(*args.get(3), "k of T.topk");
  std::optional<RegionInfo> rs = bufferOperand(src, "the source of T.topk");
  std::optional<RegionInfo> rv = bufferOperand(vals, "the values of T.topk");
  std::optional<RegionInfo> ri = bufferOperand(idx, "the indices of T.topk");
  if (!k || !rs || !rv || !ri)
    return {};
  if (Expr *d = args.get(4)) {
    std::optional<int64_t> dim = constInt(*d, "dim of T.topk");
    if (!dim)
      return {};
    if (*dim != -1 && *dim != 1) {
      error(d->loc, "T.topk works along the rows: dim must be -1 or 1, found " + std::to_string(*dim));
      return {};
    }
  }
  std::vector<int64_t> ss = rs->shape();
  if (ss.size() != 2 || hasDynamic(ss)) {
    error(src.loc, "T.topk: the source must be 2-D (R, C) with a static shape, found " + shapeToString(ss));
    return {};
  }
  if (*k < 1 || *k > ss[1]) {
    error(args.get(3)->loc, "T.topk: k must be in 1.." + std::to_string(ss[1]) + ", found " +
                                std::to_string(*k));
    return {};
  }
  std::vector<int64_t> want = {ss[0], *k};
  if (rv->shape() != want) {
    error(vals.loc, "T.topk: values has shape " + shapeToString(rv->shape()) + ", expected " +
                        shapeToString(want));
    return {};
  }
  if (ri->shape() != want) {
    error(idx.loc, "T.topk: indices has shape " + shapeToString(ri->shape()) + ", expected " +
                       shapeToString(want));
    return {};
  }
  if (ri->buffer->dtype != DType::I32) {
    error(idx.loc, std::string("T.topk: indices must be int32, found ") + dtypeName(ri->buffer->dtype));
    return {};
  }
  if (isNarrowFloat(rs->buffer->dtype)) {
    error(src.loc, std::string("T.topk: cannot rank ") + dtypeName(rs->buffer->dtype) +
                       " values; convert them first");
    return {};
  }
  if (rv->buffer->dtype != rs->buffer->dtype) {
    error(vals.loc, std::string("T.topk: values must have the source dtype ") +
                        dtypeName(rs->buffer->dtype) + ", found " + dtypeName(rv->buffer->dtype));
    return {};
  }
  for (auto [r, e] : {std::pair<RegionInfo *, Expr *>{&*rs, &src}, {&*rv, &vals}, {&*ri, &idx}})
    if (r->buffer->scope == MemScope::Global || r->buffer->scope == MemScope::TMem) {
      error(e->loc, std::string("T.topk: operands must be fragment, local or shared buffers, found a ") +
                        scopeName(r->buffer->scope) + " buffer");
      return {};
    }
  return makeNone();
}

} // namespace tlc::sema
