// Folding and side-effect modelling: identity casts fold, allocations are
// never merged, pure id ops are.
// RUN: tl-opt %s --canonicalize --cse | FileCheck %s

// CHECK-LABEL: func.func @fold_and_cse
func.func @fold_and_cse(%n: index, %x: f32) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    // CHECK-NOT: tl.cast %{{.*}} : f32 to f32
    %y = tl.cast %x : f32 to f32
    // CHECK: tl.cast %{{.*}} : f32 to bf16
    %z = tl.cast %y : f32 to bf16
    // CHECK-COUNT-2: tl.alloc_shared
    %a = tl.alloc_shared : memref<16xf32, #tl.scope<shared>>
    %c = tl.alloc_shared : memref<16xf32, #tl.scope<shared>>
    // CHECK-COUNT-1: tl.thread_id 0
    // CHECK-NOT: tl.thread_id
    %t0 = tl.thread_id 0
    %t1 = tl.thread_id 0
    tl.print "ids" %t0 : index
    tl.print "ids" %t1 : index
    tl.print "z" %z : bf16
    tl.print "a" %a : memref<16xf32, #tl.scope<shared>>
    tl.print "c" %c : memref<16xf32, #tl.scope<shared>>
  }
  return
}

// An empty launch is still the kernel: it is not erased as dead code.
// CHECK-LABEL: func.func @empty_kernel
// CHECK: tl.launch
func.func @empty_kernel() attributes {tl.kernel} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    %a = tl.alloc_shared : memref<16xf32, #tl.scope<shared>>
  }
  return
}
