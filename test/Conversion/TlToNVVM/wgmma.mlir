// tl-lower-to-nvvm, tl.gemm on sm_90a as wgmma.mma_async: one
// m64nNk16 (k32 for FP8) per 64-row tile of a warpgroup and K step, shared
// operands by descriptors of their swizzled layouts, A from registers when
// it is a fragment, the accumulator's slots in wgmma's register order, and
// fence / commit / wait_group 0 around them.
//
// Descriptor constants: 128-byte swizzle (mode 1 << 62), stride byte offset
// 1024 (8 rows of 128 bytes; 64 << 32) and leading byte offset 16 (1 << 16)
// for K-major tiles: 4611686293305360384; for an MN-major tile the leading
// byte offset is the distance between its 64-column chunks, 8192 bytes
// (512 << 16): 4611686293338849280.
// RUN: tl-opt %s --split-input-file --tl-lower-to-nvvm --canonicalize --verify-diagnostics | FileCheck %s

// A[64, 64] and B[128, 64] (transpose_b) in shared memory, C[64, 128] in one
// warpgroup: four m64n128k16 steps, each descriptor 32 bytes (16 bf16 of a
// K-major row) further; clear_accum zeroes the accumulator in the first
// step only (scale-d predicate from 0, then 1); both operands K-major
// (transpose immediates 0, 0). 64 accumulator registers are tied in and out.
// CHECK-LABEL: llvm.func @ss
// CHECK-DAG: %[[HI:.*]] = arith.constant 4611686293305360384 : i64
// CHECK-DAG: %[[BASE:.*]] = llvm.mlir.addressof @__tl_smem
// CHECK: %[[A:.*]] = llvm.getelementptr %[[BASE]][16384] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "wgmma.fence.sync.aligned;"
// CHECK: %[[AA:.*]] = llvm.ptrtoint %[[A]] : !llvm.ptr<3> to i64
// CHECK-NEXT: %[[AS:.*]] = arith.shrui %[[AA]], %c4_i64 : i64
// CHECK-NEXT: %[[AM:.*]] = arith.andi %[[AS]], %c16383_i64 : i64
// CHECK-NEXT: %[[DA:.*]] = arith.ori %[[AM]], %[[HI]] : i64
// CHECK-NEXT: %[[BA:.*]] = llvm.ptrtoint %[[BASE]] : !llvm.ptr<3> to i64
// CHECK-NEXT: %[[BS:.*]] = arith.shrui %[[BA]], %c4_i64 : i64
// CHECK-NEXT: %[[BM:.*]] = arith.andi %[[BS]], %c16383_i64 : i64
// CHECK-NEXT: %[[DB:.*]] = arith.ori %[[BM]], %[[HI]] : i64
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "{\0A.reg .pred p;\0Asetp.ne.b32 p, $66, 0;\0Awgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {$0, $1, {{.*}}, $63}, $64, $65, p, 1, 1, 0, 0;\0A}", "{{(=f,)+}}l,l,r,0,1,2,{{.*}},63" %[[DA]], %[[DB]], %c0_i32,
// CHECK: %[[AA1:.*]] = llvm.ptrtoint %[[A]] : !llvm.ptr<3> to i64
// CHECK-NEXT: %[[AO1:.*]] = arith.addi %[[AA1]], %c32_i64 : i64
// CHECK: arith.addi %{{.*}}, %c32_i64 : i64
// CHECK: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}} %{{.*}}, %{{.*}}, %c1_i32,
// CHECK: arith.addi %{{.*}}, %c64_i64 : i64
// CHECK: wgmma.mma_async.sync.aligned.m64n128k16
// CHECK: arith.addi %{{.*}}, %c96_i64 : i64
// CHECK: wgmma.mma_async.sync.aligned.m64n128k16
// CHECK-NOT: wgmma.mma_async
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "wgmma.commit_group.sync.aligned;"
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "wgmma.wait_group.sync.aligned 0;", "{{(=f,)+}}0,1,{{.*}},63"
#swa = #tl.layout<[64, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0)]>
#swb = #tl.layout<[128, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0)]>
#acc = #tl.layout<[64, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
func.func @ss(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 24576 : i64} {
    %a = tl.alloc_shared {tl.offset = 16384 : i64} : memref<64x64xbf16, #tl.scope<shared, #swa>>
    %b = tl.alloc_shared {tl.offset = 0 : i64} : memref<128x64xbf16, #tl.scope<shared, #swb>>
    %c = tl.alloc_fragment : memref<64x128xf32, #tl.scope<fragment, #acc>>
    tl.gemm %a, %b, %c {clear_accum, transpose_b} : memref<64x64xbf16, #tl.scope<shared, #swa>>, memref<128x64xbf16, #tl.scope<shared, #swb>>, memref<64x128xf32, #tl.scope<fragment, #acc>>
  }
  return
}

