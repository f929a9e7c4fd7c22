// Index lists for sparse attention (models/deepseek_v4/kernels/attn_indices.tl) on the CPU
// target against the list AttentionLayer::attend builds (ReferenceAttention.cpp): the window
// of the last W positions, oldest first, then the CSA top-k entries or every visible HCA
// entry, as rows of the prefill buffer [S raw rows | compressed] or of the decode buffer
// [ring of W | compressed]; -1 for unused slots and padding queries.
#include "V4KernelSupport.h"

#include <random>
#include <string>

namespace {

using tlrt::DType;
using tlrt::Tensor;
using tlv4_test::kernel;

struct Params {
  int64_t w, ratio;
  bool hca;
};

// The reference list of one query at `pos` (< 0: padding); `rowOf(p)` is the buffer row of
// window position p, `base` the first compressed row.
std::vector<int32_t> expected(const Params &pr, int64_t pos, int64_t width,
                              const int32_t *topk, int64_t k, int64_t base, bool ring) {
  std::vector<int32_t> row(width, -1);
  if (pos < 0)
    return row;
  for (int64_t s = 0; s < pr.w; ++s) {
    const int64_t p = pos - pr.w + 1 + s;
    if (p >= 0)
      row[s] = int32_t(ring ? p % pr.w : p);
  }
  const int64_t visible = (pos + 1) / pr.ratio;
  for (int64_t j = 0; pr.w + j < width; ++j) {
    if (pr.hca)
      row[pr.w + j] = j < visible ? int32_t(base + j) : -1;
    else
      row[pr.w + j] = j < k && topk[j] >= 0 ? int32_t(base + topk[j]) : -1;
  }
  return row;
}

std::vector<int32_t> randomTopK(int64_t n, int64_t entries, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> v(n);
  for (auto &x : v)
    x = rng() % 5 == 0 ? -1 : int32_t(rng() % std::max<int64_t>(entries, 1));
  return v;
}

void runPrefill(const std::string &module, const Params &pr, int64_t b, int64_t s, int64_t k,
                int64_t width, uint32_t seed) {
  std::vector<int32_t> pos(b * s);
  for (int64_t i = 0; i < b; ++i)
    for (int64_t t = 0; t < s; ++t)
      pos[i * s + t] = t < s - 3 * i ? int32_t(t) : -1; // ragged: padding at the end
  std::vector<int32_t> topk = randomTopK(b * s * k, s / pr.ratio, seed);
  std::vector<int32_t> idx(b * s * width, 0x55555555);
  kernel(module, "attn_indices_prefill")
      .launch({Tensor(pos.data(), DType::Int32, {b, s}),
               Tensor(topk.data(), DType::Int32, {b, s, k}),
               Tensor(idx.data(), DType::Int32, {b, s, width})});
  for (int64_t i = 0; i < b * s; ++i) {
    std::vector<int32_t> want =
        expected(pr, pos[i], width, &topk[i * k], pr.hca ? 0 : k, s, /*ring=*/false);
    for (int64_t c = 0; c < width; ++c)
      ASSERT_EQ(idx[i * width + c], want[c])
          << module << " query " << i << " (pos " << pos[i] << ") slot " << c;
  }
}

void runDecode(const std::string &module, const Params &pr, const std::vector<int32_t> &pos,
               int64_t k, int64_t width, uint32_t seed) {
  const int64_t b = int64_t(pos.size());
  std::vector<int32_t> topk = randomTopK(b * k, 1000, seed);
  std::vector<int32_t> idx(b * width, 0x55555555);
  kernel(module, "attn_indices_decode")
      .launch({Tensor(const_cast<int32_t *>(pos.data()), DType::Int32, {b}),
               Tensor(topk.data(), DType::Int32, {b, k}),
               Tensor(idx.data(), DType::Int32, {b, width})});
  for (int64_t i = 0; i < b; ++i) {
    std::vector<int32_t> want =
        expected(pr, pos[i], width, &topk[i * k], pr.hca ? 0 : k, pr.w, /*ring=*/true);
    for (int64_t c = 0; c < width; ++c)
      ASSERT_EQ(idx[i * width + c], want[c])
          << module << " decode sequence " << i << " (pos " << pos[i] << ") slot " << c;
  }
}

// V4-Flash: window 128 + top-512, prefill of 600 tokens (positions past the window and across
// compression boundaries), two sequences with padding.
TEST(V4AttnIndices, FlashCsaPrefill) {
  runPrefill("attn_indices_csa", {128, 4, false}, 2, 600, 512, 640, 1);
}

// HCA: every visible entry; the list holds S / 4 compressed slots here (RATIO 4 in this
// build) so that the visibility edge moves every 4 queries.
TEST(V4AttnIndices, FlashHcaPrefill) {
  runPrefill("attn_indices_hca", {128, 4, true}, 1, 300, 1, 128 + 75, 2);
}

// The tiny config's window (16), lists wider than one block, a top-k wider than the list and
// a list wider than the top-k.
TEST(V4AttnIndices, TinyPrefill) {
  runPrefill("attn_indices_tiny", {16, 4, false}, 3, 70, 8, 16 + 8, 3);
  runPrefill("attn_indices_tiny", {16, 4, false}, 1, 40, 12, 16 + 8, 4);
  runPrefill("attn_indices_tiny", {16, 4, false}, 2, 50, 6, 16 + 10, 9); // list wider than top-k
  runPrefill("attn_indices_tiny_hca", {16, 128, true}, 1, 300, 1, 16 + 3, 5);
}

// Decode: ring rows p % W, positions before, at and past the window's first wrap, idle
// sequences.
TEST(V4AttnIndices, Decode) {
  std::vector<int32_t> pos = {0, 5, 127, 128, 129, 1000, -1, 4095};
  runDecode("attn_indices_csa", {128, 4, false}, pos, 512, 640, 6);
  runDecode("attn_indices_hca", {128, 4, true}, pos, 1, 128 + 1100, 7);
  runDecode("attn_indices_tiny", {16, 4, false}, {3, 15, 16, 17, 40, -5}, 8, 24, 8);
}

} // namespace
