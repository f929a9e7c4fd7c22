// tl-warp-specialize: the tl.producer ops of tl-pipeline move to a producer
// warpgroup of their own (roles, register budgets, the launch's threads), in
// loops over the same iterations with their own counter updates and the
// offsets and bounds they need recomputed; launches the pass cannot split
// are left as they are.
// RUN: tl-opt %s --split-input-file --tl-warp-specialize | FileCheck %s
// RUN: tl-opt %s --split-input-file --tl-warp-specialize=producer-regs=80 | FileCheck %s --check-prefix=REGS80

// The GEMM of test/Dialect/tl/pipeline.mlir: 256 consumers keep the body
// without the producer ops; a producer warpgroup (threads 256..383) gets 40
// registers per thread and gives the consumers 232 ((65536 - 128 * 40) / 256,
// capped at 232); with producer-regs=80 (sm_100a's setting) they get 216.
// Buffers, barriers and the counter stay outside the roles. What a producer
// op computes inside itself (the transaction bytes in its scf.if) is not
// recomputed in front of it.
// CHECK-LABEL: func.func @gemm
// CHECK: tl.launch grid(%{{.*}}, %{{.*}}) threads(384) blocks(%[[BX:.*]], %[[BY:.*]]) {
// CHECK-NEXT: %[[A:.*]] = tl.alloc_shared
// CHECK-NEXT: %[[B:.*]] = tl.alloc_shared
// CHECK-NEXT: %[[FULL:.*]] = tl.alloc_barrier arrive_count(1)
// CHECK-NEXT: %[[EMPTY:.*]] = tl.alloc_barrier arrive_count(8)
// CHECK-NEXT: %[[CNT:.*]] = tl.alloc_local {init = 0 : i32}
// CHECK-NEXT: %[[ACC:.*]] = tl.alloc_fragment
// CHECK-NEXT: tl.warp_specialize roles [256, 128] regs [232, 40] {
// CHECK-NOT: tl.producer
// CHECK-NOT: tl.elect
// CHECK-NOT: tl.barrier_expect_tx
// CHECK: tl.pipelined %{{.*}} = %{{.*}} to %arg5 step
// CHECK: memref.load %[[CNT]][%{{.*}}] {tl.pipeline_state}
// CHECK: tl.barrier_wait %[[FULL]]
// CHECK-NEXT: tl.gemm
// CHECK-NEXT: tl.barrier_arrive %[[EMPTY]]
// CHECK: memref.store %{{.*}}, %[[CNT]][%{{.*}}] {tl.pipeline_state}
// CHECK-NOT: tl.copy
// CHECK: tl.yield
// CHECK-NEXT: }, {
// CHECK-NOT: tl.producer
// CHECK-NOT: tl.pipeline_state
// CHECK-NOT: tl.gemm
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %arg5 step
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[N:.*]] = memref.load %[[CNT]][%[[Z]]] : memref<1xi32
// CHECK-NEXT: %[[IT:.*]] = arith.index_cast %[[N]]
// CHECK-NEXT: arith.constant 3
// CHECK-NEXT: %[[S:.*]] = arith.remui %[[IT]]
// CHECK: %[[P:.*]] = arith.andi
// CHECK: %[[PE:.*]] = arith.xori %[[P]]
// CHECK-NEXT: tl.barrier_wait %[[EMPTY]][%[[S]]], %[[PE]] : !tl.barrier<3>
// CHECK-NEXT: %[[ONE:.*]] = tl.elect{{$}}
// CHECK-NOT: arith.constant 32768
// CHECK-DAG: %[[M:.*]] = arith.muli %[[BY]], %{{.*}} : index
// CHECK-DAG: %[[KK:.*]] = arith.muli %[[K]], %{{.*}} : index
// CHECK-DAG: %[[VA:.*]] = tl.view %[[A]][%[[S]], %{{.*}}, %{{.*}}]
// CHECK-DAG: %[[NN:.*]] = arith.muli %[[BX]], %{{.*}} : index
// CHECK-DAG: %[[VB:.*]] = tl.view %[[B]][%[[S]], %{{.*}}, %{{.*}}]
// CHECK: scf.if %[[ONE]] {
// CHECK-NEXT: %[[TX:.*]] = arith.constant 32768 : index
// CHECK-NEXT: tl.barrier_expect_tx %[[FULL]][%[[S]]], %[[TX]] {arrive}
// CHECK-NEXT: tl.copy %arg0[%[[M]], %[[KK]]] [128, 64] to %[[VA]][] [128, 64] barrier(%[[FULL]][%[[S]]]) {tma = 0 : i64}
// CHECK-NEXT: tl.copy %arg1[%[[NN]], %[[KK]]] [128, 64] to %[[VB]][] [128, 64] barrier(%[[FULL]][%[[S]]]) {tma = 1 : i64}
// CHECK-NEXT: }
// CHECK-NEXT: %[[ONEI:.*]] = arith.constant 1 : i32
// CHECK-NEXT: %[[NEXT:.*]] = arith.addi %[[N]], %[[ONEI]] : i32
// CHECK-NEXT: %[[Z2:.*]] = arith.constant 0 : index
// CHECK-NEXT: memref.store %[[NEXT]], %[[CNT]][%[[Z2]]] : memref<1xi32
// CHECK-NEXT: }
// CHECK-NEXT: tl.yield
// REGS80-LABEL: func.func @gemm
// REGS80: tl.warp_specialize roles [256, 128] regs [208, 80]
#layout = #tl.layout<[4, 128, 64], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (0, 64, 0), (1, 0, 0), (2, 0, 0)]>
#layout1 = #tl.layout<[1], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0), (0)]>
#layout2 = #tl.layout<[128, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
#layout3 = #tl.layout<[128, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0)]>
#frag = #tl.scope<fragment, #layout2>
#local = #tl.scope<local, #layout1>
#smem = #tl.scope<shared, #layout>
#smem1 = #tl.scope<shared, #layout3>
func.func @gemm(%arg0: memref<?x?xbf16, #tl.scope<global>>, %arg1: memref<?x?xbf16, #tl.scope<global>>, %arg2: memref<?x?xbf16, #tl.scope<global>>, %arg3: index, %arg4: index, %arg5: index) attributes {tl.tma_maps = [{box = array<i64: 128, 64>, dtype = "bfloat16", param = 0 : i64, swizzle = "128B"}, {box = array<i64: 128, 64>, dtype = "bfloat16", param = 1 : i64, swizzle = "128B"}]} {
  tl.launch grid(%arg3, %arg4) threads(256) blocks(%arg6, %arg7) {
    %0 = tl.alloc_shared : memref<3x128x64xbf16, #smem>
    %1 = tl.alloc_shared : memref<3x128x64xbf16, #smem>
    %2 = tl.alloc_barrier arrive_count(1) : !tl.barrier<3>
    %3 = tl.alloc_barrier arrive_count(8) : !tl.barrier<3>
    %4 = tl.alloc_local {init = 0 : i32} : memref<1xi32, #local>
    %5 = tl.alloc_fragment : memref<128x128xf32, #frag>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %c128 = arith.constant 128 : index
    tl.pipelined %arg8 = %c0 to %arg5 step %c1 stages(3) {
      %c0_0 = arith.constant 0 : index
      %6 = memref.load %4[%c0_0] {tl.pipeline_state} : memref<1xi32, #local>
      %7 = arith.index_cast %6 : i32 to index
      %c3 = arith.constant 3 : index
      %8 = arith.remui %7, %c3 : index
      %c1_1 = arith.constant 1 : index
      %c3_2 = arith.constant 3 : index
      %9 = arith.divui %7, %c3_2 : index
      %10 = arith.andi %9, %c1_1 : index
      %c1_3 = arith.constant 1 : index
      %11 = arith.xori %10, %c1_3 : index
      %c0_4 = arith.constant 0 : index
      %c0_5 = arith.constant 0 : index
      %12 = tl.view %1[%8, %c0_4, %c0_5] [1, 128, 64] : memref<3x128x64xbf16, #smem> to memref<128x64xbf16, #smem1>
      %c0_6 = arith.constant 0 : index
      %c0_7 = arith.constant 0 : index
      %13 = tl.view %0[%8, %c0_6, %c0_7] [1, 128, 64] : memref<3x128x64xbf16, #smem> to memref<128x64xbf16, #smem1>
      %14 = arith.muli %arg7, %c128 : index
      %15 = arith.muli %arg8, %c64 : index
      %16 = arith.muli %arg6, %c128 : index
      tl.barrier_wait %3[%8], %11 {tl.producer} : !tl.barrier<3>
      %17 = tl.elect {tl.producer}
      scf.if %17 {
        %c32768 = arith.constant 32768 : index
        tl.barrier_expect_tx %2[%8], %c32768 {arrive} : !tl.barrier<3>
        tl.copy %arg0[%14, %15] [128, 64] to %13[] [128, 64] barrier(%2[%8]) {tma = 0 : i64} : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #smem1>, !tl.barrier<3>
        tl.copy %arg1[%16, %15] [128, 64] to %12[] [128, 64] barrier(%2[%8]) {tma = 1 : i64} : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #smem1>, !tl.barrier<3>
      } {tl.producer}
      tl.barrier_wait %2[%8], %10 : !tl.barrier<3>
      tl.gemm %13, %12, %5 {transpose_b} : memref<128x64xbf16, #smem1>, memref<128x64xbf16, #smem1>, memref<128x128xf32, #frag>
      tl.barrier_arrive %3[%8] {per_warp} : !tl.barrier<3>
      %c1_i32 = arith.constant 1 : i32
      %18 = arith.addi %6, %c1_i32 {tl.pipeline_state} : i32
      %c0_8 = arith.constant 0 : index
      memref.store %18, %4[%c0_8] {tl.pipeline_state} : memref<1xi32, #local>
    }
  }
  return
}

