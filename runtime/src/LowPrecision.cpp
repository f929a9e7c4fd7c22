// LowPrecision: host implementations of the narrow-format conversions
// documented in tlrt/LowPrecision.h.
//
// The narrow encoders share one exact scheme: decode every non-negative
// finite code of the target format into a table (codes increase with
// magnitude), find the two neighbours of |x| and pick the nearer, on a tie
// the even code (whose mantissa LSB is 0). All comparisons are done in
// double, where every f32 and every midpoint of two narrow values is exact,
// so the result is exactly RNE.
#include "tlrt/LowPrecision.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

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
// subnormals at exponent field 0; no special values: callers only decode
// finite codes here).
double minifloatValue(uint32_t code, int manBits, int bias) {
  uint32_t exp = code >> manBits;
  uint32_t man = code & ((1u << manBits) - 1);
  if (exp == 0)
    return std::ldexp(static_cast<double>(man), 1 - bias - manBits);
  return std::ldexp(static_cast<double>((1u << manBits) | man),
                    static_cast<int>(exp) - bias - manBits);
}

struct CodeTable {
  std::vector<double> values; // values[c] for codes 0..maxCode
};

CodeTable makeTable(uint32_t maxCode, int manBits, int bias) {
  CodeTable table;
  table.values.resize(maxCode + 1);
  for (uint32_t c = 0; c <= maxCode; ++c)
    table.values[c] = minifloatValue(c, manBits, bias);
  return table;
}

// RNE of magnitude a (finite, 0 <= a < values.back()) to a code.
uint32_t roundToCode(const CodeTable &table, double a) {
  const std::vector<double> &v = table.values;
  // First code whose value is > a; its predecessor is <= a.
  auto it = std::upper_bound(v.begin(), v.end(), a);
  uint32_t hi = static_cast<uint32_t>(it - v.begin());
  uint32_t lo = hi - 1;
  if (hi == v.size()) // callers keep a below the top; stay in bounds anyway
    return lo;
  if (v[lo] == a)
    return lo;
  double mid = (v[lo] + v[hi]) / 2;
  if (a < mid)
    return lo;
  if (a > mid)
    return hi;
  return (lo & 1) == 0 ? lo : hi;
}

// Saturating encoder for a format whose largest finite magnitude has code
// maxCode; signBit is the position of the sign in the result.
uint32_t encodeSatfinite(const CodeTable &table, float x, uint32_t maxCode,
                         int signBit) {
  uint32_t sign = (bitsOf(x) >> 31) << signBit;
  double a = std::fabs(static_cast<double>(x));
  if (a >= table.values[maxCode])
    return sign | maxCode;
  return sign | roundToCode(table, a);
}

const CodeTable &e4m3Table() {
  static const CodeTable table = makeTable(0x7E, 3, 7);
  return table;
}
const CodeTable &e5m2Table() {
  static const CodeTable table = makeTable(0x7B, 2, 15);
  return table;
}
const CodeTable &e2m1Table() {
  static const CodeTable table = makeTable(0x7, 1, 1);
  return table;
}
const CodeTable &f16Table() {
  static const CodeTable table = makeTable(0x7BFF, 10, 15);
  return table;
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
  if (a >= 65504.0)
    return sign | 0x7BFF;
  return sign | static_cast<uint16_t>(roundToCode(f16Table(), a));
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
  return static_cast<uint8_t>(encodeSatfinite(e4m3Table(), x, 0x7E, 7));
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
  return static_cast<uint8_t>(encodeSatfinite(e5m2Table(), x, 0x7B, 7));
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
  return static_cast<uint8_t>(encodeSatfinite(e2m1Table(), x, 0x7, 3));
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
