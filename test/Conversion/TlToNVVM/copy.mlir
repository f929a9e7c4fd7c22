// tl-lower-to-nvvm, copies and fills: register <-> global in vector runs
// guarded by bounds (out of bounds reads zero, writes nothing), TMA loads one
// instruction per swizzle chunk completing on an mbarrier, cp.async by the
// lanes of a warp with a no-increment arrival, cooperative shared <-> global
// copies in 16-byte vectors between barriers, TMA stores, shared fills.
// RUN: tl-opt %s --split-input-file --tl-lower-to-nvvm --canonicalize | FileCheck %s
// RUN: tl-opt %s --split-input-file --tl-lower-to-nvvm --canonicalize | FileCheck %s --check-prefix=COUNT

// f32 registers to a bf16 tensor: each thread holds runs of 8 consecutive
// columns (register bits 0-2), so a run is one 16-byte vector<8xbf16> store
// (rounded to bf16 on the way) when it is aligned and inside the tensor, and
// 8 bound-checked scalar stores otherwise; 4 runs per thread.
// CHECK-LABEL: llvm.func @store_vectors
// CHECK: %[[ACC:.*]] = llvm.alloca %{{.*}} x f32
// CHECK: %[[M0:.*]] = arith.muli %{{.*}}, %c64 : index
// CHECK-DAG: %[[M:.*]] = arith.index_cast %arg1 : i64 to index
// CHECK-DAG: %[[N:.*]] = arith.index_cast %arg2 : i64 to index
// CHECK: %[[LANE7:.*]] = arith.andi %{{.*}}, %c7 : index
// CHECK-NEXT: %[[COL:.*]] = arith.shli %[[LANE7]], %c3 : index
// CHECK: %[[ROW:.*]] = arith.addi %[[M0]], %{{.*}} : index
// CHECK-NEXT: %[[ROW64:.*]] = arith.index_cast %[[ROW]] : index to i64
// CHECK-NEXT: %[[COL64:.*]] = arith.index_cast %[[COL]] : index to i64
// CHECK-NEXT: %[[RM:.*]] = arith.muli %[[ROW64]], %arg2 : i64
// CHECK-NEXT: %[[LIN:.*]] = arith.addi %[[RM]], %[[COL64]] : i64
// CHECK-NEXT: %[[MIS:.*]] = arith.remui %[[LIN]], %c8_i64 : i64
// CHECK-NEXT: %[[AL:.*]] = arith.cmpi eq, %[[MIS]], %c0_i64 : i64
// CHECK-NEXT: %[[LAST:.*]] = arith.addi %[[COL]], %c7 : index
// CHECK-NEXT: %[[RIN:.*]] = arith.cmpi ult, %[[ROW]], %[[M]] : index
// CHECK-NEXT: %[[CIN:.*]] = arith.cmpi ult, %[[LAST]], %[[N]] : index
// CHECK-NEXT: %[[IN:.*]] = arith.andi %[[RIN]], %[[CIN]] : i1
// CHECK-NEXT: %[[OK:.*]] = arith.andi %[[AL]], %[[IN]] : i1
// CHECK-NEXT: scf.if %[[OK]] {
// CHECK: %[[P:.*]] = llvm.getelementptr %arg0[%{{.*}}] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, bf16
// CHECK-NEXT: %[[X0:.*]] = llvm.load %[[ACC]] : !llvm.ptr -> f32
// CHECK-NEXT: %[[B0:.*]] = arith.truncf %[[X0]] : f32 to bf16
// CHECK-NEXT: llvm.insertelement %[[B0]], %{{.*}}[%c0_i32 : i32] : vector<8xbf16>
// CHECK: %[[S7:.*]] = llvm.getelementptr %[[ACC]][7] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK: %[[V:.*]] = llvm.insertelement %{{.*}}[%c7_i32 : i32] : vector<8xbf16>
// CHECK-NEXT: llvm.store %[[V]], %[[P]] {alignment = 16 : i64} : vector<8xbf16>, !llvm.ptr<1>
// CHECK-NEXT: } else {
// CHECK-NEXT: %[[Y0:.*]] = llvm.load %[[ACC]] : !llvm.ptr -> f32
// CHECK-NEXT: %[[C0:.*]] = arith.truncf %[[Y0]] : f32 to bf16
// CHECK-NEXT: %[[R0:.*]] = arith.cmpi ult, %[[ROW]], %[[M]] : index
// CHECK-NEXT: %[[K0:.*]] = arith.cmpi ult, %[[COL]], %[[N]] : index
// CHECK-NEXT: %[[G0:.*]] = arith.andi %[[R0]], %[[K0]] : i1
// CHECK-NEXT: scf.if %[[G0]] {
// CHECK: llvm.store %[[C0]], %{{.*}} : bf16, !llvm.ptr<1>
// COUNT-LABEL: llvm.func @store_vectors
// COUNT-COUNT-4: {alignment = 16 : i64} : vector<8xbf16>, !llvm.ptr<1>
// COUNT-NOT: vector<8xbf16>, !llvm.ptr<1>
// COUNT: llvm.return
#blk = #tl.layout<[64, 64], reg = [(0, 1), (0, 2), (0, 4), (16, 0), (32, 0)], lane = [(0, 8), (0, 16), (0, 32), (1, 0), (2, 0)], warp = [(4, 0), (8, 0)]>
func.func @store_vectors(%Y: memref<?x?xbf16, #tl.scope<global>>, %gx: index) attributes {tl.kernel, tl.arg_dims = [["M", "N"], unit]} {
  tl.launch grid(%gx) threads(128) blocks(%bx) {
    %c0 = arith.constant 0 : index
    %c64 = arith.constant 64 : index
    %x = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment, #blk>>
    %m = arith.muli %bx, %c64 : index
    tl.copy %x[] [64, 64] to %Y[%m, %c0] [64, 64] : memref<64x64xf32, #tl.scope<fragment, #blk>> to memref<?x?xbf16, #tl.scope<global>>
  }
  return
}