// -----

// Attention-like: the key loop's upper bound comes from lens_k[bz], a global
// int32 tensor: the producer reads it again and recomputes the bound; the
// Q copy before the loop and both gemms stay with the consumers; both
// streams' producer ops land in the producer's loop in order.
// CHECK-LABEL: func.func @attention
// CHECK: tl.launch {{.*}} threads(384) blocks(%{{.*}}, %{{.*}}, %[[BZ:.*]]) {
// CHECK: %[[KF:.*]] = tl.alloc_barrier arrive_count(1)
// CHECK-NEXT: %[[KE:.*]] = tl.alloc_barrier arrive_count(8)
// CHECK-NEXT: %[[VF:.*]] = tl.alloc_barrier arrive_count(1)
// CHECK-NEXT: %[[VE:.*]] = tl.alloc_barrier arrive_count(8)
// CHECK: tl.warp_specialize roles [256, 128] regs [232, 40] {
// CHECK: %[[LK:.*]] = memref.load %arg3[%[[BZ]]] : memref<?xi32, #tl.scope<global>>
// CHECK: tl.copy %arg0
// CHECK: tl.pipelined
// CHECK: tl.gemm
// CHECK: tl.gemm
// CHECK: tl.yield
// CHECK-NEXT: }, {
// CHECK-NOT: tl.copy %arg0
// CHECK: %[[LK2:.*]] = memref.load %arg3[%[[BZ]]] : memref<?xi32, #tl.scope<global>>
// CHECK-NEXT: %[[C128:.*]] = arith.constant 128 : i32
// CHECK-NEXT: %[[NB:.*]] = arith.ceildivsi %[[LK2]], %[[C128]] : i32
// CHECK-NEXT: %[[HI:.*]] = arith.index_cast %[[NB]] : i32 to index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[HI]] step
// CHECK: tl.barrier_wait %[[KE]]
// CHECK: tl.copy %arg1{{.*}} barrier(%[[KF]]
// CHECK: tl.barrier_wait %[[VE]]
// CHECK: tl.copy %arg2{{.*}} barrier(%[[VF]]
// CHECK-NOT: tl.gemm
// CHECK: tl.yield
#layout = #tl.layout<[128, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0), (0, 64)]>
#layout1 = #tl.layout<[2, 128, 128], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (0, 64, 0), (0, 0, 64), (1, 0, 0)]>
#layout2 = #tl.layout<[1], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0), (0)]>
#layout3 = #tl.layout<[128, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
#frag = #tl.scope<fragment, #layout3>
#local = #tl.scope<local, #layout2>
#smem = #tl.scope<shared, #layout>
#smem1 = #tl.scope<shared, #layout1>
func.func @attention(%arg0: memref<?x?x?x128xbf16, #tl.scope<global>>, %arg1: memref<?x?x?x128xbf16, #tl.scope<global>>, %arg2: memref<?x?x?x128xbf16, #tl.scope<global>>, %arg3: memref<?xi32, #tl.scope<global>>, %arg4: index, %arg5: index, %arg6: index) attributes {tl.tma_maps = [{box = array<i64: 1, 128, 1, 64>, dtype = "bfloat16", param = 1 : i64, swizzle = "128B"}, {box = array<i64: 1, 128, 1, 64>, dtype = "bfloat16", param = 2 : i64, swizzle = "128B"}]} {
  tl.launch grid(%arg4, %arg5, %arg6) threads(256) blocks(%arg7, %arg8, %arg9) {
    %0 = tl.alloc_shared : memref<128x128xbf16, #smem>
    %1 = tl.alloc_shared : memref<2x128x128xbf16, #smem1>
    %2 = tl.alloc_shared : memref<2x128x128xbf16, #smem1>
    %3 = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
    %4 = tl.alloc_barrier arrive_count(8) : !tl.barrier<2>
    %5 = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
    %6 = tl.alloc_barrier arrive_count(8) : !tl.barrier<2>
    %7 = tl.alloc_local {init = 0 : i32} : memref<1xi32, #local>
    %8 = tl.alloc_fragment : memref<128x128xf32, #frag>
    %9 = tl.alloc_fragment : memref<128x128xbf16, #frag>
    %10 = tl.alloc_fragment : memref<128x128xf32, #frag>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c128 = arith.constant 128 : index
    %11 = memref.load %arg3[%arg9] : memref<?xi32, #tl.scope<global>>
    %c128_i32 = arith.constant 128 : i32
    %12 = arith.ceildivsi %11, %c128_i32 : i32
    %13 = arith.index_cast %12 : i32 to index
    %14 = arith.muli %arg7, %c128 : index
    tl.copy %arg0[%arg9, %14, %arg8, %c0] [1, 128, 1, 128] to %0[] [128, 128] : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<128x128xbf16, #smem>
    tl.pipelined %arg10 = %c0 to %13 step %c1 stages(2) {
      %c0_0 = arith.constant 0 : index
      %15 = memref.load %7[%c0_0] {tl.pipeline_state} : memref<1xi32, #local>
      %16 = arith.index_cast %15 : i32 to index
      %c2 = arith.constant 2 : index
      %17 = arith.remui %16, %c2 : index
      %c1_1 = arith.constant 1 : index
      %c2_2 = arith.constant 2 : index
      %18 = arith.divui %16, %c2_2 : index
      %19 = arith.andi %18, %c1_1 : index
      %c1_3 = arith.constant 1 : index
      %20 = arith.xori %19, %c1_3 : index
      %c0_4 = arith.constant 0 : index
      %c0_5 = arith.constant 0 : index
      %21 = tl.view %2[%17, %c0_4, %c0_5] [1, 128, 128] : memref<2x128x128xbf16, #smem1> to memref<128x128xbf16, #smem>
      %c0_6 = arith.constant 0 : index
      %c0_7 = arith.constant 0 : index
      %22 = tl.view %1[%17, %c0_6, %c0_7] [1, 128, 128] : memref<2x128x128xbf16, #smem1> to memref<128x128xbf16, #smem>
      %23 = arith.muli %arg10, %c128 : index
      tl.barrier_wait %4[%17], %20 {tl.producer} : !tl.barrier<2>
      %24 = tl.elect {tl.producer}
      scf.if %24 {
        %c32768 = arith.constant 32768 : index
        tl.barrier_expect_tx %3[%17], %c32768 {arrive} : !tl.barrier<2>
        tl.copy %arg1[%arg9, %23, %arg8, %c0] [1, 128, 1, 128] to %22[] [128, 128] barrier(%3[%17]) {tma = 0 : i64} : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<128x128xbf16, #smem>, !tl.barrier<2>
      } {tl.producer}
      tl.barrier_wait %6[%17], %20 {tl.producer} : !tl.barrier<2>
      %25 = tl.elect {tl.producer}
      scf.if %25 {
        %c32768 = arith.constant 32768 : index
        tl.barrier_expect_tx %5[%17], %c32768 {arrive} : !tl.barrier<2>
        tl.copy %arg2[%arg9, %23, %arg8, %c0] [1, 128, 1, 128] to %21[] [128, 128] barrier(%5[%17]) {tma = 1 : i64} : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<128x128xbf16, #smem>, !tl.barrier<2>
      } {tl.producer}
      tl.barrier_wait %3[%17], %19 : !tl.barrier<2>
      tl.gemm %0, %22, %8 {clear_accum, transpose_b} : memref<128x128xbf16, #smem>, memref<128x128xbf16, #smem>, memref<128x128xf32, #frag>
      tl.barrier_arrive %4[%17] {per_warp} : !tl.barrier<2>
      tl.copy %8[] [128, 128] to %9[] [128, 128] : memref<128x128xf32, #frag> to memref<128x128xbf16, #frag>
      tl.barrier_wait %5[%17], %19 : !tl.barrier<2>
      tl.gemm %9, %21, %10 : memref<128x128xbf16, #frag>, memref<128x128xbf16, #smem>, memref<128x128xf32, #frag>
      tl.barrier_arrive %6[%17] {per_warp} : !tl.barrier<2>
      %c1_i32 = arith.constant 1 : i32
      %26 = arith.addi %15, %c1_i32 {tl.pipeline_state} : i32
      %c0_8 = arith.constant 0 : index
      memref.store %26, %7[%c0_8] {tl.pipeline_state} : memref<1xi32, #local>
    }
  }
  return
}

