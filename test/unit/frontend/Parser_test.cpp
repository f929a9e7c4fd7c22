// Unit tests of the .tl parser: every example parses, Python precedence,
// statement and signature forms, syntax errors with their locations, error
// recovery, and the nesting limit.
#include "tlc/Frontend/Parser.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace tlc;

namespace {

struct Parsed {
  std::unique_ptr<Module> module;
  std::vector<std::string> errors; // "line:col: message" (errors only)
  unsigned numErrors = 0;
};

Parsed parseText(const std::string &text) {
  SourceFile file("t.tl", text);
  DiagnosticEngine diags(file);
  Parsed p;
  p.module = parseModule(file, diags);
  for (const Diagnostic &d : diags.diagnostics())
    if (d.severity == Severity::Error)
      p.errors.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " +
                         d.message);
  p.numErrors = diags.numErrors();
  return p;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Fully parenthesised form, so tests see the tree's shape.
std::string paren(const Expr *e) {
  if (const auto *b = dyn_cast<BinaryExpr>(e))
    return "(" + paren(b->lhs.get()) + " " + toString(b->op) + " " + paren(b->rhs.get()) + ")";
  if (const auto *u = dyn_cast<UnaryExpr>(e))
    return std::string("(") + toString(u->op) + (u->op == UnaryOp::Not ? " " : "") +
           paren(u->operand.get()) + ")";
  if (const auto *i = dyn_cast<IfExpExpr>(e))
    return "(" + paren(i->thenValue.get()) + " if " + paren(i->cond.get()) + " else " +
           paren(i->elseValue.get()) + ")";
  return exprToString(*e);
}

/// Parses `NAME = <expr>` and returns the fully parenthesised value.
std::string shapeOf(const std::string &expr) {
  Parsed p = parseText("X = " + expr + "\n");
  if (!p.errors.empty())
    return "error: " + p.errors[0];
  return paren(p.module->constants.at(0).value.get());
}

/// Wraps statements in a kernel body (8-space indentation).
std::string kernel(const std::string &body) {
  return "@T.kernel\ndef k(A: T.Tensor[(M,), T.f32]):\n"
         "    with T.Kernel(1, threads=32) as bx:\n" +
         body;
}

const Block &kernelBody(const Parsed &p) {
  const auto *with = dyn_cast<WithStmt>(p.module->kernels.at(0).body.at(0).get());
  return with->body;
}

std::string firstError(const std::string &text) {
  Parsed p = parseText(text);
  return p.errors.empty() ? "<no error>" : p.errors[0];
}

const char *const kExamples[] = {"act_quant_fp8", "flash_attn_fwd",       "fp4_dequant",
                                 "gemm_bf16",     "gemm_fp4_fp8",         "gemm_fp8_blockscaled",
                                 "gemm_fp8_mx",   "rmsnorm",              "softmax"};

TEST(Parser, EveryExampleParses) {
  for (const char *name : kExamples) {
    std::string path = std::string(TLC_TEST_SOURCE_DIR) + "/../examples/" + name + ".tl";
    std::string text = readFile(path);
    ASSERT_FALSE(text.empty()) << path;
    Parsed p = parseText(text);
    EXPECT_TRUE(p.errors.empty()) << name << ": " << (p.errors.empty() ? "" : p.errors[0]);
    ASSERT_EQ(p.module->kernels.size(), 1u) << name;
    EXPECT_EQ(p.module->kernels[0].name, name);
    ASSERT_EQ(p.module->kernels[0].body.size(), 1u) << name;
    EXPECT_TRUE(isa<WithStmt>(p.module->kernels[0].body[0].get())) << name;
  }
}

TEST(Parser, GemmSignature) {
  Parsed p = parseText(readFile(std::string(TLC_TEST_SOURCE_DIR) + "/../examples/gemm_bf16.tl"));
  ASSERT_TRUE(p.errors.empty());
  const KernelDef &k = p.module->kernels[0];
  EXPECT_EQ(k.loc.line, 11u);
  EXPECT_EQ(k.decoratorLoc.line, 10u);
  ASSERT_EQ(k.compileParams.size(), 6u);
  EXPECT_EQ(k.compileParams[0].name, "BM");
  EXPECT_EQ(exprToString(*k.compileParams[0].type.elementType), "int");
  EXPECT_EQ(exprToString(*k.compileParams[0].defaultValue), "128");
  EXPECT_EQ(k.compileParams[3].name, "stages");
  EXPECT_EQ(k.compileParams[4].name, "CX");
  EXPECT_EQ(k.compileParams[5].name, "CY");
  ASSERT_EQ(k.params.size(), 3u);
  EXPECT_TRUE(k.params[0].type.isTensor);
  ASSERT_EQ(k.params[0].type.dims.size(), 2u);
  EXPECT_EQ(exprToString(*k.params[0].type.dims[0]), "M");
  EXPECT_EQ(exprToString(*k.params[0].type.elementType), "T.bfloat16");
  const auto *with = dyn_cast<WithStmt>(k.body[0].get());
  ASSERT_TRUE(with);
  ASSERT_EQ(with->vars.size(), 2u);
  EXPECT_EQ(with->vars[1].name, "by");
  const auto *call = dyn_cast<CallExpr>(with->context.get());
  ASSERT_TRUE(call);
  EXPECT_EQ(call->calleeName(), "T.Kernel");
  EXPECT_EQ(call->args.size(), 2u);
  ASSERT_TRUE(call->kwarg("threads"));
  EXPECT_EQ(exprToString(*call->kwarg("threads")->value), "256");
  ASSERT_TRUE(call->kwarg("cluster"));
  EXPECT_EQ(exprToString(*call->kwarg("cluster")->value), "(CX, CY, 1)");
}

TEST(Parser, Precedence) {
  EXPECT_EQ(shapeOf("a + b * c"), "(a + (b * c))");
  EXPECT_EQ(shapeOf("a - b - c"), "((a - b) - c)");
  EXPECT_EQ(shapeOf("a * b // c % d"), "(((a * b) // c) % d)");
  EXPECT_EQ(shapeOf("a ** b ** c"), "(a ** (b ** c))");
  EXPECT_EQ(shapeOf("-a ** b"), "(-(a ** b))");
  EXPECT_EQ(shapeOf("a ** -b"), "(a ** (-b))");
  EXPECT_EQ(shapeOf("-a * b"), "((-a) * b)");
  EXPECT_EQ(shapeOf("~a + b"), "((~a) + b)");
  EXPECT_EQ(shapeOf("a << b + c"), "(a << (b + c))");
  EXPECT_EQ(shapeOf("a & b << c"), "(a & (b << c))");
  EXPECT_EQ(shapeOf("a | b ^ c & d"), "(a | (b ^ (c & d)))");
  EXPECT_EQ(shapeOf("a < b | c"), "(a < (b | c))");
  EXPECT_EQ(shapeOf("not a < b"), "(not (a < b))");
  EXPECT_EQ(shapeOf("not a and b"), "((not a) and b)");
  EXPECT_EQ(shapeOf("a or b and c"), "(a or (b and c))");
  EXPECT_EQ(shapeOf("a and b or c and d"), "((a and b) or (c and d))");
  EXPECT_EQ(shapeOf("a if c else b"), "(a if c else b)");
  EXPECT_EQ(shapeOf("a + 1 if c or d else b if e else f"),
            "((a + 1) if (c or d) else (b if e else f))");
  EXPECT_EQ(shapeOf("(a + b) * c"), "((a + b) * c)");
  EXPECT_EQ(shapeOf("a == b"), "(a == b)");
  EXPECT_EQ(shapeOf("a != b >= c"), "error: 1:12: comparisons cannot be chained; combine them "
                                     "with 'and'");
  EXPECT_EQ(shapeOf("T.x(a)[1].y"), "T.x(a)[1].y");
  EXPECT_EQ(shapeOf("-T.f(a) ** 2"), "(-(T.f(a) ** 2))");
}

TEST(Parser, ExprToStringKeepsNeededParentheses) {
  Parsed p = parseText("X = (a + b) * c - (d - e) + -(f ** g) ** h + (-2) ** 2\n");
  ASSERT_TRUE(p.errors.empty());
  EXPECT_EQ(exprToString(*p.module->constants[0].value),
            "(a + b) * c - (d - e) + -(f ** g) ** h + (-2) ** 2");
}

TEST(Parser, Literals) {
  Parsed p = parseText("A = 0x10\nB = 1.5e3\nC = True\nD = 'x' \"y\"\nE = range\n");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0];
  auto &c = p.module->constants;
  EXPECT_EQ(dyn_cast<IntLitExpr>(c[0].value.get())->value, 16);
  EXPECT_EQ(dyn_cast<FloatLitExpr>(c[1].value.get())->value, 1500.0);
  EXPECT_TRUE(dyn_cast<BoolLitExpr>(c[2].value.get())->value);
  EXPECT_EQ(dyn_cast<StringLitExpr>(c[3].value.get())->value, "xy");
  EXPECT_EQ(dyn_cast<NameExpr>(c[4].value.get())->name, "range");
}

