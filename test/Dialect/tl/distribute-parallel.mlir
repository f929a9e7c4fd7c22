// tl-distribute-parallel: loops become per-slot code on the thread index,
// register buffers are accessed by slot.
// RUN: tl-opt %s --split-input-file --tl-infer-layouts --tl-distribute-parallel --canonicalize | FileCheck %s

// A row statistic broadcast over a 64x16 wgmma accumulator (one warpgroup):
// slots 0, 1 (rows r) read the statistic's slot 0, slots 2, 3 (rows r + 8)
// its slot 1, and so on; every slot's row is lane / 4 + 16 * warp (+ 8).
// CHECK-LABEL: func.func @row_broadcast
// CHECK-NOT: tl.parallel
// CHECK: %[[A0:.*]] = tl.slot_load %[[ACC:.*]][%c0]
// CHECK: %[[R0:.*]] = tl.slot_load %[[ROW:.*]][%c0]
// CHECK: arith.subf %[[A0]], %[[R0]]
// CHECK: tl.slot_store {{.*}}, %[[ACC]][%c0]
// CHECK: tl.slot_load %[[ACC]][%c1]
// CHECK: tl.slot_load %[[ROW]][%c0]
// CHECK: tl.slot_load %[[ACC]][%c2]
// CHECK: tl.slot_load %[[ROW]][%c1]
// CHECK: tl.slot_load %[[ACC]][%c7]
// CHECK: tl.slot_load %[[ROW]][%c1]
// CHECK-NOT: tl.slot_load %[[ACC]][%c8]
func.func @row_broadcast(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %q = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %k = tl.alloc_shared : memref<16x64xbf16, #tl.scope<shared>>
    %s = tl.alloc_fragment : memref<64x16xf32, #tl.scope<fragment>>
    %m = tl.alloc_fragment : memref<64xf32, #tl.scope<fragment>>
    tl.gemm %q, %k, %s {clear_accum, transpose_b} : memref<64x64xbf16, #tl.scope<shared>>, memref<16x64xbf16, #tl.scope<shared>>, memref<64x16xf32, #tl.scope<fragment>>
    tl.reduce max %s, %m dim(1) {clear} : memref<64x16xf32, #tl.scope<fragment>>, memref<64xf32, #tl.scope<fragment>>
    tl.parallel (%i, %j) in [64, 16] {
      %x = memref.load %s[%i, %j] : memref<64x16xf32, #tl.scope<fragment>>
      %r = memref.load %m[%i] : memref<64xf32, #tl.scope<fragment>>
      %d = arith.subf %x, %r : f32
      memref.store %d, %s[%i, %j] : memref<64x16xf32, #tl.scope<fragment>>
    }
  }
  return
}

// -----

// 96 points over 128 threads (padded to 128): the last lanes of the last
// warp hold no point, so the slot is guarded; the loop writes global memory
// from a blocked distribution with no replicas, so no replica guard.
// CHECK-LABEL: func.func @padded
// CHECK: %[[TID:.*]] = tl.thread_id 0
// CHECK: %[[I:.*]] = arith.addi
// CHECK: %[[OK:.*]] = arith.cmpi ult, %[[I]], %c96
// CHECK: scf.if %[[OK]] {
// CHECK:   memref.store
// CHECK: }
func.func @padded(%n: index, %out: memref<?xf32, #tl.scope<global>>) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    tl.parallel (%i) in [96] {
      %c = arith.constant 1.0 : f32
      memref.store %c, %out[%i] : memref<?xf32, #tl.scope<global>>
    }
  }
  return
}

// -----

