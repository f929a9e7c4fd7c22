// Safetensors: hostile-input-safe header parsing over mmapped files or
// caller buffers, serialisation, and sharded sets (index.json).
#include "tlv4/Safetensors.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tlv4 {

using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string &source, const std::string &msg) {
  throw std::runtime_error(fmt::format("{}: {}", source, msg));
}

// Element counts and byte sizes above this are rejected: they cannot be in
// any file we can map, and staying below it keeps all arithmetic exact.
constexpr uint64_t kMaxCount = uint64_t(1) << 60;

// Product of dims, or nullopt when it would exceed kMaxCount.
std::optional<uint64_t> checkedCount(const std::vector<int64_t> &shape) {
  uint64_t count = 1;
  for (int64_t d : shape) {
    uint64_t ud = static_cast<uint64_t>(d);
    if (ud != 0 && count > kMaxCount / ud)
      return std::nullopt;
    count *= ud;
  }
  return count;
}

uint64_t bytesFor(DType dtype, uint64_t count) {
  return (count * static_cast<uint64_t>(dtypeBits(dtype)) + 7) / 8;
}

std::string shortDump(const json &v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60)
    s = s.substr(0, 57) + "...";
  return s;
}

} // namespace

// RAII owner of a read-only private mapping.
class MappedFile {
public:
  explicit MappedFile(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      fail(path, fmt::format("cannot stat: {}", std::strerror(err)));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      fail(path, "not a regular file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void *p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        int err = errno;
        ::close(fd);
        fail(path, fmt::format("cannot mmap {} bytes: {}", size_,
                               std::strerror(err)));
      }
      data_ = static_cast<const uint8_t *>(p);
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_)
      ::munmap(const_cast<uint8_t *>(data_), size_);
  }
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  const uint8_t *data() const { return data_; }
  size_t size() const { return size_; }

private:
  const uint8_t *data_ = nullptr;
  size_t size_ = 0;
};

int64_t SafetensorsTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : logicalShape())
    n *= d;
  return n;
}

std::vector<int64_t> SafetensorsTensor::logicalShape() const {
  std::vector<int64_t> s = shape;
  if (fp4PairShape && !s.empty())
    s.back() *= 2;
  return s;
}

SafetensorsFile SafetensorsFile::open(const std::string &path) {
  SafetensorsFile file;
  file.source_ = path;
  file.mapping_ = std::make_shared<MappedFile>(path);
  file.parse(file.mapping_->data(), file.mapping_->size());
  return file;
}

SafetensorsFile SafetensorsFile::fromBuffer(const uint8_t *data, size_t size,
                                            const std::string &sourceName) {
  SafetensorsFile file;
  file.source_ = sourceName;
  file.parse(data, size);
  return file;
}