TEST(Parser, TuplesAndSlices) {
  EXPECT_EQ(shapeOf("(n,)"), "(n,)");
  EXPECT_EQ(shapeOf("(a, b,)"), "(a, b)");
  EXPECT_EQ(shapeOf("()"), "()");
  EXPECT_EQ(shapeOf("(a)"), "a");
  EXPECT_EQ(shapeOf("x[a:b, c, :d, e:, :]"), "x[a : b, c, :d, e:, :]");
  Parsed p = parseText("X = x[1:, i]\n");
  const auto *sub = dyn_cast<SubscriptExpr>(p.module->constants[0].value.get());
  ASSERT_TRUE(sub);
  ASSERT_EQ(sub->indices.size(), 2u);
  const auto *slice = dyn_cast<SliceExpr>(sub->indices[0].get());
  ASSERT_TRUE(slice);
  EXPECT_TRUE(slice->lower);
  EXPECT_FALSE(slice->upper);
}

TEST(Parser, CallsAndAttributes) {
  Parsed p = parseText("X = T.gemm(a, b, c, transpose_B=True, policy=T.GemmWarpPolicy.Square,)\n");
  ASSERT_TRUE(p.errors.empty());
  const auto *call = dyn_cast<CallExpr>(p.module->constants[0].value.get());
  ASSERT_TRUE(call);
  EXPECT_EQ(call->calleeName(), "T.gemm");
  EXPECT_EQ(call->args.size(), 3u);
  ASSERT_EQ(call->kwargs.size(), 2u);
  const auto *policy = dyn_cast<AttributeExpr>(call->kwarg("policy")->value.get());
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->dottedName(), "T.GemmWarpPolicy.Square");
  Parsed q = parseText("X = f(a)(b)\nY = f(a).b\n");
  EXPECT_EQ(dyn_cast<CallExpr>(q.module->constants[0].value.get())->calleeName(), "");
  EXPECT_EQ(dyn_cast<AttributeExpr>(q.module->constants[1].value.get())->dottedName(), "");
}

