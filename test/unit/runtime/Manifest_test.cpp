// Tests for tlrt/Manifest.h: a valid manifest (the docs/abi.md example),
// and one exact error message per kind of malformed field.
#include "tlrt/Manifest.h"

#include "RuntimeTestUtil.h"

#include <nlohmann/json.hpp>

using namespace tlrt;
using json = nlohmann::json;
using tlrt_test::errorOf;

namespace {

// The example of docs/abi.md, comments included (they are accepted).
const char *kAbiExample = R"json({
  "format": "tlc-manifest",
  "version": 1,
  "target": "sm_90a",                 // "sm_90a" | "sm_100a" | "cpu"
  "module": "gemm_bf16.ptx",          // code file: .ptx, .cubin or .so
  "source": "examples/gemm_bf16.tl",
  "kernels": [{
    "name": "gemm_bf16",
    "entry": "gemm_bf16",
    "constants": {"BM": 128, "BN": 128, "BK": 64, "stages": 3},
    "params": [
      {"name": "A", "kind": "tensor", "dtype": "bfloat16", "shape": ["M", "K"]},
      {"name": "C", "kind": "tensor", "dtype": "bfloat16", "shape": ["M", 4096]},
      {"name": "eps", "kind": "scalar", "dtype": "float32"}
    ],
    "threads": [256, 1, 1],
    "grid": [{"op": "ceildiv", "args": [{"dim": [0, 0]}, 128]}, 32, 1],
    "cluster": [1, 1, 1],
    "shared_bytes": 98304,
    "tma": [
      {"param": 0, "dtype": "bfloat16", "box": [128, 64], "swizzle": "128B"}
    ]
  }]
})json";

json base() {
  return json::parse(R"json({
    "format": "tlc-manifest", "version": 1, "target": "sm_90a", "module": "k.ptx",
    "kernels": [{
      "name": "k", "entry": "k_entry",
      "params": [
        {"name": "A", "kind": "tensor", "dtype": "bfloat16", "shape": ["M", "K"]},
        {"name": "S", "kind": "tensor", "dtype": "float32", "shape": ["M", "T.ceildiv(K, 128)"]},
        {"name": "n", "kind": "scalar", "dtype": "int32"}
      ],
      "threads": [128, 1, 1],
      "grid": [{"dim": [0, 0]}, {"scalar": 2}, 1]
    }]})json");
}

std::string parseError(const json &j) {
  return errorOf([&] { Manifest::parse(j.dump(), "dir/k.manifest.json"); });
}

TEST(Manifest, AbiExample) {
  Manifest m = Manifest::parse(kAbiExample, "out/gemm_bf16.manifest.json");
  EXPECT_EQ(m.target, Target::SM90a);
  EXPECT_EQ(m.module, "gemm_bf16.ptx");
  EXPECT_EQ(m.modulePath, "out/gemm_bf16.ptx");
  EXPECT_EQ(m.source, "examples/gemm_bf16.tl");
  ASSERT_EQ(m.kernels.size(), 1u);
  const KernelSpec &k = m.kernels[0];
  EXPECT_EQ(k.name, "gemm_bf16");
  EXPECT_EQ(k.constants.at("stages"), 3);
  ASSERT_EQ(k.params.size(), 3u);
  EXPECT_EQ(k.params[0].dtype, DType::BFloat16);
  EXPECT_EQ(k.params[0].dynamicDims(), 2);
  EXPECT_EQ(k.params[1].dynamicDims(), 1);
  EXPECT_TRUE(k.params[1].shape[1].fixed);
  EXPECT_EQ(k.params[1].shape[1].value, 4096);
  EXPECT_EQ(k.params[2].kind, ParamKind::Scalar);
  EXPECT_EQ(k.threads[0], 256);
  EXPECT_EQ(k.sharedBytes, 98304);
  EXPECT_FALSE(k.hasCluster());
  ASSERT_EQ(k.tma.size(), 1u);
  EXPECT_EQ(k.tma[0].swizzle, Swizzle::B128);
  EXPECT_EQ(k.tma[0].box[1], 64);
  EXPECT_EQ(k.grid[0].str(), "ceildiv(dim(param 0, 0), 128)");
  EXPECT_EQ(k.symbolSites.at("M"), std::make_pair(0, 0));
  EXPECT_EQ(k.symbolSites.at("K"), std::make_pair(0, 1));
}

TEST(Manifest, Defaults) {
  json j = base();
  Manifest m = Manifest::parse(j.dump(), "k.manifest.json");
  EXPECT_EQ(m.directory, ".");
  EXPECT_EQ(m.modulePath, "./k.ptx");
  const KernelSpec &k = m.kernels[0];
  EXPECT_EQ(k.sharedBytes, 0);
  EXPECT_EQ(k.cluster[0], 1);
  EXPECT_TRUE(k.tma.empty());
  EXPECT_EQ(k.paramIndex("S"), 1);
  EXPECT_EQ(k.paramIndex("nope"), -1);
  // cpu manifests may leave out threads.
  j["target"] = "cpu";
  j["module"] = "k.so";
  j["kernels"][0].erase("threads");
  EXPECT_EQ(Manifest::parse(j.dump(), "k.manifest.json").kernels[0].threads[0], 1);
}

