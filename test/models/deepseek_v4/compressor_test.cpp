// V4 compressor (models/deepseek_v4/kernels/compressor.tl) on the CPU target against the
// reference's compressorPool + compressorFinish (ReferenceAttention.cpp), grouped the way
// AttentionLayer::prefill / pushToken group tokens: prefill over ragged batches (entries past
// Lens[b] / ratio and past the batch's longest sequence must stay untouched), decode one token
// at a time continuing a prefill through compressor_state_init (it must reproduce, to the bit,
// what the prefill kernel writes for the longer sequence, and the reference's entries), for
// CSA (ratio 4, overlap), HCA (ratio 128), the V4-Flash width 512 and the indexer's 128-wide
// compressor (Hadamard + FP4 in the FP8 row form).
//
// Tolerance: the kernel keeps the reference's two double sums (softmax denominator, RMSNorm's
// sum of squares) in f32, so its values before the FP8/FP4/bf16 rounding differ from the
// reference's by a few f32 ulps. Each stored value must be what rounding some y within
// kEps * max|row| of the reference's unrounded value gives (a code may sit one step off only
// where the reference value is that close to a rounding midpoint), and such flips must be
// rare; the scales must match exactly.
#include "V4KernelSupport.h"

#include "tlv4/ReferenceAttention.h"
#include "tlv4/ReferenceOps.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace {

using tlrt::DType;
using tlrt::Tensor;
using tlv4_test::kernel;
namespace ref = tlv4::ref;

constexpr float kNormEps = 1e-6f;
// Relative to the row's largest magnitude; the observed deviation is below 2e-7 (the checks
// still pass with kEps = 2e-7), so this leaves a 5x margin.
constexpr double kEps = 1e-6;
constexpr int64_t kRope = 64;

struct Variant {
  const char *module;
  int64_t d, ratio, overlap;
};
const Variant kCsa256{"compressor_csa256", 256, 4, 2};
const Variant kHca256{"compressor_hca256", 256, 128, 1};
const Variant kV4{"compressor_v4", 512, 4, 2};
const Variant kV4Hca{"compressor_v4_hca", 512, 128, 1};
const Variant kIdx128{"compressor_idx128", 128, 4, 2};

// Inputs of one batch: the projected rows of every token, the weights, RoPE tables.
struct Problem {
  Variant v;
  int64_t b = 0, s = 0, n = 0, p = 0;
  int64_t width = 0; // C * D
  std::vector<float> kvp, score, ape, normw, cos, sin;
  std::vector<float> freqs;
  ref::CompressorWeights w;
};

Problem makeProblem(const Variant &v, int64_t batch, int64_t seq, int64_t entries,
                    uint32_t seed) {
  Problem p;
  p.v = v;
  p.b = batch;
  p.s = seq;
  p.n = entries;
  p.p = std::max<int64_t>(seq, 1);
  p.width = v.overlap * v.d;
  p.kvp = tlv4_test::uniform(batch * seq * p.width, seed, -2, 2);
  p.score = tlv4_test::uniform(batch * seq * p.width, seed + 1, -3, 3);
  p.ape = tlv4_test::uniform(v.ratio * p.width, seed + 2, -1, 1);
  p.normw = tlv4_test::uniform(v.d, seed + 3, 0.5f, 1.5f);
  // V4's compressed layers: compress_rope_theta with YaRN.
  p.freqs = tlv4_test::compressedRopeFreqs(kRope);
  tlv4_test::ropeTable(p.freqs, p.p, p.cos, p.sin);
  p.w.ratio = v.ratio;
  p.w.overlap = v.overlap;
  p.w.headDim = v.d;
  p.w.norm = p.normw;
  p.w.ape = p.ape;
  return p;
}

ref::CompressorRow rowOf(const Problem &p, int64_t b, int64_t t) {
  const float *kv = &p.kvp[(b * p.s + t) * p.width];
  const float *sc = &p.score[(b * p.s + t) * p.width];
  const float *ape = &p.ape[(t % p.v.ratio) * p.width];
  ref::CompressorRow r;
  r.kv.assign(kv, kv + p.width);
  r.score.resize(p.width);
  for (int64_t i = 0; i < p.width; ++i)
    r.score[i] = sc[i] + ape[i];
  return r;
}

