// tl-infer-layouts for sm_100a: tcgen05 accumulators are laid out as
// tcgen05.ld 32x32b delivers them (a row per thread of a warpgroup, the
// warpgroups splitting the columns), and so is a register A operand, which
// the MMA reads from tensor memory after a tcgen05.st of the same shape.
// RUN: tl-opt %s --tl-infer-layouts="chip=sm_100a" | FileCheck %s

// CHECK-DAG: #[[S:layout[0-9]*]] = #tl.layout<[128, 128], reg = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32)], lane = [(1, 0), (2, 0), (4, 0), (8, 0), (16, 0)], warp = [(32, 0), (64, 0), (0, 64)]>
// CHECK-DAG: #[[SF:frag[0-9]*]] = #tl.scope<fragment, #[[S]]>
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
