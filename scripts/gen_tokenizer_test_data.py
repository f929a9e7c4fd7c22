#!/usr/bin/env python3
"""Generates the tiny tokenizer (models/deepseek_v4/data/tiny-tokenizer/, which
`tl-v4 make-tiny` also writes next to a tiny checkpoint) and the tokenizer
unit-test cases (test/unit/models/Inputs/):

  tokenizer.json              a ~600-token byte-level BPE trained here on a
                              small original corpus, with DeepSeek V3/V4's
                              normalizer, pre-tokenizer, decoder and
                              post-processor and a few added tokens
  tokenizer_config.json       its bos/eos tokens, as DeepSeek ships them
  tokenizer_small_cases.json  expected ids for many strings, computed by
                              HuggingFace `tokenizers` (the reference), also
                              for pre-tokenizer variants

Needs `pip install tokenizers`. Run: python3 scripts/gen_tokenizer_test_data.py
"""
import json
import os
import random

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test/unit/models/Inputs")
TOK = os.path.join(ROOT, "models/deepseek_v4/data/tiny-tokenizer")

# DeepSeek V3/V4's pre-tokenizer patterns.
DIGITS = r"\p{N}{1,3}"
CJK = "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"
MAIN = ("[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|"
        "[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|"
        "\\s*[\r\n]+|\\s+(?!\\S)|\\s+")

BOS = "<｜begin▁of▁sentence｜>"
EOS = "<｜end▁of▁sentence｜>"

CORPUS = """
The tokenizer splits text into pieces before byte-pair encoding runs on each piece.
Numbers such as 2026, 3.14159 and 1234567 are cut into groups of at most three digits.
We don't know what they'll say, but I'm sure it's fine and you've seen it before.
Kernels tile the matrix multiply: each block loads a 128x128 tile, then accumulates.
def encode(text: str) -> list[int]:
    return [vocab[t] for t in split(text)]
if (x < 0 && y >= 10) { return x * y + 3; } // the usual comment
The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX!
Mixture-of-experts layers route every token to the top 6 experts of 256.
深度求索的模型使用字节级的分词器。我们今天测试中文和日本語のテキスト。
ひらがなとカタカナも同じように扱われます。東京は日本の首都です。
한국어 문장도 조금 넣어 둡니다. Ünïcödé àccents, naïve café, façade, Straße.
Emoji: 😀 👍🏽 ❤️ 🚀 — dashes – and “quotes” ‘single’ «guillemets».
    indented line with	tabs	and    runs   of   spaces
line one
line two

line four after a blank line
Attention uses queries, keys and values; the softmax weights sum to one.
Learning rate 3e-4, batch 512, 8 GPUs, 40 GB each; loss went from 2.31 to 1.07.
""" * 3

CASES = [
    "Hello world",
    "Hello, world! How are you?",
    "The tokenizer splits text into pieces.",
    "don't won't I'LL you're they've she'd it's",
    "12345678901",
    "3.14159 and 2026-11-23 at 10:45",
    "x = 1000000; y=42;",
    "深度求索的模型",
    "日本語のテキストとカタカナ",
    "한국어 문장",
    "Emoji 😀👍🏽❤️🚀!",
    "a  b   c    d",
    "   leading spaces",
    "trailing spaces   ",
    "tabs\tand\ttabs",
    "line one\nline two\n\nline four\r\nwindows",
    "\n\n\n",
    " ",
    "",
    "Ünïcödé àccents naïve café",
    "def encode(text: str) -> list[int]:\n    return [vocab[t] for t in split(text)]",
    "if (x < 0 && y >= 10) { return x * y + 3; }",
    "“quotes” — and ‘single’ «guillemets»",
    "Combining: e\u0301 a\u0300 n\u0303",
    "Mixed中文English日本語123abc",
    "#hashtag @mention $price %percent",
    "..., !!! ??? ---",
    "α β γ Ω ∑ ∫ √ ∞",
    "½ ² ③ Ⅻ ٣٤٥",
    BOS + "Hello" + EOS,
    BOS + BOS + "x" + EOS + "tail",
    "before<｜User｜>question<｜Assistant｜>answer" + EOS,
    "<think>reasoning</think>answer",
    "a [LSTRIP] b",
    "a [RSTRIP]   b",
    "a\n\n[LSTRIP]",
    "xyzzy",
    "say xyzzy now",
    "axyzzy xyzzyb xyzzy!",
    "<｜begin▁of▁sentence",
    "not a <special> token",
    "\u00a0nbsp\u2003em\u3000ideographic",
    "\u2028line sep\u0085nel",
    "zero\u200bwidth",
]

ALPHABET = (list("aAbBzZeiou 09 \t\n\r'sStTdDmMlLvVrR.,!?-_/\\[]{}()\"#$%&*+<=>@^`|~")
            + list("éÉßſKΣσς中文字日本語ひらカタ한국ñ\u0301\u00a0\u3000½²٣①😀👍🏽❤️€£…—“”")
            + ["<think>", BOS, EOS, " xyzzy", "[LSTRIP]", "[RSTRIP]", "the", " tokenizer", "123"])


