// TinyCheckpoint: deterministic random DeepSeek-V4 checkpoints for tests
// (`tl-v4 make-tiny`): every tensor of the WeightMap with official names,
// dtypes and quantisation, realistic scales, sharded with an index.
#pragma once

#include "tlv4/Checkpoint.h"
#include "tlv4/Config.h"
#include "tlv4/Safetensors.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tlv4 {

// All tensors, in WeightMap order. Same config + seed = same bytes.
// fastCodes: FP8 / FP4 weights as random codes with one fixed power-of-two scale, and large
// plain tensors uniform rather than normal: seconds instead of minutes for a checkpoint of
// V4-Flash's real layer shapes (a benchmark's weights; the values only need to be finite).
std::vector<TensorData> makeTinyTensors(const Config &config, uint64_t seed,
                                        bool fastCodes = false);

// Write DIR/config.json (configText verbatim when given, else
// config.toJson()), the shards and model.safetensors.index.json. Creates
// DIR if needed. With TensorNaming::Transformers the tensors get their
// re-export names (nativeToTransformers). Returns the shard file names.
std::vector<std::string>
writeTinyCheckpoint(const Config &config, const std::string &dir,
                    uint64_t seed, int numShards,
                    const std::string &configText = "",
                    TensorNaming naming = TensorNaming::Native, bool fastCodes = false);

// The tiny tokenizer (models/deepseek_v4/data/tiny-tokenizer: a ~600-token byte-level BPE
// with V4's pre-tokenizer, decoder and special tokens), compiled into the library.
std::string tinyTokenizerJson();
std::string tinyTokenizerConfigJson();
// Write DIR/tokenizer.json and DIR/tokenizer_config.json (the tiny tokenizer), so `tl-v4
// generate --prompt TEXT` works on a tiny checkpoint. Throws when the config's vocabulary
// is smaller than the tokenizer's (its ids would fall outside the embedding).
void writeTinyTokenizer(const Config &config, const std::string &dir);

} // namespace tlv4