// -----

// Global f32 into the same layout: runs are capped at 16 bytes (4 floats):
// 8 vector loads per thread; elements past the tensor read as zero.
// CHECK-LABEL: llvm.func @load_vectors
// CHECK: %[[ACC:.*]] = llvm.alloca %{{.*}} x f32
// CHECK: %[[AL:.*]] = arith.cmpi eq, %{{.*}}, %c0_i64 : i64
// CHECK: %[[OK:.*]] = arith.andi %[[AL]], %{{.*}} : i1
// CHECK-NEXT: scf.if %[[OK]] {
// CHECK: %[[V:.*]] = llvm.load %{{.*}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xf32>
// CHECK-NEXT: %[[E0:.*]] = llvm.extractelement %[[V]][%c0_i32 : i32] : vector<4xf32>
// CHECK-NEXT: llvm.store %[[E0]], %[[ACC]] : f32, !llvm.ptr
// CHECK: } else {
// CHECK: %[[X:.*]] = scf.if %{{.*}} -> (f32) {
// CHECK: llvm.load %{{.*}} : !llvm.ptr<1> -> f32
// CHECK: } else {
// CHECK-NEXT: scf.yield %cst : f32
// CHECK: llvm.store %[[X]], %[[ACC]] : f32, !llvm.ptr
// COUNT-LABEL: llvm.func @load_vectors
// COUNT-COUNT-8: {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xf32>
// COUNT-NOT: -> vector<4xf32>
// COUNT: llvm.return
#blk = #tl.layout<[64, 64], reg = [(0, 1), (0, 2), (0, 4), (16, 0), (32, 0)], lane = [(0, 8), (0, 16), (0, 32), (1, 0), (2, 0)], warp = [(4, 0), (8, 0)]>
func.func @load_vectors(%X: memref<?x?xf32, #tl.scope<global>>, %gx: index) attributes {tl.kernel, tl.arg_dims = [["M", "N"], unit]} {
  tl.launch grid(%gx) threads(128) blocks(%bx) {
    %c0 = arith.constant 0 : index
    %x = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment, #blk>>
    tl.copy %X[%bx, %c0] [64, 64] to %x[] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<fragment, #blk>>
    %c1 = arith.constant 1 : index
    %v = tl.slot_load %x[%c1] : memref<64x64xf32, #tl.scope<fragment, #blk>>
    memref.store %v, %X[%bx, %c0] : memref<?x?xf32, #tl.scope<global>>
  }
  return
}

// -----

