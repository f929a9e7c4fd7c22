// tl-lower-to-nvvm, synchronisation: mbarrier arrays initialised once by
// thread 0 (count per barrier, fence, then a block or cluster barrier),
// phase waits as try_wait.parity loops, arrivals with and without
// transaction bytes, one arrival per warp, block barriers, and the cluster
// barriers that keep a cluster's blocks alive while peers may signal them.
// RUN: tl-opt %s --split-input-file --tl-lower-to-nvvm --canonicalize | FileCheck %s

// Two arrays: full[2] expecting 1 arrival at bytes 0 and 8, empty[2]
// expecting 4 at 16 and 24. Barrier %s of an array is 8 * %s bytes in.
// CHECK-LABEL: llvm.func @mbarriers
// CHECK: %[[BASE:.*]] = llvm.mlir.addressof @__tl_smem : !llvm.ptr<3>
// CHECK: %[[P:.*]] = arith.index_cast %arg2 : i64 to index
// CHECK: %[[T0:.*]] = arith.cmpi eq, %{{.*}}, %c0 : index
// CHECK-NEXT: scf.if %[[T0]] {
// CHECK-NEXT: %[[B32:.*]] = llvm.ptrtoint %[[BASE]] : !llvm.ptr<3> to i32
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "mbarrier.init.shared::cta.b64 [$0], $1;", "r,r,~{memory}" %[[B32]], %c1_i32
// CHECK-NEXT: %[[F1:.*]] = arith.addi %[[B32]], %c8_i32 : i32
// CHECK-NEXT: llvm.inline_asm {{.*}}"mbarrier.init.shared::cta.b64 [$0], $1;", "r,r,~{memory}" %[[F1]], %c1_i32
// CHECK-NEXT: %[[E0:.*]] = arith.addi %[[B32]], %c16_i32 : i32
// CHECK-NEXT: llvm.inline_asm {{.*}}"mbarrier.init.shared::cta.b64 [$0], $1;", "r,r,~{memory}" %[[E0]], %c4_i32
// CHECK-NEXT: %[[E1:.*]] = arith.addi %[[B32]], %c24_i32 : i32
// CHECK-NEXT: llvm.inline_asm {{.*}}"mbarrier.init.shared::cta.b64 [$0], $1;", "r,r,~{memory}" %[[E1]], %c4_i32
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "fence.mbarrier_init.release.cluster;"
// CHECK-NEXT: {{^ *}}}{{$}}
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK-NEXT: %[[EMPTY:.*]] = llvm.getelementptr %[[BASE]][16] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK-NEXT: %[[EB:.*]] = llvm.getelementptr %[[EMPTY]][%arg1] : (!llvm.ptr<3>, i64) -> !llvm.ptr<3>, i64
// CHECK-NEXT: %[[EB32:.*]] = llvm.ptrtoint %[[EB]] : !llvm.ptr<3> to i32
// CHECK-NEXT: %[[P32:.*]] = arith.index_cast %[[P]] : index to i32
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "{\0A.reg .pred p;\0ATL_WAIT_${:uid}:\0Ambarrier.try_wait.parity.shared::cta.b64 p, [$0], $1;\0A@!p bra TL_WAIT_${:uid};\0A}", "r,r,~{memory}" %[[EB32]], %[[P32]]
// CHECK-NEXT: %[[FB:.*]] = llvm.getelementptr %[[BASE]][%arg1] : (!llvm.ptr<3>, i64) -> !llvm.ptr<3>, i64
// CHECK-NEXT: %[[FB32:.*]] = llvm.ptrtoint %[[FB]]
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r,~{memory}" %[[FB32]], %c16384_i32
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [$0], $1;", "r,r,~{memory}" %{{.*}}, %c16384_i32
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "mbarrier.arrive.shared::cta.b64 _, [$0];", "r,~{memory}"
// CHECK: mbarrier.try_wait.parity
// The per-warp arrival: the lanes converge, lane 0 arrives.
// CHECK: %[[EB2:.*]] = llvm.getelementptr %[[EMPTY]][%arg1]
// CHECK-NEXT: %[[EB2_32:.*]] = llvm.ptrtoint %[[EB2]]
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.warp.sync 0xffffffff;"
// CHECK-NEXT: nvvm.read.ptx.sreg.tid.x
// CHECK-NEXT: %[[T:.*]] = arith.index_cast
// CHECK-NEXT: %[[LANE:.*]] = arith.remui %[[T]], %c32 : index
// CHECK-NEXT: %[[L0:.*]] = arith.cmpi eq, %[[LANE]], %c0 : index
// CHECK-NEXT: scf.if %[[L0]] {
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "mbarrier.arrive.shared::cta.b64 _, [$0];", "r,~{memory}" %[[EB2_32]]
// CHECK-NEXT: {{^ *}}}{{$}}
// tl.sync_threads outside roles: the block barrier.
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK-NEXT: llvm.return
func.func @mbarriers(%n: index, %s: index, %p: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 32 : i64} {
    %full = tl.alloc_barrier arrive_count(1) {tl.offset = 0 : i64} : !tl.barrier<2>
    %empty = tl.alloc_barrier arrive_count(4) {tl.offset = 16 : i64} : !tl.barrier<2>
    %bytes = arith.constant 16384 : index
    tl.barrier_wait %empty[%s], %p : !tl.barrier<2>
    tl.barrier_expect_tx %full[%s], %bytes {arrive} : !tl.barrier<2>
    tl.barrier_expect_tx %full[%s], %bytes : !tl.barrier<2>
    tl.barrier_arrive %full[%s] : !tl.barrier<2>
    tl.barrier_wait %full[%s], %p : !tl.barrier<2>
    tl.barrier_arrive %empty[%s] {per_warp} : !tl.barrier<2>
    tl.sync_threads
  }
  return
}

// -----

// In a cluster the initialised barriers must be visible to the peer blocks
// before anyone signals them (a cluster barrier instead of bar.sync 0), and
// no block exits while a peer may still arrive on its barriers.
// CHECK-LABEL: llvm.func @cluster
// CHECK-SAME: tlc_cluster = 2 : i64
// CHECK: fence.mbarrier_init.release.cluster;
// CHECK-NEXT: {{^ *}}}{{$}}
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "barrier.cluster.arrive.release.aligned;"
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "barrier.cluster.wait.acquire.aligned;"
// CHECK-NOT: bar.sync
// CHECK: mbarrier.arrive.shared::cta.b64
// CHECK-NEXT: {{^ *}}}{{$}}
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "barrier.cluster.arrive.release.aligned;"
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "barrier.cluster.wait.acquire.aligned;"
// CHECK-NEXT: llvm.return
func.func @cluster(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) cluster(2, 1) blocks(%bx) attributes {tl.smem_bytes = 8 : i64} {
    %c0 = arith.constant 0 : index
    %bar = tl.alloc_barrier arrive_count(4) {tl.offset = 0 : i64} : !tl.barrier<1>
    tl.barrier_arrive %bar[%c0] {per_warp} : !tl.barrier<1>
  }
  return
}
