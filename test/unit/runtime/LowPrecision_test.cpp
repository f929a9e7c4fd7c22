// Tests for tlrt/LowPrecision.h: exhaustive decode->encode round trips over
// every code, ties-to-even, saturation, subnormals, NaN/Inf, and a brute
// force nearest-value check of the narrow encoders over a sweep of f32.
#include "tlrt/LowPrecision.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

using namespace tlrt;

namespace {

float fromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint32_t toBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Independent reference: nearest finite code by scanning every code, ties to
// the even code, saturating at the largest finite magnitude.
template <typename Decode>
uint32_t bruteNearest(float x, Decode decode, uint32_t maxCode, int signBit) {
  uint32_t sign = std::signbit(x) ? (1u << signBit) : 0;
  double a = std::fabs(static_cast<double>(x));
  uint32_t best = 0;
  double bestDist = std::numeric_limits<double>::infinity();
  for (uint32_t c = 0; c <= maxCode; ++c) {
    double d = std::fabs(static_cast<double>(decode(c)) - a);
    if (d < bestDist || (d == bestDist && (c & 1) == 0)) {
      best = c;
      bestDist = d;
    }
  }
  return sign | best;
}

// f32 bit patterns from 0 up to (and past) limit, in coarse steps plus every
// pattern near each power of two, both signs.
template <typename Fn> void sweep(float limit, Fn fn) {
  uint32_t top = toBits(limit * 1.25f);
  for (uint32_t u = 0; u <= top; u += 12289) {
    fn(fromBits(u));
    fn(fromBits(u | 0x80000000u));
  }
}

} // namespace

TEST(LowPrecision, BF16AllCodesRoundTrip) {
  for (uint32_t c = 0; c < 0x10000; ++c) {
    float f = bf16ToF32(static_cast<uint16_t>(c));
    EXPECT_EQ(toBits(f), c << 16);
    uint16_t back = f32ToBF16(f);
    if (std::isnan(f))
      EXPECT_EQ(back, 0x7FFF) << c;
    else
      EXPECT_EQ(back, c) << c;
  }
}

TEST(LowPrecision, BF16Rounding) {
  // 1 + 2^-8 is halfway between 0x3F80 and 0x3F81: even wins.
  EXPECT_EQ(f32ToBF16(fromBits(0x3F808000u)), 0x3F80);
  EXPECT_EQ(f32ToBF16(fromBits(0x3F818000u)), 0x3F82);
  EXPECT_EQ(f32ToBF16(fromBits(0x3F808001u)), 0x3F81);
  EXPECT_EQ(f32ToBF16(fromBits(0x3F807FFFu)), 0x3F80);
  EXPECT_EQ(f32ToBF16(std::numeric_limits<float>::max()), 0x7F80); // -> Inf
  EXPECT_EQ(f32ToBF16(-kInf), 0xFF80);
  EXPECT_EQ(f32ToBF16(-kNaN), 0x7FFF);
  EXPECT_EQ(f32ToBF16(-0.0f), 0x8000);
  EXPECT_EQ(f32ToBF16(fromBits(0x00008000u)), 0x0000); // subnormal tie
  EXPECT_EQ(f32ToBF16(fromBits(0x00018000u)), 0x0002);
}

