// CheckpointCommands: `tl-v4 make-tiny` (write a deterministic random
// checkpoint for a config) and `tl-v4 inspect` (print and validate one).
#include "Commands.h"

#include "tlv4/Checkpoint.h"
#include "tlv4/Config.h"
#include "tlv4/TinyCheckpoint.h"
#include "tlv4/WeightMap.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace tlv4::tool {
namespace {

struct MakeTinyOptions {
  std::string config;
  std::string out;
  uint64_t seed = 0;
  int shards = 1;
  std::string naming = "native";
  bool noTokenizer = false;
  std::string shape;   // tiny (default) or flash: a built-in config
  int64_t layers = 0;  // keep only the first N layers (and the MTP layers)
  bool fastCodes = false;
};

struct InspectOptions {
  std::string checkpoint;
  bool noTable = false;
  bool checkValues = false;
};

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(fmt::format("{}: cannot open", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void runMakeTiny(const MakeTinyOptions &o) {
  Config config = o.shape == "flash" ? Config::flash() : Config::tiny();
  std::string text;
  if (!o.config.empty()) {
    if (!o.shape.empty())
      throw std::runtime_error("give --config or --shape, not both");
    text = readFile(o.config);
    config = Config::fromJsonText(text, o.config);
  }
  if (o.layers > 0) {
    // The first N layers and the MTP layers' ratios (compress_ratios has one entry per layer,
    // then the MTP layers); the config is written from the Config, not the file's text.
    if (o.layers > config.numHiddenLayers)
      throw std::runtime_error(fmt::format("--layers {}: the config has {} layers", o.layers,
                                           config.numHiddenLayers));
    std::vector<int64_t> ratios(config.compressRatios.begin(),
                                config.compressRatios.begin() + o.layers);
    ratios.insert(ratios.end(), config.compressRatios.begin() + config.numHiddenLayers,
                  config.compressRatios.end());
    config.compressRatios = ratios;
    config.numHiddenLayers = o.layers;
    config.numHashLayers = std::min(config.numHashLayers, o.layers);
    text.clear();
  }
  TensorNaming naming = o.naming == "transformers" ? TensorNaming::Transformers
                                                  : TensorNaming::Native;
  std::vector<std::string> shards =
      writeTinyCheckpoint(config, o.out, o.seed, o.shards, text, naming, o.fastCodes);
  int64_t tensors = static_cast<int64_t>(expectedTensors(config).size());
  fmt::print("wrote {} tensors in {} shard(s) to {} (seed {}, {} names)\n",
             tensors, shards.size(), o.out, o.seed, o.naming);
  // The tiny tokenizer too, so `tl-v4 generate --prompt TEXT` works on it at once.
  if (!o.noTokenizer) {
    writeTinyTokenizer(config, o.out);
    fmt::print("wrote tokenizer.json and tokenizer_config.json (the tiny tokenizer)\n");
  }
}

std::string shapeText(const std::vector<int64_t> &shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

void runInspect(const InspectOptions &o) {
  Checkpoint ckpt = Checkpoint::open(o.checkpoint);
  fmt::print("checkpoint: {}\n", o.checkpoint);
  fmt::print("{}", ckpt.config().summary());
  fmt::print("naming: {}\n", tensorNamingName(ckpt.naming()));
  if (!o.noTable) {
    fmt::print("tensors:\n");
    for (const std::string &name : ckpt.tensorNames()) {
      TensorView v = ckpt.tensor(name);
      std::string shard = v.source.substr(v.source.find_last_of('/') + 1);
      std::string logical =
          v.dtype != v.storedDType
              ? fmt::format(" ({} {})", dtypeName(v.dtype), shapeText(v.shape))
              : "";
      fmt::print("  {:<52} {:<8} {:<14} {}{}\n", name,
                 dtypeName(v.storedDType), shapeText(v.storedShape), shard,
                 logical);
    }
  }
  VerifyReport report = ckpt.verify();
  for (const std::string &u : report.unexpected)
    fmt::print("warning: unexpected tensor '{}'\n", u);
  if (!report.ok()) {
    std::string problems = report.describe();
    throw std::runtime_error(fmt::format(
        "{}: verification failed: {} missing, {} misshapen\n{}", o.checkpoint,
        report.missing.size(), report.misshapen.size(),
        problems.substr(0, problems.size() - 1)));
  }
  if (o.checkValues) {
    std::vector<std::string> bad = ckpt.findNonFiniteValues();
    if (!bad.empty())
      throw std::runtime_error(fmt::format(
          "{}: non-finite values in {} tensor(s)\n{}", o.checkpoint,
          bad.size(), fmt::join(bad, "\n")));
    fmt::print("values: all finite\n");
  }
  fmt::print("verification: OK ({} tensors expected, {} present, {} "
             "unexpected)\n",
             report.expectedCount, ckpt.tensorNames().size(),
             report.unexpected.size());
}

} // namespace

void registerCheckpointCommands(CLI::App &app) {
  auto make = std::make_shared<MakeTinyOptions>();
  CLI::App *mk = app.add_subcommand(
      "make-tiny", "Write a deterministic random checkpoint for a config");
  mk->add_option("--config", make->config,
                 "config.json (default: the built-in tiny config)");
  mk->add_option("--out", make->out, "output directory")->required();
  mk->add_option("--seed", make->seed, "random seed");
  mk->add_option("--shards", make->shards, "number of shards")
      ->check(CLI::Range(1, 1000));
  mk->add_option("--naming", make->naming,
                 "tensor names: native (default) or transformers")
      ->check(CLI::IsMember({"native", "transformers"}));
  mk->add_option("--shape", make->shape, "a built-in config: tiny (default) or flash (V4-Flash)")
      ->check(CLI::IsMember({"tiny", "flash"}));
  mk->add_option("--layers", make->layers,
                 "keep the first N layers (a benchmark checkpoint of real layer shapes)")
      ->check(CLI::Range(int64_t(1), int64_t(1000)));
  mk->add_flag("--fast-codes", make->fastCodes,
               "random FP8/FP4 codes with fixed scales (a benchmark checkpoint in seconds)");
  mk->add_flag("--no-tokenizer", make->noTokenizer,
               "do not write the tiny tokenizer (tokenizer.json) next to the checkpoint");
  mk->callback([make] { runMakeTiny(*make); });

  auto insp = std::make_shared<InspectOptions>();
  CLI::App *in = app.add_subcommand(
      "inspect", "Print a checkpoint's config and tensors and validate it");
  in->add_option("--checkpoint", insp->checkpoint, "checkpoint directory")
      ->required();
  in->add_flag("--no-table", insp->noTable, "do not list the tensors");
  in->add_flag("--check-values", insp->checkValues,
               "also read every value and reject NaN/Inf (slow)");
  in->callback([insp] { runInspect(*insp); });
}

} // namespace tlv4::tool
