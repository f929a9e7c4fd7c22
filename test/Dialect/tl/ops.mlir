// Round trip of every tl op through the custom syntax (twice, so printing is
// re-parseable) and through the generic form.
// RUN: tl-opt %s | tl-opt | FileCheck %s
// RUN: tl-opt %s --mlir-print-op-generic | tl-opt | FileCheck %s

// CHECK-LABEL: func.func @gemm_bf16
// CHECK-SAME: tl.arg_dims = {{\[}}["M", "K"], ["N", "K"], ["M", "N"]]
// CHECK-SAME: tl.kernel
// CHECK-SAME: tl.params = {BK = 64 : i64, BM = 128 : i64}
func.func @gemm_bf16(%A: memref<?x?xbf16, #tl.scope<global>>,
                     %B: memref<?x?xbf16, #tl.scope<global>>,
                     %C: memref<?x?xbf16, #tl.scope<global>>)
    attributes {tl.kernel, tl.arg_dims = [["M", "K"], ["N", "K"], ["M", "N"]],
                tl.params = {BM = 128 : i64, BK = 64 : i64}} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  // CHECK: tl.launch grid(%{{.*}}, %{{.*}}) threads(256) blocks(%[[BX:.*]], %[[BY:.*]]) {
  tl.launch grid(%c8, %c4) threads(256) blocks(%bx, %by) {
    // CHECK: tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %As = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %Bs = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    // CHECK: tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    %acc = tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    %zero = arith.constant 0.0 : f32
    // CHECK: tl.fill %{{.*}}, %{{.*}} : memref<128x128xf32, #tl.scope<fragment>>
    tl.fill %acc, %zero : memref<128x128xf32, #tl.scope<fragment>>
    // CHECK: tl.pipelined %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} stages(3) {
    tl.pipelined %k = %c0 to %c8 step %c1 stages(3) {
      // CHECK: tl.copy %{{.*}}[%[[BY]], %[[K]]] [128, 64] to %{{.*}}[] [128, 64] : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #tl.scope<shared>>
      tl.copy %A[%by, %k] [128, 64] to %As[] [128, 64]
          : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #tl.scope<shared>>
      tl.copy %B[%bx, %k] [128, 64] to %Bs[] [128, 64]
          : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #tl.scope<shared>>
      // CHECK: tl.gemm %{{.*}}, %{{.*}}, %{{.*}} {transpose_b} : memref<128x64xbf16, #tl.scope<shared>>, memref<128x64xbf16, #tl.scope<shared>>, memref<128x128xf32, #tl.scope<fragment>>
      tl.gemm %As, %Bs, %acc {transpose_b}
          : memref<128x64xbf16, #tl.scope<shared>>, memref<128x64xbf16, #tl.scope<shared>>,
            memref<128x128xf32, #tl.scope<fragment>>
    }
    // CHECK: tl.copy %{{.*}}[] [128, 128] to %{{.*}}[%[[BY]], %[[BX]]] [128, 128] : memref<128x128xf32, #tl.scope<fragment>> to memref<?x?xbf16, #tl.scope<global>>
    tl.copy %acc[] [128, 128] to %C[%by, %bx] [128, 128]
        : memref<128x128xf32, #tl.scope<fragment>> to memref<?x?xbf16, #tl.scope<global>>
  }
  return
}

// CHECK-LABEL: func.func @launch_forms
func.func @launch_forms(%n: index) {
  // CHECK: tl.launch grid(%{{.*}}) threads(128) blocks(%{{.*}}) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    tl.yield
  }
  // CHECK: tl.launch grid(%{{.*}}, %{{.*}}, %{{.*}}) threads(1024) cluster(2, 1, 1) blocks(%{{.*}}, %{{.*}}, %{{.*}}) attributes {tag} {
  tl.launch grid(%n, %n, %n) threads(1024) cluster(2, 1, 1) blocks(%x, %y, %z) attributes {tag} {
  }
  return
}

// CHECK-LABEL: func.func @ids_and_sync
func.func @ids_and_sync(%n: index) {
  tl.launch grid(%n) threads(256) blocks(%b) {
    // CHECK: tl.thread_id 0
    %t = tl.thread_id 0
    // CHECK: tl.block_id 2
    %bz = tl.block_id 2
    // CHECK: tl.sync_threads
    tl.sync_threads
  }
  return
}

