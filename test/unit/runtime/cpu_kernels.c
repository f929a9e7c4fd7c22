/* Hand-written CPU kernels following the CPU entry ABI of docs/abi.md, built
   into a shared object for the runtime's CPU executor tests. Each entry
   unpacks args[] exactly as the back end's code would. */
#include <stdint.h>
#include <string.h>

/* vadd(A[N] f32, B[N] f32, C[N] f32, alpha f32): C = A + alpha * B,
   64 elements per block. args: A, N, B, N, C, N, alpha. */
void vadd(void **args, int64_t block_begin, int64_t block_end) {
  const float *a = *(float **)args[0];
  int64_t n = *(int64_t *)args[1];
  const float *b = *(float **)args[2];
  float *c = *(float **)args[4];
  float alpha = *(float *)args[6];
  for (int64_t blk = block_begin; blk < block_end; ++blk)
    for (int64_t i = blk * 64; i < blk * 64 + 64 && i < n; ++i)
      c[i] = a[i] + alpha * b[i];
}

/* group_sum(X[M, K] f32, Y[M, "K // 4"] f32): Y[m, g] = sum of X[m, 4g..4g+3].
   Grid [ceildiv(K // 4, 8), M, 1]: block (bx, by) handles row by, groups
   8bx..8bx+7. args: X, M, K, Y, M, K//4. */
void group_sum(void **args, int64_t block_begin, int64_t block_end) {
  const float *x = *(float **)args[0];
  int64_t m = *(int64_t *)args[1];
  int64_t k = *(int64_t *)args[2];
  float *y = *(float **)args[3];
  int64_t g = *(int64_t *)args[5];
  int64_t gx = (g + 7) / 8;
  (void)m;
  for (int64_t blk = block_begin; blk < block_end; ++blk) {
    int64_t bx = blk % gx, by = blk / gx;
    for (int64_t j = bx * 8; j < bx * 8 + 8 && j < g; ++j) {
      float s = 0;
      for (int t = 0; t < 4; ++t)
        s += x[by * k + j * 4 + t];
      y[by * g + j] = s;
    }
  }
}

/* count_blocks(Out[N] i32, nblocks i64): Out[b] += 1 for each block b;
   grid [nblocks, 1, 1]. args: Out, N, nblocks. */
void count_blocks(void **args, int64_t block_begin, int64_t block_end) {
  int32_t *out = *(int32_t **)args[0];
  for (int64_t blk = block_begin; blk < block_end; ++blk)
    out[blk] += 1;
}

/* probe(Out[32] u8, f f32, h bf16, b bool, i8 int8, u8 uint8, i32 int32,
   i64 int64): copies the raw scalar values into Out so the test can check
   the packing. Out (fixed shape) passes no dimension. */
void probe(void **args, int64_t block_begin, int64_t block_end) {
  uint8_t *out = *(uint8_t **)args[0];
  (void)block_begin;
  (void)block_end;
  memcpy(out + 0, args[1], 4);
  memcpy(out + 4, args[2], 2);
  memcpy(out + 6, args[3], 1);
  memcpy(out + 7, args[4], 1);
  memcpy(out + 8, args[5], 1);
  memcpy(out + 12, args[6], 4);
  memcpy(out + 16, args[7], 8);
}
