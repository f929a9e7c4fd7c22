// Unit tests of semantic analysis: every example analyses, constant folding
// with Python semantics, -D overrides, dtype promotion, regions, the
// shared-memory budget and kernel selection.
#include "tlc/Frontend/Parser.h"
#include "tlc/Frontend/Sema.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace tlc;

namespace {

struct Analysed {
  std::unique_ptr<SourceFile> file;
  std::unique_ptr<Module> module;
  SemaResult result;
  std::vector<std::string> errors; // "line:col: message"
  bool ok = false;
};

std::unique_ptr<Analysed> analyzeText(const std::string &text, SemaOptions options = {}) {
  auto a = std::make_unique<Analysed>();
  a->file = std::make_unique<SourceFile>("t.tl", text);
  DiagnosticEngine diags(*a->file);
  a->module = parseModule(*a->file, diags);
  EXPECT_FALSE(diags.hasErrors()) << "parse error in test input";
  if (!a->module || diags.hasErrors())
    return a;
  a->ok = analyze(*a->module, options, diags, a->result);
  for (const Diagnostic &d : diags.diagnostics())
    if (d.severity == Severity::Error)
      a->errors.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " +
                          d.message);
  return a;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const Symbol *constant(const Analysed &a, const std::string &name) {
  for (const ConstantDef &c : a.module->constants)
    if (c.name == name)
      return c.symbol;
  return nullptr;
}

/// The value Sema gave the name bound by `name = ...` in the kernel body.
const SemaValue *bound(const Analysed &a, const std::string &name) {
  for (const auto &sym : a.result.symbols)
    if (sym->name == name && sym->kind != SymbolKind::Constant)
      return &sym->value;
  return nullptr;
}

std::string kernelWith(const std::string &body, const std::string &params = "",
                       const std::string &cparams = "") {
  return "@T.kernel\ndef k" + cparams + "(A: T.Tensor[(M, 64), T.float32]" + params +
         "):\n    with T.Kernel(4, threads=128) as bx:\n" + body;
}

TEST(Sema, EveryExampleAnalyses) {
  for (const char *name : {"gemm_bf16", "gemm_fp8_blockscaled", "gemm_fp8_mx", "gemm_fp4_fp8",
                           "act_quant_fp8", "fp4_dequant", "rmsnorm", "softmax", "flash_attn_fwd"}) {
    std::string path = std::string(TLC_TEST_SOURCE_DIR) + "/../examples/" + name + ".tl";
    for (const char *target : {"sm_90a", "sm_100a", "cpu"}) {
      SemaOptions o;
      o.target = target;
      if (o.target == "cpu")
        o.sharedMemoryBudget = 0;
      auto a = analyzeText(readFile(path), o);
      EXPECT_TRUE(a->ok) << name << " " << target << ": "
                         << (a->errors.empty() ? "" : a->errors[0]);
      ASSERT_EQ(a->result.kernels.size(), 1u) << name;
      EXPECT_NE(a->result.kernels[0].launch, nullptr);
    }
  }
}

TEST(Sema, BlockScaledExamplesFollowArch) {
  // 256 threads on both; tensor memory on sm_100a, two extra bf16 tiles in
  // shared memory on sm_90a.
  for (const char *name : {"gemm_fp8_mx", "gemm_fp4_fp8"}) {
    std::string text = readFile(std::string(TLC_TEST_SOURCE_DIR) + "/../examples/" + name + ".tl");
    bool fp4 = std::string(name) == "gemm_fp4_fp8";
    int64_t operands = 128 * 128 + 128 * 128 / (fp4 ? 2 : 1) + 2 * 128 * 4;
    SemaOptions bw;
    bw.target = "sm_100a";
    auto b = analyzeText(text, bw);
    ASSERT_TRUE(b->ok) << name;
    EXPECT_EQ(b->result.kernels[0].threads, 256) << name;
    EXPECT_EQ(b->result.kernels[0].sharedMemoryBytes, operands) << name;
    SemaOptions h;
    h.target = "cpu";
    h.arch = "sm_90a";
    auto a = analyzeText(text, h);
    ASSERT_TRUE(a->ok) << name;
    EXPECT_EQ(a->result.kernels[0].threads, 256) << name;
    EXPECT_EQ(a->result.kernels[0].sharedMemoryBytes, operands + 2 * 128 * 128 * 2) << name;
  }
}

TEST(Sema, GemmExampleKernelInfo) {
  auto a = analyzeText(readFile(std::string(TLC_TEST_SOURCE_DIR) + "/../examples/gemm_bf16.tl"));
  ASSERT_TRUE(a->ok);
  const KernelInfo &k = a->result.kernels[0];
  EXPECT_EQ(k.threads, 256);
  EXPECT_EQ(k.sharedMemoryBytes, 2 * 128 * 64 * 2);
  ASSERT_EQ(k.dynamicDims.size(), 3u);
  EXPECT_EQ(k.dynamicDims[0]->name, "M");
  EXPECT_EQ(k.dynamicDims[1]->name, "K");
  EXPECT_EQ(k.dynamicDims[2]->name, "N");
  EXPECT_EQ(k.dynamicDims[2]->boundByParam, 1);
  EXPECT_EQ(k.dynamicDims[2]->boundByDim, 0);
  EXPECT_EQ(std::get<int64_t>(k.compileParams.at("stages")), 3);
}

TEST(Sema, ConstantsFoldWithPythonSemantics) {
  auto a = analyzeText("A = -7 // 2\nB = -7 % 3\nC = 7 % -3\nD = T.ceildiv(10, 4)\n"
                       "E = T.max(3, 2.5)\nF = 2 ** 10\nG = 1 << 4\nH = 7.0 // 2\n"
                       "I = -7.5 % 2\nJ = T.min(-1, 4) * 3\nK = 3 if A < 0 else 4\n"
                       "L = not (True and False)\nM2 = T.ceildiv(-7, 2)\n");
  ASSERT_TRUE(a->ok) << (a->errors.empty() ? "" : a->errors[0]);
  auto i = [&](const char *n) { return std::get<int64_t>(*constant(*a, n)->value.constant); };
  auto d = [&](const char *n) { return std::get<double>(*constant(*a, n)->value.constant); };
  EXPECT_EQ(i("A"), -4);
  EXPECT_EQ(i("B"), 2);
  EXPECT_EQ(i("C"), -2);
  EXPECT_EQ(i("D"), 3);
  EXPECT_EQ(i("E"), 3);
  EXPECT_EQ(i("F"), 1024);
  EXPECT_EQ(i("G"), 16);
  EXPECT_DOUBLE_EQ(d("H"), 3.0);
  EXPECT_DOUBLE_EQ(d("I"), 0.5);
  EXPECT_EQ(i("J"), -3);
  EXPECT_EQ(i("K"), 3);
  EXPECT_TRUE(std::get<bool>(*constant(*a, "L")->value.constant));
  EXPECT_EQ(i("M2"), -3);
}

TEST(Sema, ConstantErrorsPointAtTheOperator) {
  auto a = analyzeText("A = 1 // 0\nB = 9223372036854775807 + 1\nC = 3 / 2\nD = 2.0 % 0.0\n"
                       "E = 1 << 64\n");
  EXPECT_FALSE(a->ok);
  ASSERT_EQ(a->errors.size(), 5u);
  EXPECT_EQ(a->errors[0], "1:7: division by zero in constant expression 1 // 0");
  EXPECT_EQ(a->errors[1].rfind("2:25: integer overflow", 0), 0u) << a->errors[1];
  EXPECT_EQ(a->errors[2].rfind("3:7: '/' is not defined on integers", 0), 0u) << a->errors[2];
  EXPECT_EQ(a->errors[3].rfind("4:9: division by zero", 0), 0u) << a->errors[3];
  EXPECT_EQ(a->errors[4].rfind("5:7: shift count 64", 0), 0u) << a->errors[4];
}

TEST(Sema, DefinesAreParsedByType) {
  SemaOptions opts;
  opts.defines = {{"BM", "0x40"}, {"eps", "1e-3"}, {"flag", "False"}, {"dt", "T.bf16"},
                  {"n", "1_024"}};
  auto a = analyzeText(kernelWith("        pass\n", "",
                                  "[BM: int = 128, eps: float = 1.0, flag: bool = True, "
                                  "dt: T.dtype = T.float32, n: int = 1]"),
                       opts);
  ASSERT_TRUE(a->ok) << (a->errors.empty() ? "" : a->errors[0]);
  const auto &p = a->result.kernels[0].compileParams;
  EXPECT_EQ(std::get<int64_t>(p.at("BM")), 64);
  EXPECT_DOUBLE_EQ(std::get<double>(p.at("eps")), 1e-3);
  EXPECT_FALSE(std::get<bool>(p.at("flag")));
  EXPECT_EQ(std::get<DType>(p.at("dt")), DType::BF16);
  EXPECT_EQ(std::get<int64_t>(p.at("n")), 1024);
}

TEST(Sema, BadDefinesAndMissingParameters) {
  SemaOptions opts;
  opts.defines = {{"BM", "12x"}, {"nope", "3"}};
  auto a = analyzeText(kernelWith("        pass\n", "", "[BM: int = 128, BN: int]"), opts);
  EXPECT_FALSE(a->ok);
  ASSERT_EQ(a->errors.size(), 3u);
  EXPECT_NE(a->errors[0].find("no compile-time parameter named 'nope'"), std::string::npos);
  EXPECT_NE(a->errors[1].find("-D BM=12x: expected an int"), std::string::npos);
  EXPECT_NE(a->errors[2].find("'BN' has no default"), std::string::npos);
}

TEST(Sema, DtypePromotion) {
  auto a = analyzeText(kernelWith(
      "        x = T.alloc_fragment((4,), T.bfloat16)\n"
      "        y = T.alloc_fragment((4,), T.float32)\n"
      "        h = T.alloc_fragment((4,), T.float16)\n"
      "        q = T.alloc_fragment((4,), T.int32)\n"
      "        v1 = x[0] + y[0]\n"
      "        v2 = x[0] * 2\n"
      "        v3 = h[0] + x[0]\n"
      "        v4 = bx + 1.5\n"
      "        v5 = q[0] + bx\n"
      "        v6 = bx * 4 + 1\n"
      "        v7 = x[0] < y[0]\n"
      "        v8 = T.cast(x[0], T.float8_e4m3)\n"
      "        v9 = T.dequantize(v8, 2.0)\n"));
  ASSERT_TRUE(a->ok) << (a->errors.empty() ? "" : a->errors[0]);
  auto is = [&](const char *n, SemaValue::Kind k, DType t) {
    const SemaValue *v = bound(*a, n);
    ASSERT_NE(v, nullptr) << n;
    EXPECT_EQ(v->kind, k) << n;
    if (k != SemaValue::Index)
      EXPECT_EQ(v->dtype, t) << n << ": " << dtypeName(v->dtype);
  };
  is("v1", SemaValue::Scalar, DType::F32);
  is("v2", SemaValue::Scalar, DType::BF16);
  is("v3", SemaValue::Scalar, DType::F32);
  is("v4", SemaValue::Scalar, DType::F32);
  is("v5", SemaValue::Scalar, DType::I32);
  is("v6", SemaValue::Index, DType::I32);
  is("v7", SemaValue::Scalar, DType::Bool);
  is("v8", SemaValue::Scalar, DType::F8E4M3);
  is("v9", SemaValue::Scalar, DType::F32);
}

TEST(Sema, NarrowFloatArithmeticNeedsCast) {
  auto a = analyzeText(kernelWith("        q = T.alloc_fragment((4,), T.float8_e5m2)\n"
                                  "        v = q[0] + 1.0\n"));
  EXPECT_FALSE(a->ok);
  ASSERT_EQ(a->errors.size(), 1u);
  EXPECT_EQ(a->errors[0], "5:13: operator '+': float8_e5m2 values must be converted with T.cast "
                          "before arithmetic");
}

TEST(Sema, RegionsTakeTheOtherOperandsShape) {
  auto a = analyzeText(
      "@T.kernel\ndef k(X: T.Tensor[(B, S, 64), T.bfloat16]):\n"
      "    with T.Kernel(4, threads=128) as bx:\n"
      "        s = T.alloc_shared((32, 64), T.bfloat16)\n"
      "        r = T.alloc_shared((32,), T.bfloat16)\n"
      "        T.copy(X[bx, bx * 32, 0], s)\n"
      "        T.copy(X[bx, bx * 32 + 1 : bx * 32 + 33, 5], r)\n");
  ASSERT_TRUE(a->ok) << (a->errors.empty() ? "" : a->errors[0]);
  std::vector<const RegionInfo *> regions;
  for (const auto &[e, info] : a->result.regions)
    if (info.buffer->scope == MemScope::Global)
      regions.push_back(&info);
  ASSERT_EQ(regions.size(), 2u);
  for (const RegionInfo *r : regions) {
    if (r->kept[1] && r->kept[2]) {
      EXPECT_EQ(r->sizes, (std::vector<int64_t>{1, 32, 64}));
      EXPECT_FALSE(r->kept[0]);
    } else {
      EXPECT_EQ(r->sizes, (std::vector<int64_t>{1, 32, 1}));
      EXPECT_EQ(r->shape(), (std::vector<int64_t>{32}));
    }
  }
}

TEST(Sema, SliceExtentsMustBeConstant) {
  auto a = analyzeText(kernelWith("        s = T.alloc_shared((32, 64), T.float32)\n"
                                  "        T.copy(A[bx : 2 * bx, 0:64], s)\n"));
  EXPECT_FALSE(a->ok);
  ASSERT_EQ(a->errors.size(), 1u);
  EXPECT_NE(a->errors[0].find("constant extent"), std::string::npos) << a->errors[0];
}

TEST(Sema, SharedMemoryCountsFp4AndBarriers) {
  std::string body = "        a = T.alloc_shared((64, 256), T.float4_e2m1)\n"
                     "        b = T.alloc_barrier(arrive_count=1, count=3)\n";
  auto a = analyzeText(kernelWith(body));
  ASSERT_TRUE(a->ok);
  EXPECT_EQ(a->result.kernels[0].sharedMemoryBytes, 64 * 256 / 2 + 3 * 8);

  SemaOptions tight;
  tight.sharedMemoryBudget = 8200;
  auto b = analyzeText(kernelWith(body), tight);
  EXPECT_FALSE(b->ok);
  ASSERT_EQ(b->errors.size(), 1u);
  EXPECT_EQ(b->errors[0], "5:13: shared memory use reaches 8216 bytes with this allocation (24 "
                          "bytes), over the budget of 8200 bytes on sm_90a");
}

TEST(Sema, KernelSelection) {
  std::string two = kernelWith("        pass\n") +
                    "\n@T.kernel\ndef other(B: T.Tensor[(N,), T.float32]):\n"
                    "    with T.Kernel(2, threads=32) as bx:\n        pass\n";
  SemaOptions opts;
  opts.kernel = "other";
  auto a = analyzeText(two, opts);
  ASSERT_TRUE(a->ok);
  ASSERT_EQ(a->result.kernels.size(), 1u);
  EXPECT_EQ(a->result.kernels[0].def->name, "other");
  EXPECT_EQ(a->result.kernels[0].threads, 32);

  opts.kernel = "missing";
  auto b = analyzeText(two, opts);
  EXPECT_FALSE(b->ok);
}

TEST(Sema, TensorMemoryOnlyOnBlackwell) {
  std::string body = "        t = T.alloc_tmem((128, 128), T.float32)\n";
  auto hopper = analyzeText(kernelWith(body));
  EXPECT_FALSE(hopper->ok);
  SemaOptions bw;
  bw.target = "sm_100a";
  auto blackwell = analyzeText(kernelWith(body), bw);
  EXPECT_TRUE(blackwell->ok);
}

TEST(Sema, TensorMemoryOnTheCpuFollowsArch) {
  std::string body = "        t = T.alloc_tmem((128, 128), T.float32)\n";
  SemaOptions cpu;
  cpu.target = "cpu";
  EXPECT_TRUE(analyzeText(kernelWith(body), cpu)->ok); // default arch sm_100a
  cpu.arch = "sm_90a";
  EXPECT_FALSE(analyzeText(kernelWith(body), cpu)->ok);
}

TEST(Sema, ArchIsAStringConstantPerTarget) {
  std::string text =
      "ARCH = T.arch\nIS_BW = T.arch == \"sm_100a\"\n" + kernelWith("        pass\n");
  struct Case {
    const char *target, *arch, *want;
  };
  for (Case c :
       {Case{"sm_90a", "", "sm_90a"}, Case{"sm_100a", "", "sm_100a"}, Case{"cpu", "", "sm_100a"},
        Case{"cpu", "sm_90a", "sm_90a"}, Case{"cpu", "sm_100a", "sm_100a"}}) {
    SemaOptions o;
    o.target = c.target;
    o.arch = c.arch;
    EXPECT_EQ(o.effectiveArch(), c.want);
    auto a = analyzeText(text, o);
    ASSERT_TRUE(a->ok) << c.target << " " << c.arch;
    const Symbol *arch = constant(*a, "ARCH");
    ASSERT_NE(arch, nullptr);
    ASSERT_TRUE(arch->value.constant.has_value());
    EXPECT_EQ(std::get<std::string>(*arch->value.constant), c.want);
    const Symbol *bw = constant(*a, "IS_BW");
    ASSERT_NE(bw, nullptr);
    EXPECT_EQ(std::get<bool>(*bw->value.constant), std::string(c.want) == "sm_100a");
  }
}

TEST(Sema, StringComparisonsFold) {
  auto a = analyzeText("X = \"a\" == \"a\"\nY = \"a\" != \"a\"\nZ = T.arch != \"sm_90a\"\n" +
                       kernelWith("        pass\n"));
  ASSERT_TRUE(a->ok) << (a->errors.empty() ? "" : a->errors[0]);
  EXPECT_EQ(std::get<bool>(*constant(*a, "X")->value.constant), true);
  EXPECT_EQ(std::get<bool>(*constant(*a, "Y")->value.constant), false);
  EXPECT_EQ(std::get<bool>(*constant(*a, "Z")->value.constant), false); // default target sm_90a
  auto bad = analyzeText("X = \"a\" < \"b\"\n" + kernelWith("        pass\n"));
  EXPECT_FALSE(bad->ok);
  auto typo = analyzeText("X = T.arch == \"sm_90\"\n" + kernelWith("        pass\n"));
  ASSERT_FALSE(typo->ok);
  EXPECT_NE(typo->errors[0].find("unknown architecture \"sm_90\""), std::string::npos)
      << typo->errors[0];
}

TEST(Sema, NamesAreBoundOnceButSiblingScopesMayReuse) {
  auto a = analyzeText(kernelWith("        for i in range(4):\n            x = i * 2\n"
                                  "        for i in range(4):\n            x = i * 3\n"));
  EXPECT_TRUE(a->ok) << (a->errors.empty() ? "" : a->errors[0]);
  auto b = analyzeText(kernelWith("        x = 1\n        if bx < 2:\n            x = 2\n"));
  EXPECT_FALSE(b->ok);
}

TEST(Sema, CallsRecordTheirBoundArguments) {
  auto a = analyzeText(kernelWith("        f = T.alloc_fragment((64, 64), T.float32)\n"
                                  "        T.copy(A[bx * 64, 0], dst=f)\n"));
  ASSERT_TRUE(a->ok) << (a->errors.empty() ? "" : a->errors[0]);
  bool found = false;
  for (const auto &[call, info] : a->result.calls)
    if (info.builtin == "T.copy") {
      found = true;
      EXPECT_NE(info.arg("src"), nullptr);
      EXPECT_NE(info.arg("dst"), nullptr);
      EXPECT_EQ(info.arg("barrier"), nullptr);
    }
  EXPECT_TRUE(found);
}

} // namespace
