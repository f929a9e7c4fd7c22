// Generate: `tl-v4 generate`, text (or token id) generation on a checkpoint
// directory with the device model (tlc kernels on the GPU, or the same
// kernels compiled for the CPU) or the f32 reference forward pass: greedy
// at temperature 0, else temperature + top-p sampling (or --sampler gumbel,
// the official Gumbel-max, drawn by the device sampler on the device
// model), deterministic per seed.
#include "Commands.h"

#include "tlv4/DeviceModel.h"
#include "tlv4/Generate.h"
#include "tlrt/Gpu.h"
#include "tlv4/ReferenceModel.h"
#include "tlv4/Tokenizer.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tlv4::tool {
namespace {

struct GenerateCliOptions {
  std::string checkpoint;
  std::string prompt;
  std::string promptIds;
  std::string tokenizer;
  int64_t maxNewTokens = 32;
  double temperature = 0.0;
  double topP = 1.0;
  uint64_t seed = 0;
  std::string sampler = "nucleus";
  bool printIds = false;
  bool noBos = false;
  std::string device; // cuda, cpu or reference; empty: cuda when a GPU exists, else cpu
  std::string kernels;
};

std::vector<int32_t> parseIds(const std::string &text) {
  std::vector<int32_t> ids;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string::npos)
      end = text.size();
    std::string item = text.substr(begin, end - begin);
    size_t used = 0;
    long long value = -1;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception &) {
      used = 0;
    }
    if (item.empty() || used != item.size() || value < 0 || value > INT32_MAX)
      throw std::runtime_error(fmt::format(
          "--prompt-ids: '{}' is not a token id (expected comma-separated "
          "non-negative integers such as 1,2,3)",
          item));
    ids.push_back(int32_t(value));
    begin = end + 1;
  }
  return ids;
}

// The tokenizer to use: --tokenizer, else DIR/tokenizer.json when present.
std::optional<Tokenizer> openTokenizer(const GenerateCliOptions &o) {
  if (!o.tokenizer.empty())
    return Tokenizer::fromFile(o.tokenizer);
  std::filesystem::path inDir =
      std::filesystem::path(o.checkpoint) / "tokenizer.json";
  if (std::filesystem::exists(inDir))
    return Tokenizer::fromFile(inDir.string());
  return std::nullopt;
}

std::string joinIds(const std::vector<int32_t> &ids) {
  return fmt::format("{}", fmt::join(ids, ","));
}