// CHECK-LABEL: func.func @allocs
func.func @allocs(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    // CHECK: tl.alloc_local : memref<1xf32, #tl.scope<local>>
    %l = tl.alloc_local : memref<1xf32, #tl.scope<local>>
    // CHECK: tl.alloc_tmem : memref<128x256xf32, #tl.scope<tmem>>
    %t = tl.alloc_tmem : memref<128x256xf32, #tl.scope<tmem>>
    // CHECK: tl.alloc_tmem : memref<128x1024xbf16, #tl.scope<tmem>>
    %t16 = tl.alloc_tmem : memref<128x1024xbf16, #tl.scope<tmem>>
    // CHECK: tl.alloc_shared : memref<64x128xf4E2M1FN, #tl.scope<shared>>
    %f4 = tl.alloc_shared : memref<64x128xf4E2M1FN, #tl.scope<shared>>
    // CHECK: tl.alloc_shared : memref<64xf8E8M0FNU, #tl.scope<shared>>
    %sc = tl.alloc_shared : memref<64xf8E8M0FNU, #tl.scope<shared>>
    // CHECK: tl.alloc_fragment : memref<4xi1, #tl.scope<fragment>>
    %m = tl.alloc_fragment : memref<4xi1, #tl.scope<fragment>>
  }
  return
}

// CHECK-LABEL: func.func @barriers
func.func @barriers(%A: memref<?x?xf8E4M3FN, #tl.scope<global>>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %bytes = arith.constant 16384 : index
  tl.launch grid(%n) threads(256) blocks(%b) {
    // CHECK: %[[BAR:.*]] = tl.alloc_barrier arrive_count(128) : !tl.barrier<2>
    %bar = tl.alloc_barrier arrive_count(128) : !tl.barrier<2>
    %As = tl.alloc_shared : memref<128x128xf8E4M3FN, #tl.scope<shared>>
    // CHECK: tl.barrier_expect_tx %[[BAR]][%{{.*}}], %{{.*}} : !tl.barrier<2>
    tl.barrier_expect_tx %bar[%c0], %bytes : !tl.barrier<2>
    // CHECK: tl.copy %{{.*}}[%{{.*}}, %{{.*}}] [128, 128] to %{{.*}}[] [128, 128] barrier(%[[BAR]][%{{.*}}]) : memref<?x?xf8E4M3FN, #tl.scope<global>> to memref<128x128xf8E4M3FN, #tl.scope<shared>>, !tl.barrier<2>
    tl.copy %A[%b, %c0] [128, 128] to %As[] [128, 128] barrier(%bar[%c0])
        : memref<?x?xf8E4M3FN, #tl.scope<global>> to memref<128x128xf8E4M3FN, #tl.scope<shared>>, !tl.barrier<2>
    // CHECK: tl.barrier_arrive %[[BAR]][%{{.*}}] : !tl.barrier<2>
    tl.barrier_arrive %bar[%c1] : !tl.barrier<2>
    // CHECK: tl.barrier_wait %[[BAR]][%{{.*}}], %{{.*}} : !tl.barrier<2>
    tl.barrier_wait %bar[%c0], %c1 : !tl.barrier<2>
  }
  return
}

// CHECK-LABEL: func.func @copy_forms
func.func @copy_forms(%X: memref<?x?x?xf32, #tl.scope<global>>, %n: index) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  tl.launch grid(%n) threads(128) blocks(%b) {
    %row = tl.alloc_shared : memref<64xbf16, #tl.scope<shared>>
    %s = tl.alloc_shared : memref<4x64xbf16, #tl.scope<shared>>
    // Rank-reducing global read with dtype conversion.
    // CHECK: tl.copy %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] [1, 1, 64] to %{{.*}}[] [64]
    tl.copy %X[%b, %c2, %c0] [1, 1, 64] to %row[] [64]
        : memref<?x?x?xf32, #tl.scope<global>> to memref<64xbf16, #tl.scope<shared>>
    // Shared to shared, one row of a tile.
    // CHECK: tl.copy %{{.*}}[] [64] to %{{.*}}[%{{.*}}, %{{.*}}] [1, 64]
    tl.copy %row[] [64] to %s[%c2, %c0] [1, 64]
        : memref<64xbf16, #tl.scope<shared>> to memref<4x64xbf16, #tl.scope<shared>>
  }
  return
}

