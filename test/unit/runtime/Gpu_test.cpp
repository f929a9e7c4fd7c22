// GPU tests of the runtime: hand-written sm_90 PTX kernels loaded through
// manifests and launched with device buffers (a vector add; a TMA tile copy
// with a cluster and a raised dynamic shared-memory limit). They skip when
// there is no CUDA driver or no compute-capability 9.0 device; the
// no-driver test checks the error messages on machines without one.
#include "tlrt/Module.h"

#include "RuntimeTestUtil.h"

#include <cmath>

using namespace tlrt;
using tlrt_test::errorOf;
using tlrt_test::TempDir;

namespace {

const char *kVaddPtx = R"ptx(
.version 8.0
.target sm_90
.address_size 64

// vadd(A[N] f32, B[N] f32, C[N] f32, alpha f32): C = A + alpha * B.
// Parameters per docs/abi.md: A, N, B, N, C, N, alpha.
.visible .entry vadd(
    .param .u64 vadd_A, .param .s64 vadd_AN,
    .param .u64 vadd_B, .param .s64 vadd_BN,
    .param .u64 vadd_C, .param .s64 vadd_CN,
    .param .f32 vadd_alpha)
{
    .reg .pred %p<2>;
    .reg .b32 %r<4>;
    .reg .b64 %rd<12>;
    .reg .f32 %f<5>;

    ld.param.u64 %rd1, [vadd_A];
    ld.param.s64 %rd2, [vadd_AN];
    ld.param.u64 %rd3, [vadd_B];
    ld.param.u64 %rd4, [vadd_C];
    ld.param.f32 %f1, [vadd_alpha];
    mov.u32 %r1, %ctaid.x;
    mov.u32 %r2, %ntid.x;
    mov.u32 %r3, %tid.x;
    mul.wide.u32 %rd5, %r1, %r2;
    cvt.u64.u32 %rd6, %r3;
    add.s64 %rd5, %rd5, %rd6;
    setp.ge.s64 %p1, %rd5, %rd2;
    @%p1 bra $L_done;
    shl.b64 %rd7, %rd5, 2;
    cvta.to.global.u64 %rd8, %rd1;
    add.s64 %rd8, %rd8, %rd7;
    ld.global.f32 %f2, [%rd8];
    cvta.to.global.u64 %rd9, %rd3;
    add.s64 %rd9, %rd9, %rd7;
    ld.global.f32 %f3, [%rd9];
    fma.rn.f32 %f4, %f1, %f3, %f2;
    cvta.to.global.u64 %rd10, %rd4;
    add.s64 %rd10, %rd10, %rd7;
    st.global.f32 [%rd10], %f4;
$L_done:
    ret;
}
)ptx";

const char *kVaddManifest = R"json({
  "format": "tlc-manifest", "version": 1, "target": "sm_90a", "module": "vadd.ptx",
  "kernels": [{"name": "vadd", "entry": "vadd",
    "params": [
      {"name": "A", "kind": "tensor", "dtype": "float32", "shape": ["N"]},
      {"name": "B", "kind": "tensor", "dtype": "float32", "shape": ["N"]},
      {"name": "C", "kind": "tensor", "dtype": "float32", "shape": ["N"]},
      {"name": "alpha", "kind": "scalar", "dtype": "float32"}],
    "threads": [256, 1, 1],
    "grid": [{"op": "ceildiv", "args": [{"dim": [0, 0]}, 256]}, 1, 1]}]})json";

// tma_copy(X[M, K] f32, Y[ceildiv(M, 8) * 8, ceildiv(K, 32) * 32] f32, map of X):
// block (bx, by) loads the 8 x 32 tile at (8 by, 32 bx) of X with TMA into
// dynamic shared memory and writes it to the same place in Y; elements
// outside X arrive as zeros.
const char *kTmaPtx = R"ptx(
.version 8.0
.target sm_90
.address_size 64

.extern .shared .align 128 .b8 smem[];

