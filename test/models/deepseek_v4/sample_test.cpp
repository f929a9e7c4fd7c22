// Embedding and sampling (models/deepseek_v4/kernels/sample.tl) on the CPU target against the
// reference (Generate.cpp, ReferenceModel::embed):
// - embed: each token's bf16 row as f32, repeated over the copies; an id outside the table
//   gives zeros.
// - sample at temperature 0: argmaxToken, with equal maxima planted in one chunk and across
//   chunks (the lower id wins) and -inf logits.
// - sample at temperature > 0: gumbelToken with the same seeds, token for token except where
//   the reference's two best keys lie within f32 rounding (then the kernel's pick must be one
//   of them); and over 4000 seeds on an 8-token vocabulary the picks follow softmax(L / T)
//   (each frequency within 5 standard deviations), which is what Gumbel-max promises.
#include "V4KernelSupport.h"

#include "tlv4/Generate.h"

#include <algorithm>
#include <cmath>

namespace {

using tlrt::DType;
using tlrt::Tensor;
using tlv4_test::kernel;

TEST(V4Sample, EmbedRepeatsTheRow) {
  const int64_t v = 1000, d = 256, hc = 4, n = 3;
  std::vector<uint16_t> emb = tlv4_test::toBf16(tlv4_test::uniform(v * d, 1, -1, 1));
  std::vector<int32_t> ids = {7, 999, 1000};
  std::vector<float> h(n * hc * d, -3.0f);
  kernel("sample_tiny", "embed")
      .launch({Tensor(ids.data(), DType::Int32, {n}), Tensor(emb.data(), DType::BFloat16, {v, d}),
               Tensor(h.data(), DType::Float32, {n, hc * d})});
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < hc; ++i)
      for (int64_t k = 0; k < d; ++k) {
        const float want = ids[t] < v ? tlrt::bf16ToF32(emb[ids[t] * d + k]) : 0.0f;
        ASSERT_EQ(h[(t * hc + i) * d + k], want) << "token " << t << " copy " << i << " dim " << k;
      }
}

std::vector<int32_t> runSample(const char *module, const std::vector<float> &logits, int64_t rows,
                               int64_t v, const std::vector<float> &temp,
                               const std::vector<uint32_t> &seeds, std::vector<float> topP = {}) {
  std::vector<int32_t> ids(rows, -7);
  if (topP.empty())
    topP.assign(rows, 1.0f);
  kernel(module, "sample")
      .launch({Tensor(const_cast<float *>(logits.data()), DType::Float32, {rows, v}),
               Tensor(const_cast<float *>(temp.data()), DType::Float32, {rows}),
               Tensor(topP.data(), DType::Float32, {rows}),
               Tensor(const_cast<uint32_t *>(seeds.data()), DType::UInt32, {rows}),
               Tensor(ids.data(), DType::Int32, {rows})});
  return ids;
}

void runGreedyAndGumbel(const char *module, int64_t v, uint32_t seed) {
  if (!tlv4_test::available(module))
    return;
  const int64_t rows = 8;
  std::vector<float> logits = tlv4_test::uniform(rows * v, seed, -8, 8);
  // Row 1: equal maxima in one chunk; row 2: across chunks; row 3: -inf logits around.
  logits[1 * v + 5] = logits[1 * v + 9] = 50.0f;
  logits[2 * v + v - 2] = logits[2 * v + 3] = 60.0f;
  for (int64_t i = 0; i < v; i += 3)
    logits[3 * v + i] = -INFINITY;
  std::vector<float> temp = {0, 0, 0, 0, 0.7f, 1.0f, 1.5f, 1.0f};
  std::vector<uint32_t> seeds = {1, 2, 3, 4, 11, 12, 13, 0xFFFFFFFFu};
  std::vector<int32_t> got = runSample(module, logits, rows, v, temp, seeds);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> row(logits.begin() + r * v, logits.begin() + (r + 1) * v);
    const int32_t want = tlv4::gumbelToken(row, temp[r], seeds[r]);
    if (temp[r] <= 0.0f) {
      EXPECT_EQ(want, tlv4::argmaxToken(row));
      ASSERT_EQ(got[r], want) << module << " greedy row " << r;
      continue;
    }
    if (got[r] == want)
      continue;
    // Only a near tie may differ: the kernel's pick must be within f32 rounding of the best.
    auto keyOf = [&](int32_t i) {
      const float e = -std::log(tlv4::gumbelUniform(seeds[r], uint32_t(i)));
      return row[i] / temp[r] - std::log(e);
    };
    ASSERT_GE(got[r], 0);
    ASSERT_LT(got[r], v);
    EXPECT_NEAR(keyOf(got[r]), keyOf(want), 1e-5f * std::max(1.0f, std::fabs(keyOf(want))))
        << module << " row " << r << ": picked " << got[r] << ", the reference " << want;
  }
  EXPECT_EQ(got[1], 5);
  EXPECT_EQ(got[2], 3);
}