TEST(Parser, Statements) {
  Parsed p = parseText(kernel("        x = A[0]\n"
                              "        A[bx] = 1\n"
                              "        A[0] += 1\n        A[0] -= 1\n        A[0] *= 2\n"
                              "        A[0] /= 2\n"
                              "        T.clear(A)\n"
                              "        pass\n"
                              "        for i, j in T.Parallel(4, 4):\n            pass\n"
                              "        for (i, j) in T.Parallel(4, 4):\n            pass\n"
                              "        for k in range(0, 8, 2):\n            pass\n"
                              "        if a:\n            pass\n"
                              "        elif b:\n            pass\n"
                              "        elif c:\n            pass\n"
                              "        else:\n            pass\n"));
  ASSERT_TRUE(p.errors.empty()) << p.errors[0];
  const Block &b = kernelBody(p);
  ASSERT_EQ(b.size(), 12u);
  EXPECT_TRUE(isa<NameExpr>(dyn_cast<AssignStmt>(b[0].get())->target.get()));
  EXPECT_TRUE(isa<SubscriptExpr>(dyn_cast<AssignStmt>(b[1].get())->target.get()));
  EXPECT_EQ(dyn_cast<AugAssignStmt>(b[2].get())->op, BinaryOp::Add);
  EXPECT_EQ(dyn_cast<AugAssignStmt>(b[3].get())->op, BinaryOp::Sub);
  EXPECT_EQ(dyn_cast<AugAssignStmt>(b[4].get())->op, BinaryOp::Mul);
  EXPECT_EQ(dyn_cast<AugAssignStmt>(b[5].get())->op, BinaryOp::Div);
  EXPECT_TRUE(isa<ExprStmt>(b[6].get()));
  EXPECT_TRUE(isa<PassStmt>(b[7].get()));
  const auto *f = dyn_cast<ForStmt>(b[8].get());
  ASSERT_TRUE(f);
  ASSERT_EQ(f->vars.size(), 2u);
  EXPECT_EQ(f->vars[1].name, "j");
  EXPECT_EQ(f->vars[1].loc.col, 16u);
  EXPECT_EQ(dyn_cast<ForStmt>(b[9].get())->vars.size(), 2u);
  const auto *i = dyn_cast<IfStmt>(b[11].get());
  ASSERT_TRUE(i);
  EXPECT_FALSE(i->isElif);
  ASSERT_EQ(i->elseBody.size(), 1u);
  const auto *elif1 = dyn_cast<IfStmt>(i->elseBody[0].get());
  ASSERT_TRUE(elif1);
  EXPECT_TRUE(elif1->isElif);
  const auto *elif2 = dyn_cast<IfStmt>(elif1->elseBody.at(0).get());
  ASSERT_TRUE(elif2);
  EXPECT_TRUE(elif2->isElif);
  ASSERT_EQ(elif2->elseBody.size(), 1u);
  EXPECT_TRUE(isa<PassStmt>(elif2->elseBody[0].get()));
}

