// Warp-level builtins on the CPU target (kernels/warp.tl): shuffles, votes,
// ballot and match.any run as exchanges through shared memory between
// barriers (tl-cpu-warp-exchange), checked against a plain C++ model of a
// warp: 32 lanes, a source lane outside the warp gives the thread's own
// value.
#include "CpuTestSupport.h"
#include "tlrt/Module.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace {

using tlrt::DType;
using tlrt::Tensor;
using tlc_test::kernel;

void checkWarp(const std::string &module, int nt, int blocks) {
  const int n = nt * blocks;
  std::mt19937 rng(static_cast<uint32_t>(nt * 131 + blocks));
  std::uniform_real_distribution<float> u(-1, 1);
  std::uniform_int_distribution<int> key(0, 3);
  std::vector<float> x(n);
  std::vector<int32_t> k(n);
  for (int i = 0; i < n; ++i) {
    // Small integers: the butterfly sums are exact whatever the order.
    x[i] = static_cast<float>(static_cast<int>(u(rng) * 8));
    k[i] = key(rng);
  }
  // One warp all positive, to make all_sync true somewhere.
  for (int i = 0; i < std::min(n, 32); ++i)
    x[i] = static_cast<float>(1 + i % 5);
  std::vector<float> sx(n), dn(n), up(n), id(n);
  std::vector<int32_t> tx(n), vote(n);
  std::vector<uint32_t> bal(n), mat(n);
  kernel(module, "warp")
      .launch({Tensor(x.data(), DType::Float32, {n}), Tensor(k.data(), DType::Int32, {n}),
               Tensor(sx.data(), DType::Float32, {n}), Tensor(dn.data(), DType::Float32, {n}),
               Tensor(up.data(), DType::Float32, {n}), Tensor(id.data(), DType::Float32, {n}),
               Tensor(tx.data(), DType::Int32, {n}), Tensor(vote.data(), DType::Int32, {n}),
               Tensor(bal.data(), DType::UInt32, {n}), Tensor(mat.data(), DType::UInt32, {n})});
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < nt; ++t) {
      int i = b * nt + t, lane = t % 32, base = t - lane;
      int lanes = std::min(32, nt - base); // lanes of this warp that exist
      auto at = [&](int src, auto own, const auto &vec) {
        return src >= 0 && src < lanes ? vec[b * nt + base + src] : own;
      };
      // Butterfly: every step reads the partner's partial sum.
      std::vector<float> s(lanes);
      for (int l = 0; l < lanes; ++l)
        s[l] = x[b * nt + base + l];
      for (int m = 16; m >= 1; m /= 2) {
        std::vector<float> next(lanes);
        for (int l = 0; l < lanes; ++l)
          next[l] = s[l] + ((l ^ m) < lanes ? s[l ^ m] : s[l]);
        s = next;
      }
      std::string where = module + " block " + std::to_string(b) + " thread " + std::to_string(t);
      EXPECT_EQ(sx[i], s[lane]) << where;
      EXPECT_EQ(dn[i], at(lane + 3, x[i], x)) << where;
      EXPECT_EQ(up[i], at(lane - 5, x[i], x)) << where;
      EXPECT_EQ(id[i], at((lane * 7 + 3) % 32, x[i], x)) << where;
      EXPECT_EQ(tx[i], (lane ^ 1) < lanes ? base + (lane ^ 1) : t) << where;
      bool any = false, all = true;
      uint32_t ballot = 0, match = 0;
      for (int l = 0; l < lanes; ++l) {
        bool p = x[b * nt + base + l] > 0;
        any |= p;
        all &= p;
        ballot |= p ? 1u << l : 0;
        match |= k[b * nt + base + l] == k[i] ? 1u << l : 0;
      }
      EXPECT_EQ(vote[i], (any ? 1 : 0) + (all ? 2 : 0)) << where;
      EXPECT_EQ(bal[i], ballot) << where;
      EXPECT_EQ(mat[i], match) << where;
    }
}

TEST(CpuWarp, FullWarps) { checkWarp("warp", 128, 3); }

TEST(CpuWarp, OneWarpBlocks) { checkWarp("warp_nt32", 32, 5); }

} // namespace
