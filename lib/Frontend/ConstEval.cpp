// Constant folding for the .tl front end: int64 arithmetic with overflow and
// division-by-zero checks, Python floor division/modulo, float arithmetic.
#include "ConstEval.h"

#include <cmath>
#include <limits>

namespace tlc::consteval {

int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}

int64_t floorMod(int64_t a, int64_t b) {
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0)))
    r += b;
  return r;
}

const char *opSpelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add: return "+";
  case BinaryOp::Sub: return "-";
  case BinaryOp::Mul: return "*";
  case BinaryOp::Div: return "/";
  case BinaryOp::FloorDiv: return "//";
  case BinaryOp::Mod: return "%";
  case BinaryOp::Pow: return "**";
  case BinaryOp::Shl: return "<<";
  case BinaryOp::Shr: return ">>";
  case BinaryOp::BitAnd: return "&";
  case BinaryOp::BitOr: return "|";
  case BinaryOp::BitXor: return "^";
  case BinaryOp::Lt: return "<";
  case BinaryOp::Le: return "<=";
  case BinaryOp::Gt: return ">";
  case BinaryOp::Ge: return ">=";
  case BinaryOp::Eq: return "==";
  case BinaryOp::Ne: return "!=";
  case BinaryOp::And: return "and";
  case BinaryOp::Or: return "or";
  }
  return "?";
}

bool isInt(const ConstValue &v) { return std::holds_alternative<int64_t>(v); }
bool isFloat(const ConstValue &v) { return std::holds_alternative<double>(v); }
bool isBool(const ConstValue &v) { return std::holds_alternative<bool>(v); }

std::optional<double> asDouble(const ConstValue &v) {
  if (auto *i = std::get_if<int64_t>(&v))
    return static_cast<double>(*i);
  if (auto *d = std::get_if<double>(&v))
    return *d;
  if (auto *b = std::get_if<bool>(&v))
    return *b ? 1.0 : 0.0;
  return std::nullopt;
}

static std::optional<int64_t> asInt(const ConstValue &v) {
  if (auto *i = std::get_if<int64_t>(&v))
    return *i;
  if (auto *b = std::get_if<bool>(&v))
    return *b ? 1 : 0;
  return std::nullopt;
}

std::string describe(const ConstValue &v) {
  if (isInt(v))
    return "int constant " + constToString(v);
  if (isFloat(v))
    return "float constant " + constToString(v);
  if (isBool(v))
    return "bool constant " + constToString(v);
  if (std::holds_alternative<DType>(v))
    return "dtype " + constToString(v);
  return "string constant " + constToString(v);
}

static bool isComparison(BinaryOp op) {
  return op == BinaryOp::Lt || op == BinaryOp::Le || op == BinaryOp::Gt || op == BinaryOp::Ge ||
         op == BinaryOp::Eq || op == BinaryOp::Ne;
}

template <typename V> static bool compare(BinaryOp op, V a, V b) {
  switch (op) {
  case BinaryOp::Lt: return a < b;
  case BinaryOp::Le: return a <= b;
  case BinaryOp::Gt: return a > b;
  case BinaryOp::Ge: return a >= b;
  case BinaryOp::Eq: return a == b;
  default: return a != b;
  }
}

static std::optional<ConstValue> foldInt(BinaryOp op, int64_t a, int64_t b, std::string &error) {
  int64_t r = 0;
  auto overflow = [&]() -> std::optional<ConstValue> {
    error = "integer overflow in constant expression " + std::to_string(a) + " " +
            opSpelling(op) + " " + std::to_string(b);
    return std::nullopt;
  };
  switch (op) {
  case BinaryOp::Add:
    if (__builtin_add_overflow(a, b, &r))
      return overflow();
    return ConstValue(r);
  case BinaryOp::Sub:
    if (__builtin_sub_overflow(a, b, &r))
      return overflow();
    return ConstValue(r);
  case BinaryOp::Mul:
    if (__builtin_mul_overflow(a, b, &r))
      return overflow();
    return ConstValue(r);
  case BinaryOp::Div:
    error = "'/' is not defined on integers (" + std::to_string(a) + " / " + std::to_string(b) +
            "); use '//' for floor division";
    return std::nullopt;
  case BinaryOp::FloorDiv:
  case BinaryOp::Mod:
    if (b == 0) {
      error = std::string("division by zero in constant expression ") + std::to_string(a) + " " +
              opSpelling(op) + " 0";
      return std::nullopt;
    }
    if (a == std::numeric_limits<int64_t>::min() && b == -1)
      return overflow();
    return ConstValue(op == BinaryOp::FloorDiv ? floorDiv(a, b) : floorMod(a, b));
  case BinaryOp::Pow: {
    if (b < 0)
      return ConstValue(std::pow(static_cast<double>(a), static_cast<double>(b)));
    if (a == 0 || a == 1)
      return ConstValue(static_cast<int64_t>(b == 0 ? 1 : a));
    if (a == -1)
      return ConstValue(static_cast<int64_t>(b % 2 ? -1 : 1));
    int64_t acc = 1; // |a| >= 2: overflows within 63 steps
    for (int64_t i = 0; i < b; ++i)
      if (__builtin_mul_overflow(acc, a, &acc))
        return overflow();
    return ConstValue(acc);
  }
  case BinaryOp::Shl:
  case BinaryOp::Shr:
    if (b < 0 || b > 63) {
      error = "shift count " + std::to_string(b) + " is out of range 0..63";
      return std::nullopt;
    }
    if (op == BinaryOp::Shr)
      return ConstValue(a >> b);
    if (b > 0 && (a > (std::numeric_limits<int64_t>::max() >> b) ||
                  a < (std::numeric_limits<int64_t>::min() >> b)))
      return overflow();
    return ConstValue(static_cast<int64_t>(static_cast<uint64_t>(a) << b));
  case BinaryOp::BitAnd: return ConstValue(a & b);
  case BinaryOp::BitOr: return ConstValue(a | b);
  case BinaryOp::BitXor: return ConstValue(a ^ b);
  default:
    if (isComparison(op))
      return ConstValue(compare(op, a, b));
    break;
  }
  error = std::string("operator '") + opSpelling(op) + "' is not defined on ints";
  return std::nullopt;
}