// A 128 x 128 bf16 tile in 128-byte swizzle is two 64-column chunks of
// 16 KB: two bulk tensor copies with the same map (the kernel's last
// parameter, a 128-byte grid constant), the second 16384 bytes further in
// shared memory and 64 columns further in the tensor; coordinates innermost
// first; both complete on barrier 1 of the array (8 bytes in).
// CHECK-LABEL: llvm.func @tma_load
// CHECK-SAME: %arg5: !llvm.ptr {llvm.align = 64 : i64, llvm.byval = !llvm.array<128 x i8>, nvvm.grid_constant}
// CHECK-SAME: tlc_tma_maps = [{box = array<i64: 128, 64>, dtype = "bfloat16", param = 0 : i64, swizzle = "128B"}]
// CHECK: %[[BASE:.*]] = llvm.mlir.addressof @__tl_smem
// CHECK: %[[K:.*]] = arith.index_cast %arg4 : i64 to index
// CHECK: %[[BARS:.*]] = llvm.getelementptr %[[BASE]][32768] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK-NEXT: %[[M:.*]] = arith.muli %{{.*}}, %c128 : index
// CHECK-NEXT: %[[MAP:.*]] = llvm.ptrtoint %arg5 : !llvm.ptr to i64
// CHECK-NEXT: %[[BAR:.*]] = llvm.getelementptr %[[BARS]][1] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i64
// CHECK-NEXT: %[[BAR32:.*]] = llvm.ptrtoint %[[BAR]] : !llvm.ptr<3> to i32
// CHECK-NEXT: %[[DST0:.*]] = llvm.ptrtoint %[[BASE]] : !llvm.ptr<3> to i32
// CHECK-NEXT: %[[K32:.*]] = arith.index_cast %[[K]] : index to i32
// CHECK-NEXT: %[[M32:.*]] = arith.index_cast %[[M]] : index to i32
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [$0], [$1, {$3, $4}], [$2];", "r,l,r,r,r,~{memory}" %[[DST0]], %[[MAP]], %[[BAR32]], %[[K32]], %[[M32]]
// CHECK-NEXT: %[[DST1:.*]] = arith.addi %[[DST0]], %c16384_i32 : i32
// CHECK-NEXT: %[[K1:.*]] = arith.addi %[[K]], %c64 : index
// CHECK-NEXT: %[[K1_32:.*]] = arith.index_cast %[[K1]] : index to i32
// CHECK-NEXT: %[[M32B:.*]] = arith.index_cast %[[M]] : index to i32
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [$0], [$1, {$3, $4}], [$2];", "r,l,r,r,r,~{memory}" %[[DST1]], %[[MAP]], %[[BAR32]], %[[K1_32]], %[[M32B]]
// CHECK-NEXT: llvm.return
#sw = #tl.layout<[128, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0), (0, 64)]>
func.func @tma_load(%A: memref<?x?xbf16, #tl.scope<global>>, %gx: index, %k: index) attributes {tl.kernel, tl.arg_dims = [["M", "K"], unit, unit], tl.tma_maps = [{box = array<i64: 128, 64>, dtype = "bfloat16", param = 0 : i64, swizzle = "128B"}]} {
  tl.launch grid(%gx) threads(128) blocks(%bx) attributes {tl.smem_bytes = 32784 : i64} {
    %c1 = arith.constant 1 : index
    %c128 = arith.constant 128 : index
    %a = tl.alloc_shared {tl.offset = 0 : i64} : memref<128x128xbf16, #tl.scope<shared, #sw>>
    %full = tl.alloc_barrier arrive_count(1) {tl.offset = 32768 : i64} : !tl.barrier<2>
    %m = arith.muli %bx, %c128 : index
    tl.copy %A[%m, %k] [128, 128] to %a[] [128, 128] barrier(%full[%c1]) {tma = 0 : i64} : memref<?x?xbf16, #tl.scope<global>> to memref<128x128xbf16, #tl.scope<shared, #sw>>, !tl.barrier<2>
  }
  return
}

// -----