void runGenerate(const GenerateCliOptions &o) {
  if (o.prompt.empty() == o.promptIds.empty())
    throw std::runtime_error(
        "give exactly one of --prompt TEXT or --prompt-ids 1,2,3");
  std::string device = o.device;
  if (device.empty())
    device = tlrt::cudaAvailable() && tlrt::cudaDeviceCount() > 0 ? "cuda" : "cpu";
  std::unique_ptr<ref::ReferenceModel> reference;
  std::unique_ptr<DeviceModel> model;
  Config config;
  std::optional<Tokenizer> tokenizer = openTokenizer(o);
  std::vector<int32_t> prompt;
  if (!o.promptIds.empty()) {
    prompt = parseIds(o.promptIds);
  } else {
    if (!tokenizer)
      throw std::runtime_error(fmt::format(
          "{} has no tokenizer.json: pass --tokenizer FILE, or give the "
          "prompt as token ids with --prompt-ids 1,2,3",
          o.checkpoint));
    prompt = tokenizer->encode(o.prompt, /*addBos=*/!o.noBos && tokenizer->hasBos());
  }
  if (device == "reference") {
    reference = ref::ReferenceModel::fromCheckpoint(o.checkpoint);
    config = reference->config();
  } else {
    DeviceOptions d;
    d.gpu = device == "cuda";
    d.kernelSet = o.kernels;
    d.maxBatch = 1;
    d.maxLength = int64_t(prompt.size()) + std::max<int64_t>(o.maxNewTokens, 1);
    model = DeviceModel::load(o.checkpoint, d);
    config = model->config();
    std::fprintf(stderr, "tl-v4: %s\n", model->describe().c_str());
  }
  const int64_t vocab = config.vocabSize;
  for (int32_t id : prompt)
    if (id >= vocab)
      throw std::runtime_error(fmt::format(
          "prompt token id {} is outside the model's vocabulary [0, {}) "
          "(does the tokenizer belong to this checkpoint?)",
          id, vocab));

  GenerateOptions g;
  g.maxNewTokens = o.maxNewTokens;
  g.sampling.temperature = o.temperature;
  g.sampling.topP = o.topP;
  g.sampling.seed = o.seed;
  g.sampling.method = o.sampler == "gumbel" ? SamplingMethod::Gumbel : SamplingMethod::Nucleus;
  if (tokenizer && tokenizer->hasEos())
    g.eosId = tokenizer->eosId();
  if (tokenizer)
    g.vocabLimit = int64_t(tokenizer->vocabSize());

  const bool text = tokenizer.has_value();
  if (text) {
    std::fputs(o.prompt.empty() ? tokenizer->decode(prompt).c_str()
                                : o.prompt.c_str(),
               stdout);
    std::fflush(stdout);
  }
  // Stream text as it decodes: print the bytes the new tokens add (a
  // character split over tokens shows up with its last token).
  std::vector<int32_t> generated;
  std::string printed;
  ModelSteps steps;
  if (model) {
    steps.prefill = [&](const std::vector<int32_t> &ids) {
      return model->prefill({ids}, /*allPositions=*/false)[0];
    };
    steps.decode = [&](int32_t id) { return model->decode({id})[0]; };
    const float temperature = float(o.temperature), topP = float(o.topP);
    steps.pick = [&, temperature, topP](const std::vector<float> &logits, uint32_t seed) {
      return model->sampleRows({logits}, {temperature}, {seed}, {topP})[0];
    };
  }
  auto onToken = [&](int32_t token) {
    generated.push_back(token);
    if (!text || tokenizer->isSpecial(token))
      return;
    std::string all = tokenizer->decodeBytes(generated, /*skipSpecial=*/true);
    if (all.size() > printed.size()) {
      std::fwrite(all.data() + printed.size(), 1, all.size() - printed.size(),
                  stdout);
      std::fflush(stdout);
      printed = all;
    }
  };
  GenerateResult result = reference ? generate(*reference, prompt, g, onToken)
                                    : generate(steps, prompt, g, onToken);
  if (text)
    std::fputs("\n", stdout);
  if (!text || o.printIds) {
    fmt::print("prompt ids: {}\n", joinIds(prompt));
    fmt::print("generated ids: {}\n", joinIds(result.tokens));
  }
  if (result.stoppedAtEos)
    fmt::print(stderr, "tl-v4: stopped at the end-of-sequence token {}\n",
               result.tokens.back());
}

} // namespace

void registerGenerateCommand(CLI::App &app) {
  auto options = std::make_shared<GenerateCliOptions>();
  CLI::App *cmd = app.add_subcommand(
      "generate", "Generate tokens with the device model (tlc kernels) or the f32 reference");
  cmd->add_option("--device", options->device,
                  "cuda (the tlc kernels on the GPU), cpu (the same kernels compiled for the "
                  "CPU) or reference (the f32 reference forward); default: cuda when a GPU "
                  "exists, else cpu")
      ->check(CLI::IsMember({"cuda", "cpu", "reference"}));
  cmd->add_option("--kernels", options->kernels,
                  "the kernel set (tl-v4 build-kernels); default: the one built with this "
                  "tree for the checkpoint's shape");
  cmd->add_option("--checkpoint", options->checkpoint,
                  "Checkpoint directory (config.json + safetensors)")
      ->required();
  cmd->add_option("--prompt", options->prompt, "Prompt text (needs a tokenizer)");
  cmd->add_option("--prompt-ids", options->promptIds,
                  "Prompt as comma-separated token ids, e.g. 1,2,3");
  cmd->add_option("--tokenizer", options->tokenizer,
                  "tokenizer.json (default: the checkpoint's own, if any)");
  cmd->add_option("--max-new-tokens", options->maxNewTokens,
                  "Tokens to generate (default 32)");
  cmd->add_option("--temperature", options->temperature,
                  "0 = greedy (default); > 0 samples");
  cmd->add_option("--top-p", options->topP,
                  "Nucleus sampling mass in (0, 1] (default 1)");
  cmd->add_option("--seed", options->seed, "Sampling seed (default 0)");
  cmd->add_option("--sampler", options->sampler,
                  "nucleus (default: temperature + top-p) or gumbel (the official generate's "
                  "Gumbel-max, temperature only; what the device sampler draws)")
      ->check(CLI::IsMember({"nucleus", "gumbel"}));
  cmd->add_flag("--print-ids", options->printIds,
                "Also print the prompt and generated token ids");
  cmd->add_flag("--no-bos", options->noBos,
                "Do not add the tokenizer's BOS token to --prompt");
  cmd->callback([options] { runGenerate(*options); });
}

} // namespace tlv4::tool
