// tl-lower-to-nvvm, atomic adds: scalars through atomicrmw, 2- and 4-lane
// vectors in global memory through the sm_90 vector red/atom instructions
// (f32 returning the old values when asked; f16/bf16 without), vectors in
// shared memory lane by lane (PTX has no shared vector red).
// RUN: tl-opt %s --tl-lower-to-nvvm --canonicalize | FileCheck %s

// CHECK-LABEL: llvm.func @atomics
// The front end's vectors of lanes (vector.from_elements) become LLVM vectors.
// CHECK: %[[V2A:.*]] = llvm.insertelement %arg10, %{{.*}}[%c0_i32 : i32] : vector<2xf32>
// CHECK-NEXT: %[[V2:.*]] = llvm.insertelement %arg11, %[[V2A]][%c1_i32 : i32] : vector<2xf32>
// CHECK: %[[V4:.*]] = llvm.insertelement %arg11, %{{.*}}[%c3_i32 : i32] : vector<4xf32>
// CHECK: %[[H2:.*]] = llvm.insertelement %{{.*}}, %{{.*}}[%c1_i32 : i32] : vector<2xf16>
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
// Four f32 lanes into shared memory: an atomic per lane.
// CHECK: %[[PS:.*]] = llvm.getelementptr %{{.*}}[%arg9] : (!llvm.ptr<3>, i64) -> !llvm.ptr<3>, f32
// CHECK-NEXT: %[[S0:.*]] = llvm.extractelement %[[V4]][%c0_i32 : i32] : vector<4xf32>
// CHECK-NEXT: llvm.atomicrmw fadd %[[PS]], %[[S0]] monotonic : !llvm.ptr<3>, f32
// CHECK-COUNT-3: llvm.atomicrmw fadd %{{.*}} monotonic : !llvm.ptr<3>, f32
// f16 pairs in global memory: red.global.add.noftz.v2.f16 on the lanes' bits.
// CHECK-NEXT: %[[PH:.*]] = llvm.getelementptr %arg5[%arg9] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, f16
// CHECK-NEXT: %[[AH:.*]] = llvm.ptrtoint %[[PH]] : !llvm.ptr<1> to i64
// CHECK-NEXT: %[[H0:.*]] = llvm.extractelement %[[H2]][%c0_i32 : i32] : vector<2xf16>
// CHECK-NEXT: %[[B0:.*]] = llvm.bitcast %[[H0]] : f16 to i16
// CHECK-NEXT: %[[H1:.*]] = llvm.extractelement %[[H2]][%c1_i32 : i32] : vector<2xf16>
// CHECK-NEXT: %[[B1:.*]] = llvm.bitcast %[[H1]] : f16 to i16
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "red.global.add.noftz.v2.f16 [$0], {$1, $2};", "l,h,h,~{memory}" %[[AH]], %[[B0]], %[[B1]] : (i64, i16, i16) -> ()
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
