// Checkpoint: a DeepSeek-V4 checkpoint directory with native-name lookup,
// verification against the WeightMap and f32 dequantisation.
#include "tlv4/Checkpoint.h"

#include "tlv4/WeightMap.h"
#include "tlrt/LowPrecision.h"

#include <fmt/format.h>

#include <cstring>
#include <set>
#include <stdexcept>

namespace tlv4 {

const char *tensorNamingName(TensorNaming naming) {
  return naming == TensorNaming::Native ? "native" : "transformers";
}

namespace {

template <typename T> T load(const uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof v); // files are little-endian, as is the host
  return v;
}

std::string shapeText(const std::vector<int64_t> &shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

std::string describeView(const TensorView &t) {
  return fmt::format("{} {}", dtypeName(t.dtype), shapeText(t.shape));
}

[[noreturn]] void failTensor(const TensorView &t, const std::string &msg) {
  throw std::runtime_error(
      fmt::format("{}: tensor '{}': {}", t.source, t.name, msg));
}

float scaleAt(const TensorView &scale, int64_t i) {
  switch (scale.dtype) {
  case DType::F8E8M0:
    return tlrt::ue8m0ToF32(scale.data[i]);
  case DType::F32:
    return load<float>(scale.data + 4 * i);
  case DType::BF16:
    return tlrt::bf16ToF32(load<uint16_t>(scale.data + 2 * i));
  default:
    failTensor(scale, fmt::format("scale dtype {} not supported (want "
                                  "F8_E8M0, F32 or BF16)",
                                  dtypeName(scale.dtype)));
  }
}

bool isPackedByteFp4(const TensorView &t) {
  return t.dtype == DType::I8 || t.dtype == DType::U8;
}

} // namespace

int64_t TensorView::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t TensorView::rows() const {
  if (shape.size() != 2)
    failTensor(*this, fmt::format("expected a 2-D tensor, found {}",
                                  describeView(*this)));
  return shape[0];
}

int64_t TensorView::cols() const {
  if (shape.size() != 2)
    failTensor(*this, fmt::format("expected a 2-D tensor, found {}",
                                  describeView(*this)));
  return shape[1];
}

std::vector<float> decodeToFloat(const TensorView &t) {
  int64_t n = t.numElements();
  std::vector<float> out(static_cast<size_t>(n));
  const uint8_t *p = t.data;
  for (int64_t i = 0; i < n; ++i) {
    float v = 0;
    switch (t.dtype) {
    case DType::BF16:
      v = tlrt::bf16ToF32(load<uint16_t>(p + 2 * i));
      break;
    case DType::F16:
      v = tlrt::f16ToF32(load<uint16_t>(p + 2 * i));
      break;
    case DType::F32:
      v = load<float>(p + 4 * i);
      break;
    case DType::F64:
      v = static_cast<float>(load<double>(p + 8 * i));
      break;
    case DType::F8E4M3:
      v = tlrt::e4m3ToF32(p[i]);
      break;
    case DType::F8E5M2:
      v = tlrt::e5m2ToF32(p[i]);
      break;
    case DType::F8E8M0:
      v = tlrt::ue8m0ToF32(p[i]);
      break;
    case DType::F4: {
      uint8_t byte = p[i / 2];
      v = tlrt::e2m1ToF32((i % 2 == 0) ? tlrt::unpackE2M1Even(byte)
                                       : tlrt::unpackE2M1Odd(byte));
      break;
    }
    case DType::U8:
      v = p[i];
      break;
    case DType::I8:
      v = static_cast<int8_t>(p[i]);
      break;
    case DType::U16:
      v = load<uint16_t>(p + 2 * i);
      break;
    case DType::I16:
      v = load<int16_t>(p + 2 * i);
      break;
    case DType::U32:
      v = static_cast<float>(load<uint32_t>(p + 4 * i));
      break;
    case DType::I32:
      v = static_cast<float>(load<int32_t>(p + 4 * i));
      break;
    case DType::U64:
      v = static_cast<float>(load<uint64_t>(p + 8 * i));
      break;
    case DType::I64:
      v = static_cast<float>(load<int64_t>(p + 8 * i));
      break;
    case DType::Bool:
      failTensor(t, "cannot decode BOOL to float");
    }
    out[static_cast<size_t>(i)] = v;
  }
  return out;
}

namespace {

void checkRowRange(const TensorView &t, int64_t rowBegin, int64_t rowEnd) {
  if (rowBegin < 0 || rowBegin > rowEnd || rowEnd > t.rows())
    failTensor(t, fmt::format("row range [{}, {}) outside [0, {})", rowBegin,
                              rowEnd, t.rows()));
}

// Rows [rowBegin, rowEnd) of an FP8 weight times its block scales.
std::vector<float> fp8Rows(const TensorView &weight, const TensorView &scale,
                           int64_t blockRows, int64_t blockCols,
                           int64_t rowBegin, int64_t rowEnd) {
  if (weight.dtype != DType::F8E4M3)
    failTensor(weight, fmt::format("expected F8_E4M3 for FP8 dequantisation, "
                                   "found {}",
                                   dtypeName(weight.dtype)));
  if (blockRows <= 0 || blockCols <= 0)
    failTensor(weight, fmt::format("bad block size {}x{}", blockRows,
                                   blockCols));
  int64_t out = weight.rows(), in = weight.cols();
  checkRowRange(weight, rowBegin, rowEnd);
  int64_t sr = (out + blockRows - 1) / blockRows;
  int64_t sc = (in + blockCols - 1) / blockCols;
  if (scale.shape != std::vector<int64_t>{sr, sc})
    failTensor(scale, fmt::format("scale for '{}' {} with {}x{} blocks must "
                                  "be [{}, {}], found {}",
                                  weight.name, shapeText(weight.shape),
                                  blockRows, blockCols, sr, sc,
                                  shapeText(scale.shape)));
  std::vector<float> result(static_cast<size_t>((rowEnd - rowBegin) * in));
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    float *dst = &result[(r - rowBegin) * in];
    for (int64_t c = 0; c < in; ++c) {
      float s = scaleAt(scale, (r / blockRows) * sc + c / blockCols);
      dst[c] = tlrt::e4m3ToF32(weight.data[r * in + c]) * s;
    }
  }
  return result;
}

// Rows [rowBegin, rowEnd) of an FP4 weight times its 1 x group scales.
std::vector<float> fp4Rows(const TensorView &weight, const TensorView &scale,
                           int64_t group, int64_t rowBegin, int64_t rowEnd) {
  int64_t out = weight.rows();
  int64_t in = 0;
  if (weight.dtype == DType::F4)
    in = weight.cols();
  else if (isPackedByteFp4(weight))
    in = weight.cols() * 2; // [out, in/2] packed bytes
  else
    failTensor(weight, fmt::format("expected F4 (or I8/U8 packed pairs) for "
                                   "FP4 dequantisation, found {}",
                                   dtypeName(weight.dtype)));
  checkRowRange(weight, rowBegin, rowEnd);
  if (group <= 0 || in % group != 0)
    failTensor(weight, fmt::format("input dimension {} is not a multiple of "
                                   "the scale group {}",
                                   in, group));
  int64_t groups = in / group;
  if (scale.shape != std::vector<int64_t>{out, groups})
    failTensor(scale, fmt::format("scale for '{}' (logical [{}, {}], group "
                                  "{}) must be [{}, {}], found {}",
                                  weight.name, out, in, group, out, groups,
                                  shapeText(scale.shape)));
  std::vector<float> result(static_cast<size_t>((rowEnd - rowBegin) * in));
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    float *dst = &result[(r - rowBegin) * in];
    for (int64_t c = 0; c < in; ++c) {
      int64_t i = r * in + c;
      uint8_t byte = weight.data[i / 2];
      uint8_t code = (i % 2 == 0) ? tlrt::unpackE2M1Even(byte)
                                  : tlrt::unpackE2M1Odd(byte);
      dst[c] = tlrt::e2m1ToF32(code) * scaleAt(scale, r * groups + c / group);
    }
  }
  return result;
}

