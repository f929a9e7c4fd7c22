// Safe global memory on the GPU (docs/language.md §5), kernels from
// test/unit/cpu/kernels/bounds.tl: out-of-range element loads read zero
// (rows from data, columns past the end of a row), out-of-range stores leave
// the memory around the tensor alone, the same as the CPU target; with
// `tlc --check-bounds` the launch fails with the kernel's name and the device
// prints the report (kernel, bounds.tl:line:col, indices, shape).
#include "GpuTestSupport.h"

#include <unistd.h>

namespace {

using namespace tlc::gputest;

TEST(GpuBounds, OutOfRangeLoadsReadZero) {
  REQUIRE_GPU_KERNEL("gather");
  for (int64_t n : {64, 48}) {
    const int64_t m = 4;
    std::vector<int32_t> idx{0, 3, 4, -1, 2, 1000000, 1};
    HostTensor X(tlrt::DType::Float32, {m, n});
    HostTensor I(tlrt::DType::Int32, {static_cast<int64_t>(idx.size())});
    HostTensor Y(tlrt::DType::Float32, {static_cast<int64_t>(idx.size()), 64});
    for (int64_t e = 0; e < m * n; ++e)
      X.as<float>()[e] = 1.0f + e;
    std::memcpy(I.bytes.data(), idx.data(), idx.size() * 4);
    LaunchResult r = runBoth("gather", {X, I, Y}, {false, false, true});
    for (size_t i = 0; i < idx.size(); ++i)
      for (int64_t j = 0; j < 64; ++j) {
        bool in = idx[i] >= 0 && idx[i] < m && j < n;
        float want = in ? X.as<float>()[idx[i] * n + j] : 0.0f;
        ASSERT_EQ(r.gpu[2].as<float>()[i * 64 + j], want) << "n " << n << " row " << i << " col " << j;
        ASSERT_EQ(r.cpu[2].as<float>()[i * 64 + j], want) << "n " << n << " row " << i << " col " << j;
      }
  }
}

TEST(GpuBounds, OutOfRangeStoresAreDropped) {
  REQUIRE_GPU_KERNEL("scatter");
  const int64_t m = 4, n = 48, guard = 4096; // N < BN: columns 48..63 must not reach the next row
  std::vector<int32_t> idx{1, -1, 4, 3, 7, 1 << 30};
  const int64_t r = idx.size();
  std::vector<float> X(r * 64);
  for (size_t e = 0; e < X.size(); ++e)
    X[e] = 1.0f + e;
  tlrt::DeviceBuffer xb(X.size() * 4), ib(idx.size() * 4), yb((guard * 2 + m * n) * 4);
  xb.copyFromHost(X.data(), X.size() * 4);
  ib.copyFromHost(idx.data(), idx.size() * 4);
  yb.memset(0xAB);
  float *y = reinterpret_cast<float *>(yb.data()) + guard;
  tlrt::Module mod = tlrt::Module::load(kernelDir() + "/gpu_scatter.manifest.json");
  tlrt::Stream stream;
  mod.kernel("scatter").launch({tlrt::Tensor(xb.data(), tlrt::DType::Float32, {r, 64}, tlrt::Place::Device),
                                tlrt::Tensor(ib.data(), tlrt::DType::Int32, {r}, tlrt::Place::Device),
                                tlrt::Tensor(y, tlrt::DType::Float32, {m, n}, tlrt::Place::Device)},
                               &stream);
  stream.synchronize();
  std::vector<uint32_t> out(guard * 2 + m * n);
  yb.copyToHost(out.data(), out.size() * 4);
  for (int64_t g = 0; g < guard; ++g) {
    ASSERT_EQ(out[g], 0xABABABABu) << "wrote before Y";
    ASSERT_EQ(out[guard + m * n + g], 0xABABABABu) << "wrote past Y";
  }
  for (int64_t row = 0; row < m; ++row)
    for (int64_t j = 0; j < n; ++j) {
      uint32_t got = out[guard + row * n + j];
      int64_t src = row == 1 ? 0 : row == 3 ? 3 : -1;
      float want = src < 0 ? 0 : X[src * 64 + j];
      if (src < 0)
        ASSERT_EQ(got, 0xABABABABu) << "Y[" << row << ", " << j << "] written";
      else
        ASSERT_EQ(*reinterpret_cast<float *>(&got), want) << "Y[" << row << ", " << j << "]";
    }
}

// The trap ends the CUDA context, so the launch runs in a child process
// (gtest death test, re-executed): stdout (device printf) goes to stderr for
// the matcher.
TEST(GpuBoundsDeathTest, CheckBoundsTrapsWithReport) {
  REQUIRE_GPU_KERNEL("gather__checked");
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto run = [] {
    ::dup2(2, 1);
    std::vector<int32_t> idx{0, 1, 7, 2};
    HostTensor X(tlrt::DType::Float32, {4, 64});
    HostTensor I(tlrt::DType::Int32, {4});
    HostTensor Y(tlrt::DType::Float32, {4, 64});
    std::memcpy(I.bytes.data(), idx.data(), 16);
    try {
      runBoth("gather__checked", {X, I, Y}, {false, false, true});
    } catch (const std::exception &e) {
      std::fflush(stdout);
      std::fprintf(stderr, "launch failed: %s\n", e.what());
      std::abort();
    }
  };
  // The report comes from the kernel; the trap surfaces as a launch failure
  // at the next synchronisation (CUDA names no kernel there).
  EXPECT_DEATH(run(), "kernel 'gather' at [^ ]*bounds\\.tl:14:23: load of X\\[7, [0-9]+\\] is out "
                      "of bounds of shape \\[4, 64\\](.|\n)*launch failed:.*CUDA_ERROR");
}

} // namespace
