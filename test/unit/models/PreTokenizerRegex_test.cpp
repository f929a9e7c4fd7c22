// Tests of the pre-tokenizer regex engine on its own: the syntax subset of
// HF pre-tokenizer patterns with Oniguruma's semantics.
#include "tlv4/PreTokenizerRegex.h"

#include <gtest/gtest.h>

using tlv4::PreTokenizerRegex;
using tlv4::RegexError;

namespace {

// The matched substrings of all non-overlapping matches.
std::vector<std::string> matches(const std::string &pattern, const std::string &text) {
  PreTokenizerRegex rx(pattern);
  std::vector<std::string> out;
  for (auto [begin, end] : rx.findAllUtf8(text))
    out.push_back(text.substr(begin, end - begin));
  return out;
}

using Strings = std::vector<std::string>;

const char *kDeepSeekMain =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
    " ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";

} // namespace

TEST(PreTokenizerRegex, AlternationIsLeftmostFirst) {
  EXPECT_EQ(matches("a|ab", "ab ab"), (Strings{"a", "a"}));
  EXPECT_EQ(matches("ab|a", "ab a"), (Strings{"ab", "a"}));
  EXPECT_EQ(matches("(?:x|xy)z", "xyz xz"), (Strings{"xyz", "xz"}));
}

TEST(PreTokenizerRegex, Quantifiers) {
  EXPECT_EQ(matches("a+", "baaab a"), (Strings{"aaa", "a"}));
  EXPECT_EQ(matches("a+?", "aaa"), (Strings{"a", "a", "a"}));
  EXPECT_EQ(matches("a{2,3}", "aaaaaaa"), (Strings{"aaa", "aaa"}));
  EXPECT_EQ(matches("a{2}", "aaaaa"), (Strings{"aa", "aa"}));
  EXPECT_EQ(matches("a{2,}", "a aa aaaa"), (Strings{"aa", "aaaa"}));
  EXPECT_EQ(matches("ba{,2}", "baaa b"), (Strings{"baa", "b"}));
  EXPECT_EQ(matches("a{,2}?b", "aab"), (Strings{"aab"}));
  // Ruby syntax: x{n}? is an optional x{n}, not a lazy one.
  EXPECT_EQ(matches("ba{2}?", "baab ba"), (Strings{"baa", "b", "b"}));
  // '{' that starts no interval is a literal, as in Oniguruma.
  EXPECT_EQ(matches("x{y", "x{y"), (Strings{"x{y"}));
  // After an interval '+' repeats again: (?:a{2})+ in Oniguruma's syntax.
  EXPECT_EQ(matches("a{2}+", "aaaaa"), (Strings{"aaaa"}));
  // Possessive and atomic forms never give back what they took.
  EXPECT_EQ(matches("a*+a", "aaa"), Strings{});
  EXPECT_EQ(matches("(?>a+)b|a", "aab aa"), (Strings{"aab", "a", "a"}));
  // Empty iterations do not loop forever.
  EXPECT_EQ(matches("(?:a?)*b", "aab"), (Strings{"aab"}));
  EXPECT_EQ(matches("x*", "axx"), (Strings{"", "xx", ""}));
}

TEST(PreTokenizerRegex, UnicodeClasses) {
  EXPECT_EQ(matches("\\p{L}+", "héllo wörld 中文 123"), (Strings{"héllo", "wörld", "中文"}));
  EXPECT_EQ(matches("\\p{N}{1,3}", "12345 ½ ٣٤"), (Strings{"123", "45", "½", "٣٤"}));
  EXPECT_EQ(matches("\\p{Lu}\\p{Ll}+", "Hello WORLD World"), (Strings{"Hello", "World"}));
  EXPECT_EQ(matches("[\\p{P}\\p{S}]+", "a+b, c… d€"), (Strings{"+", ",", "…", "€"}));
  EXPECT_EQ(matches("\\p{M}", "e\xCC\x81"), (Strings{"\xCC\x81"}));
  EXPECT_EQ(matches("\\P{L}+", "ab12cd"), (Strings{"12"}));
  EXPECT_EQ(matches("[^\\s\\p{L}]+", "ab 12,cd"), (Strings{"12,"}));
  EXPECT_EQ(matches("\\pN+", "x42"), (Strings{"42"}));
  EXPECT_EQ(matches("\\p{Letter}+", "abc1"), (Strings{"abc"}));
  // Nested classes and intersection.
  EXPECT_EQ(matches("[\\p{L}&&[^aeiou]]+", "strength"), (Strings{"str", "ngth"}));
  EXPECT_EQ(matches("[a-c[x-z]]+", "abxyq"), (Strings{"abxy"}));
  // CJK ranges written literally, as DeepSeek's pattern does.
  EXPECT_EQ(matches("[一-龥぀-ゟ゠-ヿ]+", "日本語のテキストabc"), (Strings{"日本語のテキスト"}));
}

TEST(PreTokenizerRegex, SpaceDigitWordEscapes) {
  // \s is Unicode whitespace: NBSP, em space and U+3000 included.
  EXPECT_EQ(matches("\\s+", "a \t\n\xC2\xA0\xE2\x80\x83\xE3\x80\x80" "b"),
            (Strings{" \t\n\xC2\xA0\xE2\x80\x83\xE3\x80\x80"}));
  EXPECT_EQ(matches("\\S+", "ab  cd"), (Strings{"ab", "cd"}));
  EXPECT_EQ(matches("\\d+", "a1٢3b½"), (Strings{"1٢3"}));
  EXPECT_EQ(matches("\\w+", "foo_bar-baz"), (Strings{"foo_bar", "baz"}));
  EXPECT_EQ(matches("\\bx\\b", "x ax x"), (Strings{"x", "x"}));
  EXPECT_EQ(matches("[\\x41-\\x{43}]+|\\u00e9", "ABCDé"), (Strings{"ABC", "é"}));
  EXPECT_EQ(matches("[\\r\\n]+|\\t", "a\r\n\tb"), (Strings{"\r\n", "\t"}));
}

