// tl-infer-layouts for sm_100a: tcgen05 accumulators are laid out as
// tcgen05.ld 32x32b delivers them (a row per thread of a warpgroup, the
// warpgroups splitting the columns), and so is a register A operand, which
// the MMA reads from tensor memory after a tcgen05.st of the same shape.
// RUN: tl-opt %s --tl-infer-layouts="chip=sm_100a" | FileCheck %s

// CHECK-DAG: #[[S:layout[0-9]*]] = #tl.layout<[128, 128], reg = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32)], lane = [(1, 0), (2, 0), (4, 0), (8, 0), (16, 0)], warp = [(32, 0), (64, 0), (0, 64)]>
// CHECK-DAG: #[[SF:frag[0-9]*]] = #tl.scope<fragment, #[[S]]>
// CHECK-DAG: #[[SC:layout[0-9]*]] = #tl.layout<[128, 8], offset = [(0, 1), (0, 2), (32, 0), (64, 0), (1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (0, 4)]>
// CHECK-DAG: #[[SC2:layout[0-9]*]] = #tl.layout<[256, 8], offset = [(0, 1), (0, 2), (32, 0), (64, 0), (1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (128, 0), (0, 4)]>
// CHECK-DAG: #[[SCS:smem[0-9]*]] = #tl.scope<shared, #[[SC]]>
// CHECK-DAG: #[[SCS2:smem[0-9]*]] = #tl.scope<shared, #[[SC2]]>
// CHECK-LABEL: func.func @attention_step
// CHECK: %[[ACC:.*]] = tl.alloc_fragment : memref<128x128xf32, #[[SF]]>
// CHECK: %[[P:.*]] = tl.alloc_fragment : memref<128x128xbf16, #[[SF]]>
// CHECK-NOT: tl.convert_layout
// CHECK: tl.gemm %[[P]]
func.func @attention_step(%n: index) {
  tl.launch grid(%n) threads(256) blocks(%b) {
    %q = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %k = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %v = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %s = tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    %p = tl.alloc_fragment : memref<128x128xbf16, #tl.scope<fragment>>
    %o = tl.alloc_fragment : memref<128x64xf32, #tl.scope<fragment>>
    tl.gemm %q, %k, %s {clear_accum, transpose_b} : memref<128x64xbf16, #tl.scope<shared>>, memref<128x64xbf16, #tl.scope<shared>>, memref<128x128xf32, #tl.scope<fragment>>
    tl.copy %s[] [128, 128] to %p[] [128, 128] : memref<128x128xf32, #tl.scope<fragment>> to memref<128x128xbf16, #tl.scope<fragment>>
    tl.gemm %p, %v, %o : memref<128x128xbf16, #tl.scope<fragment>>, memref<128x64xbf16, #tl.scope<shared>>, memref<128x64xf32, #tl.scope<fragment>>
  }
  return
}

// Block scales of a tcgen05 gemm take the tile tcgen05.cp 32x128b.warpx4
// reads: offset(r, c) = (c/4)*(rows/128)*512 + (r/128)*512 + (r%32)*16 +
// ((r%128)/32)*4 + c%4 (words of 4 chunks, the 32-row quarters side by side
// in 16-byte rows, 128-row blocks, then the next word).
// CHECK-LABEL: func.func @block_scaled
// CHECK: tl.alloc_shared : memref<128x8xf8E8M0FNU, #[[SCS]]>
// CHECK: tl.alloc_shared : memref<256x8xf8E8M0FNU, #[[SCS2]]>
func.func @block_scaled(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %a = tl.alloc_shared : memref<128x256xf8E4M3FN, #tl.scope<shared>>
    %bb = tl.alloc_shared : memref<256x256xf8E4M3FN, #tl.scope<shared>>
    %sa = tl.alloc_shared : memref<128x8xf8E8M0FNU, #tl.scope<shared>>
    %sb = tl.alloc_shared : memref<256x8xf8E8M0FNU, #tl.scope<shared>>
    %c = tl.alloc_tmem : memref<128x256xf32, #tl.scope<tmem>>
    tl.gemm %a, %bb, %c scale_a(%sa) scale_b(%sb) scale_block(32) {transpose_b} : memref<128x256xf8E4M3FN, #tl.scope<shared>>, memref<256x256xf8E4M3FN, #tl.scope<shared>>, memref<128x256xf32, #tl.scope<tmem>>, memref<128x8xf8E8M0FNU, #tl.scope<shared>>, memref<256x8xf8E8M0FNU, #tl.scope<shared>>
  }
  return
}
