// Linear layouts: the hardware layouts against the formulas of the PTX ISA
// (wgmma D fragments, tcgen05.ld 32x32b, TMA swizzles), and the GF(2)
// algebra (projection, register solving, inversion) on them.
#include "tl/IR/LinearLayout.h"

#include <gtest/gtest.h>

using mlir::tl::LinearLayout;

namespace {

TEST(LinearLayout, WgmmaAccumulatorMatchesPtxFragment) {
  // M = 256 over 2 warpgroups stacked along M (two 64-row tiles each), N = 64.
  auto l = LinearLayout::wgmmaAccumulator(256, 64, 2, 2);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->getInSize(LinearLayout::Register), 64); // 2 tiles x 64/2
  EXPECT_EQ(l->getInSize(LinearLayout::Lane), 32);
  EXPECT_EQ(l->getInSize(LinearLayout::Warp), 8);
  int64_t perTile = 64 / 2;
  for (int64_t warp = 0; warp < 8; ++warp)
    for (int64_t lane = 0; lane < 32; ++lane)
      for (int64_t slot = 0; slot < 64; ++slot) {
        int64_t wg = warp / 4, m = slot / perTile, r = slot % perTile;
        int64_t row = wg * 128 + m * 64 + ((r / 2) % 2) * 8 + (warp % 4) * 16 + lane / 4;
        int64_t col = (lane % 4) * 2 + (r / 4) * 8 + r % 2;
        auto c = l->apply(slot, lane, warp);
        ASSERT_EQ(c[0], row) << slot << " " << lane << " " << warp;
        ASSERT_EQ(c[1], col) << slot << " " << lane << " " << warp;
      }
}

TEST(LinearLayout, WgmmaAccumulatorSplitAlongN) {
  // 64 x 512 over 4 warpgroups along N: each a 64 x 128 wgmma tile.
  auto l = LinearLayout::wgmmaAccumulator(64, 512, 4, 1);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->getInSize(LinearLayout::Register), 64);
  auto c = l->apply(0, 0, 3 * 4); // warpgroup 3, first element
  EXPECT_EQ(c[0], 0);
  EXPECT_EQ(c[1], 3 * 128);
  EXPECT_FALSE(LinearLayout::wgmmaAccumulator(64, 512, 2, 2)); // 32 rows per warpgroup
  EXPECT_FALSE(LinearLayout::wgmmaAccumulator(64, 1024, 2, 1)); // 512 columns per warpgroup
}

TEST(LinearLayout, NonPowerOfTwoColumnsPadThePastSlots) {
  auto l = LinearLayout::wgmmaAccumulator(64, 192, 1, 1);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->getOutShape()[1], 256);
  // wgmma's 96 registers are slots 0..95, columns below 192 in every lane.
  for (int64_t slot = 0; slot < 128; ++slot)
    for (int64_t lane = 0; lane < 32; ++lane)
      EXPECT_EQ(l->apply(slot, lane, 0)[1] < 192, slot < 96);
}

TEST(LinearLayout, RowSliceOfAccumulator) {
  auto acc = *LinearLayout::wgmmaAccumulator(128, 128, 2, 2);
  LinearLayout row = acc.dropOutDim(1).withoutRedundantRegisters();
  // Two rows per thread (r and r + 8), replicated over the quad's lanes.
  EXPECT_EQ(row.getInSize(LinearLayout::Register), 2);
  EXPECT_EQ(row.getBases(LinearLayout::Lane)[0][0], 0);
  EXPECT_EQ(row.getBases(LinearLayout::Lane)[1][0], 0);
  for (int64_t warp = 0; warp < 8; ++warp)
    for (int64_t lane = 0; lane < 32; ++lane)
      for (int64_t slot = 0; slot < 64; ++slot) {
        // The broadcast back: the slice's slot holding this accumulator
        // slot's row, in the same thread, is fixed per slot.
        auto c = acc.apply(slot, lane, warp);
        auto regPart = acc.apply(LinearLayout::Register, slot);
        auto s = row.solveRegister({regPart[0]});
        ASSERT_TRUE(s);
        EXPECT_EQ(row.apply(*s, lane, warp)[0], c[0]);
      }
  EXPECT_FALSE(row.solveRegister({16})); // 16 is a warp bit, not a register
}

