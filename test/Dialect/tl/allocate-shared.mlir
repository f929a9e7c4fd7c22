// tl-allocate-shared: byte offsets of shared buffers by liveness, barriers
// after the buffers, scratch for the ops that need it, the launch's total,
// and the over-budget error listing every buffer.
// RUN: tl-opt %s --split-input-file --tl-allocate-shared="budget=160000" --verify-diagnostics | FileCheck %s

// A warp-specialised GEMM: the rings (swizzled, 1024-byte aligned) are used
// by both roles, so they live for the whole launch and never share; the
// epilogue tile (consumers only) cannot take their bytes either. The mbarriers
// come after every buffer (8 bytes each, initialised once).
// CHECK-LABEL: func.func @gemm
// CHECK: tl.launch {{.*}} attributes {tl.smem_bytes = 131120 : i64}
// CHECK-NEXT: tl.alloc_shared {tl.offset = 0 : i64} : memref<3x128x64xbf16
// CHECK-NEXT: tl.alloc_shared {tl.offset = 49152 : i64} : memref<3x128x64xbf16
// CHECK-NEXT: tl.alloc_barrier arrive_count(1) {tl.offset = 131072 : i64} : !tl.barrier<3>
// CHECK-NEXT: tl.alloc_barrier arrive_count(8) {tl.offset = 131096 : i64} : !tl.barrier<3>
// CHECK-NEXT: tl.alloc_fragment
// CHECK-NOT: tl.offset
// CHECK-NEXT: tl.alloc_shared {tl.offset = 98304 : i64} : memref<128x128xbf16
#ring = #tl.layout<[4, 128, 64], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (0, 64, 0), (1, 0, 0), (2, 0, 0)]>
#tile = #tl.layout<[128, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0)]>
#acc = #tl.layout<[128, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
#smem = #tl.scope<shared, #ring>
#smem1 = #tl.scope<shared, #tile>
#frag = #tl.scope<fragment, #acc>
func.func @gemm(%A: memref<?x?xbf16, #tl.scope<global>>, %B: memref<?x?xbf16, #tl.scope<global>>, %C: memref<?x?xbf16, #tl.scope<global>>, %gx: index, %gy: index, %nk: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  tl.launch grid(%gx, %gy) threads(384) blocks(%bx, %by) {
    %a = tl.alloc_shared : memref<3x128x64xbf16, #smem>
    %b = tl.alloc_shared : memref<3x128x64xbf16, #smem>
    %full = tl.alloc_barrier arrive_count(1) : !tl.barrier<3>
    %empty = tl.alloc_barrier arrive_count(8) : !tl.barrier<3>
    %acc = tl.alloc_fragment : memref<128x128xf32, #frag>
    %c_s = tl.alloc_shared : memref<128x128xbf16, #tl.scope<shared>>
    tl.warp_specialize roles [256, 128] regs [232, 40] {
      scf.for %k = %c0 to %nk step %c1 {
        %s = arith.remui %k, %c3 : index
        %va = tl.view %a[%s, %c0, %c0] [1, 128, 64] : memref<3x128x64xbf16, #smem> to memref<128x64xbf16, #smem1>
        %vb = tl.view %b[%s, %c0, %c0] [1, 128, 64] : memref<3x128x64xbf16, #smem> to memref<128x64xbf16, #smem1>
        tl.barrier_wait %full[%s], %c0 : !tl.barrier<3>
        tl.gemm %va, %vb, %acc {transpose_b} : memref<128x64xbf16, #smem1>, memref<128x64xbf16, #smem1>, memref<128x128xf32, #frag>
        tl.barrier_arrive %empty[%s] {per_warp} : !tl.barrier<3>
      }
      tl.copy %acc[] [128, 128] to %c_s[] [128, 128] : memref<128x128xf32, #frag> to memref<128x128xbf16, #tl.scope<shared>>
      tl.copy %c_s[] [128, 128] to %C[%c0, %c0] [128, 128] : memref<128x128xbf16, #tl.scope<shared>> to memref<?x?xbf16, #tl.scope<global>>
      tl.yield
    }, {
      scf.for %k = %c0 to %nk step %c1 {
        %s = arith.remui %k, %c3 : index
        tl.barrier_wait %empty[%s], %c1 : !tl.barrier<3>
        %one = tl.elect
        %va = tl.view %a[%s, %c0, %c0] [1, 128, 64] : memref<3x128x64xbf16, #smem> to memref<128x64xbf16, #smem1>
        %vb = tl.view %b[%s, %c0, %c0] [1, 128, 64] : memref<3x128x64xbf16, #smem> to memref<128x64xbf16, #smem1>
        scf.if %one {
          tl.copy %A[%c0, %c0] [128, 64] to %va[] [128, 64] barrier(%full[%s]) : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #smem1>, !tl.barrier<3>
          tl.copy %B[%c0, %c0] [128, 64] to %vb[] [128, 64] barrier(%full[%s]) : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #smem1>, !tl.barrier<3>
        }
      }
      tl.yield
    }
  }
  return
}

