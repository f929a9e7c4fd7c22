// The T.* builtin table (one row per builtin: parameters, arity, where it may
// appear, and its checker) and the checkers themselves (language.md §7).
#include "SemaImpl.h"

#include "ConstEval.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tlc::sema {

namespace {
using S = Sema;
const std::vector<BuiltinSpec> &builtinTable() {
  static const std::vector<BuiltinSpec> table = [] {
    std::vector<BuiltinSpec> t;
    auto add = [&](const char *name, std::vector<const char *> params, unsigned required,
                   SemaValue (Sema::*check)(CallExpr &, BoundArgs &)) {
      BuiltinSpec b;
      b.name = name;
      b.params = std::move(params);
      b.required = required;
      b.check = check;
      t.push_back(b);
      return &t.back();
    };
    auto variadic = [&](const char *name, unsigned minVar, unsigned maxVar,
                        std::vector<const char *> kw, unsigned requiredKw, BuiltinUse use,
                        SemaValue (Sema::*check)(CallExpr &, BoundArgs &)) {
      BuiltinSpec b;
      b.name = name;
      b.params = std::move(kw);
      b.required = requiredKw;
      b.variadic = true;
      b.minVar = minVar;
      b.maxVar = maxVar;
      b.use = use;
      b.check = check;
      t.push_back(b);
    };
    // Launch and ids.
    variadic("T.Kernel", 1, 3, {"threads", "cluster"}, 1, BuiltinUse::Kernel, &S::checkKernelCall);
    add("T.thread_id", {"dim"}, 0, &S::checkThreadId);
    add("T.block_id", {"dim"}, 0, &S::checkThreadId);
    add("T.num_threads", {}, 0, &S::checkNumThreads);
    add("T.warp_id", {}, 0, &S::checkWarpLane);
    add("T.lane_id", {}, 0, &S::checkWarpLane);
    add("T.sync_threads", {"barrier_id", "thread_count"}, 0, &S::checkSyncThreads);
    add("T.use_swizzle", {"panel_size", "enable"}, 1, &S::checkUseSwizzle);
    // Warp-level exchange (all 32 lanes of the warp take part).
    add("T.shfl_xor", {"value", "lane_mask"}, 2, &S::checkShuffle);
    add("T.shfl_down", {"value", "delta"}, 2, &S::checkShuffle);
    add("T.shfl_up", {"value", "delta"}, 2, &S::checkShuffle);
    add("T.shfl_sync", {"value", "src_lane"}, 2, &S::checkShuffle);
    add("T.any_sync", {"pred"}, 1, &S::checkVote);
    add("T.all_sync", {"pred"}, 1, &S::checkVote);
    add("T.ballot_sync", {"pred"}, 1, &S::checkVote);
    add("T.match_any_sync", {"value"}, 1, &S::checkMatchAny);
    // Loops.
    variadic("range", 1, 3, {}, 0, BuiltinUse::Loop, &S::checkLoopCall);
    variadic("T.serial", 1, 3, {}, 0, BuiltinUse::Loop, &S::checkLoopCall);
    variadic("T.unroll", 1, 3, {}, 0, BuiltinUse::Loop, &S::checkLoopCall);
    variadic("T.Parallel", 1, 8, {}, 0, BuiltinUse::Loop, &S::checkLoopCall);
    // T.Pipelined(n) or T.Pipelined(start, stop), as TileLang's; num_stages is keyword-only.
    variadic("T.Pipelined", 1, 2, {"num_stages"}, 0, BuiltinUse::Loop, &S::checkLoopCall);
    // Allocation.
    add("T.alloc_shared", {"shape", "dtype"}, 2, &S::checkAlloc);
    add("T.alloc_fragment", {"shape", "dtype"}, 2, &S::checkAlloc);
    add("T.alloc_local", {"shape", "dtype"}, 2, &S::checkAlloc);
    add("T.alloc_tmem", {"shape", "dtype"}, 2, &S::checkAlloc);
    add("T.alloc_barrier", {"arrive_count", "count"}, 1, &S::checkAllocBarrier);
    // Views of a whole on-chip buffer.
    add("T.reshape", {"src", "shape"}, 2, &S::checkReshape);
    add("T.view", {"src", "shape", "dtype"}, 1, &S::checkReshape);
    // Tile operations.
    add("T.copy", {"src", "dst", "barrier", "coalesced_width"}, 2, &S::checkCopy);
    add("T.clear", {"buf"}, 1, &S::checkClear);
    add("T.fill", {"buf", "value"}, 2, &S::checkFill);
    add("T.gemm",
        {"A", "B", "C", "transpose_A", "transpose_B", "clear_accum", "policy", "scale_A",
         "scale_B", "scale_block", "k_pack"},
        2, &S::checkGemm);
    for (const char *r : {"T.reduce_sum", "T.reduce_max", "T.reduce_min", "T.reduce_abssum",
                          "T.reduce_absmax"})
      add(r, {"src", "dst", "dim", "clear"}, 2, &S::checkReduce);
    add("T.atomic_add", {"dst", "value", "return_prev"}, 2, &S::checkAtomicAdd);
    add("T.topk", {"src", "values", "indices", "k", "dim"}, 4, &S::checkTopk);
    // Barriers.
    add("T.barrier_arrive", {"bar"}, 1, &S::checkBarrierOp);
    add("T.barrier_expect_tx", {"bar", "bytes"}, 2, &S::checkBarrierOp);
    add("T.barrier_wait", {"bar", "parity"}, 2, &S::checkBarrierOp);
    // Scalar math.
    for (const char *m : {"T.exp", "T.exp2", "T.log", "T.log2", "T.sqrt", "T.rsqrt", "T.sigmoid",
                          "T.softplus", "T.tanh", "T.abs", "T.ceil", "T.floor", "T.round"})
      add(m, {"x"}, 1, &S::checkUnaryMath);
    add("T.max", {"a", "b"}, 2, &S::checkMinMax);
    add("T.min", {"a", "b"}, 2, &S::checkMinMax);
    add("T.clamp", {"x", "lo", "hi"}, 3, &S::checkClamp);
    add("T.if_then_else", {"cond", "a", "b"}, 3, &S::checkIfThenElse);
    add("T.ceildiv", {"a", "b"}, 2, &S::checkCeilDiv);
    add("T.byte_perm", {"a", "b", "sel"}, 3, &S::checkBytePerm);
    add("T.infinity", {"dtype"}, 1, &S::checkInfNan);
    add("T.nan", {"dtype"}, 1, &S::checkInfNan);
    // Conversion.
    add("T.cast", {"x", "dtype"}, 2, &S::checkCast);
    add("T.reinterpret", {"x", "dtype"}, 2, &S::checkReinterpret);
    add("T.quantize", {"x", "scale", "dtype"}, 3, &S::checkQuantize);
    add("T.dequantize", {"q", "scale"}, 2, &S::checkDequantize);
    // Debugging.
    add("T.print", {"value", "msg"}, 1, &S::checkPrint);
    add("T.assert", {"cond", "msg"}, 1, &S::checkAssert);
    return t;
  }();
  return table;
}

size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string paramList(const BuiltinSpec &spec) {
  std::string s;
  if (spec.variadic)
    s = "...";
  for (size_t i = 0; i < spec.params.size(); ++i) {
    if (!s.empty())
      s += ", ";
    s += spec.params[i];
    if (i >= spec.required)
      s += "=...";
  }
  return s;
}

bool isBoolValue(const SemaValue &v) {
  return isConstBool(v) ||
         ((v.kind == SemaValue::Scalar || v.kind == SemaValue::Element) && v.dtype == DType::Bool);
}

std::string calleeOf(const CallExpr &call) { return call.calleeName(); }
} // namespace

