// tl-cpu-warp-exchange: a warp exchange becomes a round through a per-block
// array in shared memory between two barriers: each thread stores its value
// at its index, then reads its source lane's slot (a shuffle, own value when
// the source is outside the warp) or walks its warp's 32 slots (a vote).
// RUN: tl-opt %s --split-input-file --tl-cpu-warp-exchange --canonicalize | FileCheck %s

// CHECK-LABEL: func.func @shuffle
// CHECK: %[[X:.+]] = tl.alloc_shared : memref<64xf32, #tl.scope<shared>>
// CHECK: %[[T:.+]] = tl.thread_id 0
// CHECK: memref.store %{{.*}}, %[[X]][%[[T]]]
// CHECK-NEXT: tl.sync_threads
// CHECK: %[[T2:.+]] = tl.thread_id 0
// CHECK: %[[LANE:.+]] = arith.remui %[[T2]], %c32
// CHECK: arith.xori %[[LANE]]
// CHECK: %[[GOT:.+]] = memref.load %[[X]]
// CHECK: arith.select %{{.*}}, %[[GOT]], %{{.*}} : f32
// CHECK: tl.sync_threads
// CHECK-NOT: tl.warp
func.func @shuffle(%y: memref<64xf32, #tl.scope<global>>, %v: f32) {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(64) blocks(%b) {
    %m = arith.constant 4 : i32
    %r = tl.warp "shfl_xor" %v, %m : f32 -> f32
    %t = tl.thread_id 0
    memref.store %r, %y[%t] : memref<64xf32, #tl.scope<global>>
  }
  return
}

// -----

// CHECK-LABEL: func.func @ballot
// CHECK: tl.alloc_shared : memref<64xi8, #tl.scope<shared>>
// CHECK: arith.extui %{{.*}} : i1 to i8
// CHECK: tl.sync_threads
// CHECK: scf.for {{.*}} iter_args
// CHECK: arith.shli
// CHECK: arith.ori
// CHECK: tl.sync_threads
func.func @ballot(%y: memref<64xi32, #tl.scope<global>>, %p: i1) {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(64) blocks(%b) {
    %r = tl.warp "ballot" %p : i1 -> i32
    %t = tl.thread_id 0
    memref.store %r, %y[%t] : memref<64xi32, #tl.scope<global>>
  }
  return
}
