// tl-lower-to-nvvm, thread/memory ops and the kernel frame: parameters per
// docs/abi.md, tensors rebuilt as pointer + sizes, element accesses to global
// and shared memory (by the layout where there is one), register buffers as
// per-thread arrays accessed by slot, ids and special registers. The lowered
// index arithmetic is folded (--canonicalize) so that addresses show as the
// numbers the lowering decided.
// RUN: tl-opt %s --split-input-file --tl-lower-to-nvvm --canonicalize --verify-diagnostics | FileCheck %s

// Parameters: a pointer and the dynamic sizes of each tensor (X's static 64
// is a constant), f32 as is, index as i64, bool as i8. One shared window for
// the module. Element accesses are row-major on the tensor's sizes and not
// guarded (only copies are).
// CHECK: llvm.mlir.global external @__tl_smem() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<0 x i8>
// CHECK-LABEL: llvm.func @frame(%arg0: !llvm.ptr<1>, %arg1: i64, %arg2: !llvm.ptr<1>, %arg3: i64, %arg4: i64, %arg5: f32, %arg6: i64, %arg7: i8)
// CHECK-SAME: nvvm.kernel, nvvm.maxntid = array<i32: 128, 1, 1>
// CHECK-SAME: tlc_name = "frame", tlc_persistent = false, tlc_smem_bytes = 0 : i64, tlc_threads = 128 : i64, tlc_warp_specialized = false
// CHECK-DAG: %[[N:.*]] = arith.index_cast %arg6 : i64 to index
// CHECK-DAG: %[[FLAG:.*]] = arith.trunci %arg7 : i8 to i1
// CHECK-DAG: %[[BX:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK-DAG: %[[NY:.*]] = arith.index_cast %arg4 : i64 to index
// Global element offsets are computed in 64 bits (they may pass 2^31).
// CHECK: %[[BX64:.*]] = arith.index_cast %[[BX]] : index to i64
// CHECK-NEXT: %[[ROW:.*]] = arith.muli %[[BX64]], %c64_i64 : i64
// CHECK-NEXT: %[[LIN64:.*]] = arith.addi %[[ROW]], %c1_i64 : i64
// CHECK-NEXT: %[[P:.*]] = llvm.getelementptr %arg0[%[[LIN64]]] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, f32
// CHECK-NEXT: %[[V:.*]] = llvm.load %[[P]] : !llvm.ptr<1> -> f32
// CHECK-NEXT: %[[W:.*]] = arith.mulf %[[V]], %arg5 : f32
// CHECK-NEXT: %[[O:.*]] = arith.select %[[FLAG]], %[[W]], %[[V]] : f32
// CHECK-NEXT: %[[J:.*]] = arith.subi %[[NY]], %[[N]] : index
// CHECK: %[[J64:.*]] = arith.index_cast %[[J]] : index to i64
// CHECK-NEXT: %[[ROW2:.*]] = arith.muli %{{.*}}, %arg4 : i64
// CHECK-NEXT: %[[LIN2_64:.*]] = arith.addi %[[ROW2]], %[[J64]] : i64
// CHECK-NEXT: %[[Q:.*]] = llvm.getelementptr %arg2[%[[LIN2_64]]] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, f32
// CHECK-NEXT: llvm.store %[[O]], %[[Q]] : f32, !llvm.ptr<1>
func.func @frame(%X: memref<?x64xf32, #tl.scope<global>>, %Y: memref<?x?xf32, #tl.scope<global>>, %s: f32, %n: index, %flag: i1) attributes {tl.kernel, tl.arg_dims = [["M", 64], ["M", "N"], unit, unit, unit]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = memref.dim %X, %c0 : memref<?x64xf32, #tl.scope<global>>
  tl.launch grid(%m) threads(128) blocks(%bx) {
    %ny = memref.dim %Y, %c1 : memref<?x?xf32, #tl.scope<global>>
    %v = memref.load %X[%bx, %c1] : memref<?x64xf32, #tl.scope<global>>
    %w = arith.mulf %v, %s : f32
    %o = arith.select %flag, %w, %v : f32
    %j = arith.subi %ny, %n : index
    memref.store %o, %Y[%bx, %j] : memref<?x?xf32, #tl.scope<global>>
  }
  return
}

// -----

