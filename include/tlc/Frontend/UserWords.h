//===- UserWords.h - diagnostics in the words of the .tl language ---------===//
//
// Errors raised after the front end (verifiers, passes, lowerings) are
// written against the IR: "'tl.copy' op ...", "failed to legalize operation
// 'vector.load'". The user wrote T.copy and an element access, so tlc
// rewrites such messages before printing them: an op of the tl dialect
// becomes the construct that produced it, and an op of another dialect
// marks an internal error (the front end should have caught the problem, or
// the back end is missing a case) in terms of what the code does.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <string_view>

namespace tlc {

/// The user-facing phrase for an op name ("tl.copy" -> "T.copy",
/// "memref.load" -> "an element load").
std::string constructForOp(std::string_view opName);

/// `message` with every op name replaced by its construct; an op-prefixed
/// message of a non-tl op, or a failed legalisation, becomes an internal
/// compiler error with a request to report it.
std::string userWords(std::string_view message);

} // namespace tlc
