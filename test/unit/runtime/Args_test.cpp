// Tests for tlrt/Args.h: argument validation (exact messages), the packed
// parameter layout of docs/abi.md, and grid evaluation.
#include "tlrt/Args.h"

#include "RuntimeTestUtil.h"
#include "tlrt/LowPrecision.h"

#include <cstring>

using namespace tlrt;
using tlrt_test::errorOf;

namespace {

const char *kManifest = R"json({
  "format": "tlc-manifest", "version": 1, "target": "sm_90a", "module": "g.ptx",
  "kernels": [{
    "name": "gemm_bf16", "entry": "gemm_bf16",
    "params": [
      {"name": "A", "kind": "tensor", "dtype": "bfloat16", "shape": ["M", "K"]},
      {"name": "SA", "kind": "tensor", "dtype": "float32", "shape": ["M", "T.ceildiv(K, 128)"]},
      {"name": "B", "kind": "tensor", "dtype": "bfloat16", "shape": ["N", "K"]},
      {"name": "C", "kind": "tensor", "dtype": "bfloat16", "shape": ["M", 4096]},
      {"name": "eps", "kind": "scalar", "dtype": "float32"},
      {"name": "h", "kind": "scalar", "dtype": "bfloat16"},
      {"name": "flag", "kind": "scalar", "dtype": "bool"},
      {"name": "steps", "kind": "scalar", "dtype": "int32"},
      {"name": "big", "kind": "scalar", "dtype": "int64"},
      {"name": "u", "kind": "scalar", "dtype": "uint8"}
    ],
    "threads": [256, 1, 1],
    "grid": [{"op": "ceildiv", "args": [{"dim": [2, 0]}, 128]},
             {"op": "ceildiv", "args": [{"dim": [0, 0]}, 128]},
             {"op": "max", "args": [{"scalar": 7}, 1]}],
    "tma": [{"param": 0, "dtype": "bfloat16", "box": [128, 64], "swizzle": "128B"}]
  }]})json";

struct Fixture : ::testing::Test {
  Manifest m = Manifest::parse(kManifest, "g.manifest.json");
  const KernelSpec &k = m.kernels[0];
  alignas(16) static inline unsigned char mem[64];
  void *p = mem; // never dereferenced
  int64_t M = 256, K = 512, N = 384;

  std::vector<Arg> good() {
    return {Tensor(p, DType::BFloat16, {M, K}, Place::Device),
            Tensor(p, DType::Float32, {M, 4}, Place::Device),
            Tensor(p, DType::BFloat16, {N, K}, Place::Device),
            Tensor(p, DType::BFloat16, {M, 4096}, Place::Device),
            1e-5f,
            0.5f,
            true,
            3,
            int64_t(1) << 40,
            200};
  }
  std::string err(const std::vector<Arg> &args) {
    return errorOf([&] { validateArgs(k, args, Place::Device); });
  }
};

TEST_F(Fixture, ValidArguments) {
  SymbolValues s = validateArgs(k, good(), Place::Device);
  EXPECT_EQ(s.at("M"), 256);
  EXPECT_EQ(s.at("K"), 512);
  EXPECT_EQ(s.at("N"), 384);
  EXPECT_EQ(s.size(), 3u);
}

TEST_F(Fixture, Count) {
  auto a = good();
  a.pop_back();
  EXPECT_EQ(err(a), "kernel 'gemm_bf16': expected 10 arguments, got 9");
}

TEST_F(Fixture, Dtype) {
  auto a = good();
  a[0] = Tensor(p, DType::Float32, {M, K}, Place::Device);
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'A': expected dtype bfloat16, got float32");
}

TEST_F(Fixture, Kind) {
  auto a = good();
  a[0] = 1.0f;
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'A': expected a tensor, got a floating-point "
                    "value (1)");
  a = good();
  a[4] = a[1];
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'eps': expected a float32 scalar, got a "
                    "device float32 tensor");
}

TEST_F(Fixture, Rank) {
  auto a = good();
  a[2] = Tensor(p, DType::BFloat16, {N, K, 1}, Place::Device);
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'B': expected rank 2, got rank 3 (shape "
                    "bfloat16[384, 512, 1] (device))");
}

TEST_F(Fixture, FixedDimension) {
  auto a = good();
  a[3] = Tensor(p, DType::BFloat16, {M, 1024}, Place::Device);
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'C': dimension 1 must be 4096, got 1024");
}

TEST_F(Fixture, SymbolMismatch) {
  auto a = good();
  a[2] = Tensor(p, DType::BFloat16, {N, 64}, Place::Device);
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'B': dimension 1 is 'K' = 512 (bound by "
                    "parameter 'A', dimension 1), got 64");
}