// -----

// Sparse gather: the row of each K tile comes from an index tile in shared
// memory, which only the consumers hold (a producer cannot recompute it
// without reading what the consumers' copy wrote): the launch is left as it
// is, producer ops and all.
// CHECK-LABEL: func.func @gather
// CHECK: tl.launch grid(%{{.*}}) threads(128)
// CHECK-NOT: tl.warp_specialize
// CHECK: memref.load %{{.*}} : memref<64xi32, #tl.scope<shared>>
// CHECK: tl.barrier_wait {{.*}} {tl.producer}
// CHECK-NEXT: tl.elect {tl.producer}
#layout = #tl.layout<[64, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (0, 64)]>
#layout1 = #tl.layout<[2, 64, 128], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (0, 0, 64), (1, 0, 0)]>
#layout2 = #tl.layout<[1], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0)]>
#layout3 = #tl.layout<[64, 64], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
#frag = #tl.scope<fragment, #layout3>
#local = #tl.scope<local, #layout2>
#smem = #tl.scope<shared, #layout>
#smem1 = #tl.scope<shared, #layout1>
func.func @gather(%arg0: memref<?x128xbf16, #tl.scope<global>>, %arg1: memref<?xi32, #tl.scope<global>>, %arg2: index, %arg3: index) attributes {tl.tma_maps = [{box = array<i64: 64, 64>, dtype = "bfloat16", param = 0 : i64, swizzle = "128B"}]} {
  tl.launch grid(%arg2) threads(128) blocks(%arg4) {
    %0 = tl.alloc_shared : memref<64xi32, #tl.scope<shared>>
    %1 = tl.alloc_shared : memref<64x128xbf16, #smem>
    %2 = tl.alloc_shared : memref<2x64x128xbf16, #smem1>
    %3 = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
    %4 = tl.alloc_barrier arrive_count(4) : !tl.barrier<2>
    %5 = tl.alloc_local {init = 0 : i32} : memref<1xi32, #local>
    %6 = tl.alloc_fragment : memref<64x64xf32, #frag>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %7 = arith.muli %arg4, %c64 : index
    tl.copy %arg1[%7] [64] to %0[] [64] : memref<?xi32, #tl.scope<global>> to memref<64xi32, #tl.scope<shared>>
    tl.pipelined %arg5 = %c0 to %arg3 step %c1 stages(2) {
      %c0_0 = arith.constant 0 : index
      %8 = memref.load %5[%c0_0] {tl.pipeline_state} : memref<1xi32, #local>
      %9 = arith.index_cast %8 : i32 to index
      %c2 = arith.constant 2 : index
      %10 = arith.remui %9, %c2 : index
      %c1_1 = arith.constant 1 : index
      %c2_2 = arith.constant 2 : index
      %11 = arith.divui %9, %c2_2 : index
      %12 = arith.andi %11, %c1_1 : index
      %c1_3 = arith.constant 1 : index
      %13 = arith.xori %12, %c1_3 : index
      %c0_4 = arith.constant 0 : index
      %c0_5 = arith.constant 0 : index
      %14 = tl.view %2[%10, %c0_4, %c0_5] [1, 64, 128] : memref<2x64x128xbf16, #smem1> to memref<64x128xbf16, #smem>
      %15 = memref.load %0[%arg5] : memref<64xi32, #tl.scope<shared>>
      %16 = arith.index_cast %15 : i32 to index
      %17 = arith.muli %16, %c64 : index
      tl.barrier_wait %4[%10], %13 {tl.producer} : !tl.barrier<2>
      %18 = tl.elect {tl.producer}
      scf.if %18 {
        %c16384 = arith.constant 16384 : index
        tl.barrier_expect_tx %3[%10], %c16384 {arrive} : !tl.barrier<2>
        tl.copy %arg0[%17, %c0] [64, 128] to %14[] [64, 128] barrier(%3[%10]) {tma = 0 : i64} : memref<?x128xbf16, #tl.scope<global>> to memref<64x128xbf16, #smem>, !tl.barrier<2>
      } {tl.producer}
      tl.barrier_wait %3[%10], %12 : !tl.barrier<2>
      tl.gemm %1, %14, %6 {clear_accum, transpose_b} : memref<64x128xbf16, #smem>, memref<64x128xbf16, #smem>, memref<64x64xf32, #frag>
      tl.barrier_arrive %4[%10] {per_warp} : !tl.barrier<2>
      %c1_i32 = arith.constant 1 : i32
      %19 = arith.addi %8, %c1_i32 {tl.pipeline_state} : i32
      %c0_6 = arith.constant 0 : index
      memref.store %19, %5[%c0_6] {tl.pipeline_state} : memref<1xi32, #local>
    }
  }
  return
}

