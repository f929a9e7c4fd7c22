// The device model (tlv4/DeviceModel.h) on the tiny checkpoint against the reference forward
// in the device's precision policy (ReferenceModel, ActivationPolicy::DeviceBf16): every
// position of a prefill long enough for every layer kind to matter (past the sliding window,
// more CSA entries than the indexer keeps, one HCA entry), and 16 decode steps after it, logits
// compared by cosine and argmax (see Agreement for the FP8 noise); decode equals prefill;
// batch invariance (a sequence's logits are the same bits alone or batched with others).
// Runs the kernels compiled for the CPU target (the tiny kernel set); TLV4_DEVICE=cuda runs the
// same checks on the GPU (scripts/gpu-v4.sh).
#include "V4KernelSupport.h"

#include "tlv4/DeviceModel.h"
#include "tlv4/Generate.h"
#include "tlv4/KernelSet.h"
#include "tlv4/ReferenceModel.h"
#include "tlv4/TinyCheckpoint.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace {

namespace ref = tlv4::ref;

bool onGpu() {
  const char *d = std::getenv("TLV4_DEVICE");
  return d && std::string(d) == "cuda";
}

const std::string &tinyCheckpoint() {
  static std::string dir = [] {
    // One directory per process: ctest runs the tests of this file in parallel processes.
    std::string d = std::filesystem::temp_directory_path() /
                    ("tlv4_device_model_tiny_" + std::to_string(::getpid()));
    tlv4::writeTinyCheckpoint(tlv4::Config::tiny(), d, 7, 1);
    return d;
  }();
  return dir;
}

std::unique_ptr<tlv4::DeviceModel> model(int64_t slots, bool graphs = true, bool staged = false,
                                         bool profile = false) {
  tlv4::DeviceOptions o;
  o.gpu = onGpu();
  o.graphs = graphs;
  o.stagedExperts = staged;
  o.profile = profile;
  o.deterministic = true;
  o.maxBatch = slots;
  o.maxLength = 512;
  if (const char *ks = std::getenv("TLV4_KERNEL_SET"))
    o.kernelSet = ks;
  return tlv4::DeviceModel::load(tinyCheckpoint(), o);
}