const SafetensorsTensor *
SafetensorsFile::find(const std::string &name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

void SafetensorsFile::parse(const uint8_t *bytes, size_t size) {
  const std::string &src = source_;
  if (size < 8)
    fail(src, fmt::format("truncated file: {} bytes, shorter than the 8-byte "
                          "header length field",
                          size));
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = (headerLen << 8) | bytes[i];
  if (headerLen > kMaxSafetensorsHeaderBytes)
    fail(src, fmt::format("bad header length {} (limit {})", headerLen,
                          kMaxSafetensorsHeaderBytes));
  if (headerLen > size - 8)
    fail(src, fmt::format("truncated file: header length {} but only {} "
                          "bytes follow the length field",
                          headerLen, size - 8));
  dataSection_ = bytes + 8 + headerLen;
  dataSize_ = size - 8 - headerLen;

  json header;
  try {
    header = json::parse(bytes + 8, bytes + 8 + headerLen);
  } catch (const json::exception &e) {
    fail(src, fmt::format("header is not valid JSON: {}", e.what()));
  }
  if (!header.is_object())
    fail(src, fmt::format("header must be a JSON object, found {}",
                          header.type_name()));

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string &name = it.key();
    const json &entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object())
        fail(src, "__metadata__ must be an object of strings");
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        if (!m.value().is_string())
          fail(src, fmt::format("__metadata__ entry '{}' must be a string, "
                                "found {}",
                                m.key(), shortDump(m.value())));
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (name.empty())
      fail(src, "tensor with an empty name");
    if (!entry.is_object())
      fail(src, fmt::format("tensor '{}': entry must be an object, found {}",
                            name, shortDump(entry)));
    SafetensorsTensor t;
    t.name = name;

    auto dtypeIt = entry.find("dtype");
    if (dtypeIt == entry.end() || !dtypeIt->is_string())
      fail(src, fmt::format("tensor '{}': missing or non-string \"dtype\"",
                            name));
    std::optional<DType> dtype = parseDType(dtypeIt->get<std::string>());
    if (!dtype)
      fail(src, fmt::format("tensor '{}': unknown dtype \"{}\"", name,
                            dtypeIt->get<std::string>()));
    t.dtype = *dtype;

    auto shapeIt = entry.find("shape");
    if (shapeIt == entry.end() || !shapeIt->is_array())
      fail(src, fmt::format("tensor '{}': missing or non-list \"shape\"",
                            name));
    for (const json &d : *shapeIt) {
      if (!d.is_number_unsigned() && !(d.is_number_integer() &&
                                       d.get<int64_t>() >= 0))
        fail(src, fmt::format("tensor '{}': shape entries must be "
                              "non-negative integers, found {}",
                              name, shortDump(d)));
      uint64_t ud = d.get<uint64_t>();
      if (ud > kMaxCount)
        fail(src, fmt::format("tensor '{}': shape dimension {} too large",
                              name, ud));
      t.shape.push_back(static_cast<int64_t>(ud));
    }

    auto offIt = entry.find("data_offsets");
    if (offIt == entry.end() || !offIt->is_array() || offIt->size() != 2)
      fail(src, fmt::format("tensor '{}': \"data_offsets\" must be a list "
                            "[begin, end]",
                            name));
    for (const json &o : *offIt)
      if (!o.is_number_unsigned() && !(o.is_number_integer() &&
                                       o.get<int64_t>() >= 0))
        fail(src, fmt::format("tensor '{}': data_offsets must be "
                              "non-negative integers, found {}",
                              name, shortDump(*offIt)));
    t.begin = (*offIt)[0].get<uint64_t>();
    t.end = (*offIt)[1].get<uint64_t>();
    if (t.begin > t.end)
      fail(src, fmt::format("tensor '{}': data_offsets [{}, {}] has begin "
                            "after end",
                            name, t.begin, t.end));
    if (t.end > dataSize_)
      fail(src, fmt::format("tensor '{}': data_offsets [{}, {}] out of range:"
                            " the data section has {} bytes (truncated "
                            "file?)",
                            name, t.begin, t.end, dataSize_));

    std::optional<uint64_t> count = checkedCount(t.shape);
    if (!count)
      fail(src, fmt::format("tensor '{}': element count of shape [{}] "
                            "overflows",
                            name, fmt::join(t.shape, ", ")));
    uint64_t expected = bytesFor(t.dtype, *count);
    if (t.byteSize() != expected) {
      // torch's float4_e2m1fn_x2 counts packed pairs in its shape.
      bool pairShape = t.dtype == DType::F4 && !t.shape.empty() &&
                       t.byteSize() == *count;
      if (!pairShape)
        fail(src, fmt::format("tensor '{}': {} bytes in data_offsets [{}, "
                              "{}] but dtype {} x shape [{}] needs {} bytes",
                              name, t.byteSize(), t.begin, t.end,
                              dtypeName(t.dtype), fmt::join(t.shape, ", "),
                              expected));
      t.fp4PairShape = true;
    }
    index_[name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }

  // Non-empty tensors must not share bytes.
  std::vector<const SafetensorsTensor *> sorted;
  for (const SafetensorsTensor &t : tensors_)
    if (t.byteSize() > 0)
      sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(),
            [](const SafetensorsTensor *a, const SafetensorsTensor *b) {
              return a->begin < b->begin;
            });
  for (size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i]->begin < sorted[i - 1]->end)
      fail(src, fmt::format("tensors '{}' [{}, {}] and '{}' [{}, {}] overlap",
                            sorted[i - 1]->name, sorted[i - 1]->begin,
                            sorted[i - 1]->end, sorted[i]->name,
                            sorted[i]->begin, sorted[i]->end));
}