// The [1, 64, 1, 128] box of a 4-D tensor (attention's K[b, j:j+64, h, :]):
// one 4-D copy, coordinates {d, h, j, b}.
// CHECK-LABEL: llvm.func @tma_load_4d
// CHECK-DAG: %[[H:.*]] = arith.index_cast %arg5 : i64 to index
// CHECK-DAG: %[[J:.*]] = arith.index_cast %arg6 : i64 to index
// CHECK-DAG: %[[B:.*]] = nvvm.read.ptx.sreg.ctaid.x : i32
// CHECK: %[[H32:.*]] = arith.index_cast %[[H]] : index to i32
// CHECK-NEXT: %[[J32:.*]] = arith.index_cast %[[J]] : index to i32
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes [$0], [$1, {$3, $4, $5, $6}], [$2];", "r,l,r,r,r,r,r,~{memory}" %{{.*}}, %{{.*}}, %{{.*}}, %c0_i32, %[[H32]], %[[J32]], %[[B]]
// CHECK-NOT: cp.async.bulk
func.func @tma_load_4d(%K: memref<?x?x?x128xbf16, #tl.scope<global>>, %b: index, %h: index, %j: index) attributes {tl.kernel, tl.arg_dims = [["B", "S", "H", 128], unit, unit, unit], tl.tma_maps = [{box = array<i64: 1, 64, 1, 128>, dtype = "bfloat16", param = 0 : i64, swizzle = "none"}]} {
  tl.launch grid(%b) threads(128) blocks(%bx) attributes {tl.smem_bytes = 16392 : i64} {
    %c0 = arith.constant 0 : index
    %k = tl.alloc_shared {tl.offset = 0 : i64} : memref<64x128xbf16, #tl.scope<shared>>
    %full = tl.alloc_barrier arrive_count(1) {tl.offset = 16384 : i64} : !tl.barrier<1>
    tl.copy %K[%bx, %j, %h, %c0] [1, 64, 1, 128] to %k[] [64, 128] barrier(%full[%c0]) {tma = 0 : i64} : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<64x128xbf16, #tl.scope<shared>>, !tl.barrier<1>
  }
  return
}

// -----

// A column of f32 scales: the lanes of the warp copy 4 bytes each, 32
// elements apart, a source size of 0 (zero fill, at the tensor's base) past
// the tensor; then each lane's arrival on the barrier fires when its copies
// have landed (noinc: the barrier counts the 32 lanes).
// CHECK-LABEL: llvm.func @cp_async
// CHECK: %[[BASE:.*]] = llvm.mlir.addressof @__tl_smem
// CHECK: %[[BAR:.*]] = llvm.getelementptr %[[BASE]][512] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK: %[[M0:.*]] = arith.muli %{{.*}}, %c128 : index
// CHECK-DAG: %[[ROWS:.*]] = arith.index_cast %arg1 : i64 to index
// CHECK-DAG: %[[COLS:.*]] = arith.index_cast %arg2 : i64 to index
// CHECK: %[[LANE:.*]] = arith.remui %{{.*}}, %c32 : index
// CHECK-NEXT: scf.for %[[I:.*]] = %[[LANE]] to %c128 step %c32 {
// CHECK-NEXT: %[[Q:.*]] = arith.remui %[[I]], %c128 : index
// CHECK-NEXT: %[[R:.*]] = arith.addi %[[M0]], %[[Q]] : index
// CHECK-NEXT: %[[RIN:.*]] = arith.cmpi ult, %[[R]], %[[ROWS]] : index
// CHECK-NEXT: %[[KIN:.*]] = arith.cmpi ult, %{{.*}}, %[[COLS]] : index
// CHECK-NEXT: %[[IN:.*]] = arith.andi %[[RIN]], %[[KIN]] : i1
// CHECK: %[[LIN:.*]] = arith.select %[[IN]], %{{.*}}, %c0_i64 : i64
// CHECK: %[[SRC:.*]] = llvm.ptrtoint %{{.*}} : !llvm.ptr<1> to i64
// CHECK: %[[DSTP:.*]] = llvm.getelementptr %[[BASE]][%{{.*}}] : (!llvm.ptr<3>, i64) -> !llvm.ptr<3>, f32
// CHECK-NEXT: %[[DST:.*]] = llvm.ptrtoint %[[DSTP]] : !llvm.ptr<3> to i32
// CHECK-NEXT: %[[SZ:.*]] = arith.select %[[IN]], %c4_i32, %c0_i32 : i32
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "cp.async.ca.shared.global [$0], [$1], 4, $2;", "r,l,r,~{memory}" %[[DST]], %[[SRC]], %[[SZ]]
// CHECK-NEXT: {{^ *}}}{{$}}
// CHECK-NEXT: %[[BAR32:.*]] = llvm.ptrtoint %[[BAR]] : !llvm.ptr<3> to i32
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "cp.async.mbarrier.arrive.noinc.shared::cta.b64 [$0];", "r,~{memory}" %[[BAR32]]
func.func @cp_async(%SA: memref<?x?xf32, #tl.scope<global>>, %gx: index, %k: index) attributes {tl.kernel, tl.arg_dims = [["M", "KB"], unit, unit]} {
  tl.launch grid(%gx) threads(128) blocks(%bx) attributes {tl.smem_bytes = 528 : i64} {
    %c0 = arith.constant 0 : index
    %c128 = arith.constant 128 : index
    %sa = tl.alloc_shared {tl.offset = 0 : i64} : memref<128xf32, #tl.scope<shared>>
    %full = tl.alloc_barrier arrive_count(32) {tl.offset = 512 : i64} : !tl.barrier<2>
    %m = arith.muli %bx, %c128 : index
    tl.copy %SA[%m, %k] [128, 1] to %sa[] [128] barrier(%full[%c0]) : memref<?x?xf32, #tl.scope<global>> to memref<128xf32, #tl.scope<shared>>, !tl.barrier<2>
  }
  return
}

