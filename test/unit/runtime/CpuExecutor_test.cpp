// End-to-end tests of the CPU executor: hand-written kernels following the
// CPU entry ABI (cpu_kernels.c, built into a .so by CMake) are loaded
// through a manifest with tlrt::Module and launched with host tensors.
#include "tlrt/Module.h"

#include "RuntimeTestUtil.h"
#include "tlrt/LowPrecision.h"

#include <cstring>
#include <numeric>

using namespace tlrt;
using tlrt_test::errorOf;
using tlrt_test::TempDir;

namespace {

const char *kManifest = R"json({
  "format": "tlc-manifest", "version": 1, "target": "cpu", "module": "cpu_kernels.so",
  "source": "test/unit/runtime/cpu_kernels.c",
  "kernels": [
    {"name": "vadd", "entry": "vadd",
     "params": [
       {"name": "A", "kind": "tensor", "dtype": "float32", "shape": ["N"]},
       {"name": "B", "kind": "tensor", "dtype": "float32", "shape": ["N"]},
       {"name": "C", "kind": "tensor", "dtype": "float32", "shape": ["N"]},
       {"name": "alpha", "kind": "scalar", "dtype": "float32"}],
     "threads": [64, 1, 1],
     "grid": [{"op": "ceildiv", "args": [{"dim": [0, 0]}, 64]}, 1, 1]},
    {"name": "group_sum", "entry": "group_sum",
     "params": [
       {"name": "X", "kind": "tensor", "dtype": "float32", "shape": ["M", "K"]},
       {"name": "Y", "kind": "tensor", "dtype": "float32", "shape": ["M", "K // 4"]}],
     "grid": [{"op": "ceildiv", "args": [{"dim": [1, 1]}, 8]}, {"dim": [0, 0]}, 1]},
    {"name": "count_blocks", "entry": "count_blocks",
     "params": [
       {"name": "Out", "kind": "tensor", "dtype": "int32", "shape": ["N"]},
       {"name": "nblocks", "kind": "scalar", "dtype": "int64"}],
     "grid": [{"scalar": 1}, 1, 1]},
    {"name": "probe", "entry": "probe",
     "params": [
       {"name": "Out", "kind": "tensor", "dtype": "uint8", "shape": [32]},
       {"name": "f", "kind": "scalar", "dtype": "float32"},
       {"name": "h", "kind": "scalar", "dtype": "bfloat16"},
       {"name": "b", "kind": "scalar", "dtype": "bool"},
       {"name": "i8", "kind": "scalar", "dtype": "int8"},
       {"name": "u8", "kind": "scalar", "dtype": "uint8"},
       {"name": "i32", "kind": "scalar", "dtype": "int32"},
       {"name": "i64", "kind": "scalar", "dtype": "int64"}],
     "grid": [1, 1, 1]}
  ]})json";

struct CpuExecutor : ::testing::Test {
  TempDir dir;
  std::string manifest;
  void SetUp() override {
    // The build-time path, unless the binary runs from a copied build tree.
    const char *so = std::getenv("TLRT_TEST_CPU_KERNELS");
    dir.copyFrom(so && *so ? so : TLRT_TEST_CPU_KERNELS, "cpu_kernels.so");
    manifest = dir.write("k.manifest.json", kManifest);
  }
  Tensor host(std::vector<float> &v) {
    return Tensor(v.data(), DType::Float32, {static_cast<int64_t>(v.size())});
  }
};

TEST_F(CpuExecutor, VectorAdd) {
  Module m = Module::load(manifest);
  EXPECT_EQ(m.target(), Target::CPU);
  const Kernel &k = m.kernel("vadd");
  EXPECT_EQ(k.place(), Place::Host);
  for (int64_t n : {1, 63, 64, 65, 1000, 4096 + 3}) {
    std::vector<float> a(n), b(n), c(n, -1.0f);
    for (int64_t i = 0; i < n; ++i) {
      a[i] = static_cast<float>(i);
      b[i] = static_cast<float>(2 * i + 1);
    }
    std::vector<Arg> args{host(a), host(b), host(c), 0.5f};
    EXPECT_EQ(k.grid(args)[0], (n + 63) / 64);
    k.launch(args);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(c[i], a[i] + 0.5f * b[i]) << "n=" << n << " i=" << i;
  }
}

