// tl-lower-to-nvvm, reductions and layout conversions, driven by the
// layouts: per-thread partials over the slots holding one output element,
// butterfly shuffles over the lane bits that move along the reduced
// dimension, shared scratch (at the op's tl.scratch offset) across warps
// and for replicated results; conversions are register permutations when
// the same threads hold the same elements, a trip through scratch otherwise.
// RUN: tl-opt %s --split-input-file --tl-lower-to-nvvm --canonicalize --verify-diagnostics | FileCheck %s

// Row max of a 64x16 wgmma accumulator: slots 0, 1, 4, 5 hold row r and 2,
// 3, 6, 7 row r + 8 (register bit 1 moves 8 rows) -> two partials, each
// combined across the quad (lane bits 0, 1 move columns: xor 1, then 2). No
// warp moves columns: no scratch, no barrier. Without `clear` the result is
// combined with the destination's old value.
// CHECK-LABEL: llvm.func @row_max
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[M:.*]] = llvm.alloca %{{.*}} x f32
// CHECK-DAG: %[[S:.*]] = llvm.alloca %{{.*}} x f32
// CHECK: %[[X0:.*]] = llvm.load %[[S]] : !llvm.ptr -> f32
// CHECK-NEXT: %[[P0:.*]] = arith.maxnumf %[[X0]], %[[NEGINF]] : f32
// CHECK-NEXT: %[[S1:.*]] = llvm.getelementptr %[[S]][1]
// CHECK-NEXT: %[[X1:.*]] = llvm.load %[[S1]]
// CHECK-NEXT: %[[P01:.*]] = arith.maxnumf %[[P0]], %[[X1]] : f32
// CHECK-NEXT: %[[S2:.*]] = llvm.getelementptr %[[S]][2]
// CHECK-NEXT: %[[X2:.*]] = llvm.load %[[S2]]
// CHECK-NEXT: %[[Q0:.*]] = arith.maxnumf %[[X2]], %[[NEGINF]] : f32
// CHECK: %[[S4:.*]] = llvm.getelementptr %[[S]][4]
// CHECK-NEXT: %[[X4:.*]] = llvm.load %[[S4]]
// CHECK-NEXT: arith.maxnumf %[[P01]], %[[X4]] : f32
// CHECK: %[[A:.*]] = arith.maxnumf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: %[[SA:.*]] = llvm.getelementptr %[[S]][6]
// CHECK: llvm.getelementptr %[[S]][7]
// CHECK-NEXT: llvm.load
// CHECK-NEXT: %[[B:.*]] = arith.maxnumf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: %[[A1:.*]] = llvm.inline_asm has_side_effects asm_dialect = att "shfl.sync.bfly.b32 $0, $1, $2, 0x1f, 0xffffffff;", "=f,f,r" %[[A]], %c1_i32
// CHECK-NEXT: %[[A2:.*]] = arith.maxnumf %[[A]], %[[A1]] : f32
// CHECK-NEXT: %[[B1:.*]] = llvm.inline_asm {{.*}} "shfl.sync.bfly.b32 $0, $1, $2, 0x1f, 0xffffffff;", "=f,f,r" %[[B]], %c1_i32
// CHECK-NEXT: %[[B2:.*]] = arith.maxnumf %[[B]], %[[B1]] : f32
// CHECK-NEXT: %[[A3:.*]] = llvm.inline_asm {{.*}} "shfl.sync.bfly.b32 $0, $1, $2, 0x1f, 0xffffffff;", "=f,f,r" %[[A2]], %c2_i32
// CHECK-NEXT: %[[A4:.*]] = arith.maxnumf %[[A2]], %[[A3]] : f32
// CHECK-NEXT: %[[B3:.*]] = llvm.inline_asm {{.*}} "shfl.sync.bfly.b32 $0, $1, $2, 0x1f, 0xffffffff;", "=f,f,r" %[[B2]], %c2_i32
// CHECK-NEXT: %[[B4:.*]] = arith.maxnumf %[[B2]], %[[B3]] : f32
// CHECK-NEXT: %[[OLD0:.*]] = llvm.load %[[M]] : !llvm.ptr -> f32
// CHECK-NEXT: %[[NEW0:.*]] = arith.maxnumf %[[OLD0]], %[[A4]] : f32
// CHECK-NEXT: llvm.store %[[NEW0]], %[[M]] : f32, !llvm.ptr
// CHECK-NEXT: %[[M1:.*]] = llvm.getelementptr %[[M]][1]
// CHECK-NEXT: %[[OLD1:.*]] = llvm.load %[[M1]] : !llvm.ptr -> f32
// CHECK-NEXT: %[[NEW1:.*]] = arith.maxnumf %[[OLD1]], %[[B4]] : f32
// CHECK-NEXT: llvm.store %[[NEW1]], %[[M1]] : f32, !llvm.ptr
// CHECK-NOT: bar.sync
// CHECK: llvm.return
#acc = #tl.layout<[64, 16], reg = [(0, 1), (8, 0), (0, 8)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
#row = #tl.layout<[64], reg = [(8)], lane = [(0), (0), (1), (2), (4)], warp = [(16), (32)]>
func.func @row_max(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) {
    %s = tl.alloc_fragment : memref<64x16xf32, #tl.scope<fragment, #acc>>
    %m = tl.alloc_fragment : memref<64xf32, #tl.scope<fragment, #row>>
    tl.reduce max %s, %m dim(1) : memref<64x16xf32, #tl.scope<fragment, #acc>>, memref<64xf32, #tl.scope<fragment, #row>>
  }
  return
}

