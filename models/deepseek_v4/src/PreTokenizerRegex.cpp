// The pre-tokenizer regex engine (see PreTokenizerRegex.h): a recursive
// descent parser to a small AST, compiled to a backtracking VM program.
#include "tlv4/PreTokenizerRegex.h"

#include "Utf8.h"

#include <bitset>
#include <deque>
#include <fmt/format.h>

namespace tlv4 {
namespace {
using utf8::GeneralCategory;

constexpr uint32_t catBit(GeneralCategory c) { return 1u << static_cast<int>(c); }
constexpr uint32_t kLetters = catBit(GeneralCategory::Lu) | catBit(GeneralCategory::Ll) |
                              catBit(GeneralCategory::Lt) | catBit(GeneralCategory::Lm) |
                              catBit(GeneralCategory::Lo);
constexpr uint32_t kMarks =
    catBit(GeneralCategory::Mn) | catBit(GeneralCategory::Mc) | catBit(GeneralCategory::Me);
constexpr uint32_t kNumbers =
    catBit(GeneralCategory::Nd) | catBit(GeneralCategory::Nl) | catBit(GeneralCategory::No);
constexpr uint32_t kPunctuation =
    catBit(GeneralCategory::Pc) | catBit(GeneralCategory::Pd) | catBit(GeneralCategory::Ps) |
    catBit(GeneralCategory::Pe) | catBit(GeneralCategory::Pi) | catBit(GeneralCategory::Pf) |
    catBit(GeneralCategory::Po);
constexpr uint32_t kSymbols = catBit(GeneralCategory::Sm) | catBit(GeneralCategory::Sc) |
                              catBit(GeneralCategory::Sk) | catBit(GeneralCategory::So);
constexpr uint32_t kSeparators =
    catBit(GeneralCategory::Zs) | catBit(GeneralCategory::Zl) | catBit(GeneralCategory::Zp);
constexpr uint32_t kOthers = catBit(GeneralCategory::Cc) | catBit(GeneralCategory::Cf) |
                             catBit(GeneralCategory::Cs) | catBit(GeneralCategory::Co) |
                             catBit(GeneralCategory::Cn);

struct PropertyName {
  const char *shortName;
  const char *longName;
  uint32_t mask;
};

const PropertyName kProperties[] = {
    {"L", "Letter", kLetters},
    {"LC", "CasedLetter",
     catBit(GeneralCategory::Lu) | catBit(GeneralCategory::Ll) | catBit(GeneralCategory::Lt)},
    {"Lu", "UppercaseLetter", catBit(GeneralCategory::Lu)},
    {"Ll", "LowercaseLetter", catBit(GeneralCategory::Ll)},
    {"Lt", "TitlecaseLetter", catBit(GeneralCategory::Lt)},
    {"Lm", "ModifierLetter", catBit(GeneralCategory::Lm)},
    {"Lo", "OtherLetter", catBit(GeneralCategory::Lo)},
    {"M", "Mark", kMarks},
    {"Mn", "NonspacingMark", catBit(GeneralCategory::Mn)},
    {"Mc", "SpacingMark", catBit(GeneralCategory::Mc)},
    {"Me", "EnclosingMark", catBit(GeneralCategory::Me)},
    {"N", "Number", kNumbers},
    {"Nd", "DecimalNumber", catBit(GeneralCategory::Nd)},
    {"Nl", "LetterNumber", catBit(GeneralCategory::Nl)},
    {"No", "OtherNumber", catBit(GeneralCategory::No)},
    {"P", "Punctuation", kPunctuation},
    {"Pc", "ConnectorPunctuation", catBit(GeneralCategory::Pc)},
    {"Pd", "DashPunctuation", catBit(GeneralCategory::Pd)},
    {"Ps", "OpenPunctuation", catBit(GeneralCategory::Ps)},
    {"Pe", "ClosePunctuation", catBit(GeneralCategory::Pe)},
    {"Pi", "InitialPunctuation", catBit(GeneralCategory::Pi)},
    {"Pf", "FinalPunctuation", catBit(GeneralCategory::Pf)},
    {"Po", "OtherPunctuation", catBit(GeneralCategory::Po)},
    {"S", "Symbol", kSymbols},
    {"Sm", "MathSymbol", catBit(GeneralCategory::Sm)},
    {"Sc", "CurrencySymbol", catBit(GeneralCategory::Sc)},
    {"Sk", "ModifierSymbol", catBit(GeneralCategory::Sk)},
    {"So", "OtherSymbol", catBit(GeneralCategory::So)},
    {"Z", "Separator", kSeparators},
    {"Zs", "SpaceSeparator", catBit(GeneralCategory::Zs)},
    {"Zl", "LineSeparator", catBit(GeneralCategory::Zl)},
    {"Zp", "ParagraphSeparator", catBit(GeneralCategory::Zp)},
    {"C", "Other", kOthers},
    {"Cc", "Control", catBit(GeneralCategory::Cc)},
    {"Cf", "Format", catBit(GeneralCategory::Cf)},
    {"Cs", "Surrogate", catBit(GeneralCategory::Cs)},
    {"Co", "PrivateUse", catBit(GeneralCategory::Co)},
    {"Cn", "Unassigned", catBit(GeneralCategory::Cn)},
    {"Any", "Any", ~0u},
};

// Property names compare the way Oniguruma does: case, spaces, '-' and '_'
// do not matter.
std::string looseName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ' ' || c == '_' || c == '-')
      continue;
    out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  }
  return out;
}

