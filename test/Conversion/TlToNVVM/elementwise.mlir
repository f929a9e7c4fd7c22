// tl-lower-to-nvvm, element-wise values: tl.cast with the .tl rounding
// rules (hardware satfinite conversion to FP8, exact FP8 -> f32 through f16,
// round-to-nearest-even bf16) and f32 math on the special-function units
// (exp and log through exp2/log2 with the constant folded in); other widths
// keep the math dialect.
// RUN: tl-opt %s --tl-lower-to-nvvm --canonicalize | FileCheck %s

// CHECK-LABEL: llvm.func @elementwise
// CHECK-DAG: %[[LN2:.*]] = arith.constant 0.693147182 : f32
// CHECK-DAG: %[[LOG2E:.*]] = arith.constant 1.44269502 : f32
// CHECK: %[[Q32:.*]] = llvm.inline_asm asm_dialect = att "{ .reg .b16 t; cvt.rn.satfinite.e4m3x2.f32 t, $1, $1; cvt.u32.u16 $0, t; }", "=r,f" %arg7 : (f32) -> i32
// CHECK-NEXT: %[[Q8:.*]] = arith.trunci %[[Q32]] : i32 to i8
// CHECK-NEXT: llvm.store %[[Q8]], %arg2 : i8, !llvm.ptr<1>
// CHECK-NEXT: %[[P8:.*]] = llvm.load %arg4 : !llvm.ptr<1> -> i8
// CHECK-NEXT: %[[P16:.*]] = arith.extui %[[P8]] : i8 to i16
// CHECK-NEXT: %[[W:.*]] = llvm.inline_asm asm_dialect = att "{ .reg .b32 t; .reg .b16 lo, hi; cvt.rn.f16x2.e5m2x2 t, $1; mov.b32 {lo, hi}, t; cvt.f32.f16 $0, lo; }", "=f,h" %[[P16]] : (i16) -> f32
// CHECK-NEXT: %[[B:.*]] = arith.truncf %arg7 : f32 to bf16
// CHECK-NEXT: %[[BB:.*]] = arith.extf %[[B]] : bf16 to f32
// CHECK-NEXT: %[[A:.*]] = llvm.inline_asm asm_dialect = att "ex2.approx.ftz.f32 $0, $1;", "=f,f" %arg7
// CHECK-NEXT: %[[XE:.*]] = arith.mulf %arg7, %[[LOG2E]] : f32
// CHECK-NEXT: %[[E:.*]] = llvm.inline_asm asm_dialect = att "ex2.approx.ftz.f32 $0, $1;", "=f,f" %[[XE]]
// CHECK-NEXT: %[[L2:.*]] = llvm.inline_asm asm_dialect = att "lg2.approx.f32 $0, $1;", "=f,f" %arg7
// CHECK-NEXT: %[[L:.*]] = arith.mulf %[[L2]], %[[LN2]] : f32
// CHECK-NEXT: %[[R:.*]] = llvm.inline_asm asm_dialect = att "rsqrt.approx.f32 $0, $1;", "=f,f" %arg7
// CHECK-NEXT: %[[H:.*]] = math.exp2 %arg8 : f16
func.func @elementwise(%Y: memref<?xf32, #tl.scope<global>>, %Q: memref<?xf8E4M3FN, #tl.scope<global>>, %P: memref<?xf8E5M2, #tl.scope<global>>, %n: index, %x: f32, %h: f16) attributes {tl.kernel, tl.arg_dims = [["N"], ["N"], ["N"], unit, unit, unit]} {
  tl.launch grid(%n) threads(128) blocks(%bx) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %e8 = tl.cast %x : f32 to f8E4M3FN
    memref.store %e8, %Q[%c0] : memref<?xf8E4M3FN, #tl.scope<global>>
    %q = memref.load %P[%c0] : memref<?xf8E5M2, #tl.scope<global>>
    %w = tl.cast %q : f8E5M2 to f32
    %b = tl.cast %x : f32 to bf16
    %bb = tl.cast %b : bf16 to f32
    %a = math.exp2 %x : f32
    %e = math.exp %x : f32
    %l = math.log %x : f32
    %r = math.rsqrt %x : f32
    %hh = math.exp2 %h : f16
    %hf = arith.extf %hh : f16 to f32
    %s0 = arith.addf %w, %bb : f32
    %s1 = arith.addf %s0, %a : f32
    %s2 = arith.addf %s1, %e : f32
    %s3 = arith.addf %s2, %l : f32
    %s4 = arith.addf %s3, %r : f32
    %s5 = arith.addf %s4, %hf : f32
    memref.store %s5, %Y[%c1] : memref<?xf32, #tl.scope<global>>
  }
  return
}