// -----

// Row sums of a [4, 256] tile whose lanes and warps all move columns (the
// rmsnorm shape): shuffles xor 1, 2, 4, 8, 16, then each warp's four
// partials go to the scratch at offset 512 (index warp * 4 + row) between
// barriers, written by lane 0 only (every lane holds the same sums), and
// every thread adds up the four warps' partials of its rows.
// CHECK-LABEL: llvm.func @cross_warp
// CHECK-SAME: tlc_smem_bytes = 640 : i64
// CHECK: %[[BASE:.*]] = llvm.mlir.addressof @__tl_smem
// CHECK: %[[TID:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK-NEXT: %[[LANE:.*]] = arith.remui %[[TID]], %c32 : index
// CHECK-NEXT: %[[WARP:.*]] = arith.divui %[[TID]], %c32 : index
// CHECK-COUNT-4: "shfl.sync.bfly.b32 $0, $1, $2, 0x1f, 0xffffffff;", "=f,f,r" %{{.*}}, %c1_i32
// CHECK-COUNT-4: "shfl.sync.bfly.b32 $0, $1, $2, 0x1f, 0xffffffff;", "=f,f,r" %{{.*}}, %c2_i32
// CHECK-COUNT-4: "shfl.sync.bfly.b32 $0, $1, $2, 0x1f, 0xffffffff;", "=f,f,r" %{{.*}}, %c4_i32
// CHECK-COUNT-4: "shfl.sync.bfly.b32 $0, $1, $2, 0x1f, 0xffffffff;", "=f,f,r" %{{.*}}, %c8_i32
// CHECK-COUNT-4: "shfl.sync.bfly.b32 $0, $1, $2, 0x1f, 0xffffffff;", "=f,f,r" %{{.*}}, %c16_i32
// CHECK-NEXT: %[[R0:.*]] = arith.addf
// CHECK: %[[L0:.*]] = arith.andi %[[LANE]], %c31 : index
// CHECK-NEXT: %[[LEAD:.*]] = arith.cmpi eq, %[[L0]], %c0 : index
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK-NEXT: %[[I0:.*]] = arith.muli %[[WARP]], %c4 : index
// CHECK-NEXT: %[[SCR:.*]] = llvm.getelementptr %[[BASE]][512] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK-NEXT: %[[I0_64:.*]] = arith.index_cast %[[I0]] : index to i64
// CHECK-NEXT: %[[P0:.*]] = llvm.getelementptr %[[SCR]][%[[I0_64]]] : (!llvm.ptr<3>, i64) -> !llvm.ptr<3>, f32
// CHECK-NEXT: scf.if %[[LEAD]] {
// CHECK-NEXT: llvm.store %{{.*}}, %[[P0]] : f32, !llvm.ptr<3>
// CHECK-COUNT-3: llvm.store %{{.*}} : f32, !llvm.ptr<3>
// CHECK-NEXT: }
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK: %[[W0:.*]] = arith.andi %[[WARP]], %c-4 : index
// CHECK-COUNT-16: llvm.load %{{.*}} : !llvm.ptr<3> -> f32
// CHECK-NEXT: arith.addf
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK-NOT: !llvm.ptr<3>
// CHECK: llvm.return
#blk = #tl.layout<[4, 256], reg = [(0, 1), (1, 0), (2, 0)], lane = [(0, 2), (0, 4), (0, 8), (0, 16), (0, 32)], warp = [(0, 64), (0, 128)]>
#rep = #tl.layout<[4], reg = [(1), (2)], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0)]>
func.func @cross_warp(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 640 : i64} {
    %x = tl.alloc_fragment : memref<4x256xf32, #tl.scope<fragment, #blk>>
    %ss = tl.alloc_fragment : memref<4xf32, #tl.scope<fragment, #rep>>
    tl.reduce sum %x, %ss dim(1) {clear, tl.scratch = 512 : i64} : memref<4x256xf32, #tl.scope<fragment, #blk>>, memref<4xf32, #tl.scope<fragment, #rep>>
  }
  return
}