// Rows of an F4 tensor without scales (plain e2m1 values).
std::vector<float> fp4RowsUnscaled(const TensorView &t, int64_t rowBegin,
                                   int64_t rowEnd) {
  int64_t in = t.cols();
  std::vector<float> result(static_cast<size_t>((rowEnd - rowBegin) * in));
  for (int64_t i = rowBegin * in; i < rowEnd * in; ++i) {
    uint8_t byte = t.data[i / 2];
    result[i - rowBegin * in] = tlrt::e2m1ToF32(
        i % 2 == 0 ? tlrt::unpackE2M1Even(byte) : tlrt::unpackE2M1Odd(byte));
  }
  return result;
}

} // namespace

std::vector<float> dequantizeFp8Blocks(const TensorView &weight,
                                       const TensorView &scale,
                                       int64_t blockRows, int64_t blockCols) {
  return fp8Rows(weight, scale, blockRows, blockCols, 0, weight.rows());
}

std::vector<float> dequantizeFp4Groups(const TensorView &weight,
                                       const TensorView &scale,
                                       int64_t group) {
  return fp4Rows(weight, scale, group, 0, weight.rows());
}

std::string VerifyReport::describe() const {
  std::string out;
  for (const std::string &m : missing)
    out += fmt::format("missing tensor {}\n", m);
  for (const std::string &m : misshapen)
    out += fmt::format("misshapen tensor {}\n", m);
  for (const std::string &u : unexpected)
    out += fmt::format("unexpected tensor '{}'\n", u);
  return out;
}