// CHECK-LABEL: func.func @gemm_forms
func.func @gemm_forms(%n: index) {
  tl.launch grid(%n) threads(256) blocks(%b) {
    %a = tl.alloc_shared : memref<128x64xf8E4M3FN, #tl.scope<shared>>
    %at = tl.alloc_shared : memref<64x128xf8E5M2, #tl.scope<shared>>
    %bk = tl.alloc_shared : memref<64x256xf8E4M3FN, #tl.scope<shared>>
    %b4 = tl.alloc_shared : memref<256x64xf4E2M1FN, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<128x256xf32, #tl.scope<fragment>>
    %c16 = tl.alloc_fragment : memref<128x256xf16, #tl.scope<fragment>>
    %ct = tl.alloc_tmem : memref<128x256xf32, #tl.scope<tmem>>
    %sa = tl.alloc_shared : memref<128x2xf8E8M0FNU, #tl.scope<shared>>
    %sb = tl.alloc_shared : memref<256x2xf8E8M0FNU, #tl.scope<shared>>
    %sbf = tl.alloc_shared : memref<256x1xf32, #tl.scope<shared>>
    %saf = tl.alloc_shared : memref<128x1xf32, #tl.scope<shared>>
    // CHECK: tl.gemm %{{.*}}, %{{.*}}, %{{.*}} policy = full_row {clear_accum}
    tl.gemm %a, %bk, %c policy = full_row {clear_accum}
        : memref<128x64xf8E4M3FN, #tl.scope<shared>>, memref<64x256xf8E4M3FN, #tl.scope<shared>>,
          memref<128x256xf32, #tl.scope<fragment>>
    // Mixed e5m2 x e4m3, A transposed, f16 accumulator.
    // CHECK: tl.gemm %{{.*}}, %{{.*}}, %{{.*}} policy = full_col {transpose_a}
    tl.gemm %at, %bk, %c16 policy = full_col {transpose_a}
        : memref<64x128xf8E5M2, #tl.scope<shared>>, memref<64x256xf8E4M3FN, #tl.scope<shared>>,
          memref<128x256xf16, #tl.scope<fragment>>
    // Block-scaled fp8 x fp4 into tmem, 32-element scale blocks.
    // CHECK: tl.gemm %{{.*}}, %{{.*}}, %{{.*}} scale_a(%{{.*}}) scale_b(%{{.*}}) scale_block(32) {transpose_b} : memref<128x64xf8E4M3FN, #tl.scope<shared>>, memref<256x64xf4E2M1FN, #tl.scope<shared>>, memref<128x256xf32, #tl.scope<tmem>>, memref<128x2xf8E8M0FNU, #tl.scope<shared>>, memref<256x2xf8E8M0FNU, #tl.scope<shared>>
    tl.gemm %a, %b4, %ct scale_a(%sa) scale_b(%sb) scale_block(32) {transpose_b}
        : memref<128x64xf8E4M3FN, #tl.scope<shared>>, memref<256x64xf4E2M1FN, #tl.scope<shared>>,
          memref<128x256xf32, #tl.scope<tmem>>, memref<128x2xf8E8M0FNU, #tl.scope<shared>>,
          memref<256x2xf8E8M0FNU, #tl.scope<shared>>
    // f32 scales, one block of 128 covering K = 64 (ceil).
    // CHECK: scale_block(128)
    tl.gemm %a, %b4, %c scale_a(%saf) scale_b(%sbf) scale_block(128) {transpose_b}
        : memref<128x64xf8E4M3FN, #tl.scope<shared>>, memref<256x64xf4E2M1FN, #tl.scope<shared>>,
          memref<128x256xf32, #tl.scope<fragment>>, memref<128x1xf32, #tl.scope<shared>>,
          memref<256x1xf32, #tl.scope<shared>>
  }
  return
}

