// Port test for kernels/sparse_mla_fwd.tl (tilelang examples/deepseek_v32/
// sparse_mla_fwd.py) on the CPU target against the double-precision
// reference of SparseMlaReference.h: the causal limit of token s is s, index
// lists mix valid entries with -1, past-the-end and past-the-limit slots.
// Variants (sparse_mla_fwd.cmake) cover both architectures' block shapes
// (sm_90a: 64-head blocks, O whole; sm_100a: 128-head blocks, O in halves),
// padded heads (H // G not a power of two), several groups, 64-head slices
// of a large group, and the original's full-size parameters.
#include "SparseMlaReference.h"

#include "tlrt/Module.h"

#include <cmath>
#include <string>

namespace {

using sparse_mla::Shape;
using tlrt::DType;
using tlrt::Tensor;

/// Launches `module` on random inputs of `sh` and checks O and Lse.
/// smScale is the kernel's sm_scale parameter (0: 1 / sqrt(d + dt)).
void run(const std::string &module, const Shape &sh, double smScale, uint32_t seed) {
  auto maxKv = [](int64_t s) { return s; };
  auto computed = [](int64_t) { return true; };
  const sparse_mla::Inputs in = sparse_mla::makeInputs(sh, seed, maxKv, 2.0f);
  sparse_mla::Outputs out(sh);
  std::vector<int32_t> idx = in.idx;
  std::vector<uint16_t> q = in.q, kv = in.kv;
  tlc_port::kernel(module, "sparse_mla_fwd")
      .launch({Tensor(q.data(), DType::BFloat16, {sh.b, sh.s, sh.h, sh.dqk()}),
               Tensor(kv.data(), DType::BFloat16, {sh.b, sh.skv, sh.g, sh.dqk()}),
               Tensor(idx.data(), DType::Int32, {sh.b, sh.s, sh.g, sh.topk}),
               Tensor(out.o.data(), DType::BFloat16, {sh.b, sh.s, sh.h, sh.d}),
               Tensor(out.lse.data(), DType::Float32, {sh.b, sh.s, sh.h})});
  const double scale = smScale != 0 ? smScale : 1.0 / std::sqrt(double(sh.dqk()));
  const std::string where = module + " B=" + std::to_string(sh.b) + " S=" +
                            std::to_string(sh.s) + " SKV=" + std::to_string(sh.skv);
  sparse_mla::check(where, sh, in, out, scale, maxKv, computed);
}

// The original's parameters (H = 128, D = 512 + 64, topk = 2048, one group):
// a few tokens only (the CPU runs the whole 2048-slot list per token).
TEST(PortSparseMlaFwd, DefaultsSm100a) {
  run("sparse_mla_fwd", {1, 3, 40, 128, 1, 512, 64, 2048}, 0, 1);
}
TEST(PortSparseMlaFwd, DefaultsSm90a) {
  run("sparse_mla_fwd_sm90", {1, 3, 40, 128, 1, 512, 64, 2048}, 0, 2);
}

// 20 heads padded to 32, 8 blocks of 16 indices, ragged S.
TEST(PortSparseMlaFwd, PaddedHeads) {
  run("sparse_mla_fwd_small", {2, 45, 70, 20, 1, 64, 32, 128}, 0, 3);
  run("sparse_mla_fwd_small", {1, 130, 131, 20, 1, 64, 32, 128}, 0, 4);
}

// Two groups of 16 heads, each with its own index lists and KV.
TEST(PortSparseMlaFwd, Groups) {
  run("sparse_mla_fwd_groups", {2, 37, 50, 32, 2, 128, 64, 192}, 0, 5);
}

// 128 heads per group: two 64-head slices per token (sm_90a), and a peaked
// softmax (sm_scale 0.5).
TEST(PortSparseMlaFwd, HeadSlices) {
  run("sparse_mla_fwd_rep", {1, 70, 75, 256, 2, 64, 32, 64}, 0.5, 6);
}

// sm_100a block shape: 40 heads padded to 128, O in two column halves.
TEST(PortSparseMlaFwd, Sm100aHalves) {
  run("sparse_mla_fwd_small100", {2, 50, 60, 40, 1, 128, 64, 96}, 0, 7);
}

// sm_100a block shape with 256 heads: two 128-head slices times two halves.
TEST(PortSparseMlaFwd, Sm100aHeadSlices) {
  run("sparse_mla_fwd_rep100", {1, 40, 41, 256, 1, 64, 32, 64}, 0.5, 8);
}

} // namespace
