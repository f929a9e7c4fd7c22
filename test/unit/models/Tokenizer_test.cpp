// Tokenizer tests on a small byte-level BPE with DeepSeek V4's tokenizer
// layout (models/deepseek_v4/data/tiny-tokenizer/tokenizer.json). The expected ids in
// Inputs/tokenizer_small_cases.json were computed by HuggingFace
// `tokenizers` (scripts/gen_tokenizer_test_data.py), the reference we must
// match id for id.
#include "tlv4/Tokenizer.h"

#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

using nlohmann::json;
using tlv4::Tokenizer;
using tlv4::TokenizerError;

namespace {

std::string inputPath(const std::string &name) {
  // The tiny tokenizer lives with the model (tl-v4 make-tiny ships it); its cases here.
  if (name == "tokenizer.json" || name == "tokenizer_config.json")
    return std::string(TLC_TEST_SOURCE_DIR) + "/../models/deepseek_v4/data/tiny-tokenizer/" + name;
  return std::string(TLC_TEST_SOURCE_DIR) + "/unit/models/Inputs/" + name;
}

std::string readText(const std::string &name) {
  std::ifstream in(inputPath(name), std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const json &smallJson() {
  static const json j = json::parse(readText("tokenizer.json"));
  return j;
}

const json &cases() {
  static const json j = json::parse(readText("tokenizer_small_cases.json"));
  return j;
}

const Tokenizer &small() {
  static const Tokenizer tok = Tokenizer::fromFile(inputPath("tokenizer.json"));
  return tok;
}

std::vector<int32_t> ids(const json &j) { return j.get<std::vector<int32_t>>(); }

// Expects fromJson on `j` to throw a TokenizerError whose message contains
// every fragment.
void expectLoadError(const json &j, std::vector<std::string> fragments) {
  try {
    Tokenizer::fromJson(j.dump(), {}, "bad.json");
    ADD_FAILURE() << "expected a TokenizerError";
  } catch (const TokenizerError &e) {
    std::string what = e.what();
    for (const auto &f : fragments)
      EXPECT_NE(what.find(f), std::string::npos) << "message: " << what << "\nmissing: " << f;
  }
}

} // namespace

TEST(Tokenizer, LoadsVocabularyAndSpecialTokens) {
  const Tokenizer &tok = small();
  EXPECT_EQ(tok.vocabSize(), 605u);
  EXPECT_EQ(tok.bosId(), 0);
  EXPECT_EQ(tok.eosId(), 1);
  EXPECT_EQ(tok.tokenId("<｜User｜>"), 2);
  EXPECT_EQ(tok.tokenId("<think>"), 600);
  EXPECT_EQ(tok.tokenId("Ġt"), 260); // the first merge
  EXPECT_EQ(tok.tokenId("no such token"), std::nullopt);
  EXPECT_EQ(tok.tokenText(600), "<think>");
  EXPECT_EQ(tok.tokenText(260), "Ġt");
  EXPECT_EQ(tok.tokenText(9999), std::nullopt);
  EXPECT_TRUE(tok.isSpecial(0));
  EXPECT_TRUE(tok.isSpecial(603));
  EXPECT_FALSE(tok.isSpecial(600));
  EXPECT_FALSE(tok.isSpecial(256));
}

TEST(Tokenizer, ExactIdsForSampleStrings) {
  // Literal expectations from HF tokenizers 0.23.3 on the tiny tokenizer.json.
  const Tokenizer &tok = small();
  EXPECT_EQ(tok.encode("Hello world"), (std::vector<int32_t>{43, 72, 79, 79, 82, 295, 82, 85, 79, 71}));
  // Digits go in groups of at most three.
  EXPECT_EQ(tok.encode("12345678901"), (std::vector<int32_t>{285, 22, 423, 26, 27, 28, 19, 20}));
  EXPECT_EQ(tok.encode("深度求索的模型"), (std::vector<int32_t>{576, 554, 542, 544, 574, 256, 237}));
  EXPECT_EQ(tok.encode("<｜begin▁of▁sentence｜>Hello<｜end▁of▁sentence｜>"),
            (std::vector<int32_t>{0, 43, 72, 79, 79, 82, 1}));
  EXPECT_EQ(tok.encode(""), std::vector<int32_t>{});
}

TEST(Tokenizer, MatchesReferenceIds) {
  const Tokenizer &tok = small();
  size_t checked = 0;
  for (const json &c : cases()["base"]) {
    std::string text = c["text"];
    std::vector<int32_t> got = tok.encode(text);
    EXPECT_EQ(got, ids(c["ids"])) << "text: " << json(text).dump();
    EXPECT_EQ(tok.decode(got), c["decoded"].get<std::string>()) << "text: " << json(text).dump();
    EXPECT_EQ(tok.decode(got, /*skipSpecial=*/true), c["decoded_skip"].get<std::string>())
        << "text: " << json(text).dump();
    ++checked;
  }
  EXPECT_GT(checked, 150u);
}

TEST(Tokenizer, MatchesReferenceIdsForPreTokenizerVariants) {
  for (const json &variant : cases()["variants"]) {
    json j = smallJson();
    j["pre_tokenizer"] = variant["pre_tokenizer"];
    Tokenizer tok = Tokenizer::fromJson(j.dump());
    for (const json &c : variant["cases"]) {
      std::string text = c["text"];
      EXPECT_EQ(tok.encode(text), ids(c["ids"]))
          << "variant: " << variant["name"] << " text: " << json(text).dump();
    }
  }
}

TEST(Tokenizer, MatchesReferenceIdsForAddedTokenOptions) {
  // lstrip/rstrip/single_word/normalized tokens, a token that is a prefix of
  // another, and one whose content is a vocabulary entry (HF then uses the
  // vocabulary id, not the one in the file).
  const json &variant = cases()["added_tokens_variant"];
  json j = smallJson();
  for (const json &t : variant["added_tokens"])
    j["added_tokens"].push_back(t);
  Tokenizer tok = Tokenizer::fromJson(j.dump());
  EXPECT_EQ(tok.tokenId("é"), 169);
  EXPECT_EQ(tok.tokenId("the"), 608);
  size_t checked = 0;
  for (const json &c : variant["cases"]) {
    std::string text = c["text"];
    std::vector<int32_t> got = tok.encode(text);
    EXPECT_EQ(got, ids(c["ids"])) << "text: " << json(text).dump();
    EXPECT_EQ(tok.decode(got), c["decoded"].get<std::string>()) << "text: " << json(text).dump();
    ++checked;
  }
  EXPECT_GT(checked, 60u);
}

TEST(Tokenizer, StringAndPairMergesAgree) {
  json j = smallJson();
  for (json &m : j["model"]["merges"])
    m = m[0].get<std::string>() + " " + m[1].get<std::string>();
  Tokenizer legacy = Tokenizer::fromJson(j.dump());
  for (const json &c : cases()["base"])
    EXPECT_EQ(legacy.encode(c["text"].get<std::string>()), ids(c["ids"]));
}

TEST(Tokenizer, RoundTripsVariedText) {
  const Tokenizer &tok = small();
  const char *texts[] = {
      "ASCII, punctuation!? (and) [brackets] {braces} <angles>",
      "numbers 1 12 123 1234 12345 3.14159 -7e-3",
      "中文、日本語のテキスト、한국어",
      "emoji 😀👍🏽❤️🚀 flags 🇫🇷",
      "runs   of    spaces\t\ttabs\n\n\nnewlines\r\n",
      "contractions: don't, I'LL, you're, they've",
      "   ",
      "\xF0\x9F\xA6\x80 crab and \xE2\x80\x8B zero width",
  };
  for (const char *text : texts) {
    std::vector<int32_t> got = tok.encode(text);
    EXPECT_FALSE(got.empty());
    EXPECT_EQ(tok.decode(got), text);
  }
}

TEST(Tokenizer, AddBosFromConfigAndTemplate) {
  const Tokenizer &tok = small();
  std::vector<int32_t> plain = tok.encode("Hello");
  std::vector<int32_t> withBos = tok.encode("Hello", /*addBos=*/true);
  ASSERT_EQ(withBos.size(), plain.size() + 1);
  EXPECT_EQ(withBos[0], 0);
  EXPECT_EQ(std::vector<int32_t>(withBos.begin() + 1, withBos.end()), plain);

  // A TemplateProcessing post-processor is applied as HF's
  // add_special_tokens=True does, suffix included.
  json j = smallJson();
  j["post_processor"] = json::parse(R"({"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
               {"SpecialToken": {"id": "</s>", "type_id": 0}}],
    "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                                   "</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}})");
  Tokenizer templated = Tokenizer::fromJson(j.dump());
  std::vector<int32_t> expected = plain;
  expected.insert(expected.begin(), 0);
  expected.push_back(1);
  EXPECT_EQ(templated.encode("Hello", true), expected);
  EXPECT_EQ(templated.bosId(), 0);
  EXPECT_TRUE(templated.addsBosByDefault());
  EXPECT_TRUE(tok.addsBosByDefault()); // add_bos_token in tokenizer_config.json

  // Without config or template, BOS is found by DeepSeek's token name...
  Tokenizer bare = Tokenizer::fromJson(smallJson().dump());
  EXPECT_EQ(bare.bosId(), 0);
  EXPECT_EQ(bare.eosId(), 1);
  EXPECT_FALSE(bare.addsBosByDefault());
  // ...and its absence is an error, not a silent no-op.
  json renamed = smallJson();
  renamed["added_tokens"][0]["content"] = "<first>";
  renamed["added_tokens"][1]["content"] = "<last>";
  renamed["model"]["vocab"].erase("<｜begin▁of▁sentence｜>");
  renamed["model"]["vocab"].erase("<｜end▁of▁sentence｜>");
  Tokenizer noBos = Tokenizer::fromJson(renamed.dump());
  EXPECT_FALSE(noBos.hasBos());
  EXPECT_THROW(noBos.encode("Hello", true), TokenizerError);
  EXPECT_THROW(noBos.eosId(), TokenizerError);
}

