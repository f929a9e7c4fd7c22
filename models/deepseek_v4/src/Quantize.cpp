// Quantize: FP8 128x128-block and FP4 1x32-group weight quantisation with
// ue8m0 scales.
#include "tlv4/Quantize.h"

#include "tlrt/LowPrecision.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tlv4 {

QuantizedWeight quantizeFp8Blocks(const std::vector<float> &w, int64_t rows,
                                  int64_t cols, int64_t blockRows,
                                  int64_t blockCols) {
  if (rows < 0 || cols < 0 || static_cast<int64_t>(w.size()) != rows * cols ||
      blockRows <= 0 || blockCols <= 0)
    throw std::invalid_argument(
        fmt::format("quantizeFp8Blocks: {} values for [{}, {}] with {}x{} "
                    "blocks",
                    w.size(), rows, cols, blockRows, blockCols));
  int64_t sr = (rows + blockRows - 1) / blockRows;
  int64_t sc = (cols + blockCols - 1) / blockCols;
  QuantizedWeight q;
  q.data.resize(w.size());
  q.scaleCodes.resize(static_cast<size_t>(sr * sc));
  q.scales.resize(q.scaleCodes.size());
  for (int64_t br = 0; br < sr; ++br) {
    for (int64_t bc = 0; bc < sc; ++bc) {
      int64_t r0 = br * blockRows, r1 = std::min(rows, r0 + blockRows);
      int64_t c0 = bc * blockCols, c1 = std::min(cols, c0 + blockCols);
      float amax = 0;
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c)
          amax = std::max(amax, std::fabs(w[r * cols + c]));
      uint8_t code = tlrt::ue8m0QuantScale(amax, tlrt::kE4M3Max);
      float s = tlrt::ue8m0ToF32(code);
      q.scaleCodes[br * sc + bc] = code;
      q.scales[br * sc + bc] = s;
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c)
          q.data[r * cols + c] = tlrt::f32ToE4M3(w[r * cols + c] / s);
    }
  }
  return q;
}

QuantizedWeight quantizeFp4Groups(const std::vector<float> &w, int64_t rows,
                                  int64_t cols, int64_t group) {
  if (rows < 0 || cols < 0 || static_cast<int64_t>(w.size()) != rows * cols ||
      group <= 0 || group % 2 != 0 || cols % group != 0)
    throw std::invalid_argument(
        fmt::format("quantizeFp4Groups: {} values for [{}, {}] with group {}",
                    w.size(), rows, cols, group));
  int64_t groups = cols / group;
  QuantizedWeight q;
  q.data.assign(w.size() / 2, 0);
  q.scaleCodes.resize(static_cast<size_t>(rows * groups));
  q.scales.resize(q.scaleCodes.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      const float *x = &w[r * cols + g * group];
      float amax = 0;
      for (int64_t i = 0; i < group; ++i)
        amax = std::max(amax, std::fabs(x[i]));
      uint8_t code = tlrt::ue8m0QuantScale(amax, tlrt::kE2M1Max);
      float s = tlrt::ue8m0ToF32(code);
      q.scaleCodes[r * groups + g] = code;
      q.scales[r * groups + g] = s;
      for (int64_t i = 0; i < group; i += 2) {
        int64_t flat = r * cols + g * group + i; // even
        q.data[flat / 2] = tlrt::packE2M1(tlrt::f32ToE2M1(x[i] / s),
                                          tlrt::f32ToE2M1(x[i + 1] / s));
      }
    }
  }
  return q;
}

} // namespace tlv4