// -----

// A destination replicated in every thread (not the accumulator's row
// projection): after the quad shuffles, the partials go through the scratch
// (row r at index r, written by one replica of each row: the lanes whose two
// low bits are 0) and every thread reads all 64 rows. |x| before the max.
// CHECK-LABEL: llvm.func @broadcast
// CHECK-COUNT-8: math.absf
// CHECK-COUNT-4: shfl.sync.bfly.b32
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK-NEXT: %[[Q:.*]] = arith.andi %{{.*}}, %c3 : index
// CHECK-NEXT: %[[LEAD:.*]] = arith.cmpi eq, %[[Q]], %c0 : index
// CHECK: scf.if %[[LEAD]] {
// CHECK-NEXT: llvm.store %{{.*}} : f32, !llvm.ptr<3>
// CHECK: scf.if %[[LEAD]] {
// CHECK-NEXT: llvm.store %{{.*}} : f32, !llvm.ptr<3>
// CHECK-NEXT: }
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK-NEXT: %[[V0:.*]] = llvm.load %[[SCR:.*]] : !llvm.ptr<3> -> f32
// CHECK-NEXT: llvm.store %[[V0]], %[[DST:.*]] : f32, !llvm.ptr
// CHECK: %[[S63:.*]] = llvm.getelementptr %[[SCR]][63] : (!llvm.ptr<3>) -> !llvm.ptr<3>, f32
// CHECK-NEXT: %[[V63:.*]] = llvm.load %[[S63]] : !llvm.ptr<3> -> f32
// CHECK-NEXT: %[[D63:.*]] = llvm.getelementptr %[[DST]][63] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK-NEXT: llvm.store %[[V63]], %[[D63]] : f32, !llvm.ptr
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
#acc = #tl.layout<[64, 16], reg = [(0, 1), (8, 0), (0, 8)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
#rep = #tl.layout<[64], reg = [(1), (2), (4), (8), (16), (32)], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0)]>
func.func @broadcast(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 512 : i64} {
    %s = tl.alloc_fragment : memref<64x16xf32, #tl.scope<fragment, #acc>>
    %m = tl.alloc_fragment : memref<64xf32, #tl.scope<fragment, #rep>>
    tl.reduce absmax %s, %m dim(1) {clear, tl.scratch = 0 : i64} : memref<64x16xf32, #tl.scope<fragment, #acc>>, memref<64xf32, #tl.scope<fragment, #rep>>
  }
  return
}

// -----