struct CharClass {
  bool negated = false;
  std::vector<std::pair<char32_t, char32_t>> ranges;
  uint32_t categories = 0;
  std::vector<CharClass> unionWith;
  std::vector<CharClass> intersectWith;

  // Under (?i) Oniguruma closes a bracket class under case folding before
  // negating it: (?i)[^a] matches neither 'a' nor 'A'.
  bool contains(char32_t c, bool icase) const {
    bool in = containsUnnegated(c, icase);
    if (!in && icase) {
      char32_t folded = utf8::simpleFold(c);
      if (folded != c)
        in = containsUnnegated(folded, icase);
      char32_t variants[utf8::kMaxCaseVariants];
      size_t count = utf8::unfold(folded, variants);
      for (size_t k = 0; !in && k < count; ++k)
        if (variants[k] != c)
          in = containsUnnegated(variants[k], icase);
    }
    return in != negated;
  }

private:
  bool containsUnnegated(char32_t c, bool icase) const {
    bool in = false;
    for (const auto &r : ranges) {
      if (c >= r.first && c <= r.second) {
        in = true;
        break;
      }
    }
    if (!in && categories != 0)
      in = (categories & catBit(utf8::generalCategory(c))) != 0;
    // Nested classes are taken as written; only the outer class is closed
    // under case, as Oniguruma does: (?i)[\p{L}&&[^a]] accepts 'A'.
    for (size_t k = 0; !in && k < unionWith.size(); ++k)
      in = unionWith[k].contains(c, false);
    for (size_t k = 0; in && k < intersectWith.size(); ++k)
      in = intersectWith[k].contains(c, false);
    return in;
  }
};

CharClass spaceClass() {
  // Oniguruma's \s in Unicode mode: \t \n \v \f \r, U+0085 and Z*.
  CharClass c;
  c.ranges = {{0x09, 0x0D}, {0x20, 0x20}, {0x85, 0x85}};
  c.categories = kSeparators;
  return c;
}

CharClass categoryClass(uint32_t mask) {
  CharClass c;
  c.categories = mask;
  return c;
}

CharClass negatedClass(CharClass inner) {
  CharClass c;
  c.negated = true;
  c.unionWith.push_back(std::move(inner));
  return c;
}

struct CompiledClass {
  CharClass cls;
  bool icase = false;
  std::bitset<128> ascii;

  bool slowContains(char32_t c) const { return cls.contains(c, icase); }
  void finish() {
    for (char32_t c = 0; c < 128; ++c)
      ascii[c] = slowContains(c);
  }
  bool contains(char32_t c) const { return c < 128 ? ascii[c] : slowContains(c); }
};

enum class AssertKind : uint8_t { LineBegin, LineEnd, TextBegin, TextEnd, TextEndNewline, WordBoundary, NotWordBoundary };

struct Node {
  enum Kind { Empty, Char, Class, Any, Concat, Alt, Repeat, Look, Atomic, Assert } kind = Empty;
  char32_t ch = 0;
  bool icase = false;
  bool dotAll = false;
  int classIndex = -1;
  std::vector<std::unique_ptr<Node>> kids;
  int min = 0, max = -1;
  bool greedy = true, possessive = false;
  bool negate = false;
  AssertKind assertKind = AssertKind::TextBegin;
};
using NodeP = std::unique_ptr<Node>;

NodeP makeNode(Node::Kind kind) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  return n;
}

struct Flags {
  bool icase = false;
  bool dotAll = false;
};

constexpr int kMaxRepeat = 1000;
constexpr int kMaxNesting = 100;
// Counted repeats are unrolled; nesting them could multiply the program
// without bound, so cap its size.
constexpr size_t kMaxProgramSize = 200000;
// Like Oniguruma's retry limit: a pattern that backtracks this much on one
// input is pathological, and an error beats an endless loop.
constexpr uint64_t kMaxStepsPerSearch = 100000000;

class Parser {
public:
  Parser(std::string_view pattern, std::vector<CompiledClass> &classes)
      : pattern_(pattern), classes_(classes) {
    utf8::DecodedText decoded = utf8::decode(pattern);
    p_ = std::move(decoded.codePoints);
    for (char32_t c : p_)
      if (c >= utf8::kInvalidByteBase)
        fail("the pattern is not valid UTF-8");
  }