// -----

// Three tiles used one after the other (each written, then read, before the
// next is written): they share the same bytes.
// CHECK-LABEL: func.func @disjoint
// CHECK: tl.launch {{.*}} attributes {tl.smem_bytes = 16384 : i64}
// CHECK-NEXT: %c0
// CHECK-NEXT: tl.alloc_shared {tl.offset = 0 : i64} : memref<64x64xf32
// CHECK-NEXT: tl.alloc_shared {tl.offset = 0 : i64} : memref<64x64xf32
// CHECK-NEXT: tl.alloc_shared {tl.offset = 0 : i64} : memref<32x64xf32
func.func @disjoint(%X: memref<?x?xf32, #tl.scope<global>>, %Y: memref<?x?xf32, #tl.scope<global>>, %gx: index) {
  tl.launch grid(%gx) threads(128) blocks(%bx) {
    %c0 = arith.constant 0 : index
    %x = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    %y = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    %z = tl.alloc_shared : memref<32x64xf32, #tl.scope<shared>>
    tl.copy %X[%bx, %c0] [64, 64] to %x[] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
    tl.copy %x[] [64, 64] to %Y[%bx, %c0] [64, 64] : memref<64x64xf32, #tl.scope<shared>> to memref<?x?xf32, #tl.scope<global>>
    tl.copy %X[%bx, %c0] [64, 64] to %y[] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
    tl.copy %y[] [64, 64] to %Y[%bx, %c0] [64, 64] : memref<64x64xf32, #tl.scope<shared>> to memref<?x?xf32, #tl.scope<global>>
    tl.copy %X[%bx, %c0] [32, 64] to %z[] [32, 64] : memref<?x?xf32, #tl.scope<global>> to memref<32x64xf32, #tl.scope<shared>>
    tl.copy %z[] [32, 64] to %Y[%bx, %c0] [32, 64] : memref<32x64xf32, #tl.scope<shared>> to memref<?x?xf32, #tl.scope<global>>
  }
  return
}

// -----

// %t and %u are used at different points of one loop body, but a buffer
// used in a loop lives for the whole loop (what one iteration writes, the
// next may read), so they get distinct bytes; %w, used only after the loop,
// takes %t's.
// CHECK-LABEL: func.func @loop
// CHECK: tl.launch {{.*}} attributes {tl.smem_bytes = 32768 : i64}
// CHECK: tl.alloc_shared {tl.offset = 0 : i64}
// CHECK-NEXT: tl.alloc_shared {tl.offset = 16384 : i64}
// CHECK-NEXT: tl.alloc_shared {tl.offset = 0 : i64}
func.func @loop(%X: memref<?x?xf32, #tl.scope<global>>, %Y: memref<?x?xf32, #tl.scope<global>>, %gx: index, %n: index) {
  tl.launch grid(%gx) threads(128) blocks(%bx) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %t = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    %u = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    %w = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    scf.for %i = %c0 to %n step %c1 {
      tl.copy %X[%i, %c0] [64, 64] to %t[] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
      tl.copy %t[] [64, 64] to %Y[%i, %c0] [64, 64] : memref<64x64xf32, #tl.scope<shared>> to memref<?x?xf32, #tl.scope<global>>
      tl.copy %X[%i, %c0] [64, 64] to %u[] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
      tl.copy %u[] [64, 64] to %Y[%i, %c0] [64, 64] : memref<64x64xf32, #tl.scope<shared>> to memref<?x?xf32, #tl.scope<global>>
    }
    tl.copy %X[%bx, %c0] [64, 64] to %w[] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
    tl.copy %w[] [64, 64] to %Y[%bx, %c0] [64, 64] : memref<64x64xf32, #tl.scope<shared>> to memref<?x?xf32, #tl.scope<global>>
  }
  return
}