// The reference's entry j of sequence b (value) and the same row before the final rounding
// (preq: after norm, RoPE and, for the indexer, the Hadamard transform).
struct RefEntry {
  ref::Vec value, preq;
};
RefEntry refEntry(const Problem &p, int64_t b, int64_t j, bool indexer) {
  const int64_t r = p.v.ratio;
  std::vector<ref::CompressorRow> cur, prev;
  for (int64_t k = 0; k < r; ++k)
    cur.push_back(rowOf(p, b, j * r + k));
  if (p.v.overlap == 2 && j > 0)
    for (int64_t k = 0; k < r; ++k)
      prev.push_back(rowOf(p, b, (j - 1) * r + k));
  ref::Vec pooled = ref::compressorPool(p.w, prev.empty() ? nullptr : &prev, cur);
  RefEntry e;
  e.value = ref::compressorFinish(p.w, pooled, j, p.freqs, kRope, kNormEps, indexer);
  e.preq = ref::rmsNorm(pooled, p.w.norm, kNormEps);
  ref::applyRopeInPlace(&e.preq[p.v.d - kRope], p.freqs, j * r);
  if (indexer)
    ref::hadamardInPlace(e.preq.data(), p.v.d);
  return e;
}

// Whether `got` is what the monotone rounding `round` gives for some y in [x - eps, x + eps];
// `exact` tells whether it is round(x) itself.
template <typename Round>
bool roundsNear(float got, double x, double eps, Round round, bool *exact) {
  *exact = got == round(float(x));
  return got >= round(float(x - eps)) && got <= round(float(x + eps));
}

double absMax(const ref::Vec &v) {
  double m = 0;
  for (float x : v)
    m = std::max(m, double(std::fabs(x)));
  return m;
}

// ------------------------------------------------------------- main form (a) ---
struct MainOut {
  int64_t b, n, d;
  std::vector<uint16_t> kvb, kvr;
  std::vector<uint8_t> kvq;
  std::vector<float> kvs;
  MainOut(int64_t b, int64_t n, int64_t d)
      : b(b), n(n), d(d), kvb(b * n * d, 0x7E7E), kvr(b * n * kRope, 0x7E7E),
        kvq(b * n * (d - kRope), 0x5A), kvs(b * n * (d - kRope) / 64, -7.0f) {}
  std::vector<tlrt::Arg> args() {
    const int64_t dn = d - kRope;
    return {Tensor(kvb.data(), DType::BFloat16, {b, n, d}),
            Tensor(kvq.data(), DType::Float8E4M3, {b, n, dn}),
            Tensor(kvs.data(), DType::Float32, {b, n, dn / 64}),
            Tensor(kvr.data(), DType::BFloat16, {b, n, kRope})};
  }
  bool operator==(const MainOut &o) const {
    return kvb == o.kvb && kvr == o.kvr && kvq == o.kvq &&
           std::memcmp(kvs.data(), o.kvs.data(), kvs.size() * 4) == 0;
  }
  // Entry (b, j) still holds the initial fill.
  bool untouched(int64_t bi, int64_t j) const {
    const int64_t dn = d - kRope;
    for (int64_t i = 0; i < d; ++i)
      if (kvb[(bi * n + j) * d + i] != 0x7E7E)
        return false;
    for (int64_t i = 0; i < kRope; ++i)
      if (kvr[(bi * n + j) * kRope + i] != 0x7E7E)
        return false;
    for (int64_t i = 0; i < dn; ++i)
      if (kvq[(bi * n + j) * dn + i] != 0x5A)
        return false;
    for (int64_t g = 0; g < dn / 64; ++g)
      if (kvs[(bi * n + j) * (dn / 64) + g] != -7.0f)
        return false;
    return true;
  }
};

// Counts of the checked values and of the one-step flips near a rounding midpoint.
struct Tally {
  int64_t values = 0, flips = 0;
};