.visible .entry tma_copy(
    .param .u64 X, .param .s64 XM, .param .s64 XK,
    .param .u64 Y, .param .s64 YM, .param .s64 YK,
    .param .align 64 .b8 tmap[128])
{
    .reg .pred %p<3>;
    .reg .b32 %r<16>;
    .reg .b64 %rd<14>;
    .reg .f32 %f<2>;
    .shared .align 8 .b64 bar;

    mov.u32 %r1, %tid.x;
    mov.u32 %r2, %ctaid.x;
    mov.u32 %r3, %ctaid.y;
    shl.b32 %r6, %r2, 5;
    shl.b32 %r7, %r3, 3;
    mov.u32 %r4, bar;
    mov.u32 %r5, smem;
    setp.ne.u32 %p1, %r1, 0;
    @%p1 bra $L_sync;
    mbarrier.init.shared::cta.b64 [%r4], 1;
    fence.mbarrier_init.release.cluster;
$L_sync:
    bar.sync 0;
    @%p1 bra $L_wait;
    mbarrier.arrive.expect_tx.shared::cta.b64 %rd2, [%r4], 1024;
    mov.u64 %rd3, tmap;
    cvta.param.u64 %rd3, %rd3;
    cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%r5], [%rd3, {%r6, %r7}], [%r4];
$L_wait:
    mbarrier.try_wait.parity.shared::cta.b64 %p2, [%r4], 0;
    @!%p2 bra $L_wait;
    shr.u32 %r9, %r1, 5;
    and.b32 %r10, %r1, 31;
    shl.b32 %r11, %r1, 2;
    add.u32 %r12, %r5, %r11;
    ld.shared.f32 %f1, [%r12];
    ld.param.u64 %rd4, [Y];
    ld.param.s64 %rd5, [YK];
    add.u32 %r13, %r7, %r9;
    cvt.u64.u32 %rd6, %r13;
    mul.lo.s64 %rd7, %rd6, %rd5;
    add.u32 %r14, %r6, %r10;
    cvt.u64.u32 %rd8, %r14;
    add.s64 %rd9, %rd7, %rd8;
    shl.b64 %rd10, %rd9, 2;
    cvta.to.global.u64 %rd11, %rd4;
    add.s64 %rd12, %rd11, %rd10;
    st.global.f32 [%rd12], %f1;
    ret;
}
)ptx";

const char *kTmaManifest = R"json({
  "format": "tlc-manifest", "version": 1, "target": "sm_90a", "module": "tma.ptx",
  "kernels": [{"name": "tma_copy", "entry": "tma_copy",
    "params": [
      {"name": "X", "kind": "tensor", "dtype": "float32", "shape": ["M", "K"]},
      {"name": "Y", "kind": "tensor", "dtype": "float32",
       "shape": ["T.ceildiv(M, 8) * 8", "T.ceildiv(K, 32) * 32"]}],
    "threads": [256, 1, 1],
    "grid": [{"op": "ceildiv", "args": [{"dim": [0, 1]}, 32]},
             {"op": "ceildiv", "args": [{"dim": [0, 0]}, 8]}, 1],
    "cluster": [2, 1, 1],
    "shared_bytes": 65536,
    "tma": [{"param": 0, "dtype": "float32", "box": [8, 32], "swizzle": "none"}]}]})json";

// Why the GPU tests cannot run here, or "" when they can.
std::string gpuSkipReason() {
  std::string why;
  if (!cudaAvailable(&why))
    return why;
  if (cudaDeviceCount() == 0)
    return "no CUDA device";
  auto cc = Context::get(0).computeCapability();
  if (cc != std::make_pair(9, 0))
    return "the test kernels need compute capability 9.0";
  return "";
}

// The vadd module, written into `dir` and loaded.
Module loadVadd(TempDir &dir) {
  dir.write("vadd.ptx", kVaddPtx);
  return Module::load(dir.write("vadd.manifest.json", kVaddManifest));
}

