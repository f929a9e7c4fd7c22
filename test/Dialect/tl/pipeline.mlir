// tl-pipeline: rings of stages, full/empty barrier arrays per stream, the
// producer side (tagged for tl-warp-specialize), TMA or cp.async by copy,
// the tensor maps on the kernel, and the loops left alone.
// RUN: tl-opt %s --split-input-file --tl-pipeline | FileCheck %s
// RUN: tl-opt %s --split-input-file --tl-pipeline=chip=sm_100a | FileCheck %s --check-prefix=SM100

// A GEMM (inputs as tl-infer-layouts leaves them): A and B are read first by
// the same tl.gemm, so they form one stream. Each tile becomes a ring of 3
// stages whose layout is the tile's with the stage above its offset bits (3
// stages pad to 4); full[3] expects one arrival (the TMA issuer's
// arrive.expect_tx of both tiles' 2 x 16384 bytes), empty[3] one per consumer
// warp (256 threads: 8). The iteration count lives in a per-thread local so
// that stages and phases continue across loops.
// CHECK-DAG: #[[RING:layout[0-9]*]] = #tl.layout<[4, 128, 64], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (0, 64, 0), (1, 0, 0), (2, 0, 0)]>
// CHECK-DAG: #[[CNTL:layout[0-9]*]] = #tl.layout<[1], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0), (0)]>
// CHECK-DAG: #[[TILE:layout[0-9]*]] = #tl.layout<[128, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0)]>
// CHECK-DAG: #[[RINGS:smem[0-9]*]] = #tl.scope<shared, #[[RING]]>
// CHECK-DAG: #[[TILES:smem[0-9]*]] = #tl.scope<shared, #[[TILE]]>
// CHECK-DAG: #[[CNTS:local[0-9]*]] = #tl.scope<local, #[[CNTL]]>
// CHECK-LABEL: func.func @gemm
// CHECK-SAME: tl.tma_maps = [{box = array<i64: 128, 64>, dtype = "bfloat16", param = 0 : i64, swizzle = "128B"}, {box = array<i64: 128, 64>, dtype = "bfloat16", param = 1 : i64, swizzle = "128B"}]
// CHECK: %[[A:.*]] = tl.alloc_shared : memref<3x128x64xbf16, #[[RINGS]]>
// CHECK-NEXT: %[[B:.*]] = tl.alloc_shared : memref<3x128x64xbf16, #[[RINGS]]>
// CHECK-NEXT: %[[FULL:.*]] = tl.alloc_barrier arrive_count(1) : !tl.barrier<3>
// CHECK-NEXT: %[[EMPTY:.*]] = tl.alloc_barrier arrive_count(8) : !tl.barrier<3>
// CHECK-NEXT: %[[CNT:.*]] = tl.alloc_local {init = 0 : i32} : memref<1xi32, #[[CNTS]]>
// CHECK-NOT: tl.alloc_shared
// CHECK: tl.pipelined
// CHECK: %[[N:.*]] = memref.load %[[CNT]][%{{.*}}] {tl.pipeline_state}
// CHECK-NEXT: %[[IT:.*]] = arith.index_cast %[[N]] : i32 to index
// CHECK-NEXT: %[[C3:.*]] = arith.constant 3 : index
// CHECK-NEXT: %[[S:.*]] = arith.remui %[[IT]], %[[C3]] : index
// CHECK: %[[Q:.*]] = arith.divui %[[IT]], %{{.*}} : index
// CHECK-NEXT: %[[P:.*]] = arith.andi %[[Q]], %{{.*}} : index
// CHECK: %[[PE:.*]] = arith.xori %[[P]], %{{.*}} : index
// CHECK-DAG: %[[VB:.*]] = tl.view %[[B]][%[[S]], %{{.*}}, %{{.*}}] [1, 128, 64] : memref<3x128x64xbf16, #[[RINGS]]> to memref<128x64xbf16, #[[TILES]]>
// CHECK-DAG: %[[VA:.*]] = tl.view %[[A]][%[[S]], %{{.*}}, %{{.*}}] [1, 128, 64] : memref<3x128x64xbf16, #[[RINGS]]> to memref<128x64xbf16, #[[TILES]]>
// CHECK: tl.barrier_wait %[[EMPTY]][%[[S]]], %[[PE]] {tl.producer} : !tl.barrier<3>
// CHECK-NEXT: %[[ONE:.*]] = tl.elect {tl.producer}
// CHECK-NEXT: scf.if %[[ONE]] {
// CHECK-NEXT: %[[TX:.*]] = arith.constant 32768 : index
// CHECK-NEXT: tl.barrier_expect_tx %[[FULL]][%[[S]]], %[[TX]] {arrive} : !tl.barrier<3>
// CHECK-NEXT: tl.copy %arg0[%{{.*}}, %{{.*}}] [128, 64] to %[[VA]][] [128, 64] barrier(%[[FULL]][%[[S]]]) {tma = 0 : i64}
// CHECK-NEXT: tl.copy %arg1[%{{.*}}, %{{.*}}] [128, 64] to %[[VB]][] [128, 64] barrier(%[[FULL]][%[[S]]]) {tma = 1 : i64}
// CHECK-NEXT: } {tl.producer}
// CHECK-NEXT: tl.barrier_wait %[[FULL]][%[[S]]], %[[P]] : !tl.barrier<3>
// CHECK-NEXT: tl.gemm %[[VA]], %[[VB]], %{{.*}} {transpose_b}
// CHECK-NEXT: tl.barrier_arrive %[[EMPTY]][%[[S]]] {per_warp} : !tl.barrier<3>
// CHECK-NEXT: %[[ONEI:.*]] = arith.constant 1 : i32
// CHECK-NEXT: %[[NEXT:.*]] = arith.addi %[[N]], %[[ONEI]] {tl.pipeline_state} : i32
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0 : index
// CHECK-NEXT: memref.store %[[NEXT]], %[[CNT]][%[[Z]]] {tl.pipeline_state} : memref<1xi32, #[[CNTS]]>
// CHECK-NEXT: }
#sw = #tl.layout<[128, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0)]>
#acc = #tl.layout<[128, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
#smem = #tl.scope<shared, #sw>
#frag = #tl.scope<fragment, #acc>
func.func @gemm(%A: memref<?x?xbf16, #tl.scope<global>>, %B: memref<?x?xbf16, #tl.scope<global>>, %gx: index, %gy: index, %nk: index) {
  tl.launch grid(%gx, %gy) threads(256) blocks(%bx, %by) {
    %a = tl.alloc_shared : memref<128x64xbf16, #smem>
    %b = tl.alloc_shared : memref<128x64xbf16, #smem>
    %acc = tl.alloc_fragment : memref<128x128xf32, #frag>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %c128 = arith.constant 128 : index
    tl.pipelined %k = %c0 to %nk step %c1 stages(3) {
      %m = arith.muli %by, %c128 : index
      %kk = arith.muli %k, %c64 : index
      tl.copy %A[%m, %kk] [128, 64] to %a[] [128, 64] : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #smem>
      %n = arith.muli %bx, %c128 : index
      tl.copy %B[%n, %kk] [128, 64] to %b[] [128, 64] : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #smem>
      tl.gemm %a, %b, %acc {transpose_b} : memref<128x64xbf16, #smem>, memref<128x64xbf16, #smem>, memref<128x128xf32, #frag>
    }
  }
  return
}