void checkMainEntry(const Problem &p, const MainOut &o, int64_t b, int64_t j, Tally &t) {
  const int64_t d = p.v.d, dn = d - kRope, groups = dn / 64;
  const RefEntry e = refEntry(p, b, j, false);
  const double eps = kEps * absMax(e.preq);
  const size_t base = b * p.n + j;
  for (int64_t g = 0; g < groups; ++g) {
    float amax = 0;
    for (int64_t k = 0; k < 64; ++k)
      amax = std::max(amax, std::fabs(e.preq[g * 64 + k]));
    const float want = tlrt::ue8m0ToF32(tlrt::ue8m0QuantScale(amax, tlrt::kE4M3Max));
    const float scale = o.kvs[base * groups + g];
    ASSERT_EQ(scale, want) << "scale of group " << g << " of entry (" << b << ", " << j << ")";
    for (int64_t k = 0; k < 64; ++k) {
      const int64_t i = g * 64 + k;
      const float got = tlrt::e4m3ToF32(o.kvq[base * dn + i]) * scale;
      bool exact = false;
      EXPECT_TRUE(roundsNear(got, e.preq[i], eps,
                             [&](float y) { return ref::roundToE4M3(y / scale) * scale; },
                             &exact))
          << "entry (" << b << ", " << j << ") dim " << i << ": got " << got << ", reference "
          << e.value[i] << " (unrounded " << e.preq[i] << ")";
      // The bf16 row holds the same value, exactly.
      EXPECT_EQ(o.kvb[base * d + i], tlrt::f32ToBF16(got)) << "bf16 row, dim " << i;
      ++t.values;
      if (!exact)
        ++t.flips;
      else
        EXPECT_EQ(got, e.value[i]);
    }
  }
  for (int64_t i = 0; i < kRope; ++i) {
    const float got = tlrt::bf16ToF32(o.kvr[base * kRope + i]);
    bool exact = false;
    EXPECT_TRUE(roundsNear(got, e.preq[dn + i], eps,
                           [](float y) { return tlrt::bf16ToF32(tlrt::f32ToBF16(y)); }, &exact))
        << "entry (" << b << ", " << j << ") RoPE dim " << i << ": got " << got
        << ", reference " << e.value[dn + i];
    EXPECT_EQ(o.kvb[base * d + dn + i], o.kvr[base * kRope + i]) << "bf16 row, RoPE dim " << i;
    ++t.values;
    if (!exact)
      ++t.flips;
  }
}

// ---------------------------------------------------------- indexer form (b) ---
struct IdxOut {
  int64_t b, n, d;
  std::vector<uint8_t> xq;
  std::vector<float> xs;
  IdxOut(int64_t b, int64_t n, int64_t d) : b(b), n(n), d(d), xq(b * n * d, 0x5A), xs(b * n, -7.0f) {}
  std::vector<tlrt::Arg> args() {
    return {Tensor(xq.data(), DType::Float8E4M3, {b, n, d}),
            Tensor(xs.data(), DType::Float32, {b, n})};
  }
  bool operator==(const IdxOut &o) const {
    return xq == o.xq && std::memcmp(xs.data(), o.xs.data(), xs.size() * 4) == 0;
  }
  bool untouched(int64_t bi, int64_t j) const {
    for (int64_t i = 0; i < d; ++i)
      if (xq[(bi * n + j) * d + i] != 0x5A)
        return false;
    return xs[bi * n + j] == -7.0f;
  }
};

void checkIdxEntry(const Problem &p, const IdxOut &o, int64_t b, int64_t j, Tally &t) {
  const int64_t d = p.v.d, groups = d / 32;
  const RefEntry e = refEntry(p, b, j, true);
  const double eps = kEps * absMax(e.preq);
  const size_t base = b * p.n + j;
  std::vector<float> gscale(groups);
  float smax = 0;
  for (int64_t g = 0; g < groups; ++g) {
    float amax = 0;
    for (int64_t k = 0; k < 32; ++k)
      amax = std::max(amax, std::fabs(e.preq[g * 32 + k]));
    gscale[g] = tlrt::ue8m0ToF32(tlrt::ue8m0QuantScale(amax, tlrt::kE2M1Max));
    smax = std::max(smax, gscale[g]);
  }
  ASSERT_EQ(o.xs[base], smax / 64) << "row scale of entry (" << b << ", " << j << ")";
  for (int64_t i = 0; i < d; ++i) {
    const float s = gscale[i / 32];
    const float got = tlrt::e4m3ToF32(o.xq[base * d + i]) * o.xs[base];
    bool exact = false;
    EXPECT_TRUE(roundsNear(got, e.preq[i], eps,
                           [&](float y) { return ref::roundToE2M1(y / s) * s; }, &exact))
        << "entry (" << b << ", " << j << ") dim " << i << ": got " << got << ", reference "
        << e.value[i] << " (unrounded " << e.preq[i] << ")";
    ++t.values;
    if (!exact)
      ++t.flips;
    else
      EXPECT_EQ(got, e.value[i]);
  }
}

// ------------------------------------------------------------------- launches ---
std::vector<tlrt::Arg> prefillInputs(Problem &p, std::vector<int32_t> &lens) {
  const int64_t half = kRope / 2;
  return {Tensor(p.kvp.data(), DType::Float32, {p.b, p.s, p.width}),
          Tensor(p.score.data(), DType::Float32, {p.b, p.s, p.width}),
          Tensor(p.ape.data(), DType::Float32, {p.v.ratio, p.width}),
          Tensor(p.normw.data(), DType::Float32, {p.v.d}),
          Tensor(p.cos.data(), DType::Float32, {p.p, half}),
          Tensor(p.sin.data(), DType::Float32, {p.p, half}),
          Tensor(lens.data(), DType::Int32, {p.b})};
}