TEST(Parser, ModuleConstantsAndOrder) {
  Parsed p = parseText("A = 1\nB: int = A * 2\nD: T.dtype_name = 3\n"
                       "@T.kernel\ndef k(x: T.Tensor[(N,), T.f32]):\n    pass\nC: float = 1.0\n");
  EXPECT_EQ(p.errors.at(0), "3:4: unknown dtype 'T.dtype_name'");
  Parsed q = parseText("A = 1\nB: int = A * 2\n"
                       "@T.kernel\ndef k(x: T.Tensor[(N,), T.f32]):\n    pass\nC: float = 1.0\n");
  ASSERT_TRUE(q.errors.empty());
  EXPECT_EQ(q.module->constants.size(), 3u);
  EXPECT_EQ(q.module->kernels.size(), 1u);
  EXPECT_EQ(q.module->order, (std::vector<bool>{true, true, false, true}));
  EXPECT_TRUE(q.module->constants[1].type.has_value());
}

TEST(Parser, CompileParamsAndScalarParams) {
  Parsed p = parseText("@T.kernel\ndef k[N: int, dt: T.dtype = T.bf16, f: float = 0.5,\n"
                       "      b: bool = False,](A: T.Tensor[(M, N * 2), dt], eps: T.float32,\n"
                       "      n: int,):\n    pass\n");
  ASSERT_TRUE(p.errors.empty()) << p.errors[0];
  const KernelDef &k = p.module->kernels[0];
  ASSERT_EQ(k.compileParams.size(), 4u);
  EXPECT_EQ(k.compileParams[0].defaultValue, nullptr);
  EXPECT_EQ(exprToString(*k.compileParams[1].type.elementType), "T.dtype");
  ASSERT_EQ(k.params.size(), 3u);
  EXPECT_EQ(exprToString(*k.params[0].type.dims[1]), "N * 2");
  EXPECT_EQ(exprToString(*k.params[0].type.elementType), "dt");
  EXPECT_FALSE(k.params[1].type.isTensor);
  EXPECT_EQ(exprToString(*k.params[2].type.elementType), "int");
}