// -----

// Scratch: the row sum's warps hold different columns (a cross-warp
// reduction, 4 rows x 4 warps x 8 bytes = 128 bytes), the layout conversion
// goes through a 4x256 f32 tile (4096 bytes). A scratch lives only while its
// op runs: the reduction's sits after %w (still to be read), the conversion,
// after %w's last use, takes offset 0.
// CHECK-LABEL: func.func @scratch
// CHECK: tl.launch {{.*}} attributes {tl.smem_bytes = 4096 : i64}
// CHECK: tl.alloc_shared {tl.offset = 0 : i64} : memref<256xbf16
// CHECK: tl.reduce sum {{.*}} {clear, tl.scratch = 512 : i64}
// CHECK: tl.convert_layout {{.*}} {tl.scratch = 0 : i64}
#blk = #tl.layout<[4, 256], reg = [(0, 1), (1, 0), (2, 0)], lane = [(0, 2), (0, 4), (0, 8), (0, 16), (0, 32)], warp = [(0, 64), (0, 128)]>
#rows = #tl.layout<[4, 256], reg = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32)], lane = [(0, 64), (0, 128), (1, 0), (0, 0), (0, 0)], warp = [(2, 0), (0, 0)]>
#rep = #tl.layout<[4], reg = [(1), (2)], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0)]>
func.func @scratch(%W: memref<256xbf16, #tl.scope<global>>, %O: memref<256xbf16, #tl.scope<global>>, %gx: index) {
  tl.launch grid(%gx) threads(128) blocks(%bx) {
    %x = tl.alloc_fragment : memref<4x256xf32, #tl.scope<fragment, #blk>>
    %x2 = tl.alloc_fragment : memref<4x256xf32, #tl.scope<fragment, #rows>>
    %ss = tl.alloc_fragment : memref<4xf32, #tl.scope<fragment, #rep>>
    %w = tl.alloc_shared : memref<256xbf16, #tl.scope<shared>>
    tl.copy %W[] [256] to %w[] [256] : memref<256xbf16, #tl.scope<global>> to memref<256xbf16, #tl.scope<shared>>
    tl.reduce sum %x, %ss dim(1) {clear} : memref<4x256xf32, #tl.scope<fragment, #blk>>, memref<4xf32, #tl.scope<fragment, #rep>>
    tl.copy %w[] [256] to %O[] [256] : memref<256xbf16, #tl.scope<shared>> to memref<256xbf16, #tl.scope<global>>
    tl.convert_layout %x to %x2 : memref<4x256xf32, #tl.scope<fragment, #blk>> to memref<4x256xf32, #tl.scope<fragment, #rows>>
  }
  return
}

// -----

// Roles run at the same time: a buffer of the consumers and one of the
// producer never share, even where both are used at the same point of their
// own role.
// CHECK-LABEL: func.func @roles
// CHECK: tl.launch {{.*}} attributes {tl.smem_bytes = 32768 : i64}
// CHECK-NEXT: tl.alloc_shared {tl.offset = 0 : i64}
// CHECK-NEXT: tl.alloc_shared {tl.offset = 16384 : i64}
func.func @roles(%X: memref<?x?xf32, #tl.scope<global>>, %Y: memref<?x?xf32, #tl.scope<global>>, %gx: index) {
  %c0 = arith.constant 0 : index
  tl.launch grid(%gx) threads(256) blocks(%bx) {
    %c = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    %p = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    tl.warp_specialize roles [128, 128] regs [0, 0] {
      tl.copy %X[%bx, %c0] [64, 64] to %c[] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
      tl.copy %c[] [64, 64] to %Y[%bx, %c0] [64, 64] : memref<64x64xf32, #tl.scope<shared>> to memref<?x?xf32, #tl.scope<global>>
      tl.yield
    }, {
      tl.copy %X[%bx, %c0] [64, 64] to %p[] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
      tl.copy %p[] [64, 64] to %Y[%bx, %c0] [64, 64] : memref<64x64xf32, #tl.scope<shared>> to memref<?x?xf32, #tl.scope<global>>
      tl.yield
    }
  }
  return
}