TEST_F(CpuExecutor, TwoDimensionalGridAndDerivedShape) {
  Module m = Module::load(manifest);
  int64_t M = 5, K = 4 * 19;
  std::vector<float> x(M * K), y(M * (K / 4), 0.0f);
  std::iota(x.begin(), x.end(), 0.0f);
  Tensor X(x.data(), DType::Float32, {M, K});
  Tensor Y(y.data(), DType::Float32, {M, K / 4});
  m.kernel("group_sum").launch({X, Y});
  for (int64_t r = 0; r < M; ++r)
    for (int64_t g = 0; g < K / 4; ++g) {
      float want = 0;
      for (int t = 0; t < 4; ++t)
        want += x[r * K + g * 4 + t];
      ASSERT_EQ(y[r * (K / 4) + g], want) << r << "," << g;
    }
  // A wrong derived dimension is refused before anything runs.
  Tensor bad(y.data(), DType::Float32, {M, K / 4 + 1});
  EXPECT_EQ(errorOf([&] { m.kernel("group_sum").launch({X, bad}); }),
            "kernel 'group_sum', parameter 'Y': dimension 1 must be 'K // 4' = 19 (K = 76), got "
            "20");
}

TEST_F(CpuExecutor, EveryBlockRunsOnceWhateverTheThreadCount) {
  Module m = Module::load(manifest);
  for (const char *threads : {"1", "3", "7", "64"}) {
    setenv("TLRT_CPU_THREADS", threads, 1);
    EXPECT_EQ(Module::cpuThreads(), std::atoi(threads));
    for (int64_t n : {0, 1, 5, 100, 1001}) {
      std::vector<int32_t> out(n + 1, 0);
      m.kernel("count_blocks")
          .launch({Tensor(out.data(), DType::Int32, {n + 1}), n});
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(out[i], 1) << "threads=" << threads << " n=" << n << " i=" << i;
      EXPECT_EQ(out[n], 0);
    }
  }
  setenv("TLRT_CPU_THREADS", "zero", 1);
  EXPECT_EQ(errorOf([&] { Module::cpuThreads(); }),
            "TLRT_CPU_THREADS must be an integer from 1 to 1024, got 'zero'");
  unsetenv("TLRT_CPU_THREADS");
  EXPECT_GE(Module::cpuThreads(), 1);
}

TEST_F(CpuExecutor, ScalarPacking) {
  Module m = Module::load(manifest);
  alignas(16) uint8_t out[32] = {};
  m.kernel("probe").launch({Tensor(out, DType::UInt8, {32}), 1.25f, -2.0f, true, -5, 250,
                            -123456, int64_t(1) << 50});
  float f;
  std::memcpy(&f, out, 4);
  EXPECT_EQ(f, 1.25f);
  uint16_t h;
  std::memcpy(&h, out + 4, 2);
  EXPECT_EQ(h, f32ToBF16(-2.0f));
  EXPECT_EQ(out[6], 1);
  EXPECT_EQ(static_cast<int8_t>(out[7]), -5);
  EXPECT_EQ(out[8], 250);
  int32_t i32;
  std::memcpy(&i32, out + 12, 4);
  EXPECT_EQ(i32, -123456);
  int64_t i64;
  std::memcpy(&i64, out + 16, 8);
  EXPECT_EQ(i64, int64_t(1) << 50);
}

TEST_F(CpuExecutor, RefusesBadArgumentsWithoutRunning) {
  Module m = Module::load(manifest);
  std::vector<float> a(10, 1.0f), b(10, 1.0f), c(10, 7.0f), shortB(9, 1.0f);
  const Kernel &k = m.kernel("vadd");
  EXPECT_EQ(errorOf([&] { k.launch({host(a), host(shortB), host(c), 1.0f}); }),
            "kernel 'vadd', parameter 'B': dimension 0 is 'N' = 10 (bound by parameter 'A', "
            "dimension 0), got 9");
  EXPECT_EQ(errorOf([&] {
              k.launch({host(a), host(b), Tensor(c.data(), DType::Float32, {10}, Place::Device),
                        1.0f});
            }),
            "kernel 'vadd', parameter 'C': expected a host tensor, got a device tensor (kernel "
            "target needs host memory)");
  EXPECT_EQ(errorOf([&] { k.launch({host(a), host(b), host(c)}); }),
            "kernel 'vadd': expected 4 arguments, got 3");
  for (float v : c)
    EXPECT_EQ(v, 7.0f);
}

