// ShapeExpr: the integer expressions a manifest writes for tensor
// dimensions ("M", "T.ceildiv(K, 128)", "K // 32", "(N + 1) * 2").
// Grammar (the .tl syntax): integers, symbols, + - * // %, unary -,
// parentheses, and calls ceildiv(a, b), max(a, b), min(a, b) with an
// optional "T." prefix. Arithmetic is signed 64-bit; // and % round toward
// minus infinity (Python semantics). Overflow and division by zero are
// errors, never undefined behaviour.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tlrt {

// Integer helpers shared with the grid expressions.
int64_t floorDiv(int64_t a, int64_t b); // throws Error on b == 0
int64_t floorMod(int64_t a, int64_t b); // throws Error on b == 0
int64_t ceilDiv(int64_t a, int64_t b);  // throws Error on b == 0
int64_t checkedAdd(int64_t a, int64_t b);
int64_t checkedSub(int64_t a, int64_t b);
int64_t checkedMul(int64_t a, int64_t b);

using SymbolValues = std::map<std::string, int64_t>;

class ShapeExpr {
public:
  struct Node;

  // Parses `text`; throws Error("bad shape expression '...': <why> at column N").
  static ShapeExpr parse(const std::string &text);

  // Evaluates with the given symbol values; throws Error naming a missing
  // symbol, a division by zero or an overflow.
  int64_t eval(const SymbolValues &symbols) const;

  // True when the expression is one bare symbol ("M").
  bool isSymbol() const;
  // The symbol of a bare-symbol expression.
  const std::string &symbol() const;
  // Every symbol the expression mentions, in first-occurrence order.
  std::vector<std::string> symbols() const;
  const std::string &text() const { return text_; }

private:
  std::string text_;
  std::shared_ptr<const Node> root_;
};

} // namespace tlrt
