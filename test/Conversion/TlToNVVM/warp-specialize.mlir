// tl-lower-to-nvvm, warp-specialised roles: a branch per role on the
// thread index, each role first setting its register budget (setmaxnreg.inc
// for the consumers' 232, .dec for the producer's 40: the launch gives 168 to
// each of 384 threads), block synchronisation inside a role on a named
// barrier of its own threads, tl.elect relative to the role's first thread,
// and per-thread state initialised before the split.
// RUN: tl-opt %s --tl-lower-to-nvvm --canonicalize | FileCheck %s

// CHECK-LABEL: llvm.func @roles
// CHECK-SAME: nvvm.maxntid = array<i32: 384, 1, 1>
// CHECK-SAME: tlc_threads = 384 : i64, tlc_warp_specialized = true
// CHECK: %[[ZERO:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK: %[[CNT:.*]] = llvm.alloca %{{.*}} x i32
// CHECK-NEXT: llvm.store %[[ZERO]], %[[CNT]] : i32, !llvm.ptr
// CHECK: mbarrier.init.shared::cta.b64 {{.*}} %c33_i32
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 0;"
// CHECK: %[[TID:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK-NEXT: %[[LO:.*]] = arith.cmpi uge, %[[TID]], %c0 : index
// CHECK-NEXT: %[[HI:.*]] = arith.cmpi ult, %[[TID]], %c256 : index
// CHECK-NEXT: %[[CONS:.*]] = arith.andi %[[LO]], %[[HI]] : i1
// CHECK-NEXT: scf.if %[[CONS]] {
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "setmaxnreg.inc.sync.aligned.u32 232;"
// CHECK-NEXT: scf.for
// CHECK: llvm.load %[[CNT]] : !llvm.ptr -> i32
// CHECK: mbarrier.try_wait.parity
// CHECK: llvm.store %{{.*}}, %[[CNT]] : i32, !llvm.ptr
// The consumers' shared fill and tl.sync_threads: 256 threads on barrier 1,
// the fill's loop strides over the role's threads.
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 1, 256;"
// CHECK-NEXT: nvvm.read.ptx.sreg.tid.x
// CHECK-NEXT: %[[T:.*]] = arith.index_cast
// CHECK-NEXT: scf.for %{{.*}} = %[[T]] to %c8 step %c256 {
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 1, 256;"
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 1, 256;"
// CHECK-NEXT: } else {
// CHECK-NEXT: llvm.inline_asm has_side_effects asm_dialect = att "setmaxnreg.dec.sync.aligned.u32 40;"
// CHECK-NEXT: scf.for
// CHECK: llvm.load %[[CNT]] : !llvm.ptr -> i32
// tl.elect in the producer: its first thread (256), or its first warp.
// CHECK: %[[P0:.*]] = arith.subi %{{.*}}, %c256 : index
// CHECK-NEXT: %[[ONE:.*]] = arith.cmpi ult, %[[P0]], %c1 : index
// CHECK: %[[P1:.*]] = arith.subi %{{.*}}, %c256 : index
// CHECK-NEXT: %[[WARP:.*]] = arith.cmpi ult, %[[P1]], %c32 : index
// CHECK: scf.if %[[ONE]] {
// CHECK: mbarrier.arrive.expect_tx.shared::cta.b64
// CHECK: scf.if %[[WARP]] {
// CHECK: cp.async.ca.shared.global
// CHECK: cp.async.mbarrier.arrive.noinc.shared::cta.b64
// CHECK: llvm.store %{{.*}}, %[[CNT]] : i32, !llvm.ptr
// CHECK: llvm.inline_asm has_side_effects asm_dialect = att "bar.sync 2, 128;"
// CHECK-NEXT: {{^ *}}}
// CHECK-NOT: bar.sync 0
// CHECK: llvm.return
#cnt = #tl.layout<[1], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0), (0)]>
func.func @roles(%A: memref<?x?xf32, #tl.scope<global>>, %n: index, %nk: index) attributes {tl.kernel, tl.arg_dims = [["M", "K"], unit, unit]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c1_i32 = arith.constant 1 : i32
  tl.launch grid(%n) threads(384) blocks(%bx) attributes {tl.smem_bytes = 16416 : i64} {
    %ring = tl.alloc_shared {tl.offset = 0 : i64} : memref<2x32x64xf32, #tl.scope<shared>>
    %out = tl.alloc_shared {tl.offset = 16384 : i64} : memref<8xf32, #tl.scope<shared>>
    %full = tl.alloc_barrier arrive_count(33) {tl.offset = 16416 : i64} : !tl.barrier<2>
    %cnt = tl.alloc_local {init = 0 : i32} : memref<1xi32, #tl.scope<local, #cnt>>
    tl.warp_specialize roles [256, 128] regs [232, 40] {
      scf.for %k = %c0 to %nk step %c1 {
        %i = tl.slot_load %cnt[%c0] : memref<1xi32, #tl.scope<local, #cnt>>
        %it = arith.index_cast %i : i32 to index
        %s = arith.remui %it, %c2 : index
        tl.barrier_wait %full[%s], %c0 : !tl.barrier<2>
        %i1 = arith.addi %i, %c1_i32 : i32
        tl.slot_store %i1, %cnt[%c0] : memref<1xi32, #tl.scope<local, #cnt>>
      }
      %z = arith.constant 0.0 : f32
      tl.fill %out, %z : memref<8xf32, #tl.scope<shared>>
      tl.sync_threads
      tl.yield
    }, {
      scf.for %k = %c0 to %nk step %c1 {
        %i = tl.slot_load %cnt[%c0] : memref<1xi32, #tl.scope<local, #cnt>>
        %it = arith.index_cast %i : i32 to index
        %s = arith.remui %it, %c2 : index
        %one = tl.elect
        %warp = tl.elect {warp}
        %v = tl.view %ring[%s, %c0, %c0] [1, 32, 64] : memref<2x32x64xf32, #tl.scope<shared>> to memref<32x64xf32, #tl.scope<shared>>
        scf.if %one {
          %tx = arith.constant 8192 : index
          tl.barrier_expect_tx %full[%s], %tx {arrive} : !tl.barrier<2>
        }
        scf.if %warp {
          tl.copy %A[%c0, %k] [32, 64] to %v[] [32, 64] barrier(%full[%s]) : memref<?x?xf32, #tl.scope<global>> to memref<32x64xf32, #tl.scope<shared>>, !tl.barrier<2>
        }
        %i1 = arith.addi %i, %c1_i32 : i32
        tl.slot_store %i1, %cnt[%c0] : memref<1xi32, #tl.scope<local, #cnt>>
      }
      tl.sync_threads
      tl.yield
    }
  }
  return
}