const BuiltinSpec *findBuiltin(const std::string &name) {
  for (const BuiltinSpec &b : builtinTable())
    if (name == b.name)
      return &b;
  return nullptr;
}

std::string closestBuiltin(const std::string &name) {
  std::string best;
  size_t bestDist = 3;
  auto consider = [&](const std::string &candidate) {
    size_t d = editDistance(name, candidate);
    if (d < bestDist) {
      bestDist = d;
      best = candidate;
    }
  };
  for (const BuiltinSpec &b : builtinTable())
    consider(b.name);
  consider("T.arch");
  for (int t = 0; t <= static_cast<int>(DType::UE8M0); ++t)
    consider(std::string("T.") + dtypeName(static_cast<DType>(t)));
  return best;
}

//===----------------------------------------------------------------------===//
// Calls: resolution and argument binding
//===----------------------------------------------------------------------===//

SemaValue Sema::callExpr(CallExpr &call, BuiltinUse use) {
  SemaValue none;
  std::string name = call.calleeName();
  if (name.empty()) {
    error(call.callee->loc, "only T.* builtins and range can be called");
    return none;
  }
  const BuiltinSpec *spec = findBuiltin(name);
  if (!spec) {
    if (name == "T.arch") {
      error(call.callee->loc, "T.arch is a string constant, not a function: write T.arch");
      for (ExprPtr &a : call.args)
        expr(*a);
      return none;
    }
    if (name.rfind("T.", 0) == 0 && parseDType(name.substr(2))) {
      // TileLang and numpy spell conversions as calls of the dtype; here it is a name.
      error(call.callee->loc, "'" + name + "' is a dtype, not a function: convert with T.cast(x, " +
                                  name + ")");
      for (ExprPtr &a : call.args)
        expr(*a);
      return none;
    }
    if (name.rfind("T.", 0) == 0) {
      error(call.callee->loc, "unknown builtin '" + name + "'");
      std::string close = closestBuiltin(name);
      if (!close.empty() && close != name)
        note(call.callee->loc, "did you mean '" + close + "'?");
    } else if (Symbol *sym = lookup(name); sym && sym->kind == SymbolKind::Macro) {
      error(call.callee->loc, "macro '" + name + "' expands to statements and gives no value; "
                              "call it on a line of its own");
      for (ExprPtr &a : call.args)
        expr(*a);
    } else if (lookup(name)) {
      error(call.callee->loc, "'" + name + "' is not callable");
    } else {
      error(call.callee->loc, "unknown function '" + name + "'");
    }
    return none;
  }
  SemaValue calleeValue;
  calleeValue.kind = SemaValue::Builtin;
  call.callee->sema = calleeValue;
  if (spec->use != use) {
    if (spec->use == BuiltinUse::Loop)
      error(call.loc, name + "(...) can only be the iterable of a for loop");
    else if (spec->use == BuiltinUse::Kernel)
      error(call.loc, "T.Kernel can only appear as the kernel body's `with T.Kernel(...) as ...:`");
    else
      error(call.loc, name + "(...) cannot be used here");
    return none;
  }

  BoundArgs bound;
  bound.args.assign(spec->params.size(), nullptr);
  bool ok = true;
  if (spec->variadic) {
    for (ExprPtr &a : call.args)
      bound.varargs.push_back(a.get());
    size_t n = bound.varargs.size();
    if (n < spec->minVar || n > spec->maxVar) {
      std::string range = spec->minVar == spec->maxVar
                              ? std::to_string(spec->minVar)
                              : std::to_string(spec->minVar) + " to " + std::to_string(spec->maxVar);
      error(n > spec->maxVar ? call.args[spec->maxVar]->loc : call.loc,
            name + " expects " + range + " positional argument" + (spec->maxVar == 1 ? "" : "s") +
                ", got " + std::to_string(n));
      ok = false;
    }
  } else {
    if (call.args.size() > spec->params.size()) {
      error(call.args[spec->params.size()]->loc,
            name + " takes at most " + std::to_string(spec->params.size()) + " argument" +
                (spec->params.size() == 1 ? "" : "s") + " (" + paramList(*spec) + "), got " +
                std::to_string(call.args.size()));
      ok = false;
    }
    for (size_t i = 0; i < call.args.size() && i < spec->params.size(); ++i)
      bound.args[i] = call.args[i].get();
  }
  for (KeywordArg &kw : call.kwargs) {
    auto it = std::find_if(spec->params.begin(), spec->params.end(),
                           [&](const char *p) { return kw.name == p; });
    if (it == spec->params.end()) {
      error(kw.loc, name + " has no keyword argument '" + kw.name + "'" +
                        (spec->params.empty() ? "" : " (expected " + paramList(*spec) + ")"));
      ok = false;
      continue;
    }
    size_t i = static_cast<size_t>(it - spec->params.begin());
    if (bound.args[i]) {
      error(kw.loc, name + ": argument '" + kw.name + "' is given twice");
      ok = false;
      continue;
    }
    bound.args[i] = kw.value.get();
  }
  for (size_t i = 0; i < spec->required && i < spec->params.size(); ++i)
    if (!bound.args[i] && ok) {
      error(call.loc, name + " is missing its argument '" + spec->params[i] + "' (" +
                          paramList(*spec) + ")");
      ok = false;
    }
  if (!ok) {
    // Still analyse the arguments so that errors inside them are reported.
    for (ExprPtr &a : call.args)
      if (!isa<SliceExpr>(a.get()) && !isa<TupleExpr>(a.get()) && !isa<SubscriptExpr>(a.get()))
        expr(*a);
    return none;
  }
  SemaValue v = (this->*(spec->check))(call, bound);
  CallInfo info;
  info.builtin = name;
  info.paramNames = spec->params;
  for (Expr *a : bound.args)
    info.args.push_back(a);
  for (Expr *a : bound.varargs)
    info.varargs.push_back(a);
  result_.calls[&call] = std::move(info);
  return v;
}