TEST(Manifest, FileErrors) {
  EXPECT_EQ(errorOf([] { Manifest::load("/nonexistent/x.manifest.json"); }),
            "/nonexistent/x.manifest.json: cannot open the manifest");
  std::string e = errorOf([] { Manifest::parse("{\"format\": ", "m.json"); });
  EXPECT_EQ(e.rfind("m.json: not valid JSON: ", 0), 0u) << e;
  EXPECT_EQ(errorOf([] { Manifest::parse("[1]", "m.json"); }),
            "m.json: expected a JSON object, got an array");
}

struct Case {
  const char *pointer; // JSON pointer to change
  json value;          // new value (null with erase = true removes it)
  bool erase;
  const char *message; // after "dir/k.manifest.json: "
};

TEST(Manifest, MalformedFields) {
  const Case cases[] = {
      {"/format", "tl", false, "format: expected \"tlc-manifest\", got \"tl\""},
      {"/format", nullptr, true, "format: missing"},
      {"/version", 2, false, "version: unsupported version 2 (this runtime reads version 1)"},
      {"/version", "1", false, "version: expected an integer, got a string"},
      {"/target", "sm_80", false, "target: unknown target 'sm_80' (expected sm_90a, sm_100a or cpu)"},
      {"/module", "", false, "module: empty"},
      {"/module", "k.so", false,
       "module: a sm_90a module must be a .ptx, .cubin or .fatbin file, got 'k.so'"},
      {"/kernels", json::array(), false, "kernels: no kernels"},
      {"/kernels", json::object(), false, "kernels: expected an array, got an object"},
      {"/kernels/0/name", 3, false, "kernels[0].name: expected a string, got an integer"},
      {"/kernels/0/entry", nullptr, true, "kernels[0].entry: missing"},
      {"/kernels/0/constants", json{{"BM", "x"}}, false,
       "kernels[0].constants.BM: expected a number or boolean, got a string"},
      {"/kernels/0/params/0/kind", "buffer", false,
       "kernels[0].params[0].kind: unknown kind 'buffer' (expected tensor or scalar)"},
      {"/kernels/0/params/0/dtype", "bf16", false,
       "kernels[0].params[0].dtype: unknown dtype 'bf16' (expected one of bfloat16 float16 "
       "float32 int8 uint8 uint16 int32 uint32 int64 uint64 bool float8_e4m3 float8_e5m2 "
       "float4_e2m1 ue8m0)"},
      {"/kernels/0/params/0/shape", json::array(), false,
       "kernels[0].params[0].shape: a tensor needs at least one dimension"},
      {"/kernels/0/params/0/shape/1", -3, false,
       "kernels[0].params[0].shape[1]: a dimension must not be negative, got -3"},
      {"/kernels/0/params/0/shape/1", 1.5, false,
       "kernels[0].params[0].shape[1]: expected an integer, got a floating-point number"},
      {"/kernels/0/params/1/shape/1", "K / 128", false,
       "kernels[0].params[1].shape[1]: bad shape expression 'K / 128': '/' is not allowed (use "
       "'//' for floor division) at column 3"},
      {"/kernels/0/params/1/shape/1", "Q // 2", false,
       "kernels[0].params[1].shape[1]: symbol 'Q' in 'Q // 2' never occurs as a plain "
       "dimension, so no argument binds it"},
      {"/kernels/0/params/1/name", "A", false, "kernels[0].params[1].name: duplicate parameter 'A'"},
      {"/kernels/0/params/2/shape", json::array({1}), false,
       "kernels[0].params[2].shape: a scalar parameter has no shape"},
      {"/kernels/0/params/2/dtype", "float8_e4m3", false,
       "kernels[0].params[2].dtype: dtype float8_e4m3 cannot be a scalar parameter"},
      {"/kernels/0/threads", json::array({1024, 2, 1}), false,
       "kernels[0].threads: 2048 threads per block exceed the limit of 1024"},
      {"/kernels/0/threads", json::array({0, 1, 1}), false,
       "kernels[0].threads[0]: must be at least 1, got 0"},
      {"/kernels/0/threads", nullptr, true, "kernels[0].threads: missing"},
      {"/kernels/0/grid", json::array({1, 1}), false, "kernels[0].grid: expected 3 entries, got 2"},
      {"/kernels/0/grid/0", json{{"dim", {5, 0}}}, false,
       "kernels[0].grid[0].dim[0]: parameter index 5 out of range (kernel has 3)"},
      {"/kernels/0/grid/0", json{{"dim", {0, 2}}}, false,
       "kernels[0].grid[0].dim[1]: dimension 2 out of range for 'A' of rank 2"},
      {"/kernels/0/grid/0", json{{"dim", {2, 0}}}, false,
       "kernels[0].grid[0].dim[0]: parameter 2 ('n') is not a tensor"},
      {"/kernels/0/grid/1", json{{"scalar", 0}}, false,
       "kernels[0].grid[1].scalar: parameter 0 ('A') is not an integer scalar"},
      {"/kernels/0/grid/1", json{{"op", "pow"}, {"args", {1, 2}}}, false,
       "kernels[0].grid[1].op: unknown op 'pow' (expected add sub mul floordiv ceildiv rem max "
       "min)"},
      {"/kernels/0/grid/1", json{{"op", "add"}, {"args", {1}}}, false,
       "kernels[0].grid[1].args: expected 2 arguments, got 1"},
      {"/kernels/0/grid/1", json{{"op", "add"}, {"args", {1, "M"}}}, false,
       "kernels[0].grid[1].args[1]: expected an integer or an object, got a string"},
      {"/kernels/0/grid/1", json{{"scalar", 2}, {"dim", {0, 0}}}, false,
       "kernels[0].grid[1]: expected exactly one of \"dim\", \"scalar\" or \"op\""},
      {"/kernels/0/grid/2", -1, false, "kernels[0].grid[2]: a grid size must not be negative, got -1"},
      {"/kernels/0/cluster", json::array({2, 0, 1}), false,
       "kernels[0].cluster[1]: must be at least 1, got 0"},
      {"/kernels/0/shared_bytes", -1, false,
       "kernels[0].shared_bytes: must not be negative, got -1"},
      {"/kernels/0/tma", json::array({json{{"param", 2}, {"dtype", "int32"}, {"box", {1}}}}), false,
       "kernels[0].tma[0].param: parameter 2 ('n') is not a tensor"},
      {"/kernels/0/tma", json::array({json{{"param", 0}, {"dtype", "float32"}, {"box", {64, 64}}}}),
       false, "kernels[0].tma[0].dtype: dtype float32 differs from parameter 'A' (bfloat16)"},
      {"/kernels/0/tma", json::array({json{{"param", 0}, {"dtype", "bfloat16"}, {"box", {64}}}}),
       false, "kernels[0].tma[0].box: expected 2 entries (the rank of 'A'), got 1"},
      {"/kernels/0/tma", json::array({json{{"param", 0}, {"dtype", "bfloat16"}, {"box", {64, 512}}}}),
       false, "kernels[0].tma[0].box[1]: a box dimension must be in 1..256, got 512"},
      {"/kernels/0/tma",
       json::array({json{{"param", 0}, {"dtype", "bfloat16"}, {"box", {64, 64}}, {"swizzle", "256B"}}}),
       false, "kernels[0].tma[0].swizzle: unknown swizzle '256B' (expected none, 32B, 64B or 128B)"},
  };
  for (const Case &c : cases) {
    json j = base();
    json::json_pointer ptr(c.pointer);
    if (c.erase)
      j[ptr.parent_pointer()].erase(ptr.back());
    else
      j[ptr] = c.value;
    EXPECT_EQ(parseError(j), std::string("dir/k.manifest.json: ") + c.message) << c.pointer;
  }
}

