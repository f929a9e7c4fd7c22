// Generate: greedy / temperature + top-p sampling and the prefill-then-
// decode loop over the reference model (see Generate.h).
#include "tlv4/Generate.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numeric>
#include <stdexcept>

namespace tlv4 {

int32_t argmaxToken(const std::vector<float> &logits) {
  if (logits.empty())
    throw std::runtime_error("sampling: empty logits");
  return int32_t(std::max_element(logits.begin(), logits.end()) -
                 logits.begin());
}

uint32_t gumbelHash(uint32_t seed, uint32_t i) {
  // A multiplicative spread of the counter, then a 32-bit avalanche (murmur3's finaliser).
  uint32_t x = i * 0x9E3779B1u + seed;
  x ^= x >> 16;
  x *= 0x85EBCA6Bu;
  x ^= x >> 13;
  x *= 0xC2B2AE35u;
  x ^= x >> 16;
  return x;
}

float gumbelUniform(uint32_t seed, uint32_t i) {
  return (float(gumbelHash(seed, i) >> 8) + 0.5f) * 0x1.0p-24f;
}

int32_t gumbelToken(const std::vector<float> &logits, float temperature, uint32_t seed) {
  if (logits.empty())
    throw std::runtime_error("sampling: empty logits");
  if (!(temperature > 0.0f))
    return argmaxToken(logits);
  int32_t best = 0;
  float bestKey = -INFINITY;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float e = -std::log(gumbelUniform(seed, uint32_t(i)));
    const float key = logits[i] / temperature - std::log(e);
    if (key > bestKey) {
      bestKey = key;
      best = int32_t(i);
    }
  }
  return best;
}

int32_t gumbelTopPToken(const std::vector<float> &logits, float temperature, float topP,
                        uint32_t seed) {
  if (!(temperature > 0.0f) || !(topP < 1.0f))
    return gumbelToken(logits, temperature, seed);
  if (logits.empty())
    throw std::runtime_error("sampling: empty logits");
  std::vector<float> s(logits.size());
  float smax = -INFINITY;
  for (size_t i = 0; i < s.size(); ++i)
    smax = std::max(smax, s[i] = logits[i] / temperature);
  float total = 0.0f;
  for (float v : s)
    total += std::exp(v - smax);
  float lo = smax - 88.0f, hi = smax;
  for (int it = 0; it < 30; ++it) {
    const float mid = (lo + hi) * 0.5f;
    float mass = 0.0f;
    for (float v : s)
      if (v >= mid)
        mass += std::exp(v - smax);
    (mass >= topP * total ? lo : hi) = mid;
  }
  int32_t best = 0;
  float bestKey = -INFINITY;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] < lo)
      continue;
    const float key = s[i] - std::log(-std::log(gumbelUniform(seed, uint32_t(i))));
    if (key > bestKey) {
      bestKey = key;
      best = int32_t(i);
    }
  }
  return best;
}

Sampler::Sampler(const SamplingOptions &options)
    : options_(options), state_(options.seed) {
  if (!(options.temperature >= 0.0) || !std::isfinite(options.temperature))
    throw std::runtime_error(fmt::format(
        "temperature must be a finite number >= 0, got {}", options.temperature));
  if (!(options.topP > 0.0 && options.topP <= 1.0))
    throw std::runtime_error(
        fmt::format("top-p must be in (0, 1], got {}", options.topP));
}

uint64_t Sampler::next() {
  // splitmix64: fixed, portable (std:: distributions differ by library).
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Sampler::uniform() { return double(next() >> 11) * 0x1.0p-53; }

uint32_t Sampler::nextGumbelSeed() { return uint32_t(next() >> 32); }

std::vector<std::pair<int32_t, double>>
Sampler::nucleus(const std::vector<float> &logits) const {
  if (logits.empty())
    throw std::runtime_error("sampling: empty logits");
  const double t = std::max(options_.temperature, 1e-6);
  const double maxLogit = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double sum = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    p[i] = std::exp((double(logits[i]) - maxLogit) / t);
    sum += p[i];
  }
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return p[a] > p[b]; });
  std::vector<std::pair<int32_t, double>> kept;
  double mass = 0.0;
  for (int32_t id : order) {
    kept.emplace_back(id, p[id] / sum);
    mass += p[id] / sum;
    if (mass >= options_.topP)
      break;
  }
  for (auto &entry : kept)
    entry.second /= mass;
  return kept;
}

int32_t Sampler::sample(const std::vector<float> &logits) {
  if (options_.temperature == 0.0)
    return argmaxToken(logits);
  if (options_.method == SamplingMethod::Gumbel)
    return gumbelTopPToken(logits, float(options_.temperature), float(options_.topP),
                           nextGumbelSeed());
  std::vector<std::pair<int32_t, double>> kept = nucleus(logits);
  double u = uniform();
  for (const auto &[id, prob] : kept) {
    if (u < prob)
      return id;
    u -= prob;
  }
  return kept.back().first; // rounding left a sliver of mass
}

GenerateResult generate(const ref::ReferenceModel &model,
                        const std::vector<int32_t> &prompt,
                        const GenerateOptions &options,
                        const std::function<void(int32_t)> &onToken) {
  ref::ModelState state = model.newState();
  ModelSteps steps;
  steps.prefill = [&](const std::vector<int32_t> &ids) { return model.prefill(state, ids).back(); };
  steps.decode = [&](int32_t id) { return model.decode(state, id); };
  return generate(steps, prompt, options, onToken);
}

GenerateResult generate(const ModelSteps &model, const std::vector<int32_t> &prompt,
                        const GenerateOptions &options,
                        const std::function<void(int32_t)> &onToken) {
  if (prompt.empty())
    throw std::runtime_error("generate: the prompt has no tokens");
  if (options.maxNewTokens < 0)
    throw std::runtime_error(fmt::format(
        "max-new-tokens must be >= 0, got {}", options.maxNewTokens));
  Sampler sampler(options.sampling);
  GenerateResult result;
  if (options.maxNewTokens == 0)
    return result;
  auto limited = [&](std::vector<float> logits) {
    if (options.vocabLimit > 0 && options.vocabLimit < int64_t(logits.size()))
      logits.resize(options.vocabLimit);
    return logits;
  };
  std::vector<float> logits = model.prefill(prompt);
  const bool devicePick = model.pick && (options.sampling.temperature <= 0 ||
                                         options.sampling.method == SamplingMethod::Gumbel);
  for (int64_t i = 0; i < options.maxNewTokens; ++i) {
    int32_t token;
    if (devicePick) {
      const uint32_t seed = options.sampling.temperature > 0 ? sampler.nextGumbelSeed() : 0;
      token = model.pick(limited(std::move(logits)), seed);
    } else {
      token = sampler.sample(limited(std::move(logits)));
    }
    result.tokens.push_back(token);
    if (onToken)
      onToken(token);
    if (options.eosId && token == *options.eosId) {
      result.stoppedAtEos = true;
      break;
    }
    if (i + 1 < options.maxNewTokens)
      logits = model.decode(token);
  }
  return result;
}

} // namespace tlv4
