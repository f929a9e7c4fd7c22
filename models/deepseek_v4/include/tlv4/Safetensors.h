// Safetensors: a hostile-input-safe reader (mmap or caller-owned buffer,
// zero copy) and a writer for the safetensors format, plus sharded
// checkpoints described by model.safetensors.index.json.
//
// File layout: 8-byte little-endian u64 N, then N bytes of JSON header
// {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]},
//  ..., "__metadata__": {"k": "v"}}, then the data section; offsets are
// relative to the data section.
//
// What the reader checks (each failure throws std::runtime_error naming the
// source and the tensor): file at least 8 bytes; N <= 100,000,000 and within
// the file; header is a JSON object; __metadata__ (optional) maps strings to
// strings; every tensor has a known dtype string, a shape of non-negative
// integers whose element count and byte size do not overflow, data_offsets
// [begin, end] with begin <= end <= data size and end - begin equal to the
// byte size; tensors do not overlap. Gaps between tensors are tolerated.
//
// Accepted dtype labels: BOOL U8 I8 U16 I16 U32 I32 U64 I64 F16 BF16 F32 F64
// F8_E4M3 F8_E5M2 F8_E8M0 F4. For "F4" (float4_e2m1) the shape normally
// counts fp4 values (bytes = ceil(count / 2), the safetensors convention);
// a header whose F4 byte size equals the element count instead is read as
// torch's float4_e2m1fn_x2 (shape counts packed pairs) and flagged
// fp4PairShape, its logical last dimension doubled. Packed FP4 stored as
// I8/U8 [out, in/2] is accepted by the weight map (see WeightMap.h).
#pragma once

#include "tlv4/DType.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tlv4 {

// Largest header the reader accepts (same bound as the reference library).
constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

struct SafetensorsTensor {
  std::string name;
  DType dtype = DType::U8;
  std::vector<int64_t> shape; // as written in the header
  uint64_t begin = 0;         // byte offsets into the data section
  uint64_t end = 0;
  // F4 header whose shape counts packed pairs (see file comment).
  bool fp4PairShape = false;

  uint64_t byteSize() const { return end - begin; }
  // Logical element count (fp4 values for F4).
  int64_t numElements() const;
  // Logical shape (last dim doubled for fp4PairShape).
  std::vector<int64_t> logicalShape() const;
};

class MappedFile;

class SafetensorsFile {
public:
  // Memory-map a file and parse its header. Throws on any defect.
  static SafetensorsFile open(const std::string &path);
  // Parse a caller-owned buffer (not copied: it must outlive the result).
  // Same code path as open(); used by the fuzzer and tests.
  static SafetensorsFile fromBuffer(const uint8_t *data, size_t size,
                                    const std::string &sourceName = "<buffer>");

  const std::string &source() const { return source_; }
  // In header order.
  const std::vector<SafetensorsTensor> &tensors() const { return tensors_; }
  const SafetensorsTensor *find(const std::string &name) const;
  const std::map<std::string, std::string> &metadata() const {
    return metadata_;
  }
  // First byte of a tensor's data (valid while this object lives).
  const uint8_t *data(const SafetensorsTensor &tensor) const {
    return dataSection_ + tensor.begin;
  }
  uint64_t dataSectionSize() const { return dataSize_; }

private:
  void parse(const uint8_t *bytes, size_t size);

  std::shared_ptr<MappedFile> mapping_; // null for fromBuffer
  std::string source_;
  const uint8_t *dataSection_ = nullptr;
  uint64_t dataSize_ = 0;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// One tensor to write. For F4, shape counts fp4 values and bytes holds
// ceil(count / 2) packed bytes.
struct TensorData {
  std::string name;
  DType dtype = DType::U8;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// Serialise tensors (in the given order, 8-byte aligned header padding with
// spaces, as the reference writer does). Throws if a byte size does not
// match dtype * shape or a name repeats.
std::vector<uint8_t>
serializeSafetensors(const std::vector<const TensorData *> &tensors,
                     const std::map<std::string, std::string> &metadata = {});
void writeSafetensors(const std::string &path,
                      const std::vector<const TensorData *> &tensors,
                      const std::map<std::string, std::string> &metadata = {});

// Write tensors split over numShards files named
// model-0000i-of-0000N.safetensors (by cumulative size, order kept) and a
// model.safetensors.index.json mapping each tensor to its shard. With
// numShards == 1 it still writes the index (real checkpoints always have
// one). Returns the shard file names.
std::vector<std::string>
writeShardedSafetensors(const std::string &dir,
                        const std::vector<TensorData> &tensors, int numShards,
                        const std::map<std::string, std::string> &metadata = {});

// A set of safetensors files: either a directory with
// model.safetensors.index.json ("weight_map": name -> shard file), or one
// with a single *.safetensors file. Every shard is opened (and its header
// validated) eagerly; missing shards and tensors listed in the index but
// absent from their shard are errors.
class SafetensorsSet {
public:
  static SafetensorsSet openDir(const std::string &dir);

  struct Entry {
    const SafetensorsFile *file;
    const SafetensorsTensor *tensor;
  };
  // In name order.
  const std::map<std::string, Entry> &tensors() const { return tensors_; }
  const Entry *find(const std::string &name) const;
  const std::vector<std::unique_ptr<SafetensorsFile>> &files() const {
    return files_;
  }
  const std::string &dir() const { return dir_; }
  bool hasIndex() const { return hasIndex_; }

private:
  std::string dir_;
  bool hasIndex_ = false;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, Entry> tensors_;
};

} // namespace tlv4