// -----

// Attention: K is read first by the QK^T gemm, V by the PV gemm, so they
// are two streams with a barrier pair each, and the first gemm waits for K
// only. A [1, 128, 1, 128] box of the 4-D tensors is one 128-byte swizzled
// map of 64 columns, issued twice per tile. Q, copied before the loop and
// read by it, is a one-slot stream of its own: the producer fills it once
// per pass over the body (its own counter and barrier pair), the consumers
// wait for it before the loop and release it after.
// CHECK-LABEL: func.func @attention
// CHECK-SAME: tl.tma_maps = [{box = array<i64: 1, 128, 1, 64>, dtype = "bfloat16", param = 1 : i64, swizzle = "128B"}, {box = array<i64: 1, 128, 1, 64>, dtype = "bfloat16", param = 2 : i64, swizzle = "128B"}, {box = array<i64: 1, 128, 1, 64>, dtype = "bfloat16", param = 0 : i64, swizzle = "128B"}]
// CHECK: %[[QN:.*]] = tl.alloc_local {init = 0 : i32}
// CHECK-NEXT: %[[QF:.*]] = tl.alloc_barrier arrive_count(1) : !tl.barrier<1>
// CHECK-NEXT: %[[QE:.*]] = tl.alloc_barrier arrive_count(8) : !tl.barrier<1>
// CHECK-NEXT: %[[QS:.*]] = tl.alloc_shared : memref<128x128xbf16, #{{.*}}>
// CHECK-NEXT: %[[KS:.*]] = tl.alloc_shared : memref<2x128x128xbf16
// CHECK-NEXT: %[[VS:.*]] = tl.alloc_shared : memref<2x128x128xbf16
// CHECK-NEXT: %[[KF:.*]] = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
// CHECK-NEXT: %[[KE:.*]] = tl.alloc_barrier arrive_count(8) : !tl.barrier<2>
// CHECK-NEXT: %[[VF:.*]] = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
// CHECK-NEXT: %[[VE:.*]] = tl.alloc_barrier arrive_count(8) : !tl.barrier<2>
// CHECK: %[[QC:.*]] = memref.load %[[QN]][{{.*}}] {tl.pipeline_state}
// CHECK: tl.barrier_wait %[[QE]][{{.*}}], %{{.*}} {tl.producer}
// CHECK: %[[E:.*]] = tl.elect {tl.producer}
// CHECK-NEXT: scf.if %[[E]] {
// CHECK: tl.barrier_expect_tx %[[QF]][{{.*}}], %c32768 {arrive}
// CHECK-NEXT: tl.copy %arg0[{{.*}}] [1, 128, 1, 128] to %[[QS]][] [128, 128] barrier(%[[QF]][{{.*}}]) {tma = 2 : i64}
// CHECK: } {tl.producer}
// CHECK: arith.addi %[[QC]], %{{.*}} {tl.pipeline_state}
// CHECK: memref.store %{{.*}}, %[[QN]][{{.*}}] {tl.pipeline_state}
// CHECK-NEXT: tl.barrier_wait %[[QF]][{{.*}}], %{{.*}} : !tl.barrier<1>
// CHECK: tl.pipelined
// CHECK: %[[S:.*]] = arith.remui
// CHECK-DAG: %[[V:.*]] = tl.view %[[VS]][%[[S]],
// CHECK-DAG: %[[K:.*]] = tl.view %[[KS]][%[[S]],
// CHECK: tl.barrier_wait %[[KE]][%[[S]]], %{{.*}} {tl.producer}
// CHECK: tl.barrier_expect_tx %[[KF]][%[[S]]], %c32768 {arrive}
// CHECK-NEXT: tl.copy %arg1[{{.*}}] [1, 128, 1, 128] to %[[K]][] [128, 128] barrier(%[[KF]][%[[S]]]) {tma = 0 : i64}
// CHECK: tl.barrier_wait %[[VE]][%[[S]]], %{{.*}} {tl.producer}
// CHECK: tl.barrier_expect_tx %[[VF]][%[[S]]], %c32768 {arrive}
// CHECK-NEXT: tl.copy %arg2[{{.*}}] [1, 128, 1, 128] to %[[V]][] [128, 128] barrier(%[[VF]][%[[S]]]) {tma = 1 : i64}
// CHECK: tl.barrier_wait %[[KF]][%[[S]]], %[[P:.*]] : !tl.barrier<2>
// CHECK-NEXT: tl.gemm %[[QS]], %[[K]], %[[SACC:.*]] {clear_accum, transpose_b}
// CHECK-NEXT: tl.barrier_arrive %[[KE]][%[[S]]] {per_warp}
// CHECK-NEXT: tl.copy %[[SACC]][] [128, 128] to %[[PR:.*]][] [128, 128]
// CHECK-NEXT: tl.barrier_wait %[[VF]][%[[S]]], %[[P]] : !tl.barrier<2>
// CHECK-NEXT: tl.gemm %[[PR]], %[[V]], %{{.*}} :
// CHECK-NEXT: tl.barrier_arrive %[[VE]][%[[S]]] {per_warp}
// CHECK: tl.barrier_arrive %[[QE]][{{.*}}] {per_warp} : !tl.barrier<1>
#sw = #tl.layout<[128, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0), (0, 64)]>
#acc = #tl.layout<[128, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
#smem = #tl.scope<shared, #sw>
#frag = #tl.scope<fragment, #acc>
func.func @attention(%Q: memref<?x?x?x128xbf16, #tl.scope<global>>, %K: memref<?x?x?x128xbf16, #tl.scope<global>>, %V: memref<?x?x?x128xbf16, #tl.scope<global>>, %gx: index, %gy: index, %gz: index, %nk: index) {
  tl.launch grid(%gx, %gy, %gz) threads(256) blocks(%bx, %by, %bz) {
    %q = tl.alloc_shared : memref<128x128xbf16, #smem>
    %k = tl.alloc_shared : memref<128x128xbf16, #smem>
    %v = tl.alloc_shared : memref<128x128xbf16, #smem>
    %s = tl.alloc_fragment : memref<128x128xf32, #frag>
    %p = tl.alloc_fragment : memref<128x128xbf16, #frag>
    %o = tl.alloc_fragment : memref<128x128xf32, #frag>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c128 = arith.constant 128 : index
    %m = arith.muli %bx, %c128 : index
    tl.copy %Q[%bz, %m, %by, %c0] [1, 128, 1, 128] to %q[] [128, 128] : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<128x128xbf16, #smem>
    tl.pipelined %j = %c0 to %nk step %c1 stages(2) {
      %kv = arith.muli %j, %c128 : index
      tl.copy %K[%bz, %kv, %by, %c0] [1, 128, 1, 128] to %k[] [128, 128] : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<128x128xbf16, #smem>
      tl.copy %V[%bz, %kv, %by, %c0] [1, 128, 1, 128] to %v[] [128, 128] : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<128x128xbf16, #smem>
      tl.gemm %q, %k, %s {clear_accum, transpose_b} : memref<128x128xbf16, #smem>, memref<128x128xbf16, #smem>, memref<128x128xf32, #frag>
      tl.copy %s[] [128, 128] to %p[] [128, 128] : memref<128x128xf32, #frag> to memref<128x128xbf16, #frag>
      tl.gemm %p, %v, %o : memref<128x128xbf16, #frag>, memref<128x128xbf16, #smem>, memref<128x128xf32, #frag>
    }
  }
  return
}