template <typename Out>
void prefill(Problem &p, std::vector<int32_t> lens, Out &out, bool indexer) {
  std::vector<tlrt::Arg> args = prefillInputs(p, lens);
  for (auto &a : out.args())
    args.push_back(a);
  kernel(p.v.module, indexer ? "compressor_prefill_indexer" : "compressor_prefill").launch(args);
}

// Prefill lens0, then decode each sequence one token at a time up to lens1 (a batch step
// passes Pos = -1 for the sequences already done).
template <typename Out>
void prefillThenDecode(Problem &p, const std::vector<int32_t> &lens0,
                       const std::vector<int32_t> &lens1, Out &out, bool indexer) {
  const int64_t ring = p.v.overlap * p.v.ratio;
  prefill(p, lens0, out, indexer);
  // The state starts as garbage: only the slots state_init writes may be read.
  std::vector<float> stateKv = tlv4_test::uniform(p.b * ring * p.width, 99, 1e3, 2e3);
  std::vector<float> stateScore = tlv4_test::uniform(p.b * ring * p.width, 98, 50, 60);
  std::vector<int32_t> l0 = lens0;
  std::vector<tlrt::Arg> initArgs = prefillInputs(p, l0);
  initArgs.erase(initArgs.begin() + 3, initArgs.begin() + 6); // no NormW, Cos, Sin
  initArgs.push_back(Tensor(stateKv.data(), DType::Float32, {p.b, ring, p.width}));
  initArgs.push_back(Tensor(stateScore.data(), DType::Float32, {p.b, ring, p.width}));
  kernel(p.v.module, "compressor_state_init").launch(initArgs);

  const int64_t half = kRope / 2;
  std::vector<float> kvRow(p.b * p.width), scRow(p.b * p.width);
  std::vector<int32_t> pos(p.b);
  int64_t steps = 0;
  for (int64_t b = 0; b < p.b; ++b)
    steps = std::max<int64_t>(steps, lens1[b] - lens0[b]);
  const auto &dec = kernel(p.v.module, indexer ? "compressor_decode_indexer" : "compressor_decode");
  for (int64_t step = 0; step < steps; ++step) {
    for (int64_t b = 0; b < p.b; ++b) {
      const int64_t t = lens0[b] + step;
      pos[b] = t < lens1[b] ? int32_t(t) : -1;
      const int64_t src = (b * p.s + std::min<int64_t>(t, p.s - 1)) * p.width;
      std::copy_n(&p.kvp[src], p.width, &kvRow[b * p.width]);
      std::copy_n(&p.score[src], p.width, &scRow[b * p.width]);
    }
    std::vector<tlrt::Arg> args = {
        Tensor(kvRow.data(), DType::Float32, {p.b, p.width}),
        Tensor(scRow.data(), DType::Float32, {p.b, p.width}),
        Tensor(p.ape.data(), DType::Float32, {p.v.ratio, p.width}),
        Tensor(p.normw.data(), DType::Float32, {p.v.d}),
        Tensor(p.cos.data(), DType::Float32, {p.p, half}),
        Tensor(p.sin.data(), DType::Float32, {p.p, half}),
        Tensor(pos.data(), DType::Int32, {p.b}),
        Tensor(stateKv.data(), DType::Float32, {p.b, ring, p.width}),
        Tensor(stateScore.data(), DType::Float32, {p.b, ring, p.width})};
    for (auto &a : out.args())
      args.push_back(a);
    dec.launch(args);
  }
}

// Every entry j < lens[b] / ratio matches the reference; the others are untouched.
template <typename Out, typename Check>
void checkAll(const Problem &p, const std::vector<int32_t> &lens, const Out &out, Check check) {
  Tally t;
  int64_t written = 0;
  for (int64_t b = 0; b < p.b; ++b)
    for (int64_t j = 0; j < p.n; ++j) {
      if (j < std::min<int64_t>(lens[b], p.s) / p.v.ratio) {
        check(p, out, b, j, t);
        ++written;
      } else {
        EXPECT_TRUE(out.untouched(b, j)) << "entry (" << b << ", " << j << ") was written";
      }
    }
  EXPECT_GT(written, 0);
  // A flip needs the reference value within ~1e-6 of a midpoint: rare on random data.
  EXPECT_LE(t.flips, 1 + t.values / 1000) << t.flips << " of " << t.values;
  if (t.flips)
    std::printf("  %lld of %lld values one rounding step off (near a midpoint)\n",
                (long long)t.flips, (long long)t.values);
}

