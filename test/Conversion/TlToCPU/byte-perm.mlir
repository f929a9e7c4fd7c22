// RUN: tl-opt --tl-lower-to-cpu %s | FileCheck %s
// tl.byte_perm on the CPU: the pair b:a as one i64, each result byte shifted
// out of it by its 3-bit selector (CpuLang_test.cpp BytePerm runs it).

// CHECK-LABEL: func.func @byte_perm
// CHECK-NOT: tl.byte_perm
// CHECK: %[[A:.*]] = arith.extui %{{.*}} : i32 to i64
// CHECK: %[[B:.*]] = arith.extui %{{.*}} : i32 to i64
// CHECK: %[[HI:.*]] = arith.shli %[[B]], %{{.*}} : i64
// CHECK: %[[PAIR:.*]] = arith.ori %[[HI]], %[[A]] : i64
// CHECK-COUNT-4: arith.shrui %[[PAIR]]
// CHECK: arith.trunci %{{.*}} : i64 to i32
func.func @byte_perm(%y: memref<?xi32, #tl.scope<global>>, %a: i32, %b: i32, %s: i32)
    attributes {tl.kernel, tl.arg_dims = [["N"], unit, unit, unit]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%bx) {
    %r = tl.byte_perm %a, %b, %s : i32
    memref.store %r, %y[%c0] : memref<?xi32, #tl.scope<global>>
  }
  return
}
