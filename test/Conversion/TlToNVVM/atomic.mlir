// tl-lower-to-nvvm, atomic adds: scalars through atomicrmw, 2- and 4-lane
// f32 vectors through the sm_90 vector red/atom instructions (returning the
// old values when asked), other vectors lane by lane.
// RUN: tl-opt %s --tl-lower-to-nvvm --canonicalize | FileCheck %s

// CHECK-LABEL: llvm.func @atomics
// CHECK-DAG: %[[V2:.*]] = vector.from_elements %arg10, %arg11 : vector<2xf32>
// CHECK-DAG: %[[V4:.*]] = vector.from_elements %arg10, %arg11, %arg10, %arg11 : vector<4xf32>
// CHECK-DAG: %[[H2:.*]] = vector.broadcast %{{.*}} : f16 to vector<2xf16>
// f32 and i32 scalars, at S[r, c] (row-major on the tensor's sizes) and I[c].
// CHECK: %[[RS:.*]] = arith.muli %arg8, %arg2 : i64
// CHECK-NEXT: %[[RC:.*]] = arith.addi %[[RS]], %arg9 : i64
// CHECK: %[[P0:.*]] = llvm.getelementptr %arg0[%{{.*}}] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, f32
// CHECK-NEXT: llvm.atomicrmw fadd %[[P0]], %arg10 monotonic : !llvm.ptr<1>, f32
// CHECK-NEXT: %[[P1:.*]] = llvm.getelementptr %arg3[%arg9] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i32
// CHECK-NEXT: llvm.atomicrmw add %[[P1]], %arg12 monotonic : !llvm.ptr<1>, i32
// Two f32 lanes, no result: one red.global.add.v2.f32 at the first element's
// 64-bit address.
// CHECK: %[[P2:.*]] = llvm.getelementptr %arg0[%{{.*}}] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, f32
// CHECK-NEXT: %[[A0:.*]] = llvm.extractelement %[[V2]][%c0_i32 : i32] : vector<2xf32>
// CHECK-NEXT: %[[A1:.*]] = llvm.extractelement %[[V2]][%c1_i32 : i32] : vector<2xf32>
// CHECK-NEXT: %[[AD2:.*]] = llvm.ptrtoint %[[P2]] : !llvm.ptr<1> to i64
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "red.global.add.v2.f32 [$0], {$1, $2};", "l,f,f,~{memory}" %[[AD2]], %[[A0]], %[[A1]] : (i64, f32, f32) -> ()
// With return_prev: atom.global.add.v2.f32, the two old values back into a
// vector.
// CHECK: %[[AD3:.*]] = llvm.ptrtoint %{{.*}} : !llvm.ptr<1> to i64
// CHECK-NEXT: %[[OLD:.*]] = llvm.inline_asm has_side_effects asm_dialect = att "atom.global.add.v2.f32 {$0, $1}, [$2], {$3, $4};", "=f,=f,l,f,f,~{memory}" %[[AD3]], %{{.*}}, %{{.*}} : (i64, f32, f32) -> !llvm.struct<(f32, f32)>
// CHECK-NEXT: %[[O0:.*]] = llvm.extractvalue %[[OLD]][0]
// CHECK-NEXT: %[[R0:.*]] = llvm.insertelement %[[O0]], %{{.*}}[%c0_i32 : i32] : vector<2xf32>
// CHECK-NEXT: %[[O1:.*]] = llvm.extractvalue %[[OLD]][1]
// CHECK-NEXT: %[[R1:.*]] = llvm.insertelement %[[O1]], %[[R0]][%c1_i32 : i32] : vector<2xf32>
// Four f32 lanes into shared memory: red.shared with a 32-bit address.
// CHECK: %[[PS:.*]] = llvm.getelementptr %{{.*}}[%arg9] : (!llvm.ptr<3>, i64) -> !llvm.ptr<3>, f32
// CHECK: %[[ADS:.*]] = llvm.ptrtoint %[[PS]] : !llvm.ptr<3> to i32
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "red.shared.add.v4.f32 [$0], {$1, $2, $3, $4};", "r,f,f,f,f,~{memory}" %[[ADS]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (i32, f32, f32, f32, f32) -> ()
// f16 pairs have no vector instruction here: one atomicrmw per lane.
// CHECK-NEXT: %[[PH:.*]] = llvm.getelementptr %arg5[%arg9] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, f16
// CHECK-NEXT: %[[H0:.*]] = llvm.extractelement %[[H2]][%c0_i32 : i32] : vector<2xf16>
// CHECK-NEXT: llvm.atomicrmw fadd %[[PH]], %[[H0]] monotonic : !llvm.ptr<1>, f16
// CHECK-NEXT: %[[PH1:.*]] = llvm.getelementptr %[[PH]][1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, f16
// CHECK-NEXT: %[[H1:.*]] = llvm.extractelement %[[H2]][%c1_i32 : i32] : vector<2xf16>
// CHECK-NEXT: llvm.atomicrmw fadd %[[PH1]], %[[H1]] monotonic : !llvm.ptr<1>, f16
// CHECK-NEXT: vector.extract %[[R1]][1] : f32 from vector<2xf32>
func.func @atomics(%S: memref<?x?xf32, #tl.scope<global>>, %I: memref<?xi32, #tl.scope<global>>, %H: memref<?xf16, #tl.scope<global>>, %n: index, %r: index, %c: index, %x: f32, %y: f32, %k: i32) attributes {tl.kernel, tl.arg_dims = [["M", "N"], ["N"], ["N"], unit, unit, unit, unit, unit, unit]} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 256 : i64} {
    %sh = tl.alloc_shared {tl.offset = 0 : i64} : memref<64xf32, #tl.scope<shared>>
    %v2 = vector.from_elements %x, %y : vector<2xf32>
    %v4 = vector.from_elements %x, %y, %x, %y : vector<4xf32>
    %xh = arith.truncf %x : f32 to f16
    %h2 = vector.from_elements %xh, %xh : vector<2xf16>
    tl.atomic_add %S[%r, %c], %x : memref<?x?xf32, #tl.scope<global>>, f32
    tl.atomic_add %I[%c], %k : memref<?xi32, #tl.scope<global>>, i32
    tl.atomic_add %S[%r, %c], %v2 : memref<?x?xf32, #tl.scope<global>>, vector<2xf32>
    %old = tl.atomic_add %S[%r, %c], %v2 {return_prev} : memref<?x?xf32, #tl.scope<global>>, vector<2xf32> -> vector<2xf32>
    tl.atomic_add %sh[%c], %v4 : memref<64xf32, #tl.scope<shared>>, vector<4xf32>
    tl.atomic_add %H[%c], %h2 : memref<?xf16, #tl.scope<global>>, vector<2xf16>
    %e = vector.extract %old[1] : f32 from vector<2xf32>
    memref.store %e, %S[%r, %r] : memref<?x?xf32, #tl.scope<global>>
  }
  return
}