// -----

// Global -> shared -> global through a 32 x 64 f32 tile: the 128 threads
// share the box in 16-byte vectors (512 of them), guarded where the global
// side is not aligned or inside; the writes to shared memory are bracketed by
// block barriers.
// CHECK-LABEL: llvm.func @cooperative
// CHECK: nvvm.read.ptx.sreg.tid.x
// CHECK-NEXT: %[[T:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK-NEXT: scf.for %{{.*}} = %[[T]] to %c512 step %c128 {
// CHECK: llvm.load %{{.*}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xf32>
// CHECK: llvm.store %{{.*}} {alignment = 16 : i64} : vector<4xf32>, !llvm.ptr<3>
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK-NOT: bar.sync
// CHECK: scf.for %{{.*}} to %c512 step %c128 {
// CHECK: llvm.load %{{.*}} {alignment = 16 : i64} : !llvm.ptr<3> -> vector<4xf32>
// CHECK: llvm.store %{{.*}} {alignment = 16 : i64} : vector<4xf32>, !llvm.ptr<1>
// CHECK-NOT: bar.sync
// CHECK: llvm.return
func.func @cooperative(%X: memref<?x?xf32, #tl.scope<global>>, %Y: memref<?x?xf32, #tl.scope<global>>, %gx: index) attributes {tl.kernel, tl.arg_dims = [["M", "N"], ["M", "N"], unit]} {
  tl.launch grid(%gx) threads(128) blocks(%bx) attributes {tl.smem_bytes = 8192 : i64} {
    %c0 = arith.constant 0 : index
    %t = tl.alloc_shared {tl.offset = 0 : i64} : memref<32x64xf32, #tl.scope<shared>>
    tl.copy %X[%bx, %c0] [32, 64] to %t[] [32, 64] : memref<?x?xf32, #tl.scope<global>> to memref<32x64xf32, #tl.scope<shared>>
    tl.copy %t[] [32, 64] to %Y[%bx, %c0] [32, 64] : memref<32x64xf32, #tl.scope<shared>> to memref<?x?xf32, #tl.scope<global>>
  }
  return
}

// -----

