// TinyCheckpoint: deterministic random weights for every tensor of the
// WeightMap, quantised the official way, written as a sharded checkpoint.
#include "tlv4/TinyCheckpoint.h"

#include "tlv4/Quantize.h"
#include "tlv4/Tokenizer.h"
#include "tlv4/WeightMap.h"
#include "tlrt/LowPrecision.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <stdexcept>

#include <sys/stat.h>

namespace tlv4 {
namespace {

// Own generator (splitmix64 + Box-Muller) so the bytes do not depend on the
// standard library's distribution implementations.
class Rng {
public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1).
  double uniform() { return ((next() >> 11) + 0.5) * 0x1.0p-53; }
  double normal() {
    if (haveSpare_) {
      haveSpare_ = false;
      return spare_;
    }
    double r = std::sqrt(-2.0 * std::log(uniform()));
    double t = 2.0 * M_PI * uniform();
    spare_ = r * std::sin(t);
    haveSpare_ = true;
    return r * std::cos(t);
  }

private:
  uint64_t state_;
  bool haveSpare_ = false;
  double spare_ = 0;
};

// Per-tensor stream: seed mixed with the name, so one tensor's values do not
// depend on which tensors come before it.
uint64_t streamSeed(uint64_t seed, const std::string &name) {
  uint64_t h = 0xCBF29CE484222325ull; // FNV-1a
  for (unsigned char ch : name)
    h = (h ^ ch) * 0x100000001B3ull;
  return h ^ (seed * 0x9E3779B97F4A7C15ull);
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int64_t product(const std::vector<int64_t> &shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t(1),
                         std::multiplies<int64_t>());
}

// Realistic f32 values for a tensor by what it is.
std::vector<float> sampleValues(const ExpectedTensor &e, Rng &rng) {
  int64_t n = product(e.shape);
  std::vector<float> v(static_cast<size_t>(n));
  const std::string &name = e.name;
  auto fill = [&](double mean, double std) {
    for (float &x : v)
      x = static_cast<float>(mean + std * rng.normal());
  };
  bool isNorm = endsWith(name, "norm.weight");
  if (isNorm) {
    fill(1.0, 0.05);
  } else if (name == "embed.weight") {
    fill(0.0, 1.0);
  } else if (endsWith(name, "_fn")) { // hc mixing projections
    fill(0.0, 1.0 / std::sqrt(static_cast<double>(e.shape.back())));
  } else if (endsWith(name, "_base")) {
    fill(0.0, 0.1);
  } else if (endsWith(name, "_scale") && e.shape.size() == 1) {
    fill(0.5, 0.1);
  } else if (endsWith(name, "attn_sink")) {
    fill(0.0, 0.5);
  } else if (endsWith(name, ".ape")) {
    fill(0.0, 0.1);
  } else if (endsWith(name, "gate.bias")) {
    fill(0.0, 0.01);
  } else {
    // Linear [out, in]: normal / sqrt(fan_in).
    double fanIn = static_cast<double>(e.shape.back());
    fill(0.0, 1.0 / std::sqrt(fanIn));
  }
  return v;
}

std::vector<uint8_t> encodePlain(const std::vector<float> &v, DType dtype) {
  std::vector<uint8_t> out;
  switch (dtype) {
  case DType::BF16:
    out.resize(v.size() * 2);
    for (size_t i = 0; i < v.size(); ++i) {
      uint16_t b = tlrt::f32ToBF16(v[i]);
      std::memcpy(&out[2 * i], &b, 2);
    }
    return out;
  case DType::F32:
    out.resize(v.size() * 4);
    std::memcpy(out.data(), v.data(), out.size());
    return out;
  default:
    throw std::logic_error(fmt::format("make-tiny: no encoder for {}",
                                       dtypeName(dtype)));
  }
}

// tid2eid [vocab, k] (I64 or I32): k distinct experts per token.
std::vector<uint8_t> sampleTid2eid(const ExpectedTensor &e, int64_t experts,
                                   Rng &rng) {
  int64_t vocab = e.shape[0], k = e.shape[1];
  size_t width = e.dtype == DType::I64 ? 8 : 4;
  std::vector<uint8_t> out(static_cast<size_t>(vocab * k) * width);
  std::vector<int64_t> perm(static_cast<size_t>(experts));
  for (int64_t t = 0; t < vocab; ++t) {
    std::iota(perm.begin(), perm.end(), 0);
    for (int64_t i = 0; i < k; ++i) { // partial Fisher-Yates
      int64_t j = i + static_cast<int64_t>(rng.next() % (experts - i));
      std::swap(perm[i], perm[j]);
      int32_t narrow = static_cast<int32_t>(perm[i]);
      std::memcpy(&out[(t * k + i) * width],
                  width == 8 ? static_cast<const void *>(&perm[i])
                             : static_cast<const void *>(&narrow),
                  width);
    }
  }
  return out;
}

std::vector<uint8_t> scaleBytes(const QuantizedWeight &q, DType dtype) {
  if (dtype == DType::F8E8M0)
    return q.scaleCodes;
  return encodePlain(q.scales, DType::F32);
}

} // namespace

