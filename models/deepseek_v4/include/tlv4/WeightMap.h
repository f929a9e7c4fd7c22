// WeightMap: every tensor a DeepSeek-V4 checkpoint must hold, with its
// official (native) name, dtype and shape derived from the Config, and the
// mapping from Transformers-style re-export names to native names.
// The shape table itself lives in one place: src/WeightMap.cpp.
#pragma once

#include "tlv4/Config.h"
#include "tlv4/DType.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tlv4 {

// What a tensor is, so the verifier knows which storage variants to accept
// and the dequantiser which scale goes with it.
enum class TensorRole {
  Plain,      // bf16 / f32 / i32 parameter
  Fp8Weight,  // float8_e4m3fn [out, in], scale = "<stem>.scale"
  Fp8Scale,   // [ceil(out/128), ceil(in/128)], ue8m0 (f32 also accepted)
  Fp4Weight,  // float4_e2m1 logical [out, in], scale = "<stem>.scale";
              // stored as I8 [out, in/2] packed pairs (what DeepSeek's
              // released files use), U8 likewise, or F4 [out, in]
  Fp4Scale,   // [out, in/32], ue8m0 (f32 also accepted)
};

struct ExpectedTensor {
  std::string name; // native name, e.g. "layers.3.attn.wq_a.weight"
  DType dtype;      // canonical stored dtype (what make-tiny writes)
  std::vector<int64_t> shape; // logical shape (fp4 values for Fp4Weight)
  TensorRole role = TensorRole::Plain;
  // Extra dtypes a real checkpoint may use for this tensor (e.g. f32 for a
  // bf16-by-default compressor weight).
  std::vector<DType> alsoAccepted;
};

// The shape a tensor of this expectation has in the file when stored as
// `stored` (the packed-pair shape [out, in/2] for FP4 in I8/U8).
std::vector<int64_t> storedShapeFor(const ExpectedTensor &e, DType stored);
// "I8 [256, 64] (fp4 [256, 128])" style description for messages.
std::string describeExpected(const ExpectedTensor &e);

// Every expected tensor in a deterministic order (top level, then layers in
// order, then MTP layers). Throws if the config is invalid.
std::vector<ExpectedTensor> expectedTensors(const Config &config);

// The scale tensor name of a quantised weight: "x.weight" -> "x.scale".
std::string scaleNameFor(const std::string &weightName);

// Map a Transformers-style name ("model.layers.3.self_attn.q_a_proj.weight")
// to the native one ("layers.3.attn.wq_a.weight"). MTP layers appear there
// as model.layers.{num_hidden_layers + k}.* and map to mtp.{k}.*.
// std::nullopt when the name is not recognised as Transformers-style.
std::optional<std::string> transformersToNative(const std::string &name,
                                                const Config &config);
// The inverse, for writing test checkpoints in the re-export style:
// transformersToNative(nativeToTransformers(n)) == n for every name of
// expectedTensors(). MTP-only leaves (e_proj, h_proj, enorm, hnorm) keep
// their native spelling, for want of a known re-export name.
std::string nativeToTransformers(const std::string &name,
                                 const Config &config);
// True when the name looks like a Transformers-style export ("model." or
// "lm_head." prefix).
bool looksTransformersStyle(const std::string &name);

} // namespace tlv4
