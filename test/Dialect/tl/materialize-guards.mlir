// tl-materialize-guards: accesses marked "guard" move into an scf.if on
// their indices (unsigned compares: negative indices fail too); a load
// yields zero bits of its type otherwise. "check" adds a tl.trap naming the
// kernel, the source location, the tensor, the indices and the shape.
// "proven" and "unchecked" accesses stay as they are.
// RUN: tl-opt %s --split-input-file --tl-materialize-guards | FileCheck %s

// CHECK-LABEL: func.func @guards
// CHECK: tl.launch
// CHECK: %[[M:.*]] = memref.dim %arg0, %c0
// CHECK: %[[IN0:.*]] = arith.cmpi ult, %[[ROW:.*]], %[[M]] : index
// CHECK: %[[IN1:.*]] = arith.cmpi ult, %[[COL:.*]], %c64{{.*}} : index
// CHECK: %[[OK:.*]] = arith.andi %[[IN0]], %[[IN1]] : i1
// CHECK: %[[V:.*]] = scf.if %[[OK]] -> (bf16) {
// CHECK-NEXT: %[[L:.*]] = memref.load %arg0[%[[ROW]], %[[COL]]] : memref<?x64xbf16, #tl.scope<global>>
// CHECK-NEXT: scf.yield %[[L]] : bf16
// CHECK-NEXT: } else {
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0.000000e+00 : bf16
// CHECK-NEXT: scf.yield %[[Z]] : bf16
// An FP8 load's zero is tl.cast of 0.0 (code 0).
// CHECK: scf.if %{{.*}} -> (f8E4M3FN) {
// CHECK: } else {
// CHECK: tl.cast %{{.*}} : f32 to f8E4M3FN
// A store is dropped when out of range.
// CHECK: scf.if %{{.*}} {
// CHECK-NEXT: memref.store %[[V]], %arg0[%{{.*}}, %{{.*}}] : memref<?x64xbf16, #tl.scope<global>>
// CHECK-NEXT: }
// CHECK-NOT: else
// CHECK: memref.load %arg0[%{{.*}}, %{{.*}}] {tl.bounds = "proven"}
// CHECK: memref.load %arg0[%{{.*}}, %{{.*}}] {tl.bounds = "unchecked"}
func.func @guards(%X: memref<?x64xbf16, #tl.scope<global>>, %Q: memref<?xf8E4M3FN, #tl.scope<global>>)
    attributes {tl.kernel, tl.arg_dims = [["M", 64], ["M"]]} {
  %c0 = arith.constant 0 : index
  %M = memref.dim %X, %c0 : memref<?x64xbf16, #tl.scope<global>>
  tl.launch grid(%M) threads(32) blocks(%b) {
    %c5 = arith.constant 5 : index
    %c70 = arith.constant 70 : index
    %v = memref.load %X[%b, %c70] {tl.bounds = "guard"} : memref<?x64xbf16, #tl.scope<global>>
    %q = memref.load %Q[%c5] {tl.bounds = "guard"} : memref<?xf8E4M3FN, #tl.scope<global>>
    memref.store %v, %X[%c5, %b] {tl.bounds = "guard"} : memref<?x64xbf16, #tl.scope<global>>
    %p = memref.load %X[%b, %c0] {tl.bounds = "proven"} : memref<?x64xbf16, #tl.scope<global>>
    %u = memref.load %X[%b, %c5] {tl.bounds = "unchecked"} : memref<?x64xbf16, #tl.scope<global>>
  }
  return
}

// -----

// CHECK-LABEL: func.func @checks
// CHECK: tl.launch
// CHECK: %[[N:.*]] = memref.dim %arg0, %c0
// CHECK: %[[OK:.*]] = arith.cmpi ult, %[[I:.*]], %[[N]] : index
// CHECK: scf.if %[[OK]] -> (f32) {
// CHECK: } else {
// CHECK-NEXT: tl.trap "kernel 'checks' at {{.*}}checks.tl:7:13: load of X[{}] is out of bounds of shape [{}]" %[[I]], %[[N]]
// CHECK: scf.if %{{.*}} {
// CHECK-NEXT: tl.atomic_add
// CHECK-NEXT: } else {
// CHECK-NEXT: tl.trap "kernel 'checks' at {{.*}}checks.tl:9:5: atomic_add of X[{}] is out of bounds of shape [{}]"
func.func @checks(%X: memref<?xf32, #tl.scope<global>> loc("X"("checks.tl":1:20)))
    attributes {tl.kernel, tl.arg_dims = [["N"]]} {
  %c0 = arith.constant 0 : index
  %N = memref.dim %X, %c0 : memref<?xf32, #tl.scope<global>>
  tl.launch grid(%N) threads(32) blocks(%b) {
    %c9 = arith.constant 9 : index
    %i = arith.addi %b, %c9 : index
    %v = memref.load %X[%i] {tl.bounds = "check"} : memref<?xf32, #tl.scope<global>> loc("checks.tl":7:13)
    tl.atomic_add %X[%i], %v {tl.bounds = "check"} : memref<?xf32, #tl.scope<global>>, f32 loc("checks.tl":9:5)
  }
  return
}