//===----------------------------------------------------------------------===//
// Launch, ids, loops
//===----------------------------------------------------------------------===//

SemaValue Sema::checkKernelCall(CallExpr &call, BoundArgs &args) {
  bool ok = true;
  std::vector<std::optional<int64_t>> grid;
  for (size_t i = 0; i < args.varargs.size(); ++i) {
    Expr &g = *args.varargs[i];
    bool good = checkIndex(g, "grid dimension " + std::to_string(i) + " of T.Kernel");
    ok &= good;
    grid.push_back(good && isConstInt(g.sema) ? std::optional<int64_t>(std::get<int64_t>(*g.sema.constant))
                                              : std::nullopt);
    if (good && isConstInt(g.sema) && std::get<int64_t>(*g.sema.constant) == 0) {
      error(g.loc, "grid dimension " + std::to_string(i) + " of T.Kernel must be positive");
      ok = false;
    }
  }
  Expr *threads = args.get(0);
  if (std::optional<int64_t> n = constInt(*threads, "threads of T.Kernel")) {
    if (*n < 32 || *n > 1024 || *n % 32 != 0) {
      error(threads->loc, "threads of T.Kernel must be a multiple of 32 in 32..1024, found " +
                              std::to_string(*n));
      ok = false;
    } else {
      kernel_->threads = *n;
    }
  } else {
    ok = false;
  }
  if (Expr *cluster = args.get(1)) {
    if (std::optional<std::vector<int64_t>> c = constShape(*cluster, "the cluster shape")) {
      int64_t product = 1;
      for (int64_t x : *c)
        product *= x;
      if (c->size() > 3) {
        error(cluster->loc, "the cluster shape has at most 3 dimensions, found " +
                                std::to_string(c->size()));
        ok = false;
      } else if (product > 16) {
        error(cluster->loc, "the cluster " + shapeToString(*c) + " has " + std::to_string(product) +
                                " blocks; at most 16 are allowed");
        ok = false;
      } else {
        for (size_t i = 0; i < c->size(); ++i)
          if ((*c)[i] > 1 && (i >= grid.size() || (grid[i] && *grid[i] % (*c)[i] != 0))) {
            error(cluster->loc, "cluster dimension " + std::to_string(i) + " (" +
                                    std::to_string((*c)[i]) + ") does not divide the grid" +
                                    (i < grid.size() && grid[i] ? " (" + std::to_string(*grid[i]) + ")"
                                                                : ""));
            ok = false;
            break;
          }
        if (ok && product > 1) // (1, 1, 1) is no cluster at all
          kernel_->cluster = *c;
      }
    } else {
      ok = false;
    }
  }
  return ok ? makeNone() : SemaValue();
}