TEST_F(Fixture, DerivedDimension) {
  auto a = good();
  a[1] = Tensor(p, DType::Float32, {M, 5}, Place::Device);
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'SA': dimension 1 must be 'T.ceildiv(K, 128)' "
                    "= 4 (K = 512), got 5");
}

TEST_F(Fixture, Placement) {
  auto a = good();
  a[3] = Tensor(p, DType::BFloat16, {M, 4096}, Place::Host);
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'C': expected a device tensor, got a host "
                    "tensor (kernel target needs device memory)");
}

TEST_F(Fixture, Alignment) {
  auto a = good();
  a[0] = Tensor(mem + 8, DType::BFloat16, {M, K}, Place::Device);
  std::string e = err(a);
  EXPECT_EQ(e.rfind("kernel 'gemm_bf16', parameter 'A': data pointer 0x", 0), 0u) << e;
  EXPECT_NE(e.find(" is not 16-byte aligned"), std::string::npos) << e;
}

TEST_F(Fixture, NullAndNegative) {
  auto a = good();
  a[0] = Tensor(nullptr, DType::BFloat16, {M, K}, Place::Device);
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'A': data pointer is null");
  a[0] = Tensor(p, DType::BFloat16, {-1, K}, Place::Device);
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'A': dimension 0 is negative (-1)");
}

TEST_F(Fixture, EmptyTensorMayBeNull) {
  auto a = good();
  for (int i : {0, 1, 3})
    a[i] = Tensor(nullptr, a[i].tensor().dtype, {0, a[i].tensor().shape[1]}, Place::Device);
  EXPECT_EQ(validateArgs(k, a, Place::Device).at("M"), 0);
}

TEST_F(Fixture, ScalarTypes) {
  auto a = good();
  a[4] = 1;
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'eps': expected a float32 scalar, got an "
                    "integer (1)");
  a = good();
  a[6] = 1;
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'flag': expected a bool scalar, got an "
                    "integer (1)");
  a = good();
  a[7] = 2.0;
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'steps': expected a int32 scalar, got a "
                    "floating-point value (2)");
  a = good();
  a[7] = int64_t(1) << 31;
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'steps': value 2147483648 does not fit in "
                    "int32");
  a = good();
  a[9] = -1;
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'u': value -1 does not fit in uint8");
  a = good();
  a[8] = ~uint64_t(0);
  EXPECT_EQ(err(a), "kernel 'gemm_bf16', parameter 'big': value (unsigned, above 2^63) does not "
                    "fit in int64");
}

TEST_F(Fixture, PackingLayout) {
  auto a = good();
  PackedArgs packed = packArgs(k, a);
  struct Want {
    const char *what;
    size_t offset, size;
  };
  const Want want[] = {
      {"A", 0, 8},     {"A.shape[0]", 8, 8},  {"A.shape[1]", 16, 8}, {"SA", 24, 8},
      {"SA.shape[0]", 32, 8}, {"SA.shape[1]", 40, 8}, {"B", 48, 8}, {"B.shape[0]", 56, 8},
      {"B.shape[1]", 64, 8}, {"C", 72, 8},    {"C.shape[0]", 80, 8}, {"eps", 88, 4},
      {"h", 92, 2},    {"flag", 94, 1},       {"steps", 96, 4},      {"big", 104, 8},
      {"u", 112, 1},
  };
  ASSERT_EQ(packed.slots().size(), std::size(want));
  for (size_t i = 0; i < std::size(want); ++i) {
    EXPECT_EQ(packed.slots()[i].what, want[i].what);
    EXPECT_EQ(packed.slots()[i].offset, want[i].offset) << want[i].what;
    EXPECT_EQ(packed.slots()[i].size, want[i].size) << want[i].what;
  }
  void **ptrs = packed.pointers();
  EXPECT_EQ(*static_cast<void **>(ptrs[0]), p);
  EXPECT_EQ(*static_cast<int64_t *>(ptrs[1]), M);
  EXPECT_EQ(*static_cast<int64_t *>(ptrs[2]), K);
  EXPECT_EQ(*static_cast<int64_t *>(ptrs[5]), 4);
  EXPECT_EQ(*static_cast<int64_t *>(ptrs[10]), M); // C passes only M
  EXPECT_EQ(*static_cast<float *>(ptrs[11]), 1e-5f);
  EXPECT_EQ(*static_cast<uint16_t *>(ptrs[12]), f32ToBF16(0.5f));
  EXPECT_EQ(*static_cast<uint8_t *>(ptrs[13]), 1);
  EXPECT_EQ(*static_cast<int32_t *>(ptrs[14]), 3);
  EXPECT_EQ(*static_cast<int64_t *>(ptrs[15]), int64_t(1) << 40);
  EXPECT_EQ(*static_cast<uint8_t *>(ptrs[16]), 200);
  // A tensor map lands 64-aligned after the values.
  unsigned char map[128] = {1, 2, 3};
  packed.append("tensor map 0", map, 128, 64);
  EXPECT_EQ(packed.slots().back().offset, 128u);
  EXPECT_EQ(packed.size(), 256u);
  ptrs = packed.pointers();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ptrs[17]) % 64, 0u);
  EXPECT_EQ(std::memcmp(ptrs[17], map, 128), 0);
}

