// BPE merging as HF tokenizers does it: lowest merge rank first, leftmost
// among equal ranks (see TokenizerBpe.h).
#include "TokenizerBpe.h"

#include "Utf8.h"
#include "tlv4/Tokenizer.h"

#include <fmt/format.h>
#include <queue>

namespace tlv4 {
namespace {

// Pieces longer than this are rare and would only bloat the cache.
constexpr size_t kMaxCachedWordBytes = 256;
constexpr size_t kMaxCacheEntries = 1 << 18;

uint64_t pairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

std::string shortDump(const nlohmann::json &j) {
  std::string s = j.dump();
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

} // namespace

std::unique_ptr<TokenizerBpe> TokenizerBpe::fromJson(const nlohmann::json &model,
                                                     const std::string &where) {
  std::unique_ptr<TokenizerBpe> bpe(new TokenizerBpe());
  auto vocabIt = model.find("vocab");
  if (vocabIt == model.end() || !vocabIt->is_object())
    throw TokenizerError(fmt::format("{}: BPE model needs a 'vocab' object", where));
  bpe->vocab_.reserve(vocabIt->size());
  for (auto it = vocabIt->begin(); it != vocabIt->end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() > INT32_MAX)
      throw TokenizerError(fmt::format("{}: vocab['{}'] must be a non-negative 32-bit id, found {}",
                                       where, it.key(), shortDump(it.value())));
    auto id = static_cast<int32_t>(it.value().get<int64_t>());
    bpe->vocab_[it.key()] = id;
    if (static_cast<size_t>(id) >= bpe->idToToken_.size()) {
      bpe->idToToken_.resize(id + 1);
      bpe->hasId_.resize(id + 1, false);
    }
    bpe->idToToken_[id] = it.key();
    bpe->hasId_[id] = true;
  }

  auto lookup = [&](const std::string &token, size_t rank) {
    auto found = bpe->vocab_.find(token);
    if (found == bpe->vocab_.end())
      throw TokenizerError(fmt::format("{}: merges[{}]: '{}' is not in the vocabulary", where,
                                       rank, token));
    return found->second;
  };
  auto mergesIt = model.find("merges");
  if (mergesIt != model.end() && !mergesIt->is_null()) {
    if (!mergesIt->is_array())
      throw TokenizerError(fmt::format("{}: 'merges' must be an array", where));
    bpe->merges_.reserve(mergesIt->size());
    for (size_t rank = 0; rank < mergesIt->size(); ++rank) {
      const nlohmann::json &m = (*mergesIt)[rank];
      std::string left, right;
      if (m.is_string()) {
        // Legacy form "left right": exactly one space, as HF requires.
        const std::string &s = m.get_ref<const std::string &>();
        size_t space = s.find(' ');
        if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
          throw TokenizerError(fmt::format(
              "{}: merges[{}] must be \"left right\" with one space, found {}", where, rank,
              shortDump(m)));
        left = s.substr(0, space);
        right = s.substr(space + 1);
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        left = m[0].get<std::string>();
        right = m[1].get<std::string>();
      } else {
        throw TokenizerError(fmt::format(
            "{}: merges[{}] must be \"left right\" or [left, right], found {}", where, rank,
            shortDump(m)));
      }
      int32_t leftId = lookup(left, rank);
      int32_t rightId = lookup(right, rank);
      auto merged = bpe->vocab_.find(left + right);
      if (merged == bpe->vocab_.end())
        throw TokenizerError(fmt::format("{}: merges[{}]: the merged token '{}' is not in the vocabulary",
                                         where, rank, left + right));
      bpe->merges_[pairKey(leftId, rightId)] = {static_cast<int32_t>(rank), merged->second};
    }
  }

