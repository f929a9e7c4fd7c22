// Tests for tlrt/Tma.h: the cuTensorMapEncodeTiled parameters computed from
// a manifest entry and a tensor (reversed box, strides, swizzle, fixed
// settings), and the refusals for tensors TMA cannot describe.
#include "tlrt/Tma.h"

#include "RuntimeTestUtil.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

using namespace tlrt;
using json = nlohmann::json;
using tlrt_test::errorOf;

namespace {

Manifest manifestWith(const std::string &dtype, json shape, json box, const std::string &swizzle) {
  json j = {{"format", "tlc-manifest"}, {"version", 1}, {"target", "sm_90a"}, {"module", "t.ptx"},
            {"kernels",
             {{{"name", "copy"},
               {"entry", "copy"},
               {"params", {{{"name", "X"}, {"kind", "tensor"}, {"dtype", dtype}, {"shape", shape}}}},
               {"threads", {128, 1, 1}},
               {"grid", {1, 1, 1}},
               {"tma", {{{"param", 0}, {"dtype", dtype}, {"box", box}, {"swizzle", swizzle}}}}}}}};
  return Manifest::parse(j.dump(), "t.json");
}

alignas(64) unsigned char mem[256];

// A float4 map that unpacks to 16 values per 16 bytes (sm_100a tcgen05).
Manifest unpackedFP4(const std::string &dtype, json box, json unpack = true) {
  json j = {{"format", "tlc-manifest"}, {"version", 1}, {"target", "sm_100a"}, {"module", "t.ptx"},
            {"kernels",
             {{{"name", "copy"},
               {"entry", "copy"},
               {"params", {{{"name", "X"}, {"kind", "tensor"}, {"dtype", dtype}, {"shape", {"N", "K"}}}}},
               {"threads", {128, 1, 1}},
               {"grid", {1, 1, 1}},
               {"tma",
                {{{"param", 0}, {"dtype", dtype}, {"box", box}, {"swizzle", "128B"},
                  {"unpack_fp4", unpack}}}}}}}};
  return Manifest::parse(j.dump(), "t.json");
}

TEST(Tma, Bf16Matrix) {
  Manifest m = manifestWith("bfloat16", {"M", "K"}, {128, 64}, "128B");
  Tensor t(mem, DType::BFloat16, {1000, 512}, Place::Device);
  TmaParams p = computeTmaParams(m.kernels[0], 0, t);
  EXPECT_EQ(p.dataType, 9u); // CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
  EXPECT_EQ(p.rank, 2u);
  EXPECT_EQ(p.globalAddress, mem);
  EXPECT_EQ(p.globalDim[0], 512u); // innermost first
  EXPECT_EQ(p.globalDim[1], 1000u);
  EXPECT_EQ(p.globalStrides[0], 1024u);
  EXPECT_EQ(p.boxDim[0], 64u); // box reversed
  EXPECT_EQ(p.boxDim[1], 128u);
  EXPECT_EQ(p.elementStrides[0], 1u);
  EXPECT_EQ(p.elementStrides[1], 1u);
  EXPECT_EQ(p.swizzle, 3u);     // CU_TENSOR_MAP_SWIZZLE_128B
  EXPECT_EQ(p.interleave, 0u);  // NONE
  EXPECT_EQ(p.l2Promotion, 3u); // L2_256B
  EXPECT_EQ(p.oobFill, 0u);     // zeros
}

TEST(Tma, Rank3AndSwizzles) {
  Manifest m = manifestWith("float32", {"B", "M", 64}, {1, 16, 8}, "32B");
  Tensor t(mem, DType::Float32, {3, 100, 64}, Place::Device);
  TmaParams p = computeTmaParams(m.kernels[0], 0, t);
  EXPECT_EQ(p.dataType, 7u);
  EXPECT_EQ(p.globalDim[0], 64u);
  EXPECT_EQ(p.globalDim[1], 100u);
  EXPECT_EQ(p.globalDim[2], 3u);
  EXPECT_EQ(p.globalStrides[0], 256u);
  EXPECT_EQ(p.globalStrides[1], 25600u);
  EXPECT_EQ(p.boxDim[0], 8u);
  EXPECT_EQ(p.boxDim[1], 16u);
  EXPECT_EQ(p.boxDim[2], 1u);
  EXPECT_EQ(p.swizzle, 1u);
  EXPECT_EQ(computeTmaParams(manifestWith("float32", {"M", "K"}, {8, 16}, "64B").kernels[0], 0,
                             Tensor(mem, DType::Float32, {8, 16}, Place::Device))
                .swizzle,
            2u);
}

TEST(Tma, OneByteAndPackedTypes) {
  Manifest m = manifestWith("float8_e4m3", {"M", "K"}, {64, 128}, "128B");
  TmaParams p = computeTmaParams(m.kernels[0], 0, Tensor(mem, DType::Float8E4M3, {64, 256}));
  EXPECT_EQ(p.dataType, 0u); // UINT8
  EXPECT_EQ(p.globalStrides[0], 256u);
  // float4_e2m1 moves packed bytes: innermost dimension and box halved.
  Manifest m4 = manifestWith("float4_e2m1", {"M", "K"}, {64, 256}, "128B");
  TmaParams q = computeTmaParams(m4.kernels[0], 0, Tensor(mem, DType::Float4E2M1, {64, 512}));
  EXPECT_EQ(q.dataType, 0u);
  EXPECT_EQ(q.globalDim[0], 256u);
  EXPECT_EQ(q.boxDim[0], 128u);
  EXPECT_EQ(q.globalStrides[0], 256u);
}

TEST(Tma, Refusals) {
  Manifest m = manifestWith("bfloat16", {"M", "K"}, {128, 64}, "128B");
  const KernelSpec &k = m.kernels[0];
  const std::string pre = "kernel 'copy', parameter 'X' (tensor map 0): ";
  EXPECT_EQ(errorOf([&] { computeTmaParams(k, 0, Tensor(mem, DType::BFloat16, {64, 100})); }),
            pre + "stride of dimension 0 is 200 bytes, not a multiple of 16");
  EXPECT_EQ(errorOf([&] { computeTmaParams(k, 0, Tensor(mem + 8, DType::BFloat16, {64, 64})); }),
            pre + "base address " + fmt::format("{}", static_cast<void *>(mem + 8)) +
                " is not 16-byte aligned");
  EXPECT_EQ(errorOf([&] { computeTmaParams(k, 0, Tensor(mem, DType::BFloat16, {0, 64})); }),
            pre + "dimension 0 is 0; a tensor map needs 1 to 2^32 elements");
  Manifest wide = manifestWith("float32", {"M", "K"}, {8, 64}, "128B");
  EXPECT_EQ(errorOf([&] {
              computeTmaParams(wide.kernels[0], 0, Tensor(mem, DType::Float32, {8, 64}));
            }),
            pre.substr(0, 0) + "kernel 'copy', parameter 'X' (tensor map 0): the innermost box "
                               "dimension is 256 bytes, more than the 128B swizzle span");
  Manifest odd = manifestWith("float32", {"M", "K"}, {8, 3}, "none");
  EXPECT_EQ(errorOf([&] {
              computeTmaParams(odd.kernels[0], 0, Tensor(mem, DType::Float32, {8, 64}));
            }),
            pre + "the innermost box dimension is 12 bytes, not a multiple of 16");
  Manifest f4 = manifestWith("float4_e2m1", {"M", "K"}, {8, 33}, "none");
  EXPECT_EQ(errorOf([&] {
              computeTmaParams(f4.kernels[0], 0, Tensor(mem, DType::Float4E2M1, {8, 64}));
            }),
            pre + "the innermost box dimension of a float4_e2m1 tensor must be even, got 33");
}

TEST(Tma, UnpackedFP4) {
  Manifest m = unpackedFP4("float4_e2m1", {128, 128});
  ASSERT_TRUE(m.kernels[0].tma[0].unpackFP4);
  TmaParams p = computeTmaParams(m.kernels[0], 0, Tensor(mem, DType::Float4E2M1, {300, 512}));
  EXPECT_EQ(p.dataType, 14u);        // CU_TENSOR_MAP_DATA_TYPE_16U4_ALIGN16B
  EXPECT_EQ(p.globalDim[0], 512u);   // counted in FP4 values, not bytes
  EXPECT_EQ(p.globalDim[1], 300u);
  EXPECT_EQ(p.globalStrides[0], 256u); // packed rows: 512 values = 256 bytes
  EXPECT_EQ(p.boxDim[0], 128u);
  EXPECT_EQ(p.boxDim[1], 128u);
  EXPECT_EQ(p.swizzle, 3u); // 128 shared-memory bytes per box row fit the 128B span

  const std::string pre = "kernel 'copy', parameter 'X' (tensor map 0): ";
  EXPECT_EQ(errorOf([&] {
              computeTmaParams(m.kernels[0], 0, Tensor(mem, DType::Float4E2M1, {300, 192}));
            }),
            pre + "the innermost dimension is 192; unpacking float4 needs a multiple of 128");
  EXPECT_EQ(errorOf([&] {
              computeTmaParams(m.kernels[0], 0, Tensor(mem + 16, DType::Float4E2M1, {8, 128}));
            }),
            pre + "base address " + fmt::format("{}", static_cast<void *>(mem + 16)) +
                " is not 32-byte aligned (needed to unpack float4)");
  Manifest narrow = unpackedFP4("float4_e2m1", {128, 64});
  EXPECT_EQ(errorOf([&] {
              computeTmaParams(narrow.kernels[0], 0, Tensor(mem, DType::Float4E2M1, {8, 128}));
            }),
            pre + "the innermost box dimension is 64; unpacking float4 needs 128");
}

TEST(Tma, UnpackedFP4ManifestRefusals) {
  EXPECT_NE(errorOf([] { unpackedFP4("float8_e4m3", {128, 128}); })
                .find("only a float4_e2m1 tensor map can be unpacked, this one is float8_e4m3"),
            std::string::npos);
  EXPECT_NE(errorOf([] { unpackedFP4("float4_e2m1", {128, 128}, "yes"); })
                .find("unpack_fp4: expected true or false"),
            std::string::npos);
}

} // namespace