  NodeP parse() {
    NodeP root = parseAlt(Flags{});
    if (!eof())
      fail("unbalanced ')'");
    return root;
  }

private:
  [[noreturn]] void fail(const std::string &what) const {
    throw RegexError(fmt::format("regex /{}/: {} (at code point {})", pattern_, what, i_));
  }
  bool eof() const { return i_ >= p_.size(); }
  char32_t peek(size_t k = 0) const { return i_ + k < p_.size() ? p_[i_ + k] : 0; }
  char32_t next() {
    if (eof())
      fail("unexpected end of pattern");
    return p_[i_++];
  }
  bool accept(char32_t c) {
    if (eof() || p_[i_] != c)
      return false;
    ++i_;
    return true;
  }

  NodeP parseAlt(Flags flags) {
    NodeP first = parseConcat(flags);
    if (eof() || peek() != '|')
      return first;
    NodeP alt = makeNode(Node::Alt);
    alt->kids.push_back(std::move(first));
    while (accept('|'))
      alt->kids.push_back(parseConcat(flags));
    return alt;
  }

  NodeP parseConcat(Flags flags) {
    NodeP concat = makeNode(Node::Concat);
    while (!eof() && peek() != '|' && peek() != ')') {
      if (peek() == '(' && peek(1) == '?' && isInlineFlagGroup()) {
        // (?i) applies to the rest of the enclosing group, alternatives
        // included, as in Oniguruma: a(?i)b|c == a(?i:b|c).
        i_ += 2;
        parseFlagLetters(flags, ')');
        concat->kids.push_back(parseAlt(flags));
        break;
      }
      concat->kids.push_back(parseQuantified(flags));
    }
    if (concat->kids.size() == 1)
      return std::move(concat->kids[0]);
    return concat;
  }

  bool isInlineFlagGroup() const {
    size_t k = i_ + 2;
    while (k < p_.size() && (p_[k] == 'i' || p_[k] == 'm' || p_[k] == 'x' || p_[k] == '-'))
      ++k;
    return k > i_ + 2 && k < p_.size() && p_[k] == ')';
  }

  // Reads letters like "i", "-i", "im" up to `terminator` (consumed).
  void parseFlagLetters(Flags &flags, char32_t terminator) {
    bool on = true;
    while (true) {
      char32_t c = next();
      if (c == terminator)
        return;
      if (c == '-')
        on = false;
      else if (c == 'i')
        flags.icase = on;
      else if (c == 'm')
        flags.dotAll = on;
      else
        fail(fmt::format("unsupported group flag '{}'", static_cast<char>(c < 128 ? c : '?')));
    }
  }

  NodeP parseQuantified(Flags flags) {
    NodeP atom = parseAtom(flags);
    while (!eof()) {
      int min, max;
      size_t save = i_;
      char32_t c = peek();
      bool interval = false;
      bool fixedInterval = false;
      if (c == '*') {
        min = 0, max = -1, ++i_;
      } else if (c == '+') {
        min = 1, max = -1, ++i_;
      } else if (c == '?') {
        min = 0, max = 1, ++i_;
      } else if (c == '{' && parseInterval(min, max)) {
        interval = true;
        // Ruby syntax: x{n}? is (?:x{n})?, not a lazy x{n}.
        fixedInterval = !intervalHadComma_;
      } else {
        i_ = save;
        break;
      }
      if (atom->kind == Node::Assert || atom->kind == Node::Look)
        fail("quantifier after an assertion");
      // Oniguruma rewrites stacked quantifiers over lazy or possessive ones
      // in ways not reproduced here; refuse rather than mismatch.
      if (atom->kind == Node::Repeat && (!atom->greedy || atom->possessive))
        fail("quantifier after a lazy or possessive quantifier");
      NodeP rep = makeNode(Node::Repeat);
      rep->min = min;
      rep->max = max;
      if (!fixedInterval && accept('?')) {
        rep->greedy = false;
      } else if (peek() == '+' && !interval) {
        // After an interval, '+' is not possessive but a second quantifier
        // (Oniguruma's Ruby syntax): the next loop iteration applies it.
        ++i_;
        rep->possessive = true;
      }
      rep->kids.push_back(std::move(atom));
      atom = std::move(rep);
    }
    return atom;
  }

  // {n} {n,} {,m} {n,m}; anything else leaves '{' a literal (Oniguruma).
  bool parseInterval(int &min, int &max) {
    size_t k = i_ + 1;
    auto readNumber = [&](int &value) {
      size_t start = k;
      long v = 0;
      while (k < p_.size() && p_[k] >= '0' && p_[k] <= '9') {
        v = v * 10 + (p_[k] - '0');
        if (v > 100000)
          v = 100000;
        ++k;
      }
      value = static_cast<int>(v);
      return k > start;
    };
    int lo = 0, hi = -1;
    bool hasLo = readNumber(lo);
    bool hasComma = k < p_.size() && p_[k] == ',';
    if (hasComma) {
      ++k;
      bool hasHi = readNumber(hi);
      if (!hasLo && !hasHi)
        return false;
      if (!hasHi)
        hi = -1;
    } else {
      if (!hasLo)
        return false;
      hi = lo;
    }
    if (k >= p_.size() || p_[k] != '}')
      return false;
    i_ = k + 1;
    intervalHadComma_ = hasComma;
    if (lo > kMaxRepeat || hi > kMaxRepeat)
      fail(fmt::format("repeat count above {}", kMaxRepeat));
    if (hi != -1 && hi < lo)
      fail("interval {n,m} with m < n");
    min = lo;
    max = hi;
    return true;
  }