// -----

// DeepSeek-style FP8 GEMM: the per-row scales SA[m : m + 128, k] are a column
// of a row-major tensor (a strided gather TMA cannot box), so they go through
// cp.async issued by a whole producer warp, each lane arriving on the full
// barrier (32 arrivals); they are read first by the promotion loop, not by the
// gemm, so they are a stream of their own, waited on just before that loop;
// its threads load them, so each of the 256 releases the stage.
// Only the two FP8 tiles get tensor maps.
// CHECK-LABEL: func.func @strided_scales
// CHECK-SAME: tl.tma_maps = [{box = array<i64: 128, 128>, dtype = "float8_e4m3", param = 0 : i64, swizzle = "128B"}, {box = array<i64: 128, 128>, dtype = "float8_e4m3", param = 2 : i64, swizzle = "128B"}]}
// CHECK: %[[SA:.*]] = tl.alloc_shared : memref<4x128xf32, #tl.scope<shared>>
// CHECK-NEXT: %[[TF:.*]] = tl.alloc_barrier arrive_count(1) : !tl.barrier<4>
// CHECK-NEXT: %[[TE:.*]] = tl.alloc_barrier arrive_count(8) : !tl.barrier<4>
// CHECK-NEXT: %[[SF:.*]] = tl.alloc_barrier arrive_count(32) : !tl.barrier<4>
// CHECK-NEXT: %[[SE:.*]] = tl.alloc_barrier arrive_count(256) : !tl.barrier<4>
// CHECK: %[[S:.*]] = arith.remui
// CHECK: %[[VSA:.*]] = tl.view %[[SA]][%[[S]], %{{.*}}] [1, 128] : memref<4x128xf32, #tl.scope<shared>> to memref<128xf32, #tl.scope<shared>>
// CHECK: tl.barrier_expect_tx %[[TF]][%[[S]]], %c32768 {arrive}
// CHECK: tl.barrier_wait %[[SE]][%[[S]]], %{{.*}} {tl.producer}
// CHECK-NEXT: %[[WARP:.*]] = tl.elect {tl.producer, warp}
// CHECK-NEXT: scf.if %[[WARP]] {
// CHECK-NEXT: tl.copy %arg1[%{{.*}}, %{{.*}}] [128, 1] to %[[VSA]][] [128] barrier(%[[SF]][%[[S]]]) : memref<?x?xf32, #tl.scope<global>> to memref<128xf32, #tl.scope<shared>>, !tl.barrier<4>
// CHECK-NEXT: } {tl.producer}
// CHECK-NEXT: tl.barrier_wait %[[TF]][%[[S]]]
// CHECK-NEXT: tl.gemm
// CHECK-NEXT: tl.barrier_arrive %[[TE]][%[[S]]] {per_warp}
// CHECK-NEXT: tl.barrier_wait %[[SF]][%[[S]]]
// CHECK-NEXT: tl.parallel
// CHECK: memref.load %[[VSA]]
// CHECK: }
// CHECK-NEXT: tl.barrier_arrive %[[SE]][%[[S]]] : !tl.barrier<4>
#sw = #tl.layout<[128, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (0, 64), (1, 16), (2, 32), (4, 64), (8, 0), (16, 0), (32, 0), (64, 0)]>
#acc = #tl.layout<[128, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
#frag = #tl.scope<fragment, #acc>
#smem = #tl.scope<shared, #sw>
func.func @strided_scales(%A: memref<?x?xf8E4M3FN, #tl.scope<global>>, %SA: memref<?x?xf32, #tl.scope<global>>, %B: memref<?x?xf8E4M3FN, #tl.scope<global>>, %gx: index, %gy: index, %nk: index) {
  tl.launch grid(%gx, %gy) threads(256) blocks(%bx, %by) {
    %a = tl.alloc_shared : memref<128x128xf8E4M3FN, #smem>
    %b = tl.alloc_shared : memref<128x128xf8E4M3FN, #smem>
    %sa = tl.alloc_shared : memref<128xf32, #tl.scope<shared>>
    %acc = tl.alloc_fragment : memref<128x128xf32, #frag>
    %part = tl.alloc_fragment : memref<128x128xf32, #frag>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c128 = arith.constant 128 : index
    tl.pipelined %k = %c0 to %nk step %c1 stages(4) {
      %m = arith.muli %by, %c128 : index
      %kk = arith.muli %k, %c128 : index
      tl.copy %A[%m, %kk] [128, 128] to %a[] [128, 128] : memref<?x?xf8E4M3FN, #tl.scope<global>> to memref<128x128xf8E4M3FN, #smem>
      %n = arith.muli %bx, %c128 : index
      tl.copy %B[%n, %kk] [128, 128] to %b[] [128, 128] : memref<?x?xf8E4M3FN, #tl.scope<global>> to memref<128x128xf8E4M3FN, #smem>
      tl.copy %SA[%m, %k] [128, 1] to %sa[] [128] : memref<?x?xf32, #tl.scope<global>> to memref<128xf32, #tl.scope<shared>>
      tl.gemm %a, %b, %part {clear_accum, transpose_b} : memref<128x128xf8E4M3FN, #smem>, memref<128x128xf8E4M3FN, #smem>, memref<128x128xf32, #frag>
      tl.parallel (%i, %j) in [128, 128] attributes {layout = #acc} {
        %x = memref.load %acc[%i, %j] : memref<128x128xf32, #frag>
        %y = memref.load %part[%i, %j] : memref<128x128xf32, #frag>
        %s = memref.load %sa[%i] : memref<128xf32, #tl.scope<shared>>
        %t = arith.mulf %y, %s : f32
        %u = arith.addf %x, %t : f32
        memref.store %u, %acc[%i, %j] : memref<128x128xf32, #frag>
      }
    }
  }
  return
}

