// kernels/fp8_lighting_indexer.tl (TileLang's DeepSeek-V3.2 FP8 lightning indexer) on the
// CPU target against a plain double-precision reference. Inputs follow the original's
// harness: normal queries rounded to e4m3, normal keys quantised per row to e4m3 with an
// f32 scale amax / 448, normal f32 weights; the reference reads the same e4m3 values.
//
// Three checks per problem:
//  - mqa_attn_return_logits alone: the cells of the key tiles each query block visits
//    (from the least CuSeqLenKS to the largest CuSeqLenKE of its queries, clamped to
//    seq_len_kv, in whole block_N tiles) hold the logit, every other cell keeps its poison;
//  - clean_logits alone: cells outside [ks, ke) become -inf, the others keep their bits;
//  - the two as the module's kernel sequence: the original's reference (logit inside the
//    query's range, -inf outside) on every cell.
// Nothing past Logits is written (a poisoned tail follows it).
// Separately, a launch whose IndexQ rows are not seq_len * heads is refused.
//
// Tolerance. e4m3 products are exact in f32, so the only error is f32 rounding: the D-term
// dot product (wherever the GEMM adds), the two products with the weight and the key scale,
// and the sum over H heads. |got - ref| <= (D + H + 3) * 2^-24 * sum_h |w_h| * scale_k *
// sum_d |q_hd * k_d| bounds it (ReLU does not increase an error).
#include "PortSupport.h"

#include "tlrt/LowPrecision.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace {

using tlrt::DType;
using tlrt::Tensor;

constexpr uint32_t kPoison = 0x7FBADBAD; // an f32 NaN no computation produces
constexpr int64_t kTail = 64;            // poisoned floats after Logits

float poison() { return tlc_test::floatOfBits(kPoison); }
using tlc_test::bitsOf;

/// The compile-time parameters a CPU variant was built with (fp8_lighting_indexer.cmake).
struct Variant {
  const char *module;
  int64_t heads, dim, blockN, blockQ;
};

enum class Ranges { Random, CausalDocs, AllEmpty };

struct Problem {
  int64_t s, skv;
  Ranges ranges;
};

struct Inputs {
  std::vector<uint8_t> q, k;          // e4m3 codes: [s * heads, dim], [skv, dim]
  std::vector<float> kScale, weights; // [skv], [s, heads]
  std::vector<int32_t> ks, ke;        // [s]
};

const char *rangesName(Ranges r) {
  switch (r) {
  case Ranges::Random: return "random";
  case Ranges::CausalDocs: return "causal-docs";
  case Ranges::AllEmpty: return "all-empty";
  }
  return "?";
}

/// Per-query key ranges. Random: a mix of empty (ks == ke, ks > ke, ks >= skv), single-key,
/// full, past-the-end (ke > skv) and arbitrary ranges. CausalDocs: the queries are the last
/// s positions of skv keys cut into documents; a query sees its document up to itself.
/// AllEmpty: ke < ks for every query, so a full block's key loop has a negative trip count;
/// the last, partial block reads ks = 0 past s and visits [0, largest ke).
void makeRanges(const Problem &p, std::mt19937 &rng, Inputs &in) {
  in.ks.assign(p.s, 0);
  in.ke.assign(p.s, 0);
  auto pick = [&](int64_t lo, int64_t hi) { // uniform in [lo, hi]
    return static_cast<int32_t>(std::uniform_int_distribution<int64_t>(lo, hi)(rng));
  };
  const int32_t skv = static_cast<int32_t>(p.skv);
  for (int64_t i = 0; i < p.s; ++i) {
    int32_t &ks = in.ks[i], &ke = in.ke[i];
    switch (p.ranges) {
    case Ranges::AllEmpty: // ke < ks: no block visits a key, but the last partial one
      ks = pick(skv / 2 + 1, skv + 3);
      ke = pick(0, skv / 2);
      break;
    case Ranges::CausalDocs:
      break; // below
    case Ranges::Random:
      switch (pick(0, 9)) {
      case 0: ks = ke = pick(0, skv); break;                   // empty
      case 1: ks = pick(1, skv); ke = pick(0, ks - 1); break;  // inverted: empty
      case 2: ks = pick(skv, skv + 5); ke = ks + pick(0, 9); break; // past the keys
      case 3: ks = pick(0, skv - 1); ke = ks + 1; break;       // one key
      case 4: ks = 0; ke = skv; break;                         // all keys
      case 5: ks = pick(0, skv - 1); ke = pick(skv, skv + 40); break; // ke beyond skv
      default: ks = pick(0, skv); ke = pick(ks, skv); break;
      }
    }
  }
  if (p.ranges != Ranges::CausalDocs)
    return;
  std::vector<int32_t> docStart(p.skv);
  for (int32_t j = 0, start = 0; j < skv; ++j) {
    if (j > 0 && pick(0, 40) == 0)
      start = j;
    docStart[j] = start;
  }
  for (int64_t i = 0; i < p.s; ++i) {
    int32_t pos = static_cast<int32_t>(std::max<int64_t>(p.skv - p.s + i, 0));
    pos = std::min(pos, skv - 1);
    in.ks[i] = docStart[pos];
    in.ke[i] = pos + 1;
  }
}

