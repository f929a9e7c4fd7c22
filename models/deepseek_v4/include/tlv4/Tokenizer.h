// The DeepSeek-V4 tokenizer: loads a HuggingFace tokenizer.json (byte-level
// BPE with added/special tokens, Split/ByteLevel pre-tokenizers) and encodes
// text to token ids and back, matching HF `tokenizers` id for id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tlv4 {

// Every load or encode/decode failure: the message names the file and field.
class TokenizerError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class Tokenizer {
public:
  // `path` is a tokenizer.json or a directory holding one. A
  // tokenizer_config.json next to it, when present, supplies bos_token and
  // eos_token.
  static Tokenizer fromFile(const std::string &path);
  // From JSON text; `configJson` is the optional tokenizer_config.json text,
  // `origin` names the source in error messages.
  static Tokenizer fromJson(std::string_view tokenizerJson, std::string_view configJson = {},
                            const std::string &origin = "tokenizer.json");

  // Token ids of `text` (any bytes; invalid UTF-8 is encoded byte by byte).
  // With addBos, the post-processor template is applied when tokenizer.json
  // has a TemplateProcessing one (as HF add_special_tokens=True does);
  // otherwise bosId() is prepended.
  std::vector<int32_t> encode(std::string_view text, bool addBos = false) const;

  // Text of `ids` as valid UTF-8: byte sequences that do not form UTF-8 become
  // U+FFFD as in HF. Special tokens decode to their content unless
  // skipSpecial. Throws TokenizerError for an id outside the vocabulary.
  std::string decode(const std::vector<int32_t> &ids, bool skipSpecial = false) const;
  // The raw bytes of `ids`, without U+FFFD replacement: for streaming output,
  // where one character can be split over several tokens.
  std::string decodeBytes(const std::vector<int32_t> &ids, bool skipSpecial = false) const;

  bool hasBos() const { return bosId_.has_value(); }
  // What HF/transformers does by default: tokenizer_config.json's
  // add_bos_token when given, else whether a TemplateProcessing adds tokens.
  bool addsBosByDefault() const { return addBosByDefault_; }
  bool hasEos() const { return eosId_.has_value(); }
  // Throw TokenizerError when the tokenizer has no such token.
  int32_t bosId() const;
  int32_t eosId() const;

  // One past the largest id (vocabulary and added tokens).
  size_t vocabSize() const;
  // The id of a vocabulary entry or added token, by its exact text (the
  // byte-level form for vocabulary entries, e.g. "Ġthe").
  std::optional<int32_t> tokenId(std::string_view token) const;
  // The inverse of tokenId; nullopt for ids no token has.
  std::optional<std::string> tokenText(int32_t id) const;
  bool isSpecial(int32_t id) const;

  struct Impl;

private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
  std::optional<int32_t> bosId_;
  std::optional<int32_t> eosId_;
  bool addBosByDefault_ = false;
};

} // namespace tlv4
