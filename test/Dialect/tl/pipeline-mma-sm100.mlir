// tl-pipeline-mma on sm_100a: tcgen05 MMAs become asynchronous, and a wait
// for them (the issuing thread commits to a barrier, everyone waits on its
// phase, counted per thread) goes only where threads next touch what they
// use; an MMA that would overwrite tensor memory threads have read since
// the role last synchronised waits for them (tl.sync_threads).
// RUN: tl-opt %s --split-input-file --tl-infer-layouts="chip=sm_100a" --tl-pipeline="chip=sm_100a" --tl-assign-tmem --tl-pipeline-mma="chip=sm_100a" | FileCheck %s

// A GEMM's main loop: no wait inside, one before the epilogue reads the
// accumulator.
// CHECK-LABEL: func.func @gemm
// CHECK: %[[BAR:.*]] = tl.alloc_barrier arrive_count(1) : !tl.barrier<1>
// CHECK: %[[CNT:.*]] = tl.alloc_local {init = 0 : i32}
// CHECK: tl.pipelined
// CHECK-NOT: tl.mma_wait
// CHECK-NOT: tl.sync_threads
// CHECK: tl.gemm {{.*}} {async, transpose_b}
// CHECK-NEXT: tl.mma_commit
// CHECK: }
// CHECK: %[[N:.*]] = memref.load %[[CNT]]
// CHECK: %[[I:.*]] = arith.index_cast %[[N]]
// CHECK: %[[P:.*]] = arith.andi %[[I]]
// CHECK: tl.mma_wait pending(0) barrier(%[[BAR]][%{{.*}}], %[[P]] : !tl.barrier<1>)
// CHECK: %[[N1:.*]] = arith.addi %[[N]]
// CHECK: memref.store %[[N1]], %[[CNT]]
// CHECK: tl.copy %{{.*}} : memref<128x128xf32, #tmem> to memref<?x?xf32, #tl.scope<global>>
// CHECK-NOT: tl.mma_wait
func.func @gemm(%A: memref<?x?xbf16, #tl.scope<global>>, %B: memref<?x?xbf16, #tl.scope<global>>,
                %C: memref<?x?xf32, #tl.scope<global>>, %n: index)
    attributes {tl.kernel, tl.arg_dims = [["M", "K"], ["N", "K"], ["M", "N"], []]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  tl.launch grid(%n) threads(256) blocks(%b) {
    %a = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %bs = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %acc = tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    tl.fill %acc, %zero : memref<128x128xf32, #tl.scope<fragment>>
    tl.pipelined %k = %c0 to %n step %c1 stages(3) {
      %kk = arith.muli %k, %c64 : index
      tl.copy %A[%c0, %kk] [128, 64] to %a[] [128, 64] : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #tl.scope<shared>>
      tl.copy %B[%c0, %kk] [128, 64] to %bs[] [128, 64] : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #tl.scope<shared>>
      tl.gemm %a, %bs, %acc {transpose_b} : memref<128x64xbf16, #tl.scope<shared>>, memref<128x64xbf16, #tl.scope<shared>>, memref<128x128xf32, #tl.scope<fragment>>
    }
    tl.copy %acc[] [128, 128] to %C[%c0, %c0] [128, 128] : memref<128x128xf32, #tl.scope<fragment>> to memref<?x?xf32, #tl.scope<global>>
  }
  return
}

// -----

// A product consumed in the loop (FP8 promotion): the wait precedes the
// read of each product, and each MMA waits for the threads to be done
// reading the previous one.
// CHECK-LABEL: func.func @promote
// CHECK: tl.pipelined
// CHECK: tl.sync_threads
// CHECK-NEXT: tl.gemm {{.*}} {async, clear_accum, transpose_b}
// CHECK-NEXT: tl.mma_commit
// CHECK: tl.mma_wait pending(0) barrier
// CHECK: tl.copy %{{.*}} : memref<128x128xf32, #tmem> to memref<128x128xf32, #frag>
// CHECK: tl.parallel
// CHECK: }
// CHECK-NOT: tl.mma_wait
// CHECK: tl.copy %{{.*}} : memref<128x128xf32, #frag> to memref<?x?xf32, #tl.scope<global>>
func.func @promote(%A: memref<?x?xf8E4M3FN, #tl.scope<global>>, %B: memref<?x?xf8E4M3FN, #tl.scope<global>>,
                   %C: memref<?x?xf32, #tl.scope<global>>, %n: index)
    attributes {tl.kernel, tl.arg_dims = [["M", "K"], ["N", "K"], ["M", "N"], []]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  tl.launch grid(%n) threads(256) blocks(%b) {
    %a = tl.alloc_shared : memref<128x128xf8E4M3FN, #tl.scope<shared>>
    %bs = tl.alloc_shared : memref<128x128xf8E4M3FN, #tl.scope<shared>>
    %acc = tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    %part = tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    tl.fill %acc, %zero : memref<128x128xf32, #tl.scope<fragment>>
    tl.pipelined %k = %c0 to %n step %c1 stages(3) {
      %kk = arith.muli %k, %c128 : index
      tl.copy %A[%c0, %kk] [128, 128] to %a[] [128, 128] : memref<?x?xf8E4M3FN, #tl.scope<global>> to memref<128x128xf8E4M3FN, #tl.scope<shared>>
      tl.copy %B[%c0, %kk] [128, 128] to %bs[] [128, 128] : memref<?x?xf8E4M3FN, #tl.scope<global>> to memref<128x128xf8E4M3FN, #tl.scope<shared>>
      tl.gemm %a, %bs, %part {transpose_b, clear_accum} : memref<128x128xf8E4M3FN, #tl.scope<shared>>, memref<128x128xf8E4M3FN, #tl.scope<shared>>, memref<128x128xf32, #tl.scope<fragment>>
      tl.parallel (%x, %y) in [128, 128] {
        %p = memref.load %part[%x, %y] : memref<128x128xf32, #tl.scope<fragment>>
        %s = memref.load %acc[%x, %y] : memref<128x128xf32, #tl.scope<fragment>>
        %t = arith.addf %p, %s : f32
        memref.store %t, %acc[%x, %y] : memref<128x128xf32, #tl.scope<fragment>>
      }
    }
    tl.copy %acc[] [128, 128] to %C[%c0, %c0] [128, 128] : memref<128x128xf32, #tl.scope<fragment>> to memref<?x?xf32, #tl.scope<global>>
  }
  return
}

// -----

// A loop that rewrites an operand in shared memory (left plain by
// tl-pipeline): before the copies overwrite what the last MMA may still
// read, a wait; and one at the end of the launch for the last MMAs.
// CHECK-LABEL: func.func @plain
// CHECK: scf.for
// CHECK: tl.mma_wait pending(0) barrier
// CHECK: tl.copy %{{.*}} to %{{.*}} : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #smem>
// CHECK: tl.parallel
// CHECK: tl.gemm {{.*}} {async, transpose_b}
// CHECK: }
// CHECK: tl.mma_wait pending(0) barrier
// CHECK-NOT: tl.gemm
// CHECK: return
func.func @plain(%A: memref<?x?xbf16, #tl.scope<global>>, %n: index)
    attributes {tl.kernel, tl.arg_dims = [["M", "K"], []]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %two = arith.constant 2.0 : bf16
  tl.launch grid(%n) threads(128) blocks(%b) {
    %a = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %acc = tl.alloc_tmem : memref<128x128xf32, #tl.scope<tmem>>
    scf.for %k = %c0 to %n step %c1 {
      tl.copy %A[%c0, %k] [128, 64] to %a[] [128, 64] : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #tl.scope<shared>>
      tl.parallel (%x, %y) in [128, 64] {
        %v = memref.load %a[%x, %y] : memref<128x64xbf16, #tl.scope<shared>>
        %w = arith.mulf %v, %two : bf16
        memref.store %w, %a[%x, %y] : memref<128x64xbf16, #tl.scope<shared>>
      }
      tl.gemm %a, %a, %acc {transpose_b} : memref<128x64xbf16, #tl.scope<shared>>, memref<128x64xbf16, #tl.scope<shared>>, memref<128x128xf32, #tl.scope<tmem>>
    }
  }
  return
}