TEST(Parser, SyntaxErrors) {
  EXPECT_EQ(firstError(kernel("        for i in range(4)\n            pass\n")),
            "4:26: expected ':' after the for header");
  EXPECT_EQ(firstError(kernel("        if x\n            pass\n")),
            "4:13: expected ':' after the if condition");
  EXPECT_EQ(firstError(kernel("        for i in range(4):\n        pass\n")),
            "5:9: expected an indented block after the 'for' statement on line 4");
  EXPECT_EQ(firstError(kernel("        x = 1\n        x += 1\n")),
            "5:9: cannot rebind 'x'; use a T.alloc_local buffer");
  EXPECT_EQ(firstError(kernel("        x = )\n")), "4:13: unmatched ')'");
  EXPECT_EQ(firstError(kernel("        x = f(1, 2]\n")),
            "4:19: closing ']' does not match '('");
  EXPECT_EQ(firstError(kernel("        x = f(1,\n")), "4:14: '(' was never closed");
  EXPECT_EQ(firstError(kernel("        x = 1 2\n")), "4:15: unexpected token '2'");
  EXPECT_EQ(firstError(kernel("        x = \n")),
            "4:13: expected an expression, found end of line");
  EXPECT_EQ(firstError(kernel("        x = a if b\n")),
            "4:19: expected 'else' in the conditional expression, found end of line");
  EXPECT_EQ(firstError(kernel("        while x:\n            pass\n")),
            "4:9: 'while' is not supported in .tl");
  EXPECT_EQ(firstError(kernel("        if a:\n            pass\n        else if b:\n"
                              "            pass\n")),
            "6:14: expected ':' after 'else'; write 'elif' for an else-if");
  EXPECT_EQ(firstError(kernel("        else:\n            pass\n")),
            "4:9: 'else' without a matching 'if'");
  EXPECT_EQ(firstError(kernel("        x = [1]\n")),
            "4:13: lists are not supported; use a tuple such as (a, b)");
  EXPECT_EQ(firstError(kernel("        T.copy(a:b, c)\n")),
            "4:17: slices are only allowed inside subscripts");
  EXPECT_EQ(firstError(kernel("        x = a[1:2:3]\n")), "4:18: slice steps are not supported");
  EXPECT_EQ(firstError(kernel("        x = a[]\n")), "4:15: expected an index between '[' and ']'");
  EXPECT_EQ(firstError(kernel("        f(a=1, 2)\n")),
            "4:16: positional argument follows keyword argument");
  EXPECT_EQ(firstError(kernel("        f(a=1, a=2)\n")), "4:16: keyword argument 'a' is given twice");
  EXPECT_EQ(firstError(kernel("        A[0] //= 2\n")),
            "4:14: augmented assignment '//=' is not supported; use +=, -=, *= or /=");
  EXPECT_EQ(firstError(kernel("        a, b = 1, 2\n")),
            "4:10: unexpected ','; bare tuples and tuple assignment are not supported");
  EXPECT_EQ(firstError(kernel("        f(x) = 1\n")), "4:9: cannot assign to a function call");
  EXPECT_EQ(firstError(kernel("        range = 1\n")), "4:9: cannot assign to 'range'");
  EXPECT_EQ(firstError(kernel("        x: float = 1.0\n")),
            "4:10: type annotations on local names are not supported; a name takes the type "
            "of its value");
  EXPECT_EQ(firstError(kernel("        x := 1\n")),
            "4:11: ':=' is not supported; assign with '=' on a line of its own");
  EXPECT_EQ(firstError(kernel("        x = y = 1\n")),
            "4:15: unexpected '='; chained assignment is not supported");
  EXPECT_EQ(firstError(kernel("        x = 1\n          y = 2\n")), "5:11: unexpected indent");
  EXPECT_EQ(firstError(kernel("        if x: pass\n")),
            "4:15: expected a new line after ':'; the body of the 'if' statement goes on the "
            "following lines, indented");
  EXPECT_EQ(firstError("@foo\ndef k():\n    pass\n"),
            "1:2: unknown decorator '@foo'; use @T.kernel or @T.macro");
  EXPECT_EQ(firstError("def k():\n    pass\n"),
            "1:1: a kernel needs the @T.kernel decorator on the line before 'def'");
  EXPECT_EQ(firstError("@T.kernel\nx = 1\n"), "2:1: expected 'def' after @T.kernel, found 'x'");
  EXPECT_EQ(firstError("@T.kernel\ndef k[]():\n    pass\n"),
            "2:7: empty compile-time parameter list; drop the '[]'");
  EXPECT_EQ(firstError("@T.kernel\ndef k[BM = 4]():\n    pass\n"),
            "2:10: expected ':' and a type (int, float, bool or T.dtype) after compile-time "
            "parameter 'BM', found '='");
  EXPECT_EQ(firstError("@T.kernel\ndef k(A: T.Tensor[M, T.f32]):\n    pass\n"),
            "2:19: a tensor shape is a parenthesised tuple such as (M, K) or (N,)");
  EXPECT_EQ(firstError("@T.kernel\ndef k(A: T.Tensor):\n    pass\n"),
            "2:10: T.Tensor needs a shape and a dtype: T.Tensor[(M, K), T.bfloat16]");
  EXPECT_EQ(firstError("@T.kernel\ndef k(n: int = 3):\n    pass\n"),
            "2:14: parameter 'n' cannot have a default; make it a compile-time parameter in "
            "[...]");
  EXPECT_EQ(firstError("@T.kernel\ndef k()\n    pass\n"),
            "2:8: expected ':' after the kernel signature");
  EXPECT_EQ(firstError("x = (1 +\n"), "1:5: '(' was never closed");
  EXPECT_EQ(firstError("for i in range(3):\n    pass\n"),
            "1:1: 'for' statements are only allowed inside a kernel");
  EXPECT_EQ(firstError(kernel("        with T.Kernel(1) as b:\n            pass\n").substr(0) +
                       "    with T.Foo(1) as b:\n        pass\n"),
            "6:10: only 'with T.Kernel(...)' and 'with T.no_bounds_check()' are supported, not 'T.Foo'");
  EXPECT_EQ(firstError(kernel("        for i in 4:\n            pass\n")),
            "4:18: expected a loop such as range(n), T.serial(n), T.Pipelined(n, num_stages=s) "
            "or T.Parallel(m, n) after 'in'");
}

