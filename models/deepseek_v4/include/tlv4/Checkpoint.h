// Checkpoint: opens a DeepSeek-V4 checkpoint directory (config.json plus
// sharded safetensors), maps Transformers-style names to the native ones,
// verifies every expected tensor (WeightMap.h) and hands out zero-copy tensor
// views and f32 dequantisations for the reference forward pass.
#pragma once

#include "tlv4/Config.h"
#include "tlv4/DType.h"
#include "tlv4/Safetensors.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tlv4 {

enum class TensorNaming { Native, Transformers };
const char *tensorNamingName(TensorNaming naming);

// A read-only view of one tensor's bytes inside a mapped file.
// dtype/shape are logical: an FP4 weight reads as F4 [out, in] whether the
// file stores it as F4, or (as DeepSeek's releases do) as I8/U8 packed
// pairs [out, in/2]; storedDType/storedShape say what the file holds.
// A Checkpoint treats an I8/U8 "x.weight" with an "x.scale" companion as
// packed FP4.
struct TensorView {
  std::string name; // native name
  std::string fileName; // name in the file (differs for Transformers naming)
  std::string source;   // shard path
  DType dtype = DType::U8;
  std::vector<int64_t> shape; // logical (fp4 values for F4)
  DType storedDType = DType::U8;
  std::vector<int64_t> storedShape;
  // Little-endian bytes, not necessarily aligned for the element type:
  // read through memcpy, or decodeToFloat().
  const uint8_t *data = nullptr;
  uint64_t byteSize = 0;

  int64_t numElements() const;
  // Rows/cols of a 2-D tensor (throws naming the tensor if not 2-D).
  int64_t rows() const;
  int64_t cols() const;
};

// Elementwise decode to f32 (no scales): BF16, F16, F32, F64, F8_E4M3,
// F8_E5M2, F8_E8M0, F4, and the integer types. Throws for BOOL.
std::vector<float> decodeToFloat(const TensorView &tensor);

// FP8 weight [out, in] (F8_E4M3) times its block scales
// [ceil(out/blockRows), ceil(in/blockCols)] (F8_E8M0 or F32).
std::vector<float> dequantizeFp8Blocks(const TensorView &weight,
                                       const TensorView &scale,
                                       int64_t blockRows = 128,
                                       int64_t blockCols = 128);
// FP4 weight logical [out, in] (F4 view, or a raw I8/U8 packed [out, in/2]
// view) times its per-row group scales [out, in/group] (F8_E8M0 or F32).
std::vector<float> dequantizeFp4Groups(const TensorView &weight,
                                       const TensorView &scale,
                                       int64_t group = 32);

struct VerifyReport {
  TensorNaming naming = TensorNaming::Native;
  int64_t expectedCount = 0;
  std::vector<std::string> missing;  // native names, with what was expected
  std::vector<std::string> misshapen; // "name: expected ..., found ..."
  std::vector<std::string> unexpected; // names present but not expected
  bool ok() const { return missing.empty() && misshapen.empty(); }
  // Multi-line description of every problem.
  std::string describe() const;
};

class Checkpoint {
public:
  // Open DIR: parse DIR/config.json, open all shards (index or single
  // file), detect the naming style and map names to native. Does not check
  // the tensor set; call verify()/verifyOrThrow() for that.
  static Checkpoint open(const std::string &dir);
  // Same, with an already parsed config (config.json then not needed).
  static Checkpoint open(const std::string &dir, const Config &config);

  const Config &config() const { return config_; }
  TensorNaming naming() const { return naming_; }
  const std::string &dir() const { return dir_; }

  // Native names of all tensors present, sorted.
  std::vector<std::string> tensorNames() const;
  bool has(const std::string &nativeName) const;
  // Throws, naming the tensor and the checkpoint, when absent.
  TensorView tensor(const std::string &nativeName) const;

  // f32 copy of a tensor. For a quantised weight ("x.weight" with an FP8 or
  // FP4 dtype) its scale "x.scale" is applied (128x128 blocks for FP8,
  // 1x32 groups for FP4, block size from quantization_config); anything else
  // is decoded elementwise.
  std::vector<float> dequantize(const std::string &nativeName) const;
  // Rows [rowBegin, rowEnd) of a 2-D tensor, dequantised like
  // dequantize() (e.g. embedding rows, one expert's slice) without
  // materialising the rest: [rowEnd - rowBegin, cols] row-major.
  std::vector<float> dequantizeRows(const std::string &nativeName,
                                    int64_t rowBegin, int64_t rowEnd) const;
  // Shape of dequantize()'s result (= tensor(name).shape, kept for
  // callers written against the first version of this API).
  std::vector<int64_t> dequantizedShape(const std::string &nativeName) const;

  VerifyReport verify() const;
  // Reads every byte (slow on a real checkpoint: it touches all of it) and
  // lists tensors holding non-finite values: NaN codes in F8_E4M3 (0x7F,
  // 0xFF) or F8_E5M2, NaN scales in F8_E8M0 (0xFF), NaN/Inf in BF16, F16,
  // F32, F64. One line per offending tensor, with a count and the first
  // index; empty when clean.
  std::vector<std::string> findNonFiniteValues() const;
  // Throws with VerifyReport::describe() when !ok().
  void verifyOrThrow() const;

private:
  struct Located {
    const SafetensorsFile *file;
    const SafetensorsTensor *tensor;
    std::string fileName;
  };
  void mapNames();

  std::string dir_;
  Config config_;
  TensorNaming naming_ = TensorNaming::Native;
  std::shared_ptr<SafetensorsSet> set_;
  std::map<std::string, Located> byNative_;
};

} // namespace tlv4