TEST(V4Sample, GreedyAndGumbelTiny) { runGreedyAndGumbel("sample_tiny", 1000, 1); }
TEST(V4Sample, GreedyAndGumbelFlashVocabulary) { runGreedyAndGumbel("sample_v4", 129280, 2); }

// Top-p on the device: the same token as tlv4::gumbelTopPToken (the same bisection in f32) on
// random rows, top-p 0.9 / 0.5 / 0.05 beside plain Gumbel-max and greedy rows; every token
// drawn lies in the nucleus (a token of the smallest top set holding the mass).
TEST(V4Sample, TopPNucleus) {
  const char *module = "sample_tiny";
  if (!tlv4_test::available(module))
    return;
  const int64_t v = 1000, rows = 48;
  std::vector<float> logits = tlv4_test::uniform(rows * v, 31, -4.0f, 4.0f);
  std::vector<float> temp(rows), topP(rows);
  std::vector<uint32_t> seeds(rows);
  const float ps[] = {0.9f, 0.5f, 0.05f, 1.0f};
  for (int64_t r = 0; r < rows; ++r) {
    temp[r] = r % 8 == 7 ? 0.0f : 0.7f + 0.1f * float(r % 3);
    topP[r] = ps[r % 4];
    seeds[r] = uint32_t(r * 7919 + 3);
  }
  std::vector<int32_t> got = runSample(module, logits, rows, v, temp, seeds, topP);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> row(logits.begin() + r * v, logits.begin() + (r + 1) * v);
    EXPECT_EQ(got[r], tlv4::gumbelTopPToken(row, temp[r], topP[r], seeds[r])) << "row " << r;
    if (temp[r] > 0 && topP[r] < 1) {
      // The drawn token is among the most likely ones that hold topP of the mass (+ one).
      std::vector<double> p(v);
      double z = 0;
      for (int64_t i = 0; i < v; ++i)
        z += p[i] = std::exp(double(row[i]) / temp[r]);
      double above = 0;
      for (int64_t i = 0; i < v; ++i)
        if (p[i] > p[got[r]])
          above += p[i] / z;
      EXPECT_LT(above, topP[r]) << "row " << r << ": the token is outside the nucleus";
    }
  }
}

TEST(V4Sample, GumbelFollowsTheSoftmax) {
  const int64_t v = 8, rows = 4000;
  const float t = 0.8f;
  const std::vector<float> base = {0.0f, 1.0f, -1.0f, 2.0f, 0.5f, -3.0f, 1.5f, 0.25f};
  std::vector<float> logits, temp(rows, t);
  std::vector<uint32_t> seeds(rows);
  for (int64_t r = 0; r < rows; ++r) {
    logits.insert(logits.end(), base.begin(), base.end());
    seeds[r] = uint32_t(r * 2654435761u + 17);
  }
  std::vector<int32_t> got = runSample("sample_v8", logits, rows, v, temp, seeds);
  std::vector<double> p(v);
  double z = 0;
  for (int64_t i = 0; i < v; ++i)
    z += p[i] = std::exp(double(base[i]) / t);
  std::vector<int64_t> count(v, 0);
  for (int32_t id : got) {
    ASSERT_GE(id, 0);
    ASSERT_LT(id, v);
    ++count[id];
  }
  for (int64_t i = 0; i < v; ++i) {
    const double pi = p[i] / z, sd = std::sqrt(rows * pi * (1 - pi));
    EXPECT_NEAR(double(count[i]), rows * pi, 5 * sd + 1) << "token " << i;
  }
}

} // namespace