// -----

// B[K, N] without transpose_b is MN-major: the transpose-B immediate is 1,
// its descriptor's leading byte offset is 8192 (the second 64-column chunk)
// and a K step of 16 rows moves it 2048 bytes (16 x 128).
// CHECK-LABEL: llvm.func @mn_major_b
// CHECK-DAG: %[[HIMN:.*]] = arith.constant 4611686293338849280 : i64
// CHECK-DAG: %[[HI:.*]] = arith.constant 4611686293305360384 : i64
// CHECK: %[[DA:.*]] = arith.ori %{{.*}}, %[[HI]] : i64
// CHECK: %[[DB:.*]] = arith.ori %{{.*}}, %[[HIMN]] : i64
// CHECK-NEXT: llvm.inline_asm {{.*}}m64n128k16.f32.bf16.bf16 {{.*}}, $64, $65, p, 1, 1, 0, 1;{{.*}} %[[DA]], %[[DB]], %c1_i32,
// CHECK: %[[B1O:.*]] = arith.addi %{{.*}}, %c2048_i64 : i64
// CHECK-NEXT: arith.shrui %[[B1O]]
// CHECK-NEXT: arith.andi
// CHECK-NEXT: arith.ori %{{.*}}, %[[HIMN]] : i64
#swa = #tl.layout<[64, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0)]>
#swv = #tl.layout<[64, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (0, 64)]>
#acc = #tl.layout<[64, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
func.func @mn_major_b(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 24576 : i64} {
    %a = tl.alloc_shared {tl.offset = 16384 : i64} : memref<64x64xbf16, #tl.scope<shared, #swa>>
    %v = tl.alloc_shared {tl.offset = 0 : i64} : memref<64x128xbf16, #tl.scope<shared, #swv>>
    %c = tl.alloc_fragment : memref<64x128xf32, #tl.scope<fragment, #acc>>
    tl.gemm %a, %v, %c : memref<64x64xbf16, #tl.scope<shared, #swa>>, memref<64x128xbf16, #tl.scope<shared, #swv>>, memref<64x128xf32, #tl.scope<fragment, #acc>>
  }
  return
}

// -----

// A from registers (attention's P in bf16, in the accumulator layout of a
// 64 x 64 tile): per K step four 32-bit registers, each two bf16 of the
// thread's slots (rows r and r + 8, columns c, c + 1 and c + 8, c + 9: slots
// 0-1, 2-3, 4-5, 6-7 for the first step), packed before the fence; only B
// has a descriptor and only its transpose immediate is given.
// CHECK-LABEL: llvm.func @rs
// CHECK: %[[P:.*]] = llvm.alloca %{{.*}} x bf16
// CHECK-NEXT: %[[E0:.*]] = llvm.load %[[P]] : !llvm.ptr -> bf16
// CHECK-NEXT: %[[V0:.*]] = llvm.insertelement %[[E0]], %{{.*}}[%c0_i32 : i32] : vector<2xbf16>
// CHECK-NEXT: %[[S1:.*]] = llvm.getelementptr %[[P]][1]
// CHECK-NEXT: %[[E1:.*]] = llvm.load %[[S1]]
// CHECK-NEXT: %[[V01:.*]] = llvm.insertelement %[[E1]], %[[V0]][%c1_i32 : i32] : vector<2xbf16>
// CHECK-NEXT: %[[R0:.*]] = llvm.bitcast %[[V01]] : vector<2xbf16> to i32
// CHECK-NEXT: llvm.getelementptr %[[P]][2]
// CHECK: %[[R1:.*]] = llvm.bitcast %{{.*}} : vector<2xbf16> to i32
// CHECK-NEXT: llvm.getelementptr %[[P]][4]
// CHECK: %[[R2:.*]] = llvm.bitcast %{{.*}} : vector<2xbf16> to i32
// CHECK-NEXT: llvm.getelementptr %[[P]][6]
// CHECK: %[[R3:.*]] = llvm.bitcast %{{.*}} : vector<2xbf16> to i32
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "wgmma.fence.sync.aligned;"
// CHECK: %[[DB:.*]] = arith.ori %{{.*}}, %c4611686293338849280_i64 : i64
// CHECK-NEXT: llvm.inline_asm {{.*}}setp.ne.b32 p, $69, 0;{{.*}}m64n128k16.f32.bf16.bf16 {{.*}}, $63}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;{{.*}}", "{{(=f,)+}}r,r,r,r,l,r,0,{{.*}}" %[[R0]], %[[R1]], %[[R2]], %[[R3]], %[[DB]], %c1_i32,
// CHECK-COUNT-3: {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// CHECK-NOT: wgmma.mma_async
#swv = #tl.layout<[64, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (0, 64)]>
#acc = #tl.layout<[64, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
#pl = #tl.layout<[64, 64], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
func.func @rs(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 16384 : i64} {
    %p = tl.alloc_fragment : memref<64x64xbf16, #tl.scope<fragment, #pl>>
    %v = tl.alloc_shared {tl.offset = 0 : i64} : memref<64x128xbf16, #tl.scope<shared, #swv>>
    %o = tl.alloc_fragment : memref<64x128xf32, #tl.scope<fragment, #acc>>
    tl.gemm %p, %v, %o : memref<64x64xbf16, #tl.scope<fragment, #pl>>, memref<64x128xbf16, #tl.scope<shared, #swv>>, memref<64x128xf32, #tl.scope<fragment, #acc>>
  }
  return
}