Checkpoint Checkpoint::open(const std::string &dir) {
  std::string path = dir;
  if (!path.empty() && path.back() != '/')
    path += '/';
  return open(dir, Config::fromFile(path + "config.json"));
}

Checkpoint Checkpoint::open(const std::string &dir, const Config &config) {
  Checkpoint ckpt;
  ckpt.dir_ = dir;
  ckpt.config_ = config;
  ckpt.set_ = std::make_shared<SafetensorsSet>(SafetensorsSet::openDir(dir));
  ckpt.mapNames();
  return ckpt;
}

void Checkpoint::mapNames() {
  int64_t transformersNames = 0, nativeNames = 0;
  for (const auto &[fileName, entry] : set_->tensors()) {
    std::string native = fileName;
    if (std::optional<std::string> mapped =
            transformersToNative(fileName, config_)) {
      native = *mapped;
      ++transformersNames;
    } else {
      ++nativeNames;
    }
    auto [it, inserted] =
        byNative_.emplace(native, Located{entry.file, entry.tensor, fileName});
    if (!inserted)
      throw std::runtime_error(fmt::format(
          "{}: tensors '{}' and '{}' both map to native name '{}'", dir_,
          it->second.fileName, fileName, native));
  }
  naming_ = transformersNames > nativeNames ? TensorNaming::Transformers
                                            : TensorNaming::Native;
}

std::vector<std::string> Checkpoint::tensorNames() const {
  std::vector<std::string> names;
  for (const auto &[name, located] : byNative_)
    names.push_back(name);
  return names;
}

bool Checkpoint::has(const std::string &nativeName) const {
  return byNative_.count(nativeName) != 0;
}

TensorView Checkpoint::tensor(const std::string &nativeName) const {
  auto it = byNative_.find(nativeName);
  if (it == byNative_.end())
    throw std::runtime_error(fmt::format(
        "{}: no tensor '{}' in the checkpoint ({} naming)", dir_, nativeName,
        tensorNamingName(naming_)));
  const Located &loc = it->second;
  TensorView v;
  v.name = nativeName;
  v.fileName = loc.fileName;
  v.source = loc.file->source();
  v.dtype = loc.tensor->dtype;
  v.shape = loc.tensor->logicalShape();
  v.storedDType = loc.tensor->dtype;
  v.storedShape = loc.tensor->shape;
  v.data = loc.file->data(*loc.tensor);
  v.byteSize = loc.tensor->byteSize();
  std::string scaleName = scaleNameFor(nativeName);
  if (isPackedByteFp4(v) && !v.shape.empty() && scaleName != nativeName &&
      has(scaleName)) {
    v.dtype = DType::F4;
    v.shape.back() *= 2;
  }
  return v;
}

std::vector<float> Checkpoint::dequantize(const std::string &nativeName) const {
  TensorView w = tensor(nativeName);
  std::string scaleName = scaleNameFor(nativeName);
  bool hasScale = scaleName != nativeName && has(scaleName);
  if (w.dtype == DType::F8E4M3 && hasScale) {
    int64_t br = 128, bc = 128;
    if (config_.quantization) {
      br = config_.quantization->weightBlockRows;
      bc = config_.quantization->weightBlockCols;
    }
    return dequantizeFp8Blocks(w, tensor(scaleName), br, bc);
  }
  if ((w.dtype == DType::F4 || isPackedByteFp4(w)) && hasScale)
    return dequantizeFp4Groups(w, tensor(scaleName), 32);
  if ((w.dtype == DType::F8E4M3 || w.dtype == DType::F4) && !hasScale)
    failTensor(w, fmt::format("quantised weight has no scale tensor '{}'",
                              scaleName));
  return decodeToFloat(w);
}

std::vector<float> Checkpoint::dequantizeRows(const std::string &nativeName,
                                              int64_t rowBegin,
                                              int64_t rowEnd) const {
  TensorView w = tensor(nativeName);
  checkRowRange(w, rowBegin, rowEnd);
  std::string scaleName = scaleNameFor(nativeName);
  bool hasScale = scaleName != nativeName && has(scaleName);
  if (w.dtype == DType::F8E4M3 && hasScale) {
    int64_t br = 128, bc = 128;
    if (config_.quantization) {
      br = config_.quantization->weightBlockRows;
      bc = config_.quantization->weightBlockCols;
    }
    return fp8Rows(w, tensor(scaleName), br, bc, rowBegin, rowEnd);
  }
  if (w.dtype == DType::F4 && hasScale)
    return fp4Rows(w, tensor(scaleName), 32, rowBegin, rowEnd);
  if ((w.dtype == DType::F8E4M3 || w.dtype == DType::F4) && !hasScale)
    failTensor(w, fmt::format("quantised weight has no scale tensor '{}'",
                              scaleName));
  int bits = dtypeBits(w.dtype);
  if (bits < 8) // unscaled F4: decode whole rows from the packed bytes
    return fp4RowsUnscaled(w, rowBegin, rowEnd);
  // Element-wise types: a view of just those rows.
  TensorView rows = w;
  int64_t cols = w.cols();
  rows.data = w.data + static_cast<uint64_t>(rowBegin * cols) * (bits / 8);
  rows.shape = {rowEnd - rowBegin, cols};
  rows.byteSize = static_cast<uint64_t>((rowEnd - rowBegin) * cols) * (bits / 8);
  return decodeToFloat(rows);
}