TEST(GpuNoDriver, ReportsCleanly) {
  std::string why;
  if (cudaAvailable(&why))
    GTEST_SKIP() << "a CUDA driver is present";
  EXPECT_FALSE(why.empty());
  EXPECT_EQ(cudaDeviceCount(), 0);
  TempDir dir;
  dir.write("vadd.ptx", kVaddPtx);
  std::string path = dir.write("vadd.manifest.json", kVaddManifest);
  EXPECT_EQ(errorOf([&] { Module::load(path); }),
            path + ": cannot load a sm_90a module: " + why);
  EXPECT_EQ(errorOf([] { DeviceBuffer b(16); }), why);
  EXPECT_EQ(errorOf([] { Stream s; }), why);
}

TEST(Gpu, VectorAdd) {
  std::string skip = gpuSkipReason();
  if (!skip.empty())
    GTEST_SKIP() << skip;
  TempDir dir;
  Module m = loadVadd(dir);
  const Kernel &k = m.kernel("vadd");
  EXPECT_EQ(k.place(), Place::Device);
  const int64_t n = 100003;
  std::vector<float> a(n), b(n);
  for (int64_t i = 0; i < n; ++i) {
    a[i] = static_cast<float>(i % 1000);
    b[i] = static_cast<float>(i % 7) - 3.0f;
  }
  DeviceBuffer da(n * 4), db(n * 4), dc(n * 4);
  da.upload(a);
  db.upload(b);
  dc.memset(0xFF);
  Stream s;
  Event start, stop;
  start.record(&s);
  k.launch({da.view(DType::Float32, {n}), db.view(DType::Float32, {n}),
            dc.view(DType::Float32, {n}), 2.0f},
           &s);
  stop.record(&s);
  s.synchronize();
  EXPECT_GE(Event::elapsedMs(start, stop), 0.0f);
  std::vector<float> c = dc.download<float>(n);
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(c[i], a[i] + 2.0f * b[i]) << i;

  // Host tensors and wrong shapes are refused before launching.
  EXPECT_EQ(errorOf([&] {
              k.launch({Tensor(a.data(), DType::Float32, {n}), db.view(DType::Float32, {n}),
                        dc.view(DType::Float32, {n}), 2.0f});
            }),
            "kernel 'vadd', parameter 'A': expected a device tensor, got a host tensor (kernel "
            "target needs device memory)");
}

TEST(Gpu, GraphReplaysCapturedLaunchesOnCurrentData) {
  std::string skip = gpuSkipReason();
  if (!skip.empty())
    GTEST_SKIP() << skip;
  TempDir dir;
  Module m = loadVadd(dir);
  const Kernel &k = m.kernel("vadd");
  const int64_t n = 4099;
  DeviceBuffer da(n * 4), db(n * 4), dc(n * 4), dd(n * 4);
  std::vector<float> b(n, 1.0f);
  db.upload(b);
  Stream s;
  // Two dependent launches: C = A + 2 B, D = C + 0.5 B.
  auto body = [&] {
    k.launch({da.view(DType::Float32, {n}), db.view(DType::Float32, {n}),
              dc.view(DType::Float32, {n}), 2.0f},
             &s);
    k.launch({dc.view(DType::Float32, {n}), db.view(DType::Float32, {n}),
              dd.view(DType::Float32, {n}), 0.5f},
             &s);
  };
  dd.memset(0);
  Graph g = Graph::capture(s, body);
  ASSERT_TRUE(bool(g));
  s.synchronize();
  // Capturing runs nothing.
  EXPECT_EQ(dd.download<float>(n), std::vector<float>(n, 0.0f));
  for (int replay = 0; replay < 3; ++replay) {
    std::vector<float> a(n);
    for (int64_t i = 0; i < n; ++i)
      a[i] = float(i % 13 + replay * 100);
    da.upload(a);
    g.launch(s);
    s.synchronize();
    std::vector<float> d = dd.download<float>(n);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(d[i], a[i] + 2.5f) << "replay " << replay << ", element " << i;
  }
  // A body that throws ends the capture: the error propagates and the stream still runs work.
  EXPECT_EQ(errorOf([&] {
              Graph::capture(s, [&] {
                k.launch({da.view(DType::Float32, {n}), db.view(DType::Float32, {n}),
                          dc.view(DType::Float32, {n}), 1.0f},
                         &s);
                throw Error("stop");
              });
            }),
            "stop");
  body();
  s.synchronize();
  EXPECT_EQ(dd.download<float>(1)[0], 200.0f + 2.5f);
  EXPECT_EQ(errorOf([&] { Graph().launch(s); }),
            "Graph::launch: an empty graph (nothing was captured)");
}