// -----

// FP8 (e4m3 x e4m3): K steps of 32 (four over K = 128), 32 bytes each, and
// no transpose immediates (wgmma reads FP8 K-major only).
// CHECK-LABEL: llvm.func @fp8
// CHECK: llvm.inline_asm {{.*}}wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 {{.*}}, $64, $65, p, 1, 1;{{.*}} %{{.*}}, %{{.*}}, %c1_i32,
// CHECK: arith.addi %{{.*}}, %c32_i64 : i64
// CHECK-COUNT-3: m64n128k32.f32.e4m3.e4m3
// CHECK-NOT: wgmma.mma_async
#sa = #tl.layout<[64, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (0, 64), (1, 16), (2, 32), (4, 64), (8, 0), (16, 0), (32, 0)]>
#sb = #tl.layout<[128, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (0, 64), (1, 16), (2, 32), (4, 64), (8, 0), (16, 0), (32, 0), (64, 0)]>
#acc = #tl.layout<[64, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
func.func @fp8(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 24576 : i64} {
    %a = tl.alloc_shared {tl.offset = 16384 : i64} : memref<64x128xf8E4M3FN, #tl.scope<shared, #sa>>
    %b = tl.alloc_shared {tl.offset = 0 : i64} : memref<128x128xf8E4M3FN, #tl.scope<shared, #sb>>
    %c = tl.alloc_fragment : memref<64x128xf32, #tl.scope<fragment, #acc>>
    tl.gemm %a, %b, %c {transpose_b} : memref<64x128xf8E4M3FN, #tl.scope<shared, #sa>>, memref<128x128xf8E4M3FN, #tl.scope<shared, #sb>>, memref<64x128xf32, #tl.scope<fragment, #acc>>
  }
  return
}

// -----

// Two warpgroups over a 128 x 64 accumulator (warp bit 2 moves 64 rows):
// each issues its own m64n64k16 steps from row 64 * (warp / 4) of A, whose
// descriptor offset follows the swizzled layout. A was written by ordinary
// stores (a cooperative copy), so the async proxy is fenced first.
// CHECK-LABEL: llvm.func @two_warpgroups
// CHECK: %[[WARP:.*]] = arith.divui %{{.*}}, %c32 : index
// CHECK-NEXT: %[[WG:.*]] = arith.shrui %[[WARP]], %c2 : index
// CHECK-NEXT: %[[WG1:.*]] = arith.andi %[[WG]], %c1 : index
// CHECK-NEXT: %[[ROW:.*]] = arith.shli %[[WG1]], %c6 : index
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "fence.proxy.async.shared::cta;"
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "wgmma.fence.sync.aligned;"
// CHECK: arith.shrui %[[ROW]], %c3 : index
// CHECK: %[[EL:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK-NEXT: %[[BY:.*]] = arith.muli %[[EL]], %c2 : index
// CHECK-NEXT: %[[BY64:.*]] = arith.index_cast %[[BY]] : index to i64
// CHECK-NEXT: %[[AB:.*]] = llvm.ptrtoint %{{.*}} : !llvm.ptr<3> to i64
// CHECK-NEXT: arith.addi %[[AB]], %[[BY64]] : i64
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK-COUNT-3: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK-NOT: wgmma.mma_async
#swa = #tl.layout<[128, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0)]>
#swb = #tl.layout<[64, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0)]>
#acc = #tl.layout<[128, 64], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
func.func @two_warpgroups(%A: memref<?x?xbf16, #tl.scope<global>>, %n: index) attributes {tl.kernel, tl.arg_dims = [["M", "K"], unit]} {
  tl.launch grid(%n) threads(256) blocks(%bx) attributes {tl.smem_bytes = 32768 : i64} {
    %c0 = arith.constant 0 : index
    %a = tl.alloc_shared {tl.offset = 0 : i64} : memref<128x64xbf16, #tl.scope<shared, #swa>>
    %b = tl.alloc_shared {tl.offset = 16384 : i64} : memref<64x64xbf16, #tl.scope<shared, #swb>>
    %c = tl.alloc_fragment : memref<128x64xf32, #tl.scope<fragment, #acc>>
    tl.copy %A[%bx, %c0] [128, 64] to %a[] [128, 64] : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #tl.scope<shared, #swa>>
    tl.gemm %a, %b, %c {transpose_b} : memref<128x64xbf16, #tl.scope<shared, #swa>>, memref<64x64xbf16, #tl.scope<shared, #swb>>, memref<128x64xf32, #tl.scope<fragment, #acc>>
  }
  return
}

