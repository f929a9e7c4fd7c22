// Diagnostics of the MLIR side rewritten in the words of the language
// (UserWords.h): no op names survive, tl ops become the construct that
// produced them, other dialects' ops mark an internal error.
#include "tlc/Frontend/UserWords.h"

#include <gtest/gtest.h>

#include <regex>

namespace {

bool mentionsOpName(const std::string &s) {
  static const std::regex op(R"((^|[^A-Za-z0-9_.])(tl|arith|memref|vector|scf|llvm|nvvm|math|func)\.[a-z_]+)");
  return std::regex_search(s, op);
}

TEST(UserWords, TlOpPrefixBecomesTheConstruct) {
  EXPECT_EQ(tlc::userWords("'tl.copy' op source and destination shapes differ"),
            "T.copy: source and destination shapes differ");
  EXPECT_EQ(tlc::userWords("'tl.gemm' op accumulator must be a fragment"),
            "T.gemm: accumulator must be a fragment");
}

TEST(UserWords, OtherDialectIsAnInternalError) {
  std::string m = tlc::userWords("'arith.select' op operand #1 must be a scalar");
  EXPECT_EQ(m.rfind("internal compiler error in a conditional value (T.if_then_else): operand #1", 0), 0u) << m;
  EXPECT_NE(m.find("please report it"), std::string::npos);
  EXPECT_FALSE(mentionsOpName(m)) << m;
}

TEST(UserWords, FailedLegalization) {
  std::string m = tlc::userWords("failed to legalize operation 'vector.load'");
  EXPECT_EQ(m.rfind("internal compiler error: no code could be generated for a vector load here", 0), 0u) << m;
  EXPECT_FALSE(mentionsOpName(m));
  m = tlc::userWords("failed to legalize operation 'tl.topk' that was explicitly marked illegal");
  EXPECT_NE(m.find("T.topk"), std::string::npos) << m;
  EXPECT_FALSE(mentionsOpName(m)) << m;
}

TEST(UserWords, NamesInsideTheText) {
  EXPECT_EQ(tlc::userWords("tl.thread_id outside a T.Kernel"), "T.thread_id outside a T.Kernel");
  EXPECT_EQ(tlc::userWords("waits on a 'tl.mma_commit' of !tl.barrier type"),
            "waits on a completing a T.gemm of a barrier type");
  std::string m = tlc::userWords("result must be in #tl.scope<fragment>, read by memref.load");
  EXPECT_FALSE(mentionsOpName(m)) << m;
}

TEST(UserWords, UserTextIsLeftAlone) {
  for (const char *s : {"T.copy of 'x.tl' needs 2 indices, got 1.5", "expected T.float32, e.g. x",
                        "buffer 'acc' (128x128 float32)", "kernel.so: cannot open"})
    EXPECT_EQ(tlc::userWords(s), s);
}

} // namespace