TEST(Gpu, TmaTileCopyWithClusterAndLargeSharedMemory) {
  std::string skip = gpuSkipReason();
  if (!skip.empty())
    GTEST_SKIP() << skip;
  TempDir dir;
  dir.write("tma.ptx", kTmaPtx);
  Module m = Module::load(dir.write("tma.manifest.json", kTmaManifest));
  const Kernel &k = m.kernel("tma_copy");
  const int64_t M = 20, K = 100, YM = 24, YK = 128;
  std::vector<float> x(M * K);
  for (int64_t i = 0; i < M * K; ++i)
    x[i] = static_cast<float>(i + 1);
  DeviceBuffer dx(M * K * 4), dy(YM * YK * 4);
  dx.upload(x);
  dy.memset(0xFF);
  std::vector<Arg> args{dx.view(DType::Float32, {M, K}), dy.view(DType::Float32, {YM, YK})};
  EXPECT_EQ(k.grid(args)[0], 4);
  EXPECT_EQ(k.grid(args)[1], 3);
  k.launch(args);
  Context::get(0).synchronize();
  std::vector<float> y = dy.download<float>(YM * YK);
  for (int64_t r = 0; r < YM; ++r)
    for (int64_t c = 0; c < YK; ++c) {
      float want = (r < M && c < K) ? x[r * K + c] : 0.0f;
      ASSERT_EQ(y[r * YK + c], want) << r << "," << c;
    }

  // No rows: nothing is launched and no tensor map is needed.
  k.launch({Tensor(nullptr, DType::Float32, {0, K}, Place::Device),
            Tensor(nullptr, DType::Float32, {0, YK}, Place::Device)});

  // Refusals: a TMA-incompatible stride, and a grid the cluster does not divide.
  const int64_t K2 = 70; // 280-byte rows: not a multiple of 16
  DeviceBuffer dx2(M * K2 * 4), dy2(YM * 96 * 4);
  EXPECT_EQ(errorOf([&] {
              k.launch({dx2.view(DType::Float32, {M, K2}), dy2.view(DType::Float32, {YM, 96})});
            }),
            "kernel 'tma_copy', parameter 'X' (tensor map 0): stride of dimension 0 is 280 "
            "bytes, not a multiple of 16");
  const int64_t K3 = 68; // 272-byte rows are fine, but the grid x is 3
  DeviceBuffer dx3(M * K3 * 4);
  EXPECT_EQ(errorOf([&] {
              k.launch({dx3.view(DType::Float32, {M, K3}), dy2.view(DType::Float32, {YM, 96})});
            }),
            "kernel 'tma_copy': grid x = 3 is not a multiple of the cluster size 2");
}

TEST(Gpu, LaunchErrorNamesCudaErrorAndKernel) {
  std::string skip = gpuSkipReason();
  if (!skip.empty())
    GTEST_SKIP() << skip;
  TempDir dir;
  dir.write("vadd.ptx", kVaddPtx);
  std::string text = kVaddManifest;
  text.replace(text.find("[256, 1, 1]"), 11, "[1024, 1, 1]");
  text.replace(text.find("\"entry\": \"vadd\""), 15, "\"entry\": \"vadd\", \"shared_bytes\": 1000000");
  // The limit is raised at load, which the driver refuses for 1 MB.
  std::string path = dir.write("big.manifest.json", text);
  std::string e = errorOf([&] {
    Module m = Module::load(path);
    DeviceBuffer d(4 * 16);
    Tensor t = d.view(DType::Float32, {16});
    m.kernel("vadd").launch({t, t, t, 1.0f});
  });
  EXPECT_EQ(e.rfind("kernel 'vadd': ", 0), 0u) << e;
  EXPECT_NE(e.find("CUDA_ERROR_"), std::string::npos) << e;
}

} // namespace