TEST(LowPrecision, F16AllCodesRoundTripAndRounding) {
  for (uint32_t c = 0; c < 0x10000; ++c) {
    float f = f16ToF32(static_cast<uint16_t>(c));
    uint16_t back = f32ToF16(f);
    if (std::isnan(f))
      EXPECT_EQ(back, 0x7FFF) << c;
    else
      EXPECT_EQ(back, c) << c;
  }
  EXPECT_EQ(f16ToF32(0x3C00), 1.0f);
  EXPECT_EQ(f16ToF32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f32ToF16(2049.0f), f32ToF16(2048.0f)); // tie to even
  EXPECT_EQ(f32ToF16(2051.0f), f32ToF16(2052.0f));
  EXPECT_EQ(f32ToF16(65519.0f), 0x7BFF);
  EXPECT_EQ(f32ToF16(65520.0f), 0x7C00);
  EXPECT_EQ(f32ToF16(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(f32ToF16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(f32ToF16(-kInf), 0xFC00);
}

TEST(LowPrecision, E4M3AllCodes) {
  for (uint32_t c = 0; c < 256; ++c) {
    float f = e4m3ToF32(static_cast<uint8_t>(c));
    if ((c & 0x7F) == 0x7F) {
      EXPECT_TRUE(std::isnan(f)) << c;
      EXPECT_EQ(f32ToE4M3(f), 0x7F);
      continue;
    }
    EXPECT_EQ(f32ToE4M3(f), c) << c;
  }
  EXPECT_EQ(e4m3ToF32(0x7E), 448.0f);
  EXPECT_EQ(e4m3ToF32(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(e4m3ToF32(0x08), std::ldexp(1.0f, -6));
  EXPECT_EQ(e4m3ToF32(0x38), 1.0f);
  EXPECT_EQ(e4m3ToF32(0xB8), -1.0f);
}

TEST(LowPrecision, E4M3RoundingAndSaturation) {
  EXPECT_EQ(f32ToE4M3(1.0625f), 0x38); // between 1 and 1.125: even
  EXPECT_EQ(f32ToE4M3(1.1875f), 0x3A); // between 1.125 and 1.25: even
  EXPECT_EQ(f32ToE4M3(1.07f), 0x39);
  EXPECT_EQ(f32ToE4M3(std::ldexp(1.0f, -10)), 0x00); // half min subnormal
  EXPECT_EQ(f32ToE4M3(std::ldexp(1.5f, -10)), 0x01);
  EXPECT_EQ(f32ToE4M3(std::ldexp(3.0f, -10)), 0x02); // tie 1 vs 2: even
  EXPECT_EQ(f32ToE4M3(std::ldexp(7.5f, -9)), 0x08);  // subnormal -> normal
  EXPECT_EQ(f32ToE4M3(448.0f), 0x7E);
  EXPECT_EQ(f32ToE4M3(464.0f), 0x7E);
  EXPECT_EQ(f32ToE4M3(1e30f), 0x7E);
  EXPECT_EQ(f32ToE4M3(kInf), 0x7E);
  EXPECT_EQ(f32ToE4M3(-kInf), 0xFE);
  EXPECT_EQ(f32ToE4M3(-500.0f), 0xFE);
  EXPECT_EQ(f32ToE4M3(kNaN), 0x7F);
  EXPECT_EQ(f32ToE4M3(-kNaN), 0x7F);
  EXPECT_EQ(f32ToE4M3(-0.0f), 0x80);
  EXPECT_EQ(f32ToE4M3(-1e-30f), 0x80);
}

TEST(LowPrecision, E4M3MatchesBruteForce) {
  sweep(448.0f, [](float x) {
    ASSERT_EQ(f32ToE4M3(x),
              bruteNearest(x, [](uint32_t c) { return e4m3ToF32(c); }, 0x7E,
                           7))
        << x;
  });
}

TEST(LowPrecision, E5M2AllCodesAndRules) {
  for (uint32_t c = 0; c < 256; ++c) {
    float f = e5m2ToF32(static_cast<uint8_t>(c));
    uint32_t mag = c & 0x7F;
    if (mag > 0x7C) {
      EXPECT_TRUE(std::isnan(f)) << c;
      EXPECT_EQ(f32ToE5M2(f), 0x7F);
    } else if (mag == 0x7C) {
      EXPECT_TRUE(std::isinf(f)) << c;
      EXPECT_EQ(f32ToE5M2(f), (c & 0x80) | 0x7B); // satfinite
    } else {
      EXPECT_EQ(f32ToE5M2(f), c) << c;
    }
  }
  EXPECT_EQ(e5m2ToF32(0x7B), 57344.0f);
  EXPECT_EQ(e5m2ToF32(0x01), std::ldexp(1.0f, -16));
  EXPECT_EQ(f32ToE5M2(61440.0f), 0x7B);
  EXPECT_EQ(f32ToE5M2(1.125f), 0x3C); // between 1 and 1.25: even
  EXPECT_EQ(f32ToE5M2(1.375f), 0x3E);
  EXPECT_EQ(f32ToE5M2(std::ldexp(1.0f, -17)), 0x00);
  sweep(57344.0f, [](float x) {
    ASSERT_EQ(f32ToE5M2(x),
              bruteNearest(x, [](uint32_t c) { return e5m2ToF32(c); }, 0x7B,
                           7))
        << x;
  });
}

TEST(LowPrecision, E2M1AllCodesAndRules) {
  const float values[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (uint32_t c = 0; c < 16; ++c) {
    float f = e2m1ToF32(static_cast<uint8_t>(c));
    EXPECT_EQ(std::fabs(f), values[c & 7]) << c;
    EXPECT_EQ(std::signbit(f), (c & 8) != 0) << c;
    EXPECT_EQ(f32ToE2M1(f), c) << c;
  }
  EXPECT_EQ(f32ToE2M1(0.25f), 0x0); // ties to even
  EXPECT_EQ(f32ToE2M1(0.75f), 0x2);
  EXPECT_EQ(f32ToE2M1(1.25f), 0x2);
  EXPECT_EQ(f32ToE2M1(1.75f), 0x4);
  EXPECT_EQ(f32ToE2M1(2.5f), 0x4);
  EXPECT_EQ(f32ToE2M1(3.5f), 0x6);
  EXPECT_EQ(f32ToE2M1(5.0f), 0x6);
  EXPECT_EQ(f32ToE2M1(5.01f), 0x7);
  EXPECT_EQ(f32ToE2M1(7.0f), 0x7);
  EXPECT_EQ(f32ToE2M1(-100.0f), 0xF);
  EXPECT_EQ(f32ToE2M1(-kInf), 0xF);
  EXPECT_EQ(f32ToE2M1(kNaN), 0x7);
  EXPECT_EQ(f32ToE2M1(-0.3f), 0x9);
  EXPECT_EQ(f32ToE2M1(-0.0f), 0x8);
  EXPECT_EQ(f32ToE2M1(1e-30f), 0x0);
  sweep(6.0f, [](float x) {
    ASSERT_EQ(f32ToE2M1(x),
              bruteNearest(x, [](uint32_t c) { return e2m1ToF32(c); }, 0x7,
                           3))
        << x;
  });
}

TEST(LowPrecision, E2M1Packing) {
  EXPECT_EQ(packE2M1(0x1, 0xA), 0xA1);
  EXPECT_EQ(unpackE2M1Even(0xA1), 0x1);
  EXPECT_EQ(unpackE2M1Odd(0xA1), 0xA);
  EXPECT_EQ(packE2M1(0xFF, 0x0), 0x0F); // only low nibbles used
}

TEST(LowPrecision, UE8M0AllCodes) {
  for (uint32_t c = 0; c < 255; ++c) {
    float f = ue8m0ToF32(static_cast<uint8_t>(c));
    EXPECT_EQ(f, std::ldexp(1.0f, static_cast<int>(c) - 127)) << c;
    EXPECT_EQ(f32ToUE8M0Ceil(f), c) << c;
    EXPECT_EQ(f32ToUE8M0Floor(f), c) << c;
  }
  EXPECT_TRUE(std::isnan(ue8m0ToF32(255)));
  EXPECT_EQ(ue8m0ToF32(127), 1.0f);
  EXPECT_EQ(ue8m0ToF32(0), std::ldexp(1.0f, -127));
}

TEST(LowPrecision, UE8M0Encoding) {
  EXPECT_EQ(f32ToUE8M0Ceil(1.5f), 128);
  EXPECT_EQ(f32ToUE8M0Floor(1.5f), 127);
  EXPECT_EQ(f32ToUE8M0Ceil(0.75f), 127);
  EXPECT_EQ(f32ToUE8M0Floor(0.75f), 126);
  EXPECT_EQ(f32ToUE8M0Ceil(std::nextafter(1.0f, 2.0f)), 128);
  EXPECT_EQ(f32ToUE8M0Ceil(std::ldexp(1.0f, -140)), 0);  // below 2^-127
  EXPECT_EQ(f32ToUE8M0Ceil(std::ldexp(1.5f, -127)), 1);  // subnormal f32
  EXPECT_EQ(f32ToUE8M0Floor(std::ldexp(1.5f, -127)), 0);
  EXPECT_EQ(f32ToUE8M0Ceil(std::numeric_limits<float>::max()), 254);
  EXPECT_EQ(f32ToUE8M0Ceil(kInf), 254);
  EXPECT_EQ(f32ToUE8M0Ceil(kNaN), 255);
  EXPECT_EQ(f32ToUE8M0Ceil(0.0f), 0);
  EXPECT_EQ(f32ToUE8M0Ceil(-3.0f), 0);
}

TEST(LowPrecision, DeepSeekQuantScale) {
  EXPECT_EQ(ue8m0QuantScale(448.0f, kE4M3Max), 127);        // exactly 1
  EXPECT_EQ(ue8m0QuantScale(449.0f, kE4M3Max), 128);        // just above
  EXPECT_EQ(ue8m0QuantScale(6.0f, kE2M1Max), 127);
  EXPECT_EQ(ue8m0QuantScale(0.75f, kE2M1Max), 127 - 3);     // 0.125
  EXPECT_EQ(ue8m0QuantScale(0.0f, kE4M3Max), 127 - 22);     // clamp 1e-4
  EXPECT_EQ(ue8m0QuantScale(kNaN, kE4M3Max), 255);
  // The scaled block never saturates: |x| / scale <= fmax.
  for (float amax : {1e-3f, 0.37f, 1.0f, 3.3f, 448.0f, 1000.0f, 5e6f}) {
    float s = ue8m0ToF32(ue8m0QuantScale(amax, kE4M3Max));
    EXPECT_LE(amax / s, kE4M3Max) << amax;
    EXPECT_GT(amax / s, kE4M3Max / 2) << amax;
  }
}
