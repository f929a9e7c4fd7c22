//===- UserWords.cpp - diagnostics in the words of the .tl language -------===//
#include "tlc/Frontend/UserWords.h"

#include <array>
#include <cctype>
#include <utility>

namespace tlc {
namespace {

// tl ops -> the construct a .tl author wrote.
constexpr std::array<std::pair<std::string_view, std::string_view>, 39> kTlOps{{
    {"launch", "T.Kernel"},
    {"yield", "the end of a block"},
    {"parallel", "T.Parallel"},
    {"pipelined", "T.Pipelined"},
    {"thread_id", "T.thread_id"},
    {"block_id", "the block index of T.Kernel"},
    {"elect", "the choice of one thread"},
    {"special_reg", "a hardware register read"},
    {"sync_threads", "T.sync_threads"},
    {"named_barrier", "T.sync_threads(barrier_id, thread_count)"},
    {"alloc_shared", "T.alloc_shared"},
    {"alloc_fragment", "T.alloc_fragment"},
    {"alloc_local", "T.alloc_local"},
    {"alloc_tmem", "a tensor-memory accumulator"},
    {"alloc_barrier", "T.alloc_barrier"},
    {"barrier_arrive", "T.barrier_arrive"},
    {"barrier_expect_tx", "T.barrier_expect_tx"},
    {"barrier_wait", "T.barrier_wait"},
    {"copy", "T.copy"},
    {"convert_layout", "a layout conversion"},
    {"fill", "T.fill"},
    {"gemm", "T.gemm"},
    {"mma_wait", "waiting for a T.gemm"},
    {"mma_commit", "completing a T.gemm"},
    {"reduce", "the reduction"},
    {"topk", "T.topk"},
    {"view", "the view"},
    {"reshape", "T.reshape"},
    {"slot_load", "a register-buffer read"},
    {"slot_store", "a register-buffer write"},
    {"warp_specialize", "the producer/consumer split"},
    {"cast", "the dtype conversion"},
    {"atomic_add", "T.atomic_add"},
    {"print", "T.print"},
    {"trap", "T.assert"},
    {"unroll", "T.unroll"},
    {"scope", "a memory space"},
    {"layout", "a layout"},
    {"barrier", "a barrier"},
}};

// Ops of other dialects, most specific first ("dialect." alone is a prefix).
constexpr std::array<std::pair<std::string_view, std::string_view>, 20> kOtherOps{{
    {"memref.load", "an element load"},
    {"memref.store", "an element store"},
    {"memref.dim", "a tensor size"},
    {"memref.", "a buffer access"},
    {"arith.select", "a conditional value (T.if_then_else)"},
    {"arith.cmpi", "a comparison"},
    {"arith.cmpf", "a comparison"},
    {"arith.", "arithmetic"},
    {"math.", "a math function"},
    {"vector.load", "a vector load"},
    {"vector.store", "a vector store"},
    {"vector.", "a vector operation"},
    {"scf.for", "a loop"},
    {"scf.while", "a loop"},
    {"scf.if", "an if statement"},
    {"scf.", "control flow"},
    {"func.", "the kernel function"},
    {"llvm.", "generated code"},
    {"nvvm.", "generated code"},
    {"builtin.", "the compiled module"},
}};

bool isOpChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

/// An op name "dialect.op" starting at `pos` (letters, digits, '_', one or
/// more '.'); its length, or 0.
size_t opNameAt(std::string_view s, size_t pos) {
  size_t end = pos;
  while (end < s.size() && isOpChar(s[end]))
    ++end;
  while (end > pos && s[end - 1] == '.')
    --end;
  std::string_view name = s.substr(pos, end - pos);
  size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size())
    return 0;
  return end - pos;
}

bool isKnownDialect(std::string_view name) {
  if (name.substr(0, 3) == "tl.")
    return true;
  for (const auto &[prefix, phrase] : kOtherOps) {
    std::string_view dialect = prefix.substr(0, prefix.find('.') + 1);
    if (name.substr(0, dialect.size()) == dialect)
      return true;
  }
  return false;
}

constexpr std::string_view kReport =
    " (an internal error of tlc, not a mistake in the kernel; please report it with the .tl file)";

} // namespace

std::string constructForOp(std::string_view op) {
  if (op.substr(0, 3) == "tl.") {
    std::string_view rest = op.substr(3);
    for (const auto &[name, phrase] : kTlOps)
      if (rest == name)
        return std::string(phrase);
    return "an internal operation";
  }
  for (const auto &[prefix, phrase] : kOtherOps)
    if (prefix.back() == '.' ? op.substr(0, prefix.size()) == prefix : op == prefix)
      return std::string(phrase);
  return "an internal operation";
}

std::string userWords(std::string_view msg) {
  std::string out;
  bool internal = false;
  // "'dialect.op' op <text>": the verifier's or emitOpError's prefix.
  if (msg.size() > 2 && msg[0] == '\'') {
    size_t len = opNameAt(msg, 1);
    std::string_view name = msg.substr(1, len);
    if (len && msg.substr(1 + len, 5) == "' op " && isKnownDialect(name)) {
      bool tl = name.substr(0, 3) == "tl.";
      out = tl ? constructForOp(name) + ": " : "internal compiler error in " + constructForOp(name) + ": ";
      internal = !tl;
      msg.remove_prefix(len + 6);
    }
  }
  // The conversion driver's "failed to legalize operation 'x'".
  constexpr std::string_view kLegalize = "failed to legalize operation '";
  if (out.empty() && msg.substr(0, kLegalize.size()) == kLegalize) {
    size_t len = opNameAt(msg, kLegalize.size());
    if (len && isKnownDialect(msg.substr(kLegalize.size(), len))) {
      return "internal compiler error: no code could be generated for " +
             constructForOp(msg.substr(kLegalize.size(), len)) + " here" + std::string(kReport);
    }
  }
  // Op names left in the text ('tl.copy', tl.thread_id, !tl.barrier).
  for (size_t i = 0; i < msg.size();) {
    bool boundary = i == 0 || !isOpChar(msg[i - 1]);
    size_t len = boundary ? opNameAt(msg, i) : 0;
    if (len && isKnownDialect(msg.substr(i, len))) {
      std::string phrase = constructForOp(msg.substr(i, len));
      bool quoted = i > 0 && msg[i - 1] == '\'' && i + len < msg.size() && msg[i + len] == '\'';
      if (quoted)
        out.pop_back(); // the opening quote
      if (!out.empty() && (out.back() == '!' || out.back() == '#'))
        out.pop_back(); // a type or attribute sigil
      out += phrase;
      i += len + (quoted ? 1 : 0);
      continue;
    }
    out += msg[i++];
  }
  if (internal)
    out += kReport;
  return out;
}

} // namespace tlc