TEST(Manifest, DuplicateKernel) {
  json j = base();
  j["kernels"].push_back(j["kernels"][0]);
  EXPECT_EQ(parseError(j), "dir/k.manifest.json: kernels[1].name: duplicate kernel 'k'");
}

TEST(Manifest, Float4LastDimMustBeEven) {
  json j = base();
  j["kernels"][0]["params"][0] = {{"name", "A"}, {"kind", "tensor"}, {"dtype", "float4_e2m1"},
                                  {"shape", {"M", 33}}};
  j["kernels"][0]["params"][1]["shape"] = {"M", "K"};
  j["kernels"][0]["params"][1]["shape"] = {"M", 4};
  EXPECT_EQ(parseError(j), "dir/k.manifest.json: kernels[0].params[0].shape[1]: the last "
                           "dimension of a float4_e2m1 tensor must be even, got 33");
}

TEST(Manifest, CpuModuleMustBeSharedObject) {
  json j = base();
  j["target"] = "cpu";
  EXPECT_EQ(parseError(j),
            "dir/k.manifest.json: module: a cpu module must be a .so file, got 'k.ptx'");
}

TEST(DType, NamesAndSizes) {
  EXPECT_EQ(parseDType("float4_e2m1"), DType::Float4E2M1);
  EXPECT_EQ(dtypeBits(DType::Float4E2M1), 4);
  EXPECT_EQ(dtypeStorageBytes(DType::Float4E2M1, 6), 3);
  EXPECT_EQ(dtypeStorageBytes(DType::BFloat16, 6), 12);
  EXPECT_EQ(dtypeStorageBytes(DType::UE8M0, 5), 5);
  EXPECT_EQ(dtypeBits(DType::Bool), 8);
  EXPECT_STREQ(dtypeName(DType::Float8E5M2), "float8_e5m2");
  EXPECT_FALSE(parseDType("bf16").has_value());
  for (const char *n : {"bfloat16", "float16", "float32", "int8", "uint8", "int32", "int64",
                        "bool", "float8_e4m3", "float8_e5m2", "float4_e2m1", "ue8m0"})
    EXPECT_STREQ(dtypeName(*parseDType(n)), n);
}

} // namespace