// The same lanes and warps holding the same elements in another register
// order: a permutation of slots (destination slot 1 is source slot 2, ...),
// no scratch. A conversion that moves elements between threads goes through
// the scratch between barriers.
// CHECK-LABEL: llvm.func @convert
// CHECK: %[[B:.*]] = llvm.alloca
// CHECK-NEXT: %[[P:.*]] = llvm.alloca
// CHECK-NEXT: %[[S:.*]] = llvm.alloca
// CHECK-NEXT: %[[X0:.*]] = llvm.load %[[S]] : !llvm.ptr -> f32
// CHECK-NEXT: %[[S2:.*]] = llvm.getelementptr %[[S]][2]
// CHECK-NEXT: %[[X2:.*]] = llvm.load %[[S2]]
// CHECK-NEXT: %[[S4:.*]] = llvm.getelementptr %[[S]][4]
// CHECK-NEXT: %[[X4:.*]] = llvm.load %[[S4]]
// CHECK: llvm.store %[[X0]], %[[P]] : f32, !llvm.ptr
// CHECK-NEXT: %[[P1:.*]] = llvm.getelementptr %[[P]][1]
// CHECK-NEXT: llvm.store %[[X2]], %[[P1]]
// CHECK-NEXT: %[[P2:.*]] = llvm.getelementptr %[[P]][2]
// CHECK-NEXT: llvm.store %[[X4]], %[[P2]]
// CHECK-NOT: bar.sync
// CHECK: nvvm.read.ptx.sreg.tid.x
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK-COUNT-8: llvm.store %{{.*}} : f32, !llvm.ptr<3>
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK-COUNT-8: llvm.load %{{.*}} : !llvm.ptr<3> -> f32
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK-NEXT: llvm.return
#acc = #tl.layout<[64, 16], reg = [(0, 1), (8, 0), (0, 8)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
#perm = #tl.layout<[64, 16], reg = [(8, 0), (0, 8), (0, 1)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
#blk = #tl.layout<[64, 16], reg = [(0, 1), (0, 2), (0, 4)], lane = [(0, 8), (1, 0), (2, 0), (4, 0), (8, 0)], warp = [(16, 0), (32, 0)]>
func.func @convert(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 4096 : i64} {
    %s = tl.alloc_fragment : memref<64x16xf32, #tl.scope<fragment, #acc>>
    %p = tl.alloc_fragment : memref<64x16xf32, #tl.scope<fragment, #perm>>
    %b = tl.alloc_fragment : memref<64x16xf32, #tl.scope<fragment, #blk>>
    tl.convert_layout %s to %p {tl.scratch = 0 : i64} : memref<64x16xf32, #tl.scope<fragment, #acc>> to memref<64x16xf32, #tl.scope<fragment, #perm>>
    tl.convert_layout %s to %b {tl.scratch = 0 : i64} : memref<64x16xf32, #tl.scope<fragment, #acc>> to memref<64x16xf32, #tl.scope<fragment, #blk>>
  }
  return
}

// -----

// A shared source reduced into a shared destination: 2 lanes per row here
// (64 rows, 128 threads), each summing every other element of the row, then
// one butterfly step; the first lane of each pair stores.
// CHECK-LABEL: llvm.func @shared_src
// CHECK: scf.for {{.*}} step %c2 iter_args
// CHECK: llvm.load {{.*}} : !llvm.ptr<3> -> f32
// CHECK: shfl.sync.bfly.b32 $0, $1, $2, 0x1f, 0xffffffff;
// CHECK-NOT: shfl.sync
// CHECK: scf.if
// CHECK: llvm.store {{.*}} : f32, !llvm.ptr<3>
func.func @shared_src(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 4352 : i64} {
    %s = tl.alloc_shared {tl.offset = 0 : i64} : memref<64x16xf32, #tl.scope<shared>>
    %m = tl.alloc_shared {tl.offset = 4096 : i64} : memref<64xf32, #tl.scope<shared>>
    tl.reduce sum %s, %m dim(1) {clear} : memref<64x16xf32, #tl.scope<shared>>, memref<64xf32, #tl.scope<shared>>
  }
  return
}
