// tl-pipeline on sm_100a: a stage only tcgen05 MMAs read goes back to the
// producer by tl.mma_commit (one arrival, from the thread that issues the
// MMAs, once they have read it), and only that thread waits for it to fill;
// a stage other ops read too also counts the consumer warps' arrivals. Block
// scales (4-byte rows of ue8m0, too narrow for TMA) are filled by cp.async in
// row pieces, the lanes fencing for the async proxy that tcgen05.cp reads
// through. The full barrier expects one arrival for the TMA bytes and one per
// lane per cp.async copy (2 x 32 here: each copy's lanes arrive once).
// RUN: tl-opt %s --split-input-file --tl-infer-layouts="chip=sm_100a" --tl-pipeline="chip=sm_100a" | FileCheck %s

// CHECK-LABEL: func.func @mx
// CHECK-SAME: dtype = "float8_e4m3"
// CHECK-NOT: dtype = "ue8m0"
// CHECK: %[[FULL:.*]] = tl.alloc_barrier arrive_count(65) : !tl.barrier<2>
// CHECK: %[[EMPTY:.*]] = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
// CHECK: tl.pipelined
// CHECK: %[[STAGE:.*]] = arith.remui
// CHECK: tl.barrier_wait %[[EMPTY]][%[[STAGE]]], %{{.*}} {tl.producer}
// CHECK: tl.copy %{{.*}} barrier(%[[FULL]][%[[STAGE]]]) {tma = 0 : i64}
// CHECK: tl.copy %{{.*}} barrier(%[[FULL]][%[[STAGE]]]) {tma = 1 : i64}
// CHECK: tl.elect {tl.producer, warp}
// CHECK: tl.copy %{{.*}}[128, 4] to %{{.*}}[] [128, 4] barrier(%[[FULL]][%[[STAGE]]]) {tl.async_proxy}
// CHECK: tl.copy %{{.*}}[128, 4] to %{{.*}}[] [128, 4] barrier(%[[FULL]][%[[STAGE]]]) {tl.async_proxy}
// CHECK: %[[ONE:.*]] = tl.elect
// CHECK-NEXT: scf.if %[[ONE]] {
// CHECK-NEXT: tl.barrier_wait %[[FULL]][%[[STAGE]]]
// CHECK: tl.gemm
// CHECK-NEXT: tl.mma_commit %[[EMPTY]][%[[STAGE]]] : !tl.barrier<2>
// CHECK-NOT: tl.barrier_arrive
func.func @mx(%A: memref<?x?xf8E4M3FN, #tl.scope<global>>, %SA: memref<?x?xf8E8M0FNU, #tl.scope<global>>,
              %B: memref<?x?xf8E4M3FN, #tl.scope<global>>, %SB: memref<?x?xf8E8M0FNU, #tl.scope<global>>,
              %n: index) attributes {tl.kernel, tl.arg_dims = [["M", "K"], ["M", "K4"], ["N", "K"], ["N", "K4"], []]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c128 = arith.constant 128 : index
  tl.launch grid(%n) threads(128) blocks(%b) {
    %a = tl.alloc_shared : memref<128x128xf8E4M3FN, #tl.scope<shared>>
    %bs = tl.alloc_shared : memref<128x128xf8E4M3FN, #tl.scope<shared>>
    %sa = tl.alloc_shared : memref<128x4xf8E8M0FNU, #tl.scope<shared>>
    %sb = tl.alloc_shared : memref<128x4xf8E8M0FNU, #tl.scope<shared>>
    %acc = tl.alloc_tmem : memref<128x128xf32, #tl.scope<tmem>>
    tl.pipelined %k = %c0 to %n step %c1 stages(2) {
      %kk = arith.muli %k, %c128 : index
      %ks = arith.muli %k, %c4 : index
      tl.copy %A[%c0, %kk] [128, 128] to %a[] [128, 128] : memref<?x?xf8E4M3FN, #tl.scope<global>> to memref<128x128xf8E4M3FN, #tl.scope<shared>>
      tl.copy %B[%c0, %kk] [128, 128] to %bs[] [128, 128] : memref<?x?xf8E4M3FN, #tl.scope<global>> to memref<128x128xf8E4M3FN, #tl.scope<shared>>
      tl.copy %SA[%c0, %ks] [128, 4] to %sa[] [128, 4] : memref<?x?xf8E8M0FNU, #tl.scope<global>> to memref<128x4xf8E8M0FNU, #tl.scope<shared>>
      tl.copy %SB[%c0, %ks] [128, 4] to %sb[] [128, 4] : memref<?x?xf8E8M0FNU, #tl.scope<global>> to memref<128x4xf8E8M0FNU, #tl.scope<shared>>
      tl.gemm %a, %bs, %acc scale_a(%sa) scale_b(%sb) scale_block(32) {transpose_b} : memref<128x128xf8E4M3FN, #tl.scope<shared>>, memref<128x128xf8E4M3FN, #tl.scope<shared>>, memref<128x128xf32, #tl.scope<tmem>>, memref<128x4xf8E8M0FNU, #tl.scope<shared>>, memref<128x4xf8E8M0FNU, #tl.scope<shared>>
    }
  }
  return
}

// -----

// K_s is read by the MMA and by a loop of the consumers: released by the
// commit and by the 4 consumer warps, waited for by everyone.
// CHECK-LABEL: func.func @mixed
// CHECK: %[[FULL:.*]] = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
// CHECK: %[[EMPTY:.*]] = tl.alloc_barrier arrive_count(5) : !tl.barrier<2>
// CHECK: tl.barrier_wait %[[FULL]]
// CHECK-NEXT: tl.gemm
// CHECK-NEXT: tl.mma_commit %[[EMPTY]]
// CHECK: tl.parallel
// CHECK: tl.barrier_arrive %[[EMPTY]][%{{.*}}] {per_warp}
func.func @mixed(%Q: memref<?x?xbf16, #tl.scope<global>>, %K: memref<?x?xbf16, #tl.scope<global>>,
                 %O: memref<?x?xf32, #tl.scope<global>>, %n: index)
    attributes {tl.kernel, tl.arg_dims = [["M", "D"], ["N", "D"], ["M", "D"], []]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%b) {
    %q = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %k = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %s = tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    %ksum = tl.alloc_fragment : memref<128x64xf32, #tl.scope<fragment>>
    tl.pipelined %i = %c0 to %n step %c1 stages(2) {
      %r = arith.muli %i, %c64 : index
      tl.copy %K[%r, %c0] [128, 64] to %k[] [128, 64] : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #tl.scope<shared>>
      tl.gemm %q, %k, %s {transpose_b, clear_accum} : memref<128x64xbf16, #tl.scope<shared>>, memref<128x64xbf16, #tl.scope<shared>>, memref<128x128xf32, #tl.scope<fragment>>
      tl.parallel (%x, %y) in [128, 64] {
        %v = memref.load %k[%x, %y] : memref<128x64xbf16, #tl.scope<shared>>
        %w = arith.extf %v : bf16 to f32
        memref.store %w, %ksum[%x, %y] : memref<128x64xf32, #tl.scope<fragment>>
      }
    }
  }
  return
}