std::vector<uint8_t>
serializeSafetensors(const std::vector<const TensorData *> &tensors,
                     const std::map<std::string, std::string> &metadata) {
  json header = json::object();
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const TensorData *t : tensors) {
    if (t->name.empty() || t->name == "__metadata__")
      throw std::runtime_error(
          fmt::format("cannot write a tensor named '{}'", t->name));
    if (!seen.insert(t->name).second)
      throw std::runtime_error(
          fmt::format("tensor '{}' written twice", t->name));
    std::optional<uint64_t> count = checkedCount(t->shape);
    if (!count || bytesFor(t->dtype, *count) != t->bytes.size())
      throw std::runtime_error(fmt::format(
          "tensor '{}': {} bytes do not match dtype {} x shape [{}]", t->name,
          t->bytes.size(), dtypeName(t->dtype), fmt::join(t->shape, ", ")));
    header[t->name] = {{"dtype", dtypeName(t->dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + t->bytes.size()}}};
    offset += t->bytes.size();
  }
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  std::string text = header.dump();
  // Pad with spaces so the data section starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<uint8_t> out;
  out.reserve(8 + text.size() + offset);
  uint64_t len = text.size();
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<uint8_t>(len >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  for (const TensorData *t : tensors)
    out.insert(out.end(), t->bytes.begin(), t->bytes.end());
  return out;
}

namespace {

void writeFile(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    fail(path, fmt::format("cannot create: {}", std::strerror(errno)));
  out.write(reinterpret_cast<const char *>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out)
    fail(path, "write failed");
}

std::string joinPath(const std::string &dir, const std::string &name) {
  if (dir.empty() || dir.back() == '/')
    return dir + name;
  return dir + "/" + name;
}

} // namespace

void writeSafetensors(const std::string &path,
                      const std::vector<const TensorData *> &tensors,
                      const std::map<std::string, std::string> &metadata) {
  writeFile(path, serializeSafetensors(tensors, metadata));
}

std::vector<std::string>
writeShardedSafetensors(const std::string &dir,
                        const std::vector<TensorData> &tensors, int numShards,
                        const std::map<std::string, std::string> &metadata) {
  if (numShards < 1)
    throw std::runtime_error(
        fmt::format("number of shards must be >= 1, got {}", numShards));
  size_t shards = std::max<size_t>(
      1, std::min<size_t>(static_cast<size_t>(numShards), tensors.size()));
  uint64_t total = 0;
  for (const TensorData &t : tensors)
    total += t.bytes.size();

  // Greedy split by cumulative size, order kept, never an empty shard.
  std::vector<std::vector<const TensorData *>> groups(shards);
  uint64_t acc = 0;
  size_t shard = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (shard + 1 < shards && !groups[shard].empty()) {
      size_t remainingTensors = tensors.size() - i;
      size_t shardsAfter = shards - shard - 1;
      unsigned __int128 target =
          static_cast<unsigned __int128>(total) * (shard + 1) / shards;
      if (acc >= target || remainingTensors <= shardsAfter)
        ++shard;
    }
    groups[shard].push_back(&tensors[i]);
    acc += tensors[i].bytes.size();
  }

  std::vector<std::string> names;
  json weightMap = json::object();
  for (size_t s = 0; s < groups.size(); ++s) {
    std::string name = fmt::format("model-{:05d}-of-{:05d}.safetensors",
                                   s + 1, groups.size());
    writeSafetensors(joinPath(dir, name), groups[s], metadata);
    for (const TensorData *t : groups[s])
      weightMap[t->name] = name;
    names.push_back(name);
  }
  json index = {{"metadata", {{"total_size", total}}},
                {"weight_map", weightMap}};
  std::string text = index.dump(2) + "\n";
  writeFile(joinPath(dir, "model.safetensors.index.json"),
            std::vector<uint8_t>(text.begin(), text.end()));
  return names;
}

