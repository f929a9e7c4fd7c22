// Loads tokenizer.json (+ tokenizer_config.json) and runs the HF pipeline:
// added/special tokens are cut out of the raw text first, the rest is
// pre-tokenized and BPE-encoded; decoding maps byte-level characters back to
// bytes (see tlv4/Tokenizer.h).
#include "tlv4/Tokenizer.h"

#include "PreTokenizer.h"
#include "TokenizerBpe.h"
#include "Utf8.h"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

namespace tlv4 {
namespace {

using nlohmann::json;

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool singleWord = false;
  bool normalized = false;
};

// Finds added tokens in text, leftmost first and longest at that position
// (the aho-corasick LeftmostLongest matching HF uses), over a byte trie.
class AddedTokenMatcher {
public:
  void add(const std::string &content, size_t tokenIndex) {
    if (content.empty())
      return;
    int node = 0;
    for (unsigned char b : content) {
      uint64_t key = (static_cast<uint64_t>(node) << 8) | b;
      auto it = edges_.find(key);
      if (it == edges_.end()) {
        terminal_.push_back(-1);
        it = edges_.emplace(key, static_cast<int>(terminal_.size() - 1)).first;
      }
      node = it->second;
    }
    terminal_[node] = static_cast<int>(tokenIndex);
  }
  bool empty() const { return edges_.empty(); }

  // The longest token starting at `pos`: its index and length, or -1.
  int longestAt(std::string_view text, size_t pos, size_t &length) const {
    int node = 0, best = -1;
    for (size_t k = pos; k < text.size(); ++k) {
      uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[k]);
      auto it = edges_.find(key);
      if (it == edges_.end())
        break;
      node = it->second;
      if (terminal_[node] >= 0) {
        best = terminal_[node];
        length = k + 1 - pos;
      }
    }
    return best;
  }

private:
  std::unordered_map<uint64_t, int> edges_;
  std::vector<int> terminal_{-1};
};

// A part of the input: an added token (token >= 0) or text to pre-tokenize.
struct Segment {
  size_t begin, end;
  int token;
};

const json *member(const json &obj, const char *key) {
  if (!obj.is_object())
    return nullptr;
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string typeOf(const json &obj, const std::string &where) {
  const json *type = member(obj, "type");
  if (!obj.is_object() || !type || !type->is_string())
    throw TokenizerError(fmt::format("{}: expected an object with a string 'type', found {}", where,
                                     obj.dump().substr(0, 80)));
  return type->get<std::string>();
}

// HF decides single_word with Rust regex's \w: Alphabetic (approximated
// here by letters and letter numbers), marks, decimal digits, connector
// punctuation and the joiners.
bool isWordChar(char32_t cp) {
  if (cp == 0x200C || cp == 0x200D)
    return true;
  using utf8::GeneralCategory;
  switch (utf8::generalCategory(cp)) {
  case GeneralCategory::Lu: case GeneralCategory::Ll: case GeneralCategory::Lt:
  case GeneralCategory::Lm: case GeneralCategory::Lo: case GeneralCategory::Nl:
  case GeneralCategory::Mn: case GeneralCategory::Mc: case GeneralCategory::Me:
  case GeneralCategory::Nd: case GeneralCategory::Pc:
    return true;
  default:
    return false;
  }
}

char32_t lastCodePoint(std::string_view text) {
  size_t start = text.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80 &&
         text.size() - start < 4)
    --start;
  size_t len;
  char32_t cp = utf8::decodeOne(text, start, len);
  return start + len == text.size() ? cp : utf8::kInvalidByteBase;
}

std::string readFile(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw TokenizerError(fmt::format("{}: cannot open file", path.string()));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

} // namespace

struct Tokenizer::Impl {
  std::string origin;
  std::unique_ptr<TokenizerBpe> bpe;
  PreTokenizer preTokenizer;
  std::vector<AddedToken> added;
  std::unordered_map<int32_t, size_t> addedById;
  std::unordered_map<std::string, size_t> addedByContent;
  AddedTokenMatcher rawMatcher;        // normalized == false: matched first
  AddedTokenMatcher normalizedMatcher; // normalized == true
  bool byteLevelDecoder = false;
  // TemplateProcessing "single": ids before and after the sequence.
  std::optional<std::pair<std::vector<int32_t>, std::vector<int32_t>>> singleTemplate;
  size_t vocabSize = 0;

  void parseAddedTokens(const json &root);
  int32_t assignAddedId(const std::string &content, int64_t maxAddedId) const;
  void parseNormalizer(const json &root);
  void parseDecoder(const json &root);
  void parsePostProcessor(const json &node, const std::string &where);

