// UTF-8 decoding/encoding and the Unicode character data (general category,
// simple case folding) that the tokenizer's pre-tokenizer regex needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tlv4::utf8 {

enum class GeneralCategory : uint8_t {
  Cn, Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe, Pi, Pf, Po,
  Sm, Sc, Sk, So, Zs, Zl, Zp, Cc, Cf, Cs, Co,
};
constexpr int kNumCategories = 30;

struct CategoryRange {
  char32_t first;
  char32_t last;
  GeneralCategory category;
};

struct CaseFoldPair {
  char32_t codePoint;
  char32_t folded;
};

// Bytes that are not part of valid UTF-8 decode to kInvalidByteBase + byte:
// values above U+10FFFF that belong to no category (Cn), so the regex treats
// them like unassigned characters and the original bytes survive to the
// byte-level BPE.
constexpr char32_t kInvalidByteBase = 0x110000;

// Text as code points plus the byte offset where each one starts;
// offsets.size() == codePoints.size() + 1 (the last is the text length).
struct DecodedText {
  std::u32string codePoints;
  std::vector<uint32_t> offsets;
};

DecodedText decode(std::string_view bytes);

// Decodes one code point at bytes[pos]; sets `length` to the bytes consumed.
// Invalid input yields kInvalidByteBase + byte with length 1.
char32_t decodeOne(std::string_view bytes, size_t pos, size_t &length);

void append(std::string &out, char32_t codePoint);

// Replaces each maximal invalid subsequence with U+FFFD, the way Rust's
// String::from_utf8_lossy (and so HF tokenizers' decode) does.
std::string toValidLossy(std::string_view bytes);

GeneralCategory generalCategory(char32_t codePoint);
char32_t simpleFold(char32_t codePoint);
// Code points whose simple fold equals `folded` (excluding `folded` itself),
// written to `out`; returns how many (at most kMaxCaseVariants).
constexpr size_t kMaxCaseVariants = 4;
size_t unfold(char32_t folded, char32_t (&out)[kMaxCaseVariants]);

// Unicode White_Space (what Rust's char::is_whitespace tests).
bool isWhitespace(char32_t codePoint);
// Letters, marks, decimal and letter numbers, connector punctuation.
bool isWordChar(char32_t codePoint);
const char *unicodeVersion();

} // namespace tlv4::utf8