SemaValue Sema::checkLoopCall(CallExpr &call, BoundArgs &args) {
  std::string name = calleeOf(call);
  bool ok = true;
  if (name == "T.Parallel") {
    for (size_t i = 0; i < args.varargs.size(); ++i) {
      std::optional<int64_t> n = constInt(*args.varargs[i], "extent " + std::to_string(i) + " of T.Parallel");
      if (!n) {
        ok = false;
        continue;
      }
      if (*n <= 0) {
        error(args.varargs[i]->loc, "extent " + std::to_string(i) + " of T.Parallel must be positive, found " +
                                        std::to_string(*n));
        ok = false;
      }
    }
    return ok ? makeNone() : SemaValue();
  }
  if (name == "T.Pipelined") {
    if (args.varargs.size() == 1) {
      ok &= checkIndex(*args.varargs[0], "the trip count of T.Pipelined");
    } else {
      // Like range(start, stop): any ints, an empty loop when stop <= start.
      for (size_t i = 0; i < 2; ++i) {
        Expr &e = *args.varargs[i];
        SemaValue v = expr(e);
        if (v.kind == SemaValue::Unknown) {
          ok = false;
        } else if (!isIntegral(v) || isConstBool(v)) {
          error(e.loc, std::string(i ? "the stop" : "the start") +
                           " of T.Pipelined must be an int, found " + describe(v));
          ok = false;
        }
      }
    }
    if (Expr *s = args.get(0)) {
      std::optional<int64_t> n = constInt(*s, "num_stages of T.Pipelined");
      if (!n) {
        ok = false;
      } else if (*n < 0) {
        // 0 is TileLang's "no software pipelining": a plain serial loop.
        error(s->loc, "num_stages of T.Pipelined must be at least 0, found " + std::to_string(*n));
        ok = false;
      }
    }
    return ok ? makeNone() : SemaValue();
  }
  // range / T.serial / T.unroll
  static const char *const kWhat[3][3] = {
      {"the bound", "", ""}, {"the start", "the stop", ""}, {"the start", "the stop", "the step"}};
  size_t n = args.varargs.size();
  for (size_t i = 0; i < n; ++i) {
    Expr &e = *args.varargs[i];
    SemaValue v = expr(e);
    if (v.kind == SemaValue::Unknown) {
      ok = false;
      continue;
    }
    // Loop bounds may be negative, unlike indices.
    if (!isIntegral(v) || isConstBool(v)) {
      error(e.loc, std::string(kWhat[n - 1][i]) + " of " + name + " must be an int, found " +
                       describe(v));
      ok = false;
    }
  }
  if (!ok)
    return {};
  if (n == 3) {
    Expr &step = *args.varargs[2];
    if (!isConstInt(step.sema)) {
      error(step.loc, "the step of " + name + " must be a compile-time constant, found " +
                          describe(step.sema));
      return {};
    }
    if (std::get<int64_t>(*step.sema.constant) == 0) {
      error(step.loc, "the step of " + name + " must not be zero");
      return {};
    }
  }
  if (name == "T.unroll")
    for (Expr *a : args.varargs)
      if (!isConstInt(a->sema)) {
        error(a->loc, "T.unroll needs a constant trip count, but this bound is " + describe(a->sema));
        return {};
      }
  return makeNone();
}

SemaValue Sema::checkThreadId(CallExpr &call, BoundArgs &args) {
  if (Expr *d = args.get(0)) {
    std::optional<int64_t> dim = constInt(*d, "dim of " + calleeOf(call));
    if (!dim)
      return {};
    if (*dim < 0 || *dim > 2) {
      error(d->loc, "dim of " + calleeOf(call) + " must be 0, 1 or 2, found " + std::to_string(*dim));
      return {};
    }
  }
  return makeIndex();
}

SemaValue Sema::checkNumThreads(CallExpr &, BoundArgs &) {
  if (kernel_ && kernel_->threads > 0)
    return makeConst(kernel_->threads);
  return makeIndex();
}