// CHECK-LABEL: func.func @reduce_topk
func.func @reduce_topk(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %s = tl.alloc_fragment : memref<64x128xf32, #tl.scope<fragment>>
    %r = tl.alloc_fragment : memref<64xf32, #tl.scope<fragment>>
    %c = tl.alloc_fragment : memref<128xbf16, #tl.scope<fragment>>
    %v = tl.alloc_shared : memref<128xf32, #tl.scope<shared>>
    %one = tl.alloc_local : memref<1xf32, #tl.scope<local>>
    // CHECK: tl.reduce max %{{.*}}, %{{.*}} dim(1) {clear}
    tl.reduce max %s, %r dim(1) {clear}
        : memref<64x128xf32, #tl.scope<fragment>>, memref<64xf32, #tl.scope<fragment>>
    // CHECK: tl.reduce abssum %{{.*}}, %{{.*}} dim(0) :
    tl.reduce abssum %s, %c dim(0)
        : memref<64x128xf32, #tl.scope<fragment>>, memref<128xbf16, #tl.scope<fragment>>
    // CHECK: tl.reduce sum
    tl.reduce sum %v, %one dim(0) {clear}
        : memref<128xf32, #tl.scope<shared>>, memref<1xf32, #tl.scope<local>>
    // CHECK: tl.reduce min
    tl.reduce min %s, %r dim(1) : memref<64x128xf32, #tl.scope<fragment>>, memref<64xf32, #tl.scope<fragment>>
    // CHECK: tl.reduce absmax
    tl.reduce absmax %s, %r dim(1) : memref<64x128xf32, #tl.scope<fragment>>, memref<64xf32, #tl.scope<fragment>>
    %vals = tl.alloc_fragment : memref<64x8xf32, #tl.scope<fragment>>
    %idx = tl.alloc_fragment : memref<64x8xi32, #tl.scope<fragment>>
    // CHECK: tl.topk %{{.*}}, %{{.*}}, %{{.*}} k(8) dim(1) : memref<64x128xf32, #tl.scope<fragment>>, memref<64x8xf32, #tl.scope<fragment>>, memref<64x8xi32, #tl.scope<fragment>>
    tl.topk %s, %vals, %idx k(8) dim(1)
        : memref<64x128xf32, #tl.scope<fragment>>, memref<64x8xf32, #tl.scope<fragment>>,
          memref<64x8xi32, #tl.scope<fragment>>
  }
  return
}

// CHECK-LABEL: func.func @parallel_and_scalars
func.func @parallel_and_scalars(%O: memref<?x?xf32, #tl.scope<global>>, %n: index) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  tl.launch grid(%n) threads(128) blocks(%b) {
    %x = tl.alloc_fragment : memref<128x64xf32, #tl.scope<fragment>>
    %q = tl.alloc_fragment : memref<128x64xf8E4M3FN, #tl.scope<fragment>>
    // CHECK: tl.parallel (%[[I:.*]], %[[J:.*]]) in [128, 64] {
    tl.parallel (%i, %j) in [128, 64] {
      // CHECK: memref.load %{{.*}}[%[[I]], %[[J]]]
      %v = memref.load %x[%i, %j] : memref<128x64xf32, #tl.scope<fragment>>
      // CHECK: tl.cast %{{.*}} : f32 to f8E4M3FN
      %c = tl.cast %v : f32 to f8E4M3FN
      memref.store %c, %q[%i, %j] : memref<128x64xf8E4M3FN, #tl.scope<fragment>>
      // CHECK: tl.cast %{{.*}} : f32 to f8E8M0FNU
      %e = tl.cast %v : f32 to f8E8M0FNU
    }
    // CHECK: tl.parallel (%{{.*}}) in [32] attributes {note} {
    tl.parallel (%i) in [32] attributes {note} {
      tl.yield
    }
    // CHECK: scf.for {{.*}} {
    // CHECK:   tl.cast %{{.*}} : vector<4xf32> to vector<4xbf16>
    // CHECK: } {tl.unroll}
    scf.for %k = %c0 to %c4 step %c1 {
      %w = arith.constant dense<1.0> : vector<4xf32>
      %h = tl.cast %w : vector<4xf32> to vector<4xbf16>
    } {tl.unroll}
    %f = arith.constant 1.0 : f32
    %v2 = arith.constant dense<1.0> : vector<2xf32>
    // CHECK: tl.atomic_add %{{.*}}[%{{.*}}, %{{.*}}], %{{.*}} : memref<?x?xf32, #tl.scope<global>>, f32
    tl.atomic_add %O[%b, %c0], %f : memref<?x?xf32, #tl.scope<global>>, f32
    // CHECK: %{{.*}} = tl.atomic_add %{{.*}}[%{{.*}}, %{{.*}}], %{{.*}} {return_prev} : memref<?x?xf32, #tl.scope<global>>, vector<2xf32> -> vector<2xf32>
    %old = tl.atomic_add %O[%b, %c0], %v2 {return_prev}
        : memref<?x?xf32, #tl.scope<global>>, vector<2xf32> -> vector<2xf32>
    // CHECK: tl.print "row max"
    tl.print "row max"
    // CHECK: tl.print "value" %{{.*}} : f32
    tl.print "value" %f : f32
    // CHECK: tl.print "tile" %{{.*}} : memref<128x64xf32, #tl.scope<fragment>>
    tl.print "tile" %x : memref<128x64xf32, #tl.scope<fragment>>
  }
  return
}

