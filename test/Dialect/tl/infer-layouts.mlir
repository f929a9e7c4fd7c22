// tl-infer-layouts: MMA anchors, propagation through loops, copies and
// reductions, blocked and replicated defaults, swizzled MMA operands, and
// the conversions inserted where a use needs another layout.
// RUN: tl-opt %s --split-input-file --tl-infer-layouts --verify-diagnostics | FileCheck %s

// A 128x256 accumulator over two warpgroups: 64 rows each (warp bit 2 moves
// 64 rows), 128 registers per thread; the shared operands get the 128-byte
// swizzle in 64-column chunks.
// CHECK-DAG: #[[ACC:layout[0-9]*]] = #tl.layout<[128, 256], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64), (0, 128)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
// CHECK-DAG: #[[SW:layout[0-9]*]] = #tl.layout<[128, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0)]>
// CHECK-DAG: #[[SWS:smem[0-9]*]] = #tl.scope<shared, #[[SW]]>
// CHECK-DAG: #[[ACCS:frag[0-9]*]] = #tl.scope<fragment, #[[ACC]]>
// CHECK-LABEL: func.func @gemm
// CHECK: tl.alloc_shared : memref<128x64xbf16, #[[SWS]]>
// CHECK: tl.alloc_fragment : memref<128x256xf32, #[[ACCS]]>
func.func @gemm(%n: index) {
  tl.launch grid(%n) threads(256) blocks(%b) {
    %a = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %w = tl.alloc_shared : memref<256x64xbf16, #tl.scope<shared>>
    %acc = tl.alloc_fragment : memref<128x256xf32, #tl.scope<fragment>>
    tl.gemm %a, %w, %acc {transpose_b} : memref<128x64xbf16, #tl.scope<shared>>, memref<256x64xbf16, #tl.scope<shared>>, memref<128x256xf32, #tl.scope<fragment>>
  }
  return
}

// -----

// FullCol spreads the warpgroups along N: the last warp bit moves 128
// columns. A 64-row tile cannot be split along M, so the default falls back
// to N: 64 x 512 over two warpgroups (256 columns each) or four (128 each).
// CHECK-DAG: #[[COL:layout[0-9]*]] = #tl.layout<[128, 256], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64), (64, 0)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (0, 128)]>
// CHECK-DAG: #[[WIDE:layout[0-9]*]] = #tl.layout<[64, 512], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64), (0, 128)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (0, 256)]>
// CHECK-DAG: #[[COLS:frag[0-9]*]] = #tl.scope<fragment, #[[COL]]>
// CHECK-DAG: #[[WIDES:frag[0-9]*]] = #tl.scope<fragment, #[[WIDE]]>
// CHECK-LABEL: func.func @policies
// CHECK: memref<128x256xf32, #[[COLS]]>
// CHECK: memref<64x512xf32, #[[WIDES]]>
func.func @policies(%n: index) {
  tl.launch grid(%n) threads(256) blocks(%b) {
    %a = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %w = tl.alloc_shared : memref<256x64xbf16, #tl.scope<shared>>
    %acc = tl.alloc_fragment : memref<128x256xf32, #tl.scope<fragment>>
    tl.gemm %a, %w, %acc policy = full_col {transpose_b} : memref<128x64xbf16, #tl.scope<shared>>, memref<256x64xbf16, #tl.scope<shared>>, memref<128x256xf32, #tl.scope<fragment>>
    %a2 = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %w2 = tl.alloc_shared : memref<512x64xbf16, #tl.scope<shared>>
    %acc2 = tl.alloc_fragment : memref<64x512xf32, #tl.scope<fragment>>
    tl.gemm %a2, %w2, %acc2 {transpose_b} : memref<64x64xbf16, #tl.scope<shared>>, memref<512x64xbf16, #tl.scope<shared>>, memref<64x512xf32, #tl.scope<fragment>>
  }
  return
}

// -----