// Register buffers are allocas of one slot per register of the layout (8
// for a 64x16 wgmma accumulator over 4 warps, 1 for a counter) in the entry
// block; an initial value is stored there, before anything else runs. Slot
// accesses are loads and stores at the slot's index.
// CHECK-LABEL: llvm.func @slots
// CHECK-DAG: %[[EIGHT:.*]] = llvm.mlir.constant(8 : i64) : i64
// CHECK-DAG: %[[ZERO:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-DAG: %[[ONE:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK: %[[CNT:.*]] = llvm.alloca %[[ONE]] x i32 {alignment = 16 : i64} : (i64) -> !llvm.ptr
// CHECK-NEXT: llvm.store %[[ZERO]], %[[CNT]] : i32, !llvm.ptr
// CHECK-NEXT: %[[ACC:.*]] = llvm.alloca %[[EIGHT]] x f32 {alignment = 16 : i64} : (i64) -> !llvm.ptr
// CHECK-NEXT: %[[I:.*]] = llvm.load %[[CNT]] : !llvm.ptr -> i32
// CHECK-NEXT: %[[I1:.*]] = arith.addi %[[I]], %{{.*}} : i32
// CHECK-NEXT: llvm.store %[[I1]], %[[CNT]] : i32, !llvm.ptr
// CHECK-NEXT: %[[S7:.*]] = llvm.getelementptr %[[ACC]][7] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK-NEXT: %[[X:.*]] = llvm.load %[[S7]] : !llvm.ptr -> f32
// CHECK-NEXT: llvm.store %[[X]], %[[ACC]] : f32, !llvm.ptr
#acc = #tl.layout<[64, 16], reg = [(0, 1), (8, 0), (0, 8)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
#cnt = #tl.layout<[1], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0)]>
func.func @slots(%Y: memref<?xf32, #tl.scope<global>>, %n: index) attributes {tl.kernel, tl.arg_dims = [["N"], unit]} {
  tl.launch grid(%n) threads(128) blocks(%bx) {
    %c0 = arith.constant 0 : index
    %c7 = arith.constant 7 : index
    %acc = tl.alloc_fragment : memref<64x16xf32, #tl.scope<fragment, #acc>>
    %cnt = tl.alloc_local {init = 0 : i32} : memref<1xi32, #tl.scope<local, #cnt>>
    %i = tl.slot_load %cnt[%c0] : memref<1xi32, #tl.scope<local, #cnt>>
    %one = arith.constant 1 : i32
    %i1 = arith.addi %i, %one : i32
    tl.slot_store %i1, %cnt[%c0] : memref<1xi32, #tl.scope<local, #cnt>>
    %x = tl.slot_load %acc[%c7] : memref<64x16xf32, #tl.scope<fragment, #acc>>
    tl.slot_store %x, %acc[%c0] : memref<64x16xf32, #tl.scope<fragment, #acc>>
  }
  return
}

// -----

// Shared buffers are their offsets in the window. Without a layout an element
// is row-major ([1, 9] of 64x64: 73); a view of stage 1 of a ring starts a
// stage (64 x 64 elements) in; in a 128-byte swizzled tile [1, 9] is
// element 65 (row 1, 16-byte chunk 1 ^ 1 = 0, column 1).
// CHECK-LABEL: llvm.func @shared
// CHECK-SAME: tlc_smem_bytes = 24576 : i64
// CHECK: %[[BASE:.*]] = llvm.mlir.addressof @__tl_smem : !llvm.ptr<3>
// CHECK-NEXT: %[[RING:.*]] = llvm.getelementptr %[[BASE]][8192] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK-NEXT: %[[E:.*]] = llvm.getelementptr %[[BASE]][73] : (!llvm.ptr<3>) -> !llvm.ptr<3>, bf16
// CHECK-NEXT: %[[V:.*]] = llvm.load %[[E]] : !llvm.ptr<3> -> bf16
// CHECK-NEXT: %[[STAGE:.*]] = llvm.getelementptr %[[RING]][4096] : (!llvm.ptr<3>) -> !llvm.ptr<3>, bf16
// CHECK-NEXT: %[[SW:.*]] = llvm.getelementptr %[[STAGE]][65] : (!llvm.ptr<3>) -> !llvm.ptr<3>, bf16
// CHECK-NEXT: llvm.store %[[V]], %[[SW]] : bf16, !llvm.ptr<3>
#sw = #tl.layout<[64, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0)]>
#ring = #tl.layout<[2, 64, 64], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (1, 0, 0)]>
func.func @shared(%Y: memref<?xbf16, #tl.scope<global>>, %n: index) attributes {tl.kernel, tl.arg_dims = [["N"], unit]} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 24576 : i64} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c9 = arith.constant 9 : index
    %t = tl.alloc_shared {tl.offset = 0 : i64} : memref<64x64xbf16, #tl.scope<shared>>
    %r = tl.alloc_shared {tl.offset = 8192 : i64} : memref<2x64x64xbf16, #tl.scope<shared, #ring>>
    %v = memref.load %t[%c1, %c9] : memref<64x64xbf16, #tl.scope<shared>>
    %s1 = tl.view %r[%c1, %c0, %c0] [1, 64, 64] : memref<2x64x64xbf16, #tl.scope<shared, #ring>> to memref<64x64xbf16, #tl.scope<shared, #sw>>
    memref.store %v, %s1[%c1, %c9] : memref<64x64xbf16, #tl.scope<shared, #sw>>
  }
  return
}

// -----

