// Views of shared buffers on the GPU (test/gpu/kernels): T.gemm on K-slices
// of the shared tiles at constant offsets (gemm_khalves) and at offsets of an
// unrolled loop (gemm_kslices): whole 128-byte swizzle chunks (BK = 128),
// halves and quarters of one chunk, where the descriptors start 64 or 32
// bytes inside the swizzle atom (BK = 64); a hand-made 3-D ring whose stages are TMA copy
// destinations and T.gemm operands (gemm_ring, 2 and 3 stages). Against the
// f64 reference and the CPU target, like the other GEMMs.
#include "GpuTestSupport.h"

namespace {

using namespace tlc::gputest;

TEST(GpuViews, GemmKHalvesWholeChunks) {
  REQUIRE_GPU_KERNEL("gemm_khalves");
  checkGemmF32Out("gemm_khalves", tlrt::DType::BFloat16);
}

TEST(GpuViews, GemmKHalvesInsideSwizzleAtom) {
  REQUIRE_GPU_KERNEL("gemm_khalves__bk64");
  checkGemmF32Out("gemm_khalves__bk64", tlrt::DType::BFloat16);
}

TEST(GpuViews, GemmKSlicesWholeChunks) {
  REQUIRE_GPU_KERNEL("gemm_kslices");
  checkGemmF32Out("gemm_kslices", tlrt::DType::BFloat16);
}

TEST(GpuViews, GemmKSlicesInsideSwizzleAtom) {
  REQUIRE_GPU_KERNEL("gemm_kslices__bk64");
  checkGemmF32Out("gemm_kslices__bk64", tlrt::DType::BFloat16);
}

TEST(GpuViews, GemmKSlicesOf32Columns) {
  REQUIRE_GPU_KERNEL("gemm_kslices__bk64_q");
  checkGemmF32Out("gemm_kslices__bk64_q", tlrt::DType::BFloat16);
}

TEST(GpuViews, GemmRing2Stages) {
  REQUIRE_GPU_KERNEL("gemm_ring");
  checkGemmF32Out("gemm_ring", tlrt::DType::BFloat16);
}

TEST(GpuViews, GemmRing3Stages) {
  REQUIRE_GPU_KERNEL("gemm_ring__s3");
  checkGemmF32Out("gemm_ring__s3", tlrt::DType::BFloat16);
}

// T.reshape of a shared tile and T.view of its bytes as bfloat16
// (test/unit/cpu/kernels/views.tl, reshape_copy): both outputs hold X's
// bytes exactly.
TEST(GpuViews, ReshapeAndDtypeViewOfSharedTile) {
  REQUIRE_GPU_KERNEL("reshape_copy");
  HostTensor X(tlrt::DType::Float32, {64, 32});
  HostTensor Y(tlrt::DType::Float32, {32, 64});
  HostTensor Z(tlrt::DType::BFloat16, {64, 64});
  for (int64_t i = 0; i < 64 * 32; ++i)
    X.as<float>()[i] = uniform(-100, 100);
  LaunchResult r = runBoth("reshape_copy", {X, Y, Z}, {false, true, true});
  for (const auto *res : {&r.gpu, &r.cpu}) {
    EXPECT_EQ(std::memcmp((*res)[1].bytes.data(), X.bytes.data(), X.bytes.size()), 0);
    EXPECT_EQ(std::memcmp((*res)[2].bytes.data(), X.bytes.data(), X.bytes.size()), 0);
  }
}

} // namespace