TEST(Tokenizer, SpecialTokensDecodeToContentOrAreSkipped) {
  const Tokenizer &tok = small();
  std::vector<int32_t> got = tok.encode("<｜User｜>hi<｜Assistant｜><think>x</think>");
  EXPECT_EQ(got.front(), 2);
  EXPECT_EQ(tok.decode(got), "<｜User｜>hi<｜Assistant｜><think>x</think>");
  EXPECT_EQ(tok.decode(got, true), "hi<think>x</think>");
}

TEST(Tokenizer, InvalidUtf8IsEncodedByteByByte) {
  const Tokenizer &tok = small();
  std::string text = "ok\xFF\xFE mid\xC3 end\xE4\xB8";
  std::vector<int32_t> got;
  ASSERT_NO_THROW(got = tok.encode(text));
  EXPECT_EQ(tok.decodeBytes(got), text);
  // decode() returns valid UTF-8, one U+FFFD per maximal invalid subpart.
  EXPECT_EQ(tok.decode(got), "ok\xEF\xBF\xBD\xEF\xBF\xBD mid\xEF\xBF\xBD end\xEF\xBF\xBD");
}

TEST(Tokenizer, UnknownIdIsAnError) {
  const Tokenizer &tok = small();
  EXPECT_THROW(tok.decode({43, 605}), TokenizerError);
  EXPECT_THROW(tok.decode({-1}), TokenizerError);
  try {
    tok.decode({123456});
  } catch (const TokenizerError &e) {
    EXPECT_NE(std::string(e.what()).find("123456"), std::string::npos);
  }
}

