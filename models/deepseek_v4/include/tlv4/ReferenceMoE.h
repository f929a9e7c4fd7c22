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

// Whether the shared expert clamps like the routed ones. V4.md lists the
// clamps under "Expert (routed ...; shared ...)"; public ports of the
// official inference code build the shared expert with swiglu_limit 0 (no
// clamp). We follow the ports. (verify; docs/v4-reference.md, Assumptions)
constexpr bool kClampSharedExpert = false;

// Sum of the routed experts plus the shared expert.
Vec moeForward(const MoEWeights &w, const Vec &x, int32_t tokenId,
               bool hashLayer, const Config &config);

} // namespace tlv4::ref
