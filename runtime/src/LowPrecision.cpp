// LowPrecision: host implementations of the narrow-format conversions
// documented in tlrt/LowPrecision.h.
//
// The narrow encoders share one exact integer scheme (roundMinifloat): take
// the f32 significand, shift it right to the target format's quantum at
// that magnitude (subnormal quantum below the smallest normal) and round to
// nearest even on the integer; a carry out of the mantissa lands on the next
// exponent's code by construction. Verified against the GPU over all 2^32
// inputs (see the header).
#include "tlrt/LowPrecision.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tlrt {
namespace {

uint32_t bitsOf(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

float floatOf(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// Value of a non-negative minifloat code with the given layout (IEEE-style
// subnormals at exponent field 0; callers only decode finite codes here).
double minifloatValue(uint32_t code, int manBits, int bias) {
  uint32_t exp = code >> manBits;
  uint32_t man = code & ((1u << manBits) - 1);
  if (exp == 0)
    return std::ldexp(static_cast<double>(man), 1 - bias - manBits);
  return std::ldexp(static_cast<double>((1u << manBits) | man),
                    static_cast<int>(exp) - bias - manBits);
}

// RNE of a finite non-negative f32 (bit pattern a < 0x7F800000) to the code
// of a minifloat with manBits mantissa bits and the given bias, without
// saturation (the result may exceed the format's largest code).
uint32_t roundMinifloat(uint32_t a, int manBits, int bias) {
  int biased = static_cast<int>(a >> 23);
  int e = (biased == 0 ? 1 : biased) - 127; // unbiased f32 exponent
  uint64_t m = (a & 0x7FFFFFu) | (biased == 0 ? 0u : 0x800000u);
  // value = m * 2^(e - 23). The target's quantum at this magnitude is
  // 2^(max(e, minNormal) - manBits); s is the shift from m to that unit.
  int minNormal = 1 - bias;
  int s = std::max(e, minNormal) - manBits - (e - 23);
  uint64_t n = 0;
  if (s < 64)
    n = (m + (uint64_t(1) << (s - 1)) - 1 + ((m >> s) & 1)) >> s;
  if (e < minNormal)
    return static_cast<uint32_t>(n); // subnormal (n == 2^manBits: min normal)
  // n in [2^manBits, 2^(manBits+1)]; the top value is the next binade.
  return (static_cast<uint32_t>(e - minNormal + 1) << manBits) +
         static_cast<uint32_t>(n - (uint64_t(1) << manBits));
}

// Saturating encoder: |x| at or above the largest finite value (maxCode)
// gives maxCode; signBit is where the sign goes.
uint32_t encodeSatfinite(float x, int manBits, int bias, float maxValue,
                         uint32_t maxCode, int signBit) {
  uint32_t u = bitsOf(x);
  uint32_t sign = (u >> 31) << signBit;
  uint32_t a = u & 0x7FFFFFFFu;
  if (a >= bitsOf(maxValue))
    return sign | maxCode;
  return sign | std::min(roundMinifloat(a, manBits, bias), maxCode);
}

} // namespace

uint16_t f32ToBF16(float x) {
  uint32_t u = bitsOf(x);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u)
    return 0x7FFF;
  // Adding 0x7FFF plus the LSB of the kept half rounds to nearest even; a
  // carry out of the mantissa correctly bumps the exponent (up to Inf).
  uint32_t lsb = (u >> 16) & 1;
  return static_cast<uint16_t>((u + 0x7FFFu + lsb) >> 16);
}

float bf16ToF32(uint16_t bits) {
  return floatOf(static_cast<uint32_t>(bits) << 16);
}

uint16_t f32ToF16(float x) {
  if (std::isnan(x))
    return 0x7FFF;
  uint16_t sign = static_cast<uint16_t>((bitsOf(x) >> 31) << 15);
  double a = std::fabs(static_cast<double>(x));
  // 65520 is the midpoint between 65504 (0x7BFF, odd) and 2^16 (the
  // overflow step, even): ties and above round to Inf.
  if (a >= 65520.0)
    return sign | 0x7C00;
  return sign | static_cast<uint16_t>(std::min<uint32_t>(
                    roundMinifloat(bitsOf(x) & 0x7FFFFFFFu, 10, 15), 0x7BFF));
}

float f16ToF32(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits >> 15) << 31;
  uint32_t exp = (bits >> 10) & 0x1F;
  uint32_t man = bits & 0x3FF;
  if (exp == 0x1F)
    return floatOf(sign | 0x7F800000u | (man << 13));
  float mag = static_cast<float>(minifloatValue(bits & 0x7FFF, 10, 15));
  return floatOf(sign | bitsOf(mag));
}

