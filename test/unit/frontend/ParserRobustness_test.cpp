// Smoke test against crashes and hangs: every example, truncated at many
// lengths and mutated with seeded random byte edits, goes through the parser
// and the AST dump. Bad input must come back as diagnostics, never a crash.
// (The libFuzzer target test/fuzz/frontend_fuzzer.cpp goes much further.)
#include "tlc/Frontend/Parser.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

using namespace tlc;

namespace {

const char *const kExamples[] = {"act_quant_fp8", "flash_attn_fwd",       "fp4_dequant",
                                 "gemm_bf16",     "gemm_fp4_fp8",         "gemm_fp8_blockscaled",
                                 "gemm_fp8_mx",   "rmsnorm",              "softmax"};

std::string readExample(const char *name) {
  std::ifstream in(std::string(TLC_TEST_SOURCE_DIR) + "/../examples/" + name + ".tl",
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Parses and dumps `text`; returns whether errors were reported.
bool parseAndDump(const std::string &text) {
  SourceFile file("m.tl", text);
  std::ostringstream sink;
  DiagnosticEngine diags(file, &sink); // also exercises the caret printer
  std::unique_ptr<Module> m = parseModule(file, diags);
  EXPECT_TRUE(m != nullptr);
  if (m) {
    std::ostringstream os;
    dumpAST(*m, os, /*withSema=*/true);
  }
  EXPECT_LE(diags.diagnostics().size(), 2u * DiagnosticEngine::kMaxErrors + 1);
  return diags.hasErrors();
}

TEST(ParserRobustness, TruncatedExamples) {
  for (const char *name : kExamples) {
    std::string text = readExample(name);
    ASSERT_FALSE(text.empty()) << name;
    EXPECT_FALSE(parseAndDump(text)) << name;
    int withErrors = 0;
    for (size_t len = 0; len < text.size(); len += 5)
      withErrors += parseAndDump(text.substr(0, len));
    // Most cuts land inside a signature, a bracket or before a block.
    EXPECT_GT(withErrors, 0) << name;
  }
}

TEST(ParserRobustness, MutatedExamples) {
  static const char kInteresting[] = "()[]{}:,.=+-*/%<>@#'\"\\\t\n \x00\xff_0x9eE";
  std::mt19937 rng(20261123);
  auto start = std::chrono::steady_clock::now();
  for (const char *name : kExamples) {
    const std::string text = readExample(name);
    ASSERT_FALSE(text.empty()) << name;
    for (int round = 0; round < 300; ++round) {
      std::string m = text;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !m.empty(); ++e) {
        size_t at = rng() % m.size();
        char c = (rng() % 2) ? kInteresting[rng() % (sizeof kInteresting - 1)]
                             : static_cast<char>(rng() % 256);
        switch (rng() % 4) {
        case 0: // flip one bit
          m[at] = static_cast<char>(m[at] ^ (1 << (rng() % 8)));
          break;
        case 1: // overwrite
          m[at] = c;
          break;
        case 2: // insert
          m.insert(m.begin() + at, c);
          break;
        default: // delete a short range
          m.erase(at, 1 + rng() % 8);
        }
      }
      parseAndDump(m);
    }
  }
  // Linear-time parsing: 1800 mutated files take well under a few seconds.
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count(), 20);
}

TEST(ParserRobustness, PathologicalInputs) {
  parseAndDump(std::string(4096, '('));
  parseAndDump(std::string(4096, ')'));
  parseAndDump(std::string(4096, '\n'));
  parseAndDump(std::string(4096, ' ') + "x");
  parseAndDump(std::string(4096, '\0'));
  parseAndDump(std::string(2048, '@') + "\n");
  parseAndDump("X = " + std::string(4000, '"'));
  parseAndDump("X = " + std::string(4000, '-') + "1\n");
  parseAndDump("X = " + std::string(4000, '[') + "\n");
  std::string stairs;
  for (int i = 0; i < 90; ++i)
    stairs += std::string(i, ' ') + "if x:\n";
  parseAndDump("@T.kernel\ndef k():\n" + stairs);
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "x = )\n  y\n\tz\n";
  EXPECT_TRUE(parseAndDump(text));
}

TEST(ParserRobustness, LargeHostileInputsStayLinear) {
  // Inputs that would be quadratic with a naive bracket stack, keyword check
  // or recovery loop; each is ~200 KB and must parse in well under a second.
  std::string kwargs = "x = f(";
  for (int i = 0; i < 20000; ++i)
    kwargs += "a" + std::to_string(i) + "=1, ";
  std::string errors;
  for (int i = 0; i < 30000; ++i)
    errors += "x = )\n";
  std::string statements = "@T.kernel\ndef k():\n";
  for (int i = 0; i < 20000; ++i)
    statements += "    x = 1\n";
  const std::string inputs[] = {
      std::string(100000, '(') + std::string(100000, ']'),
      std::string(100000, '[') + std::string(100000, ')'),
      kwargs + ")\n",
      errors,
      statements,
      "X = " + std::string(200000, '-') + "1\n",
  };
  for (const std::string &text : inputs) {
    auto start = std::chrono::steady_clock::now();
    parseAndDump(text);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    EXPECT_LT(ms, 3000) << text.substr(0, 40);
  }
}

} // namespace