// -----

// What wgmma cannot do is reported at the gemm.
#sa = #tl.layout<[64, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (0, 64), (1, 16), (2, 32), (4, 64), (8, 0), (16, 0), (32, 0)]>
#sb = #tl.layout<[128, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (0, 64), (1, 16), (2, 32), (4, 64), (8, 0), (16, 0), (32, 0), (64, 0)]>
#acc = #tl.layout<[64, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
func.func @fp8_mn_major(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 24576 : i64} {
    %a = tl.alloc_shared {tl.offset = 16384 : i64} : memref<64x128xf8E4M3FN, #tl.scope<shared, #sa>>
    %b = tl.alloc_shared {tl.offset = 0 : i64} : memref<128x128xf8E4M3FN, #tl.scope<shared, #sb>>
    %c = tl.alloc_fragment : memref<64x128xf32, #tl.scope<fragment, #acc>>
    // expected-error @+1 {{wgmma reads FP8 operands K-major only: A[M, K] and B[N, K] with transpose_B=True}}
    tl.gemm %a, %b, %c : memref<64x128xf8E4M3FN, #tl.scope<shared, #sa>>, memref<128x128xf8E4M3FN, #tl.scope<shared, #sb>>, memref<64x128xf32, #tl.scope<fragment, #acc>>
  }
  return
}

// -----

#sa = #tl.layout<[64, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (0, 64), (1, 16), (2, 32), (4, 64), (8, 0), (16, 0), (32, 0)]>
#sb = #tl.layout<[128, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (0, 64), (1, 16), (2, 32), (4, 64), (8, 0), (16, 0), (32, 0), (64, 0)]>
#acc = #tl.layout<[64, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
func.func @block_scaled(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 25600 : i64} {
    %a = tl.alloc_shared {tl.offset = 16384 : i64} : memref<64x128xf8E4M3FN, #tl.scope<shared, #sa>>
    %b = tl.alloc_shared {tl.offset = 0 : i64} : memref<128x128xf8E4M3FN, #tl.scope<shared, #sb>>
    %sa = tl.alloc_shared {tl.offset = 24576 : i64} : memref<64x4xf8E8M0FNU, #tl.scope<shared>>
    %sb = tl.alloc_shared {tl.offset = 24832 : i64} : memref<128x4xf8E8M0FNU, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<64x128xf32, #tl.scope<fragment, #acc>>
    // expected-error @+1 {{block-scaled T.gemm needs sm_100a (tcgen05); on sm_90a scale the FP8 partial products in a T.Parallel loop instead}}
    tl.gemm %a, %b, %c scale_a(%sa) scale_b(%sb) scale_block(32) {transpose_b} : memref<64x128xf8E4M3FN, #tl.scope<shared, #sa>>, memref<128x128xf8E4M3FN, #tl.scope<shared, #sb>>, memref<64x128xf32, #tl.scope<fragment, #acc>>, memref<64x4xf8E8M0FNU, #tl.scope<shared>>, memref<128x4xf8E8M0FNU, #tl.scope<shared>>
  }
  return
}

// -----

#acc = #tl.layout<[64, 64], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
func.func @unswizzled(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 16384 : i64} {
    %a = tl.alloc_shared {tl.offset = 0 : i64} : memref<64x64xbf16, #tl.scope<shared>>
    %b = tl.alloc_shared {tl.offset = 8192 : i64} : memref<64x64xbf16, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment, #acc>>
    // expected-error @+1 {{the B operand in shared memory has no swizzled layout (run tl-infer-layouts)}}
    tl.gemm %a, %b, %c {transpose_b} : memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xf32, #tl.scope<fragment, #acc>>
  }
  return
}