double cosine(const std::vector<float> &a, const std::vector<float> &b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

int64_t argmax(const std::vector<float> &v) {
  return int64_t(std::max_element(v.begin(), v.end()) - v.begin());
}

// Top-1 minus top-2 of the reference's logits, relative to their spread.
double margin(const std::vector<float> &v) {
  std::vector<float> s(v);
  std::partial_sort(s.begin(), s.begin() + 2, s.end(), std::greater<float>());
  double mean = 0, sq = 0;
  for (float x : v) {
    mean += x;
    sq += double(x) * x;
  }
  mean /= double(v.size());
  const double sd = std::sqrt(std::max(0.0, sq / double(v.size()) - mean * mean));
  return (s[0] - s[1]) / sd;
}

// Agreement of many logit rows. Both sides quantise every linear's input to FP8 (3 mantissa
// bits): where the two sums of a value differ in the last f32 bit and the value sits on an e4m3
// rounding boundary, one code moves a whole step and later layers carry it on (a routing choice
// can flip too), and attention carries a flipped KV row to every later position. A model of one
// layer agrees to f32 rounding at all but the odd position (EachLayerKind); on the 4-layer tiny
// model the flips compound over 140 positions, so there the check is on the distribution.
struct Agreement {
  std::vector<double> cos;
  int clearMargins = 0, argmaxMisses = 0;
  double minCos, minMedian, minWithin; // per row; the median; the share of rows >= 0.999
  double maxMissShare = 0.1;           // argmax differences among the clear margins
  Agreement(double minCos, double minMedian, double minWithin)
      : minCos(minCos), minMedian(minMedian), minWithin(minWithin) {}
  void add(const std::vector<float> &got, const std::vector<float> &want, const std::string &what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (float x : got)
      ASSERT_TRUE(std::isfinite(x)) << what << ": non-finite logit";
    cos.push_back(cosine(got, want));
    EXPECT_GE(cos.back(), minCos) << what;
    if (margin(want) > 0.25) {
      ++clearMargins;
      argmaxMisses += argmax(got) != argmax(want);
    }
  }
  // Mean and median of 1 - cosine over the rows.
  double meanGap() const {
    double g = 0;
    for (double x : cos)
      g += 1 - x;
    return g / double(cos.size());
  }
  double medianGap() const {
    std::vector<double> c(cos);
    std::sort(c.begin(), c.end());
    return 1 - c[c.size() / 2];
  }
  void check(const std::string &what) const {
    std::vector<double> c(cos);
    std::sort(c.begin(), c.end());
    const double median = c[c.size() / 2];
    const double within = double(std::count_if(c.begin(), c.end(), [](double x) { return x >= 0.999; })) /
                          double(c.size());
    std::printf("[ note ] %s: %zu rows, cosine median %.7f, worst %.6f, mean 1 - cosine %.3g, "
                "%.1f%% >= 0.999; argmax differs at %d of %d clear margins\n",
                what.c_str(), c.size(), median, c.front(), meanGap(), 100 * within, argmaxMisses,
                clearMargins);
    EXPECT_GE(median, minMedian) << what;
    EXPECT_GE(within, minWithin) << what;
    EXPECT_LE(argmaxMisses, std::max(1, int(clearMargins * maxMissShare))) << what;
  }
};

std::vector<int32_t> promptOf(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ids(n);
  for (int32_t &id : ids)
    id = int32_t(rng() % 1024);
  return ids;
}

// The largest |a[i] - b[i]|.
double maxAbsDiff(const std::vector<float> &a, const std::vector<float> &b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

// Top-1 minus top-2.
double topGap(const std::vector<float> &v) {
  std::vector<float> s(v);
  std::partial_sort(s.begin(), s.begin() + 2, s.end(), std::greater<float>());
  return double(s[0]) - double(s[1]);
}

// The device against the reference, measured against the model's noise floor: the same
// reference summing its dot products in double instead of f32 (Accumulation::F64). On the tiny
// checkpoint the two references alone differ by median cosine 0.9989, worst 0.84 over this
// prompt (2026-12-06, CPU): every linear quantises its input to FP8, a last-bit difference
// moves a code a whole step, and four layers carry it on. No f32 implementation, the reference
// against itself included, holds "cosine >= 0.999 at every position" here, so the checks are:
// (1) the device's mean 1 - cosine is within a factor of the floor's (kFloorFactor);
// (2) greedy tokens agree wherever the reference's top-2 gap exceeds the noise measured at that
//     position (the floor's largest logit difference, times a factor);
// (3) loose absolute bounds on the distribution (Agreement).
TEST(V4DeviceModel, PrefillAndDecodeMatchTheReference) {
  auto ref = ref::ReferenceModel::fromCheckpoint(tinyCheckpoint(), ref::ActivationPolicy::DeviceBf16);
  auto floor = ref::ReferenceModel::fromCheckpoint(tinyCheckpoint(), ref::ActivationPolicy::DeviceBf16,
                                                   ref::Accumulation::F64);
  auto dev = model(1);
  const std::vector<int32_t> prompt = promptOf(140, 1);
  ref::ModelState state = ref->newState(), floorState = floor->newState();
  std::vector<ref::Vec> want = ref->prefill(state, prompt);
  std::vector<ref::Vec> second = floor->prefill(floorState, prompt);
  std::vector<std::vector<float>> got = dev->prefill({prompt});
  ASSERT_EQ(got[0].size(), prompt.size() * 1024);
  // CPU target (2026-12-06): median gap 1.35x the floor's in prefill, 1.4x in decode; mean
  // 2.0x and 1.1x. H100: Hopper's FP8 MMA accumulates each 128-wide block with about 14 bits
  // (linear_test.cpp) in the linears and the experts, and more codes flip: median 4.1x and
  // 11.7x, mean 4.5x and 9.3x (decode has 16 rows only).
  const double kFloorFactor = onGpu() ? 16.0 : 2.0, kMeanFactor = onGpu() ? 16.0 : 3.0;
  // The noise a greedy token must clear: the floor's largest logit difference at that
  // position, times this (H100: every checked position agreed at 8, 2026-12-06).
  const double kGreedyFactor = onGpu() ? 8.0 : 2.0;
  Agreement pre = onGpu() ? Agreement(0.6, 0.99, 0.0) : Agreement(0.75, 0.995, 0.2);
  Agreement dec = onGpu() ? Agreement(0.6, 0.98, 0.0) : Agreement(0.75, 0.995, 0.0);
  if (onGpu()) {
    pre.maxMissShare = dec.maxMissShare = 0.5;
  }
  Agreement floorPre(0, 0, 0), floorDec(0, 0, 0);
  int greedyChecked = 0, greedyMisses = 0;
  auto greedy = [&](const std::vector<float> &g, const std::vector<float> &w,
                    const std::vector<float> &f, const std::string &what) {
    const double noise = kGreedyFactor * maxAbsDiff(f, w);
    if (topGap(w) > noise) {
      ++greedyChecked;
      if (argmax(g) != argmax(w)) {
        ++greedyMisses;
        std::printf("[ note ] %s: greedy token differs; top-2 gap %g, noise %g\n", what.c_str(),
                    topGap(w), noise);
      }
    }
  };
  for (size_t t = 0; t < prompt.size(); ++t) {
    const std::vector<float> g(got[0].begin() + t * 1024, got[0].begin() + (t + 1) * 1024);
    const std::string what = "prefill position " + std::to_string(t);
    pre.add(g, want[t], what);
    floorPre.add(second[t], want[t], what);
    greedy(g, want[t], second[t], what);
  }
  // 16 decode steps on the reference's greedy tokens.
  int32_t next = int32_t(argmax(want.back()));
  for (int step = 0; step < 16; ++step) {
    ref::Vec w = ref->decode(state, next);
    ref::Vec f = floor->decode(floorState, next);
    std::vector<std::vector<float>> g = dev->decode({next});
    const std::string what = "decode step " + std::to_string(step);
    dec.add(g[0], w, what);
    floorDec.add(f, w, what);
    greedy(g[0], w, f, what);
    next = int32_t(argmax(w));
  }
  EXPECT_EQ(dev->length(0), int64_t(prompt.size()) + 16);
  floorPre.check("prefill, noise floor (reference F64 against F32)");
  pre.check("prefill, device against the reference");
  floorDec.check("decode, noise floor");
  dec.check("decode, device against the reference");
  std::printf("[ note ] 1 - cosine over the floor's: prefill median %.2f, mean %.2f; decode "
              "median %.2f, mean %.2f (bounds %.1f, %.1f); greedy tokens checked at %d of %zu "
              "positions, %d differ\n",
              pre.medianGap() / floorPre.medianGap(), pre.meanGap() / floorPre.meanGap(),
              dec.medianGap() / floorDec.medianGap(), dec.meanGap() / floorDec.meanGap(),
              kFloorFactor, kMeanFactor, greedyChecked, prompt.size() + 16, greedyMisses);
  EXPECT_LE(pre.medianGap(), kFloorFactor * floorPre.medianGap());
  EXPECT_LE(dec.medianGap(), kFloorFactor * floorDec.medianGap());
  EXPECT_LE(pre.meanGap(), kMeanFactor * floorPre.meanGap());
  EXPECT_LE(dec.meanGap(), kMeanFactor * floorDec.meanGap());
  // CPU: none may differ. H100 (2026-12-06): 2 of the 25 positions clearing 8x the floor's
  // noise differed; the GPU's own error is several times the floor's (above).
  EXPECT_LE(greedyMisses, onGpu() ? std::max(1, greedyChecked / 10) : 0)
      << greedyMisses << " of " << greedyChecked << " greedy tokens differ";
  // The noise bound must leave positions to check: 56 of 156 on the CPU.
  EXPECT_GT(greedyChecked, int(prompt.size()) / (onGpu() ? 10 : 4))
      << "the noise bound leaves too few positions";
}

// One layer of each kind (window, CSA, HCA; a hash layer and a score-routed one) on a tiny
// checkpoint of that one layer: the device path equals the reference in the device's
// precision policy to f32 rounding at (almost) every position of a 140-token prefill.
TEST(V4DeviceModel, EachLayerKindMatchesTheReference) {
  for (const char *ratios : {"[0, 0]", "[4, 0]", "[128, 0]"})
    for (int hashLayers : {0, 1}) {
      std::string js = tlv4::Config::tinyJson();
      auto sub = [&](const std::string &from, const std::string &to) {
        const size_t at = js.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        js.replace(at, from.size(), to);
      };
      sub("\"compress_ratios\": [0, 4, 128, 0, 0]", std::string("\"compress_ratios\": ") + ratios);
      sub("\"num_hidden_layers\": 4", "\"num_hidden_layers\": 1");
      sub("\"num_hash_layers\": 1", "\"num_hash_layers\": " + std::to_string(hashLayers));
      const tlv4::Config c = tlv4::Config::fromJsonText(js, "one-layer tiny");
      const std::string dir = std::filesystem::temp_directory_path() /
                              (std::string("tlv4_device_one_layer_") + std::to_string(c.compressRatios[0]) +
                               "_" + std::to_string(hashLayers) + "_" + std::to_string(::getpid()));
      tlv4::writeTinyCheckpoint(c, dir, 11, 1, js);
      auto ref = ref::ReferenceModel::fromCheckpoint(dir, ref::ActivationPolicy::DeviceBf16);
      tlv4::DeviceOptions o;
      o.gpu = onGpu();
      o.maxLength = 512;
      if (const char *ks = std::getenv("TLV4_KERNEL_SET"))
        o.kernelSet = ks;
      auto dev = tlv4::DeviceModel::load(dir, o);
      const std::vector<int32_t> prompt = promptOf(140, 8);
      ref::ModelState state = ref->newState();
      std::vector<ref::Vec> want = ref->prefill(state, prompt);
      std::vector<float> got = dev->prefill({prompt})[0];
      // CPU target: the same arithmetic but for f32 summation order (median 1 to 7 digits).
      // H100: median 0.99975 on every layer kind: Hopper's FP8 MMA accumulates a 128-wide block
      // with about 14 bits (linear_test.cpp), so the next FP8 quantisation flips more codes.
      Agreement agree = onGpu() ? Agreement(0.8, 0.9995, 0.9) : Agreement(0.99, 0.9999999, 0.95);
      for (size_t t = 0; t < prompt.size(); ++t)
        agree.add(std::vector<float>(got.begin() + t * 1024, got.begin() + (t + 1) * 1024), want[t],
                  "position " + std::to_string(t));
      agree.check(std::string("one layer, compress ratio ") + ratios + ", hash layers " +
                  std::to_string(hashLayers));
    }
}

TEST(V4DeviceModel, DecodeEqualsPrefill) {
  // The logits of position t are the same whether t was prefilled or decoded.
  auto dev = model(1);
  const std::vector<int32_t> ids = promptOf(40, 2);
  std::vector<float> full = dev->prefill({ids})[0];
  dev->prefill({std::vector<int32_t>(ids.begin(), ids.begin() + 21)});
  Agreement agree(0.9, 0.999, 0.5);
  for (size_t t = 21; t < ids.size(); ++t) {
    std::vector<float> g = dev->decode({ids[t]})[0];
    agree.add(g, std::vector<float>(full.begin() + t * 1024, full.begin() + (t + 1) * 1024),
              "decoded position " + std::to_string(t));
  }
  agree.check("decode against prefill");
}

TEST(V4DeviceModel, BatchInvariant) {
  // Sequence A's logits, prefilled and decoded alone, are the same bits as beside B and C.
  const std::vector<int32_t> a = promptOf(37, 3), b = promptOf(20, 4), c = promptOf(9, 5);
  auto alone = model(1);
  auto batched = model(3);
  std::vector<float> pa = alone->prefill({a})[0];
  std::vector<std::vector<float>> pb = batched->prefill({a, b, c});
  EXPECT_EQ(pa, pb[0]);
  // Last-position logits alone: the same bits as the last row of all positions.
  std::vector<std::vector<float>> last = batched->prefill({a, b, c}, /*allPositions=*/false);
  EXPECT_EQ(last[0], std::vector<float>(pa.end() - 1024, pa.end()));
  EXPECT_EQ(last[2], std::vector<float>(pb[2].end() - 1024, pb[2].end()));
  for (int step = 0; step < 6; ++step) {
    const int32_t t = int32_t(100 + step);
    std::vector<float> da = alone->decode({t})[0];
    // C idles on odd steps.
    std::vector<std::vector<float>> db = batched->decode({t, int32_t(200 + step), step % 2 ? -1 : 7});
    EXPECT_EQ(da, db[0]) << "decode step " << step;
    EXPECT_EQ(db[2].empty(), step % 2 == 1);
  }
}

TEST(V4DeviceModel, DecodeGraphsEqualLaunchedSteps) {
  // GPU decode steps replayed from CUDA graphs give the same bits as steps launched kernel by
  // kernel, across a change of batch width (a second graph) and a prefill between steps (which
  // may move scratch buffers, so the graphs are captured again).
  if (!onGpu())
    GTEST_SKIP() << "CUDA graphs: GPU only (TLV4_DEVICE=cuda)";
  auto graphed = model(2, true);
  auto launched = model(2, false);
  const std::vector<int32_t> a = promptOf(30, 8), b = promptOf(17, 9);
  EXPECT_EQ(graphed->prefill({a, b}), launched->prefill({a, b}));
  for (int step = 0; step < 12; ++step) {
    if (step == 6) { // a longer prompt into slot 1: larger scratch buffers
      const std::vector<int32_t> c = promptOf(90, 10);
      EXPECT_EQ(graphed->prefill({{}, c}), launched->prefill({{}, c}));
    }
    // Widths 2, 2, 2, 1, 1, 1, ...: slot 1 idles or drops out in turns.
    std::vector<int32_t> ids = {int32_t(300 + step)};
    if (step % 6 < 3)
      ids.push_back(step % 2 ? -1 : int32_t(400 + step));
    EXPECT_EQ(graphed->decode(ids), launched->decode(ids)) << "decode step " << step;
  }
}

TEST(V4DeviceModel, StagedExpertsEqualTiledDecode) {
  // DeviceOptions::stagedExperts: prefill's experts from an e4m3 copy made once per call give
  // what the in-tile decode gives: the same bits on the CPU target (the same codes, scales and
  // sums); on the GPU both are FP8 MMAs over the same codes, checked by cosine.
  auto tiled = model(2);
  auto staged = model(2, true, true, /*profile=*/true);
  const std::vector<int32_t> a = promptOf(45, 11), b = promptOf(20, 12);
  std::vector<std::vector<float>> x = tiled->prefill({a, b}), y = staged->prefill({a, b});
  const std::string ran = staged->takeProfile();
  EXPECT_NE(ran.find("expert.expert_fp8"), std::string::npos) << ran;
  EXPECT_EQ(ran.find("expert.expert_fp4"), std::string::npos) << ran;
  if (!onGpu()) {
    EXPECT_EQ(x, y);
    return;
  }
  Agreement agree(0.999, 0.99999, 0.99);
  for (int s = 0; s < 2; ++s)
    for (size_t t = 0; t < x[s].size() / 1024; ++t)
      agree.add(std::vector<float>(y[s].begin() + t * 1024, y[s].begin() + (t + 1) * 1024),
                std::vector<float>(x[s].begin() + t * 1024, x[s].begin() + (t + 1) * 1024),
                "sequence " + std::to_string(s) + " position " + std::to_string(t));
  agree.check("staged against tiled experts");
}

TEST(V4DeviceModel, DeviceSamplingMatchesTheReference) {
  auto dev = model(2);
  std::vector<std::vector<float>> l = dev->prefill({promptOf(12, 6), promptOf(5, 7)});
  std::vector<int32_t> ids = dev->sampleLast({0.0f, 0.8f}, {0u, 1234u});
  EXPECT_EQ(ids[0], argmax(std::vector<float>(l[0].end() - 1024, l[0].end())));
  EXPECT_EQ(ids[1], tlv4::gumbelToken(std::vector<float>(l[1].end() - 1024, l[1].end()), 0.8f, 1234u));
}

TEST(V4DeviceModel, RefusesBadInput) {
  auto dev = model(1);
  EXPECT_THROW(dev->prefill({{1, 2, 5000}}), std::runtime_error);
  EXPECT_THROW(dev->decode({1, 2}), std::runtime_error);
  EXPECT_THROW(dev->prefill({std::vector<int32_t>(600, 1)}), std::runtime_error);
  // Caches that do not fit are refused with the size, not a crash.
  {
    tlv4::DeviceOptions big;
    big.gpu = onGpu();
    big.maxBatch = int64_t(1) << 40;
    big.maxLength = 4096;
    if (const char *ks = std::getenv("TLV4_KERNEL_SET"))
      big.kernelSet = ks;
    try {
      tlv4::DeviceModel::load(tinyCheckpoint(), big);
      ADD_FAILURE() << "caches for 2^40 slots were allocated";
    } catch (const std::exception &e) {
      const std::string what = e.what();
      EXPECT_TRUE(what.find("out of") != std::string::npos ||
                  what.find("OUT_OF_MEMORY") != std::string::npos)
          << what;
    }
  }
  // A kernel set of another shape is refused, naming the module that differs.
  tlv4::DeviceOptions o;
  o.gpu = onGpu();
  o.kernelSet = tlv4::builtKernelSetDir("flash"); // this tree's; absent in a GPU bundle
  if (std::filesystem::exists(o.kernelSet + "/plan.txt")) {
    try {
      tlv4::DeviceModel::load(tinyCheckpoint(), o);
      ADD_FAILURE() << "the flash kernel set loaded for the tiny checkpoint";
    } catch (const std::runtime_error &e) {
      EXPECT_NE(std::string(e.what()).find("another model shape"), std::string::npos) << e.what();
    }
  }
}

} // namespace
