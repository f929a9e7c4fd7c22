// tl-persistent: each role of a warp-specialised launch walks the grid in
// rounds of nblocks tiles, taking tile r * nblocks + b in even rounds and
// r * nblocks + (nblocks - 1 - b) in odd ones (serpentine), skipping tiles
// past the grid, with the block indices computed per tile; the launch is
// marked for the manifest.
// RUN: tl-opt %s --split-input-file --tl-persistent | FileCheck %s

// A 2-D grid in groups of 8 rows of tiles: tile t is in group
// g = t / (gx * 8), whose rows start at y0 = 8 g and number
// min(gy - y0, 8); x = (t mod gx * 8) / rows, y = y0 + (t mod gx * 8) mod rows.
// Both roles walk the same tiles; the block indices (block arguments and
// tl.block_id) are replaced in the copies' offsets, the producer's included.
// CHECK-LABEL: func.func @gemm
// CHECK: tl.launch grid(%[[GX:.*]], %[[GY:.*]]) threads(384) blocks(%[[BX:.*]], %[[BY:.*]]) attributes {tl.persistent} {
// CHECK: tl.warp_specialize roles [256, 128] regs [232, 40] {
// CHECK-NEXT: %[[NB:.*]] = tl.special_reg "nctaid.x"
// CHECK-NEXT: %[[FIRST:.*]] = tl.special_reg "ctaid.x"
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[T0:.*]] = arith.muli %[[ONE]], %[[GX]] : index
// CHECK-NEXT: %[[TOTAL:.*]] = arith.muli %[[T0]], %[[GY]] : index
// CHECK-NEXT: %[[ROUNDS:.*]] = arith.ceildivui %[[TOTAL]], %[[NB]] : index
// CHECK-NEXT: %[[ONEM:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[NBM1:.*]] = arith.subi %[[NB]], %[[ONEM]] : index
// CHECK-NEXT: %[[MIRROR:.*]] = arith.subi %[[NBM1]], %[[FIRST]] : index
// CHECK-NEXT: %[[STEP:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NEXT: scf.for %[[R:.*]] = %[[ZERO]] to %[[ROUNDS]] step %[[STEP]] {
// CHECK-NEXT: arith.constant 0 : index
// CHECK-NEXT: arith.constant 1 : index
// CHECK-NEXT: %[[PAR:.*]] = arith.andi %[[R]], %{{.*}} : index
// CHECK-NEXT: %[[ODD:.*]] = arith.cmpi ne, %[[PAR]], %{{.*}} : index
// CHECK-NEXT: %[[POS:.*]] = arith.select %[[ODD]], %[[MIRROR]], %[[FIRST]] : index
// CHECK-NEXT: %[[BASE:.*]] = arith.muli %[[R]], %[[NB]] : index
// CHECK-NEXT: %[[T:.*]] = arith.addi %[[BASE]], %[[POS]] : index
// CHECK-NEXT: %[[INB:.*]] = arith.cmpi ult, %[[T]], %[[TOTAL]] : index
// CHECK-NEXT: scf.if %[[INB]] {
// CHECK-NEXT: %[[C8:.*]] = arith.constant 8 : index
// CHECK-NEXT: %[[GS:.*]] = arith.muli %[[GX]], %[[C8]] : index
// CHECK-NEXT: %[[G:.*]] = arith.divui %[[T]], %[[GS]] : index
// CHECK-NEXT: %[[IN:.*]] = arith.remui %[[T]], %[[GS]] : index
// CHECK-NEXT: %[[C8B:.*]] = arith.constant 8 : index
// CHECK-NEXT: %[[Y0:.*]] = arith.muli %[[G]], %[[C8B]] : index
// CHECK-NEXT: %[[C8C:.*]] = arith.constant 8 : index
// CHECK-NEXT: %[[LEFT:.*]] = arith.subi %[[GY]], %[[Y0]] : index
// CHECK-NEXT: %[[ROWS:.*]] = arith.minui %[[LEFT]], %[[C8C]] : index
// CHECK-NEXT: %[[X:.*]] = arith.divui %[[IN]], %[[ROWS]] : index
// CHECK-NEXT: %[[YR:.*]] = arith.remui %[[IN]], %[[ROWS]] : index
// CHECK-NEXT: %[[Y:.*]] = arith.addi %[[Y0]], %[[YR]] : index
// CHECK-NOT: tl.block_id
// CHECK-NOT: %[[BY]]{{[ ,)]}}
// CHECK: tl.fill
// CHECK: tl.pipelined
// CHECK: arith.muli %[[Y]], %{{.*}}
// CHECK: arith.muli %[[X]], %{{.*}}
// CHECK: tl.gemm
// CHECK: {{^ *}}}{{$}}
// CHECK-NEXT: %[[MO:.*]] = arith.muli %[[Y]], %{{.*}}
// CHECK-NEXT: %[[NO:.*]] = arith.muli %[[X]], %{{.*}}
// CHECK-NEXT: tl.copy %{{.*}}[] [128, 128] to %arg2[%[[MO]], %[[NO]]]
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: tl.yield
// CHECK-NEXT: }, {
// CHECK-NEXT: %[[PNB:.*]] = tl.special_reg "nctaid.x"
// CHECK-NEXT: %[[PFIRST:.*]] = tl.special_reg "ctaid.x"
// CHECK: scf.for %[[PR:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: arith.select %{{.*}}, %{{.*}}, %[[PFIRST]] : index
// CHECK-NEXT: arith.muli %[[PR]], %[[PNB]] : index
// CHECK: %[[PROWS:.*]] = arith.minui
// CHECK-NEXT: %[[PX:.*]] = arith.divui %{{.*}}, %[[PROWS]]
// CHECK-NEXT: arith.remui
// CHECK-NEXT: %[[PY:.*]] = arith.addi
// CHECK-NOT: %[[BY]]{{[ ,)]}}
// CHECK: scf.for
// CHECK-DAG: %[[PM:.*]] = arith.muli %[[PY]], %{{.*}}
// CHECK-DAG: %[[PN:.*]] = arith.muli %[[PX]], %{{.*}}
// CHECK: tl.copy %arg0[%[[PM]], %{{.*}}]
// CHECK-NEXT: tl.copy %arg1[%[[PN]], %{{.*}}]
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