TEST(Parser, RecoversAndReportsSeveralErrors) {
  Parsed p = parseText(kernel("        x = = 1\n"
                              "        y = 2\n"
                              "        for i in range(3)\n"
                              "            z += 1\n"
                              "        q = (1, 2\n"));
  ASSERT_EQ(p.errors.size(), 4u);
  EXPECT_EQ(p.errors[0], "4:13: expected an expression, found '='");
  EXPECT_EQ(p.errors[1], "6:26: expected ':' after the for header");
  EXPECT_EQ(p.errors[2], "7:13: cannot rebind 'z'; use a T.alloc_local buffer");
  EXPECT_EQ(p.errors[3], "8:13: '(' was never closed");
  // The good statement between the errors is still in the tree.
  ASSERT_FALSE(kernelBody(p).empty());
}

TEST(Parser, RecoversAfterAnUnclosedBracket) {
  Parsed p = parseText(kernel("        acc = T.alloc_fragment((4, 4), T.float32\n"
                              "        for k in range(4)\n"
                              "            T.clear(acc)\n"
                              "        acc += 1\n"));
  ASSERT_EQ(p.errors.size(), 3u);
  EXPECT_EQ(p.errors[0], "4:31: '(' was never closed");
  EXPECT_EQ(p.errors[1], "5:26: expected ':' after the for header");
  EXPECT_EQ(p.errors[2], "7:9: cannot rebind 'acc'; use a T.alloc_local buffer");
}

TEST(Parser, RecoversAcrossKernels) {
  Parsed p = parseText("@T.kernel\ndef 1():\n    pass\n"
                       "@T.kernel\ndef b():\n    x = $\n"
                       "@T.kernel\ndef c():\n    pass\n");
  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0], "2:5: expected a kernel name after 'def', found '1'");
  EXPECT_EQ(p.errors[1], "6:9: unexpected character '$'");
  ASSERT_EQ(p.module->kernels.size(), 2u);
  EXPECT_EQ(p.module->kernels[0].name, "b");
  EXPECT_EQ(p.module->kernels[1].name, "c");
}