  NodeP charNode(char32_t c, Flags flags) {
    NodeP n = makeNode(Node::Char);
    n->ch = c;
    n->icase = flags.icase;
    return n;
  }

  NodeP classNode(CharClass cls, Flags flags) {
    CompiledClass compiled;
    compiled.cls = std::move(cls);
    compiled.icase = flags.icase;
    compiled.finish();
    classes_.push_back(std::move(compiled));
    NodeP n = makeNode(Node::Class);
    n->classIndex = static_cast<int>(classes_.size() - 1);
    return n;
  }

  NodeP assertNode(AssertKind kind) {
    NodeP n = makeNode(Node::Assert);
    n->assertKind = kind;
    return n;
  }

  NodeP parseGroup(Flags flags) {
    // '(' already consumed. The parser recurses per group; bound it so that
    // a hostile pattern fails with an error instead of the stack.
    if (++depth_ > kMaxNesting)
      fail(fmt::format("groups nested deeper than {}", kMaxNesting));
    NodeP node = parseGroupBody(flags);
    --depth_;
    return node;
  }

  NodeP parseGroupBody(Flags flags) {
    if (!accept('?')) {
      NodeP inner = parseAlt(flags);
      expectClose();
      return inner;
    }
    char32_t c = next();
    if (c == ':') {
      NodeP inner = parseAlt(flags);
      expectClose();
      return inner;
    }
    if (c == '=' || c == '!') {
      NodeP look = makeNode(Node::Look);
      look->negate = c == '!';
      look->kids.push_back(parseAlt(flags));
      expectClose();
      return look;
    }
    if (c == '>') {
      NodeP atomic = makeNode(Node::Atomic);
      atomic->kids.push_back(parseAlt(flags));
      expectClose();
      return atomic;
    }
    if (c == '<' && (peek() == '=' || peek() == '!'))
      fail("lookbehind is not supported");
    if (c == '<' || c == 'P' || c == '\'') {
      // Named group: the name does not matter since nothing is captured.
      char32_t close = c == '\'' ? '\'' : '>';
      if (c == 'P' && !accept('<'))
        fail("unsupported (?P group");
      while (next() != close) {
      }
      NodeP inner = parseAlt(flags);
      expectClose();
      return inner;
    }
    if (c == 'i' || c == 'm' || c == '-') {
      --i_;
      Flags inner = flags;
      bool on = true;
      while (true) {
        char32_t f = next();
        if (f == ':')
          break;
        if (f == '-')
          on = false;
        else if (f == 'i')
          inner.icase = on;
        else if (f == 'm')
          inner.dotAll = on;
        else
          fail("unsupported group flag");
      }
      NodeP node = parseAlt(inner);
      expectClose();
      return node;
    }
    fail("unsupported group syntax '(?'");
  }

  void expectClose() {
    if (!accept(')'))
      fail("missing ')'");
  }

  NodeP parseAtom(Flags flags) {
    char32_t c = next();
    switch (c) {
    case '(':
      return parseGroup(flags);
    case '[':
      return classNode(parseClass(), flags);
    case '.': {
      NodeP n = makeNode(Node::Any);
      n->dotAll = flags.dotAll;
      return n;
    }
    case '^':
      return assertNode(AssertKind::LineBegin);
    case '$':
      return assertNode(AssertKind::LineEnd);
    case '*':
    case '+':
    case '?':
      --i_;
      fail("quantifier with nothing to repeat");
    case '\\':
      return parseEscapeAtom(flags);
    case '{': {
      // Oniguruma: a valid interval here has nothing to repeat; any other
      // '{' is a literal.
      --i_;
      int min, max;
      if (parseInterval(min, max))
        fail("quantifier with nothing to repeat");
      ++i_;
      return charNode(c, flags);
    }
    default:
      return charNode(c, flags);
    }
  }

  NodeP parseEscapeAtom(Flags flags) {
    char32_t c = peek();
    switch (c) {
    case 'A': ++i_; return assertNode(AssertKind::TextBegin);
    case 'z': ++i_; return assertNode(AssertKind::TextEnd);
    case 'Z': ++i_; return assertNode(AssertKind::TextEndNewline);
    case 'b': ++i_; return assertNode(AssertKind::WordBoundary);
    case 'B': ++i_; return assertNode(AssertKind::NotWordBoundary);
    default:
      break;
    }
    CharClass set;
    char32_t ch;
    if (parseEscape(set, ch)) {
      // Oniguruma does not case-fold a bare \p{..}: (?i)\p{Lu} still
      // rejects 'a' (inside brackets, (?i)[\p{Lu}] accepts it).
      Flags exact = flags;
      exact.icase = false;
      return classNode(std::move(set), exact);
    }
    return charNode(ch, flags);
  }