// -----

// Attention with 128-wide heads, two stages of K and V: 164416 bytes, over
// the 160000-byte budget of this test. The error lists every buffer and
// scratch with its bytes and offset, and the barriers.
#tile = #tl.layout<[128, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0), (0, 64)]>
#ring = #tl.layout<[2, 128, 128], offset = [(0, 0, 1), (0, 0, 2), (0, 0, 4), (0, 0, 8), (0, 0, 16), (0, 0, 32), (0, 1, 8), (0, 2, 16), (0, 4, 32), (0, 8, 0), (0, 16, 0), (0, 32, 0), (0, 64, 0), (0, 0, 64), (1, 0, 0)]>
#acc = #tl.layout<[128, 128], reg = [(0, 1), (8, 0), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0), (64, 0)]>
#row = #tl.layout<[128], reg = [(8)], lane = [(0), (0), (1), (2), (4)], warp = [(16), (32), (64)]>
#rep = #tl.layout<[128], reg = [(1), (2), (4), (8), (16), (32), (64)], lane = [(0), (0), (0), (0), (0)], warp = [(0), (0), (0)]>
#smem = #tl.scope<shared, #tile>
#smem1 = #tl.scope<shared, #ring>
#frag = #tl.scope<fragment, #acc>
func.func @attention(%Q: memref<?x?x?x128xbf16, #tl.scope<global>>, %K: memref<?x?x?x128xbf16, #tl.scope<global>>, %V: memref<?x?x?x128xbf16, #tl.scope<global>>, %gx: index, %gy: index, %gz: index, %nk: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  // expected-error @+1 {{the kernel needs 164416 bytes of shared memory, over the budget of 160000 bytes (pipeline stages and swizzle alignment included)}}
  tl.launch grid(%gx, %gy, %gz) threads(384) blocks(%bx, %by, %bz) {
    // expected-note @+1 {{this buffer: 32768 bytes at offset 131072}}
    %q = tl.alloc_shared : memref<128x128xbf16, #smem>
    // expected-note @+1 {{this buffer: 65536 bytes at offset 0}}
    %k = tl.alloc_shared : memref<2x128x128xbf16, #smem1>
    // expected-note @+1 {{this buffer: 65536 bytes at offset 65536}}
    %v = tl.alloc_shared : memref<2x128x128xbf16, #smem1>
    // expected-note @+1 {{mbarriers: 64 bytes}}
    %kf = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
    %ke = tl.alloc_barrier arrive_count(8) : !tl.barrier<2>
    %vf = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
    %ve = tl.alloc_barrier arrive_count(8) : !tl.barrier<2>
    %s = tl.alloc_fragment : memref<128x128xf32, #frag>
    %m = tl.alloc_fragment : memref<128xf32, #tl.scope<fragment, #row>>
    %mr = tl.alloc_fragment : memref<128xf32, #tl.scope<fragment, #rep>>
    tl.warp_specialize roles [256, 128] regs [232, 40] {
      tl.copy %Q[%bz, %c0, %by, %c0] [1, 128, 1, 128] to %q[] [128, 128] : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<128x128xbf16, #smem>
      scf.for %j = %c0 to %nk step %c1 {
        %st = arith.remui %j, %c2 : index
        %vk = tl.view %k[%st, %c0, %c0] [1, 128, 128] : memref<2x128x128xbf16, #smem1> to memref<128x128xbf16, #smem>
        tl.barrier_wait %kf[%st], %c0 : !tl.barrier<2>
        tl.gemm %q, %vk, %s {clear_accum, transpose_b} : memref<128x128xbf16, #smem>, memref<128x128xbf16, #smem>, memref<128x128xf32, #frag>
        tl.barrier_arrive %ke[%st] {per_warp} : !tl.barrier<2>
        tl.reduce max %s, %m dim(1) {clear} : memref<128x128xf32, #frag>, memref<128xf32, #tl.scope<fragment, #row>>
        // expected-note @+1 {{scratch of this op: 512 bytes at offset 163840}}
        tl.convert_layout %m to %mr : memref<128xf32, #tl.scope<fragment, #row>> to memref<128xf32, #tl.scope<fragment, #rep>>
        %vv = tl.view %v[%st, %c0, %c0] [1, 128, 128] : memref<2x128x128xbf16, #smem1> to memref<128x128xbf16, #smem>
        tl.barrier_wait %vf[%st], %c0 : !tl.barrier<2>
        tl.gemm %q, %vv, %s : memref<128x128xbf16, #smem>, memref<128x128xbf16, #smem>, memref<128x128xf32, #frag>
        tl.barrier_arrive %ve[%st] {per_warp} : !tl.barrier<2>
      }
      tl.yield
    }, {
      scf.for %j = %c0 to %nk step %c1 {
        %st = arith.remui %j, %c2 : index
        %one = tl.elect
        %vk = tl.view %k[%st, %c0, %c0] [1, 128, 128] : memref<2x128x128xbf16, #smem1> to memref<128x128xbf16, #smem>
        %vv = tl.view %v[%st, %c0, %c0] [1, 128, 128] : memref<2x128x128xbf16, #smem1> to memref<128x128xbf16, #smem>
        tl.barrier_wait %ke[%st], %c1 : !tl.barrier<2>
        scf.if %one {
          tl.copy %K[%bz, %j, %by, %c0] [1, 128, 1, 128] to %vk[] [128, 128] barrier(%kf[%st]) : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<128x128xbf16, #smem>, !tl.barrier<2>
        }
        tl.barrier_wait %ve[%st], %c1 : !tl.barrier<2>
        scf.if %one {
          tl.copy %V[%bz, %j, %by, %c0] [1, 128, 1, 128] to %vv[] [128, 128] barrier(%vf[%st]) : memref<?x?x?x128xbf16, #tl.scope<global>> to memref<128x128xbf16, #smem>, !tl.barrier<2>
        }
      }
      tl.yield
    }
  }
  return
}

