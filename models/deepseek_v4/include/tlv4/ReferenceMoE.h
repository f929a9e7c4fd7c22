// ReferenceMoE: the V4 mixture-of-experts sub-layer of the reference:
// sqrtsoftplus router (hash-routed by token id in the first
// num_hash_layers layers, bias-steered top-k elsewhere), clamped SwiGLU
// experts and the shared expert.
#pragma once

#include "tlv4/ReferenceOps.h"
#include "tlv4/ReferenceWeights.h"

#include <cstdint>
#include <vector>

namespace tlv4::ref {

struct Routing {
  std::vector<int32_t> experts; // in selection order
  Vec weights;                  // same order, normalised * routed_scaling_factor
};

// Route one token. scores = sqrtsoftplus(gate x) in f32. Hash layers take
// the experts from tid2eid[tokenId]; other layers the top-k of scores +
// bias (ties to the lower expert id); the bias only selects. Weights are the
// unbiased scores of the chosen experts, normalised to sum 1 when
// norm_topk_prob, times routed_scaling_factor.
Routing routeToken(const MoEWeights &w, const Vec &x, int32_t tokenId,
                   bool hashLayer, const Config &config);

// w2(silu(min(w1 x, limit)) * clamp(w3 x, -limit, limit) * routeWeight);
// limit <= 0 disables the clamps.
Vec swigluExpert(const ExpertWeights &w, const Vec &x, float routeWeight,
                 float limit);

// Sum of the routed experts plus the shared expert. Both clamp with the
// config's swiglu_limit: the current official release builds the shared
// expert with the routed experts' limit (V4.md, settled; only its
// superseded first upload left it unclamped).
Vec moeForward(const MoEWeights &w, const Vec &x, int32_t tokenId,
               bool hashLayer, const Config &config);

} // namespace tlv4::ref