  // After '\\': returns true with `set` for class escapes, false with `ch`
  // for a single character.
  bool parseEscape(CharClass &set, char32_t &ch) {
    char32_t c = next();
    switch (c) {
    case 's': set = spaceClass(); return true;
    case 'S': set = negatedClass(spaceClass()); return true;
    case 'd': set = categoryClass(catBit(GeneralCategory::Nd)); return true;
    case 'D': set = negatedClass(categoryClass(catBit(GeneralCategory::Nd))); return true;
    case 'w': set = wordClass(); return true;
    case 'W': set = negatedClass(wordClass()); return true;
    case 'h': set = hexClass(); return true;
    case 'H': set = negatedClass(hexClass()); return true;
    case 'p':
    case 'P': set = parseProperty(c == 'P'); return true;
    case 'n': ch = '\n'; return false;
    case 'r': ch = '\r'; return false;
    case 't': ch = '\t'; return false;
    case 'f': ch = '\f'; return false;
    case 'v': ch = '\v'; return false;
    case 'e': ch = 0x1B; return false;
    case 'a': ch = 0x07; return false;
    case '0': ch = 0; return false;
    case 'x': ch = parseHex(); return false;
    case 'u': ch = parseFixedHex(4); return false;
    default:
      break;
    }
    if (c >= '1' && c <= '9')
      fail("backreferences are not supported");
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      fail(fmt::format("unsupported escape '\\{}'", static_cast<char>(c)));
    ch = c;
    return false;
  }

  // Oniguruma's \w: Alphabetic, marks, decimal digits and connector
  // punctuation, except that below U+0100 its Latin-1 table also counts
  // the superscripts and vulgar fractions. Alphabetic is approximated by
  // L and Nl (the few Other_Alphabetic symbols such as circled letters are
  // missed).
  static CharClass wordClass() {
    CharClass c;
    c.categories = kLetters | kMarks | catBit(GeneralCategory::Nd) | catBit(GeneralCategory::Nl) |
                   catBit(GeneralCategory::Pc);
    c.ranges = {{0xB2, 0xB3}, {0xB9, 0xB9}, {0xBC, 0xBE}};
    return c;
  }

  static CharClass hexClass() {
    CharClass c;
    c.ranges = {{'0', '9'}, {'A', 'F'}, {'a', 'f'}};
    return c;
  }

  static int hexValue(char32_t c) {
    if (c >= '0' && c <= '9')
      return static_cast<int>(c - '0');
    if (c >= 'a' && c <= 'f')
      return static_cast<int>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
      return static_cast<int>(c - 'A' + 10);
    return -1;
  }

  char32_t parseHex() {
    if (accept('{')) {
      char32_t v = 0;
      int digits = 0;
      while (!accept('}')) {
        int h = hexValue(next());
        if (h < 0 || ++digits > 8)
          fail("bad \\x{...} escape");
        v = v * 16 + h;
      }
      if (digits == 0 || v > 0x10FFFF)
        fail("bad \\x{...} escape");
      return v;
    }
    char32_t v = 0;
    for (int k = 0; k < 2 && hexValue(peek()) >= 0; ++k)
      v = v * 16 + hexValue(next());
    return v;
  }

  char32_t parseFixedHex(int n) {
    char32_t v = 0;
    for (int k = 0; k < n; ++k) {
      int h = hexValue(next());
      if (h < 0)
        fail("bad \\u escape");
      v = v * 16 + h;
    }
    return v;
  }

  CharClass parseProperty(bool negated) {
    std::string name;
    if (accept('{')) {
      if (accept('^'))
        negated = !negated;
      while (!accept('}')) {
        char32_t c = next();
        if (c >= 128)
          fail("non-ASCII property name");
        name.push_back(static_cast<char>(c));
      }
    } else {
      char32_t c = next();
      if (c >= 128)
        fail("non-ASCII property name");
      name.push_back(static_cast<char>(c));
    }
    std::string loose = looseName(name);
    for (const PropertyName &prop : kProperties) {
      if (loose == looseName(prop.shortName) || loose == looseName(prop.longName)) {
        CharClass set = categoryClass(prop.mask);
        return negated ? negatedClass(std::move(set)) : set;
      }
    }
    fail(fmt::format("unsupported property \\p{{{}}} (only general categories are supported)", name));
  }

  // '[' already consumed.
  CharClass parseClass() {
    if (++depth_ > kMaxNesting)
      fail(fmt::format("classes nested deeper than {}", kMaxNesting));
    CharClass result = parseClassBody();
    --depth_;
    return result;
  }

