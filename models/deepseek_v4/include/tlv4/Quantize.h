// Quantize: weight quantisation the way DeepSeek's checkpoints are made —
// FP8 e4m3 in 128x128 blocks and FP4 e2m1 in 1x32 row groups, each block
// with a power-of-two (ue8m0) scale 2^ceil(log2(amax / fmax)); see
// tlrt/LowPrecision.h for the exact rounding rules.
#pragma once

#include <cstdint>
#include <vector>

namespace tlv4 {

struct QuantizedWeight {
  std::vector<uint8_t> data;       // e4m3 codes, or packed e2m1 pairs
  std::vector<uint8_t> scaleCodes; // ue8m0 codes, row-major scale grid
  std::vector<float> scales;       // the same scales as f32
};

// w is row-major [rows, cols]. Scale grid [ceil(rows/blockRows),
// ceil(cols/blockCols)]; partial edge blocks use their own amax.
QuantizedWeight quantizeFp8Blocks(const std::vector<float> &w, int64_t rows,
                                  int64_t cols, int64_t blockRows = 128,
                                  int64_t blockCols = 128);

// w is row-major [rows, cols], cols a multiple of group (and even). Data is
// rows*cols/2 bytes, low nibble = even element; scale grid [rows,
// cols/group].
QuantizedWeight quantizeFp4Groups(const std::vector<float> &w, int64_t rows,
                                  int64_t cols, int64_t group = 32);

} // namespace tlv4