// -----

// Four consumer warpgroups (512 threads): a 640-thread launch gives 96
// registers each; the producer's dec to 40 returns 56 x 128 registers, which
// lets the consumers grow to 104 (not more: setmaxnreg.inc can only take
// what a dec gave back). With an 80-register producer there is not enough to
// move, so only the producer sets a budget.
// CHECK-LABEL: func.func @wide
// CHECK: tl.launch grid(%{{.*}}) threads(640)
// CHECK: tl.warp_specialize roles [512, 128] regs [104, 40] {
// REGS80-LABEL: func.func @wide
// REGS80: tl.warp_specialize roles [512, 128] regs [0, 80] {
#layout4 = #tl.layout<[2, 256, 64], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (0, 64, 0), (0, 128, 0), (1, 0, 0)]>
#layout5 = #tl.layout<[2, 128, 64], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (0, 64, 0), (1, 0, 0)]>
#layout6 = #tl.layout<[1], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0), (0), (0)]>
#layout7 = #tl.layout<[256, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0), (128, 0)]>
#layout8 = #tl.layout<[256, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0), (128, 0)]>
#layout9 = #tl.layout<[128, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0)]>
#frag1 = #tl.scope<fragment, #layout7>
#local1 = #tl.scope<local, #layout6>
#smem2 = #tl.scope<shared, #layout4>
#smem3 = #tl.scope<shared, #layout5>
#smem4 = #tl.scope<shared, #layout8>
#smem5 = #tl.scope<shared, #layout9>
func.func @wide(%arg0: memref<?x?xbf16, #tl.scope<global>>, %arg1: memref<?x?xbf16, #tl.scope<global>>, %arg2: index, %arg3: index) attributes {tl.tma_maps = [{box = array<i64: 256, 64>, dtype = "bfloat16", param = 0 : i64, swizzle = "128B"}, {box = array<i64: 128, 64>, dtype = "bfloat16", param = 1 : i64, swizzle = "128B"}]} {
  tl.launch grid(%arg2) threads(512) blocks(%arg4) {
    %0 = tl.alloc_shared : memref<2x256x64xbf16, #smem2>
    %1 = tl.alloc_shared : memref<2x128x64xbf16, #smem3>
    %2 = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
    %3 = tl.alloc_barrier arrive_count(16) : !tl.barrier<2>
    %4 = tl.alloc_local {init = 0 : i32} : memref<1xi32, #local1>
    %5 = tl.alloc_fragment : memref<256x128xf32, #frag1>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %c256 = arith.constant 256 : index
    tl.pipelined %arg5 = %c0 to %arg3 step %c1 stages(2) {
      %c0_0 = arith.constant 0 : index
      %6 = memref.load %4[%c0_0] {tl.pipeline_state} : memref<1xi32, #local1>
      %7 = arith.index_cast %6 : i32 to index
      %c2 = arith.constant 2 : index
      %8 = arith.remui %7, %c2 : index
      %c1_1 = arith.constant 1 : index
      %c2_2 = arith.constant 2 : index
      %9 = arith.divui %7, %c2_2 : index
      %10 = arith.andi %9, %c1_1 : index
      %c1_3 = arith.constant 1 : index
      %11 = arith.xori %10, %c1_3 : index
      %c0_4 = arith.constant 0 : index
      %c0_5 = arith.constant 0 : index
      %12 = tl.view %0[%8, %c0_4, %c0_5] [1, 256, 64] : memref<2x256x64xbf16, #smem2> to memref<256x64xbf16, #smem4>
      %c0_6 = arith.constant 0 : index
      %c0_7 = arith.constant 0 : index
      %13 = tl.view %1[%8, %c0_6, %c0_7] [1, 128, 64] : memref<2x128x64xbf16, #smem3> to memref<128x64xbf16, #smem5>
      %14 = arith.muli %arg4, %c256 : index
      %15 = arith.muli %arg5, %c64 : index
      tl.barrier_wait %3[%8], %11 {tl.producer} : !tl.barrier<2>
      %16 = tl.elect {tl.producer}
      scf.if %16 {
        %c49152 = arith.constant 49152 : index
        tl.barrier_expect_tx %2[%8], %c49152 {arrive} : !tl.barrier<2>
        tl.copy %arg0[%14, %15] [256, 64] to %12[] [256, 64] barrier(%2[%8]) {tma = 0 : i64} : memref<?x?xbf16, #tl.scope<global>> to memref<256x64xbf16, #smem4>, !tl.barrier<2>
        tl.copy %arg1[%c0, %15] [128, 64] to %13[] [128, 64] barrier(%2[%8]) {tma = 1 : i64} : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #smem5>, !tl.barrier<2>
      } {tl.producer}
      tl.barrier_wait %2[%8], %10 : !tl.barrier<2>
      tl.gemm %12, %13, %5 {transpose_b} : memref<256x64xbf16, #smem4>, memref<128x64xbf16, #smem5>, memref<256x128xf32, #frag1>
      tl.barrier_arrive %3[%8] {per_warp} : !tl.barrier<2>
      %c1_i32 = arith.constant 1 : i32
      %17 = arith.addi %6, %c1_i32 {tl.pipeline_state} : i32
      %c0_8 = arith.constant 0 : index
      memref.store %17, %4[%c0_8] {tl.pipeline_state} : memref<1xi32, #local1>
    }
  }
  return
}