Inputs makeInputs(const Variant &v, const Problem &p) {
  std::mt19937 rng(static_cast<uint32_t>(p.s * 7919 + p.skv * 31 + v.heads * 3 + v.dim +
                                         static_cast<int>(p.ranges)));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Inputs in;
  in.q.resize(p.s * v.heads * v.dim);
  for (auto &c : in.q)
    c = tlrt::f32ToE4M3(normal(rng));
  in.k.resize(p.skv * v.dim);
  in.kScale.resize(p.skv);
  std::vector<float> row(v.dim);
  for (int64_t j = 0; j < p.skv; ++j) {
    float amax = 0;
    for (auto &x : row) {
      x = normal(rng);
      amax = std::max(amax, std::fabs(x));
    }
    float scale = std::max(amax, 1e-4f) / tlrt::kE4M3Max;
    in.kScale[j] = scale;
    for (int64_t d = 0; d < v.dim; ++d)
      in.k[j * v.dim + d] = tlrt::f32ToE4M3(row[d] / scale);
  }
  in.weights.resize(p.s * v.heads);
  for (auto &w : in.weights)
    w = normal(rng);
  makeRanges(p, rng, in);
  return in;
}

/// The logit of (query i, key j) in double, and the bound on its f32 rounding error.
struct Reference {
  const Variant &v;
  const Problem &p;
  std::vector<float> q, k; // decoded e4m3

  Reference(const Variant &v, const Problem &p, const Inputs &in) : v(v), p(p) {
    for (uint8_t c : in.q)
      q.push_back(tlrt::e4m3ToF32(c));
    for (uint8_t c : in.k)
      k.push_back(tlrt::e4m3ToF32(c));
  }

  void logit(const Inputs &in, int64_t i, int64_t j, double &value, double &bound) const {
    double sum = 0, mag = 0;
    for (int64_t h = 0; h < v.heads; ++h) {
      const float *qh = &q[(i * v.heads + h) * v.dim];
      const float *kj = &k[j * v.dim];
      double dot = 0, absDot = 0;
      for (int64_t d = 0; d < v.dim; ++d) {
        dot += double(qh[d]) * kj[d];
        absDot += std::fabs(double(qh[d]) * kj[d]);
      }
      double w = in.weights[i * v.heads + h], sc = in.kScale[j];
      sum += std::max(dot, 0.0) * w * sc;
      mag += absDot * std::fabs(w) * sc;
    }
    value = sum;
    bound = double(v.dim + v.heads + 3) * std::ldexp(1.0, -24) * mag + 1e-30;
  }
};

/// The cells mqa_attn_return_logits writes: per block of blockQ queries, the key tiles from
/// the least clamped ks to the largest clamped ke. A query past s reads ks = ke = 0 (the
/// kernel's guarded loads), which is what the last, partial block sees.
std::vector<char> visited(const Variant &v, const Problem &p, const Inputs &in) {
  std::vector<char> out(p.s * p.skv, 0);
  for (int64_t q0 = 0; q0 < p.s; q0 += v.blockQ) {
    int64_t sMin = INT32_MAX, eMax = INT32_MIN;
    for (int64_t i = q0; i < q0 + v.blockQ; ++i) {
      int64_t ks = i < p.s ? in.ks[i] : 0, ke = i < p.s ? in.ke[i] : 0;
      sMin = std::min(sMin, std::min(ks, p.skv));
      eMax = std::max(eMax, std::min(ke, p.skv));
    }
    if (eMax <= sMin)
      continue;
    int64_t tiles = (eMax - sMin + v.blockN - 1) / v.blockN;
    for (int64_t i = q0; i < std::min(q0 + v.blockQ, p.s); ++i)
      for (int64_t j = sMin; j < std::min(sMin + tiles * v.blockN, p.skv); ++j)
        out[i * p.skv + j] = 1;
  }
  return out;
}

