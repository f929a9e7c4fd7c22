// Tests for tlrt/ScaleLayout.h: V4 128x128 weight-block scales and 1x128
// activation-group scales re-laid out as one ue8m0 scale per 32 K per row,
// against a direct per-element definition; ragged N/M/K; and the errors.
#include "tlrt/ScaleLayout.h"

#include "tlrt/Error.h"
#include "tlrt/LowPrecision.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace tlrt;

namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// The message of the tlrt::Error `f` throws ("" if none).
template <typename F> std::string errorOf(F &&f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

TEST(ScaleLayout, CodeOfPowerOfTwo) {
  EXPECT_EQ(ue8m0CodeOfPowerOfTwo(1.0f), 127);
  EXPECT_EQ(ue8m0CodeOfPowerOfTwo(2.0f), 128);
  EXPECT_EQ(ue8m0CodeOfPowerOfTwo(0.5f), 126);
  EXPECT_EQ(ue8m0CodeOfPowerOfTwo(std::ldexp(1.0f, 127)), 254);
  EXPECT_EQ(ue8m0CodeOfPowerOfTwo(std::ldexp(1.0f, -126)), 1);
  EXPECT_EQ(ue8m0CodeOfPowerOfTwo(std::ldexp(1.0f, -127)), 0);  // an f32 subnormal
  EXPECT_EQ(ue8m0CodeOfPowerOfTwo(std::ldexp(1.0f, -128)), -1); // below ue8m0's range
  for (int code = 0; code < 255; ++code)
    EXPECT_EQ(ue8m0CodeOfPowerOfTwo(ue8m0ToF32(static_cast<uint8_t>(code))), code) << code;
  for (float bad : {0.0f, -0.0f, -1.0f, 3.0f, 1.5f, 0.75f, std::ldexp(1.0f, -149),
                    std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                    std::nextafter(1.0f, 2.0f)})
    EXPECT_EQ(ue8m0CodeOfPowerOfTwo(bad), -1) << bad;
}

TEST(ScaleLayout, ExpandBlockScalesMatchesDefinition) {
  std::mt19937 rng(7);
  for (auto [n, k] : {std::pair<int64_t, int64_t>{128, 128},
                      {1, 32},
                      {200, 512},
                      {257, 160},
                      {129, 7168},
                      {384, 96},
                      {0, 128},
                      {5, 0}}) {
    int64_t nb = ceilDiv(n, 128), kb = ceilDiv(k, 128), g = k / 32;
    std::vector<uint8_t> blocks(nb * kb);
    for (auto &c : blocks)
      c = static_cast<uint8_t>(rng());
    std::vector<uint8_t> out = expandBlockScalesUE8M0(blocks.data(), n, k);
    ASSERT_EQ(static_cast<int64_t>(out.size()), n * g) << n << "x" << k;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t j = 0; j < g; ++j)
        ASSERT_EQ(out[r * g + j], blocks[(r / 128) * kb + (j * 32) / 128])
            << n << "x" << k << " [" << r << ", " << j << "]";
    // The Tensor form writes the same into a caller's buffer.
    std::vector<uint8_t> out2(n * g + 1, 0xAB);
    expandBlockScalesUE8M0(Tensor(blocks.data(), DType::UE8M0, {nb, kb}),
                           Tensor(out2.data(), DType::UE8M0, {n, g}));
    EXPECT_TRUE(std::equal(out.begin(), out.end(), out2.begin()));
    EXPECT_EQ(out2.back(), 0xAB); // nothing written past the end
  }
}

TEST(ScaleLayout, GroupScalesMatchDefinition) {
  std::mt19937 rng(11);
  for (auto [m, k] :
       {std::pair<int64_t, int64_t>{1, 128}, {33, 256}, {70, 384}, {4, 224}, {3, 32}, {0, 256}}) {
    int64_t kb = ceilDiv(k, 128), g = k / 32;
    std::vector<float> scales(m * kb);
    for (auto &s : scales)
      s = std::ldexp(1.0f, static_cast<int>(rng() % 255) - 127); // every code's value
    std::vector<uint8_t> out = groupScalesToUE8M0(scales.data(), m, k);
    ASSERT_EQ(static_cast<int64_t>(out.size()), m * g);
    for (int64_t r = 0; r < m; ++r)
      for (int64_t j = 0; j < g; ++j) {
        float want = scales[r * kb + j * 32 / 128];
        ASSERT_EQ(ue8m0ToF32(out[r * g + j]), want)
            << m << "x" << k << " [" << r << ", " << j << "]";
        ASSERT_EQ(out[r * g + j], f32ToUE8M0Ceil(want));
      }
    std::vector<uint8_t> out2(m * g);
    groupScalesToUE8M0(Tensor(scales.data(), DType::Float32, {m, kb}),
                       Tensor(out2.data(), DType::UE8M0, {m, g}));
    EXPECT_EQ(out, out2);
  }
}