SemaValue Sema::checkWarpLane(CallExpr &, BoundArgs &) { return makeIndex(); }
SemaValue Sema::checkSyncThreads(CallExpr &call, BoundArgs &args) {
  Expr *id = args.get(0), *count = args.get(1);
  if (!id && !count)
    return makeNone(); // the whole block
  if (!id || !count) {
    error(call.loc, "T.sync_threads takes no arguments (the whole block) or both barrier_id "
                    "and thread_count (a named barrier)");
    return {};
  }
  if (inParallel()) {
    error(call.loc, "T.sync_threads cannot appear inside T.Parallel");
    return {};
  }
  if (!checkIndex(*id, "barrier_id of T.sync_threads"))
    return {};
  if (isConstInt(id->sema)) {
    int64_t v = std::get<int64_t>(*id->sema.constant);
    if (v < 1 || v > 15) {
      error(id->loc, "barrier_id of T.sync_threads must be 1 to 15 (barrier 0 is the whole "
                     "block: T.sync_threads()), found " + std::to_string(v));
      return {};
    }
  }
  std::optional<int64_t> n = constInt(*count, "thread_count of T.sync_threads");
  if (!n)
    return {};
  if (*n <= 0 || *n % 32 != 0 || (kernel() && kernel()->threads > 0 && *n > kernel()->threads)) {
    error(count->loc, "thread_count of T.sync_threads must be a positive multiple of 32 and at "
                      "most the block's " + std::to_string(kernel() ? kernel()->threads : 0) +
                      " threads, found " + std::to_string(*n));
    return {};
  }
  return makeNone();
}

//===----------------------------------------------------------------------===//
// Allocation
//===----------------------------------------------------------------------===//

SemaValue Sema::checkAlloc(CallExpr &call, BoundArgs &args) {
  std::string name = calleeOf(call);
  if (inParallel()) {
    error(call.loc, name + " cannot appear inside T.Parallel; allocate at the top of the T.Kernel block");
    return {};
  }
  std::optional<std::vector<int64_t>> shape = constShape(*args.get(0), "the shape of " + name);
  std::optional<DType> dt = constDType(*args.get(1), "the dtype of " + name);
  if (!shape || !dt)
    return {};
  auto buf = std::make_shared<BufferType>();
  buf->dtype = *dt;
  for (int64_t d : *shape) {
    Dim dim;
    dim.size = d;
    buf->shape.push_back(dim);
  }
  int64_t elems = 1;
  for (int64_t d : *shape) {
    if (__builtin_mul_overflow(elems, d, &elems) || elems > (int64_t(1) << 40)) {
      error(args.get(0)->loc, "the shape " + shapeToString(*shape) + " of " + name + " is too large");
      return {};
    }
  }
  int64_t bytes = (elems * dtypeBits(*dt) + 7) / 8;
  if (name == "T.alloc_shared") {
    buf->scope = MemScope::Shared;
    countSharedMemory(call, bytes);
  } else if (name == "T.alloc_fragment") {
    buf->scope = MemScope::Fragment;
  } else if (name == "T.alloc_local") {
    buf->scope = MemScope::Local;
  } else {
    buf->scope = MemScope::TMem;
    // The CPU target stands in for the architecture it checks (T.arch):
    // with --arch=sm_100a it runs the Blackwell code, tmem included.
    if (options_.effectiveArch() != "sm_100a" && !inDeadCode()) {
      error(call.callee->loc,
            "T.alloc_tmem needs Blackwell tensor memory, which only sm_100a has (the target is " +
                options_.target +
                (options_.target == "cpu" ? " with --arch=" + options_.effectiveArch() : "") + ")");
      note(call.callee->loc, "code for one architecture goes under `if T.arch == \"sm_100a\":`");
      return {};
    }
    if (shape->size() != 2) {
      error(args.get(0)->loc, "T.alloc_tmem needs a 2-D shape (lanes, columns), found " +
                                  shapeToString(*shape));
      return {};
    }
    int64_t cols32 = ((*shape)[1] * dtypeBits(*dt) + 31) / 32;
    if ((*shape)[0] > 128 || cols32 > 512) {
      error(args.get(0)->loc, "T.alloc_tmem shape " + shapeToString(*shape) + " of " + dtypeName(*dt) +
                                  " exceeds tensor memory (128 lanes x 512 32-bit columns)");
      return {};
    }
  }
  return makeBuffer(buf);
}

SemaValue Sema::checkAllocBarrier(CallExpr &call, BoundArgs &args) {
  if (inParallel()) {
    error(call.loc, "T.alloc_barrier cannot appear inside T.Parallel");
    return {};
  }
  std::optional<int64_t> arrive = constInt(*args.get(0), "arrive_count of T.alloc_barrier");
  if (!arrive)
    return {};
  if (*arrive < 1 || *arrive >= (int64_t(1) << 20)) {
    error(args.get(0)->loc, "arrive_count of T.alloc_barrier must be in 1..1048575 (20 bits), found " +
                                std::to_string(*arrive));
    return {};
  }
  int64_t count = 1;
  if (Expr *c = args.get(1)) {
    std::optional<int64_t> n = constInt(*c, "count of T.alloc_barrier");
    if (!n)
      return {};
    if (*n < 1 || *n > 1024) {
      error(c->loc, "count of T.alloc_barrier must be in 1..1024, found " + std::to_string(*n));
      return {};
    }
    count = *n;
  }
  auto buf = std::make_shared<BufferType>();
  buf->scope = MemScope::Shared;
  buf->dtype = DType::I64;
  Dim dim;
  dim.size = count;
  buf->shape.push_back(dim);
  buf->barrierCount = count;
  countSharedMemory(call, 8 * count);
  SemaValue v;
  v.kind = SemaValue::Barrier;
  v.dtype = DType::I64;
  v.buffer = buf;
  return v;
}

