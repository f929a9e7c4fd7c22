// Unit tests of the AST dump (`tlc --emit=ast`): exact text for a small
// kernel, literal and operator spellings, and Sema annotations.
#include "tlc/Frontend/Parser.h"
#include "tlc/Frontend/Sema.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace tlc;

namespace {

std::string dump(const std::string &text, bool withSema = false) {
  SourceFile file("t.tl", text);
  DiagnosticEngine diags(file);
  std::unique_ptr<Module> m = parseModule(file, diags);
  EXPECT_FALSE(diags.hasErrors()) << (diags.diagnostics().empty()
                                          ? ""
                                          : diags.format(diags.diagnostics()[0]));
  std::ostringstream os;
  dumpAST(*m, os, withSema);
  return os.str();
}

TEST(ASTDump, SmallKernel) {
  std::string text = "N = 4\n"
                     "@T.kernel\n"
                     "def k[BM: int = 64](A: T.Tensor[(M, BM // 2), T.f32], eps: float):\n"
                     "    with T.Kernel(T.ceildiv(M, BM), threads=128) as bx:\n"
                     "        s = T.alloc_shared((BM,), T.f32)\n"
                     "        for i, j in T.Parallel(4, 2):\n"
                     "            if i < 2 and not j:\n"
                     "                s[i:i + 1] += -A[bx, 0] ** 2\n"
                     "            elif i == 3:\n"
                     "                pass\n"
                     "            else:\n"
                     "                T.print(s, \"x\\n\")\n";
  EXPECT_EQ(dump(text), R"(Module
  Constant N = 4 @1:1
  Kernel k @3:1
    CompileParam BM: int = 64 @3:7
    Param A: T.Tensor[(M, BM // 2), T.f32] @3:21
    Param eps: float @3:55
    Body
      With as bx @4:5
        Call T.Kernel @4:10
          Call T.ceildiv @4:19
            Name M @4:29
            Name BM @4:32
          Kwarg threads @4:37
            IntLit 128 @4:45
        Body
          Assign @5:9
            Name s @5:9
            Call T.alloc_shared @5:13
              Tuple @5:28
                Name BM @5:29
              Attribute T.f32 @5:35
          For i, j @6:9
            Call T.Parallel @6:21
              IntLit 4 @6:32
              IntLit 2 @6:35
            Body
              If @7:13
                Binary and @7:16
                  Binary < @7:16
                    Name i @7:16
                    IntLit 2 @7:20
                  Unary not @7:26
                    Name j @7:30
                Then
                  AugAssign += @8:17
                    Subscript @8:17
                      Name s @8:17
                      Slice lower:upper @8:19
                        Name i @8:19
                        Binary + @8:21
                          Name i @8:21
                          IntLit 1 @8:25
                    Unary - @8:31
                      Binary ** @8:32
                        Subscript @8:32
                          Name A @8:32
                          Name bx @8:34
                          IntLit 0 @8:38
                        IntLit 2 @8:44
                Else
                  Elif @9:13
                    Binary == @9:18
                      Name i @9:18
                      IntLit 3 @9:23
                    Then
                      Pass @10:17
                    Else
                      Call T.print @12:17
                        Name s @12:25
                        StringLit "x\n" @12:28
)");
}

TEST(ASTDump, LiteralsAndOddShapes) {
  EXPECT_EQ(dump("A = 1.0\nB = 1e-30\nC = .5\nD = True\nE = x if c else (1, 2)\n"
                 "F = f(a)(b)\nG = x[:, 1:]\n"),
            R"(Module
  Constant A = 1.0 @1:1
  Constant B = 1e-30 @2:1
  Constant C = 0.5 @3:1
  Constant D = True @4:1
  Constant E = x if c else (1, 2) @5:1
  Constant F = f(a)(b) @6:1
  Constant G = x[:, 1:] @7:1
)");
}

TEST(ASTDump, ExpressionShapesInStatements) {
  std::string text = "@T.kernel\ndef k():\n    x = f(a)(b).c[:, 1:]\n    y = a if c else (1,)\n";
  EXPECT_EQ(dump(text), R"(Module
  Kernel k @2:1
    Body
      Assign @3:5
        Name x @3:5
        Subscript @3:9
          Attribute .c @3:9
            Call @3:9
              Call f @3:9
                Name a @3:11
              Name b @3:14
          Slice : @3:19
          Slice lower: @3:22
            IntLit 1 @3:22
      Assign @4:5
        Name y @4:5
        IfExp @4:9
          Name a @4:9
          Name c @4:14
          Tuple @4:21
            IntLit 1 @4:22
)");
}

TEST(ASTDump, SemaAnnotations) {
  SourceFile file("t.tl", "@T.kernel\ndef k[BM: int = 4]():\n    x = BM + 1\n");
  DiagnosticEngine diags(file);
  std::unique_ptr<Module> m = parseModule(file, diags);
  ASSERT_FALSE(diags.hasErrors());
  Symbol bm;
  bm.name = "BM";
  bm.kind = SymbolKind::CompileParam;
  bm.value.kind = SemaValue::Constant;
  bm.value.constant = ConstValue(int64_t(4));
  m->kernels[0].compileParams[0].symbol = &bm;
  auto *assign = dyn_cast<AssignStmt>(m->kernels[0].body[0].get());
  auto *sum = dyn_cast<BinaryExpr>(assign->value.get());
  sum->sema.kind = SemaValue::Constant;
  sum->sema.constant = ConstValue(int64_t(5));
  auto buf = std::make_shared<BufferType>();
  buf->scope = MemScope::Shared;
  buf->dtype = DType::BF16;
  buf->shape = {Dim{128, ""}, Dim{-1, "K // 128"}};
  assign->target->sema.kind = SemaValue::Buffer;
  assign->target->sema.buffer = buf;
  sum->lhs->sema.kind = SemaValue::Scalar;
  sum->lhs->sema.dtype = DType::F32;
  std::ostringstream os;
  dumpAST(*m, os, /*withSema=*/true);
  EXPECT_EQ(os.str(), R"(Module
  Kernel k @2:1
    CompileParam BM: int = 4 @2:7 {const 4}
    Body
      Assign @3:5
        Name x @3:5 {buffer shared<128x(K // 128)xbfloat16>}
        Binary + @3:9 {const 5}
          Name BM @3:9 {scalar float32}
          IntLit 1 @3:14
)");
  std::ostringstream plain;
  dumpAST(*m, plain, /*withSema=*/false);
  EXPECT_EQ(plain.str().find('{'), std::string::npos);
}

TEST(Types, NamesAndAliases) {
  EXPECT_STREQ(dtypeName(DType::BF16), "bfloat16");
  EXPECT_EQ(parseDType("bf16"), DType::BF16);
  EXPECT_EQ(parseDType("T.float8_e4m3"), DType::F8E4M3);
  EXPECT_EQ(parseDType("fp4_e2m1"), DType::F4E2M1);
  EXPECT_EQ(parseDType("ue8m0"), DType::UE8M0);
  EXPECT_EQ(parseDType("i32"), DType::I32);
  EXPECT_FALSE(parseDType("float64").has_value());
  EXPECT_FALSE(parseDType("").has_value());
  EXPECT_EQ(dtypeBits(DType::F4E2M1), 4u);
  EXPECT_EQ(dtypeBits(DType::Bool), 8u);
  EXPECT_EQ(dtypeBits(DType::I64), 64u);
  EXPECT_TRUE(isFloat(DType::F8E5M2));
  EXPECT_FALSE(isFloat(DType::I8));
  EXPECT_TRUE(isInteger(DType::U8));
  EXPECT_FALSE(isInteger(DType::Bool));
  EXPECT_TRUE(isNarrowFloat(DType::UE8M0));
  EXPECT_FALSE(isNarrowFloat(DType::BF16));
  EXPECT_STREQ(scopeName(MemScope::Fragment), "fragment");
}

TEST(Types, ConstantsAndBufferTypes) {
  EXPECT_EQ(constToString(ConstValue(int64_t(-3))), "-3");
  EXPECT_EQ(constToString(ConstValue(0.1)), "0.1");
  EXPECT_EQ(constToString(ConstValue(448.0)), "448.0");
  EXPECT_EQ(constToString(ConstValue(1.4426950408889634)), "1.4426950408889634");
  // Python's repr(): fixed notation for exponents -4..15, scientific beyond.
  EXPECT_EQ(constToString(ConstValue(2500.0)), "2500.0");
  EXPECT_EQ(constToString(ConstValue(1e-6)), "1e-06");
  EXPECT_EQ(constToString(ConstValue(0.0001)), "0.0001");
  EXPECT_EQ(constToString(ConstValue(1e16)), "1e+16");
  EXPECT_EQ(constToString(ConstValue(1e15)), "1000000000000000.0");
  EXPECT_EQ(constToString(ConstValue(-1.5e-30)), "-1.5e-30");
  EXPECT_EQ(constToString(ConstValue(true)), "True");
  EXPECT_EQ(constToString(ConstValue(DType::F32)), "T.float32");
  EXPECT_EQ(constToString(ConstValue(std::string("a\"b\n"))), "\"a\\\"b\\n\"");
  BufferType b;
  b.scope = MemScope::Global;
  b.dtype = DType::F8E4M3;
  b.shape = {Dim{-1, "M"}, Dim{64, ""}};
  EXPECT_EQ(b.str(), "global<Mx64xfloat8_e4m3>");
  BufferType bar;
  bar.barrierCount = 2;
  EXPECT_EQ(bar.str(), "barrier<2>");
}

} // namespace
