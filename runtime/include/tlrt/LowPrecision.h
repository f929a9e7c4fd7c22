// LowPrecision: exact host conversions between f32 and the narrow formats
// used by FP8/FP4 kernels and checkpoints. Every function is bit-identical
// to the corresponding NVIDIA conversion instruction (PTX cvt), so host
// reference code and device kernels agree to the bit.
//
// Rules (x is the f32 input; "RNE" = round to nearest, ties to even, where
// "even" is the candidate whose lowest mantissa bit is 0; subnormals of the
// target format are produced and rounded the same way):
//
//  bf16  f32ToBF16     cvt.rn.bf16.f32: RNE, overflow -> +-Inf, Inf kept,
//                      NaN -> 0x7FFF (canonical NaN, sign dropped).
//  f16   f32ToF16      cvt.rn.f16.f32: RNE, |x| >= 65520 -> +-Inf,
//                      NaN -> 0x7FFF.
//  e4m3  f32ToE4M3     cvt.rn.satfinite.e4m3x2.f32 (float8_e4m3fn: bias 7,
//                      no Inf, max 448 = 0x7E, NaN = 0x7F/0xFF): RNE,
//                      |x| > 448 and +-Inf saturate to +-448,
//                      NaN -> 0x7F. Signed zero kept.
//  e5m2  f32ToE5M2     cvt.rn.satfinite.e5m2x2.f32 (bias 15, max 57344 =
//                      0x7B): RNE, |x| > 57344 and +-Inf saturate to
//                      +-57344, NaN -> 0x7F.
//  e2m1  f32ToE2M1     cvt.rn.satfinite.e2m1x2.f32 (float4_e2m1fn: bias 1,
//                      magnitudes {0, .5, 1, 1.5, 2, 3, 4, 6}, sign = bit 3,
//                      no Inf/NaN): RNE, |x| > 6 and +-Inf saturate to +-6,
//                      NaN -> 0x7 (+6; the format has no NaN). Result in
//                      the low 4 bits.
//  ue8m0 ue8m0ToF32    float8_e8m0fnu: value 2^(code - 127), code 0 =
//                      2^-127, code 255 = NaN. No sign, no zero.
//        f32ToUE8M0Ceil  (cvt.rp.satfinite.ue8m0x2.f32) smallest power of
//                      two >= x; f32ToUE8M0Floor (cvt.rz...) largest <= x.
//                      Results below 2^-127 give code 0, above 2^127 (and
//                      +Inf) give 254 (satfinite); NaN gives 255; x <= 0
//                      gives 0 (a scale is never zero or negative).
//  quantisation scale  ue8m0QuantScale(amax, fmax): the DeepSeek rule
//                      scale = 2^ceil(log2(amax / fmax)), with amax / fmax
//                      computed in f32 (RNE) and amax clamped below to
//                      1e-4 first (as the reference does) so all-zero
//                      blocks get a finite scale. Quantise with
//                      q = f32ToE4M3(x / scale), dequantise with q * scale.
//
// Verified: f32ToBF16, f32ToF16, f32ToE4M3 and f32ToE5M2 agree with the
// cvt instructions on an H100 for all 2^32 f32 inputs
// (scripts/check-lowprecision-gpu.sh, 2026-11-23); the same run checks
// f32ToE2M1 against a brute-force nearest-value reference over all 2^32
// inputs. The e2m1 and ue8m0 instructions need sm_100 and are not checked
// on hardware yet: the rules follow the PTX ISA description, NaN -> e2m1
// being the least certain part (verify on Blackwell).
//
// Packing: two e2m1 codes per byte, the LOW nibble holds the even element
// (element 2i), the high nibble element 2i + 1.
#pragma once

#include <cstdint>

namespace tlrt {

constexpr float kE4M3Max = 448.0f;
constexpr float kE5M2Max = 57344.0f;
constexpr float kE2M1Max = 6.0f;

uint16_t f32ToBF16(float x);
float bf16ToF32(uint16_t bits);

uint16_t f32ToF16(float x);
float f16ToF32(uint16_t bits);

uint8_t f32ToE4M3(float x);
float e4m3ToF32(uint8_t code);

uint8_t f32ToE5M2(float x);
float e5m2ToF32(uint8_t code);

// Returns a 4-bit code in the low nibble.
uint8_t f32ToE2M1(float x);
// Uses only the low 4 bits of code.
float e2m1ToF32(uint8_t code);

inline uint8_t packE2M1(uint8_t even, uint8_t odd) {
  return static_cast<uint8_t>((even & 0xF) | ((odd & 0xF) << 4));
}
inline uint8_t unpackE2M1Even(uint8_t byte) { return byte & 0xF; }
inline uint8_t unpackE2M1Odd(uint8_t byte) { return byte >> 4; }

float ue8m0ToF32(uint8_t code);
uint8_t f32ToUE8M0Ceil(float x);
uint8_t f32ToUE8M0Floor(float x);

// DeepSeek block-quantisation scale for a block with absolute maximum amax
// and target format maximum fmax (kE4M3Max or kE2M1Max); see file comment.
uint8_t ue8m0QuantScale(float amax, float fmax);

} // namespace tlrt