  CharClass parseClassBody() {
    CharClass result;
    bool negated = accept('^');
    std::vector<CharClass> operands;
    CharClass current;
    bool first = true;
    while (true) {
      if (eof())
        fail("missing ']'");
      char32_t c = peek();
      if (c == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      if (c == '&' && peek(1) == '&') {
        i_ += 2;
        operands.push_back(std::move(current));
        current = CharClass{};
        continue;
      }
      if (c == '[') {
        if (peek(1) == ':')
          fail("POSIX bracket classes are not supported");
        ++i_;
        current.unionWith.push_back(parseClass());
        continue;
      }
      CharClass set;
      char32_t lo;
      if (!parseClassAtom(set, lo)) {
        current.unionWith.push_back(std::move(set));
        continue;
      }
      if (peek() == '-' && peek(1) != ']' && peek(1) != 0 && !(peek(1) == '&' && peek(2) == '&')) {
        ++i_;
        if (peek() == '[')
          fail("a class cannot end a range");
        char32_t hi;
        if (!parseClassAtom(set, hi))
          fail("a class escape cannot end a range");
        if (hi < lo)
          fail("empty range in character class");
        current.ranges.emplace_back(lo, hi);
        continue;
      }
      current.ranges.emplace_back(lo, lo);
    }
    if (operands.empty()) {
      result = std::move(current);
    } else {
      operands.push_back(std::move(current));
      result.unionWith.push_back(std::move(operands[0]));
      for (size_t k = 1; k < operands.size(); ++k)
        result.intersectWith.push_back(std::move(operands[k]));
    }
    result.negated = negated;
    return result;
  }

  // A single character (true, in `ch`) or a class escape (false, in `set`).
  bool parseClassAtom(CharClass &set, char32_t &ch) {
    char32_t c = next();
    if (c != '\\') {
      ch = c;
      return true;
    }
    if (peek() == 'b') {
      ++i_;
      ch = 0x08;
      return true;
    }
    return !parseEscape(set, ch);
  }

  std::string_view pattern_;
  std::vector<CompiledClass> &classes_;
  std::u32string p_;
  size_t i_ = 0;
  int depth_ = 0;
  bool intervalHadComma_ = false;
};

enum class Op : uint8_t { Char, Class, Any, Split, Jmp, Match, Assert, Look, Atomic, Mark, Progress };

struct Inst {
  Op op;
  bool flag = false; // Char: icase; Any: dotAll; Look: negate; Split: unused
  char32_t ch = 0;
  int x = 0; // jump target / class index / sub-program / slot
  int y = 0; // second split target / assert kind
};

bool nullable(const Node &n) {
  switch (n.kind) {
  case Node::Empty:
  case Node::Look:
  case Node::Assert:
    return true;
  case Node::Char:
  case Node::Class:
  case Node::Any:
    return false;
  case Node::Concat:
    for (const auto &k : n.kids)
      if (!nullable(*k))
        return false;
    return true;
  case Node::Alt:
    for (const auto &k : n.kids)
      if (nullable(*k))
        return true;
    return false;
  case Node::Repeat:
    return n.min == 0 || nullable(*n.kids[0]);
  case Node::Atomic:
    return nullable(*n.kids[0]);
  }
  return true;
}

} // namespace

struct PreTokenizerRegex::Program {
  std::vector<Inst> code;
  std::vector<CompiledClass> classes;
  int numSlots = 0;
};

namespace {

class Compiler {
public:
  Compiler(PreTokenizerRegex::Program &prog, std::string_view pattern)
      : prog_(prog), pattern_(pattern) {}

  void compile(const Node &n) {
    switch (n.kind) {
    case Node::Empty:
      return;
    case Node::Char:
      emit({Op::Char, n.icase, n.icase ? utf8::simpleFold(n.ch) : n.ch});
      return;
    case Node::Class:
      emit({Op::Class, false, 0, n.classIndex});
      return;
    case Node::Any:
      emit({Op::Any, n.dotAll});
      return;
    case Node::Concat:
      for (const auto &k : n.kids)
        compile(*k);
      return;
    case Node::Alt: {
      std::vector<int> jumps;
      for (size_t k = 0; k < n.kids.size(); ++k) {
        if (k + 1 < n.kids.size()) {
          int split = emit({Op::Split});
          code()[split].x = pc();
          compile(*n.kids[k]);
          jumps.push_back(emit({Op::Jmp}));
          code()[split].y = pc();
        } else {
          compile(*n.kids[k]);
        }
      }
      for (int j : jumps)
        code()[j].x = pc();
      return;
    }
    case Node::Repeat:
      compileRepeat(n);
      return;
    case Node::Look:
    case Node::Atomic:
      compileSub(n.kind == Node::Look ? Op::Look : Op::Atomic, n.negate, *n.kids[0]);
      return;
    case Node::Assert:
      emit({Op::Assert, false, 0, 0, static_cast<int>(n.assertKind)});
      return;
    }
  }

private:
  std::vector<Inst> &code() { return prog_.code; }
  int pc() const { return static_cast<int>(prog_.code.size()); }
  int emit(Inst inst) {
    if (prog_.code.size() >= kMaxProgramSize)
      throw RegexError(fmt::format("regex /{}/: too large once repeats are expanded (over {} "
                                   "instructions)",
                                   pattern_, kMaxProgramSize));
    prog_.code.push_back(inst);
    return pc() - 1;
  }