  void findAdded(std::string_view text, size_t begin, size_t end, const AddedTokenMatcher &matcher,
                 std::vector<Segment> &out) const;
  std::vector<int32_t> encodePlain(std::string_view text) const;
  std::string decodeRaw(const std::vector<int32_t> &ids, bool skipSpecial) const;
  std::optional<int32_t> tokenId(std::string_view token) const {
    auto it = addedByContent.find(std::string(token));
    if (it != addedByContent.end())
      return added[it->second].id;
    return bpe->tokenId(token);
  }
};

// HF ignores the ids written in added_tokens and assigns its own: the
// vocabulary id when the content is a vocabulary entry, else the next id
// after the vocabulary and the tokens added so far. Well-formed files agree;
// where they do not, HF's ids are the ones models were trained with.
int32_t Tokenizer::Impl::assignAddedId(const std::string &content, int64_t maxAddedId) const {
  auto existing = addedByContent.find(content);
  if (existing != addedByContent.end())
    return added[existing->second].id;
  if (auto id = bpe->tokenId(content))
    return *id;
  auto modelSize = static_cast<int64_t>(bpe->numEntries());
  if (maxAddedId < 0)
    return static_cast<int32_t>(modelSize);
  return static_cast<int32_t>(maxAddedId >= modelSize || modelSize == 0 ? maxAddedId + 1 : modelSize);
}

void Tokenizer::Impl::parseAddedTokens(const json &root) {
  const json *list = member(root, "added_tokens");
  if (!list)
    return;
  if (!list->is_array())
    throw TokenizerError(fmt::format("{}: 'added_tokens' must be an array", origin));
  int64_t maxAddedId = -1;
  for (size_t k = 0; k < list->size(); ++k) {
    const json &t = (*list)[k];
    std::string where = fmt::format("{}: added_tokens[{}]", origin, k);
    const json *id = member(t, "id");
    const json *content = member(t, "content");
    if (!id || !id->is_number_integer() || id->get<int64_t>() < 0 || id->get<int64_t>() > INT32_MAX)
      throw TokenizerError(fmt::format("{}: needs a non-negative integer 'id'", where));
    if (!content || !content->is_string() || content->get<std::string>().empty())
      throw TokenizerError(fmt::format("{}: needs a non-empty string 'content'", where));
    AddedToken token;
    token.content = content->get<std::string>();
    token.id = assignAddedId(token.content, maxAddedId);
    maxAddedId = std::max(maxAddedId, static_cast<int64_t>(token.id));
    auto flag = [&](const char *key, bool fallback) {
      const json *v = member(t, key);
      if (!v)
        return fallback;
      if (!v->is_boolean())
        throw TokenizerError(fmt::format("{}: '{}' must be a boolean", where, key));
      return v->get<bool>();
    };
    token.special = flag("special", false);
    token.lstrip = flag("lstrip", false);
    token.rstrip = flag("rstrip", false);
    token.singleWord = flag("single_word", false);
    // HF's default: special tokens match the raw text, others the normalized.
    token.normalized = flag("normalized", !token.special);
    auto existing = addedByContent.find(token.content);
    size_t index = existing != addedByContent.end() ? existing->second : added.size();
    addedById[token.id] = index;
    addedByContent[token.content] = index;
    (token.normalized ? normalizedMatcher : rawMatcher).add(token.content, index);
    vocabSize = std::max(vocabSize, static_cast<size_t>(token.id) + 1);
    if (index == added.size())
      added.push_back(std::move(token));
    else
      added[index] = std::move(token);
  }
}

void Tokenizer::Impl::parseNormalizer(const json &root) {
  const json *norm = member(root, "normalizer");
  if (!norm)
    return;
  std::string where = origin + ": normalizer";
  std::string type = typeOf(*norm, where);
  const json *list = member(*norm, "normalizers");
  // An empty Sequence (what DeepSeek V4 ships) changes nothing; real
  // normalizers (NFC, Lowercase, ...) are not implemented.
  if (type == "Sequence" && list && list->is_array() && list->empty())
    return;
  throw TokenizerError(fmt::format(
      "{}: unsupported normalizer {} (only null or an empty Sequence are supported)", where,
      norm->dump().substr(0, 120)));
}

