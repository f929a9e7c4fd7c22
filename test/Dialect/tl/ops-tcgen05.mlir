// Round trip of the sm_100a forms: MMA completion on barriers (tl.mma_commit,
// tl.mma_wait with a barrier), tensor-memory block scales and their rings,
// views of tensor memory, an A operand in tensor memory.
// RUN: tl-opt %s | tl-opt | FileCheck %s
// RUN: tl-opt %s --mlir-print-op-generic | tl-opt | FileCheck %s

// CHECK-LABEL: func.func @tcgen05_forms
func.func @tcgen05_forms(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tl.launch grid(%n) threads(128) blocks(%b) {
    %bar = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
    %a = tl.alloc_shared : memref<128x128xf8E4M3FN, #tl.scope<shared>>
    %bs = tl.alloc_shared : memref<128x128xf8E4M3FN, #tl.scope<shared>>
    %sa = tl.alloc_shared : memref<128x4xf8E8M0FNU, #tl.scope<shared>>
    %c = tl.alloc_tmem {tl.offset = 0 : i64} : memref<128x128xf32, #tl.scope<tmem>>
    %p = tl.alloc_tmem {tl.offset = 128 : i64} : memref<128x64xbf16, #tl.scope<tmem>>
    // CHECK: tl.alloc_tmem {tl.offset = 160 : i64} : memref<3x128x4xf8E8M0FNU, #tl.scope<tmem>>
    %ring = tl.alloc_tmem {tl.offset = 160 : i64} : memref<3x128x4xf8E8M0FNU, #tl.scope<tmem>>
    // CHECK: tl.view %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] [1, 128, 4] : memref<3x128x4xf8E8M0FNU, #tl.scope<tmem>> to memref<128x4xf8E8M0FNU, #tl.scope<tmem>>
    %slot = tl.view %ring[%c1, %c0, %c0] [1, 128, 4]
        : memref<3x128x4xf8E8M0FNU, #tl.scope<tmem>> to memref<128x4xf8E8M0FNU, #tl.scope<tmem>>
    // CHECK: tl.copy %{{.*}}[] [128, 4] to %{{.*}}[] [128, 4] : memref<128x4xf8E8M0FNU, #tl.scope<shared>> to memref<128x4xf8E8M0FNU, #tl.scope<tmem>>
    tl.copy %sa[] [128, 4] to %slot[] [128, 4]
        : memref<128x4xf8E8M0FNU, #tl.scope<shared>> to memref<128x4xf8E8M0FNU, #tl.scope<tmem>>
    // CHECK: tl.gemm {{.*}} scale_a(%{{.*}}) scale_b(%{{.*}}) scale_block(32) {async, transpose_b}
    tl.gemm %a, %bs, %c scale_a(%slot) scale_b(%slot) scale_block(32) {async, transpose_b}
        : memref<128x128xf8E4M3FN, #tl.scope<shared>>, memref<128x128xf8E4M3FN, #tl.scope<shared>>,
          memref<128x128xf32, #tl.scope<tmem>>, memref<128x4xf8E8M0FNU, #tl.scope<tmem>>,
          memref<128x4xf8E8M0FNU, #tl.scope<tmem>>
    // CHECK: tl.mma_commit %{{.*}}[%{{.*}}] : !tl.barrier<2>
    tl.mma_commit %bar[%c1] : !tl.barrier<2>
    // CHECK: tl.mma_wait pending(0) barrier(%{{.*}}[%{{.*}}], %{{.*}} : !tl.barrier<2>)
    tl.mma_wait pending(0) barrier(%bar[%c0], %c1 : !tl.barrier<2>)
    // A from tensor memory (packed bf16), B from shared memory.
    %v = tl.alloc_shared : memref<64x128xbf16, #tl.scope<shared>>
    // CHECK: tl.gemm %{{.*}}, %{{.*}}, %{{.*}} {async} : memref<128x64xbf16, #tl.scope<tmem>>
    tl.gemm %p, %v, %c {async}
        : memref<128x64xbf16, #tl.scope<tmem>>, memref<64x128xbf16, #tl.scope<shared>>,
          memref<128x128xf32, #tl.scope<tmem>>
    // The register form of the wait is unchanged.
    %acc = tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    // CHECK: tl.mma_wait pending(1) %{{.*}} : memref<128x128xf32, #tl.scope<fragment>>
    tl.mma_wait pending(1) %acc : memref<128x128xf32, #tl.scope<fragment>>
  }
  return
}