  void compileSub(Op op, bool negate, const Node &body) {
    int at = emit({op, negate});
    int skip = emit({Op::Jmp});
    code()[at].x = pc();
    compile(body);
    emit({Op::Match});
    code()[skip].x = pc();
  }

  // Split that prefers `body` when greedy; returns its index, the "skip"
  // target is patched later.
  int emitChoice(bool greedy) {
    int split = emit({Op::Split});
    if (greedy)
      code()[split].x = pc();
    else
      code()[split].y = pc();
    return split;
  }
  void patchSkip(int split, bool greedy) {
    if (greedy)
      code()[split].y = pc();
    else
      code()[split].x = pc();
  }

  void compileRepeat(const Node &n) {
    const Node &body = *n.kids[0];
    if (n.possessive) {
      // X*+ == (?>X*)
      int at = emit({Op::Atomic});
      int skip = emit({Op::Jmp});
      code()[at].x = pc();
      compileCounted(body, n.min, n.max, true);
      emit({Op::Match});
      code()[skip].x = pc();
      return;
    }
    compileCounted(body, n.min, n.max, n.greedy);
  }

  void compileCounted(const Node &body, int min, int max, bool greedy) {
    for (int k = 0; k < min; ++k)
      compile(body);
    if (max == -1) {
      bool guard = nullable(body);
      int slot = guard ? prog_.numSlots++ : -1;
      int loop = pc();
      int split = emitChoice(greedy);
      if (guard)
        emit({Op::Mark, false, 0, slot});
      compile(body);
      if (guard)
        emit({Op::Progress, false, 0, slot});
      emit({Op::Jmp, false, 0, loop});
      patchSkip(split, greedy);
      return;
    }
    std::vector<int> splits;
    for (int k = min; k < max; ++k) {
      splits.push_back(emitChoice(greedy));
      compile(body);
    }
    for (int s : splits)
      patchSkip(s, greedy);
  }

  PreTokenizerRegex::Program &prog_;
  std::string_view pattern_;
};

struct Frame {
  int pc;   // < 0: restore slot (-pc - 1) to `pos`
  int pos;
};

struct Scratch {
  uint64_t steps = 0;
  const std::string *pattern = nullptr;
  // A deque so that growing it for a nested run keeps outer references valid.
  std::deque<std::vector<Frame>> stacks;
  std::vector<int> slots;
};

bool charEquals(char32_t textChar, const Inst &inst) {
  if (!inst.flag)
    return textChar == inst.ch;
  return utf8::simpleFold(textChar) == inst.ch;
}

bool isWord(char32_t c) {
  if (c >= 0xB2 && c <= 0xBE)
    return c == 0xB2 || c == 0xB3 || c == 0xB9 || c >= 0xBC || utf8::isWordChar(c);
  return utf8::isWordChar(c);
}

bool checkAssert(AssertKind kind, std::u32string_view text, size_t pos) {
  size_t n = text.size();
  switch (kind) {
  case AssertKind::LineBegin:
    // No line begins after a final newline (Oniguruma/Ruby).
    return pos == 0 || (pos < n && text[pos - 1] == '\n');
  case AssertKind::LineEnd:
    return pos == n || text[pos] == '\n';
  case AssertKind::TextBegin:
    return pos == 0;
  case AssertKind::TextEnd:
    return pos == n;
  case AssertKind::TextEndNewline:
    return pos == n || (pos + 1 == n && text[pos] == '\n');
  case AssertKind::WordBoundary:
  case AssertKind::NotWordBoundary: {
    bool before = pos > 0 && isWord(text[pos - 1]);
    bool after = pos < n && isWord(text[pos]);
    return (before != after) == (kind == AssertKind::WordBoundary);
  }
  }
  return false;
}

// Runs the program from `startPc` anchored at `startPos`; returns the end of
// the first match in priority order, or -1.
int run(const PreTokenizerRegex::Program &prog, std::u32string_view text, int startPc,
        int startPos, Scratch &scratch, size_t depth) {
  if (scratch.stacks.size() <= depth)
    scratch.stacks.resize(depth + 1);
  std::vector<Frame> &stack = scratch.stacks[depth];
  size_t base = stack.size();
  int pc = startPc;
  int pos = startPos;
  const int n = static_cast<int>(text.size());
  auto backtrack = [&]() -> bool {
    while (stack.size() > base) {
      Frame f = stack.back();
      stack.pop_back();
      if (f.pc < 0) {
        scratch.slots[-f.pc - 1] = f.pos;
        continue;
      }
      pc = f.pc;
      pos = f.pos;
      return true;
    }
    return false;
  };
  auto unwind = [&]() {
    // Restore loop marks recorded by this run before leaving it.
    while (stack.size() > base) {
      Frame f = stack.back();
      stack.pop_back();
      if (f.pc < 0)
        scratch.slots[-f.pc - 1] = f.pos;
    }
  };
  while (true) {
    if (++scratch.steps > kMaxStepsPerSearch)
      throw RegexError(fmt::format("regex /{}/: backtracking limit exceeded on a {}-character input",
                                   *scratch.pattern, text.size()));
    const Inst &inst = prog.code[pc];
    bool ok = true;
    switch (inst.op) {
    case Op::Char:
      ok = pos < n && charEquals(text[pos], inst);
      if (ok)
        ++pos, ++pc;
      break;
    case Op::Class:
      ok = pos < n && prog.classes[inst.x].contains(text[pos]);
      if (ok)
        ++pos, ++pc;
      break;
    case Op::Any:
      ok = pos < n && (inst.flag || text[pos] != '\n');
      if (ok)
        ++pos, ++pc;
      break;
    case Op::Split:
      stack.push_back({inst.y, pos});
      pc = inst.x;
      break;
    case Op::Jmp:
      pc = inst.x;
      break;
    case Op::Match:
      unwind();
      return pos;
    case Op::Assert:
      ok = checkAssert(static_cast<AssertKind>(inst.y), text, static_cast<size_t>(pos));
      if (ok)
        ++pc;
      break;
    case Op::Look: {
      bool matched = run(prog, text, inst.x, pos, scratch, depth + 1) >= 0;
      ok = matched != inst.flag;
      if (ok)
        ++pc;
      break;
    }
    case Op::Atomic: {
      int end = run(prog, text, inst.x, pos, scratch, depth + 1);
      ok = end >= 0;
      if (ok)
        pos = end, ++pc;
      break;
    }
    case Op::Mark:
      stack.push_back({-inst.x - 1, scratch.slots[inst.x]});
      scratch.slots[inst.x] = pos;
      ++pc;
      break;
    case Op::Progress:
      // An iteration that consumed nothing would loop forever.
      ok = scratch.slots[inst.x] != pos;
      if (ok)
        ++pc;
      break;
    }
    if (!ok && !backtrack())
      return -1;
  }
}

} // namespace