// CHECK-LABEL: func.func @scalar_kernel
// CHECK-SAME: tl.arg_dims = {{\[}}[64, "N"], unit, []]
func.func @scalar_kernel(%X: memref<64x?xf32, #tl.scope<global>>, %eps: f32, %n: i32)
    attributes {tl.kernel, tl.arg_dims = [[64, "N"], unit, []], tl.params = {}} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// Views: a ring's stage and a chunk of a swizzled tile carry the restricted
// layout; a K-slice inside a swizzle atom has none (it is addressed through
// its source); a kept unit dimension; reshapes.
#tile = #tl.layout<[64, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (0, 64)]>
#half = #tl.layout<[64, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0)]>
#ring = #tl.layout<[2, 64, 64], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (1, 0, 0)]>
// CHECK-LABEL: func.func @views
func.func @views() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%c1) threads(128) blocks(%b) {
    %t = tl.alloc_shared : memref<64x128xbf16, #tl.scope<shared, #tile>>
    %r = tl.alloc_shared : memref<2x64x64xbf16, #tl.scope<shared, #ring>>
    %f = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    // CHECK: tl.view %{{.*}}[%{{.*}}, %{{.*}}] [64, 64] : memref<64x128xbf16, #{{smem[0-9]*}}> to memref<64x64xbf16, #{{smem[0-9]*}}>
    %h = tl.view %t[%c0, %c64] [64, 64]
        : memref<64x128xbf16, #tl.scope<shared, #tile>> to memref<64x64xbf16, #tl.scope<shared, #half>>
    // CHECK: tl.view %{{.*}}[%{{.*}}, %{{.*}}] [64, 32] : memref<64x128xbf16, #{{smem[0-9]*}}> to memref<64x32xbf16, #tl.scope<shared>>
    %k = tl.view %t[%c0, %c32] [64, 32]
        : memref<64x128xbf16, #tl.scope<shared, #tile>> to memref<64x32xbf16, #tl.scope<shared>>
    // CHECK: tl.view %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] [1, 64, 64] : memref<2x64x64xbf16, #{{smem[0-9]*}}> to memref<64x64xbf16, #{{smem[0-9]*}}>
    %s = tl.view %r[%b, %c0, %c0] [1, 64, 64]
        : memref<2x64x64xbf16, #tl.scope<shared, #ring>> to memref<64x64xbf16, #tl.scope<shared, #half>>
    // CHECK: tl.view %{{.*}}[%{{.*}}, %{{.*}}] [1, 64] : memref<64x64xf32, #tl.scope<fragment>> to memref<1x64xf32, #tl.scope<fragment>>
    %row = tl.view %f[%c1, %c0] [1, 64] : memref<64x64xf32, #tl.scope<fragment>> to memref<1x64xf32, #tl.scope<fragment>>
    // CHECK: tl.reshape %{{.*}} : memref<64x64xf32, #tl.scope<fragment>> to memref<4096xf32, #tl.scope<fragment>>
    %flat = tl.reshape %f : memref<64x64xf32, #tl.scope<fragment>> to memref<4096xf32, #tl.scope<fragment>>
    %u = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    // CHECK: tl.reshape %{{.*}} : memref<64x64xbf16, #tl.scope<shared>> to memref<64x32xf32, #tl.scope<shared>>
    %w = tl.reshape %u : memref<64x64xbf16, #tl.scope<shared>> to memref<64x32xf32, #tl.scope<shared>>
  }
  return
}