std::vector<int64_t>
Checkpoint::dequantizedShape(const std::string &nativeName) const {
  return tensor(nativeName).shape;
}

VerifyReport Checkpoint::verify() const {
  VerifyReport report;
  report.naming = naming_;
  std::vector<ExpectedTensor> expected = expectedTensors(config_);
  report.expectedCount = static_cast<int64_t>(expected.size());
  std::set<std::string> expectedNames;
  for (const ExpectedTensor &e : expected) {
    expectedNames.insert(e.name);
    std::string want = describeExpected(e);
    auto it = byNative_.find(e.name);
    if (it == byNative_.end()) {
      report.missing.push_back(
          fmt::format("'{}' (expected {})", e.name, want));
      continue;
    }
    const SafetensorsTensor &t = *it->second.tensor;
    std::vector<int64_t> shape = t.logicalShape();
    bool dtypeOk = t.dtype == e.dtype;
    for (DType alt : e.alsoAccepted)
      dtypeOk |= t.dtype == alt;
    if (dtypeOk && shape == storedShapeFor(e, t.dtype))
      continue;
    std::string where = it->second.fileName == e.name
                            ? it->second.file->source()
                            : fmt::format("{} (as '{}')",
                                          it->second.file->source(),
                                          it->second.fileName);
    report.misshapen.push_back(fmt::format(
        "'{}': expected {}, found {} {} in {}", e.name, want,
        dtypeName(t.dtype), shapeText(shape), where));
  }
  for (const auto &[name, located] : byNative_)
    if (!expectedNames.count(name))
      report.unexpected.push_back(
          located.fileName == name
              ? name
              : fmt::format("{} (as '{}')", name, located.fileName));
  return report;
}

namespace {

// True when element i of a tensor of this stored dtype is NaN or Inf.
bool nonFiniteAt(DType dtype, const uint8_t *p, uint64_t i) {
  switch (dtype) {
  case DType::F8E4M3:
    return (p[i] & 0x7F) == 0x7F;
  case DType::F8E5M2:
    return (p[i] & 0x7F) >= 0x7C;
  case DType::F8E8M0:
    return p[i] == 0xFF;
  case DType::BF16:
    return (load<uint16_t>(p + 2 * i) & 0x7F80) == 0x7F80;
  case DType::F16:
    return (load<uint16_t>(p + 2 * i) & 0x7C00) == 0x7C00;
  case DType::F32:
    return (load<uint32_t>(p + 4 * i) & 0x7F800000u) == 0x7F800000u;
  case DType::F64:
    return (load<uint64_t>(p + 8 * i) & 0x7FF0000000000000ull) ==
           0x7FF0000000000000ull;
  default:
    return false; // integers and e2m1 have no non-finite codes
  }
}

} // namespace

std::vector<std::string> Checkpoint::findNonFiniteValues() const {
  std::vector<std::string> problems;
  for (const auto &[name, loc] : byNative_) {
    const SafetensorsTensor &t = *loc.tensor;
    int bits = dtypeBits(t.dtype);
    if (bits < 8)
      continue;
    uint64_t n = t.byteSize() / static_cast<uint64_t>(bits / 8);
    const uint8_t *p = loc.file->data(t);
    uint64_t count = 0, first = 0;
    for (uint64_t i = 0; i < n; ++i) {
      if (!nonFiniteAt(t.dtype, p, i))
        continue;
      if (count++ == 0)
        first = i;
    }
    if (count)
      problems.push_back(fmt::format(
          "'{}' ({} in {}): {} non-finite value(s), first at flat index {}",
          name, dtypeName(t.dtype), loc.file->source(), count, first));
  }
  return problems;
}

void Checkpoint::verifyOrThrow() const {
  VerifyReport report = verify();
  if (report.ok())
    return;
  throw std::runtime_error(fmt::format(
      "{}: checkpoint does not match its config ({} missing, {} misshapen; "
      "{} naming)\n{}",
      dir_, report.missing.size(), report.misshapen.size(),
      tensorNamingName(report.naming), report.describe()));
}

} // namespace tlv4