TEST(PreTokenizerRegex, CaseInsensitiveGroups) {
  const char *contractions = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
  EXPECT_EQ(matches(contractions, "it's I'LL we'Re he'D"), (Strings{"'s", "'LL", "'Re", "'D"}));
  EXPECT_EQ(matches("(?i)abc", "ABC aBc"), (Strings{"ABC", "aBc"}));
  // (?i) reaches to the end of the group, alternatives included:
  // a(?i)b|c == a(?i:b|c), so a lone "c" never matches.
  EXPECT_EQ(matches("a(?i)b|c", "aB C ac"), (Strings{"aB", "ac"}));
  EXPECT_EQ(matches("(?i:[a-c]+)", "AbC"), (Strings{"AbC"}));
  EXPECT_EQ(matches("(?i:σ)", "Σσ"), (Strings{"Σ", "σ"}));
  // Brackets are closed under case before negation; bare \p{..} is exact.
  EXPECT_EQ(matches("(?i)[^a]+", "aAbB"), (Strings{"bB"}));
  EXPECT_EQ(matches("(?i)[\\p{Lu}]+", "abAB"), (Strings{"abAB"}));
  EXPECT_EQ(matches("(?i)\\p{Lu}+", "abAB"), (Strings{"AB"}));
}

TEST(PreTokenizerRegex, LookaheadAndAnchors) {
  // GPT-2's "\s+(?!\S)" leaves the last space for the next word.
  EXPECT_EQ(matches("\\s+(?!\\S)|\\s+", "a   b"), (Strings{"  ", " "}));
  EXPECT_EQ(matches("\\w+(?=!)", "hi! there!"), (Strings{"hi", "there"}));
  EXPECT_EQ(matches("^\\w+", "ab cd\nef"), (Strings{"ab", "ef"}));
  // No line starts after the final newline.
  EXPECT_EQ(matches("\\n^", "a\na\n"), (Strings{"\n"}));
  EXPECT_EQ(matches("\\w+$", "ab cd\nef"), (Strings{"cd", "ef"}));
  EXPECT_EQ(matches("\\A\\w|\\w\\z", "abc"), (Strings{"a", "c"}));
  EXPECT_EQ(matches(".+", "ab\ncd"), (Strings{"ab", "cd"}));
  EXPECT_EQ(matches("(?m:.+)", "ab\ncd"), (Strings{"ab\ncd"}));
}

TEST(PreTokenizerRegex, DeepSeekPattern) {
  EXPECT_EQ(matches(kDeepSeekMain, "Hello, world! It's 2026."),
            (Strings{"Hello", ",", " world", "!", " It", "'s", " ", "."}));
  EXPECT_EQ(matches(kDeepSeekMain, "a  b\n\n  c"), (Strings{"a", " ", " b", "\n\n", " ", " c"}));
  EXPECT_EQ(matches(kDeepSeekMain, "x.method(y)"), (Strings{"x", ".method", "(y", ")"}));
}

TEST(PreTokenizerRegex, InvalidUtf8BytesAreUnassignedCharacters) {
  // An invalid byte is neither letter nor space: it matches \S and [^\p{L}].
  EXPECT_EQ(matches("\\S+", "a\xFF" "b c"), (Strings{"a\xFF" "b", "c"}));
  EXPECT_EQ(matches("\\p{L}+", "a\xFF" "b"), (Strings{"a", "b"}));
}

TEST(PreTokenizerRegex, FindAndMatchAt) {
  PreTokenizerRegex rx("\\p{N}+");
  std::u32string text = U"ab12c345";
  auto m = rx.find(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (PreTokenizerRegex::Span{2, 4}));
  m = rx.find(text, 4);
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (PreTokenizerRegex::Span{5, 8}));
  EXPECT_FALSE(rx.matchAt(text, 0));
  EXPECT_EQ(rx.matchAt(text, 3), (PreTokenizerRegex::Span{3, 4}));
  EXPECT_FALSE(rx.matchAt(text, 99));
  EXPECT_FALSE(rx.find(text, 99));
}

TEST(PreTokenizerRegex, HostilePatternsFailCleanly) {
  EXPECT_THROW(PreTokenizerRegex(std::string(5000, '(') + std::string(5000, ')')), RegexError);
  EXPECT_THROW(PreTokenizerRegex(std::string(5000, '[') + "a" + std::string(5000, ']')), RegexError);
  EXPECT_THROW(PreTokenizerRegex("((a{1000}){1000}){1000}"), RegexError);
  // Exponential backtracking stops at a step limit with an error.
  PreTokenizerRegex exponential("(?:a|a)*b");
  EXPECT_THROW(exponential.findAllUtf8(std::string(40, 'a')), RegexError);
}

TEST(PreTokenizerRegex, RejectsUnsupportedSyntaxWithAMessage) {
  const char *bad[] = {"(ab",      "ab)",       "[abc",      "*a",      "(?<=a)b", "(?<!a)b",
                       "(a)\\1",   "\\p{Han}",  "\\p{Foo}",  "[[:alpha:]]", "a{3,2}", "\\q",
                       "(?x:a b)", "a{2000}",   "[z-a]",     "{2}a",
                       "a*?*",     "a++?"};
  for (const char *pattern : bad) {
    try {
      PreTokenizerRegex rx(pattern);
      ADD_FAILURE() << "accepted: " << pattern;
    } catch (const RegexError &e) {
      EXPECT_NE(std::string(e.what()).find(pattern), std::string::npos) << e.what();
    }
  }
}
