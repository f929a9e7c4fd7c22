// RUN: tl-opt --tl-lower-to-cpu %s | FileCheck %s
// Conversions are integer emulation (no arith.truncf to narrow types) and
// decode tables; FP4 tensors are packed bytes accessed by nibble.

// CHECK-DAG: memref.global "private" constant @__tl_cpu_e2m1_to_f32 : memref<16xf32>
// CHECK-LABEL: func.func @casts
// CHECK-NOT: arith.truncf
// CHECK-NOT: arith.extf
// Packed FP4 store: clear the nibble, then set it, atomically.
// CHECK: memref.atomic_rmw andi
// CHECK: memref.atomic_rmw ori
func.func @casts(%x: memref<?xf32, #tl.scope<global>>, %y: memref<?xf4E2M1FN, #tl.scope<global>>,
                 %z: memref<?xbf16, #tl.scope<global>>)
    attributes {tl.kernel, tl.arg_dims = [["N"], ["N"], ["N"]]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    %v = memref.load %x[%c0] : memref<?xf32, #tl.scope<global>>
    %q = tl.cast %v : f32 to f4E2M1FN
    memref.store %q, %y[%c0] : memref<?xf4E2M1FN, #tl.scope<global>>
    %r = memref.load %y[%c1] : memref<?xf4E2M1FN, #tl.scope<global>>
    %f = tl.cast %r : f4E2M1FN to f32
    %h = arith.truncf %f : f32 to bf16
    memref.store %h, %z[%c0] : memref<?xbf16, #tl.scope<global>>
  }
  return
}