// -----

// 96 threads are not whole warpgroups: setmaxnreg and named barriers need
// them, so the pipeline runs unspecialised.
// CHECK-LABEL: func.func @odd_threads
// CHECK: tl.launch grid(%{{.*}}) threads(96)
// CHECK-NOT: tl.warp_specialize
// CHECK: tl.barrier_wait {{.*}} {tl.producer}
#layout2 = #tl.layout<[1], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0)]>
#layout10 = #tl.layout<[32, 64], reg = [(2, 0), (4, 0), (8, 0), (16, 0)], lane = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16)], warp = [(0, 32), (1, 0)]>
#local = #tl.scope<local, #layout2>
func.func @odd_threads(%arg0: memref<?x?xf32, #tl.scope<global>>, %arg1: memref<?x?xf32, #tl.scope<global>>, %arg2: index, %arg3: index) attributes {tl.tma_maps = [{box = array<i64: 32, 64>, dtype = "float32", param = 0 : i64, swizzle = "none"}]} {
  tl.launch grid(%arg2) threads(96) blocks(%arg4) {
    %0 = tl.alloc_shared : memref<2x32x64xf32, #tl.scope<shared>>
    %1 = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
    %2 = tl.alloc_barrier arrive_count(3) : !tl.barrier<2>
    %3 = tl.alloc_local {init = 0 : i32} : memref<1xi32, #local>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c32 = arith.constant 32 : index
    %c64 = arith.constant 64 : index
    %4 = arith.muli %arg4, %c32 : index
    tl.pipelined %arg5 = %c0 to %arg3 step %c1 stages(2) {
      %c0_0 = arith.constant 0 : index
      %5 = memref.load %3[%c0_0] {tl.pipeline_state} : memref<1xi32, #local>
      %6 = arith.index_cast %5 : i32 to index
      %c2 = arith.constant 2 : index
      %7 = arith.remui %6, %c2 : index
      %c1_1 = arith.constant 1 : index
      %c2_2 = arith.constant 2 : index
      %8 = arith.divui %6, %c2_2 : index
      %9 = arith.andi %8, %c1_1 : index
      %c1_3 = arith.constant 1 : index
      %10 = arith.xori %9, %c1_3 : index
      %c0_4 = arith.constant 0 : index
      %c0_5 = arith.constant 0 : index
      %11 = tl.view %0[%7, %c0_4, %c0_5] [1, 32, 64] : memref<2x32x64xf32, #tl.scope<shared>> to memref<32x64xf32, #tl.scope<shared>>
      %12 = arith.muli %arg5, %c64 : index
      tl.barrier_wait %2[%7], %10 {tl.producer} : !tl.barrier<2>
      %13 = tl.elect {tl.producer}
      scf.if %13 {
        %c8192 = arith.constant 8192 : index
        tl.barrier_expect_tx %1[%7], %c8192 {arrive} : !tl.barrier<2>
        tl.copy %arg0[%4, %12] [32, 64] to %11[] [32, 64] barrier(%1[%7]) {tma = 0 : i64} : memref<?x?xf32, #tl.scope<global>> to memref<32x64xf32, #tl.scope<shared>>, !tl.barrier<2>
      } {tl.producer}
      tl.barrier_wait %1[%7], %9 : !tl.barrier<2>
      tl.parallel (%arg6, %arg7) in [32, 64] attributes {layout = #layout10} {
        %15 = memref.load %11[%arg6, %arg7] : memref<32x64xf32, #tl.scope<shared>>
        %16 = arith.addi %4, %arg6 : index
        %17 = arith.addi %12, %arg7 : index
        memref.store %15, %arg1[%16, %17] : memref<?x?xf32, #tl.scope<global>>
      }
      tl.barrier_arrive %2[%7] {per_warp} : !tl.barrier<2>
      %c1_i32 = arith.constant 1 : i32
      %14 = arith.addi %5, %c1_i32 {tl.pipeline_state} : i32
      %c0_6 = arith.constant 0 : index
      memref.store %14, %3[%c0_6] {tl.pipeline_state} : memref<1xi32, #local>
    }
  }
  return
}