// -----

// A tile and a column read first by the same loop share one stream: its full
// barrier counts the TMA issuer's arrival and the 32 cp.async lanes (33); its
// readers are the threads' own loads, so each of the 128 threads releases it.
// A tile without a swizzled layout gets an unswizzled map.
// CHECK-LABEL: func.func @mixed_stream
// CHECK-SAME: tl.tma_maps = [{box = array<i64: 64, 64>, dtype = "float32", param = 0 : i64, swizzle = "none"}]
// CHECK: %[[X:.*]] = tl.alloc_shared : memref<2x64x64xf32, #tl.scope<shared>>
// CHECK-NEXT: %[[SC:.*]] = tl.alloc_shared : memref<2x64xf32, #tl.scope<shared>>
// CHECK-NEXT: %[[F:.*]] = tl.alloc_barrier arrive_count(33) : !tl.barrier<2>
// CHECK-NEXT: %[[E:.*]] = tl.alloc_barrier arrive_count(128) : !tl.barrier<2>
// CHECK-NOT: tl.alloc_barrier
// CHECK: %[[S:.*]] = arith.remui
// CHECK: tl.barrier_wait %[[E]][%[[S]]]
// CHECK-NEXT: %[[ONE:.*]] = tl.elect {tl.producer}
// CHECK-NEXT: scf.if %[[ONE]] {
// CHECK-NEXT: %[[TX:.*]] = arith.constant 16384 : index
// CHECK-NEXT: tl.barrier_expect_tx %[[F]][%[[S]]], %[[TX]] {arrive}
// CHECK-NEXT: tl.copy %arg0{{.*}} barrier(%[[F]][%[[S]]]) {tma = 0 : i64}
// CHECK-NEXT: } {tl.producer}
// CHECK-NEXT: %[[WARP:.*]] = tl.elect {tl.producer, warp}
// CHECK-NEXT: scf.if %[[WARP]] {
// CHECK-NEXT: tl.copy %arg1{{.*}} [64, 1] to %{{.*}}[] [64] barrier(%[[F]][%[[S]]]) :
// CHECK-NEXT: } {tl.producer}
// CHECK-NEXT: tl.barrier_wait %[[F]][%[[S]]]
// CHECK-NEXT: tl.parallel
#blk = #tl.layout<[64, 64], reg = [(2, 0), (4, 0), (8, 0), (16, 0), (32, 0)], lane = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16)], warp = [(0, 32), (1, 0)]>
func.func @mixed_stream(%X: memref<?x?xf32, #tl.scope<global>>, %S: memref<?x?xf32, #tl.scope<global>>, %Y: memref<?x?xf32, #tl.scope<global>>, %gx: index, %nk: index) {
  tl.launch grid(%gx) threads(128) blocks(%bx) {
    %x = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    %s = tl.alloc_shared : memref<64xf32, #tl.scope<shared>>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %m = arith.muli %bx, %c64 : index
    tl.pipelined %k = %c0 to %nk step %c1 stages(2) {
      %kk = arith.muli %k, %c64 : index
      tl.copy %X[%m, %kk] [64, 64] to %x[] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
      tl.copy %S[%m, %k] [64, 1] to %s[] [64] : memref<?x?xf32, #tl.scope<global>> to memref<64xf32, #tl.scope<shared>>
      tl.parallel (%i, %j) in [64, 64] attributes {layout = #blk} {
        %v = memref.load %x[%i, %j] : memref<64x64xf32, #tl.scope<shared>>
        %w = memref.load %s[%i] : memref<64xf32, #tl.scope<shared>>
        %r = arith.mulf %v, %w : f32
        %col = arith.addi %kk, %j : index
        %row = arith.addi %m, %i : index
        memref.store %r, %Y[%row, %col] : memref<?x?xf32, #tl.scope<global>>
      }
    }
  }
  return
}

