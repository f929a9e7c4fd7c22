// UTF-8 helpers and Unicode tables for the tokenizer (see Utf8.h).
#include "Utf8.h"

#include <algorithm>

namespace tlv4::utf8 {
namespace {
#include "UnicodeTables.inc"

// Length of the valid sequence at bytes[pos], or 0 with `invalidLength` set to
// the maximal subpart (at least 1) that one U+FFFD replaces.
size_t sequenceLength(std::string_view bytes, size_t pos, size_t &invalidLength) {
  auto b0 = static_cast<unsigned char>(bytes[pos]);
  invalidLength = 1;
  if (b0 < 0x80)
    return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0)
      lo = 0xA0;
    if (b0 == 0xED)
      hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0)
      lo = 0x90;
    if (b0 == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t k = 1; k < need; ++k) {
    if (pos + k >= bytes.size()) {
      invalidLength = k;
      return 0;
    }
    auto b = static_cast<unsigned char>(bytes[pos + k]);
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) {
      invalidLength = k;
      return 0;
    }
  }
  return need;
}

struct FoldIndex {
  std::vector<CaseFoldPair> byFolded;
  FoldIndex() {
    byFolded.assign(std::begin(kSimpleCaseFold), std::end(kSimpleCaseFold));
    std::sort(byFolded.begin(), byFolded.end(), [](const CaseFoldPair &a, const CaseFoldPair &b) {
      return a.folded != b.folded ? a.folded < b.folded : a.codePoint < b.codePoint;
    });
  }
};

const FoldIndex &foldIndex() {
  static const FoldIndex index;
  return index;
}
} // namespace

char32_t decodeOne(std::string_view bytes, size_t pos, size_t &length) {
  size_t invalid;
  size_t n = sequenceLength(bytes, pos, invalid);
  auto b0 = static_cast<unsigned char>(bytes[pos]);
  if (n == 0) {
    length = 1;
    return kInvalidByteBase + b0;
  }
  length = n;
  if (n == 1)
    return b0;
  char32_t cp = b0 & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(bytes[pos + k]) & 0x3F);
  return cp;
}

DecodedText decode(std::string_view bytes) {
  DecodedText text;
  text.codePoints.reserve(bytes.size());
  text.offsets.reserve(bytes.size() + 1);
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t length;
    text.offsets.push_back(static_cast<uint32_t>(pos));
    text.codePoints.push_back(decodeOne(bytes, pos, length));
    pos += length;
  }
  text.offsets.push_back(static_cast<uint32_t>(bytes.size()));
  return text;
}

void append(std::string &out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x110000) {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < kInvalidByteBase + 0x100) {
    // Round-trip the raw byte that decode() could not interpret.
    out.push_back(static_cast<char>(cp - kInvalidByteBase));
  }
}

std::string toValidLossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t invalid;
    size_t n = sequenceLength(bytes, pos, invalid);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      pos += invalid;
      continue;
    }
    out.append(bytes.substr(pos, n));
    pos += n;
  }
  return out;
}

GeneralCategory generalCategory(char32_t cp) {
  const CategoryRange *begin = std::begin(kCategoryRanges);
  const CategoryRange *end = std::end(kCategoryRanges);
  const CategoryRange *it =
      std::upper_bound(begin, end, cp, [](char32_t c, const CategoryRange &r) { return c < r.first; });
  if (it == begin)
    return GeneralCategory::Cn;
  --it;
  return cp <= it->last ? it->category : GeneralCategory::Cn;
}

char32_t simpleFold(char32_t cp) {
  if (cp < 0x80)
    return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
  const CaseFoldPair *begin = std::begin(kSimpleCaseFold);
  const CaseFoldPair *end = std::end(kSimpleCaseFold);
  const CaseFoldPair *it = std::lower_bound(
      begin, end, cp, [](const CaseFoldPair &p, char32_t c) { return p.codePoint < c; });
  return it != end && it->codePoint == cp ? it->folded : cp;
}

size_t unfold(char32_t folded, char32_t (&out)[kMaxCaseVariants]) {
  const auto &index = foldIndex().byFolded;
  auto it = std::lower_bound(index.begin(), index.end(), folded,
                             [](const CaseFoldPair &p, char32_t c) { return p.folded < c; });
  size_t count = 0;
  for (; it != index.end() && it->folded == folded && count < kMaxCaseVariants; ++it)
    out[count++] = it->codePoint;
  return count;
}

bool isWhitespace(char32_t cp) {
  if (cp < 0x80)
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  if (cp == 0x85)
    return true;
  GeneralCategory gc = generalCategory(cp);
  return gc == GeneralCategory::Zs || gc == GeneralCategory::Zl || gc == GeneralCategory::Zp;
}

bool isWordChar(char32_t cp) {
  if (cp < 0x80)
    return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
           cp == '_';
  switch (generalCategory(cp)) {
  case GeneralCategory::Lu: case GeneralCategory::Ll: case GeneralCategory::Lt:
  case GeneralCategory::Lm: case GeneralCategory::Lo: case GeneralCategory::Mn:
  case GeneralCategory::Mc: case GeneralCategory::Me: case GeneralCategory::Nd:
  case GeneralCategory::Nl: case GeneralCategory::Pc:
    return true;
  default:
    return false;
  }
}

const char *unicodeVersion() { return TLV4_UNICODE_VERSION; }

} // namespace tlv4::utf8
