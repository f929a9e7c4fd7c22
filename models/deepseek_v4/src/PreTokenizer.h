// The pre-tokenizer pipeline of a tokenizer.json (Sequence of Split and
// ByteLevel steps): cuts text into the pieces that BPE encodes one by one,
// and GPT-2's byte <-> printable-character table that ByteLevel uses.
#pragma once

#include "tlv4/PreTokenizerRegex.h"

#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace tlv4 {

class PreTokenizer {
public:
  // `json` is the pre_tokenizer value (null allowed); `where` prefixes error
  // messages, e.g. "tokenizer.json: pre_tokenizer". Throws TokenizerError.
  static PreTokenizer fromJson(const nlohmann::json &json, const std::string &where);

  // Appends the pieces of `text` to `pieces`; empty pieces are dropped.
  void split(std::string_view text, std::vector<std::string> &pieces) const;

private:
  enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
  struct Step {
    enum Kind { Split, ByteLevel } kind = Split;
    std::shared_ptr<const PreTokenizerRegex> regex; // Split with a Regex pattern
    std::string literal;                            // Split with a String pattern
    Behavior behavior = Behavior::Isolated;
    bool invert = false;
    bool addPrefixSpace = false;
    bool useRegex = false;
  };
  static void parseStep(const nlohmann::json &json, const std::string &where,
                        std::vector<Step> &steps);
  static void applySplit(const Step &step, const std::string &piece, std::vector<std::string> &out);
  static void applyByteLevel(const Step &step, const std::string &piece,
                             std::vector<std::string> &out);

  std::vector<Step> steps_;
};

// The UTF-8 text of the printable character GPT-2's byte-level BPE uses for
// each byte.
const std::array<std::string, 256> &byteLevelChars();
// The byte a byte-level character stands for, or -1.
int byteLevelByte(char32_t codePoint);

} // namespace tlv4