// -----

// FP4 tiles: sm_90a has no TMA for them and cp.async does not take 4-bit
// elements, so the loop stays a plain loop; on sm_100a TMA unpacks them (one
// byte per value in shared memory: 128 x 128 = 16384 transaction bytes).
// CHECK-LABEL: func.func @fp4_tile
// CHECK-NOT: tl.tma_maps
// CHECK-NOT: tl.alloc_barrier
// CHECK: tl.copy %arg0[%{{.*}}, %{{.*}}] [128, 128] to %{{.*}}[] [128, 128] : memref
// SM100-LABEL: func.func @fp4_tile
// SM100-SAME: tl.tma_maps = [{box = array<i64: 128, 128>, dtype = "float4_e2m1", param = 0 : i64, swizzle = "none", unpack_fp4}]
// SM100: tl.alloc_shared : memref<2x128x128xf4E2M1FN, #tl.scope<shared>>
// SM100: %[[TX:.*]] = arith.constant 16384 : index
// SM100-NEXT: tl.barrier_expect_tx %{{.*}}, %[[TX]] {arrive}
// SM100-NEXT: tl.copy %arg0{{.*}} {tma = 0 : i64}
#blk = #tl.layout<[128, 128], reg = [(1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (32, 0), (64, 0)], lane = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16)], warp = [(0, 32), (0, 64)]>
func.func @fp4_tile(%B: memref<?x?xf4E2M1FN, #tl.scope<global>>, %Y: memref<?x?xf32, #tl.scope<global>>, %gx: index, %nk: index) {
  tl.launch grid(%gx) threads(128) blocks(%bx) {
    %b = tl.alloc_shared : memref<128x128xf4E2M1FN, #tl.scope<shared>>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c128 = arith.constant 128 : index
    %n = arith.muli %bx, %c128 : index
    tl.pipelined %k = %c0 to %nk step %c1 stages(2) {
      %kk = arith.muli %k, %c128 : index
      tl.copy %B[%n, %kk] [128, 128] to %b[] [128, 128] : memref<?x?xf4E2M1FN, #tl.scope<global>> to memref<128x128xf4E2M1FN, #tl.scope<shared>>
      tl.parallel (%i, %j) in [128, 128] attributes {layout = #blk} {
        %v = memref.load %b[%i, %j] : memref<128x128xf4E2M1FN, #tl.scope<shared>>
        %f = tl.cast %v : f4E2M1FN to f32
        %row = arith.addi %n, %i : index
        %col = arith.addi %kk, %j : index
        memref.store %f, %Y[%row, %col] : memref<?x?xf32, #tl.scope<global>>
      }
    }
  }
  return
}