// Clusters of 2 along x: the loop walks cluster ids over ceil(gx / 2) x gy
// groups, and the block's rank in its cluster picks its x tile of the group.
// CHECK-LABEL: func.func @gemm_cluster
// CHECK: tl.launch grid(%[[GX:.*]], %[[GY:.*]]) threads(384) cluster(2, 1) blocks({{.*}}) attributes {tl.persistent} {
// CHECK: tl.warp_specialize
// CHECK-NEXT: %[[NB:.*]] = tl.special_reg "nclusterid.x"
// CHECK-NEXT: %[[FIRST:.*]] = tl.special_reg "clusterid.x"
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[C2:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[CGX:.*]] = arith.ceildivui %[[GX]], %[[C2]] : index
// CHECK-NEXT: %[[T0:.*]] = arith.muli %[[ONE]], %[[CGX]] : index
// CHECK-NEXT: %[[TOTAL:.*]] = arith.muli %[[T0]], %[[GY]] : index
// CHECK-NEXT: %[[ROUNDS:.*]] = arith.ceildivui %[[TOTAL]], %[[NB]] : index
// CHECK-NEXT: %[[ONEM:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[NBM1:.*]] = arith.subi %[[NB]], %[[ONEM]] : index
// CHECK-NEXT: %[[MIRROR:.*]] = arith.subi %[[NBM1]], %[[FIRST]] : index
// CHECK-NEXT: %[[STEP:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NEXT: scf.for %[[R:.*]] = %[[ZERO]] to %[[ROUNDS]] step %[[STEP]] {
// CHECK-NEXT: arith.constant 0 : index
// CHECK-NEXT: arith.constant 1 : index
// CHECK-NEXT: %[[PAR:.*]] = arith.andi %[[R]], %{{.*}} : index
// CHECK-NEXT: %[[ODD:.*]] = arith.cmpi ne, %[[PAR]], %{{.*}} : index
// CHECK-NEXT: %[[POS:.*]] = arith.select %[[ODD]], %[[MIRROR]], %[[FIRST]] : index
// CHECK-NEXT: %[[BASE:.*]] = arith.muli %[[R]], %[[NB]] : index
// CHECK-NEXT: %[[T:.*]] = arith.addi %[[BASE]], %[[POS]] : index
// CHECK-NEXT: %[[INB:.*]] = arith.cmpi ult, %[[T]], %[[TOTAL]] : index
// CHECK-NEXT: scf.if %[[INB]] {
// CHECK-NEXT: %[[C2B:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[CGX2:.*]] = arith.ceildivui %[[GX]], %[[C2B]] : index
// CHECK-NEXT: %[[C8:.*]] = arith.constant 8 : index
// CHECK-NEXT: %[[GS:.*]] = arith.muli %[[CGX2]], %[[C8]] : index
// CHECK: %[[ROWS:.*]] = arith.minui
// CHECK-NEXT: %[[XG:.*]] = arith.divui %{{.*}}, %[[ROWS]] : index
// CHECK-NEXT: %{{.*}} = arith.remui
// CHECK-NEXT: %[[Y:.*]] = arith.addi
// CHECK-NEXT: %[[RANK:.*]] = tl.special_reg "cluster_ctarank"
// CHECK-NEXT: %[[C2C:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[X2:.*]] = arith.muli %[[XG]], %[[C2C]] : index
// CHECK-NEXT: %[[X:.*]] = arith.addi %[[X2]], %[[RANK]] : index
// CHECK: arith.muli %[[X]], %{{.*}}
// CHECK: }, {
// CHECK-NEXT: tl.special_reg "nclusterid.x"
// CHECK-NEXT: tl.special_reg "clusterid.x"
// CHECK: tl.special_reg "cluster_ctarank"
#layout = #tl.layout<[4, 128, 64], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (0, 64, 0), (1, 0, 0), (2, 0, 0)]>
#layout1 = #tl.layout<[1], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0), (0)]>
#layout2 = #tl.layout<[128, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
#layout3 = #tl.layout<[128, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0)]>
#frag = #tl.scope<fragment, #layout2>
#local = #tl.scope<local, #layout1>
#smem = #tl.scope<shared, #layout>
#smem1 = #tl.scope<shared, #layout3>
func.func @gemm_cluster(%arg0: memref<?x?xbf16, #tl.scope<global>>, %arg1: memref<?x?xbf16, #tl.scope<global>>, %arg2: memref<?x?xbf16, #tl.scope<global>>, %arg3: index, %arg4: index, %arg5: index) attributes {tl.tma_maps = [{box = array<i64: 128, 64>, dtype = "bfloat16", param = 0 : i64, swizzle = "128B"}, {box = array<i64: 128, 64>, dtype = "bfloat16", param = 1 : i64, swizzle = "128B"}]} {
  tl.launch grid(%arg3, %arg4) threads(384) cluster(2, 1) blocks(%arg6, %arg7) {
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

// A 3-D grid (attention: query tiles, heads, batch) in linear order, x
// fastest: x = t mod gx, y = (t / gx) mod gy, z = t / gx / gy. The batch
// index feeds the producer's bound (lens_k[z]) too.
// CHECK-LABEL: func.func @attention
// CHECK: tl.launch grid(%[[GX:.*]], %[[GY:.*]], %[[GZ:.*]]) threads(384) blocks({{.*}}) attributes {tl.persistent} {
// CHECK: tl.warp_specialize
// CHECK-NEXT: %[[NB:.*]] = tl.special_reg "nctaid.x"
// CHECK-NEXT: %[[FIRST:.*]] = tl.special_reg "ctaid.x"
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[T0:.*]] = arith.muli %[[ONE]], %[[GX]] : index
// CHECK-NEXT: %[[T1:.*]] = arith.muli %[[T0]], %[[GY]] : index
// CHECK-NEXT: %[[TOTAL:.*]] = arith.muli %[[T1]], %[[GZ]] : index
// CHECK-NEXT: %[[ROUNDS:.*]] = arith.ceildivui %[[TOTAL]], %[[NB]] : index
// CHECK-NEXT: %[[ONEM:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[NBM1:.*]] = arith.subi %[[NB]], %[[ONEM]] : index
// CHECK-NEXT: %[[MIRROR:.*]] = arith.subi %[[NBM1]], %[[FIRST]] : index
// CHECK-NEXT: %[[STEP:.*]] = arith.constant 1 : index
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NEXT: scf.for %[[R:.*]] = %[[ZERO]] to %[[ROUNDS]] step %[[STEP]] {
// CHECK-NEXT: arith.constant 0 : index
// CHECK-NEXT: arith.constant 1 : index
// CHECK-NEXT: %[[PAR:.*]] = arith.andi %[[R]], %{{.*}} : index
// CHECK-NEXT: %[[ODD:.*]] = arith.cmpi ne, %[[PAR]], %{{.*}} : index
// CHECK-NEXT: %[[POS:.*]] = arith.select %[[ODD]], %[[MIRROR]], %[[FIRST]] : index
// CHECK-NEXT: %[[BASE:.*]] = arith.muli %[[R]], %[[NB]] : index
// CHECK-NEXT: %[[T:.*]] = arith.addi %[[BASE]], %[[POS]] : index
// CHECK-NEXT: %[[INB:.*]] = arith.cmpi ult, %[[T]], %[[TOTAL]] : index
// CHECK-NEXT: scf.if %[[INB]] {
// CHECK-NEXT: %[[X:.*]] = arith.remui %[[T]], %[[GX]] : index
// CHECK-NEXT: %[[R:.*]] = arith.divui %[[T]], %[[GX]] : index
// CHECK-NEXT: %[[Y:.*]] = arith.remui %[[R]], %[[GY]] : index
// CHECK-NEXT: %[[Z:.*]] = arith.divui %[[R]], %[[GY]] : index
// CHECK: memref.load %arg3[%[[Z]]]
// CHECK: tl.copy %arg0[%[[Z]], %{{.*}}, %[[Y]], %{{.*}}]
// CHECK: }, {
// CHECK: scf.for
// CHECK: %[[PT:.*]] = arith.addi
// CHECK-NEXT: arith.cmpi ult, %[[PT]]
// CHECK-NEXT: scf.if
// CHECK-NEXT: arith.remui %[[PT]], %[[GX]]
// CHECK-NEXT: %[[PR:.*]] = arith.divui %[[PT]], %[[GX]] : index
// CHECK-NEXT: arith.remui %[[PR]], %[[GY]]
// CHECK-NEXT: %[[PZ:.*]] = arith.divui %[[PR]], %[[GY]] : index
// CHECK: memref.load %arg3[%[[PZ]]]
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

// A launch that is not warp-specialised keeps one tile per block.
// CHECK-LABEL: func.func @odd_threads
// CHECK: tl.launch grid(%{{.*}}) threads(96) blocks(%{{.*}}) {
// CHECK-NOT: tl.special_reg
// CHECK-NOT: tl.persistent
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
