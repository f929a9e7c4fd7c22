// RUN: tl-opt --tl-cpu-thread-loops --split-input-file %s | FileCheck %s
// RUN: tl-opt --tl-cpu-thread-loops --tl-lower-to-cpu --split-input-file %s | FileCheck %s --check-prefix=LOWER

// A tree reduction: the per-thread code between barriers becomes one loop
// over the block's threads each; the uniform loop around the barrier stays at
// block level and its body is split too. Block-level arithmetic (the stride)
// is computed once, outside the thread loops.
// CHECK-LABEL: func.func @tree
// CHECK: tl.launch
// CHECK-NOT: tl.sync_threads
// CHECK-NOT: tl.thread_id
// CHECK: scf.for %[[T0:.*]] = %{{.*}} to %c64{{.*}} step %{{.*}} {
// CHECK:   memref.store %{{.*}}, %{{.*}}[%[[T0]]] : memref<64xf32, #tl.scope<shared>>
// CHECK: } {tl.thread_loop}
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   %[[S:.*]] = arith.shrui %{{.*}}, %[[K]] : index
// CHECK:   scf.for %[[T1:.*]] = %{{.*}} to %c64{{.*}} step %{{.*}} {
// CHECK:     arith.cmpi ult, %[[T1]], %[[S]] : index
// CHECK:   } {tl.thread_loop}
// CHECK-NEXT: }
// CHECK: scf.for %[[T2:.*]] = {{.*}} {
// CHECK:   arith.cmpi eq, %[[T2]]
// CHECK: } {tl.thread_loop}
// LOWER-LABEL: func.func @tree
// LOWER-NOT: tl.
func.func @tree(%x: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [["N"]]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(64) blocks(%b) {
    %s = tl.alloc_shared : memref<64xf32, #tl.scope<shared>>
    %t = tl.thread_id 0
    %v = memref.load %x[%t] : memref<?xf32, #tl.scope<global>>
    memref.store %v, %s[%t] : memref<64xf32, #tl.scope<shared>>
    tl.sync_threads
    %c0 = arith.constant 0 : index
    %c6 = arith.constant 6 : index
    %c32 = arith.constant 32 : index
    scf.for %k = %c0 to %c6 step %c1 {
      %stride = arith.shrui %c32, %k : index
      %lt = arith.cmpi ult, %t, %stride : index
      scf.if %lt {
        %o = arith.addi %t, %stride : index
        %a = memref.load %s[%t] : memref<64xf32, #tl.scope<shared>>
        %bb = memref.load %s[%o] : memref<64xf32, #tl.scope<shared>>
        %sum = arith.addf %a, %bb : f32
        memref.store %sum, %s[%t] : memref<64xf32, #tl.scope<shared>>
      }
      tl.sync_threads
    }
    %is0 = arith.cmpi eq, %t, %c0 : index
    scf.if %is0 {
      %r = memref.load %s[%c0] : memref<64xf32, #tl.scope<shared>>
      memref.store %r, %x[%b] : memref<?xf32, #tl.scope<global>>
    }
  }
  return
}

// -----

// A value loaded before a barrier and used after it is kept per thread in a
// (threads x T) array: stored where it is loaded, loaded in the next thread
// loop. The thread index itself is pure and recomputed, not stored.
// CHECK-LABEL: func.func @across
// CHECK: %[[ARR:.*]] = memref.alloc() {alignment = 64 : i64} : memref<32xf32>
// CHECK: tl.launch
// CHECK: scf.for %[[T0:.*]] =
// CHECK:   %[[V:.*]] = memref.load
// CHECK:   memref.store %[[V]], %[[ARR]][%[[T0]]] : memref<32xf32>
// CHECK: } {tl.thread_loop}
// CHECK: scf.for %[[T1:.*]] =
// CHECK:   %[[W:.*]] = memref.load %[[ARR]][%[[T1]]] : memref<32xf32>
// CHECK:   arith.addi %[[T1]], %{{.*}} : index
// CHECK:   memref.store %[[W]]
// CHECK: } {tl.thread_loop}
// CHECK: memref.dealloc %[[ARR]] : memref<32xf32>
func.func @across(%x: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [["N"]]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    %t = tl.thread_id 0
    %v = memref.load %x[%t] : memref<?xf32, #tl.scope<global>>
    tl.sync_threads
    %o = arith.addi %t, %c1 : index
    memref.store %v, %x[%o] : memref<?xf32, #tl.scope<global>>
  }
  return
}

// -----

// Locals become per-thread: a leading dimension of `threads`, each thread's
// uses through a view of its own slot; inside T.Parallel (no thread) and in
// tile ops that run once per block, thread 0's slot. Tile ops run once per
// block between the thread loops.
// CHECK-LABEL: func.func @locals
// CHECK: %[[L:.*]] = tl.alloc_local : memref<32x1xf32, #tl.scope<local>>
// CHECK: scf.for %[[T:.*]] =
// CHECK:   tl.view %[[L]][%[[T]], %{{.*}}] [1, 1] : memref<32x1xf32, #tl.scope<local>> to memref<1xf32, #tl.scope<local>>
// CHECK: } {tl.thread_loop}
// CHECK: tl.fill
// CHECK: tl.parallel
// CHECK:   %[[Z:.*]] = arith.constant 0 : index
// CHECK:   tl.view %[[L]][%[[Z]], %{{.*}}] [1, 1]
func.func @locals(%x: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [["N"]]} {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    %s = tl.alloc_shared : memref<32xf32, #tl.scope<shared>>
    %l = tl.alloc_local : memref<1xf32, #tl.scope<local>>
    %t = tl.thread_id 0
    %v = memref.load %x[%t] : memref<?xf32, #tl.scope<global>>
    memref.store %v, %l[%c0] : memref<1xf32, #tl.scope<local>>
    %z = arith.constant 0.0 : f32
    tl.fill %s, %z : memref<32xf32, #tl.scope<shared>>
    tl.parallel (%i) in [32] {
      %a = memref.load %l[%c0] : memref<1xf32, #tl.scope<local>>
      memref.store %a, %s[%i] : memref<32xf32, #tl.scope<shared>>
    }
  }
  return
}

// -----

// Launches without thread indices are left as they are.
// CHECK-LABEL: func.func @plain
// CHECK-NOT: tl.thread_loop
// CHECK: tl.sync_threads
func.func @plain(%x: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [["N"]]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    tl.sync_threads
  }
  return
}
