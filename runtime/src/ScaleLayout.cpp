// ScaleLayout: [ceil(N/128), ceil(K/128)] and [M, ceil(K/128)] scales to the
// [rows, K/32] ue8m0 layout of the block-scaled GEMMs (see ScaleLayout.h).
#include "tlrt/ScaleLayout.h"

#include "tlrt/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <tuple>

namespace tlrt {

namespace {

int64_t ceilDivPositive(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Checks rows and k of the target layout; returns k / 32.
int64_t groupsOf(const char *fn, int64_t rows, int64_t k) {
  if (rows < 0 || k < 0)
    throw Error(fmt::format("{}: negative size (rows = {}, K = {})", fn, rows, k));
  if (k % kScaleGroup != 0)
    throw Error(fmt::format("{}: K = {} is not a multiple of {} (one ue8m0 scale per {} elements "
                            "of K)",
                            fn, k, kScaleGroup, kScaleGroup));
  int64_t total = 0;
  if (__builtin_mul_overflow(rows, k / kScaleGroup, &total) || total > (int64_t(1) << 40))
    throw Error(fmt::format("{}: {} x {} scales are too many", fn, rows, k / kScaleGroup));
  return k / kScaleGroup;
}

std::string shapeStr(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// The common checks of the Tensor forms: host tensors of the right dtype
/// and rank, non-null data when non-empty, no overlap. Returns {rows, k}.
std::pair<int64_t, int64_t> checkTensors(const char *fn, const char *srcName, const Tensor &src,
                                         DType srcDType, const Tensor &out) {
  for (auto [t, name, want] :
       {std::tuple<const Tensor *, const char *, DType>{&src, srcName, srcDType},
        {&out, "out", DType::UE8M0}}) {
    if (t->place != Place::Host)
      throw Error(fmt::format("{}: {} is a device tensor; the re-layout runs on the host (copy it "
                              "to the host first)",
                              fn, name));
    if (t->dtype != want)
      throw Error(
          fmt::format("{}: {} must be {}, got {}", fn, name, dtypeName(want), dtypeName(t->dtype)));
    if (t->rank() != 2)
      throw Error(fmt::format("{}: {} must be 2-D, got shape {}", fn, name, shapeStr(t->shape)));
    if (t->shape[0] < 0 || t->shape[1] < 0)
      throw Error(fmt::format("{}: {} has a negative dimension: {}", fn, name, shapeStr(t->shape)));
    if (t->numel() > 0 && !t->data)
      throw Error(fmt::format("{}: {} has no data (null pointer) but shape {}", fn, name,
                              shapeStr(t->shape)));
  }
  int64_t k = 0;
  if (__builtin_mul_overflow(out.shape[1], kScaleGroup, &k))
    throw Error(fmt::format("{}: out shape {} is too large", fn, shapeStr(out.shape)));
  return {out.shape[0], k};
}

} // namespace

int ue8m0CodeOfPowerOfTwo(float x) {
  if (!(x > 0.0f) || std::isinf(x))
    return -1;
  int e = 0;
  double m = std::frexp(static_cast<double>(x), &e); // x = m * 2^e, m in [.5, 1)
  if (m != 0.5)
    return -1;
  int exponent = e - 1;
  if (exponent < -127 || exponent > 127)
    return -1;
  return exponent + 127;
}

std::vector<uint8_t> expandBlockScalesUE8M0(const uint8_t *blockScales, int64_t rows, int64_t k) {
  const char *fn = "expandBlockScalesUE8M0";
  int64_t groups = groupsOf(fn, rows, k);
  int64_t blockCols = ceilDivPositive(k, kScaleBlock);
  std::vector<uint8_t> out(static_cast<size_t>(rows * groups));
  if (out.empty())
    return out;
  if (!blockScales)
    throw Error(fmt::format("{}: the block scales are a null pointer", fn));
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t *src = blockScales + (r / kScaleBlock) * blockCols;
    uint8_t *dst = out.data() + r * groups;
    for (int64_t g = 0; g < groups; ++g)
      dst[g] = src[g * kScaleGroup / kScaleBlock];
  }
  return out;
}

std::vector<uint8_t> groupScalesToUE8M0(const float *groupScales, int64_t rows, int64_t k) {
  const char *fn = "groupScalesToUE8M0";
  int64_t groups = groupsOf(fn, rows, k);
  int64_t groupCols = ceilDivPositive(k, kScaleBlock);
  std::vector<uint8_t> out(static_cast<size_t>(rows * groups));
  if (out.empty())
    return out;
  if (!groupScales)
    throw Error(fmt::format("{}: the group scales are a null pointer", fn));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < groupCols; ++c) {
      float s = groupScales[r * groupCols + c];
      int code = ue8m0CodeOfPowerOfTwo(s);
      if (code < 0) {
        uint32_t bits;
        std::memcpy(&bits, &s, 4);
        throw Error(fmt::format(
            "{}: group scale [{}, {}] (of [{}, {}]) is {} (f32 0x{:08x}), not a power of two in "
            "2^-127 .. 2^127, so no ue8m0 code holds it (quantise the activations with "
            "power-of-two scales: act_quant_fp8 with round_scale = True)",
            fn, r, c, rows, groupCols, s, bits));
      }
      int64_t g0 = c * (kScaleBlock / kScaleGroup);
      int64_t g1 = std::min(groups, g0 + kScaleBlock / kScaleGroup);
      for (int64_t g = g0; g < g1; ++g)
        out[r * groups + g] = static_cast<uint8_t>(code);
    }
  return out;
}

void expandBlockScalesUE8M0(const Tensor &blockScales, const Tensor &out) {
  const char *fn = "expandBlockScalesUE8M0";
  auto [rows, k] = checkTensors(fn, "blockScales", blockScales, DType::UE8M0, out);
  std::vector<int64_t> want = {ceilDivPositive(rows, kScaleBlock), ceilDivPositive(k, kScaleBlock)};
  if (blockScales.shape != want)
    throw Error(fmt::format("{}: blockScales has shape {}, expected [ceil(N / 128), ceil(K / 128)] "
                            "= {} for out {} (N = {}, K = {})",
                            fn, shapeStr(blockScales.shape), shapeStr(want), shapeStr(out.shape),
                            rows, k));
  std::vector<uint8_t> v =
      expandBlockScalesUE8M0(static_cast<const uint8_t *>(blockScales.data), rows, k);
  if (!v.empty())
    std::memcpy(out.data, v.data(), v.size());
}

void groupScalesToUE8M0(const Tensor &groupScales, const Tensor &out) {
  const char *fn = "groupScalesToUE8M0";
  auto [rows, k] = checkTensors(fn, "groupScales", groupScales, DType::Float32, out);
  std::vector<int64_t> want = {rows, ceilDivPositive(k, kScaleBlock)};
  if (groupScales.shape != want)
    throw Error(fmt::format("{}: groupScales has shape {}, expected [M, ceil(K / 128)] = {} for "
                            "out {} (M = {}, K = {})",
                            fn, shapeStr(groupScales.shape), shapeStr(want), shapeStr(out.shape),
                            rows, k));
  std::vector<uint8_t> v =
      groupScalesToUE8M0(static_cast<const float *>(groupScales.data), rows, k);
  if (!v.empty())
    std::memcpy(out.data, v.data(), v.size());
}

} // namespace tlrt
