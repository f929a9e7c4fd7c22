// ShapeExpr: a small recursive-descent parser and evaluator.
#include "tlrt/ShapeExpr.h"

#include "tlrt/Error.h"

#include <fmt/format.h>

#include <cctype>

namespace tlrt {

int64_t checkedAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    throw Error(fmt::format("integer overflow in {} + {}", a, b));
  return r;
}
int64_t checkedSub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r))
    throw Error(fmt::format("integer overflow in {} - {}", a, b));
  return r;
}
int64_t checkedMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    throw Error(fmt::format("integer overflow in {} * {}", a, b));
  return r;
}

int64_t floorDiv(int64_t a, int64_t b) {
  if (b == 0)
    throw Error(fmt::format("division by zero in {} // 0", a));
  if (b == -1)
    return checkedSub(0, a);
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}
int64_t floorMod(int64_t a, int64_t b) {
  if (b == 0)
    throw Error(fmt::format("division by zero in {} % 0", a));
  if (b == -1)
    return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0)))
    r += b;
  return r;
}
int64_t ceilDiv(int64_t a, int64_t b) {
  if (b == 0)
    throw Error(fmt::format("division by zero in ceildiv({}, 0)", a));
  return checkedSub(0, floorDiv(checkedSub(0, a), b));
}

struct ShapeExpr::Node {
  enum Kind { Const, Sym, Neg, Add, Sub, Mul, FloorDiv, Mod, CeilDiv, Max, Min };
  Kind kind;
  int64_t value = 0;
  std::string name;
  std::shared_ptr<const Node> lhs, rhs;
};

namespace {
using NodePtr = std::shared_ptr<const ShapeExpr::Node>;
using Node = ShapeExpr::Node;

NodePtr make(Node::Kind k, NodePtr l = nullptr, NodePtr r = nullptr) {
  auto n = std::make_shared<Node>();
  n->kind = k;
  n->lhs = std::move(l);
  n->rhs = std::move(r);
  return n;
}

class Parser {
public:
  explicit Parser(const std::string &s) : s_(s) {}

  NodePtr parseAll() {
    NodePtr n = parseSum();
    skipSpace();
    if (pos_ != s_.size())
      fail(fmt::format("unexpected '{}'", s_[pos_]));
    return n;
  }

private:
  [[noreturn]] void fail(const std::string &why) {
    throw Error(fmt::format("bad shape expression '{}': {} at column {}", s_,
                            why, pos_ + 1));
  }
  void skipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
  }
  bool accept(const char *tok) {
    skipSpace();
    size_t n = std::char_traits<char>::length(tok);
    if (s_.compare(pos_, n, tok) == 0) {
      pos_ += n;
      return true;
    }
    return false;
  }
  void expect(const char *tok) {
    if (!accept(tok))
      fail(pos_ < s_.size() ? fmt::format("expected '{}', found '{}'", tok, s_[pos_])
                            : fmt::format("expected '{}' at the end", tok));
  }