SemaValue Sema::checkBarrierOp(CallExpr &call, BoundArgs &args) {
  std::string name = calleeOf(call);
  Expr &bar = *args.get(0);
  SemaValue b = expr(bar);
  if (b.kind == SemaValue::Unknown)
    return {};
  if (b.kind != SemaValue::Barrier) {
    error(bar.loc, name + " needs a barrier bar[i], found " + describe(b));
    return {};
  }
  if (!isa<SubscriptExpr>(&bar) && b.buffer && b.buffer->barrierCount != 1) {
    error(bar.loc, name + ": '" + exprToString(bar) + "' holds " +
                       std::to_string(b.buffer->barrierCount) + " barriers; index it: " +
                       exprToString(bar) + "[i]");
    return {};
  }
  if (Expr *x = args.get(1)) {
    std::string what = name == "T.barrier_wait" ? "the parity of T.barrier_wait"
                                                 : "the byte count of T.barrier_expect_tx";
    if (!checkIndex(*x, what))
      return {};
    if (name == "T.barrier_wait" && isConstInt(x->sema) &&
        std::get<int64_t>(*x->sema.constant) > 1) {
      error(x->loc, "the parity of T.barrier_wait must be 0 or 1, found " +
                        std::to_string(std::get<int64_t>(*x->sema.constant)));
      return {};
    }
  }
  return makeNone();
}

//===----------------------------------------------------------------------===//
// Scalar math and conversion
//===----------------------------------------------------------------------===//

SemaValue Sema::checkUnaryMath(CallExpr &call, BoundArgs &args) {
  std::string name = calleeOf(call);
  Expr &x = *args.get(0);
  SemaValue v = expr(x);
  if (!checkArithOperand(v, x.loc, name))
    return {};
  bool isAbs = name == "T.abs";
  if (v.kind == SemaValue::Constant) {
    if (isAbs && isConstInt(v)) {
      int64_t i = std::get<int64_t>(*v.constant);
      if (i == std::numeric_limits<int64_t>::min()) {
        error(x.loc, "T.abs: integer overflow");
        return {};
      }
      return makeConst(i < 0 ? -i : i);
    }
    double d = *consteval::asDouble(*v.constant);
    double r = 0;
    std::string f = name.substr(2);
    if (f == "exp") r = std::exp(d);
    else if (f == "exp2") r = std::exp2(d);
    else if (f == "log") r = std::log(d);
    else if (f == "log2") r = std::log2(d);
    else if (f == "sqrt") r = std::sqrt(d);
    else if (f == "rsqrt") r = 1.0 / std::sqrt(d);
    else if (f == "sigmoid") r = 1.0 / (1.0 + std::exp(-d));
    else if (f == "softplus") r = d > 20 ? d : std::log1p(std::exp(d));
    else if (f == "tanh") r = std::tanh(d);
    else if (f == "abs") r = std::fabs(d);
    else if (f == "ceil") r = std::ceil(d);
    else if (f == "floor") r = std::floor(d);
    else r = std::nearbyint(d);
    SemaValue c = makeConst(r);
    if (isConstFloat(v))
      c.dtype = v.dtype;
    return c;
  }
  bool isInt = v.kind == SemaValue::Index || !isFloat(v.dtype);
  if (isInt && !isAbs) {
    error(x.loc, name + " expects a float, found " + describe(v) + "; use T.cast(x, T.float32)");
    return {};
  }
  if (v.kind == SemaValue::Index)
    return makeIndex();
  return makeScalar(v.dtype);
}

SemaValue Sema::checkMinMax(CallExpr &call, BoundArgs &args) {
  std::string name = calleeOf(call);
  Expr &a = *args.get(0);
  Expr &b = *args.get(1);
  SemaValue va = expr(a), vb = expr(b);
  if (va.kind == SemaValue::Unknown || vb.kind == SemaValue::Unknown)
    return {};
  if (va.kind == SemaValue::Constant && vb.kind == SemaValue::Constant) {
    if (!isNumeric(va) || !isNumeric(vb)) {
      error((isNumeric(va) ? b : a).loc, name + " expects numbers, found " +
                                             describe(isNumeric(va) ? vb : va));
      return {};
    }
    bool takeB = name == "T.max" ? *consteval::asDouble(*vb.constant) > *consteval::asDouble(*va.constant)
                                 : *consteval::asDouble(*vb.constant) < *consteval::asDouble(*va.constant);
    return takeB ? vb : va;
  }
  std::optional<OperandType> t = promote(a, b, name);
  if (!t)
    return {};
  result_.operandTypes[&call] = *t;
  return t->isIndex ? makeIndex() : makeScalar(t->dtype);
}