/// Launch-argument tensors over the inputs and a Logits buffer (with its poisoned tail).
struct Args {
  Tensor q, k, kScale, logits, weights, ks, ke;
  Args(const Variant &v, const Problem &p, Inputs &in, std::vector<float> &logitsBuf)
      : q(in.q.data(), DType::Float8E4M3, {p.s * v.heads, v.dim}),
        k(in.k.data(), DType::Float8E4M3, {p.skv, v.dim}),
        kScale(in.kScale.data(), DType::Float32, {p.skv}),
        logits(logitsBuf.data(), DType::Float32, {p.s, p.skv}),
        weights(in.weights.data(), DType::Float32, {p.s, v.heads}),
        ks(in.ks.data(), DType::Int32, {p.s}), ke(in.ke.data(), DType::Int32, {p.s}) {}
};

std::string describe(const Variant &v, const Problem &p) {
  return std::string(v.module) + " s=" + std::to_string(p.s) + " skv=" + std::to_string(p.skv) +
         " " + rangesName(p.ranges);
}

void checkTail(const std::vector<float> &buf, const Problem &p, const std::string &where) {
  for (int64_t t = 0; t < kTail; ++t)
    if (bitsOf(buf[p.s * p.skv + t]) != kPoison) {
      ADD_FAILURE() << where << ": wrote past Logits (tail element " << t << ")";
      return;
    }
}

/// mqa_attn_return_logits alone.
void checkLogitsKernel(const Variant &v, const Problem &p, Inputs &in, const Reference &ref) {
  const std::string where = describe(v, p) + " [logits]";
  std::vector<float> buf(p.s * p.skv + kTail, poison());
  Args a(v, p, in, buf);
  tlc_port::kernel(v.module, "mqa_attn_return_logits")
      .launch({a.q, a.k, a.kScale, a.logits, a.weights, a.ks, a.ke});
  std::vector<char> want = visited(v, p, in);
  int bad = 0;
  double worst = 0;
  int64_t written = 0;
  for (int64_t i = 0; i < p.s; ++i)
    for (int64_t j = 0; j < p.skv; ++j) {
      float got = buf[i * p.skv + j];
      std::string at = "[" + std::to_string(i) + ", " + std::to_string(j) + "]";
      if (!want[i * p.skv + j]) {
        if (bitsOf(got) != kPoison && ++bad <= 8)
          ADD_FAILURE() << where << ": Logits" << at << " = " << got << " outside the visited tiles";
        continue;
      }
      ++written;
      double value, bound;
      ref.logit(in, i, j, value, bound);
      double r = std::fabs(got - value) / bound;
      worst = std::max(worst, std::isnan(r) ? INFINITY : r);
      if (!(r <= 1) && ++bad <= 8)
        ADD_FAILURE() << where << ": Logits" << at << " = " << got << ", expected " << value
                      << " (bound " << bound << ")";
    }
  EXPECT_EQ(bad, 0) << where;
  checkTail(buf, p, where);
  std::printf("[ errors   ] %-58s %7lld cells, worst err/bound %.3f\n", where.c_str(),
              static_cast<long long>(written), worst);
}

/// clean_logits alone, on random finite logits.
void checkCleanKernel(const Variant &v, const Problem &p, Inputs &in) {
  const std::string where = describe(v, p) + " [clean]";
  std::vector<float> before = tlc_port::uniform(p.s * p.skv, static_cast<uint32_t>(p.s + p.skv));
  std::vector<float> buf = before;
  buf.resize(p.s * p.skv + kTail, poison());
  Args a(v, p, in, buf);
  tlc_port::kernel(v.module, "clean_logits").launch({a.logits, a.ks, a.ke});
  int bad = 0;
  for (int64_t i = 0; i < p.s; ++i)
    for (int64_t j = 0; j < p.skv; ++j) {
      float got = buf[i * p.skv + j];
      bool inRange = j >= in.ks[i] && j < in.ke[i];
      bool ok = inRange ? bitsOf(got) == bitsOf(before[i * p.skv + j])
                        : std::isinf(got) && got < 0;
      if (!ok && ++bad <= 8)
        ADD_FAILURE() << where << ": Logits[" << i << ", " << j << "] = " << got << " (range ["
                      << in.ks[i] << ", " << in.ke[i] << "))";
    }
  EXPECT_EQ(bad, 0) << where;
  checkTail(buf, p, where);
}

