// ReferenceHC: manifold-constrained hyper-connections (mHC) of the V4
// reference: the residual stream is hc_mult copies of the hidden state;
// each sub-layer reads a learned mix of them (pre), and writes back its
// output spread over the copies (post) plus a doubly-stochastic
// (Sinkhorn-Knopp) mix of the old copies (comb). hc head collapses the
// copies before the final norm.
#pragma once

#include "tlv4/ReferenceOps.h"
#include "tlv4/ReferenceWeights.h"

#include <cstdint>

namespace tlv4::ref {

// A residual stream at one position: hc_mult copies of d, copy-major.
using Stream = Vec;

struct HcSplit {
  Vec pre;  // [hc]
  Vec post; // [hc]
  Vec comb; // [hc, hc] row-major: comb[i * hc + j] weighs old copy i into new copy j
};

// Split the (2 + hc) * hc mixes into pre / post / comb (V4.md mHC step 1):
// pre = sigmoid(m * scale[0] + base) + eps, post = 2 sigmoid(m * scale[1] +
// base), comb = row softmax(m * scale[2] + base) + eps, then one column
// normalisation and (iters - 1) rounds of row then column normalisation,
// eps added to each denominator.
HcSplit hcSplitSinkhorn(const Vec &mixes, const Vec &scale, const Vec &base,
                        int64_t hc, int64_t iters, float eps);

// The mixes of a stream: (fn @ stream) * rsqrt(mean(stream^2) + normEps).
Vec hcMixes(const Vec &fn, int64_t rows, const Stream &stream, float normEps);

struct HcPreResult {
  Vec x; // [d] the sub-layer input, sum_i pre[i] * h[i]
  HcSplit split;
};
HcPreResult hcPre(const Stream &stream, const HcWeights &w, const Config &config);
// h'[j] = post[j] * y + sum_i comb[i, j] * h[i].
Stream hcPost(const Stream &stream, const Vec &y, const HcSplit &split,
              int64_t hc);
// Final collapse: pre = sigmoid(mixes * scale + base) + eps, sum of copies.
Vec hcHead(const Stream &stream, const HcHeadWeights &w, const Config &config);

} // namespace tlv4::ref