TEST_F(Fixture, Float16Scalar) {
  const char *text = R"json({"format": "tlc-manifest", "version": 1, "target": "cpu",
    "module": "x.so", "kernels": [{"name": "f", "entry": "f", "grid": [1, 1, 1],
    "params": [{"name": "x", "kind": "scalar", "dtype": "float16"},
               {"name": "i", "kind": "scalar", "dtype": "int8"}]}]})json";
  Manifest mm = Manifest::parse(text, "f.json");
  std::vector<Arg> a{1.5, -7};
  validateArgs(mm.kernels[0], a, Place::Host);
  PackedArgs packed = packArgs(mm.kernels[0], a);
  void **ptrs = packed.pointers();
  EXPECT_EQ(*static_cast<uint16_t *>(ptrs[0]), 0x3E00);
  EXPECT_EQ(*static_cast<int8_t *>(ptrs[1]), -7);
  EXPECT_EQ(packed.slots()[1].offset, 2u);
}

TEST_F(Fixture, Grid) {
  auto a = good();
  auto g = evalGrid(k, a);
  EXPECT_EQ(g[0], 3); // ceildiv(384, 128)
  EXPECT_EQ(g[1], 2); // ceildiv(256, 128)
  EXPECT_EQ(g[2], 3); // max(steps, 1)
  a[7] = -4;
  EXPECT_EQ(evalGrid(k, a)[2], 1);
}

TEST(Grid, AllOpsAndErrors) {
  const char *text = R"json({"format": "tlc-manifest", "version": 1, "target": "cpu",
    "module": "x.so", "kernels": [{"name": "g", "entry": "g",
    "params": [{"name": "X", "kind": "tensor", "dtype": "float32", "shape": ["M", "N"]},
               {"name": "d", "kind": "scalar", "dtype": "int64"}],
    "grid": [{"op": "add", "args": [{"op": "mul", "args": [{"dim": [0, 0]}, 2]},
                                    {"op": "sub", "args": [{"dim": [0, 1]}, 1]}]},
             {"op": "floordiv", "args": [{"op": "rem", "args": [{"dim": [0, 0]}, 7]},
                                         {"scalar": 1}]},
             {"op": "min", "args": [{"dim": [0, 1]}, 4]}]}]})json";
  Manifest m = Manifest::parse(text, "g.json");
  const KernelSpec &k = m.kernels[0];
  alignas(16) static float buf[4];
  std::vector<Arg> a{Tensor(buf, DType::Float32, {10, 9}), int64_t(2)};
  auto g = evalGrid(k, a);
  EXPECT_EQ(g[0], 10 * 2 + 9 - 1);
  EXPECT_EQ(g[1], (10 % 7) / 2);
  EXPECT_EQ(g[2], 4);
  a[1] = int64_t(0);
  EXPECT_EQ(errorOf([&] { evalGrid(k, a); }),
            "kernel 'g': grid y = floordiv(rem(dim(param 0, 0), 7), scalar(param 1)): division "
            "by zero in 3 // 0");
  a = {Tensor(buf, DType::Float32, {0, 0}), int64_t(1)};
  EXPECT_EQ(errorOf([&] { evalGrid(k, a); }),
            "kernel 'g': grid x = add(mul(dim(param 0, 0), 2), sub(dim(param 0, 1), 1)) is "
            "negative (-1)");
  a = {Tensor(buf, DType::Float32, {int64_t(1) << 62, 1}), int64_t(1)};
  EXPECT_EQ(errorOf([&] { evalGrid(k, a); }),
            "kernel 'g': grid x = add(mul(dim(param 0, 0), 2), sub(dim(param 0, 1), 1)): "
            "integer overflow in 4611686018427387904 * 2");
}

} // namespace