PreTokenizerRegex::PreTokenizerRegex(std::string_view pattern) : pattern_(pattern) {
  auto prog = std::make_shared<Program>();
  Parser parser(pattern, prog->classes);
  NodeP root = parser.parse();
  Compiler(*prog, pattern).compile(*root);
  prog->code.push_back({Op::Match});
  program_ = std::move(prog);
}

std::optional<PreTokenizerRegex::Span> PreTokenizerRegex::matchAt(std::u32string_view text,
                                                                  size_t at) const {
  if (at > text.size())
    return std::nullopt;
  Scratch scratch;
  scratch.pattern = &pattern_;
  scratch.slots.assign(program_->numSlots, -1);
  int end = run(*program_, text, 0, static_cast<int>(at), scratch, 0);
  if (end < 0)
    return std::nullopt;
  return Span{at, static_cast<size_t>(end)};
}

std::optional<PreTokenizerRegex::Span> PreTokenizerRegex::find(std::u32string_view text,
                                                               size_t from) const {
  Scratch scratch;
  scratch.pattern = &pattern_;
  scratch.slots.assign(program_->numSlots, -1);
  for (size_t start = from; start <= text.size(); ++start) {
    scratch.steps = 0;
    int end = run(*program_, text, 0, static_cast<int>(start), scratch, 0);
    if (end >= 0)
      return Span{start, static_cast<size_t>(end)};
  }
  return std::nullopt;
}

std::vector<PreTokenizerRegex::Span> PreTokenizerRegex::findAll(std::u32string_view text) const {
  std::vector<Span> spans;
  Scratch scratch;
  scratch.pattern = &pattern_;
  scratch.slots.assign(program_->numSlots, -1);
  size_t from = 0;
  while (from <= text.size()) {
    bool found = false;
    for (size_t start = from; start <= text.size(); ++start) {
      scratch.steps = 0;
      int end = run(*program_, text, 0, static_cast<int>(start), scratch, 0);
      if (end < 0)
        continue;
      spans.emplace_back(start, static_cast<size_t>(end));
      from = static_cast<size_t>(end) > start ? static_cast<size_t>(end) : start + 1;
      found = true;
      break;
    }
    if (!found)
      break;
  }
  return spans;
}

std::vector<PreTokenizerRegex::Span> PreTokenizerRegex::findAllUtf8(std::string_view text) const {
  utf8::DecodedText decoded = utf8::decode(text);
  std::vector<Span> spans = findAll(decoded.codePoints);
  for (Span &s : spans)
    s = {decoded.offsets[s.first], decoded.offsets[s.second]};
  return spans;
}

} // namespace tlv4