SemaValue Sema::checkClamp(CallExpr &call, BoundArgs &args) {
  Expr &x = *args.get(0);
  Expr &lo = *args.get(1);
  Expr &hi = *args.get(2);
  SemaValue vx = expr(x), vl = expr(lo), vh = expr(hi);
  if (vx.kind == SemaValue::Unknown || vl.kind == SemaValue::Unknown || vh.kind == SemaValue::Unknown)
    return {};
  if (vx.kind == SemaValue::Constant && vl.kind == SemaValue::Constant && vh.kind == SemaValue::Constant &&
      isNumeric(vx) && isNumeric(vl) && isNumeric(vh)) {
    double dx = *consteval::asDouble(*vx.constant), dl = *consteval::asDouble(*vl.constant),
           dh = *consteval::asDouble(*vh.constant);
    return dx < dl ? vl : dx > dh ? vh : vx;
  }
  std::optional<OperandType> t1 = promote(x, lo, "T.clamp");
  if (!t1)
    return {};
  SemaValue mid = t1->isIndex ? makeIndex() : makeScalar(t1->dtype);
  std::optional<OperandType> t = promoteValues(mid, x.loc, vh, hi.loc, "T.clamp");
  if (!t)
    return {};
  result_.operandTypes[&call] = *t;
  return t->isIndex ? makeIndex() : makeScalar(t->dtype);
}

SemaValue Sema::checkIfThenElse(CallExpr &call, BoundArgs &args) {
  Expr &c = *args.get(0);
  Expr &a = *args.get(1);
  Expr &b = *args.get(2);
  SemaValue vc = expr(c), va = expr(a), vb = expr(b);
  if (vc.kind == SemaValue::Unknown || va.kind == SemaValue::Unknown || vb.kind == SemaValue::Unknown)
    return {};
  if (!isBoolValue(vc)) {
    error(c.loc, "the condition of T.if_then_else must be bool, found " + describe(vc));
    return {};
  }
  std::optional<OperandType> t = promote(a, b, "T.if_then_else");
  if (!t)
    return {};
  if (isConstBool(vc))
    return std::get<bool>(*vc.constant) ? va : vb;
  result_.operandTypes[&call] = *t;
  return t->isIndex ? makeIndex() : makeScalar(t->dtype);
}

SemaValue Sema::checkCeilDiv(CallExpr &, BoundArgs &args) {
  Expr &a = *args.get(0);
  Expr &b = *args.get(1);
  SemaValue va = expr(a), vb = expr(b);
  if (va.kind == SemaValue::Unknown || vb.kind == SemaValue::Unknown)
    return {};
  for (auto [v, e] : {std::pair<SemaValue *, Expr *>{&va, &a}, {&vb, &b}})
    if (!isIntegral(*v) || isConstBool(*v)) {
      error(e->loc, "T.ceildiv expects integers, found " + describe(*v));
      return {};
    }
  if (isConstInt(vb) && std::get<int64_t>(*vb.constant) == 0) {
    error(b.loc, "T.ceildiv: division by zero");
    return {};
  }
  if (isConstInt(va) && isConstInt(vb)) {
    int64_t x = std::get<int64_t>(*va.constant), y = std::get<int64_t>(*vb.constant);
    if (x == std::numeric_limits<int64_t>::min()) {
      error(a.loc, "T.ceildiv: integer overflow");
      return {};
    }
    return makeConst(-consteval::floorDiv(-x, y));
  }
  std::optional<OperandType> t = promote(a, b, "T.ceildiv");
  if (!t)
    return {};
  return t->isIndex ? makeIndex() : makeScalar(t->dtype);
}

SemaValue Sema::checkBytePerm(CallExpr &, BoundArgs &args) {
  // Three 32-bit integers (constants and index values read as int32); the
  // result is an int32 word.
  for (int i = 0; i < 3; ++i) {
    Expr &e = *args.get(i);
    SemaValue v = expr(e);
    if (v.kind == SemaValue::Unknown)
      return {};
    bool word = isConstInt(v) || v.kind == SemaValue::Index ||
                ((v.kind == SemaValue::Scalar || v.kind == SemaValue::Element) &&
                 (v.dtype == DType::I32 || v.dtype == DType::U32));
    if (!word) {
      error(e.loc, "T.byte_perm takes 32-bit integers (int32 or uint32), found " + describe(v));
      return {};
    }
  }
  return makeScalar(DType::I32);
}

SemaValue Sema::checkInfNan(CallExpr &call, BoundArgs &args) {
  std::string name = calleeOf(call);
  std::optional<DType> dt = constDType(*args.get(0), "the dtype of " + name);
  if (!dt)
    return {};
  bool inf = name == "T.infinity";
  if (!isFloat(*dt) || *dt == DType::F4E2M1 || (inf && (*dt == DType::F8E4M3 || *dt == DType::UE8M0))) {
    error(args.get(0)->loc, std::string(dtypeName(*dt)) + " has no " + (inf ? "infinity" : "NaN"));
    return {};
  }
  SemaValue v = makeConst(inf ? std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::quiet_NaN());
  v.dtype = *dt;
  return v;
}

