// A small backtracking regex engine over Unicode code points, for the
// pre-tokenizer patterns of HuggingFace tokenizers (GPT-2, LLaMA-3, DeepSeek
// V3/V4 styles). std::regex has no \p{..} classes, hence this.
//
// Semantics follow Oniguruma (what HF tokenizers uses): leftmost-first
// alternation, greedy/lazy/possessive quantifiers, ^ and $ match at line
// boundaries, '.' does not match '\n'. Supported syntax: | ( ) (?: ) (?i: )
// (?-i: ) (?i) (?> ) (?= ) (?! ), classes [...] [^...] with ranges, nesting
// and && intersection, \p{..} \P{..} \pL (general categories and their
// groups: L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm
// Sc Sk So Z Zs Zl Zp C Cc Cf Cs Co Cn, long names such as Letter too),
// \s \S \d \D \w \W \h \H \b \B \A \z \Z, escapes \n \r \t \f \v \e \a \0
// \xHH \x{H..} \uHHHH, quantifiers ? * + {n} {n,} {,m} {n,m} with ? (lazy)
// or + (possessive); as in Ruby syntax, x{n}? is (?:x{n})? and x{n,m}+ is
// (?:x{n,m})+. Case-insensitive matching uses simple case folding; a bracket
// class is closed under it before negation, a bare \p{..} is not folded.
// Lookbehind, backreferences, scripts (\p{Han}), POSIX brackets and
// quantifiers stacked on lazy/possessive ones are rejected with an error
// rather than silently mismatched.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tlv4 {

class RegexError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class PreTokenizerRegex {
public:
  // Throws RegexError naming the pattern and the offending position.
  explicit PreTokenizerRegex(std::string_view pattern);

  // [begin, end) in code-point indices.
  using Span = std::pair<size_t, size_t>;

  // The leftmost match starting at or after `from`.
  std::optional<Span> find(std::u32string_view text, size_t from = 0) const;
  // The match anchored at `at`, if any.
  std::optional<Span> matchAt(std::u32string_view text, size_t at) const;
  // All non-overlapping matches, scanning left to right; an empty match
  // moves the scan on by one code point.
  std::vector<Span> findAll(std::u32string_view text) const;
  // findAll over UTF-8 text, spans in byte offsets.
  std::vector<Span> findAllUtf8(std::string_view text) const;

  const std::string &pattern() const { return pattern_; }

  struct Program;

private:
  std::string pattern_;
  std::shared_ptr<const Program> program_;
};

} // namespace tlv4