void Tokenizer::Impl::parseDecoder(const json &root) {
  const json *dec = member(root, "decoder");
  if (!dec)
    return;
  std::string type = typeOf(*dec, origin + ": decoder");
  if (type != "ByteLevel")
    throw TokenizerError(fmt::format(
        "{}: decoder: unsupported type '{}' (only ByteLevel or null are supported)", origin, type));
  byteLevelDecoder = true;
}

void Tokenizer::Impl::parsePostProcessor(const json &node, const std::string &where) {
  std::string type = typeOf(node, where);
  if (type == "ByteLevel")
    return; // Only adjusts offsets, which we do not report.
  if (type == "Sequence") {
    const json *list = member(node, "processors");
    if (!list || !list->is_array())
      throw TokenizerError(fmt::format("{}: Sequence needs a 'processors' array", where));
    for (size_t k = 0; k < list->size(); ++k)
      parsePostProcessor((*list)[k], fmt::format("{}.processors[{}]", where, k));
    return;
  }
  if (type != "TemplateProcessing")
    throw TokenizerError(fmt::format(
        "{}: unsupported post_processor type '{}' (supported: TemplateProcessing, ByteLevel, "
        "Sequence)",
        where, type));
  if (singleTemplate)
    throw TokenizerError(fmt::format("{}: more than one TemplateProcessing", where));
  const json *single = member(node, "single");
  const json *specials = member(node, "special_tokens");
  if (!single || !single->is_array())
    throw TokenizerError(fmt::format("{}: TemplateProcessing needs a 'single' array", where));
  std::pair<std::vector<int32_t>, std::vector<int32_t>> tmpl;
  bool seenSequence = false;
  for (size_t k = 0; k < single->size(); ++k) {
    const json &piece = (*single)[k];
    std::string at = fmt::format("{}.single[{}]", where, k);
    if (const json *seq = member(piece, "Sequence")) {
      const json *id = member(*seq, "id");
      if (!id || *id != "A" || seenSequence)
        throw TokenizerError(fmt::format("{}: a single template holds sequence A once", at));
      seenSequence = true;
      continue;
    }
    const json *special = member(piece, "SpecialToken");
    const json *name = special ? member(*special, "id") : nullptr;
    if (!name || !name->is_string())
      throw TokenizerError(fmt::format("{}: expected Sequence or SpecialToken, found {}", at,
                                       piece.dump().substr(0, 80)));
    const json *entry = specials ? member(*specials, name->get<std::string>().c_str()) : nullptr;
    const json *ids = entry ? member(*entry, "ids") : nullptr;
    if (!ids || !ids->is_array())
      throw TokenizerError(fmt::format("{}: special token '{}' is not in special_tokens", at,
                                       name->get<std::string>()));
    for (const json &id : *ids) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
        throw TokenizerError(fmt::format("{}: special token ids must be non-negative integers", at));
      (seenSequence ? tmpl.second : tmpl.first).push_back(static_cast<int32_t>(id.get<int64_t>()));
    }
  }
  if (!seenSequence)
    throw TokenizerError(fmt::format("{}: the single template has no sequence A", where));
  singleTemplate = std::move(tmpl);
}

void Tokenizer::Impl::findAdded(std::string_view text, size_t begin, size_t end,
                                const AddedTokenMatcher &matcher, std::vector<Segment> &out) const {
  if (matcher.empty()) {
    if (end > begin)
      out.push_back({begin, end, -1});
    return;
  }
  std::string_view sub = text.substr(0, end);
  size_t startOffset = begin;
  for (size_t pos = begin; pos < end;) {
    size_t length = 0;
    int index = matcher.longestAt(sub, pos, length);
    if (index < 0) {
      ++pos;
      continue;
    }
    const AddedToken &token = added[index];
    size_t start = pos, stop = pos + length;
    pos = stop;
    if (token.singleWord) {
      bool wordBefore = start > begin && isWordChar(lastCodePoint(sub.substr(begin, start - begin)));
      size_t len;
      bool wordAfter = stop < end && isWordChar(utf8::decodeOne(sub, stop, len));
      if (wordBefore || wordAfter)
        continue;
    }
    if (token.lstrip) {
      size_t newStart = start;
      while (newStart > begin) {
        size_t charStart = newStart - 1;
        while (charStart > begin && (static_cast<unsigned char>(sub[charStart]) & 0xC0) == 0x80)
          --charStart;
        size_t len;
        if (!utf8::isWhitespace(utf8::decodeOne(sub, charStart, len)))
          break;
        newStart = charStart;
      }
      start = std::max(newStart, startOffset);
    }
    if (token.rstrip) {
      // Like HF, the scan goes on from the token's own end, so a token may
      // start inside the whitespace that the previous one stripped.
      while (stop < end) {
        size_t len;
        if (!utf8::isWhitespace(utf8::decodeOne(sub, stop, len)))
          break;
        stop += len;
      }
    }
    if (stop <= start) {
      // Stripping left nothing of the token (its text went to the previous
      // token's rstrip); HF drops such empty splits.
      startOffset = std::max(startOffset, stop);
      continue;
    }
    if (startOffset < start)
      out.push_back({startOffset, start, -1});
    out.push_back({start, stop, index});
    startOffset = stop;
  }
  if (startOffset < end)
    out.push_back({startOffset, end, -1});
}

