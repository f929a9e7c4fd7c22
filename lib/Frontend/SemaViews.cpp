// Views of on-chip buffers (language.md §6): sub-buffers taken by subscripts
// (`ring[s]`, `tile[:, 0:64]`) as operands of tile operations or bound to
// names, and whole buffers read in another shape or dtype (T.reshape,
// T.view). Code generation turns them into tl.view and tl.reshape.
#include "SemaImpl.h"

namespace tlc::sema {

namespace {
std::string calleeName(const CallExpr &call) { return call.calleeName(); }

int64_t bitsOf(const std::vector<int64_t> &shape, DType t) {
  int64_t n = dtypeBits(t);
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::vector<int64_t> staticShape(const BufferType &b) {
  std::vector<int64_t> s;
  for (const Dim &d : b.shape)
    s.push_back(d.size);
  return s;
}
} // namespace

std::optional<RegionInfo> Sema::bufferOperand(Expr &e, const std::string &what) {
  RegionForm form = regionForm(e);
  if (form == RegionForm::Whole)
    return region(e, what, nullptr);
  if (form == RegionForm::StartIndex) {
    expr(e);
    error(e.loc, what + " must be a buffer or a view of an on-chip one (buf[i], buf[a:b, :]); "
                        "a start-index region such as '" +
                     exprToString(e) + "' is a T.copy operand only");
    return std::nullopt;
  }
  std::optional<RegionInfo> r = region(e, what, nullptr);
  if (!r)
    return std::nullopt;
  if (r->buffer->scope == MemScope::Global) {
    error(e.loc, what + ": a region of a global tensor is a T.copy operand only; copy it to an "
                        "on-chip buffer first");
    return std::nullopt;
  }
  if (viewValue(e, *r).kind == SemaValue::Unknown)
    return std::nullopt;
  return r;
}

SemaValue Sema::viewValue(Expr &e, const RegionInfo &r) {
  std::string name = exprToString(*r.base);
  if (r.buffer->scope == MemScope::TMem) {
    error(e.loc, "views of tensor memory ('" + name + "') are not supported; use the whole buffer");
    return {};
  }
  if (inParallel()) {
    error(e.loc, "a view of '" + name + "' cannot be taken inside T.Parallel; index its elements "
                 "instead, or take the view outside the loop");
    return {};
  }
  auto buf = std::make_shared<BufferType>();
  buf->scope = r.buffer->scope;
  buf->dtype = r.buffer->dtype;
  buf->view = true;
  for (int64_t s : r.shape())
    buf->shape.push_back(Dim{s, ""});
  e.sema = makeBuffer(buf);
  return e.sema;
}

SemaValue Sema::checkReshape(CallExpr &call, BoundArgs &args) {
  std::string name = calleeName(call);
  Expr &src = *args.get(0);
  SemaValue s = expr(src);
  if (s.kind == SemaValue::Unknown)
    return {};
  if (inParallel()) {
    error(call.loc, name + " cannot appear inside T.Parallel; take the view outside the loop");
    return {};
  }
  if (s.kind != SemaValue::Buffer || !s.buffer) {
    error(src.loc, name + ": the source must be a buffer, found " + describe(s));
    return {};
  }
  const BufferType &b = *s.buffer;
  std::string srcName = exprToString(src);
  if (b.scope == MemScope::Global || b.scope == MemScope::TMem) {
    error(src.loc, name + " of a " + scopeName(b.scope) + " buffer is not supported" +
                       (b.scope == MemScope::Global
                            ? "; declare the tensor with the shape you need (T.Tensor[...])"
                            : ""));
    return {};
  }
  if (b.view) {
    error(src.loc, name + ": '" + srcName + "' is a view of part of a buffer; " + name +
                       " takes a whole buffer");
    return {};
  }
  DType dt = b.dtype;
  if (Expr *d = args.get(2)) {
    std::optional<DType> t = constDType(*d, "the dtype of " + name);
    if (!t)
      return {};
    dt = *t;
  }
  std::vector<int64_t> shape = staticShape(b);
  if (Expr *sh = args.get(1)) {
    std::optional<std::vector<int64_t>> s2 = constShape(*sh, "the shape of " + name);
    if (!s2)
      return {};
    shape = *s2;
  }
  SourceLoc where = args.get(1) ? args.get(1)->loc : call.loc;
  if (dt != b.dtype) {
    if (b.scope == MemScope::Fragment) {
      error(src.loc, name + ": a fragment's elements are spread over the threads by the "
                            "compiler, so its bytes cannot be read as another dtype; use a "
                            "shared or local buffer");
      return {};
    }
    for (DType t : {b.dtype, dt})
      if (t == DType::Bool || t == DType::F4E2M1) {
        error(args.get(2)->loc, name + ": " + dtypeName(t) +
                                    " elements cannot be reinterpreted as another dtype");
        return {};
      }
  }
  int64_t want = bitsOf(staticShape(b), b.dtype), have = bitsOf(shape, dt);
  if (want != have) {
    std::string what = dt == b.dtype ? std::to_string(have / dtypeBits(dt)) + " elements"
                                     : std::to_string(have / 8) + " bytes";
    std::string from = dt == b.dtype ? std::to_string(want / dtypeBits(dt)) + " elements"
                                     : std::to_string(want / 8) + " bytes";
    error(where, name + ": the shape " + shapeToString(shape) + " holds " + what + " but '" +
                     srcName + "' " + shapeToString(staticShape(b)) + " holds " + from);
    return {};
  }
  auto buf = std::make_shared<BufferType>();
  buf->scope = b.scope;
  buf->dtype = dt;
  for (int64_t d : shape)
    buf->shape.push_back(Dim{d, ""});
  return makeBuffer(buf);
}

} // namespace tlc::sema