const SafetensorsSet::Entry *
SafetensorsSet::find(const std::string &name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

SafetensorsSet SafetensorsSet::openDir(const std::string &dir) {
  SafetensorsSet set;
  set.dir_ = dir;
  std::string indexPath = joinPath(dir, "model.safetensors.index.json");

  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    fail(dir, "checkpoint directory does not exist");

  std::map<std::string, std::string> wanted; // tensor -> shard
  std::vector<std::string> shardNames;
  if (::stat(indexPath.c_str(), &st) == 0) {
    set.hasIndex_ = true;
    std::ifstream in(indexPath, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    json index;
    try {
      index = json::parse(text.str());
    } catch (const json::exception &e) {
      fail(indexPath, fmt::format("invalid JSON: {}", e.what()));
    }
    if (!index.is_object() || !index.contains("weight_map") ||
        !index["weight_map"].is_object())
      fail(indexPath, "expected an object with a \"weight_map\" object");
    std::set<std::string> unique;
    for (auto it = index["weight_map"].begin();
         it != index["weight_map"].end(); ++it) {
      if (!it.value().is_string())
        fail(indexPath, fmt::format("weight_map entry '{}' must be a shard "
                                    "file name",
                                    it.key()));
      std::string shard = it.value().get<std::string>();
      // Shards live next to the index; refuse paths that leave the dir.
      if (shard.empty() || shard.find('/') != std::string::npos ||
          shard == "." || shard == "..")
        fail(indexPath, fmt::format("weight_map entry '{}': bad shard name "
                                    "\"{}\"",
                                    it.key(), shard));
      wanted[it.key()] = shard;
      if (unique.insert(shard).second)
        shardNames.push_back(shard);
    }
    std::sort(shardNames.begin(), shardNames.end());
  } else {
    DIR *d = ::opendir(dir.c_str());
    if (!d)
      fail(dir, fmt::format("cannot list: {}", std::strerror(errno)));
    while (dirent *e = ::readdir(d)) {
      std::string n = e->d_name;
      const std::string ext = ".safetensors";
      if (n.size() > ext.size() &&
          n.compare(n.size() - ext.size(), ext.size(), ext) == 0)
        shardNames.push_back(n);
    }
    ::closedir(d);
    std::sort(shardNames.begin(), shardNames.end());
    if (shardNames.empty())
      fail(dir, "no *.safetensors files and no model.safetensors.index.json");
    if (shardNames.size() > 1)
      fail(dir, fmt::format("{} *.safetensors files but no "
                            "model.safetensors.index.json to say which "
                            "tensor is where",
                            shardNames.size()));
  }

  std::map<std::string, const SafetensorsFile *> byShard;
  for (const std::string &shard : shardNames) {
    std::string path = joinPath(dir, shard);
    if (::stat(path.c_str(), &st) != 0) {
      std::string example;
      for (const auto &[tensor, s] : wanted)
        if (s == shard) {
          example = tensor;
          break;
        }
      fail(indexPath, fmt::format("missing shard {} (listed for tensor '{}' "
                                  "and others)",
                                  shard, example));
    }
  }
  // Only now open them: a missing shard is the clearer error.
  for (const std::string &shard : shardNames) {
    set.files_.push_back(std::make_unique<SafetensorsFile>(
        SafetensorsFile::open(joinPath(dir, shard))));
    byShard[shard] = set.files_.back().get();
  }

  for (const auto &file : set.files_) {
    for (const SafetensorsTensor &t : file->tensors()) {
      auto [it, inserted] = set.tensors_.emplace(t.name, Entry{file.get(), &t});
      if (!inserted)
        fail(dir, fmt::format("tensor '{}' appears in both {} and {}", t.name,
                              it->second.file->source(), file->source()));
    }
  }
  for (const auto &[tensor, shard] : wanted) {
    const Entry *e = set.find(tensor);
    if (!e)
      fail(indexPath, fmt::format("tensor '{}' is listed in shard {} but not "
                                  "present there",
                                  tensor, shard));
    if (e->file != byShard[shard])
      fail(indexPath, fmt::format("tensor '{}' is listed in shard {} but "
                                  "found in {}",
                                  tensor, shard, e->file->source()));
  }
  return set;
}

} // namespace tlv4