std::vector<int32_t> Tokenizer::Impl::encodePlain(std::string_view text) const {
  std::vector<Segment> first, segments;
  findAdded(text, 0, text.size(), rawMatcher, first);
  for (const Segment &s : first) {
    if (s.token >= 0)
      segments.push_back(s);
    else
      findAdded(text, s.begin, s.end, normalizedMatcher, segments);
  }
  std::vector<int32_t> ids;
  std::vector<std::string> pieces;
  for (const Segment &s : segments) {
    if (s.token >= 0) {
      ids.push_back(added[s.token].id);
      continue;
    }
    pieces.clear();
    preTokenizer.split(text.substr(s.begin, s.end - s.begin), pieces);
    for (const std::string &piece : pieces)
      bpe->encodeWord(piece, ids);
  }
  return ids;
}

std::string Tokenizer::Impl::decodeRaw(const std::vector<int32_t> &ids, bool skipSpecial) const {
  std::string out;
  bool first = true;
  for (int32_t id : ids) {
    const std::string *text = nullptr;
    auto it = addedById.find(id);
    if (it != addedById.end()) {
      const AddedToken &token = added[it->second];
      if (skipSpecial && token.special)
        continue;
      text = &token.content;
    } else {
      text = bpe->tokenText(id);
    }
    if (!text)
      throw TokenizerError(fmt::format("{}: cannot decode token id {}: not in the vocabulary (size {})",
                                       origin, id, vocabSize));
    if (!byteLevelDecoder) {
      // HF joins tokens with spaces when there is no decoder.
      if (!first)
        out.push_back(' ');
      out += *text;
      first = false;
      continue;
    }
    // A token made only of byte-level characters stands for those bytes;
    // any other (e.g. "<｜end▁of▁sentence｜>") is its own UTF-8 text.
    std::string bytes;
    bool allMapped = true;
    for (size_t pos = 0; pos < text->size();) {
      size_t len;
      int b = byteLevelByte(utf8::decodeOne(*text, pos, len));
      if (b < 0) {
        allMapped = false;
        break;
      }
      bytes.push_back(static_cast<char>(b));
      pos += len;
    }
    out += allMapped ? bytes : *text;
  }
  return out;
}

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Tokenizer Tokenizer::fromFile(const std::string &path) {
  std::filesystem::path file(path);
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    file /= "tokenizer.json";
  std::string text = readFile(file);
  std::string config;
  std::filesystem::path configPath = file.parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(configPath, ec))
    config = readFile(configPath);
  return fromJson(text, config, file.string());
}