// A whole shared tile to a global tensor with a tensor map: the writers'
// stores are made visible to the async proxy, thread 0 issues the bulk
// store and waits until the tile has been read, and the block waits for it.
// CHECK-LABEL: llvm.func @tma_store
// CHECK: %[[M:.*]] = arith.muli %{{.*}}, %c64 : index
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "fence.proxy.async.shared::cta;"
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK-NEXT: %[[TID32:.*]] = nvvm.read.ptx.sreg.tid.x
// CHECK-NEXT: %[[TID:.*]] = arith.index_cast %[[TID32]]
// CHECK-NEXT: %[[T0:.*]] = arith.cmpi eq, %[[TID]], %c0 : index
// CHECK-NEXT: scf.if %[[T0]] {
// CHECK-NEXT: %[[MAP:.*]] = llvm.ptrtoint %arg4 : !llvm.ptr to i64
// CHECK-NEXT: %[[SRC:.*]] = llvm.ptrtoint %{{.*}} : !llvm.ptr<3> to i32
// CHECK-NEXT: %[[M32:.*]] = arith.index_cast %[[M]] : index to i32
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [$0, {$2, $3}], [$1];", "l,r,r,r,~{memory}" %[[MAP]], %[[SRC]], %c0_i32, %[[M32]]
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "cp.async.bulk.commit_group;"
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "cp.async.bulk.wait_group.read 0;"
// CHECK-NEXT: {{^ *}}}{{$}}
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
func.func @tma_store(%Y: memref<?x?xbf16, #tl.scope<global>>, %gx: index) attributes {tl.kernel, tl.arg_dims = [["M", "N"], unit], tl.tma_maps = [{box = array<i64: 64, 128>, dtype = "bfloat16", param = 0 : i64, swizzle = "none"}]} {
  tl.launch grid(%gx) threads(128) blocks(%bx) attributes {tl.smem_bytes = 16384 : i64} {
    %c0 = arith.constant 0 : index
    %c64 = arith.constant 64 : index
    %t = tl.alloc_shared {tl.offset = 0 : i64} : memref<64x128xbf16, #tl.scope<shared>>
    %m = arith.muli %bx, %c64 : index
    tl.copy %t[] [64, 128] to %Y[%m, %c0] [64, 128] {tma = 0 : i64} : memref<64x128xbf16, #tl.scope<shared>> to memref<?x?xbf16, #tl.scope<global>>
  }
  return
}

// -----

// A shared fill: every thread stores every 128th element, between barriers.
// CHECK-LABEL: llvm.func @fill_shared
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK: scf.for %{{.*}} = %{{.*}} to %c512 step %c128 {
// CHECK: llvm.store %cst, %{{.*}} : f32, !llvm.ptr<3>
// CHECK: {{^ *}}}{{$}}
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
func.func @fill_shared(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%bx) attributes {tl.smem_bytes = 2048 : i64} {
    %t = tl.alloc_shared {tl.offset = 0 : i64} : memref<16x32xf32, #tl.scope<shared>>
    %z = arith.constant 0.0 : f32
    tl.fill %t, %z : memref<16x32xf32, #tl.scope<shared>>
  }
  return
}

// -----

// f32 registers to bf16 registers of the same layout (attention's P = S):
// slot pairs convert with one packed cvt.rn.bf16x2.f32 (the second slot in the
// high half), 4 instructions for the 8 slots.
// CHECK-LABEL: llvm.func @pack_registers
// CHECK: %[[S0:.*]] = llvm.load %{{.*}} : !llvm.ptr -> f32
// CHECK: %[[S1:.*]] = llvm.load %{{.*}} : !llvm.ptr -> f32
// CHECK-NEXT: %[[B:.*]] = llvm.inline_asm asm_dialect = att "cvt.rn.bf16x2.f32 $0, $2, $1;", "=r,f,f" %[[S0]], %[[S1]] : (f32, f32) -> i32
// CHECK-NEXT: %[[V:.*]] = llvm.bitcast %[[B]] : i32 to vector<2xbf16>
// CHECK-NEXT: %[[LO:.*]] = llvm.extractelement %[[V]][%c0_i32 : i32] : vector<2xbf16>
// CHECK-NEXT: llvm.store %[[LO]], %{{.*}} : bf16, !llvm.ptr
// CHECK: %[[HI:.*]] = llvm.extractelement %[[V]][%c1_i32 : i32] : vector<2xbf16>
// COUNT-LABEL: llvm.func @pack_registers
// COUNT-COUNT-4: cvt.rn.bf16x2.f32
// COUNT-NOT: arith.truncf
// COUNT: llvm.return
#acc = #tl.layout<[64, 16], reg = [(0, 1), (8, 0), (0, 8)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
func.func @pack_registers(%gx: index) attributes {tl.kernel, tl.arg_dims = [unit]} {
  tl.launch grid(%gx) threads(128) blocks(%bx) {
    %s = tl.alloc_fragment : memref<64x16xf32, #tl.scope<fragment, #acc>>
    %p = tl.alloc_fragment : memref<64x16xbf16, #tl.scope<fragment, #acc>>
    tl.copy %s[] [64, 16] to %p[] [64, 16] : memref<64x16xf32, #tl.scope<fragment, #acc>> to memref<64x16xbf16, #tl.scope<fragment, #acc>>
  }
  return
}