TEST(Tokenizer, EncodesFromSeveralThreads) {
  const Tokenizer &tok = small();
  const json &base = cases()["base"];
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round)
        for (const json &c : base)
          if (tok.encode(c["text"].get<std::string>()) != ids(c["ids"]))
            ++failures[t];
    });
  }
  for (auto &th : threads)
    th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(Tokenizer, LongInputIsFast) {
  const Tokenizer &tok = small();
  std::string text;
  for (size_t k = 0; k < 30; ++k) // plain texts, no [LSTRIP]/[RSTRIP] to eat spaces
    text += cases()["base"][k]["text"].get<std::string>() + "\n";
  while (text.size() < 200000)
    text += text;
  std::vector<int32_t> got = tok.encode(text);
  EXPECT_GT(got.size(), text.size() / 8);
  EXPECT_TRUE(tok.decode(got) == text);
}

TEST(TokenizerErrors, MalformedFiles) {
  EXPECT_THROW(Tokenizer::fromFile(inputPath("no_such_tokenizer.json")), TokenizerError);
  EXPECT_THROW(Tokenizer::fromJson("{not json"), TokenizerError);
  expectLoadError(json::array(), {"bad.json", "object"});
  expectLoadError(json::object(), {"bad.json", "missing 'model'"});

  json j = smallJson();
  j["model"]["type"] = "WordPiece";
  expectLoadError(j, {"model.type", "WordPiece", "BPE"});

  j = smallJson();
  j["model"].erase("vocab");
  expectLoadError(j, {"vocab"});

  j = smallJson();
  j["model"]["vocab"]["Ġt"] = "zero";
  expectLoadError(j, {"vocab['Ġt']"});

  j = smallJson();
  j["model"]["merges"][3] = "a b c";
  expectLoadError(j, {"merges[3]", "one space"});

  j = smallJson();
  j["model"]["merges"][4] = json::array({"Ġt", "notatoken"});
  expectLoadError(j, {"merges[4]", "notatoken", "not in the vocabulary"});

  j = smallJson();
  j["model"]["merges"][5] = 17;
  expectLoadError(j, {"merges[5]"});

  j = smallJson();
  j["model"]["vocab"].erase("Ġt");
  expectLoadError(j, {"merges[0]", "'Ġt' is not in the vocabulary"});

  j = smallJson();
  j["added_tokens"][0].erase("content");
  expectLoadError(j, {"added_tokens[0]", "content"});

  j = smallJson();
  j["normalizer"] = json::parse(R"({"type": "NFKC"})");
  expectLoadError(j, {"normalizer", "NFKC"});

  j = smallJson();
  j["pre_tokenizer"]["pretokenizers"][1]["type"] = "Whitespace";
  expectLoadError(j, {"pre_tokenizer.pretokenizers[1]", "Whitespace"});

  j = smallJson();
  j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Sideways";
  expectLoadError(j, {"pretokenizers[0]", "Sideways"});

  j = smallJson();
  j["pre_tokenizer"]["pretokenizers"][2]["pattern"]["Regex"] = "(?<=a)b|\\p{Han}";
  expectLoadError(j, {"pretokenizers[2]", "lookbehind"});

  j = smallJson();
  j["decoder"] = json::parse(R"({"type": "WordPiece"})");
  expectLoadError(j, {"decoder", "WordPiece"});

  j = smallJson();
  j["post_processor"] = json::parse(R"({"type": "BertProcessing"})");
  expectLoadError(j, {"post_processor", "BertProcessing"});

  try {
    Tokenizer::fromJson(smallJson().dump(), R"({"bos_token": "<nope>"})");
    ADD_FAILURE() << "expected a TokenizerError";
  } catch (const TokenizerError &e) {
    EXPECT_NE(std::string(e.what()).find("<nope>"), std::string::npos) << e.what();
  }
}