TEST(LinearLayout, Tmem32x32b) {
  auto l = LinearLayout::tmem32x32b(128, 256, 2);
  ASSERT_TRUE(l);
  for (int64_t warp = 0; warp < 8; ++warp)
    for (int64_t lane = 0; lane < 32; ++lane)
      for (int64_t slot = 0; slot < 128; ++slot) {
        int64_t t = warp * 32 + lane;
        auto c = l->apply(slot, lane, warp);
        ASSERT_EQ(c[0], t % 128);
        ASSERT_EQ(c[1], (t / 128) * 128 + slot);
      }
}

TEST(LinearLayout, BlockedIsRowMajorRuns) {
  LinearLayout l = LinearLayout::blocked({8, 1024}, 128, 4);
  EXPECT_EQ(l.getInSize(LinearLayout::Register), 64);
  for (int64_t warp = 0; warp < 4; ++warp)
    for (int64_t lane = 0; lane < 32; ++lane)
      for (int64_t slot = 0; slot < 64; ++slot) {
        int64_t t = warp * 32 + lane;
        int64_t flat = (slot / 4) * 512 + t * 4 + slot % 4;
        auto c = l.apply(slot, lane, warp);
        ASSERT_EQ(c[0] * 1024 + c[1], flat);
      }
  // Fewer elements than threads: the extra threads hold replicas.
  LinearLayout small = LinearLayout::blocked({16}, 128, 1);
  EXPECT_EQ(small.getInSize(LinearLayout::Register), 1);
  EXPECT_EQ(small.apply(0, 16, 0)[0], 0);
  EXPECT_EQ(small.apply(0, 15, 3)[0], 15);
}

TEST(LinearLayout, SwizzledSharedMatchesTmaSwizzle) {
  for (int64_t swz : {32, 64, 128})
    for (int64_t elemBits : {8, 16, 32}) {
      int64_t rows = 64, eb = elemBits / 8, cols = 2 * swz / eb; // two chunks
      auto l = LinearLayout::swizzledShared(rows, cols, elemBits, swz);
      ASSERT_TRUE(l) << swz << " " << elemBits;
      int64_t mask = swz / 16 - 1;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          int64_t colByte = c * eb;
          int64_t logical = (colByte / swz) * rows * swz + r * swz + colByte % swz;
          int64_t phys = logical ^ (((logical >> 7) & mask) << 4);
          auto off = l->offsetOf({r, c});
          ASSERT_TRUE(off);
          ASSERT_EQ(*off, phys / eb) << swz << " " << elemBits << " " << r << " " << c;
          auto back = l->apply(LinearLayout::Offset, *off);
          ASSERT_EQ(back[0], r);
          ASSERT_EQ(back[1], c);
        }
    }
  EXPECT_FALSE(LinearLayout::swizzledShared(64, 48, 16, 128)); // 96-byte rows
  EXPECT_FALSE(LinearLayout::swizzledShared(48, 64, 16, 128)); // non-power-of-two rows
}

TEST(LinearLayout, Tcgen05ScaleStagingMatchesTheCopyLayout) {
  // docs/blackwell-encodings.md 6: tcgen05.cp 32x128b.warpx4 reads 32 rows
  // of 16 bytes per 128-row block: row r's word (4 chunks) at
  // (r/128)*512 + (r%32)*16 + ((r%128)/32)*4, the next word of every row
  // after all blocks.
  for (int64_t rows : {128, 256})
    for (int64_t chunks : {4, 8}) {
      auto l = LinearLayout::tcgen05ScaleStaging(rows, chunks);
      ASSERT_TRUE(l) << rows << "x" << chunks;
      int64_t blocks = rows / 128;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < chunks; ++c) {
          int64_t want = (c / 4) * blocks * 512 + (r / 128) * 512 + (r % 32) * 16 +
                         ((r % 128) / 32) * 4 + c % 4;
          auto off = l->offsetOf({r, c});
          ASSERT_TRUE(off);
          ASSERT_EQ(*off, want) << r << " " << c;
        }
    }
  EXPECT_FALSE(LinearLayout::tcgen05ScaleStaging(64, 4));  // under one copy's 128 rows
  EXPECT_FALSE(LinearLayout::tcgen05ScaleStaging(128, 2)); // under one 4-chunk word
}

TEST(LinearLayout, Printing) {
  auto l = LinearLayout::wgmmaAccumulator(64, 16, 1, 1);
  EXPECT_EQ(l->str(), "[64, 16], reg = [(0, 1), (8, 0), (0, 8)], lane = [(0, 2), (0, 4), "
                      "(1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]");
}

} // namespace
