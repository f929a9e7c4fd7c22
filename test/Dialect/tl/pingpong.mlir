// tl-pingpong: the two consumer warpgroups of an attention-like loop (two
// MMAs with element-wise work between them) take turns issuing MMAs through
// named barriers B + w (wait) and B + 1 - w (arrive), B = 8; warpgroup 1
// arrives once at warpgroup 0's barrier when the role starts. Synchronous
// MMAs of a group become asynchronous, waited for after the arrival.
// RUN: tl-opt %s --split-input-file --tl-pingpong | FileCheck %s

// CHECK-LABEL: func.func @attention
// CHECK: tl.warp_specialize roles [256, 128] regs [232, 40] {
// CHECK-NEXT: %[[TID:.*]] = tl.thread_id 0
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[REL:.*]] = arith.subi %[[TID]], %[[C0]] : index
// CHECK-NEXT: %[[C128:.*]] = arith.constant 128 : index
// CHECK-NEXT: %[[WG:.*]] = arith.divui %[[REL]], %[[C128]] : index
// CHECK-NEXT: %[[C8:.*]] = arith.constant 8 : index
// CHECK-NEXT: %[[MINE:.*]] = arith.addi %[[C8]], %[[WG]] : index
// CHECK-NEXT: %[[C9:.*]] = arith.constant 9 : index
// CHECK-NEXT: %[[OTHER:.*]] = arith.subi %[[C9]], %[[WG]] : index
// CHECK-NEXT: %[[C1:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[SECOND:.*]] = arith.cmpi eq, %[[WG]], %[[C1]] : index
// CHECK-NEXT: scf.if %[[SECOND]] {
// CHECK-NEXT: tl.named_barrier %[[OTHER]] threads(256) {arrive}
// CHECK-NEXT: }
// CHECK: tl.pipelined
// CHECK: tl.barrier_wait
// CHECK-NEXT: tl.named_barrier %[[MINE]] threads(256)
// CHECK-NEXT: tl.gemm %{{.*}}, %{{.*}}, %[[S:.*]] {async, clear_accum, transpose_b}
// CHECK-NEXT: tl.named_barrier %[[OTHER]] threads(256) {arrive}
// CHECK-NEXT: tl.mma_wait pending(0) %[[S]] :
// CHECK-NEXT: tl.barrier_arrive
// CHECK: tl.parallel
// CHECK: tl.barrier_wait
// CHECK-NEXT: tl.named_barrier %[[MINE]] threads(256)
// CHECK-NEXT: tl.gemm %[[P:.*]], %{{.*}}, %[[O:.*]] {async} :
// CHECK-NEXT: tl.named_barrier %[[OTHER]] threads(256) {arrive}
// CHECK-NEXT: tl.mma_wait pending(0) %[[P]], %[[O]] :
// CHECK-NEXT: tl.barrier_arrive
// The producer takes no part.
// CHECK: }, {
// CHECK-NOT: tl.named_barrier
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
  tl.launch grid(%arg4, %arg5, %arg6) threads(384) blocks(%arg7, %arg8, %arg9) {
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
    tl.warp_specialize roles [256, 128] regs [232, 40] {
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
        tl.barrier_wait %3[%17], %19 : !tl.barrier<2>
        tl.gemm %0, %22, %8 {clear_accum, transpose_b} : memref<128x128xbf16, #smem>, memref<128x128xbf16, #smem>, memref<128x128xf32, #frag>
        tl.barrier_arrive %4[%17] {per_warp} : !tl.barrier<2>
        tl.parallel (%i, %j) in [128, 128] attributes {layout = #layout3} {
          %s = memref.load %8[%i, %j] : memref<128x128xf32, #frag>
          %e = math.exp2 %s : f32
          memref.store %e, %8[%i, %j] : memref<128x128xf32, #frag>
        }
        tl.copy %8[] [128, 128] to %9[] [128, 128] : memref<128x128xf32, #frag> to memref<128x128xbf16, #frag>
        tl.barrier_wait %5[%17], %19 : !tl.barrier<2>
        tl.gemm %9, %21, %10 : memref<128x128xbf16, #frag>, memref<128x128xbf16, #smem>, memref<128x128xf32, #frag>
        tl.barrier_arrive %6[%17] {per_warp} : !tl.barrier<2>
        %c1_i32 = arith.constant 1 : i32
        %24 = arith.addi %15, %c1_i32 {tl.pipeline_state} : i32
        %c0_8 = arith.constant 0 : index
        memref.store %24, %7[%c0_8] {tl.pipeline_state} : memref<1xi32, #local>
      }
      tl.yield
    }, {
      %c0 = arith.constant 0 : index
      %11 = memref.load %arg3[%arg9] : memref<?xi32, #tl.scope<global>>
      %c128_i32 = arith.constant 128 : i32
      %12 = arith.ceildivsi %11, %c128_i32 : i32
      %13 = arith.index_cast %12 : i32 to index
      %c1 = arith.constant 1 : index
      scf.for %arg10 = %c0 to %13 step %c1 {
        %c0_0 = arith.constant 0 : index
        %14 = memref.load %7[%c0_0] : memref<1xi32, #local>
        %15 = arith.index_cast %14 : i32 to index
        %c2 = arith.constant 2 : index
        %16 = arith.remui %15, %c2 : index
        %c2_1 = arith.constant 2 : index
        %17 = arith.divui %15, %c2_1 : index
        %c1_2 = arith.constant 1 : index
        %18 = arith.andi %17, %c1_2 : index
        %c1_3 = arith.constant 1 : index
        %19 = arith.xori %18, %c1_3 : index
        tl.barrier_wait %4[%16], %19 : !tl.barrier<2>
        %20 = tl.elect
        %c32768 = arith.constant 32768 : index
        %c128 = arith.constant 128 : index
        %21 = arith.muli %arg10, %c128 : index
        %c0_4 = arith.constant 0 : index
        %c0_5 = arith.constant 0 : index
        %22 = tl.view %1[%16, %c0_4, %c0_5] [1, 128, 128] : memref<2x128x128xbf16, #smem1> to memref<128x128xbf16, #smem>
        scf.if %20 {
          %c32768_10 = arith.constant 32768 : index
          tl.barrier_expect_tx %3[%16], %c32768_10 {arrive} : !tl.barrier<2>
          tl.copy %arg1[%arg9, %21, %arg8, %c0] [1, 128, 1, 128] to %22[] [128, 128] barrier(%3[%16]) {tma = 0 : i64} : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<128x128xbf16, #smem>, !tl.barrier<2>
        }
        tl.barrier_wait %6[%16], %19 : !tl.barrier<2>
        %23 = tl.elect
        %c32768_6 = arith.constant 32768 : index
        %c0_7 = arith.constant 0 : index
        %c0_8 = arith.constant 0 : index
        %24 = tl.view %2[%16, %c0_7, %c0_8] [1, 128, 128] : memref<2x128x128xbf16, #smem1> to memref<128x128xbf16, #smem>
        scf.if %23 {
          %c32768_10 = arith.constant 32768 : index
          tl.barrier_expect_tx %5[%16], %c32768_10 {arrive} : !tl.barrier<2>
          tl.copy %arg2[%arg9, %21, %arg8, %c0] [1, 128, 1, 128] to %24[] [128, 128] barrier(%5[%16]) {tma = 1 : i64} : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<128x128xbf16, #smem>, !tl.barrier<2>
        }
        %c1_i32 = arith.constant 1 : i32
        %25 = arith.addi %14, %c1_i32 : i32
        %c0_9 = arith.constant 0 : index
        memref.store %25, %7[%c0_9] : memref<1xi32, #local>
      }
      tl.yield
    }
  }
  return
}