// A prefill in the main (MainOut) or the indexer (IdxOut) form, checked entry by entry.
template <typename Out, typename Check>
void runPrefill(const Variant &v, int64_t seq, std::vector<int32_t> lens, int64_t entries,
                uint32_t seed, bool indexer, Check check) {
  Problem p = makeProblem(v, int64_t(lens.size()), seq, entries, seed);
  Out out(p.b, p.n, v.d);
  prefill(p, lens, out, indexer);
  checkAll(p, lens, out, check);
}
void runMainPrefill(const Variant &v, int64_t seq, std::vector<int32_t> lens, int64_t entries,
                    uint32_t seed) {
  runPrefill<MainOut>(v, seq, std::move(lens), entries, seed, false, checkMainEntry);
}
void runIdxPrefill(const Variant &v, int64_t seq, std::vector<int32_t> lens, int64_t entries,
                   uint32_t seed) {
  runPrefill<IdxOut>(v, seq, std::move(lens), entries, seed, true, checkIdxEntry);
}

// Decode after a prefill of lens0 up to lens1 writes what a prefill of lens1 writes (to the
// bit) and what the reference computes.
template <typename Out, typename Check>
void runDecode(const Variant &v, std::vector<int32_t> lens0, std::vector<int32_t> lens1,
               int64_t entries, uint32_t seed, bool indexer, Check check) {
  const int64_t seq = *std::max_element(lens1.begin(), lens1.end());
  Problem p = makeProblem(v, int64_t(lens0.size()), seq, entries, seed);
  Out viaDecode(p.b, p.n, v.d), viaPrefill(p.b, p.n, v.d);
  prefillThenDecode(p, lens0, lens1, viaDecode, indexer);
  prefill(p, lens1, viaPrefill, indexer);
  EXPECT_TRUE(viaDecode == viaPrefill) << "decode differs from prefill";
  checkAll(p, lens1, viaDecode, check);
}

// ---------------------------------------------------------------------- tests ---
// Ragged lengths: whole groups, partial groups, shorter than one group, and entries past
// the longest sequence's last (N above S / ratio); a length above S counts as S, a negative
// one as 0.
TEST(V4CompressorPrefill, Csa256) {
  runMainPrefill(kCsa256, 37, {37, 30, 9, 3, 50, -4}, 11, 11);
}

TEST(V4CompressorPrefill, Hca256) {
  runMainPrefill(kHca256, 530, {530, 300, 127}, 5, 21);
}

TEST(V4CompressorPrefill, V4Csa512) {
  runMainPrefill(kV4, 29, {29, 17}, 9, 31);
}

TEST(V4CompressorPrefill, V4Hca512) {
  runMainPrefill(kV4Hca, 270, {270, 140}, 3, 41);
}

// The indexer module's main form: one FP8 group of 64.
TEST(V4CompressorPrefill, Main128) {
  runMainPrefill(kIdx128, 21, {21, 12}, 6, 51);
}

TEST(V4CompressorPrefill, Indexer128) {
  runIdxPrefill(kIdx128, 45, {45, 33, 4, 2}, 12, 61);
}

// The indexer form at another width (still a power of two).
TEST(V4CompressorPrefill, Indexer256) {
  runIdxPrefill(kCsa256, 19, {19, 8}, 5, 71);
}

// Decode continuing prefills that end mid-group, on a group boundary, before the first
// group completes, and from nothing.
TEST(V4CompressorDecode, Csa256AfterPrefill) {
  runDecode<MainOut>(kCsa256, {13, 8, 2, 0}, {27, 21, 11, 9}, 8, 81, false, checkMainEntry);
}

TEST(V4CompressorDecode, Hca256AfterPrefill) {
  runDecode<MainOut>(kHca256, {200, 128, 0}, {300, 260, 130}, 3, 91, false, checkMainEntry);
}

TEST(V4CompressorDecode, V4Csa512AfterPrefill) {
  runDecode<MainOut>(kV4, {9, 4}, {17, 14}, 5, 101, false, checkMainEntry);
}

TEST(V4CompressorDecode, Indexer128AfterPrefill) {
  runDecode<IdxOut>(kIdx128, {10, 4, 0}, {23, 16, 8}, 7, 111, true, checkIdxEntry);
}

} // namespace
