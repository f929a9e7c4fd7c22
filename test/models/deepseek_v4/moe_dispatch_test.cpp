// MoE dispatch / combine (models/deepseek_v4/kernels/moe_dispatch.tl) on the CPU target:
// - dispatch against a stable sort of the assignments by expert (token order, then slot
//   order): the segment offsets, every row's assignment (Perm) and its inverse (RowOf),
//   slots without an expert (-1) left out; ragged token blocks;
// - combine against the reference's sum (ReferenceMoE.cpp moeForward: the shared expert,
//   then each chosen expert's output in slot order), bit for bit, and batch invariance: a
//   token's output is the same bits when it is combined in a batch of one.
#include "V4KernelSupport.h"

#include <algorithm>
#include <cstring>

namespace {

using tlrt::DType;
using tlrt::Tensor;
using tlv4_test::kernel;

struct Dispatch {
  std::vector<int32_t> offsets, perm, rowOf;
};

Dispatch runDispatch(const char *module, const std::vector<int32_t> &experts, int64_t n,
                     int64_t k, int64_t e, int64_t tb) {
  const int64_t nb = (n + tb - 1) / tb, r = n * k;
  std::vector<int32_t> cnt(nb * e, -5), base(nb * e, -5);
  Dispatch d;
  d.offsets.assign(e + 1, -5);
  d.perm.assign(r, -5);
  d.rowOf.assign(n * k, -5);
  kernel(module, "moe_count")
      .launch({Tensor(const_cast<int32_t *>(experts.data()), DType::Int32, {n, k}),
               Tensor(cnt.data(), DType::Int32, {nb, e})});
  kernel(module, "moe_offsets")
      .launch({Tensor(cnt.data(), DType::Int32, {nb, e}),
               Tensor(d.offsets.data(), DType::Int32, {e + 1}),
               Tensor(base.data(), DType::Int32, {nb, e})});
  kernel(module, "moe_scatter")
      .launch({Tensor(const_cast<int32_t *>(experts.data()), DType::Int32, {n, k}),
               Tensor(base.data(), DType::Int32, {nb, e}),
               Tensor(d.perm.data(), DType::Int32, {r}),
               Tensor(d.rowOf.data(), DType::Int32, {n, k})});
  return d;
}

std::vector<int32_t> randomRouting(int64_t n, int64_t k, int64_t e, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ex(n * k);
  for (int64_t t = 0; t < n; ++t) {
    const std::vector<int32_t> all = tlv4_test::shuffledIota(e, rng);
    for (int64_t j = 0; j < k; ++j)
      ex[t * k + j] = (rng() % 11 == 0) ? -1 : all[j]; // some slots route nowhere
  }
  return ex;
}

void runCase(const char *module, int64_t n, int64_t k, int64_t e, int64_t d, uint32_t seed) {
  const int64_t tb = 16;
  std::vector<int32_t> ex = randomRouting(n, k, e, seed);
  Dispatch got = runDispatch(module, ex, n, k, e, tb);
  // The stable sort by expert.
  std::vector<int32_t> order;
  for (int64_t a = 0; a < n * k; ++a)
    if (ex[a] >= 0)
      order.push_back(int32_t(a));
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t x, int32_t y) { return ex[x] < ex[y]; });
  const int64_t placed = int64_t(order.size());
  ASSERT_EQ(got.offsets[e], placed) << module;
  for (int64_t x = 0; x <= e; ++x) {
    const int64_t want = std::count_if(order.begin(), order.end(),
                                       [&](int32_t a) { return ex[a] < x; });
    ASSERT_EQ(got.offsets[x], want) << module << " offset of expert " << x;
  }
  for (int64_t row = 0; row < placed; ++row)
    ASSERT_EQ(got.perm[row], order[row]) << module << " row " << row;
  for (int64_t a = 0; a < n * k; ++a) {
    if (ex[a] < 0) {
      ASSERT_EQ(got.rowOf[a], -1) << module << " assignment " << a;
      continue;
    }
    ASSERT_GE(got.rowOf[a], 0);
    ASSERT_EQ(got.perm[got.rowOf[a]], a) << module << " assignment " << a;
  }
  // Combine, against the reference's order of additions.
  const int64_t r = n * k;
  std::vector<float> shared = tlv4_test::uniform(n * d, seed + 1, -1, 1);
  std::vector<float> out = tlv4_test::uniform(r * d, seed + 2, -1, 1);
  std::vector<float> y(n * d, -9.0f);
  kernel(module, "moe_combine")
      .launch({Tensor(shared.data(), DType::Float32, {n, d}),
               Tensor(out.data(), DType::Float32, {r, d}),
               Tensor(got.rowOf.data(), DType::Int32, {n, k}),
               Tensor(y.data(), DType::Float32, {n, d})});
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < d; ++c) {
      float want = shared[t * d + c];
      for (int64_t j = 0; j < k; ++j)
        if (got.rowOf[t * k + j] >= 0)
          want += out[got.rowOf[t * k + j] * d + c];
      ASSERT_EQ(std::memcmp(&y[t * d + c], &want, 4), 0)
          << module << " token " << t << " col " << c << ": " << y[t * d + c] << " vs " << want;
    }
  // Batch invariance: token 3 alone, its expert rows copied out, gives the same bits.
  const int64_t t = 3;
  std::vector<float> out1(k * d), y1(d, -9.0f);
  std::vector<int32_t> row1(k);
  for (int64_t j = 0; j < k; ++j) {
    const int32_t src = got.rowOf[t * k + j];
    row1[j] = src < 0 ? -1 : int32_t(j);
    if (src >= 0)
      std::copy(out.begin() + src * d, out.begin() + (src + 1) * d, out1.begin() + j * d);
  }
  kernel(module, "moe_combine")
      .launch({Tensor(shared.data() + t * d, DType::Float32, {1, d}),
               Tensor(out1.data(), DType::Float32, {k, d}),
               Tensor(row1.data(), DType::Int32, {1, k}),
               Tensor(y1.data(), DType::Float32, {1, d})});
  ASSERT_EQ(std::memcmp(y1.data(), y.data() + t * d, d * 4), 0) << module << " batch of one";
}

TEST(V4MoeDispatch, TinyRaggedBlocks) { runCase("moe_dispatch_tiny", 37, 2, 8, 256, 1); }
TEST(V4MoeDispatch, TinyOneBlock) { runCase("moe_dispatch_tiny", 5, 2, 8, 256, 2); }
TEST(V4MoeDispatch, Flash) { runCase("moe_dispatch_v4", 100, 6, 256, 4096, 3); }

} // namespace