// CHECK-DAG: #[[WIDE4:layout[0-9]*]] = #tl.layout<[64, 512], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (0, 128), (0, 256)]>
// CHECK-DAG: #[[WIDE4S:frag[0-9]*]] = #tl.scope<fragment, #[[WIDE4]]>
// CHECK-LABEL: func.func @four_warpgroups
// CHECK: memref<64x512xf32, #[[WIDE4S]]>
func.func @four_warpgroups(%n: index) {
  tl.launch grid(%n) threads(512) blocks(%b) {
    %a2 = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %w2 = tl.alloc_shared : memref<512x64xbf16, #tl.scope<shared>>
    %acc2 = tl.alloc_fragment : memref<64x512xf32, #tl.scope<fragment>>
    tl.gemm %a2, %w2, %acc2 {transpose_b} : memref<64x64xbf16, #tl.scope<shared>>, memref<512x64xbf16, #tl.scope<shared>>, memref<64x512xf32, #tl.scope<fragment>>
  }
  return
}

// -----

// Row statistics: the reduction's destination is the accumulator with the
// columns projected away (rows r and r + 8 per thread, replicated over the
// four lanes of a quad); the loop that broadcasts it back reads it where the
// accumulator's slots are. The probabilities copied to bf16 keep the
// accumulator layout, which is the wgmma A fragment: no conversion.
// CHECK-DAG: #[[S:layout[0-9]*]] = #tl.layout<[128, 64], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
// CHECK-DAG: #[[ROW:layout[0-9]*]] = #tl.layout<[128], reg = [(8)], lane = [(0), (0), (1), (2), (4)], warp = [(16), (32), (64)]>
// CHECK-DAG: #[[ROWS:frag[0-9]*]] = #tl.scope<fragment, #[[ROW]]>
// CHECK-DAG: #[[SS:frag[0-9]*]] = #tl.scope<fragment, #[[S]]>
// CHECK-LABEL: func.func @softmax_rows
// CHECK: %[[M:.*]] = tl.alloc_fragment : memref<128xf32, #[[ROWS]]>
// CHECK: %[[P:.*]] = tl.alloc_fragment : memref<128x64xbf16, #[[SS]]>
// CHECK: tl.reduce max {{.*}}, %[[M]] dim(1)
// CHECK: tl.parallel {{.*}} in [128, 64] attributes {layout = #[[S]]}
// CHECK-NOT: tl.convert_layout
// CHECK: tl.gemm %[[P]]
func.func @softmax_rows(%n: index) {
  tl.launch grid(%n) threads(256) blocks(%b) {
    %q = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %k = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %v = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %s = tl.alloc_fragment : memref<128x64xf32, #tl.scope<fragment>>
    %m = tl.alloc_fragment : memref<128xf32, #tl.scope<fragment>>
    %p = tl.alloc_fragment : memref<128x64xbf16, #tl.scope<fragment>>
    %o = tl.alloc_fragment : memref<128x64xf32, #tl.scope<fragment>>
    tl.gemm %q, %k, %s {clear_accum, transpose_b} : memref<128x64xbf16, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<shared>>, memref<128x64xf32, #tl.scope<fragment>>
    tl.reduce max %s, %m dim(1) {clear} : memref<128x64xf32, #tl.scope<fragment>>, memref<128xf32, #tl.scope<fragment>>
    tl.parallel (%i, %j) in [128, 64] {
      %x = memref.load %s[%i, %j] : memref<128x64xf32, #tl.scope<fragment>>
      %r = memref.load %m[%i] : memref<128xf32, #tl.scope<fragment>>
      %d = arith.subf %x, %r : f32
      %e = math.exp2 %d : f32
      memref.store %e, %s[%i, %j] : memref<128x64xf32, #tl.scope<fragment>>
    }
    tl.copy %s[] [128, 64] to %p[] [128, 64] : memref<128x64xf32, #tl.scope<fragment>> to memref<128x64xbf16, #tl.scope<fragment>>
    tl.gemm %p, %v, %o : memref<128x64xbf16, #tl.scope<fragment>>, memref<64x64xbf16, #tl.scope<shared>>, memref<128x64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

// A column statistic of a blocked tile (sums over its rows) read in a loop
// over an accumulator. The loop needs the statistic where the accumulator's
// columns are (its projection); the reduction leaves it where the blocked
// tile's columns are. The reduction writes a temporary in its own layout
// and an explicit conversion moves it to the loop's.
// CHECK-DAG: #[[RED:layout[0-9]*]] = #tl.layout<[64], reg = [(1), (2)], lane = [(4), (8), (16), (32), (0)], warp = [(0), (0), (0)]>
// CHECK-DAG: #[[COLS:layout[0-9]*]] = #tl.layout<[64], reg = [(1), (8), (16), (32)], lane = [(2), (4), (0), (0), (0)], warp = [(0), (0), (0)]>
// CHECK-DAG: #[[COLSS:frag[0-9]*]] = #tl.scope<fragment, #[[COLS]]>
// CHECK-DAG: #[[REDS:frag[0-9]*]] = #tl.scope<fragment, #[[RED]]>
// CHECK-LABEL: func.func @column_broadcast
// CHECK: %[[TMP:.*]] = tl.alloc_fragment : memref<64xf32, #[[REDS]]>
// CHECK: %[[SUM:.*]] = tl.alloc_fragment : memref<64xf32, #[[COLSS]]>
// CHECK: tl.reduce sum {{.*}}, %[[TMP]] dim(0)
// CHECK-NEXT: tl.convert_layout %[[TMP]] to %[[SUM]]
// CHECK: tl.parallel
// CHECK: memref.load %[[SUM]]
func.func @column_broadcast(%n: index, %g: memref<?x64xf32, #tl.scope<global>>) {
  tl.launch grid(%n) threads(256) blocks(%b) {
    %q = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %k = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %s = tl.alloc_fragment : memref<128x64xf32, #tl.scope<fragment>>
    %x = tl.alloc_fragment : memref<32x64xf32, #tl.scope<fragment>>
    %sum = tl.alloc_fragment : memref<64xf32, #tl.scope<fragment>>
    %c0 = arith.constant 0 : index
    tl.copy %g[%c0, %c0] [32, 64] to %x[] [32, 64] : memref<?x64xf32, #tl.scope<global>> to memref<32x64xf32, #tl.scope<fragment>>
    tl.reduce sum %x, %sum dim(0) {clear} : memref<32x64xf32, #tl.scope<fragment>>, memref<64xf32, #tl.scope<fragment>>
    tl.gemm %q, %k, %s {clear_accum, transpose_b} : memref<128x64xbf16, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<shared>>, memref<128x64xf32, #tl.scope<fragment>>
    tl.parallel (%i, %j) in [128, 64] {
      %v = memref.load %s[%i, %j] : memref<128x64xf32, #tl.scope<fragment>>
      %c = memref.load %sum[%j] : memref<64xf32, #tl.scope<fragment>>
      %d = arith.addf %v, %c : f32
      memref.store %d, %s[%i, %j] : memref<128x64xf32, #tl.scope<fragment>>
    }
  }
  return
}

// -----

// No MMA: a fragment copied from global memory is blocked in 16-byte runs;
// a local and a fragment indexed by a constant are replicated.
// CHECK-DAG: #[[B4:layout[0-9]*]] = #tl.layout<[8, 1024], reg = [(0, 1), (0, 2), (0, 512), (1, 0), (2, 0), (4, 0)], lane = [(0, 4), (0, 8), (0, 16), (0, 32), (0, 64)], warp = [(0, 128), (0, 256)]>
// CHECK-DAG: #[[REP:layout[0-9]*]] = #tl.layout<[4], reg = [(1), (2)], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0)]>
// CHECK-DAG: #[[B4S:frag[0-9]*]] = #tl.scope<fragment, #[[B4]]>
// CHECK-DAG: #[[REPL:local[0-9]*]] = #tl.scope<local, #[[REP]]>
// CHECK-DAG: #[[REPF:frag[0-9]*]] = #tl.scope<fragment, #[[REP]]>
// CHECK-LABEL: func.func @defaults
// CHECK: memref<8x1024xf32, #[[B4S]]>
// CHECK: memref<4xf32, #[[REPL]]>
// CHECK: memref<4xf32, #[[REPF]]>
func.func @defaults(%n: index, %x: memref<?x1024xf32, #tl.scope<global>>) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %f = tl.alloc_fragment : memref<8x1024xf32, #tl.scope<fragment>>
    %l = tl.alloc_local : memref<4xf32, #tl.scope<local>>
    %r = tl.alloc_fragment : memref<4xf32, #tl.scope<fragment>>
    %c0 = arith.constant 0 : index
    tl.copy %x[%b, %c0] [8, 1024] to %f[] [8, 1024] : memref<?x1024xf32, #tl.scope<global>> to memref<8x1024xf32, #tl.scope<fragment>>
    %v = memref.load %r[%c0] : memref<4xf32, #tl.scope<fragment>>
    memref.store %v, %l[%c0] : memref<4xf32, #tl.scope<local>>
  }
  return
}

// -----

func.func @replicated_accumulator(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %a = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    // expected-error @+1 {{this buffer is a T.gemm accumulator and is also indexed element by element}}
    %acc = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    tl.gemm %a, %a, %acc {transpose_b} : memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xf32, #tl.scope<fragment>>
    %c0 = arith.constant 0 : index
    %v = memref.load %acc[%c0, %c0] : memref<64x64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

// A register buffer a thread would hold more than 256 words of is refused
// at its allocation, with the access that made every thread hold it whole.
func.func @over_register_budget(%n: index, %idx: memref<?xi32, #tl.scope<global>>) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    // expected-error @+1 {{this buffer (64x64 float32) would take 4096 registers in every thread (a thread has at most 255); every thread holds all of it because of an access whose indices are not T.Parallel loop variables}}
    %f = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    %g = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    tl.parallel (%i, %j) in [64, 64] {
      %r = memref.load %idx[%i] : memref<?xi32, #tl.scope<global>>
      %ri = arith.index_cast %r : i32 to index
      // expected-note @+1 {{the access}}
      %v = memref.load %f[%ri, %ri] : memref<64x64xf32, #tl.scope<fragment>>
      memref.store %v, %g[%i, %j] : memref<64x64xf32, #tl.scope<fragment>>
    }
  }
  return
}

// -----

// A swizzled FP8 MMA operand read as 32-bit words (tl.reshape to another
// element type): a word's four bytes sit at consecutive offsets inside one
// 16-byte swizzle unit, so the word view keeps the swizzle on whole words
// (the row bits XOR word-column bits 2..4, byte-column bits 4..6 before).
// CHECK-DAG: #[[B8:layout[0-9]*]] = #tl.layout<[64, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (0, 64), (1, 16), (2, 32), (4, 64), (8, 0), (16, 0), (32, 0)]>
// CHECK-DAG: #[[W32:layout[0-9]*]] = #tl.layout<[64, 32], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (1, 4), (2, 8), (4, 16), (8, 0), (16, 0), (32, 0)]>
// CHECK-LABEL: func.func @word_view
// CHECK: tl.alloc_shared : memref<64x128xf8E4M3FN, #[[B8S:smem[0-9]*]]>
// CHECK: %[[T:.*]] = tl.alloc_shared : memref<64x128xf8E4M3FN, #[[B8S]]>
// CHECK: tl.reshape %[[T]] : memref<64x128xf8E4M3FN, #[[B8S]]> to memref<64x32xi32, #[[W32S:smem[0-9]*]]>
func.func @word_view(%n: index, %v: i32) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %c0 = arith.constant 0 : index
    %a = tl.alloc_shared : memref<64x128xf8E4M3FN, #tl.scope<shared>>
    %w = tl.alloc_shared : memref<64x128xf8E4M3FN, #tl.scope<shared>>
    %acc = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    %words = tl.reshape %w : memref<64x128xf8E4M3FN, #tl.scope<shared>> to memref<64x32xi32, #tl.scope<shared>>
    memref.store %v, %words[%c0, %c0] : memref<64x32xi32, #tl.scope<shared>>
    tl.gemm %a, %w, %acc {transpose_b} : memref<64x128xf8E4M3FN, #tl.scope<shared>>, memref<64x128xf8E4M3FN, #tl.scope<shared>>, memref<64x64xf32, #tl.scope<fragment>>
  }
  return
}