// Thread and block ids are the PTX special registers; the launch's block
// arguments are ctaid.x/y/z; the other hardware indices are read by inline
// PTX; tl.elect outside roles is thread 0 (or warp 0: threads below 32).
// CHECK-LABEL: llvm.func @ids
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: nvvm.read.ptx.sreg.ctaid.x : i32
// CHECK-NEXT: %[[BX:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK-NEXT: nvvm.read.ptx.sreg.ctaid.y : i32
// CHECK-NEXT: %[[BYARG:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK-NEXT: nvvm.read.ptx.sreg.tid.x : i32
// CHECK-NEXT: %[[T:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK-NEXT: %[[BY32:.*]] = nvvm.read.ptx.sreg.ctaid.y : i32
// CHECK-NEXT: %[[BY:.*]] = arith.index_cast %[[BY32]] : i32 to index
// CHECK-NEXT: %[[NB32:.*]] = llvm.inline_asm has_side_effects asm_dialect = att "mov.u32 $0, %nctaid.x;", "=r"  : () -> i32
// CHECK-NEXT: %[[NB:.*]] = arith.index_cast %[[NB32]] : i32 to index
// CHECK-NEXT: %[[RK32:.*]] = llvm.inline_asm has_side_effects asm_dialect = att "mov.u32 $0, %cluster_ctarank;", "=r"  : () -> i32
// CHECK-NEXT: %[[RK:.*]] = arith.index_cast %[[RK32]] : i32 to index
// CHECK-NEXT: nvvm.read.ptx.sreg.tid.x
// CHECK-NEXT: %[[T1:.*]] = arith.index_cast
// CHECK-NEXT: %[[E:.*]] = arith.cmpi ult, %[[T1]], %[[C1]] : index
// CHECK-NEXT: nvvm.read.ptx.sreg.tid.x
// CHECK-NEXT: %[[T2:.*]] = arith.index_cast
// CHECK-NEXT: %[[W:.*]] = arith.cmpi ult, %[[T2]], %[[C32]] : index
// CHECK-NEXT: %[[A:.*]] = arith.addi %[[T]], %[[BY]] : index
// CHECK-NEXT: %[[B:.*]] = arith.addi %[[A]], %[[NB]] : index
// CHECK-NEXT: %[[C:.*]] = arith.addi %[[B]], %[[RK]] : index
// CHECK-NEXT: arith.addi %[[C]], %[[BYARG]] : index
// CHECK: scf.if %[[E]] {
// CHECK-NEXT: arith.index_cast %[[BX]] : index to i64
// CHECK: scf.if %[[W]] {
// CHECK-NEXT: arith.index_cast %[[T]] : index to i64
func.func @ids(%Y: memref<?xi32, #tl.scope<global>>, %gx: index, %gy: index) attributes {tl.kernel, tl.arg_dims = [["N"], unit, unit]} {
  tl.launch grid(%gx, %gy) threads(128) blocks(%bx, %by) {
    %t = tl.thread_id 0
    %y = tl.block_id 1
    %n = tl.special_reg "nctaid.x"
    %r = tl.special_reg "cluster_ctarank"
    %e = tl.elect
    %w = tl.elect {warp}
    %a = arith.addi %t, %y : index
    %b = arith.addi %a, %n : index
    %c = arith.addi %b, %r : index
    %d = arith.addi %c, %by : index
    %v = arith.index_cast %d : index to i32
    scf.if %e {
      memref.store %v, %Y[%bx] : memref<?xi32, #tl.scope<global>>
    }
    scf.if %w {
      memref.store %v, %Y[%t] : memref<?xi32, #tl.scope<global>>
    }
  }
  return
}

// -----

// What the lowering needs from the passes before it is reported at the op.
func.func @no_offset(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) {
    // expected-error @+1 {{shared buffer without an offset (run tl-allocate-shared first)}}
    %t = tl.alloc_shared : memref<64xf32, #tl.scope<shared>>
  }
  return
}

// -----

#blk = #tl.layout<[128], lane = [(1), (2), (4), (8), (16)], warp = [(32), (64)]>
func.func @unsplit(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) {
    %c0 = arith.constant 0 : index
    %f = tl.alloc_fragment : memref<128xf32, #tl.scope<fragment, #blk>>
    // expected-error @+1 {{element access to a register buffer outside the slot form (run tl-distribute-parallel first)}}
    %v = memref.load %f[%c0] : memref<128xf32, #tl.scope<fragment, #blk>>
    %z = arith.addf %v, %v : f32
    memref.store %z, %f[%c0] : memref<128xf32, #tl.scope<fragment, #blk>>
  }
  return
}

// -----

func.func @no_layout(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) {
    // expected-error @+1 {{register buffer without a layout (run tl-infer-layouts first)}}
    %f = tl.alloc_fragment : memref<128xf32, #tl.scope<fragment>>
  }
  return
}

// -----

// Clusters run along x only.
func.func @cluster_y(%n: index) attributes {tl.kernel} {
  // expected-error @+1 {{on sm_90a a thread-block cluster runs along x, e.g. (2, 1, 1)}}
  tl.launch grid(%n) threads(128) cluster(1, 2) blocks(%bx) {
  }
  return
}