TEST_F(CpuExecutor, LoadErrors) {
  EXPECT_EQ(errorOf([&] { Module::load(manifest).kernel("nope"); }),
            manifest + ": no kernel 'nope' (kernels: vadd, group_sum, count_blocks, probe)");
  std::string text = kManifest;
  std::string missing = text;
  missing.replace(missing.find("cpu_kernels.so"), 14, "absent.so");
  std::string path = dir.write("missing.manifest.json", missing);
  std::string e = errorOf([&] { Module::load(path); });
  EXPECT_EQ(e.rfind(path + ": cannot load cpu module '" + dir.path() + "/absent.so': ", 0), 0u)
      << e;
  std::string noEntry = text;
  noEntry.replace(noEntry.find("\"entry\": \"probe\""), 16, "\"entry\": \"probe2\"");
  path = dir.write("noentry.manifest.json", noEntry);
  EXPECT_EQ(errorOf([&] { Module::load(path); }),
            "kernel 'probe': entry 'probe2' not found in '" + dir.path() + "/cpu_kernels.so'");
}

} // namespace

namespace {

// Two steps through one entry: D = C + alpha * B after C = A + alpha * B, the
// intermediate C shared by name between the steps.
const char *kSequenceManifest = R"json({
  "format": "tlc-manifest", "version": 1, "target": "cpu", "module": "cpu_kernels.so",
  "kernels": [
    {"name": "second", "entry": "vadd",
     "params": [
       {"name": "C", "kind": "tensor", "dtype": "float32", "shape": ["N"]},
       {"name": "B", "kind": "tensor", "dtype": "float32", "shape": ["N"]},
       {"name": "D", "kind": "tensor", "dtype": "float32", "shape": ["N"]},
       {"name": "alpha", "kind": "scalar", "dtype": "float32"}],
     "grid": [{"op": "ceildiv", "args": [{"dim": [0, 0]}, 64]}, 1, 1]},
    {"name": "first", "entry": "vadd",
     "params": [
       {"name": "A", "kind": "tensor", "dtype": "float32", "shape": ["N"]},
       {"name": "B", "kind": "tensor", "dtype": "float32", "shape": ["N"]},
       {"name": "C", "kind": "tensor", "dtype": "float32", "shape": ["N"]},
       {"name": "alpha", "kind": "scalar", "dtype": "float32"}],
     "grid": [{"op": "ceildiv", "args": [{"dim": [0, 0]}, 64]}, 1, 1]}
  ],
  "sequence": ["first", "second"]})json";

} // namespace

TEST_F(CpuExecutor, KernelSequenceRunsInOrderWithSharedArguments) {
  std::string path = dir.write("seq.manifest.json", kSequenceManifest);
  Module m = Module::load(path);
  ASSERT_EQ(m.manifest().sequence, (std::vector<std::string>{"first", "second"}));
  for (int64_t n : {1, 64, 200}) {
    std::vector<float> a(n), b(n), c(n, -1.0f), d(n, -1.0f);
    for (int64_t i = 0; i < n; ++i) {
      a[i] = static_cast<float>(i);
      b[i] = static_cast<float>(3 * i + 1);
    }
    m.launchSequence({{"A", host(a)}, {"B", host(b)}, {"C", host(c)}, {"D", host(d)}, {"alpha", 0.5f}});
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(c[i], a[i] + 0.5f * b[i]) << "n=" << n << " i=" << i;
      ASSERT_EQ(d[i], c[i] + 0.5f * b[i]) << "n=" << n << " i=" << i;
    }
  }
  // A missing argument is reported before anything runs.
  std::vector<float> a(8, 1.0f), b(8, 1.0f), c(8, -1.0f);
  EXPECT_EQ(errorOf([&] {
              m.launchSequence({{"A", host(a)}, {"B", host(b)}, {"C", host(c)}, {"alpha", 1.0f}});
            }),
            path + ": sequence step 1 (kernel 'second') needs argument 'D'");
  EXPECT_EQ(c[0], -1.0f);
  // A module without a sequence, and a sequence naming no kernel.
  Module plain = Module::load(manifest);
  EXPECT_EQ(errorOf([&] { plain.launchSequence({}); }),
            manifest + ": this module has no kernel sequence");
  std::string bad = kSequenceManifest;
  bad.replace(bad.find("\"first\", \"second\""), 17, "\"first\", \"third\"");
  std::string badPath = dir.write("bad.manifest.json", bad);
  EXPECT_EQ(errorOf([&] { Module::load(badPath); }),
            badPath + ": sequence[1]: no kernel 'third' in this manifest");
}