static std::optional<ConstValue> foldFloat(BinaryOp op, double a, double b, std::string &error) {
  switch (op) {
  case BinaryOp::Add: return ConstValue(a + b);
  case BinaryOp::Sub: return ConstValue(a - b);
  case BinaryOp::Mul: return ConstValue(a * b);
  case BinaryOp::Pow: return ConstValue(std::pow(a, b));
  case BinaryOp::Div:
  case BinaryOp::FloorDiv:
  case BinaryOp::Mod:
    if (b == 0.0) {
      error = std::string("division by zero in constant expression (") + opSpelling(op) +
              " by 0.0)";
      return std::nullopt;
    }
    if (op == BinaryOp::Div)
      return ConstValue(a / b);
    if (op == BinaryOp::FloorDiv)
      return ConstValue(std::floor(a / b));
    return ConstValue(a - std::floor(a / b) * b);
  default:
    if (isComparison(op))
      return ConstValue(compare(op, a, b));
    break;
  }
  error = std::string("operator '") + opSpelling(op) + "' is not defined on floats";
  return std::nullopt;
}

std::optional<ConstValue> foldBinary(BinaryOp op, const ConstValue &a, const ConstValue &b,
                                     std::string &error) {
  if (op == BinaryOp::And || op == BinaryOp::Or) {
    if (!isBool(a) || !isBool(b)) {
      error = std::string("operands of '") + opSpelling(op) + "' must be bool, found " +
              describe(isBool(a) ? b : a);
      return std::nullopt;
    }
    bool x = std::get<bool>(a), y = std::get<bool>(b);
    return ConstValue(op == BinaryOp::And ? (x && y) : (x || y));
  }
  bool aDt = std::holds_alternative<DType>(a), bDt = std::holds_alternative<DType>(b);
  if (aDt || bDt) {
    if (aDt && bDt && (op == BinaryOp::Eq || op == BinaryOp::Ne))
      return ConstValue((std::get<DType>(a) == std::get<DType>(b)) == (op == BinaryOp::Eq));
    error = std::string("operator '") + opSpelling(op) + "' is not defined on dtypes";
    return std::nullopt;
  }
  bool aStr = std::holds_alternative<std::string>(a), bStr = std::holds_alternative<std::string>(b);
  if (aStr || bStr) {
    if (aStr && bStr && (op == BinaryOp::Eq || op == BinaryOp::Ne))
      return ConstValue((std::get<std::string>(a) == std::get<std::string>(b)) ==
                        (op == BinaryOp::Eq));
    if (aStr && bStr)
      error = std::string("operator '") + opSpelling(op) +
              "' is not defined on strings (only == and != are)";
    else
      error = std::string("operator '") + opSpelling(op) + "' cannot compare " +
              describe(aStr ? a : b) + " with " + describe(aStr ? b : a);
    return std::nullopt;
  }
  if (isFloat(a) || isFloat(b))
    return foldFloat(op, *asDouble(a), *asDouble(b), error);
  return foldInt(op, *asInt(a), *asInt(b), error);
}

std::optional<ConstValue> foldUnary(UnaryOp op, const ConstValue &a, std::string &error) {
  if (op == UnaryOp::Not) {
    if (!isBool(a)) {
      error = "operand of 'not' must be bool, found " + describe(a);
      return std::nullopt;
    }
    return ConstValue(!std::get<bool>(a));
  }
  if (auto d = std::get_if<double>(&a)) {
    if (op == UnaryOp::Invert) {
      error = "operator '~' is not defined on floats";
      return std::nullopt;
    }
    return ConstValue(op == UnaryOp::Neg ? -*d : *d);
  }
  std::optional<int64_t> i = asInt(a);
  if (!i) {
    error = std::string("unary operator is not defined on ") + describe(a);
    return std::nullopt;
  }
  if (op == UnaryOp::Pos)
    return ConstValue(*i);
  if (op == UnaryOp::Invert)
    return ConstValue(~*i);
  if (*i == std::numeric_limits<int64_t>::min()) {
    error = "integer overflow in constant expression -(" + std::to_string(*i) + ")";
    return std::nullopt;
  }
  return ConstValue(-*i);
}

} // namespace tlc::consteval