uint8_t f32ToE4M3(float x) {
  if (std::isnan(x))
    return 0x7F;
  return static_cast<uint8_t>(encodeSatfinite(x, 3, 7, kE4M3Max, 0x7E, 7));
}

float e4m3ToF32(uint8_t code) {
  uint32_t sign = static_cast<uint32_t>(code >> 7) << 31;
  uint32_t mag = code & 0x7F;
  if (mag == 0x7F)
    return floatOf(sign | 0x7FC00000u);
  return floatOf(sign | bitsOf(static_cast<float>(minifloatValue(mag, 3, 7))));
}

uint8_t f32ToE5M2(float x) {
  if (std::isnan(x))
    return 0x7F;
  return static_cast<uint8_t>(encodeSatfinite(x, 2, 15, kE5M2Max, 0x7B, 7));
}

float e5m2ToF32(uint8_t code) {
  uint32_t sign = static_cast<uint32_t>(code >> 7) << 31;
  uint32_t mag = code & 0x7F;
  if (mag == 0x7C)
    return floatOf(sign | 0x7F800000u);
  if (mag > 0x7C)
    return floatOf(sign | 0x7FC00000u);
  return floatOf(sign | bitsOf(static_cast<float>(minifloatValue(mag, 2, 15))));
}

uint8_t f32ToE2M1(float x) {
  if (std::isnan(x))
    return 0x7;
  return static_cast<uint8_t>(encodeSatfinite(x, 1, 1, kE2M1Max, 0x7, 3));
}

float e2m1ToF32(uint8_t code) {
  uint32_t sign = static_cast<uint32_t>((code >> 3) & 1) << 31;
  return floatOf(sign |
                 bitsOf(static_cast<float>(minifloatValue(code & 7, 1, 1))));
}

float ue8m0ToF32(uint8_t code) {
  if (code == 0xFF)
    return floatOf(0x7FC00000u);
  return std::ldexp(1.0f, static_cast<int>(code) - 127);
}

namespace {

// Exponent k of 2^k bracketing a positive finite x, rounded up or down.
uint8_t ue8m0FromExponent(long k) {
  if (k < -127)
    return 0;
  if (k > 127)
    return 254;
  return static_cast<uint8_t>(k + 127);
}

} // namespace

uint8_t f32ToUE8M0Ceil(float x) {
  if (std::isnan(x))
    return 0xFF;
  if (x <= 0.0f)
    return 0;
  if (std::isinf(x))
    return 254;
  int e = 0;
  double m = std::frexp(static_cast<double>(x), &e); // x = m * 2^e, m in [.5,1)
  long k = (m == 0.5) ? e - 1 : e;
  return ue8m0FromExponent(k);
}

uint8_t f32ToUE8M0Floor(float x) {
  if (std::isnan(x))
    return 0xFF;
  if (x <= 0.0f)
    return 0;
  if (std::isinf(x))
    return 254;
  int e = 0;
  std::frexp(static_cast<double>(x), &e);
  return ue8m0FromExponent(static_cast<long>(e) - 1);
}

uint8_t ue8m0QuantScale(float amax, float fmax) {
  if (std::isnan(amax))
    return 0xFF;
  float clamped = std::max(amax, 1e-4f);
  return f32ToUE8M0Ceil(clamped / fmax);
}

} // namespace tlrt
