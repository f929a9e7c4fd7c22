// Language pieces on the GPU (test/unit/cpu/kernels, CpuLang_test.cpp checks
// the same kernels against plain C++ on the CPU target): break/continue,
// @T.macro, unsigned dtypes and T.reinterpret, named slice ends with a dead
// branch, T.use_swizzle. Every output is exact, so the GPU must match the
// CPU golden bit for bit.
#include "GpuTestSupport.h"

#include <cmath>
#include <cstring>

namespace {

using namespace tlc::gputest;
using tlrt::DType;

void expectSameBytes(const LaunchResult &r, const std::vector<bool> &isOutput,
                     const std::string &what) {
  for (size_t i = 0; i < isOutput.size(); ++i) {
    if (!isOutput[i])
      continue;
    EXPECT_EQ(std::memcmp(r.gpu[i].bytes.data(), r.cpu[i].bytes.data(), r.gpu[i].bytes.size()), 0)
        << what << ": output " << i << " differs between the GPU and the CPU target";
  }
}

void fillRows(HostTensor &t) {
  float *x = t.as<float>();
  for (size_t i = 0; i < t.bytes.size() / 4; ++i)
    x[i] = std::round(uniform(-2, 14) * 4) / 4;
}

TEST(GpuLang, BreakContinue) {
  REQUIRE_GPU_KERNEL("first_negative");
  for (int64_t r : {5, 64, 300}) {
    HostTensor X(DType::Float32, {r, 37}), P(DType::Int32, {r}), S(DType::Float32, {r});
    fillRows(X);
    LaunchResult res = runBoth("first_negative", {X, P, S}, {false, true, true});
    expectSameBytes(res, {false, true, true}, "first_negative");
  }
  REQUIRE_GPU_KERNEL("nested");
  HostTensor X(DType::Float32, {33, 19}), O(DType::Int32, {33});
  fillRows(X);
  X.as<float>()[5 * 19 + 3] = 0.0f;
  expectSameBytes(runBoth("nested", {X, O}, {false, true}), {false, true}, "nested");
}

TEST(GpuLang, Macros) {
  REQUIRE_GPU_KERNEL("macros");
  for (int64_t m : {16, 5, 333}) {
    HostTensor X(DType::Float32, {m, 64}), Y(DType::Float32, {m, 64}), Z(DType::Float32, {m, 64});
    fillRows(X);
    LaunchResult r = runBoth("macros", {X, Y, Z}, {false, true, true}, {-0.75f});
    expectSameBytes(r, {false, true, true}, "macros");
  }
}

TEST(GpuLang, UnsignedAndReinterpret) {
  REQUIRE_GPU_KERNEL("unsigned_ops");
  const int64_t n = 1024;
  std::vector<HostTensor> t;
  std::vector<bool> out;
  auto add = [&](DType d, bool isOut) {
    t.emplace_back(d, std::vector<int64_t>{n});
    out.push_back(isOut);
  };
  add(DType::UInt32, false); // A
  add(DType::UInt32, false); // B
  add(DType::UInt16, false); // H
  add(DType::Float32, false); // X
  for (DType d : {DType::UInt32, DType::UInt32, DType::UInt32, DType::Int32, DType::Float32,
                  DType::UInt64, DType::UInt16, DType::UInt32, DType::Float32, DType::UInt32,
                  DType::UInt64, DType::UInt32})
    add(d, true);
  for (int64_t i = 0; i < n; ++i) {
    t[0].as<uint32_t>()[i] = static_cast<uint32_t>(rng()());
    t[1].as<uint32_t>()[i] = static_cast<uint32_t>(rng()()) | 1u;
    t[2].as<uint16_t>()[i] = static_cast<uint16_t>(rng()());
    t[3].as<float>()[i] = uniform(-3, 3);
  }
  expectSameBytes(runBoth("unsigned_ops", t, out), out, "unsigned_ops");
}

TEST(GpuLang, NamedSlicesAndDeadBranches) {
  for (auto [name, d] : {std::pair<const char *, int64_t>{"named_slices", 64},
                         {"named_slices__d32", 32}}) {
    REQUIRE_GPU_KERNEL(name);
    HostTensor X(DType::Float32, {77, 128}), Y(DType::Float32, {77, d});
    fillRows(X);
    LaunchResult r = runBoth(name, {X, Y}, {false, true});
    expectSameBytes(r, {false, true}, name);
    for (int64_t i = 0; i < 77; ++i)
      for (int64_t j = 0; j < d; ++j)
        ASSERT_EQ(r.gpu[1].as<float>()[i * d + j], X.as<float>()[i * 128 + 32 + j]);
  }
}

TEST(GpuLang, UseSwizzle) {
  REQUIRE_GPU_KERNEL("swizzle");
  for (auto [gx, gy] : {std::pair<int64_t, int64_t>{5, 7}, {64, 33}}) {
    HostTensor O(DType::Int32, {gy, gx});
    LaunchResult r = runBoth("swizzle", {O}, {true});
    expectSameBytes(r, {true}, "swizzle");
  }
}

// Warp shuffles, votes and match (test/unit/cpu/kernels/warp.tl): the GPU's
// shfl/vote/match.sync against the CPU target's exchange through shared
// memory, bit for bit (the butterfly sums add small integers: exact).
TEST(GpuLang, WarpExchanges) {
  REQUIRE_GPU_KERNEL("warp");
  const int64_t n = 128 * 3;
  std::vector<HostTensor> t;
  t.emplace_back(DType::Float32, std::vector<int64_t>{n});
  t.emplace_back(DType::Int32, std::vector<int64_t>{n});
  for (DType d : {DType::Float32, DType::Float32, DType::Float32, DType::Float32, DType::Int32,
                  DType::Int32, DType::UInt32, DType::UInt32})
    t.emplace_back(d, std::vector<int64_t>{n});
  for (int64_t i = 0; i < n; ++i) {
    t[0].as<float>()[i] = std::round(uniform(-8, 8));
    t[1].as<int32_t>()[i] = static_cast<int32_t>(rng()() % 4);
  }
  for (int64_t i = 0; i < 32; ++i) // one warp all positive: all_sync true there
    t[0].as<float>()[i] = static_cast<float>(1 + i % 5);
  std::vector<bool> out{false, false, true, true, true, true, true, true, true, true};
  expectSameBytes(runBoth("warp", t, out), out, "warp");
}

} // namespace