  auto unk = model.find("unk_token");
  if (unk != model.end() && !unk->is_null()) {
    if (!unk->is_string())
      throw TokenizerError(fmt::format("{}: 'unk_token' must be a string or null", where));
    auto found = bpe->vocab_.find(unk->get<std::string>());
    if (found == bpe->vocab_.end())
      throw TokenizerError(fmt::format("{}: unk_token '{}' is not in the vocabulary", where,
                                       unk->get<std::string>()));
    bpe->unkId_ = found->second;
  }
  auto flag = [&](const char *key) {
    auto it = model.find(key);
    if (it == model.end() || it->is_null())
      return false;
    if (!it->is_boolean())
      throw TokenizerError(fmt::format("{}: '{}' must be a boolean", where, key));
    return it->get<bool>();
  };
  bpe->fuseUnk_ = flag("fuse_unk");
  bpe->ignoreMerges_ = flag("ignore_merges");
  if (flag("byte_fallback"))
    throw TokenizerError(fmt::format("{}: byte_fallback BPE is not supported", where));
  for (const char *key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    auto it = model.find(key);
    if (it != model.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty()))
      throw TokenizerError(fmt::format("{}: '{}' is not supported", where, key));
  }
  auto dropout = model.find("dropout");
  if (dropout != model.end() && !dropout->is_null() &&
      !(dropout->is_number() && dropout->get<double>() == 0.0))
    throw TokenizerError(fmt::format("{}: BPE dropout is not supported", where));
  return bpe;
}

std::optional<int32_t> TokenizerBpe::tokenId(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  if (it == vocab_.end())
    return std::nullopt;
  return it->second;
}

const std::string *TokenizerBpe::tokenText(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= idToToken_.size() || !hasId_[id])
    return nullptr;
  return &idToToken_[id];
}

void TokenizerBpe::encodeWord(std::string_view word, std::vector<int32_t> &ids) const {
  if (word.size() > kMaxCachedWordBytes) {
    mergeWord(word, ids);
    return;
  }
  std::string key(word);
  {
    std::lock_guard<std::mutex> lock(cacheMutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> result;
  mergeWord(word, result);
  ids.insert(ids.end(), result.begin(), result.end());
  std::lock_guard<std::mutex> lock(cacheMutex_);
  if (cache_.size() >= kMaxCacheEntries)
    cache_.clear();
  cache_.emplace(std::move(key), std::move(result));
}

void TokenizerBpe::mergeWord(std::string_view word, std::vector<int32_t> &ids) const {
  if (ignoreMerges_) {
    if (auto id = tokenId(word)) {
      ids.push_back(*id);
      return;
    }
  }
  // Symbols form a linked list over a vector; merged-away symbols get
  // len 0 so stale queue entries can be recognised.
  struct Symbol {
    int32_t id;
    int prev, next;
    size_t len;
  };
  std::vector<Symbol> symbols;
  std::optional<std::pair<int32_t, size_t>> pendingUnk;
  auto push = [&](int32_t id, size_t len) {
    int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, -1, len});
    if (index > 0)
      symbols[index - 1].next = index;
  };
  std::string ch;
  for (size_t pos = 0; pos < word.size();) {
    size_t len;
    utf8::decodeOne(word, pos, len);
    ch.assign(word.substr(pos, len));
    pos += len;
    auto it = vocab_.find(ch);
    if (it != vocab_.end()) {
      if (pendingUnk) {
        push(pendingUnk->first, pendingUnk->second);
        pendingUnk.reset();
      }
      push(it->second, len);
      continue;
    }
    // Unknown characters become unk_token (fused if fuse_unk) or, without
    // one, are dropped: HF's behaviour.
    if (!unkId_)
      continue;
    if (pendingUnk && fuseUnk_) {
      pendingUnk->second += len;
      continue;
    }
    if (pendingUnk)
      push(pendingUnk->first, pendingUnk->second);
    pendingUnk = std::make_pair(*unkId_, len);
  }
  if (pendingUnk)
    push(pendingUnk->first, pendingUnk->second);

  struct Candidate {
    int32_t rank;
    int pos;
    int32_t newId;
    bool operator>(const Candidate &o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int left) {
    int right = symbols[left].next;
    if (right < 0)
      return;
    auto it = merges_.find(pairKey(symbols[left].id, symbols[right].id));
    if (it != merges_.end())
      queue.push({it->second.first, left, it->second.second});
  };
  for (int k = 0; k + 1 < static_cast<int>(symbols.size()); ++k)
    consider(k);
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol &left = symbols[top.pos];
    if (left.len == 0 || left.next < 0)
      continue;
    Symbol &right = symbols[left.next];
    auto it = merges_.find(pairKey(left.id, right.id));
    if (it == merges_.end() || it->second.second != top.newId)
      continue;
    left.id = top.newId;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (left.next >= 0)
      symbols[left.next].prev = top.pos;
    if (left.prev >= 0)
      consider(left.prev);
    consider(top.pos);
  }
  for (int k = symbols.empty() ? -1 : 0; k >= 0; k = symbols[k].next)
    ids.push_back(symbols[k].id);
}

} // namespace tlv4