// -----

// The loop also writes an operand tile (dequantise in shared memory): the
// copies must not run ahead into a stage being rewritten, so the loop is left
// as it is (no rings, no barriers, no maps).
// CHECK-LABEL: func.func @written_in_loop
// CHECK-NOT: tl.tma_maps
// CHECK-NOT: tl.alloc_barrier
// CHECK: tl.alloc_shared : memref<128x64xbf16
// CHECK-NEXT: %[[B:.*]] = tl.alloc_shared : memref<128x64xbf16
// CHECK: tl.pipelined
// CHECK: tl.copy %arg1[%{{.*}}, %{{.*}}] [128, 64] to %[[B]][] [128, 64] : memref
// CHECK-NOT: tl.barrier
#sw = #tl.layout<[128, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0)]>
#acc = #tl.layout<[128, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
#blk = #tl.layout<[128, 64], reg = [(0, 1), (0, 2), (0, 4), (16, 0), (32, 0), (64, 0)], lane = [(0, 8), (0, 16), (0, 32), (1, 0), (2, 0)], warp = [(4, 0), (8, 0), (0, 0)]>
#smem = #tl.scope<shared, #sw>
#frag = #tl.scope<fragment, #acc>
func.func @written_in_loop(%A: memref<?x?xbf16, #tl.scope<global>>, %B: memref<?x?xbf16, #tl.scope<global>>, %gx: index, %gy: index, %nk: index) {
  tl.launch grid(%gx, %gy) threads(256) blocks(%bx, %by) {
    %a = tl.alloc_shared : memref<128x64xbf16, #smem>
    %b = tl.alloc_shared : memref<128x64xbf16, #smem>
    %acc = tl.alloc_fragment : memref<128x128xf32, #frag>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %c128 = arith.constant 128 : index
    tl.pipelined %k = %c0 to %nk step %c1 stages(2) {
      %m = arith.muli %by, %c128 : index
      %kk = arith.muli %k, %c64 : index
      tl.copy %A[%m, %kk] [128, 64] to %a[] [128, 64] : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #smem>
      %n = arith.muli %bx, %c128 : index
      tl.copy %B[%n, %kk] [128, 64] to %b[] [128, 64] : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #smem>
      tl.parallel (%i, %j) in [128, 64] attributes {layout = #blk} {
        %x = memref.load %b[%i, %j] : memref<128x64xbf16, #smem>
        %two = arith.constant 2.0 : bf16
        %y = arith.mulf %x, %two : bf16
        memref.store %y, %b[%i, %j] : memref<128x64xbf16, #smem>
      }
      tl.gemm %a, %b, %acc {transpose_b} : memref<128x64xbf16, #smem>, memref<128x64xbf16, #smem>, memref<128x128xf32, #frag>
    }
  }
  return
}