// Random codes with one power-of-two scale 2^scaleExp for every block (fastCodes).
QuantizedWeight randomCodes(const ExpectedTensor &e, Rng &rng, bool fp4, int64_t br, int64_t bc,
                            int scaleExp) {
  QuantizedWeight q;
  const int64_t n = product(e.shape);
  q.data.resize(size_t(fp4 ? n / 2 : n));
  for (size_t i = 0; i < q.data.size(); i += 8) {
    uint64_t r = rng.next();
    for (size_t j = 0; j < 8 && i + j < q.data.size(); ++j, r >>= 8) {
      uint8_t b = uint8_t(r);
      if (!fp4 && (b & 0x7F) == 0x7F) // e4m3's NaN codes
        b ^= 1;
      q.data[i + j] = b;
    }
  }
  const int64_t scales = fp4 ? n / 32 : ((e.shape[0] + br - 1) / br) * ((e.shape[1] + bc - 1) / bc);
  q.scaleCodes.assign(size_t(scales), uint8_t(127 + scaleExp));
  q.scales.assign(size_t(scales), std::ldexp(1.0f, scaleExp));
  return q;
}

std::vector<TensorData> makeTinyTensors(const Config &config, uint64_t seed, bool fastCodes) {
  std::vector<ExpectedTensor> expected = expectedTensors(config);
  bool f32Scales = config.quantization && config.quantization->scaleFmt != "ue8m0";
  DType scaleDType = f32Scales ? DType::F32 : DType::F8E8M0;
  int64_t br = config.quantization ? config.quantization->weightBlockRows : 128;
  int64_t bc = config.quantization ? config.quantization->weightBlockCols : 128;

  std::vector<TensorData> out;
  // A weight's scale comes right after it in the table; the quantiser
  // produces both at once.
  std::map<std::string, std::vector<uint8_t>> pendingScales;
  for (const ExpectedTensor &e : expected) {
    TensorData t{e.name, e.dtype, e.shape, {}};
    if (e.role == TensorRole::Fp8Scale || e.role == TensorRole::Fp4Scale) {
      t.dtype = scaleDType;
      t.bytes = std::move(pendingScales.at(e.name));
      pendingScales.erase(e.name);
      out.push_back(std::move(t));
      continue;
    }
    Rng rng(streamSeed(seed, e.name));
    if (e.dtype == DType::I32 || e.dtype == DType::I64) {
      t.bytes = sampleTid2eid(e, config.nRoutedExperts, rng);
    } else if (fastCodes && (e.role == TensorRole::Fp8Weight || e.role == TensorRole::Fp4Weight)) {
      // |w| up to 448 * 2^-14 (FP8) or 6 * 2^-8 (FP4): about 0.025.
      const bool fp4 = e.role == TensorRole::Fp4Weight;
      QuantizedWeight q = randomCodes(e, rng, fp4, br, bc, fp4 ? -8 : -14);
      if (fp4)
        t.shape = storedShapeFor(e, t.dtype);
      t.bytes = std::move(q.data);
      pendingScales[scaleNameFor(e.name)] = scaleBytes(q, scaleDType);
    } else if (fastCodes && product(e.shape) > (int64_t(1) << 20)) {
      // Large plain tensors (embedding, head, gates): uniform with the normal's spread.
      std::vector<float> v(size_t(product(e.shape)));
      const double spread = (e.name == "embed.weight" ? 1.0 : 1.0 / std::sqrt(double(e.shape.back()))) *
                            std::sqrt(3.0);
      for (float &x : v)
        x = float((double(rng.next() >> 11) * 0x1.0p-53 * 2 - 1) * spread);
      t.bytes = encodePlain(v, e.dtype);
    } else if (e.role == TensorRole::Fp8Weight) {
      QuantizedWeight q = quantizeFp8Blocks(sampleValues(e, rng), e.shape[0],
                                            e.shape[1], br, bc);
      t.bytes = std::move(q.data);
      pendingScales[scaleNameFor(e.name)] = scaleBytes(q, scaleDType);
    } else if (e.role == TensorRole::Fp4Weight) {
      QuantizedWeight q =
          quantizeFp4Groups(sampleValues(e, rng), e.shape[0], e.shape[1], 32);
      t.shape = storedShapeFor(e, t.dtype);
      t.bytes = std::move(q.data);
      pendingScales[scaleNameFor(e.name)] = scaleBytes(q, scaleDType);
    } else {
      t.bytes = encodePlain(sampleValues(e, rng), e.dtype);
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::string>
writeTinyCheckpoint(const Config &config, const std::string &dir,
                    uint64_t seed, int numShards,
                    const std::string &configText, TensorNaming naming, bool fastCodes) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw std::runtime_error(fmt::format("{}: cannot create directory: {}",
                                         dir, std::strerror(errno)));
  std::vector<TensorData> tensors = makeTinyTensors(config, seed, fastCodes);
  if (naming == TensorNaming::Transformers)
    for (TensorData &t : tensors)
      t.name = nativeToTransformers(t.name, config);
  std::vector<std::string> shards = writeShardedSafetensors(
      dir, tensors, numShards, {{"format", "pt"}});
  std::string path = dir + "/config.json";
  std::ofstream cfg(path, std::ios::binary | std::ios::trunc);
  std::string text = configText.empty() ? config.toJson() : configText;
  cfg << text;
  cfg.close();
  if (!cfg)
    throw std::runtime_error(fmt::format("{}: cannot write", path));
  return shards;
}

namespace data {
extern const unsigned char kTinyTokenizerJson[];
extern const size_t kTinyTokenizerJsonSize;
extern const unsigned char kTinyTokenizerConfigJson[];
extern const size_t kTinyTokenizerConfigJsonSize;
} // namespace data

std::string tinyTokenizerJson() {
  return std::string(reinterpret_cast<const char *>(data::kTinyTokenizerJson),
                     data::kTinyTokenizerJsonSize);
}

std::string tinyTokenizerConfigJson() {
  return std::string(reinterpret_cast<const char *>(data::kTinyTokenizerConfigJson),
                     data::kTinyTokenizerConfigJsonSize);
}

void writeTinyTokenizer(const Config &config, const std::string &dir) {
  const std::string json = tinyTokenizerJson(), cfg = tinyTokenizerConfigJson();
  const size_t vocab = Tokenizer::fromJson(json, cfg, "the tiny tokenizer").vocabSize();
  if (int64_t(vocab) > config.vocabSize)
    throw std::runtime_error(fmt::format(
        "the tiny tokenizer has {} ids but the config's vocab_size is {}: its ids would fall "
        "outside the embedding (use --no-tokenizer)",
        vocab, config.vocabSize));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw std::runtime_error(fmt::format("{}: cannot create directory: {}", dir,
                                         std::strerror(errno)));
  for (const auto &[name, text] : {std::pair<std::string, const std::string &>{"tokenizer.json", json},
                                   {"tokenizer_config.json", cfg}}) {
    const std::string path = dir + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out)
      throw std::runtime_error(fmt::format("{}: cannot write", path));
  }
}

} // namespace tlv4
