// tlc_v4attn_bench: times the V4 sparse attention kernels
// (models/deepseek_v4/kernels/sparse_attn.tl, compiled with their V4-Flash defaults: 64 heads
// of 512, 64 RoPE dims) through libtlrt, with the method of docs/perf.md (BenchSupport.h).
//
//   tlc_v4attn_bench --manifest k/sparse_attn.manifest.json [--json out.jsonl]
//       [--prefill 4096,16384,65536] [--decode-batch 1,32,128] [--decode-ctx 8192,32768,131072]
//
// Prefill (sparse_attn_prefill): one sequence of S tokens, the CSA shape: each query's index
// list is its window (the last 128 positions) and 512 compressed entries drawn at random from
// those visible to it (entry j visible once 4 (j + 1) <= pos + 1), -1 where fewer exist; the
// KV buffer holds the S raw rows then the S / 4 compressed ones (bf16). FLOPs count only the
// attended (valid) slots: 4 * H * D per slot (Q K^T and P V).
// Decode (sparse_attn_decode + sparse_attn_combine): batch B of one query each over the FP8
// cache (e4m3 codes, a scale per 64 dims, bf16 RoPE dims); CSA lists 640 slots (window +
// top-512), HCA 128 + ctx / 128 slots (every compressed entry). The split count NS fills
// one wave of blocks (B * NS <= SMs where B allows) and leaves no split empty. Bytes = the cache rows read (604 bytes each) + Q + partials + O.
// Spot check before timing: one query's output against a double-precision host reference.
// With --indexer: the lightning indexer's prefill logits (S queries x S / 4 keys, FP8, causal;
// TFLOP/s over the visible pairs). With --topk: the top-512 selector over R rows of N scores
// (GB/s of the scores read once).
//
// Exit status: 0 ran; 1 no GPU or a launch failed; 2 bad usage; 3 a spot check failed.
#include "BenchSupport.h"

#include "tlrt/LowPrecision.h"
#include "tlrt/Module.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace tlcbench;
using tlrt::DType;

constexpr int64_t H = 64, D = 512, DR = 64, DN = D - DR, W = 128, TOPK = 512, RATIO = 4;

std::vector<int64_t> parseList(const std::string &s) {
  std::vector<int64_t> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!trim(item).empty())
      v.push_back(std::stoll(item));
  return v;
}

struct Dev {
  tlrt::DeviceBuffer buf;
  template <typename T> static Dev of(const std::vector<T> &v) {
    Dev d{tlrt::DeviceBuffer(std::max<size_t>(v.size() * sizeof(T), 16))};
    d.buf.copyFromHost(v.data(), v.size() * sizeof(T));
    return d;
  }
  tlrt::Tensor t(DType dt, std::vector<int64_t> shape) const {
    return tlrt::Tensor(buf.data(), dt, std::move(shape), tlrt::Place::Device);
  }
};

std::vector<uint16_t> randomBf16(size_t n, std::mt19937_64 &rng) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<uint16_t> v(n);
  for (auto &x : v)
    x = tlrt::f32ToBF16(u(rng));
  return v;
}

// Reference of one query, head h: softmax over the valid slots plus the sink, O in double.
std::vector<double> refHead(const std::vector<float> &q, const std::vector<float> &kvRows,
                            int64_t rows, float sink) {
  std::vector<double> s(rows), o(D, 0.0);
  double m = sink, scale = 1.0 / std::sqrt(double(D));
  for (int64_t r = 0; r < rows; ++r) {
    double acc = 0;
    for (int64_t c = 0; c < D; ++c)
      acc += double(q[c]) * kvRows[r * D + c];
    s[r] = acc * scale;
    m = std::max(m, s[r]);
  }
  double sum = std::exp(sink - m);
  for (int64_t r = 0; r < rows; ++r)
    sum += (s[r] = std::exp(s[r] - m));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < D; ++c)
      o[c] += s[r] / sum * kvRows[r * D + c];
  return o;
}