// -----

// After tl-rotate-mma: two asynchronous MMAs with only a view and a barrier
// wait between them are one group, bracketed once; they stay asynchronous.
// CHECK-LABEL: func.func @rotated
// CHECK: tl.pipelined
// CHECK: tl.named_barrier %[[MINE:.*]] threads(256)
// CHECK-NEXT: tl.gemm {{.*}} {async, clear_accum, transpose_b}
// CHECK-NEXT: tl.view
// CHECK-NEXT: tl.barrier_wait
// CHECK-NEXT: tl.gemm {{.*}} {async}
// CHECK-NEXT: tl.named_barrier %[[OTHER:.*]] threads(256) {arrive}
// CHECK-NEXT: tl.mma_wait pending(1)
// CHECK-NOT: tl.named_barrier
// CHECK: tl.yield
#layout = #tl.layout<[128, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0), (0, 64)]>
#layout1 = #tl.layout<[2, 128, 128], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (0, 64, 0), (0, 0, 64), (1, 0, 0)]>
#layout3 = #tl.layout<[128, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
#frag = #tl.scope<fragment, #layout3>
#smem = #tl.scope<shared, #layout>
#smem1 = #tl.scope<shared, #layout1>
func.func @rotated(%n: index) {
  %c1g = arith.constant 1 : index
  tl.launch grid(%c1g) threads(384) blocks(%bx) {
    %0 = tl.alloc_shared : memref<128x128xbf16, #smem>
    %1 = tl.alloc_shared : memref<2x128x128xbf16, #smem1>
    %2 = tl.alloc_shared : memref<2x128x128xbf16, #smem1>
    %3 = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
    %8 = tl.alloc_fragment : memref<128x128xf32, #frag>
    %9 = tl.alloc_fragment : memref<128x128xbf16, #frag>
    %10 = tl.alloc_fragment : memref<128x128xf32, #frag>
    tl.warp_specialize roles [256, 128] regs [232, 40] {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      tl.pipelined %k = %c0 to %n step %c1 stages(2) {
        %a = tl.view %1[%c0, %c0, %c0] [1, 128, 128] : memref<2x128x128xbf16, #smem1> to memref<128x128xbf16, #smem>
        tl.gemm %0, %a, %8 {async, clear_accum, transpose_b} : memref<128x128xbf16, #smem>, memref<128x128xbf16, #smem>, memref<128x128xf32, #frag>
        %b = tl.view %2[%c1, %c0, %c0] [1, 128, 128] : memref<2x128x128xbf16, #smem1> to memref<128x128xbf16, #smem>
        tl.barrier_wait %3[%c1], %c0 : !tl.barrier<2>
        tl.gemm %9, %b, %10 {async} : memref<128x128xbf16, #frag>, memref<128x128xbf16, #smem>, memref<128x128xf32, #frag>
        tl.mma_wait pending(1) %8 : memref<128x128xf32, #frag>
        tl.parallel (%i, %j) in [128, 128] attributes {layout = #layout3} {
          %s = memref.load %8[%i, %j] : memref<128x128xf32, #frag>
          %e = math.exp2 %s : f32
          memref.store %e, %8[%i, %j] : memref<128x128xf32, #frag>
        }
        tl.mma_wait pending(0) %9, %10 : memref<128x128xbf16, #frag>, memref<128x128xf32, #frag>
        tl.copy %8[] [128, 128] to %9[] [128, 128] : memref<128x128xf32, #frag> to memref<128x128xbf16, #frag>
      }
      tl.yield
    }, {
      tl.yield
    }
  }
  return
}