Tokenizer Tokenizer::fromJson(std::string_view tokenizerJson, std::string_view configJson,
                              const std::string &origin) {
  json root;
  try {
    root = json::parse(tokenizerJson);
  } catch (const json::exception &e) {
    throw TokenizerError(fmt::format("{}: invalid JSON: {}", origin, e.what()));
  }
  if (!root.is_object())
    throw TokenizerError(fmt::format("{}: the top level must be a JSON object", origin));
  auto impl = std::make_shared<Impl>();
  impl->origin = origin;
  std::optional<int32_t> bos, eos;
  bool addBosByDefault = false;
  try {
    const json *model = member(root, "model");
    if (!model || !model->is_object())
      throw TokenizerError(fmt::format("{}: missing 'model' object", origin));
    const json *type = member(*model, "type");
    // Old files omit the type; a vocab with merges is then BPE.
    std::string modelType = type && type->is_string() ? type->get<std::string>()
                            : member(*model, "merges") ? "BPE"
                                                       : "(missing)";
    if (modelType != "BPE")
      throw TokenizerError(fmt::format(
          "{}: model.type is '{}'; only BPE tokenizers are supported", origin, modelType));
    impl->bpe = TokenizerBpe::fromJson(*model, origin + ": model");
    impl->vocabSize = impl->bpe->idLimit();
    impl->parseAddedTokens(root);
    impl->parseNormalizer(root);
    if (const json *pre = member(root, "pre_tokenizer"))
      impl->preTokenizer = PreTokenizer::fromJson(*pre, origin + ": pre_tokenizer");
    impl->parseDecoder(root);
    if (const json *post = member(root, "post_processor"))
      impl->parsePostProcessor(*post, origin + ": post_processor");

    if (impl->singleTemplate && impl->singleTemplate->first.size() == 1)
      bos = impl->singleTemplate->first[0];
    addBosByDefault = impl->singleTemplate && !(impl->singleTemplate->first.empty() &&
                                                 impl->singleTemplate->second.empty());
    if (!configJson.empty()) {
      json config;
      try {
        config = json::parse(configJson);
      } catch (const json::exception &e) {
        throw TokenizerError(fmt::format("{} (tokenizer_config.json): invalid JSON: {}", origin, e.what()));
      }
      auto special = [&](const char *key) -> std::optional<int32_t> {
        const json *v = member(config, key);
        if (v && v->is_object())
          v = member(*v, "content");
        if (!v)
          return std::nullopt;
        if (!v->is_string())
          throw TokenizerError(fmt::format("tokenizer_config.json: '{}' must be a string", key));
        auto id = impl->tokenId(v->get<std::string>());
        if (!id)
          throw TokenizerError(fmt::format("tokenizer_config.json: {} '{}' is not a token of {}",
                                           key, v->get<std::string>(), origin));
        return id;
      };
      if (auto id = special("bos_token"))
        bos = id;
      if (const json *add = member(config, "add_bos_token")) {
        if (!add->is_boolean())
          throw TokenizerError("tokenizer_config.json: 'add_bos_token' must be a boolean");
        addBosByDefault = add->get<bool>();
      }
      if (auto id = special("eos_token"))
        eos = id;
    }
    // Without tokenizer_config.json, recognise the usual names.
    for (const char *name : {"<｜begin▁of▁sentence｜>", "<|begin_of_text|>", "<s>"})
      if (!bos)
        bos = impl->tokenId(name);
    for (const char *name : {"<｜end▁of▁sentence｜>", "<|end_of_text|>", "</s>", "<|endoftext|>"})
      if (!eos)
        eos = impl->tokenId(name);
  } catch (const json::exception &e) {
    throw TokenizerError(fmt::format("{}: unexpected JSON structure: {}", origin, e.what()));
  }
  Tokenizer tok(std::move(impl));
  tok.bosId_ = bos;
  tok.eosId_ = eos;
  tok.addBosByDefault_ = addBosByDefault && bos.has_value();
  return tok;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool addBos) const {
  std::vector<int32_t> ids = impl_->encodePlain(text);
  if (!addBos)
    return ids;
  if (impl_->singleTemplate) {
    const auto &[before, after] = *impl_->singleTemplate;
    ids.insert(ids.begin(), before.begin(), before.end());
    ids.insert(ids.end(), after.begin(), after.end());
    return ids;
  }
  ids.insert(ids.begin(), bosId());
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids, bool skipSpecial) const {
  return utf8::toValidLossy(impl_->decodeRaw(ids, skipSpecial));
}

std::string Tokenizer::decodeBytes(const std::vector<int32_t> &ids, bool skipSpecial) const {
  return impl_->decodeRaw(ids, skipSpecial);
}

int32_t Tokenizer::bosId() const {
  if (!bosId_)
    throw TokenizerError(fmt::format(
        "{}: no BOS token (no TemplateProcessing prefix, no bos_token in tokenizer_config.json)",
        impl_->origin));
  return *bosId_;
}

int32_t Tokenizer::eosId() const {
  if (!eosId_)
    throw TokenizerError(fmt::format("{}: no EOS token (no eos_token in tokenizer_config.json)",
                                     impl_->origin));
  return *eosId_;
}

size_t Tokenizer::vocabSize() const { return impl_->vocabSize; }

std::optional<int32_t> Tokenizer::tokenId(std::string_view token) const {
  return impl_->tokenId(token);
}

std::optional<std::string> Tokenizer::tokenText(int32_t id) const {
  auto it = impl_->addedById.find(id);
  if (it != impl_->addedById.end())
    return impl_->added[it->second].content;
  if (const std::string *text = impl_->bpe->tokenText(id))
    return *text;
  return std::nullopt;
}

bool Tokenizer::isSpecial(int32_t id) const {
  auto it = impl_->addedById.find(id);
  return it != impl_->addedById.end() && impl_->added[it->second].special;
}

} // namespace tlv4