// -----

// FP4 tiles take half a byte per value, except where TMA fills them through
// an unpacking map (tl-pipeline on sm_100a: a byte per value in shared
// memory): the two-stage ring takes 2 x 128 x 128 bytes, not half of it (its
// second stage would otherwise run over the barriers); the tile filled by an
// ordinary copy stays packed.
// CHECK-LABEL: func.func @fp4_unpacked
// CHECK: tl.launch {{.*}} attributes {tl.smem_bytes = 40976 : i64}
// CHECK-NEXT: tl.alloc_shared {tl.offset = 0 : i64} : memref<2x128x128xf4E2M1FN
// CHECK-NEXT: tl.alloc_shared {tl.offset = 32768 : i64} : memref<128x128xf4E2M1FN
// CHECK-NEXT: tl.alloc_barrier arrive_count(1) {tl.offset = 40960 : i64}
func.func @fp4_unpacked(%B: memref<?x?xf4E2M1FN, #tl.scope<global>>, %gx: index, %nk: index) attributes {tl.tma_maps = [{box = array<i64: 128, 128>, dtype = "float4_e2m1", param = 0 : i64, swizzle = "none", unpack_fp4}]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c128 = arith.constant 128 : index
  tl.launch grid(%gx) threads(128) blocks(%bx) {
    %ring = tl.alloc_shared : memref<2x128x128xf4E2M1FN, #tl.scope<shared>>
    %packed = tl.alloc_shared : memref<128x128xf4E2M1FN, #tl.scope<shared>>
    %full = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
    scf.for %k = %c0 to %nk step %c1 {
      %s = arith.remui %k, %c2 : index
      %kk = arith.muli %k, %c128 : index
      %v = tl.view %ring[%s, %c0, %c0] [1, 128, 128] : memref<2x128x128xf4E2M1FN, #tl.scope<shared>> to memref<128x128xf4E2M1FN, #tl.scope<shared>>
      %one = tl.elect
      scf.if %one {
        tl.copy %B[%c0, %kk] [128, 128] to %v[] [128, 128] barrier(%full[%s]) {tma = 0 : i64} : memref<?x?xf4E2M1FN, #tl.scope<global>> to memref<128x128xf4E2M1FN, #tl.scope<shared>>, !tl.barrier<2>
      }
      tl.copy %B[%c0, %kk] [128, 128] to %packed[] [128, 128] : memref<?x?xf4E2M1FN, #tl.scope<global>> to memref<128x128xf4E2M1FN, #tl.scope<shared>>
    }
  }
  return
}
