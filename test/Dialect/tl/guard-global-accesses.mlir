// tl-guard-global-accesses: every element access of a global tensor gets a
// tl.bounds decision; guards are left out only where the indices are proven
// in range for every launch.
// RUN: tl-opt %s --split-input-file --tl-guard-global-accesses | FileCheck %s
// RUN: tl-opt %s --split-input-file --tl-guard-global-accesses=check-bounds=true | FileCheck %s --check-prefix=CHECKMODE

// Block index below its grid size M and a loop variable below K against a
// tensor of dims (M, K): proven. A clamp T.min(k + 1, K - 1) too. The store
// S[m] with S: (M,) is proven; a constant index into a static size too.
// CHECK-LABEL: func.func @proven
// CHECK: memref.load %arg0[%{{.*}}, %{{.*}}] {tl.bounds = "proven"}
// CHECK: memref.load %arg0[%{{.*}}, %{{.*}}] {tl.bounds = "proven"}
// CHECK: memref.load %arg2[%{{.*}}] {tl.bounds = "proven"}
// CHECK: memref.store %{{.*}}, %arg1[%{{.*}}] {tl.bounds = "proven"}
// CHECKMODE-LABEL: func.func @proven
// CHECKMODE-NOT: "check"
// CHECKMODE: return
func.func @proven(%X: memref<?x?xf32, #tl.scope<global>>, %S: memref<?xf32, #tl.scope<global>>,
                  %W: memref<8xf32, #tl.scope<global>>)
    attributes {tl.kernel, tl.arg_dims = [["M", "K"], ["M"], [8]]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c7 = arith.constant 7 : index
  %M = memref.dim %X, %c0 : memref<?x?xf32, #tl.scope<global>>
  %K = memref.dim %X, %c1 : memref<?x?xf32, #tl.scope<global>>
  tl.launch grid(%M) threads(128) blocks(%m) {
    %acc = tl.alloc_local : memref<1xf32, #tl.scope<local>>
    scf.for %k = %c0 to %K step %c1 {
      %a = memref.load %X[%m, %k] : memref<?x?xf32, #tl.scope<global>>
      %k1 = arith.addi %k, %c1 : index
      %km1 = arith.subi %K, %c1 : index
      %kc = arith.minsi %k1, %km1 : index
      %b = memref.load %X[%m, %kc] : memref<?x?xf32, #tl.scope<global>>
      %s = arith.addf %a, %b : f32
      memref.store %s, %acc[%c0] : memref<1xf32, #tl.scope<local>>
    }
    %w = memref.load %W[%c7] : memref<8xf32, #tl.scope<global>>
    memref.store %w, %S[%m] : memref<?xf32, #tl.scope<global>>
  }
  return
}

// -----

// A tile row by * 64 + i may run past M (the last tile), an index read from
// a tensor is data, a constant past a static size is out, and another
// tensor's size name (N) says nothing about M: all guarded. The register
// buffer is not a global tensor (no decision).
// CHECK-LABEL: func.func @guarded
// CHECK: memref.load %arg1[%{{.*}}] {tl.bounds = "proven"}
// CHECK: memref.load %arg0[%{{.*}}, %{{.*}}] {tl.bounds = "guard"}
// CHECK: memref.load %arg0[%{{.*}}, %{{.*}}] {tl.bounds = "guard"}
// CHECK: memref.store %{{.*}}, %arg2[%{{.*}}, %{{.*}}] {tl.bounds = "guard"}
// CHECK: memref.store %{{.*}}, %arg3[%{{.*}}] {tl.bounds = "guard"}
// CHECK: memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<64xf32, #tl.scope<fragment>>
// CHECKMODE-LABEL: func.func @guarded
// CHECKMODE: {tl.bounds = "proven"}
// CHECKMODE: {tl.bounds = "check"}
// CHECKMODE: {tl.bounds = "check"}
// CHECKMODE: {tl.bounds = "check"}
// CHECKMODE: {tl.bounds = "check"}
func.func @guarded(%X: memref<?x64xf32, #tl.scope<global>>, %Idx: memref<?xi32, #tl.scope<global>>,
                   %Y: memref<?x64xf32, #tl.scope<global>>, %W: memref<8xf32, #tl.scope<global>>)
    attributes {tl.kernel, tl.arg_dims = [["M", 64], ["N"], ["N", 64], [8]]} {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %N = memref.dim %Idx, %c0 : memref<?xi32, #tl.scope<global>>
  tl.launch grid(%N) threads(128) blocks(%by) {
    %f = tl.alloc_fragment : memref<64xf32, #tl.scope<fragment>>
    %r = memref.load %Idx[%by] : memref<?xi32, #tl.scope<global>>
    %row = arith.index_cast %r : i32 to index
    tl.parallel (%i) in [64] {
      %base = arith.muli %by, %c64 : index
      %t = arith.addi %base, %i : index
      %a = memref.load %X[%t, %i] : memref<?x64xf32, #tl.scope<global>>
      %b = memref.load %X[%row, %i] : memref<?x64xf32, #tl.scope<global>>
      %s = arith.addf %a, %b : f32
      memref.store %s, %Y[%by, %t] : memref<?x64xf32, #tl.scope<global>>
      memref.store %s, %W[%c8] : memref<8xf32, #tl.scope<global>>
      memref.store %s, %f[%i] : memref<64xf32, #tl.scope<fragment>>
    }
  }
  return
}

// -----

// `with T.no_bounds_check():` (MLIRGen's "unchecked") is kept, except under
// --check-bounds, which checks opted-out accesses too; a proof still wins.
// CHECK-LABEL: func.func @unchecked
// CHECK: memref.load %arg0[%{{.*}}] {tl.bounds = "unchecked"}
// CHECK: memref.store %{{.*}}, %arg0[%{{.*}}] {tl.bounds = "proven"}
// CHECKMODE-LABEL: func.func @unchecked
// CHECKMODE: memref.load %arg0[%{{.*}}] {tl.bounds = "check"}
// CHECKMODE: memref.store %{{.*}}, %arg0[%{{.*}}] {tl.bounds = "proven"}
func.func @unchecked(%X: memref<?xf32, #tl.scope<global>>, %n: index)
    attributes {tl.kernel, tl.arg_dims = [["N"], unit]} {
  %c0 = arith.constant 0 : index
  %N = memref.dim %X, %c0 : memref<?xf32, #tl.scope<global>>
  tl.launch grid(%N) threads(32) blocks(%b) {
    %v = memref.load %X[%n] {tl.bounds = "unchecked"} : memref<?xf32, #tl.scope<global>>
    memref.store %v, %X[%b] {tl.bounds = "unchecked"} : memref<?xf32, #tl.scope<global>>
  }
  return
}

// -----

// A ring slot k % 3 (MLIRGen's Python modulo) in a T.Pipelined loop, a vector
// atomic whose two lanes end inside the row, and one that may not.
// CHECK-LABEL: func.func @modulo_and_atomics
// CHECK: memref.load %arg0[%{{.*}}] {tl.bounds = "proven"}
// CHECK: tl.atomic_add %arg1[%{{.*}}, %{{.*}}], %{{.*}} {tl.bounds = "proven"}
// CHECK: tl.atomic_add %arg1[%{{.*}}, %{{.*}}], %{{.*}} {tl.bounds = "guard"}
func.func @modulo_and_atomics(%R: memref<3xf32, #tl.scope<global>>, %C: memref<?x64xf32, #tl.scope<global>>)
    attributes {tl.kernel, tl.arg_dims = [[3], ["M", 64]]} {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %c62 = arith.constant 62 : index
  %M = memref.dim %C, %c0 : memref<?x64xf32, #tl.scope<global>>
  tl.launch grid(%M) threads(32) blocks(%b) {
    %c1 = arith.constant 1 : index
    %c10 = arith.constant 10 : index
    tl.pipelined %k = %c0 to %c10 step %c1 stages(2) {
      %r = arith.remsi %k, %c3 : index
      %neg = arith.cmpi slt, %r, %c0 : index
      %rk = arith.addi %r, %c3 : index
      %slot = arith.select %neg, %rk, %r : index
      %v = memref.load %R[%slot] : memref<3xf32, #tl.scope<global>>
      %v2 = vector.broadcast %v : f32 to vector<2xf32>
      tl.atomic_add %C[%b, %c62], %v2 : memref<?x64xf32, #tl.scope<global>>, vector<2xf32>
      tl.atomic_add %C[%b, %b], %v2 : memref<?x64xf32, #tl.scope<global>>, vector<2xf32>
    }
  }
  return
}