TEST(Parser, LexerAndParserErrorsComeInSourceOrder) {
  Parsed p = parseText("A = )\nB = $\nC = (\n");
  ASSERT_EQ(p.errors.size(), 3u);
  EXPECT_EQ(p.errors[0], "1:5: unmatched ')'");
  EXPECT_EQ(p.errors[1], "2:5: unexpected character '$'");
  EXPECT_EQ(p.errors[2], "3:5: '(' was never closed");
}

TEST(Parser, NestingLimit) {
  std::string deep = std::string(1000, '(') + "1" + std::string(1000, ')');
  Parsed p = parseText("X = " + deep + "\nY = 2\n");
  ASSERT_FALSE(p.errors.empty());
  EXPECT_NE(p.errors[0].find("expression nested too deeply"), std::string::npos);
  EXPECT_EQ(p.module->constants.size(), 1u); // Y survives
  EXPECT_NE(firstError("X = " + std::string(5000, '-') + "1\n").find("nested too deeply"),
            std::string::npos);
  EXPECT_NE(firstError("X = " + std::string(5000, '[') + "\n").find("lists are not supported"),
            std::string::npos);
  std::string pow = "X = 2";
  for (int i = 0; i < 2000; ++i)
    pow += " ** 2";
  EXPECT_NE(firstError(pow + "\n").find("nested too deeply"), std::string::npos);
  // 150 levels are fine.
  EXPECT_EQ(firstError("X = " + std::string(150, '(') + "1" + std::string(150, ')') + "\n"),
            "<no error>");
  // Deeply nested blocks.
  std::string blocks = "@T.kernel\ndef k():\n";
  for (int i = 1; i <= 300; ++i)
    blocks += std::string(i, ' ') + "if x:\n";
  blocks += std::string(301, ' ') + "pass\n";
  EXPECT_NE(firstError(blocks).find("blocks nested too deeply"), std::string::npos);
}

TEST(Parser, LongChainsAreBounded) {
  // A chain builds a tree as deep as it is long; later passes recurse on it.
  auto chain = [](const char *link, int n) {
    std::string text = "X = a";
    for (int i = 0; i < n; ++i)
      text += link;
    return firstError(text + "\n");
  };
  EXPECT_EQ(chain(" + 1", 150), "<no error>");
  EXPECT_NE(chain(" + 1", 50000).find("expression too long or nested too deeply"),
            std::string::npos);
  EXPECT_NE(chain(" and b", 5000).find("expression too long"), std::string::npos);
  EXPECT_NE(chain(".b", 5000).find("expression too long"), std::string::npos);
  EXPECT_NE(chain("(1)", 5000).find("nested too deeply"), std::string::npos);
  EXPECT_NE(chain("[0]", 5000).find("nested too deeply"), std::string::npos);
  std::string elifs = kernel("        if a:\n            pass\n");
  for (int i = 0; i < 150; ++i)
    elifs += "        elif a:\n            pass\n";
  EXPECT_NE(firstError(elifs).find("blocks nested too deeply"), std::string::npos);
}

TEST(Parser, LongFlatInputsAreFine) {
  std::string body = kernel("");
  for (int i = 0; i < 5000; ++i)
    body += "        A[" + std::to_string(i) + "] = T.f(" + std::to_string(i) + ")\n";
  Parsed p = parseText(body);
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(kernelBody(p).size(), 5000u);
}

TEST(Parser, ErrorCountIsBounded) {
  std::string text;
  for (int i = 0; i < 500; ++i)
    text += "x = )\n";
  Parsed p = parseText(text);
  EXPECT_GT(p.numErrors, DiagnosticEngine::kMaxErrors);
  EXPECT_LE(p.errors.size(), static_cast<size_t>(DiagnosticEngine::kMaxErrors));
}

} // namespace