def build():
    tok = Tokenizer(models.BPE())
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(DIGITS), "isolated"),
        pre_tokenizers.Split(Regex(CJK), "isolated"),
        pre_tokenizers.Split(Regex(MAIN), "isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, min_frequency=2, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[BOS, EOS, "<｜User｜>", "<｜Assistant｜>"])
    tok.train_from_iterator(CORPUS.splitlines(), trainer=trainer)
    tok.add_tokens([AddedToken("<think>", normalized=False, special=False),
                    AddedToken("</think>", normalized=False, special=False),
                    AddedToken(" xyzzy", single_word=True, normalized=True, special=False)])
    tok.add_special_tokens([AddedToken("[LSTRIP]", lstrip=True, special=True),
                            AddedToken("[RSTRIP]", rstrip=True, special=True)])
    data = json.loads(tok.to_str())
    # DeepSeek V4 ships an empty normalizer Sequence and a ByteLevel
    # post-processor (BOS comes from tokenizer_config.json).
    data["normalizer"] = {"type": "Sequence", "normalizers": []}
    data["post_processor"] = {"type": "ByteLevel", "add_prefix_space": True,
                              "trim_offsets": False, "use_regex": True}
    return data


def encodeAll(data, texts):
    tok = Tokenizer.from_str(json.dumps(data))
    out = []
    for text in texts:
        try:
            ids = tok.encode(text, add_special_tokens=False).ids
        except BaseException:  # HF panics on some overlapping strips: skip
            continue
        out.append({"text": text, "ids": ids,
                    "decoded": tok.decode(ids, skip_special_tokens=False),
                    "decoded_skip": tok.decode(ids, skip_special_tokens=True)})
    return out


def main():
    data = build()
    random.seed(6)
    fuzz = ["".join(random.choice(ALPHABET) for _ in range(random.randint(1, 30)))
            for _ in range(150)]
    seq = data["pre_tokenizer"]["pretokenizers"]
    split = lambda rx, behavior, invert=False: {
        "type": "Split", "pattern": {"Regex": rx}, "behavior": behavior, "invert": invert}
    variants = [
        ("gpt2 byte level", {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                             "use_regex": True}),
        ("byte level without regex", {"type": "ByteLevel", "add_prefix_space": False,
                                      "trim_offsets": True, "use_regex": False}),
        ("prefix space in a sequence", {"type": "Sequence", "pretokenizers": [
            split(DIGITS, "Isolated"),
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": False}]}),
        ("split behaviours", {"type": "Sequence", "pretokenizers": [
            split(r"\s+", "MergedWithPrevious"), split(r"[.,!?]", "MergedWithNext"),
            split(r"\p{N}", "Contiguous"), split("o", "Removed", True), seq[-1]]}),
        ("string pattern", {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"String": "the"}, "behavior": "Isolated", "invert": False},
            seq[-1]]}),
        ("llama3 pattern", {"type": "Sequence", "pretokenizers": [
            split(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+", "Isolated"),
            seq[-1]]}),
    ]
    # Added tokens that stress HF's matching: a prefix of another token, a
    # normalized token found after the raw ones, lstrip and rstrip together,
    # a content that is also a vocabulary entry ("é" is byte 0xE9's
    # character, so HF gives it that id), rstrip followed by an lstrip token.
    extra = []
    for content, flags in [("<th", {"special": True}), ("think", {"normalized": True}),
                           ("[BOTH]", {"lstrip": True, "rstrip": True, "special": True}),
                           ("é", {"single_word": True, "lstrip": True, "normalized": True}),
                           ("the", {"normalized": True, "rstrip": True}),
                           ("\n\n", {"lstrip": True, "special": True})]:
        token = {"id": 605 + len(extra), "content": content, "single_word": False,
                 "lstrip": False, "rstrip": False, "normalized": False, "special": False}
        token.update(flags)
        extra.append(token)
    extraTexts = [
        "the  xyzzy tokenizer", "[RSTRIP]\n\nword", "a [BOTH]  b", "<think> <th think",
        "café é $é” x é y", "thethe the\tthe", "x\n\n\n\ny", "  \n\n[LSTRIP]",
    ]
    extraAlphabet = ALPHABET + ["<th", "think", "[BOTH]", " the ", "é", "\n\n"]
    extraFuzz = ["".join(random.choice(extraAlphabet) for _ in range(random.randint(1, 40)))
                 for _ in range(80)]
    texts = CASES + fuzz
    cases = {"base": encodeAll(data, texts), "variants": []}
    for name, pre in variants:
        variant = dict(data)
        variant["pre_tokenizer"] = pre
        cases["variants"].append({"name": name, "pre_tokenizer": pre,
                                  "cases": encodeAll(variant, CASES[:30] + fuzz[:40])})
    withExtra = dict(data)
    withExtra["added_tokens"] = data["added_tokens"] + extra
    cases["added_tokens_variant"] = {"added_tokens": extra,
                                     "cases": encodeAll(withExtra, extraTexts + extraFuzz)}
    with open(os.path.join(TOK, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(TOK, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"add_bos_token": True, "add_eos_token": False,
                   "bos_token": {"__type": "AddedToken", "content": BOS, "lstrip": False,
                                 "normalized": True, "rstrip": False, "single_word": False},
                   "eos_token": {"__type": "AddedToken", "content": EOS, "lstrip": False,
                                 "normalized": True, "rstrip": False, "single_word": False},
                   "model_max_length": 131072,
                   "tokenizer_class": "LlamaTokenizerFast"}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "tokenizer_small_cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False)
        f.write("\n")
    print("vocab", len(data["model"]["vocab"]), "merges", len(data["model"]["merges"]),
          "cases", len(cases["base"]), "variant cases",
          sum(len(v["cases"]) for v in cases["variants"]), "added-token cases",
          len(cases["added_tokens_variant"]["cases"]))


if __name__ == "__main__":
    main()