TEST(ScaleLayout, ActQuantScalesRoundTrip) {
  // act_quant_fp8 with round_scale = True: scale = 2^ceil(log2(amax / 448)).
  std::vector<float> s;
  for (float amax : {1e-30f, 1e-4f, 0.5f, 1.0f, 448.0f, 449.0f, 3e4f, 1e30f})
    s.push_back(std::exp2(std::ceil(std::log2(amax / 448.0f))));
  std::vector<uint8_t> out = groupScalesToUE8M0(s.data(), 1, 128 * static_cast<int64_t>(s.size()));
  for (size_t i = 0; i < out.size(); ++i)
    EXPECT_EQ(ue8m0ToF32(out[i]), s[i / 4]) << i;
}

TEST(ScaleLayout, NonPowerOfTwoScaleIsNamed) {
  std::vector<float> s = {1.0f, 0.25f, 2.0f, 0.0625f, 0.003f, 4.0f};
  std::string msg = errorOf([&] { groupScalesToUE8M0(s.data(), 2, 384); });
  EXPECT_NE(msg.find("groupScalesToUE8M0: group scale [1, 1] (of [2, 3]) is 0.003"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("not a power of two"), std::string::npos) << msg;
  for (float bad : {0.0f, -2.0f, std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity(), 1.5f}) {
    std::vector<float> one = {bad};
    EXPECT_NE(errorOf([&] { groupScalesToUE8M0(one.data(), 1, 128); }).find("group scale [0, 0]"),
              std::string::npos)
        << bad;
  }
}

TEST(ScaleLayout, ShapeErrors) {
  std::vector<uint8_t> b(64), o(4096);
  std::vector<float> f(64, 1.0f);
  EXPECT_NE(errorOf([&] {
              expandBlockScalesUE8M0(b.data(), 4, 100);
            }).find("expandBlockScalesUE8M0: K = 100 is not a multiple of 32"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { groupScalesToUE8M0(f.data(), -1, 128); }).find("negative size"),
            std::string::npos);
  // N = 200, K = 512: block scales must be [2, 4].
  std::string msg = errorOf([&] {
    expandBlockScalesUE8M0(Tensor(b.data(), DType::UE8M0, {2, 3}),
                           Tensor(o.data(), DType::UE8M0, {200, 16}));
  });
  EXPECT_NE(msg.find("blockScales has shape [2, 3], expected [ceil(N / 128), ceil(K / 128)] = "
                     "[2, 4] for out [200, 16] (N = 200, K = 512)"),
            std::string::npos)
      << msg;
  msg = errorOf([&] {
    groupScalesToUE8M0(Tensor(f.data(), DType::Float32, {4, 2}),
                       Tensor(o.data(), DType::UE8M0, {5, 8}));
  });
  EXPECT_NE(msg.find("groupScales has shape [4, 2], expected [M, ceil(K / 128)] = [5, 2]"),
            std::string::npos)
      << msg;
  msg = errorOf([&] {
    groupScalesToUE8M0(Tensor(b.data(), DType::UE8M0, {4, 2}),
                       Tensor(o.data(), DType::UE8M0, {4, 8}));
  });
  EXPECT_NE(msg.find("groupScales must be float32, got ue8m0"), std::string::npos) << msg;
  msg = errorOf([&] {
    expandBlockScalesUE8M0(Tensor(b.data(), DType::UE8M0, {1, 1}),
                           Tensor(o.data(), DType::Float32, {4, 4}));
  });
  EXPECT_NE(msg.find("out must be ue8m0, got float32"), std::string::npos) << msg;
  msg = errorOf([&] {
    expandBlockScalesUE8M0(Tensor(b.data(), DType::UE8M0, {1, 1}),
                           Tensor(o.data(), DType::UE8M0, {4, 4}, Place::Device));
  });
  EXPECT_NE(msg.find("out is a device tensor"), std::string::npos) << msg;
  msg = errorOf([&] {
    expandBlockScalesUE8M0(Tensor(b.data(), DType::UE8M0, {1}),
                           Tensor(o.data(), DType::UE8M0, {4, 4}));
  });
  EXPECT_NE(msg.find("blockScales must be 2-D"), std::string::npos) << msg;
  msg = errorOf([&] {
    expandBlockScalesUE8M0(Tensor(nullptr, DType::UE8M0, {1, 1}),
                           Tensor(o.data(), DType::UE8M0, {4, 4}));
  });
  EXPECT_NE(msg.find("blockScales has no data"), std::string::npos) << msg;
}

} // namespace