double relErr(const std::vector<float> &got, const std::vector<double> &want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

struct Bench {
  tlrt::Module module;
  std::optional<tlrt::Module> spinModule;
  const tlrt::Kernel *spin = nullptr;
  TimingOptions timing;
  std::ofstream json;
  std::string gpu;
  bool checksFailed = false;

  void emit(const std::string &line) {
    std::printf("%s\n", line.c_str());
    if (json)
      json << line << "\n";
  }

  Timing time(const char *kernel, const std::vector<tlrt::Arg> &args, tlrt::Stream &stream) {
    return timeLaunches(module.kernel(kernel), {args}, stream, spin, timing);
  }

  void prefill(int64_t S, std::mt19937_64 &rng) {
    const int64_t N = S + S / RATIO, K = W + TOPK;
    std::vector<uint16_t> q = randomBf16(S * H * D, rng), kv = randomBf16(N * D, rng);
    std::vector<int32_t> idx(S * K, -1);
    int64_t valid = 0;
    for (int64_t pos = 0; pos < S; ++pos) {
      int32_t *row = &idx[pos * K];
      for (int64_t w = 0; w < W; ++w)
        if (pos - w >= 0)
          row[w] = int32_t(pos - w), ++valid;
      const int64_t visible = (pos + 1) / RATIO;
      if (visible <= TOPK) {
        for (int64_t j = 0; j < visible; ++j)
          row[W + j] = int32_t(S + j);
        valid += visible;
      } else {
        for (int64_t j = 0; j < TOPK; ++j)
          row[W + j] = int32_t(S + int64_t(rng() % uint64_t(visible)));
        valid += TOPK;
      }
    }
    std::vector<float> sink(H);
    for (auto &x : sink)
      x = float(int64_t(rng() % 200) - 100) / 100.0f;
    Dev dq = Dev::of(q), dkv = Dev::of(kv), didx = Dev::of(idx), dsink = Dev::of(sink);
    tlrt::DeviceBuffer o(S * H * D * 2), lse(S * H * 4);
    tlrt::Stream stream;
    std::vector<tlrt::Arg> args = {
        dq.t(DType::BFloat16, {1, S, H, D}), dkv.t(DType::BFloat16, {1, N, D}),
        didx.t(DType::Int32, {1, S, K}), dsink.t(DType::Float32, {H}),
        tlrt::Tensor(o.data(), DType::BFloat16, {1, S, H, D}, tlrt::Place::Device),
        tlrt::Tensor(lse.data(), DType::Float32, {1, S, H}, tlrt::Place::Device)};
    module.kernel("sparse_attn_prefill").launch(args, &stream);
    stream.synchronize();
    // Spot check: the last query, head 5.
    const int64_t pos = S - 1, h = 5;
    std::vector<uint16_t> ob(D);
    o.copyToHost(ob.data(), D * 2, ((pos * H + h) * D) * 2);
    std::vector<float> qf(D), rows, got(D);
    for (int64_t c = 0; c < D; ++c)
      qf[c] = tlrt::bf16ToF32(q[(pos * H + h) * D + c]), got[c] = tlrt::bf16ToF32(ob[c]);
    int64_t nrows = 0;
    for (int64_t i = 0; i < K; ++i)
      if (int32_t r = idx[pos * K + i]; r >= 0) {
        for (int64_t c = 0; c < D; ++c)
          rows.push_back(tlrt::bf16ToF32(kv[r * D + c]));
        ++nrows;
      }
    const double err = relErr(got, refHead(qf, rows, nrows, sink[h]));
    const bool ok = err < 2e-2;
    checksFailed |= !ok;
    Timing t = time("sparse_attn_prefill", args, stream);
    const double flops = 4.0 * H * D * double(valid);
    emit(fmt::format("{{\"bench\":\"v4_sparse_prefill\",\"gpu\":\"{}\",\"S\":{},\"slots\":{},"
                     "\"ms\":{},\"tflops\":{},\"check_rel_err\":{},\"check\":\"{}\"}}",
                     jsonEscape(gpu), S, K, jsonNum(t.medianMs),
                     jsonNum(flops / (t.medianMs * 1e-3) / 1e12), jsonNum(err),
                     ok ? "pass" : "FAIL"));
  }

  void decode(int64_t B, int64_t ctx, bool hca, int smCount, std::mt19937_64 &rng) {
    const int64_t entries = hca ? ctx / 128 : ctx / RATIO;
    const int64_t N = W + entries, K = hca ? W + entries : W + TOPK;
    const int64_t tiles = (K + 63) / 64;
    // Splits: enough blocks for one wave (each split's f32 partial of H x D costs about as much
    // as two tiles of work, so fewer, longer splits win once B fills the SMs), and no empty
    // split (an empty split still writes its partial).
    const int64_t want = std::max<int64_t>(1, std::min<int64_t>(tiles, smCount / B));
    const int64_t NS = (tiles + (tiles + want - 1) / want - 1) / ((tiles + want - 1) / want);
    std::vector<uint16_t> q = randomBf16(B * H * D, rng);
    std::vector<uint8_t> codes(B * N * DN);
    for (auto &c : codes) {
      c = uint8_t(rng());
      if ((c & 0x7f) == 0x7f)
        c = 0x30; // no NaN codes
    }
    std::vector<float> scales(B * N * (DN / 64));
    for (auto &s : scales)
      s = std::ldexp(1.0f, int(rng() % 3) - 7);
    std::vector<uint16_t> rope = randomBf16(B * N * DR, rng);
    std::vector<int32_t> idx(B * K);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < K; ++i)
        idx[b * K + i] = hca || i < W ? int32_t(i) : int32_t(W + int64_t(rng() % uint64_t(entries)));
    std::vector<float> sink(H, 0.25f);
    Dev dq = Dev::of(q), dc = Dev::of(codes), ds = Dev::of(scales), dr = Dev::of(rope),
        di = Dev::of(idx), dsink = Dev::of(sink);
    tlrt::DeviceBuffer op(B * NS * H * D * 4), lp(B * NS * H * 4), o(B * H * D * 2),
        lse(B * H * 4);
    tlrt::Tensor top(op.data(), DType::Float32, {B, NS, H, D}, tlrt::Place::Device);
    tlrt::Tensor tlp(lp.data(), DType::Float32, {B, NS, H}, tlrt::Place::Device);
    std::vector<tlrt::Arg> dargs = {dq.t(DType::BFloat16, {B, H, D}),
                                    dc.t(DType::Float8E4M3, {B, N, DN}),
                                    ds.t(DType::Float32, {B, N, DN / 64}),
                                    dr.t(DType::BFloat16, {B, N, DR}),
                                    di.t(DType::Int32, {B, K}), top, tlp};
    std::vector<tlrt::Arg> cargs = {
        top, tlp, dsink.t(DType::Float32, {H}),
        tlrt::Tensor(o.data(), DType::BFloat16, {B, H, D}, tlrt::Place::Device),
        tlrt::Tensor(lse.data(), DType::Float32, {B, H}, tlrt::Place::Device)};
    tlrt::Stream stream;
    module.kernel("sparse_attn_decode").launch(dargs, &stream);
    module.kernel("sparse_attn_combine").launch(cargs, &stream);
    stream.synchronize();
    // Spot check: sequence B - 1, head 3.
    const int64_t b = B - 1, h = 3;
    std::vector<uint16_t> ob(D);
    o.copyToHost(ob.data(), D * 2, ((b * H + h) * D) * 2);
    std::vector<float> qf(D), rows(K * D), got(D);
    for (int64_t c = 0; c < D; ++c)
      qf[c] = tlrt::bf16ToF32(q[(b * H + h) * D + c]), got[c] = tlrt::bf16ToF32(ob[c]);
    for (int64_t i = 0; i < K; ++i) {
      const int64_t r = b * N + idx[b * K + i];
      for (int64_t c = 0; c < DN; ++c)
        rows[i * D + c] = tlrt::e4m3ToF32(codes[r * DN + c]) * scales[r * (DN / 64) + c / 64];
      for (int64_t c = 0; c < DR; ++c)
        rows[i * D + DN + c] = tlrt::bf16ToF32(rope[r * DR + c]);
    }
    const double err = relErr(got, refHead(qf, rows, K, sink[h]));
    const bool ok = err < 2e-2;
    checksFailed |= !ok;
    Timing td = time("sparse_attn_decode", dargs, stream);
    Timing tc = time("sparse_attn_combine", cargs, stream);
    const double ms = td.medianMs + tc.medianMs;
    const double flops = 4.0 * H * D * double(B * K);
    const double bytes = double(B * K) * (DN + 4 * (DN / 64) + 2 * DR) + B * H * D * 2.0 +
                         2.0 * B * NS * H * D * 4 + B * H * D * 2.0;
    emit(fmt::format("{{\"bench\":\"v4_sparse_decode\",\"gpu\":\"{}\",\"kind\":\"{}\",\"B\":{},"
                     "\"ctx\":{},\"slots\":{},\"splits\":{},\"ms\":{},\"decode_ms\":{},"
                     "\"combine_ms\":{},\"tflops\":{},\"gbps\":{},\"check_rel_err\":{},"
                     "\"check\":\"{}\"}}",
                     jsonEscape(gpu), hca ? "HCA" : "CSA", B, ctx, K, NS, jsonNum(ms),
                     jsonNum(td.medianMs), jsonNum(tc.medianMs),
                     jsonNum(flops / (ms * 1e-3) / 1e12), jsonNum(bytes / (ms * 1e-3) / 1e9),
                     jsonNum(err), ok ? "pass" : "FAIL"));
  }

  // Lightning indexer prefill: S queries x N = S / 4 compressed keys, 64 heads x 128, FP8
  // codes; FLOPs count the visible (causal) query-key pairs only: 2 * IH * DI per pair.
  void indexer(tlrt::Module &m, int64_t S, std::mt19937_64 &rng) {
    constexpr int64_t IH = 64, DI = 128;
    const int64_t N = S / RATIO;
    std::vector<uint8_t> qq(S * IH * DI), kk(N * DI);
    for (auto *v : {&qq, &kk})
      for (auto &c : *v) {
        c = uint8_t(rng());
        if ((c & 0x7f) == 0x7f)
          c = 0x38;
      }
    std::vector<float> qs(S * IH, 0.01f), w(S * IH, 0.02f), ks(N, 0.01f);
    std::vector<int32_t> pos(S);
    for (int64_t t = 0; t < S; ++t)
      pos[t] = int32_t(t);
    Dev dq = Dev::of(qq), dqs = Dev::of(qs), dw = Dev::of(w), dk = Dev::of(kk), dks = Dev::of(ks),
        dp = Dev::of(pos);
    tlrt::DeviceBuffer logits(S * N * 4);
    std::vector<tlrt::Arg> args = {
        dq.t(DType::Float8E4M3, {1, S, IH, DI}), dqs.t(DType::Float32, {1, S, IH}),
        dw.t(DType::Float32, {1, S, IH}), dk.t(DType::Float8E4M3, {1, N, DI}),
        dks.t(DType::Float32, {1, N}), dp.t(DType::Int32, {1, S}),
        tlrt::Tensor(logits.data(), DType::Float32, {1, S, N}, tlrt::Place::Device)};
    tlrt::Stream stream;
    Timing t = timeLaunches(m.kernel("indexer_logits"), {args}, stream, spin, timing);
    double pairs = 0;
    for (int64_t q = 0; q < S; ++q)
      pairs += double((q + 1) / RATIO);
    const double flops = 2.0 * IH * DI * pairs;
    emit(fmt::format("{{\"bench\":\"v4_indexer_prefill\",\"gpu\":\"{}\",\"S\":{},\"N\":{},"
                     "\"ms\":{},\"tflops\":{},\"logits_gbps\":{}}}",
                     jsonEscape(gpu), S, N, jsonNum(t.medianMs),
                     jsonNum(flops / (t.medianMs * 1e-3) / 1e12),
                     jsonNum(double(S) * N * 4 / (t.medianMs * 1e-3) / 1e9)));
  }

  // Top-512 of R rows of N f32 scores (Gaussian): GB/s of the scores read once.
  void topk(tlrt::Module &m, int64_t R, int64_t N, std::mt19937_64 &rng) {
    std::normal_distribution<float> g;
    std::vector<float> scores(R * N);
    for (auto &x : scores)
      x = g(rng);
    std::vector<int32_t> lens(R, int32_t(N));
    Dev ds = Dev::of(scores), dl = Dev::of(lens);
    tlrt::DeviceBuffer out(R * TOPK * 4);
    std::vector<tlrt::Arg> args = {
        ds.t(DType::Float32, {R, N}), dl.t(DType::Int32, {R}),
        tlrt::Tensor(out.data(), DType::Int32, {R, TOPK}, tlrt::Place::Device)};
    tlrt::Stream stream;
    Timing t = timeLaunches(m.kernel("topk_select"), {args}, stream, spin, timing);
    emit(fmt::format("{{\"bench\":\"v4_topk\",\"gpu\":\"{}\",\"rows\":{},\"N\":{},\"k\":{},"
                     "\"ms\":{},\"gbps\":{}}}",
                     jsonEscape(gpu), R, N, TOPK, jsonNum(t.medianMs),
                     jsonNum(double(R) * N * 4 / (t.medianMs * 1e-3) / 1e9)));
  }
};

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"tlc_v4attn_bench: V4 sparse attention (prefill, decode) through libtlrt"};
  std::string manifest, json, prefill = "4096,16384,65536", batches = "1,32,128",
                              ctxs = "8192,32768,131072";
  double warmup = 100, rep = 500;
  std::string indexerManifest, topkManifest, indexerSizes = "4096,16384",
                                             topkShapes = "1x262144,32x262144,128x65536,4096x16384";
  app.add_option("--manifest", manifest, "sparse_attn manifest (PTX build)")->required();
  app.add_option("--indexer", indexerManifest, "indexer manifest (PTX build)");
  app.add_option("--indexer-sizes", indexerSizes, "indexer prefill query counts");
  app.add_option("--topk", topkManifest, "topk manifest (PTX build)");
  app.add_option("--topk-shapes", topkShapes, "top-k shapes RxN");
  app.add_option("--json", json, "append JSON lines here");
  app.add_option("--prefill", prefill, "prefill sequence lengths");
  app.add_option("--decode-batch", batches, "decode batch sizes");
  app.add_option("--decode-ctx", ctxs, "decode context lengths");
  app.add_option("--warmup-ms", warmup);
  app.add_option("--rep-ms", rep);
  CLI11_PARSE(app, argc, argv);
  std::string why;
  if (!tlrt::cudaAvailable(&why) || tlrt::cudaDeviceCount() < 1) {
    std::fprintf(stderr, "tlc_v4attn_bench: no GPU: %s\n", why.c_str());
    return 1;
  }
  try {
    Bench bench{tlrt::Module::load(manifest)};
    bench.timing.warmupMs = warmup;
    bench.timing.repMs = rep;
    bench.spinModule = loadSpinModule(0, why);
    if (bench.spinModule)
      bench.spin = &bench.spinModule->kernel("spin");
    bench.gpu = tlrt::Context::get(0).deviceName();
    if (!json.empty())
      bench.json.open(json, std::ios::app);
    const int sms = tlrt::Context::get(0).multiprocessorCount();
    std::mt19937_64 rng(42);
    for (int64_t s : parseList(prefill))
      bench.prefill(s, rng);
    if (!indexerManifest.empty()) {
      tlrt::Module im = tlrt::Module::load(indexerManifest);
      for (int64_t s : parseList(indexerSizes))
        bench.indexer(im, s, rng);
    }
    if (!topkManifest.empty()) {
      tlrt::Module tm = tlrt::Module::load(topkManifest);
      std::stringstream ss(topkShapes);
      std::string item;
      while (std::getline(ss, item, ',')) {
        auto x = item.find('x');
        if (x == std::string::npos)
          throw UsageError("top-k shape '" + item + "' is not RxN");
        bench.topk(tm, std::stoll(item.substr(0, x)), std::stoll(item.substr(x + 1)), rng);
      }
    }
    for (int64_t ctx : parseList(ctxs))
      for (int64_t b : parseList(batches)) {
        bench.decode(b, ctx, false, sms, rng);
        bench.decode(b, ctx, true, sms, rng);
      }
    return bench.checksFailed ? 3 : 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "tlc_v4attn_bench: %s\n", e.what());
    return 1;
  }
}
