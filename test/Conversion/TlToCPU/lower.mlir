// RUN: tl-opt --tl-lower-to-cpu %s | FileCheck %s
// RUN: tl-opt --tl-lower-to-cpu %s | tl-opt --canonicalize --arith-expand --convert-scf-to-cf --convert-math-to-llvm --finalize-memref-to-llvm --convert-vector-to-llvm --convert-arith-to-llvm --convert-cf-to-llvm --convert-func-to-llvm --convert-ub-to-llvm --reconcile-unrealized-casts | FileCheck %s --check-prefix=LLVM

// The kernel becomes the abi.md CPU entry: args array, block range.
// CHECK-LABEL: func.func @k(%{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64)
// CHECK-NOT: tl.
// Buffers are allocated once, before the block loop; f8 is stored as i8.
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<32x64xi8>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<32x32xf32>
// CHECK: scf.for
// Ragged copies: bounds check, zero on out-of-bounds reads.
// CHECK: arith.cmpi ult
// CHECK: scf.if
// CHECK: memref.dealloc
// LLVM: llvm.func @k(%{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64)
// LLVM-NOT: builtin.unrealized_conversion_cast
func.func @k(%A: memref<?x?xf8E4M3FN, #tl.scope<global>>, %C: memref<?x?xbf16, #tl.scope<global>>)
    attributes {tl.kernel, tl.arg_dims = [["M", "K"], ["M", "M"]]} {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %m = memref.dim %A, %c0 : memref<?x?xf8E4M3FN, #tl.scope<global>>
  %g = arith.ceildivsi %m, %c32 : index
  tl.launch grid(%g, %g) threads(128) blocks(%bx, %by) {
    %As = tl.alloc_shared : memref<32x64xf8E4M3FN, #tl.scope<shared>>
    %acc = tl.alloc_fragment : memref<32x32xf32, #tl.scope<fragment>>
    %mx = tl.alloc_fragment : memref<32xf32, #tl.scope<fragment>>
    %r = arith.muli %by, %c32 : index
    tl.copy %A[%r, %c0] [32, 64] to %As[] [32, 64]
        : memref<?x?xf8E4M3FN, #tl.scope<global>> to memref<32x64xf8E4M3FN, #tl.scope<shared>>
    tl.gemm %As, %As, %acc {transpose_b, clear_accum}
        : memref<32x64xf8E4M3FN, #tl.scope<shared>>, memref<32x64xf8E4M3FN, #tl.scope<shared>>,
          memref<32x32xf32, #tl.scope<fragment>>
    tl.reduce absmax %acc, %mx dim(1) {clear}
        : memref<32x32xf32, #tl.scope<fragment>>, memref<32xf32, #tl.scope<fragment>>
    tl.parallel (%i, %j) in [32, 32] {
      %v = memref.load %acc[%i, %j] : memref<32x32xf32, #tl.scope<fragment>>
      %s = memref.load %mx[%i] : memref<32xf32, #tl.scope<fragment>>
      %q = arith.divf %v, %s : f32
      memref.store %q, %acc[%i, %j] : memref<32x32xf32, #tl.scope<fragment>>
    }
    %c = arith.muli %bx, %c32 : index
    tl.copy %acc[] [32, 32] to %C[%r, %c] [32, 32]
        : memref<32x32xf32, #tl.scope<fragment>> to memref<?x?xbf16, #tl.scope<global>>
  }
  return
}