// -----

// A GEMM main loop (one MMA, no element-wise work) is left alone.
// CHECK-LABEL: func.func @gemm
// CHECK-NOT: tl.named_barrier
// CHECK: return
#layout = #tl.layout<[4, 128, 64], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (0, 64, 0), (1, 0, 0), (2, 0, 0)]>
#layout1 = #tl.layout<[1], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0), (0)]>
#layout2 = #tl.layout<[128, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
#layout3 = #tl.layout<[128, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0)]>
#frag = #tl.scope<fragment, #layout2>
#local = #tl.scope<local, #layout1>
#smem = #tl.scope<shared, #layout>
#smem1 = #tl.scope<shared, #layout3>
func.func @gemm(%arg0: memref<?x?xbf16, #tl.scope<global>>, %arg1: memref<?x?xbf16, #tl.scope<global>>, %arg2: memref<?x?xbf16, #tl.scope<global>>, %arg3: index, %arg4: index, %arg5: index) attributes {tl.tma_maps = [{box = array<i64: 128, 64>, dtype = "bfloat16", param = 0 : i64, swizzle = "128B"}, {box = array<i64: 128, 64>, dtype = "bfloat16", param = 1 : i64, swizzle = "128B"}]} {
  tl.launch grid(%arg3, %arg4) threads(384) blocks(%arg6, %arg7) {
    %0 = tl.alloc_shared : memref<3x128x64xbf16, #smem>
    %1 = tl.alloc_shared : memref<3x128x64xbf16, #smem>
    %2 = tl.alloc_barrier arrive_count(1) : !tl.barrier<3>
    %3 = tl.alloc_barrier arrive_count(8) : !tl.barrier<3>
    %4 = tl.alloc_local {init = 0 : i32} : memref<1xi32, #local>
    %5 = tl.alloc_fragment : memref<128x128xf32, #frag>
    tl.warp_specialize roles [256, 128] regs [232, 40] {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c64 = arith.constant 64 : index
      %c128 = arith.constant 128 : index
      %cst = arith.constant 0.000000e+00 : f32
      tl.fill %5, %cst : memref<128x128xf32, #frag>
      tl.pipelined %arg8 = %c0 to %arg5 step %c1 stages(3) {
        %c0_0 = arith.constant 0 : index
        %10 = memref.load %4[%c0_0] {tl.pipeline_state} : memref<1xi32, #local>
        %11 = arith.index_cast %10 : i32 to index
        %c3 = arith.constant 3 : index
        %12 = arith.remui %11, %c3 : index
        %c1_1 = arith.constant 1 : index
        %c3_2 = arith.constant 3 : index
        %13 = arith.divui %11, %c3_2 : index
        %14 = arith.andi %13, %c1_1 : index
        %c1_3 = arith.constant 1 : index
        %15 = arith.xori %14, %c1_3 : index
        %c0_4 = arith.constant 0 : index
        %c0_5 = arith.constant 0 : index
        %16 = tl.view %1[%12, %c0_4, %c0_5] [1, 128, 64] : memref<3x128x64xbf16, #smem> to memref<128x64xbf16, #smem1>
        %c0_6 = arith.constant 0 : index
        %c0_7 = arith.constant 0 : index
        %17 = tl.view %0[%12, %c0_6, %c0_7] [1, 128, 64] : memref<3x128x64xbf16, #smem> to memref<128x64xbf16, #smem1>
        %18 = arith.muli %arg7, %c128 : index
        %19 = arith.muli %arg8, %c64 : index
        %20 = arith.muli %arg6, %c128 : index
        tl.barrier_wait %2[%12], %14 : !tl.barrier<3>
        tl.gemm %17, %16, %5 {transpose_b} : memref<128x64xbf16, #smem1>, memref<128x64xbf16, #smem1>, memref<128x128xf32, #frag>
        tl.barrier_arrive %3[%12] {per_warp} : !tl.barrier<3>
        %c1_i32 = arith.constant 1 : i32
        %21 = arith.addi %10, %c1_i32 {tl.pipeline_state} : i32
        %c0_8 = arith.constant 0 : index
        memref.store %21, %4[%c0_8] {tl.pipeline_state} : memref<1xi32, #local>
      }
      %6 = tl.block_id 1
      %7 = tl.block_id 0
      %8 = arith.muli %6, %c128 : index
      %9 = arith.muli %7, %c128 : index
      tl.copy %5[] [128, 128] to %arg2[%8, %9] [128, 128] : memref<128x128xf32, #frag> to memref<?x?xbf16, #tl.scope<global>>
      tl.yield
    }, {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      scf.for %arg8 = %c0 to %arg5 step %c1 {
        %c0_0 = arith.constant 0 : index
        %6 = memref.load %4[%c0_0] : memref<1xi32, #local>
        %7 = arith.index_cast %6 : i32 to index
        %c3 = arith.constant 3 : index
        %8 = arith.remui %7, %c3 : index
        %c3_1 = arith.constant 3 : index
        %9 = arith.divui %7, %c3_1 : index
        %c1_2 = arith.constant 1 : index
        %10 = arith.andi %9, %c1_2 : index
        %c1_3 = arith.constant 1 : index
        %11 = arith.xori %10, %c1_3 : index
        tl.barrier_wait %3[%8], %11 : !tl.barrier<3>
        %12 = tl.elect
        %c32768 = arith.constant 32768 : index
        %c128 = arith.constant 128 : index
        %13 = arith.muli %arg7, %c128 : index
        %c64 = arith.constant 64 : index
        %14 = arith.muli %arg8, %c64 : index
        %c0_4 = arith.constant 0 : index
        %c0_5 = arith.constant 0 : index
        %15 = tl.view %0[%8, %c0_4, %c0_5] [1, 128, 64] : memref<3x128x64xbf16, #smem> to memref<128x64xbf16, #smem1>
        %16 = arith.muli %arg6, %c128 : index
        %c0_6 = arith.constant 0 : index
        %c0_7 = arith.constant 0 : index
        %17 = tl.view %1[%8, %c0_6, %c0_7] [1, 128, 64] : memref<3x128x64xbf16, #smem> to memref<128x64xbf16, #smem1>
        scf.if %12 {
          %c32768_9 = arith.constant 32768 : index
          tl.barrier_expect_tx %2[%8], %c32768_9 {arrive} : !tl.barrier<3>
          tl.copy %arg0[%13, %14] [128, 64] to %15[] [128, 64] barrier(%2[%8]) {tma = 0 : i64} : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #smem1>, !tl.barrier<3>
          tl.copy %arg1[%16, %14] [128, 64] to %17[] [128, 64] barrier(%2[%8]) {tma = 1 : i64} : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #smem1>, !tl.barrier<3>
        }
        %c1_i32 = arith.constant 1 : i32
        %18 = arith.addi %6, %c1_i32 : i32
        %c0_8 = arith.constant 0 : index
        memref.store %18, %4[%c0_8] : memref<1xi32, #local>
      }
      tl.yield
    }
  }
  return
}