// A row statistic (replicated over the 4 lanes of a quad) stored to global
// memory: one lane per quad stores.
// CHECK-LABEL: func.func @replica_store
// CHECK: %[[TID:.*]] = tl.thread_id 0
// CHECK: %[[LANE:.*]] = arith.remui %[[TID]], %c32
// CHECK: %[[Q:.*]] = arith.andi %[[LANE]], %c3
// CHECK: %[[LEAD:.*]] = arith.cmpi eq, %[[Q]], %c0
// CHECK: scf.if %[[LEAD]] {
// CHECK:   memref.store
func.func @replica_store(%n: index, %out: memref<?xf32, #tl.scope<global>>) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %q = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %k = tl.alloc_shared : memref<16x64xbf16, #tl.scope<shared>>
    %s = tl.alloc_fragment : memref<64x16xf32, #tl.scope<fragment>>
    %m = tl.alloc_fragment : memref<64xf32, #tl.scope<fragment>>
    tl.gemm %q, %k, %s {clear_accum, transpose_b} : memref<64x64xbf16, #tl.scope<shared>>, memref<16x64xbf16, #tl.scope<shared>>, memref<64x16xf32, #tl.scope<fragment>>
    tl.reduce max %s, %m dim(1) {clear} : memref<64x16xf32, #tl.scope<fragment>>, memref<64xf32, #tl.scope<fragment>>
    tl.parallel (%i) in [64] {
      %r = memref.load %m[%i] : memref<64xf32, #tl.scope<fragment>>
      memref.store %r, %out[%i] : memref<?xf32, #tl.scope<global>>
    }
  }
  return
}

// -----

// A replicated loop (16 points, 128 threads) whose only effect is an in-place
// update of a shared tile runs in the first replica alone: the load is inside
// the leader's branch too (other replicas' loads would race with its store).
// CHECK-LABEL: func.func @replica_in_place
// CHECK: %[[LEAD:.*]] = arith.andi %{{.*}}, %{{.*}} : i1
// CHECK: scf.if %[[LEAD]] {
// CHECK-NEXT: %[[V:.*]] = memref.load %{{.*}} : memref<4x4xf32, #tl.scope<shared>>
// CHECK: memref.store %{{.*}}, %{{.*}} : memref<4x4xf32, #tl.scope<shared>>
// A loop that also writes a register buffer runs in every replica; only its
// shared store is guarded.
// CHECK: %[[W:.*]] = memref.load %{{.*}} : memref<4x4xf32, #tl.scope<shared>>
// CHECK: tl.slot_store
// CHECK: scf.if
// CHECK-NEXT: memref.store %{{.*}}, %{{.*}} : memref<4x4xf32, #tl.scope<shared>>
func.func @replica_in_place(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %c = tl.alloc_shared : memref<4x4xf32, #tl.scope<shared>>
    %f = tl.alloc_fragment : memref<4x4xf32, #tl.scope<fragment>>
    %two = arith.constant 2.0 : f32
    tl.parallel (%i, %j) in [4, 4] {
      %v = memref.load %c[%i, %j] : memref<4x4xf32, #tl.scope<shared>>
      %w = arith.mulf %v, %two : f32
      memref.store %w, %c[%i, %j] : memref<4x4xf32, #tl.scope<shared>>
    }
    tl.parallel (%i, %j) in [4, 4] {
      %v = memref.load %c[%i, %j] : memref<4x4xf32, #tl.scope<shared>>
      memref.store %v, %f[%i, %j] : memref<4x4xf32, #tl.scope<fragment>>
      %w = arith.mulf %v, %two : f32
      memref.store %w, %c[%i, %j] : memref<4x4xf32, #tl.scope<shared>>
    }
  }
  return
}

// -----

// A local (replicated) indexed by a run-time value: a run-time slot.
// CHECK-LABEL: func.func @stray
// CHECK: tl.slot_store %{{.*}}, %{{.*}}[%arg1]
func.func @stray(%n: index, %i: index) {
  tl.launch grid(%n) threads(32) blocks(%b) {
    %l = tl.alloc_local : memref<8xf32, #tl.scope<local>>
    %c = arith.constant 2.0 : f32
    memref.store %c, %l[%i] : memref<8xf32, #tl.scope<local>>
  }
  return
}
