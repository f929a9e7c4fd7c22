// ScaleLayout: host re-layout of FP8/FP4 quantisation scales into the form
// the block-scaled GEMM examples (gemm_fp8_mx, gemm_fp4_fp8) and the
// Blackwell block-scaled MMA take: one ue8m0 scale per 32 consecutive
// elements of K, per row — a [rows, K / 32] ue8m0 tensor, row-major.
//
// DeepSeek-V4 stores coarser scales:
//  * FP8 linear weights [N, K]: one ue8m0 scale per 128x128 block,
//    [ceil(N / 128), ceil(K / 128)] -> expandBlockScalesUE8M0 replicates
//    each block scale over its 128 rows and 4 groups of 32.
//  * FP8 activations from act_quant_fp8 (round_scale = True): one f32 scale
//    per 1x128 group, [M, ceil(K / 128)], each an exact power of two ->
//    groupScalesToUE8M0 converts each to its ue8m0 code (biased exponent,
//    value 2^(code - 127); see LowPrecision.h) and replicates it over its 4
//    groups of 32. A scale that is not a power of two in 2^-127 .. 2^127
//    (act_quant_fp8 with round_scale = False, zero, negative, NaN, Inf) is
//    an error naming the first such element: no ue8m0 code holds it.
//  * FP4 expert weights already come as [N, K / 32] ue8m0.
//
// K must be a multiple of 32 (it need not be one of 128: the last 128-wide
// block or group then covers fewer groups of 32). Every function checks
// shapes and throws tlrt::Error with a message naming the function, the
// tensor and the sizes. Plain host code: no GPU, no MLIR.
#pragma once

#include "tlrt/Tensor.h"

#include <cstdint>
#include <vector>

namespace tlrt {

// Rows and columns of K one stored scale covers in each source layout.
constexpr int64_t kScaleBlock = 128; // V4 weight blocks (128x128), activation groups (1x128)
constexpr int64_t kScaleGroup = 32;  // block-scaled MMA: one scale per 32 elements of K

// [ceil(rows / 128), ceil(k / 128)] ue8m0 codes -> [rows, k / 32] ue8m0 codes.
std::vector<uint8_t> expandBlockScalesUE8M0(const uint8_t *blockScales, int64_t rows, int64_t k);

// [rows, ceil(k / 128)] f32 powers of two -> [rows, k / 32] ue8m0 codes.
std::vector<uint8_t> groupScalesToUE8M0(const float *groupScales, int64_t rows, int64_t k);

// Tensor forms, writing into `out`: host tensors, `out` ue8m0 [rows, k / 32]
// (rows and k are taken from it: k = 32 * out.shape[1]); `blockScales`
// ue8m0 [ceil(rows / 128), ceil(k / 128)]; `groupScales` float32
// [rows, ceil(k / 128)].
void expandBlockScalesUE8M0(const Tensor &blockScales, const Tensor &out);
void groupScalesToUE8M0(const Tensor &groupScales, const Tensor &out);

// The ue8m0 code of x if x is exactly 2^e with -127 <= e <= 127, else -1.
int ue8m0CodeOfPowerOfTwo(float x);

} // namespace tlrt