// -----

// One consumer warpgroup: nothing to take turns with.
// CHECK-LABEL: func.func @one_warpgroup
// CHECK-NOT: tl.named_barrier
// CHECK: return
#layout = #tl.layout<[128, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0), (0, 64)]>
#layout1 = #tl.layout<[2, 128, 128], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (0, 64, 0), (0, 0, 64), (1, 0, 0)]>
#layout2 = #tl.layout<[1], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0), (0)]>
#layout3 = #tl.layout<[128, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
#frag = #tl.scope<fragment, #layout3>
#local = #tl.scope<local, #layout2>
#smem = #tl.scope<shared, #layout>
#smem1 = #tl.scope<shared, #layout1>
func.func @one_warpgroup(%arg0: memref<?x?x?x128xbf16, #tl.scope<global>>, %arg1: memref<?x?x?x128xbf16, #tl.scope<global>>, %arg2: memref<?x?x?x128xbf16, #tl.scope<global>>, %arg3: memref<?xi32, #tl.scope<global>>, %arg4: index, %arg5: index, %arg6: index) attributes {tl.tma_maps = [{box = array<i64: 1, 128, 1, 64>, dtype = "bfloat16", param = 1 : i64, swizzle = "128B"}, {box = array<i64: 1, 128, 1, 64>, dtype = "bfloat16", param = 2 : i64, swizzle = "128B"}]} {
  tl.launch grid(%arg4, %arg5, %arg6) threads(384) blocks(%arg7, %arg8, %arg9) {
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
    tl.warp_specialize roles [128, 128] regs [232, 40] {
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
        tl.barrier_wait %3[%17], %19 : !tl.barrier<2>
        tl.gemm %0, %22, %8 {clear_accum, transpose_b} : memref<128x128xbf16, #smem>, memref<128x128xbf16, #smem>, memref<128x128xf32, #frag>
        tl.barrier_arrive %4[%17] {per_warp} : !tl.barrier<2>
        tl.parallel (%i, %j) in [128, 128] attributes {layout = #layout3} {
          %s = memref.load %8[%i, %j] : memref<128x128xf32, #frag>
          %e = math.exp2 %s : f32
          memref.store %e, %8[%i, %j] : memref<128x128xf32, #frag>
        }
        tl.copy %8[] [128, 128] to %9[] [128, 128] : memref<128x128xf32, #frag> to memref<128x128xbf16, #frag>
        tl.barrier_wait %5[%17], %19 : !tl.barrier<2>
        tl.gemm %9, %21, %10 : memref<128x128xbf16, #frag>, memref<128x128xbf16, #smem>, memref<128x128xf32, #frag>
        tl.barrier_arrive %6[%17] {per_warp} : !tl.barrier<2>
        %c1_i32 = arith.constant 1 : i32
        %24 = arith.addi %15, %c1_i32 {tl.pipeline_state} : i32
        %c0_8 = arith.constant 0 : index
        memref.store %24, %7[%c0_8] {tl.pipeline_state} : memref<1xi32, #local>
      }
      tl.yield
    }, {
      %c0 = arith.constant 0 : index
      %11 = memref.load %arg3[%arg9] : memref<?xi32, #tl.scope<global>>
      %c128_i32 = arith.constant 128 : i32
      %12 = arith.ceildivsi %11, %c128_i32 : i32
      %13 = arith.index_cast %12 : i32 to index
      %c1 = arith.constant 1 : index
      scf.for %arg10 = %c0 to %13 step %c1 {
        %c0_0 = arith.constant 0 : index
        %14 = memref.load %7[%c0_0] : memref<1xi32, #local>
        %15 = arith.index_cast %14 : i32 to index
        %c2 = arith.constant 2 : index
        %16 = arith.remui %15, %c2 : index
        %c2_1 = arith.constant 2 : index
        %17 = arith.divui %15, %c2_1 : index
        %c1_2 = arith.constant 1 : index
        %18 = arith.andi %17, %c1_2 : index
        %c1_3 = arith.constant 1 : index
        %19 = arith.xori %18, %c1_3 : index
        tl.barrier_wait %4[%16], %19 : !tl.barrier<2>
        %20 = tl.elect
        %c32768 = arith.constant 32768 : index
        %c128 = arith.constant 128 : index
        %21 = arith.muli %arg10, %c128 : index
        %c0_4 = arith.constant 0 : index
        %c0_5 = arith.constant 0 : index
        %22 = tl.view %1[%16, %c0_4, %c0_5] [1, 128, 128] : memref<2x128x128xbf16, #smem1> to memref<128x128xbf16, #smem>
        scf.if %20 {
          %c32768_10 = arith.constant 32768 : index
          tl.barrier_expect_tx %3[%16], %c32768_10 {arrive} : !tl.barrier<2>
          tl.copy %arg1[%arg9, %21, %arg8, %c0] [1, 128, 1, 128] to %22[] [128, 128] barrier(%3[%16]) {tma = 0 : i64} : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<128x128xbf16, #smem>, !tl.barrier<2>
        }
        tl.barrier_wait %6[%16], %19 : !tl.barrier<2>
        %23 = tl.elect
        %c32768_6 = arith.constant 32768 : index
        %c0_7 = arith.constant 0 : index
        %c0_8 = arith.constant 0 : index
        %24 = tl.view %2[%16, %c0_7, %c0_8] [1, 128, 128] : memref<2x128x128xbf16, #smem1> to memref<128x128xbf16, #smem>
        scf.if %23 {
          %c32768_10 = arith.constant 32768 : index
          tl.barrier_expect_tx %5[%16], %c32768_10 {arrive} : !tl.barrier<2>
          tl.copy %arg2[%arg9, %21, %arg8, %c0] [1, 128, 1, 128] to %24[] [128, 128] barrier(%5[%16]) {tma = 1 : i64} : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<128x128xbf16, #smem>, !tl.barrier<2>
        }
        %c1_i32 = arith.constant 1 : i32
        %25 = arith.addi %14, %c1_i32 : i32
        %c0_9 = arith.constant 0 : index
        memref.store %25, %7[%c0_9] : memref<1xi32, #local>
      }
      tl.yield
    }
  }
  return
}

