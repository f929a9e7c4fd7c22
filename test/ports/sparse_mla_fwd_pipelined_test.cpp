// Port test for kernels/sparse_mla_fwd_pipelined.tl (tilelang examples/
// deepseek_v32/sparse_mla_fwd_pipelined.py) on the CPU target against the
// double-precision reference of SparseMlaReference.h. Token s sits at
// position q = q_start + s and sees indices up to (q + 1 - stride) / stride
// (floor); with CP0 the tokens s < stride - 1 are not computed and their O
// and Lse rows must keep the poison. Variants (sparse_mla_fwd_pipelined.cmake)
// cover both architectures' block shapes, KV strides with and without CP0, a
// context-parallel start offset, padded heads, groups, 64- and 128-head slices
// and the original's full-size parameters.
#include "SparseMlaReference.h"

#include "tlrt/Module.h"

#include <cmath>
#include <string>

namespace {

using sparse_mla::Shape;
using tlrt::DType;
using tlrt::Tensor;

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct Context {
  int32_t qStart;
  int64_t stride;
  bool cp0;
};

/// Launches `module` on random inputs of `sh` and checks O and Lse.
/// smScale is the kernel's sm_scale parameter (0: 1 / sqrt(d + dt)).
void run(const std::string &module, const Shape &sh, const Context &cx, double smScale,
         uint32_t seed) {
  auto maxKv = [&](int64_t s) { return floorDiv(cx.qStart + s + 1 - cx.stride, cx.stride); };
  auto computed = [&](int64_t s) { return !cx.cp0 || s >= cx.stride - 1; };
  const sparse_mla::Inputs in = sparse_mla::makeInputs(sh, seed, maxKv, 2.0f);
  sparse_mla::Outputs out(sh);
  std::vector<int32_t> idx = in.idx, qStart = {cx.qStart};
  std::vector<uint16_t> q = in.q, kv = in.kv;
  tlc_port::kernel(module, "sparse_mla_fwd_pipelined")
      .launch({Tensor(q.data(), DType::BFloat16, {sh.b, sh.s, sh.h, sh.dqk()}),
               Tensor(kv.data(), DType::BFloat16, {sh.b, sh.skv, sh.g, sh.dqk()}),
               Tensor(idx.data(), DType::Int32, {sh.b, sh.s, sh.g, sh.topk}),
               Tensor(qStart.data(), DType::Int32, {1}),
               Tensor(out.o.data(), DType::BFloat16, {sh.b, sh.s, sh.h, sh.d}),
               Tensor(out.lse.data(), DType::Float32, {sh.b, sh.s, sh.h})});
  const double scale = smScale != 0 ? smScale : 1.0 / std::sqrt(double(sh.dqk()));
  const std::string where = module + " B=" + std::to_string(sh.b) + " S=" +
                            std::to_string(sh.s) + " SKV=" + std::to_string(sh.skv) +
                            " q_start=" + std::to_string(cx.qStart);
  sparse_mla::check(where, sh, in, out, scale, maxKv, computed);
}

// The original's parameters (H = 128, D = 512 + 64, topk = 2048, stride 1,
// CP0), a few tokens at positions 30.. (the original test starts at 1024).
TEST(PortSparseMlaFwdPipelined, DefaultsSm100a) {
  run("sparse_mla_fwd_pipelined", {1, 3, 40, 128, 1, 512, 64, 2048}, {30, 1, true}, 0, 11);
}
TEST(PortSparseMlaFwdPipelined, DefaultsSm90a) {
  run("sparse_mla_fwd_pipelined_sm90", {1, 3, 40, 128, 1, 512, 64, 2048}, {30, 1, true}, 0,
      12);
}

// KV stride 4 on the first rank: tokens 0..2 are skipped; 24 heads padded to 32.
TEST(PortSparseMlaFwdPipelined, StrideCP0) {
  run("sparse_mla_fwd_pipelined_stride", {2, 50, 20, 24, 1, 64, 32, 128}, {0, 4, true}, 0, 13);
}

// KV stride 2 on a later rank (CP0 off, start 37), two groups, sm_scale 0.5.
TEST(PortSparseMlaFwdPipelined, StrideLaterRank) {
  run("sparse_mla_fwd_pipelined_cp", {2, 33, 40, 32, 2, 128, 64, 64}, {37, 2, false}, 0.5, 14);
}

// 128 heads in two 64-head slices (sm_90a).
TEST(PortSparseMlaFwdPipelined, HeadSlices) {
  run("sparse_mla_fwd_pipelined_rep", {1, 45, 60, 128, 1, 64, 32, 96}, {11, 1, true}, 0, 15);
}

// sm_100a block shape: 40 heads padded to 128, O in halves (quarters as
// acc_o_l / acc_o_r), stride 2 on the first rank.
TEST(PortSparseMlaFwdPipelined, Sm100aHalves) {
  run("sparse_mla_fwd_pipelined_small100", {2, 41, 25, 40, 1, 128, 64, 96}, {0, 2, true}, 0,
      16);
}

// sm_100a block shape with 256 heads: two 128-head slices times two halves.
TEST(PortSparseMlaFwdPipelined, Sm100aHeadSlices) {
  run("sparse_mla_fwd_pipelined_rep100", {1, 30, 40, 256, 1, 64, 32, 64}, {5, 1, true}, 0.5,
      17);
}

} // namespace