// -----

// A destination read after the loop (its last tile is used again) is not a
// ring slot: the loop stays as it is.
// CHECK-LABEL: func.func @read_after_loop
// CHECK-NOT: tl.alloc_barrier
// CHECK: %[[X:.*]] = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
// CHECK: tl.pipelined
// CHECK-NEXT: arith.muli
// CHECK-NEXT: tl.copy %arg0[%{{.*}}, %{{.*}}] [64, 64] to %[[X]][] [64, 64] : memref
// CHECK: memref.store
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: tl.copy %[[X]][] [64, 64] to %arg1
#blk = #tl.layout<[64, 64], reg = [(2, 0), (4, 0), (8, 0), (16, 0), (32, 0)], lane = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16)], warp = [(0, 32), (1, 0)]>
func.func @read_after_loop(%X: memref<?x?xf32, #tl.scope<global>>, %Y: memref<?x?xf32, #tl.scope<global>>, %gx: index, %nk: index) {
  tl.launch grid(%gx) threads(128) blocks(%bx) {
    %x = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %m = arith.muli %bx, %c64 : index
    tl.pipelined %k = %c0 to %nk step %c1 stages(2) {
      %kk = arith.muli %k, %c64 : index
      tl.copy %X[%m, %kk] [64, 64] to %x[] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
      tl.parallel (%i, %j) in [64, 64] attributes {layout = #blk} {
        %v = memref.load %x[%i, %j] : memref<64x64xf32, #tl.scope<shared>>
        %row = arith.addi %m, %i : index
        %col = arith.addi %kk, %j : index
        memref.store %v, %Y[%row, %col] : memref<?x?xf32, #tl.scope<global>>
      }
    }
    tl.copy %x[] [64, 64] to %Y[%m, %c0] [64, 64] : memref<64x64xf32, #tl.scope<shared>> to memref<?x?xf32, #tl.scope<global>>
  }
  return
}