/// Both kernels as the module's sequence, against the original's masked reference.
void checkSequence(const Variant &v, const Problem &p, Inputs &in, const Reference &ref) {
  const std::string where = describe(v, p) + " [sequence]";
  static std::map<std::string, std::unique_ptr<tlrt::Module>> modules;
  auto &m = modules[v.module];
  if (!m)
    m = std::make_unique<tlrt::Module>(tlrt::Module::load(
        std::string(TLC_PORT_KERNEL_DIR) + "/" + v.module + ".manifest.json"));
  ASSERT_EQ(m->manifest().sequence,
            (std::vector<std::string>{"mqa_attn_return_logits", "clean_logits"}));
  std::vector<float> buf(p.s * p.skv + kTail, poison());
  Args a(v, p, in, buf);
  m->launchSequence({{"IndexQ", a.q}, {"IndexK", a.k}, {"IndexKScale", a.kScale},
                     {"Logits", a.logits}, {"Weights", a.weights}, {"CuSeqLenKS", a.ks},
                     {"CuSeqLenKE", a.ke}});
  int bad = 0;
  for (int64_t i = 0; i < p.s; ++i)
    for (int64_t j = 0; j < p.skv; ++j) {
      float got = buf[i * p.skv + j];
      bool ok;
      double value = -INFINITY, bound = 0;
      if (j >= in.ks[i] && j < in.ke[i]) {
        ref.logit(in, i, j, value, bound);
        ok = std::fabs(got - value) <= bound;
      } else {
        ok = std::isinf(got) && got < 0;
      }
      if (!ok && ++bad <= 8)
        ADD_FAILURE() << where << ": Logits[" << i << ", " << j << "] = " << got << ", expected "
                      << value;
    }
  EXPECT_EQ(bad, 0) << where;
  checkTail(buf, p, where);
}

void run(const Variant &v, const std::vector<Problem> &problems) {
  for (const Problem &p : problems) {
    Inputs in = makeInputs(v, p);
    Reference ref(v, p, in);
    checkLogitsKernel(v, p, in, ref);
    checkCleanKernel(v, p, in);
    checkSequence(v, p, in, ref);
  }
}

// heads = 32, index_dim = 64, block_Q = 4; block_N = 128 (sm_100a code) or 256 (sm_90a).
const std::vector<Problem> kDefaultProblems = {
    {1, 1, Ranges::Random},       {6, 300, Ranges::CausalDocs}, {37, 300, Ranges::Random},
    {41, 517, Ranges::CausalDocs}, {9, 700, Ranges::Random},    {13, 129, Ranges::AllEmpty},
};

TEST(PortFp8LightingIndexer, Default) {
  run({"fp8_lighting_indexer", 32, 64, 128, 4}, kDefaultProblems);
}

TEST(PortFp8LightingIndexer, Sm90Tiles) {
  run({"fp8_lighting_indexer_sm90", 32, 64, 256, 4}, kDefaultProblems);
}

TEST(PortFp8LightingIndexer, SmallTiles) {
  run({"fp8_lighting_indexer_small", 8, 32, 16, 3},
      {{1, 5, Ranges::Random},
       {20, 77, Ranges::Random},
       {67, 203, Ranges::Random},
       {50, 260, Ranges::CausalDocs},
       {10, 33, Ranges::AllEmpty}});
}

TEST(PortFp8LightingIndexer, Heads16) {
  run({"fp8_lighting_indexer_h16", 16, 64, 32, 8},
      {{45, 150, Ranges::Random},
       {100, 333, Ranges::CausalDocs},
       {17, 64, Ranges::Random},
       {16, 100, Ranges::AllEmpty}});
}

// IndexQ's rows are the derived size seq_len * heads (heads compile-time): the launch binds
// seq_len from the other tensors and refuses query rows that are not seq_len * heads.
TEST(PortFp8LightingIndexer, IndexQRowsChecked) {
  const Variant v{"fp8_lighting_indexer_small", 8, 32, 16, 3};
  const Problem p{20, 77, Ranges::Random};
  Inputs in = makeInputs(v, p);
  in.q.resize((p.s + 1) * v.heads * v.dim);
  std::vector<float> buf(p.s * p.skv + kTail, poison());
  Args a(v, p, in, buf);
  for (int64_t rows : {p.s * v.heads - 1, p.s * v.heads + 1, p.s}) {
    Tensor q(in.q.data(), DType::Float8E4M3, {rows, v.dim});
    EXPECT_THROW(tlc_port::kernel(v.module, "mqa_attn_return_logits")
                     .launch({q, a.k, a.kScale, a.logits, a.weights, a.ks, a.ke}),
                 tlrt::Error)
        << "IndexQ rows " << rows;
  }
  for (int64_t t = 0; t < p.s * p.skv + kTail; ++t)
    ASSERT_EQ(bitsOf(buf[t]), kPoison) << "a refused launch wrote Logits element " << t;
}

} // namespace
