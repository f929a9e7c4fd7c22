// The BPE model of a tokenizer.json: vocabulary, ranked merges, and the
// merge loop that turns one pre-tokenized piece into token ids.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tlv4 {

class TokenizerBpe {
public:
  // `model` is tokenizer.json's "model" object; `where` prefixes error
  // messages. Throws TokenizerError on malformed vocab or merges.
  static std::unique_ptr<TokenizerBpe> fromJson(const nlohmann::json &model,
                                                const std::string &where);

  // Appends the ids of one piece (already byte-level mapped when the
  // pre-tokenizer has a ByteLevel step). Thread-safe; results are cached.
  void encodeWord(std::string_view word, std::vector<int32_t> &ids) const;

  std::optional<int32_t> tokenId(std::string_view token) const;
  const std::string *tokenText(int32_t id) const;
  // One past the largest vocabulary id (0 for an empty vocabulary).
  size_t idLimit() const { return idToToken_.size(); }
  // The number of vocabulary entries (HF's model vocab size).
  size_t numEntries() const { return vocab_.size(); }

private:
  TokenizerBpe() = default;
  void mergeWord(std::string_view word, std::vector<int32_t> &ids) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> idToToken_;
  std::vector<bool> hasId_;
  // (left id << 32 | right id) -> (rank, merged id)
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;
  std::optional<int32_t> unkId_;
  bool fuseUnk_ = false;
  bool ignoreMerges_ = false;

  mutable std::mutex cacheMutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

} // namespace tlv4
