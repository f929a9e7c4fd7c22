// Generate: token sampling and the generation loop on the reference model
// (`tl-v4 generate`): greedy at temperature 0, else temperature + top-p
// (nucleus) sampling or the official generate's Gumbel-max, driven by a
// seeded generator of our own, so a seed gives the same tokens on every
// platform.
#pragma once

#include "tlv4/ReferenceModel.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace tlv4 {

// How a temperature > 0 picks a token: nucleus (softmax(logits / T) cut at top-p, inverse CDF
// with a splitmix64 draw) or gumbel (the official generate's Gumbel-max, gumbelToken below,
// with a per-step seed, cut at top-p by gumbelTopPToken), which the device sampler reproduces
// token for token.
enum class SamplingMethod { Nucleus, Gumbel };

struct SamplingOptions {
  double temperature = 0.0; // 0 = greedy
  double topP = 1.0;        // (0, 1]; nucleus only
  uint64_t seed = 0;
  SamplingMethod method = SamplingMethod::Nucleus;
};

// Index of the largest logit (the lowest id among equal ones).
int32_t argmaxToken(const std::vector<float> &logits);

// The official generate's stochastic mode (V4.md): temperature only, Gumbel-max, the token
// argmax_i p_i / E_i with E_i ~ Exp(1), i.e. argmax_i (logit_i / T - log E_i). Here E_i =
// -log u_i with u_i = gumbelUniform(seed, i), a counter-based hash the device sampler
// (models/deepseek_v4/kernels/sample.tl) computes too, so both draw the same noise and pick
// the same token unless two keys lie within f32 rounding. Keys in f32; ties to the lower id;
// temperature 0 is greedy.
uint32_t gumbelHash(uint32_t seed, uint32_t i);
float gumbelUniform(uint32_t seed, uint32_t i); // in (0, 1)
int32_t gumbelToken(const std::vector<float> &logits, float temperature, uint32_t seed);
// Gumbel-max restricted to the nucleus (top-p < 1): the scaled logits s_i = l_i / T at or above
// the largest threshold whose tokens hold at least topP of the softmax mass, found by 30
// bisection steps on [max s - 88, max s] with the masses summed in f32 (sample.tl does the same
// steps on the device). Gumbel-max over the nucleus samples softmax renormalised on it.
// topP >= 1 is gumbelToken.
int32_t gumbelTopPToken(const std::vector<float> &logits, float temperature, float topP,
                        uint32_t seed);

class Sampler {
public:
  // Throws for a negative temperature or top-p outside (0, 1].
  explicit Sampler(const SamplingOptions &options);
  int32_t sample(const std::vector<float> &logits);
  // Probabilities softmax(logits / T) restricted to the smallest set of most
  // likely tokens whose mass reaches top-p (ties to the lower id),
  // renormalised: (token, probability) best first.
  std::vector<std::pair<int32_t, double>>
  nucleus(const std::vector<float> &logits) const;

  // The seed of the next Gumbel-max step (a splitmix64 draw, so step s of a run with seed x
  // is the same on every platform and on the device sampler).
  uint32_t nextGumbelSeed();

private:
  uint64_t next(); // splitmix64
  double uniform(); // [0, 1)
  SamplingOptions options_;
  uint64_t state_;
};

struct GenerateOptions {
  int64_t maxNewTokens = 32;
  SamplingOptions sampling;
  std::optional<int32_t> eosId; // stop after emitting it
  // Sample only ids below this (0 = the whole vocabulary): a model's
  // vocab_size is often padded past the tokenizer's last id.
  int64_t vocabLimit = 0;
};

struct GenerateResult {
  std::vector<int32_t> tokens; // generated tokens only
  bool stoppedAtEos = false;
};

// Prefill the prompt, then decode up to maxNewTokens tokens; onToken sees
// each token as it is produced.
GenerateResult generate(const ref::ReferenceModel &model,
                        const std::vector<int32_t> &prompt,
                        const GenerateOptions &options,
                        const std::function<void(int32_t)> &onToken = {});

// The same loop over any forward pass: prefill(prompt) returns the logits of
// its last position, decode(token) those of the token; pick(logits, seed),
// when given, replaces the host sampler for greedy and Gumbel-max steps (the
// device sampler: `seed` is the step's Gumbel seed, the one the host sampler
// would use, so both pick the same token).
struct ModelSteps {
  std::function<std::vector<float>(const std::vector<int32_t> &)> prefill;
  std::function<std::vector<float>(int32_t)> decode;
  std::function<int32_t(const std::vector<float> &, uint32_t seed)> pick;
};
GenerateResult generate(const ModelSteps &model, const std::vector<int32_t> &prompt,
                        const GenerateOptions &options,
                        const std::function<void(int32_t)> &onToken = {});

} // namespace tlv4
