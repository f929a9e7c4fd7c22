// Compile-time folding of .tl constant expressions with Python semantics
// (floor division and modulo, int64 overflow and division by zero reported
// as errors). Internal to the front end.
#ifndef TLC_LIB_FRONTEND_CONSTEVAL_H
#define TLC_LIB_FRONTEND_CONSTEVAL_H

#include "tlc/Frontend/AST.h"

#include <optional>
#include <string>

namespace tlc::consteval {

/// Python's a // b and a % b on integers (b != 0; the caller checks).
int64_t floorDiv(int64_t a, int64_t b);
int64_t floorMod(int64_t a, int64_t b);

/// Folds `a op b`. On failure returns nullopt and sets `error` to a message
/// naming the operator and what was found ("division by zero", "overflow").
std::optional<ConstValue> foldBinary(BinaryOp op, const ConstValue &a, const ConstValue &b,
                                     std::string &error);
std::optional<ConstValue> foldUnary(UnaryOp op, const ConstValue &a, std::string &error);

/// Python spelling of a binary operator ("//", "and").
const char *opSpelling(BinaryOp op);

bool isInt(const ConstValue &v);   // int64_t (bool excluded)
bool isFloat(const ConstValue &v); // double
bool isBool(const ConstValue &v);
/// int or bool as int64, float as double (for numeric use).
std::optional<double> asDouble(const ConstValue &v);

/// A short description of a constant's kind for messages: "int constant 3".
std::string describe(const ConstValue &v);

} // namespace tlc::consteval

#endif // TLC_LIB_FRONTEND_CONSTEVAL_H
