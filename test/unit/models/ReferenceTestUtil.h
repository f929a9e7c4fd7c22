// ReferenceTestUtil: tiny DeepSeek-V4 reference models for the
// Reference*/Generate tests, built once per test process: one from a random
// tiny checkpoint written in the official format (through the ckpt API),
// and a cheaper one from random in-memory weights with the same tensor set
// (expectedTensors), for tests that do not need the file format.
#pragma once

#include "tlv4/Config.h"
#include "tlv4/ReferenceModel.h"
#include "tlv4/TinyCheckpoint.h"
#include "tlv4/WeightMap.h"

#include <cmath>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace tlv4::reftest {

// A temporary directory removed when the test process exits.
class TempDir {
public:
  TempDir() {
    const char *tmp = std::getenv("TMPDIR");
    path_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/tlv4-reference-XXXXXX";
    if (!mkdtemp(path_.data()))
      throw std::runtime_error("cannot create a temporary directory");
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string &path() const { return path_; }

private:
  std::string path_;
};

// Directory of the shared tiny checkpoint (seed 7, 2 shards).
inline const std::string &tinyCheckpointDir() {
  static const TempDir dir;
  static const bool written = [] {
    writeTinyCheckpoint(Config::tiny(), dir.path(), /*seed=*/7, /*numShards=*/2);
    return true;
  }();
  (void)written;
  return dir.path();
}

// The reference model of the tiny checkpoint.
inline const ref::ReferenceModel &tinyCheckpointModel() {
  static const std::unique_ptr<ref::ReferenceModel> model =
      ref::ReferenceModel::fromCheckpoint(tinyCheckpointDir());
  return *model;
}

// Random f32 weights for every tensor of the tiny config, scaled like a
// trained model's (norm weights ~1, linears ~1/sqrt(fan_in)); quantised
// roles keep their flag so activation quantisation runs. Much cheaper than
// writing a checkpoint.
inline std::shared_ptr<ref::MemoryWeightSource> randomWeights(const Config &c,
                                                              uint64_t seed) {
  auto source = std::make_shared<ref::MemoryWeightSource>(c);
  uint64_t state = seed;
  auto next = [&] {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  // Roughly normal: the sum of four uniforms, centred and scaled to std 1.
  auto normal = [&] {
    double s = 0;
    for (int i = 0; i < 4; ++i)
      s += double(next() >> 11) * 0x1.0p-53;
    return float((s - 2.0) * std::sqrt(3.0));
  };
  auto endsWith = [](const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const ExpectedTensor &e : expectedTensors(c)) {
    if (e.role == TensorRole::Fp8Scale || e.role == TensorRole::Fp4Scale)
      continue;
    ref::WeightTensor t;
    t.shape = e.shape;
    t.quantized =
        e.role == TensorRole::Fp8Weight || e.role == TensorRole::Fp4Weight;
    int64_t n = 1;
    for (int64_t d : e.shape)
      n *= d;
    t.values.resize(n);
    if (endsWith(e.name, "tid2eid")) {
      for (int64_t i = 0; i < n; i += e.shape[1])
        for (int64_t k = 0; k < e.shape[1]; ++k) // distinct experts per token
          t.values[i + k] = float((next() % 2 + 2 * k) % c.nRoutedExperts);
    } else {
      float mean = 0, std = 1.0f / std::sqrt(float(e.shape.back()));
      if (endsWith(e.name, "norm.weight"))
        mean = 1, std = 0.05f;
      else if (e.name == "embed.weight")
        std = 1;
      else if (endsWith(e.name, "_base") || endsWith(e.name, ".ape"))
        std = 0.1f;
      else if (endsWith(e.name, "_scale") && e.shape.size() == 1)
        mean = 0.5f, std = 0.1f;
      else if (endsWith(e.name, "attn_sink"))
        std = 0.5f;
      else if (endsWith(e.name, "gate.bias"))
        std = 0.01f;
      for (float &v : t.values)
        v = mean + std * normal();
    }
    source->set(e.name, std::move(t));
  }
  return source;
}

// The reference model of randomWeights(Config::tiny(), 11).
inline const ref::ReferenceModel &tinyModel() {
  static const std::unique_ptr<ref::ReferenceModel> model =
      std::make_unique<ref::ReferenceModel>(randomWeights(Config::tiny(), 11));
  return *model;
}

} // namespace tlv4::reftest