SemaValue Sema::checkCast(CallExpr &, BoundArgs &args) {
  Expr &x = *args.get(0);
  SemaValue v = expr(x);
  std::optional<DType> dt = constDType(*args.get(1), "the target dtype of T.cast");
  if (v.kind == SemaValue::Unknown || !dt)
    return {};
  if (!isNumeric(v)) {
    error(x.loc, "T.cast expects a number, found " + describe(v));
    return {};
  }
  if (v.kind == SemaValue::Constant && !isNarrowFloat(*dt)) {
    double d = *consteval::asDouble(*v.constant);
    if (*dt == DType::Bool)
      return makeConst(d != 0.0);
    if (isInteger(*dt)) {
      if (!(std::fabs(d) < 9.2e18)) {
        error(x.loc, "T.cast: " + describe(v) + " does not fit " + dtypeName(*dt));
        return {};
      }
      int64_t i = isConstInt(v) ? std::get<int64_t>(*v.constant) : static_cast<int64_t>(d);
      // Unsigned targets wrap like C (T.cast(-1, T.uint32) is 4294967295).
      if (isUnsigned(*dt) && dtypeBits(*dt) < 64)
        i = static_cast<int64_t>(static_cast<uint64_t>(i) & ((uint64_t(1) << dtypeBits(*dt)) - 1));
      return makeConst(i);
    }
    SemaValue c = makeConst(d);
    c.dtype = *dt;
    return c;
  }
  return makeScalar(*dt);
}

SemaValue Sema::checkReinterpret(CallExpr &call, BoundArgs &args) {
  Expr &x = *args.get(0);
  SemaValue v = expr(x);
  std::optional<DType> dt = constDType(*args.get(1), "the target dtype of T.reinterpret");
  if (v.kind == SemaValue::Unknown || !dt)
    return {};
  // Constants have no width of their own: a float constant is read as a
  // float32, an int constant as an int32.
  DType from;
  if (isConstFloat(v))
    from = DType::F32;
  else if (isConstInt(v) || v.kind == SemaValue::Index)
    from = DType::I32;
  else if (v.kind == SemaValue::Scalar || v.kind == SemaValue::Element)
    from = v.dtype;
  else {
    error(x.loc, "T.reinterpret expects a number, found " + describe(v));
    return {};
  }
  auto bad = [](DType t) { return t == DType::Bool || isNarrowFloat(t); };
  if (bad(from) || bad(*dt)) {
    error(bad(from) ? x.loc : args.get(1)->loc,
          std::string("T.reinterpret works on integer and float16/bfloat16/float32 values; ") +
              dtypeName(bad(from) ? from : *dt) +
              " is not one (use T.cast, or T.view on a buffer)");
    return {};
  }
  if (dtypeBits(from) != dtypeBits(*dt)) {
    error(call.loc, std::string("T.reinterpret keeps the bits, so the widths must match: ") +
                        dtypeName(from) + " has " + std::to_string(dtypeBits(from)) + " bits, " +
                        dtypeName(*dt) + " has " + std::to_string(dtypeBits(*dt)));
    return {};
  }
  return makeScalar(*dt);
}

SemaValue Sema::checkQuantize(CallExpr &, BoundArgs &args) {
  Expr &x = *args.get(0);
  Expr &s = *args.get(1);
  SemaValue vx = expr(x), vs = expr(s);
  std::optional<DType> dt = constDType(*args.get(2), "the target dtype of T.quantize");
  if (!checkArithOperand(vx, x.loc, "T.quantize") || !checkArithOperand(vs, s.loc, "T.quantize") || !dt)
    return {};
  return makeScalar(*dt);
}

SemaValue Sema::checkDequantize(CallExpr &, BoundArgs &args) {
  Expr &q = *args.get(0);
  Expr &s = *args.get(1);
  SemaValue vq = expr(q), vs = expr(s);
  if (vq.kind == SemaValue::Unknown || vs.kind == SemaValue::Unknown)
    return {};
  for (auto [v, e] : {std::pair<SemaValue *, Expr *>{&vq, &q}, {&vs, &s}})
    if (!isNumeric(*v)) {
      error(e->loc, "T.dequantize expects numbers, found " + describe(*v));
      return {};
    }
  return makeScalar(DType::F32);
}

SemaValue Sema::checkPrint(CallExpr &, BoundArgs &args) {
  Expr &x = *args.get(0);
  SemaValue v = expr(x);
  if (v.kind == SemaValue::Unknown)
    return {};
  if (!isNumeric(v) && v.kind != SemaValue::Buffer) {
    error(x.loc, "T.print prints a number or a buffer, found " + describe(v));
    return {};
  }
  if (Expr *m = args.get(1)) {
    SemaValue mv = expr(*m);
    if (!(mv.kind == SemaValue::Constant && mv.constant &&
          std::holds_alternative<std::string>(*mv.constant))) {
      error(m->loc, "the message of T.print must be a string, found " + describe(mv));
      return {};
    }
  }
  return makeNone();
}

} // namespace tlc::sema