  // sum := term (('+' | '-') term)*
  NodePtr parseSum() {
    NodePtr l = parseTerm();
    for (;;) {
      if (accept("+"))
        l = make(Node::Add, l, parseTerm());
      else if (accept("-"))
        l = make(Node::Sub, l, parseTerm());
      else
        return l;
    }
  }
  // term := unary (('*' | '//' | '%') unary)*
  NodePtr parseTerm() {
    NodePtr l = parseUnary();
    for (;;) {
      if (accept("//"))
        l = make(Node::FloorDiv, l, parseUnary());
      else if (accept("*"))
        l = make(Node::Mul, l, parseUnary());
      else if (accept("%"))
        l = make(Node::Mod, l, parseUnary());
      else {
        skipSpace();
        if (pos_ < s_.size() && s_[pos_] == '/')
          fail("'/' is not allowed (use '//' for floor division)");
        return l;
      }
    }
  }
  NodePtr parseUnary() {
    if (accept("-"))
      return make(Node::Neg, parseUnary());
    if (accept("+"))
      return parseUnary();
    return parsePrimary();
  }
  NodePtr parsePrimary() {
    skipSpace();
    if (pos_ >= s_.size())
      fail("expected a value at the end");
    char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      NodePtr n = parseSum();
      expect(")");
      return n;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      int64_t v = 0;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
        int d = s_[pos_] - '0';
        if (v > (INT64_MAX - d) / 10)
          fail("integer literal too large");
        v = v * 10 + d;
        ++pos_;
      }
      auto n = std::make_shared<Node>();
      n->kind = Node::Const;
      n->value = v;
      return n;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::string id = ident();
      bool prefixed = false;
      if (id == "T" && pos_ < s_.size() && s_[pos_] == '.') {
        ++pos_;
        if (pos_ >= s_.size() || !(std::isalpha(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
          fail("expected a function name after 'T.'");
        id = ident();
        prefixed = true;
      }
      skipSpace();
      bool call = pos_ < s_.size() && s_[pos_] == '(';
      if (prefixed && !call)
        fail(fmt::format("'T.{}' must be called", id));
      if (call) {
        Node::Kind k;
        if (id == "ceildiv")
          k = Node::CeilDiv;
        else if (id == "max")
          k = Node::Max;
        else if (id == "min")
          k = Node::Min;
        else
          fail(fmt::format("unknown function '{}' (expected ceildiv, max or min)", id));
        expect("(");
        NodePtr a = parseSum();
        expect(",");
        NodePtr b = parseSum();
        expect(")");
        return make(k, a, b);
      }
      auto n = std::make_shared<Node>();
      n->kind = Node::Sym;
      n->name = id;
      return n;
    }
    fail(fmt::format("unexpected '{}'", c));
  }
  std::string ident() {
    size_t b = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
      ++pos_;
    return s_.substr(b, pos_ - b);
  }

  const std::string &s_;
  size_t pos_ = 0;
};

int64_t evalNode(const Node &n, const SymbolValues &syms, const std::string &text) {
  switch (n.kind) {
  case Node::Const:
    return n.value;
  case Node::Sym: {
    auto it = syms.find(n.name);
    if (it == syms.end())
      throw Error(fmt::format("shape expression '{}': symbol '{}' is not bound", text, n.name));
    return it->second;
  }
  case Node::Neg:
    return checkedSub(0, evalNode(*n.lhs, syms, text));
  default:
    break;
  }
  int64_t a = evalNode(*n.lhs, syms, text);
  int64_t b = evalNode(*n.rhs, syms, text);
  try {
    switch (n.kind) {
    case Node::Add: return checkedAdd(a, b);
    case Node::Sub: return checkedSub(a, b);
    case Node::Mul: return checkedMul(a, b);
    case Node::FloorDiv: return floorDiv(a, b);
    case Node::Mod: return floorMod(a, b);
    case Node::CeilDiv: return ceilDiv(a, b);
    case Node::Max: return a > b ? a : b;
    case Node::Min: return a < b ? a : b;
    default: break;
    }
  } catch (const Error &e) {
    throw Error(fmt::format("shape expression '{}': {}", text, e.what()));
  }
  return 0;
}

void collect(const Node &n, std::vector<std::string> &out) {
  if (n.kind == Node::Sym) {
    for (const auto &s : out)
      if (s == n.name)
        return;
    out.push_back(n.name);
    return;
  }
  if (n.lhs)
    collect(*n.lhs, out);
  if (n.rhs)
    collect(*n.rhs, out);
}
} // namespace

ShapeExpr ShapeExpr::parse(const std::string &text) {
  ShapeExpr e;
  e.text_ = text;
  e.root_ = Parser(e.text_).parseAll();
  return e;
}

int64_t ShapeExpr::eval(const SymbolValues &symbols) const {
  return evalNode(*root_, symbols, text_);
}

bool ShapeExpr::isSymbol() const { return root_ && root_->kind == Node::Sym; }

const std::string &ShapeExpr::symbol() const { return root_->name; }

std::vector<std::string> ShapeExpr::symbols() const {
  std::vector<std::string> out;
  if (root_)
    collect(*root_, out);
  return out;
}

} // namespace tlrt
