// Pre-tokenizer steps with HF tokenizers' semantics (see PreTokenizer.h).
#include "PreTokenizer.h"

#include "Utf8.h"
#include "tlv4/Tokenizer.h"

#include <algorithm>
#include <fmt/format.h>

namespace tlv4 {
namespace {

// GPT-2's pattern, used by ByteLevel when use_regex is true.
constexpr const char *kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct ByteLevelTable {
  std::array<std::string, 256> chars;
  std::array<char32_t, 256> codePoints{};
  ByteLevelTable() {
    // Printable bytes stand for themselves; the rest are shifted to 256+n so
    // that every byte has a visible, non-space character.
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      codePoints[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + next++);
      utf8::append(chars[b], codePoints[b]);
    }
  }
};

const ByteLevelTable &byteLevelTable() {
  static const ByteLevelTable table;
  return table;
}

const PreTokenizerRegex &gpt2Regex() {
  static const PreTokenizerRegex regex(kGpt2Pattern);
  return regex;
}

const nlohmann::json *member(const nlohmann::json &obj, const char *key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

bool boolMember(const nlohmann::json &obj, const char *key, bool fallback,
                const std::string &where) {
  const nlohmann::json *v = member(obj, key);
  if (!v)
    return fallback;
  if (!v->is_boolean())
    throw TokenizerError(fmt::format("{}: '{}' must be a boolean, found {}", where, key, v->dump()));
  return v->get<bool>();
}

struct Match {
  size_t begin, end;
  bool isMatch;
};

} // namespace

const std::array<std::string, 256> &byteLevelChars() { return byteLevelTable().chars; }

int byteLevelByte(char32_t cp) {
  static const std::vector<int> reverse = [] {
    std::vector<int> r(512, -1);
    const ByteLevelTable &t = byteLevelTable();
    for (int b = 0; b < 256; ++b)
      r[t.codePoints[b]] = b;
    return r;
  }();
  return cp < reverse.size() ? reverse[cp] : -1;
}

PreTokenizer PreTokenizer::fromJson(const nlohmann::json &json, const std::string &where) {
  PreTokenizer pre;
  if (!json.is_null())
    parseStep(json, where, pre.steps_);
  return pre;
}

void PreTokenizer::parseStep(const nlohmann::json &json, const std::string &where,
                             std::vector<Step> &steps) {
  if (!json.is_object())
    throw TokenizerError(fmt::format("{}: expected an object, found {}", where, json.dump()));
  const nlohmann::json *typeJson = member(json, "type");
  if (!typeJson || !typeJson->is_string())
    throw TokenizerError(fmt::format("{}: missing string 'type'", where));
  std::string type = typeJson->get<std::string>();
  if (type == "Sequence") {
    const nlohmann::json *list = member(json, "pretokenizers");
    if (!list || !list->is_array())
      throw TokenizerError(fmt::format("{}: Sequence needs a 'pretokenizers' array", where));
    for (size_t k = 0; k < list->size(); ++k)
      parseStep((*list)[k], fmt::format("{}.pretokenizers[{}]", where, k), steps);
    return;
  }
  Step step;
  if (type == "ByteLevel") {
    step.kind = Step::ByteLevel;
    step.addPrefixSpace = boolMember(json, "add_prefix_space", true, where);
    step.useRegex = boolMember(json, "use_regex", true, where);
    steps.push_back(std::move(step));
    return;
  }
  if (type != "Split")
    throw TokenizerError(fmt::format(
        "{}: unsupported pre-tokenizer type '{}' (supported: Sequence, Split, ByteLevel)", where,
        type));
  const nlohmann::json *pattern = member(json, "pattern");
  if (!pattern || !pattern->is_object())
    throw TokenizerError(fmt::format("{}: Split needs a 'pattern' object", where));
  if (const nlohmann::json *rx = member(*pattern, "Regex")) {
    if (!rx->is_string())
      throw TokenizerError(fmt::format("{}: pattern.Regex must be a string", where));
    try {
      step.regex = std::make_shared<PreTokenizerRegex>(rx->get<std::string>());
    } catch (const RegexError &e) {
      throw TokenizerError(fmt::format("{}: {}", where, e.what()));
    }
  } else if (const nlohmann::json *str = member(*pattern, "String")) {
    if (!str->is_string() || str->get<std::string>().empty())
      throw TokenizerError(fmt::format("{}: pattern.String must be a non-empty string", where));
    step.literal = str->get<std::string>();
  } else {
    throw TokenizerError(fmt::format("{}: pattern needs 'Regex' or 'String', found {}", where,
                                     pattern->dump()));
  }
  const nlohmann::json *behavior = member(json, "behavior");
  std::string b = behavior && behavior->is_string() ? behavior->get<std::string>() : "";
  if (b == "Isolated")
    step.behavior = Behavior::Isolated;
  else if (b == "Removed")
    step.behavior = Behavior::Removed;
  else if (b == "MergedWithPrevious")
    step.behavior = Behavior::MergedWithPrevious;
  else if (b == "MergedWithNext")
    step.behavior = Behavior::MergedWithNext;
  else if (b == "Contiguous")
    step.behavior = Behavior::Contiguous;
  else
    throw TokenizerError(fmt::format(
        "{}: unsupported Split behavior {} (expected Isolated, Removed, MergedWithPrevious, "
        "MergedWithNext or Contiguous)",
        where, behavior ? behavior->dump() : "(missing)"));
  step.invert = boolMember(json, "invert", false, where);
  steps.push_back(std::move(step));
}

void PreTokenizer::split(std::string_view text, std::vector<std::string> &pieces) const {
  std::vector<std::string> current{std::string(text)};
  std::vector<std::string> next;
  for (const Step &step : steps_) {
    next.clear();
    try {
      for (const std::string &piece : current) {
        if (step.kind == Step::Split)
          applySplit(step, piece, next);
        else
          applyByteLevel(step, piece, next);
      }
    } catch (const RegexError &e) {
      throw TokenizerError(fmt::format("pre-tokenizer: {}", e.what()));
    }
    current.swap(next);
  }
  for (std::string &piece : current)
    if (!piece.empty())
      pieces.push_back(std::move(piece));
}

namespace {

std::vector<Match> findMatches(const PreTokenizerRegex *regex, const std::string &literal,
                               const std::string &text) {
  std::vector<Match> out;
  size_t prev = 0;
  auto add = [&](size_t begin, size_t end) {
    if (prev != begin)
      out.push_back({prev, begin, false});
    out.push_back({begin, end, true});
    prev = end;
  };
  if (regex) {
    for (const auto &span : regex->findAllUtf8(text))
      add(span.first, span.second);
  } else {
    for (size_t at = text.find(literal); at != std::string::npos;
         at = text.find(literal, at + literal.size()))
      add(at, at + literal.size());
  }
  if (prev != text.size())
    out.push_back({prev, text.size(), false});
  return out;
}

} // namespace

void PreTokenizer::applySplit(const Step &step, const std::string &piece,
                              std::vector<std::string> &out) {
  if (piece.empty())
    return;
  std::vector<Match> matches = findMatches(step.regex.get(), step.literal, piece);
  if (step.invert)
    for (Match &m : matches)
      m.isMatch = !m.isMatch;
  // The folds below follow HF's SplitDelimiterBehavior.
  std::vector<Match> merged;
  switch (step.behavior) {
  case Behavior::Isolated:
    merged = std::move(matches);
    break;
  case Behavior::Removed:
    for (const Match &m : matches)
      if (!m.isMatch)
        merged.push_back(m);
    break;
  case Behavior::MergedWithPrevious: {
    bool previousMatch = false;
    for (const Match &m : matches) {
      if (m.isMatch && !previousMatch && !merged.empty())
        merged.back().end = m.end;
      else
        merged.push_back(m);
      previousMatch = m.isMatch;
    }
    break;
  }
  case Behavior::MergedWithNext: {
    bool previousMatch = false;
    for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
      if (it->isMatch && !previousMatch && !merged.empty())
        merged.back().begin = it->begin;
      else
        merged.push_back(*it);
      previousMatch = it->isMatch;
    }
    std::reverse(merged.begin(), merged.end());
    break;
  }
  case Behavior::Contiguous: {
    bool previousMatch = false;
    for (const Match &m : matches) {
      if (m.isMatch == previousMatch && !merged.empty())
        merged.back().end = m.end;
      else
        merged.push_back(m);
      previousMatch = m.isMatch;
    }
    break;
  }
  }
  for (const Match &m : merged)
    if (m.end > m.begin)
      out.push_back(piece.substr(m.begin, m.end - m.begin));
}

void PreTokenizer::applyByteLevel(const Step &step, const std::string &piece,
                                  std::vector<std::string> &out) {
  std::string text = piece;
  if (step.addPrefixSpace && (text.empty() || text[0] != ' '))
    text.insert(text.begin(), ' ');
  std::vector<std::string> parts;
  if (step.useRegex) {
    size_t prev = 0;
    for (const auto &span : gpt2Regex().findAllUtf8(text)) {
      if (span.first != prev)
        parts.push_back(text.substr(prev, span.first - prev));
      parts.push_back(text.substr(span.first, span.second - span.first));
      prev = span.second;
    }
    if (prev != text.size())
      parts.push_back(text.substr(prev));
  } else {
    parts.push_back(std::move(text));
  }
  const auto &chars = byteLevelChars();
  for (const std::string &part : parts) {
    if (part.empty())
      continue;
    std::string mapped;
    mapped.reserve(part.size() * 2);
    for (unsigned char b : part)
      mapped += chars[b];
    out.push_back(std::move(mapped));
  }
}

} // namespace tlv4
