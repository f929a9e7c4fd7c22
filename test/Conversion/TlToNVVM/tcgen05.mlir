// tl-lower-to-nvvm for sm_100a: the frame allocates tensor memory (warp 0,
// its base through a shared word above the buffers) and frees it at the
// end; tcgen05.mma by one thread with the encoder's descriptors; commits;
// tensor memory to and from registers with tcgen05.ld/st 32x32b.
// RUN: tl-opt %s --split-input-file --tl-lower-to-nvvm=chip=sm_100a | FileCheck %s

#sw = #tl.layout<[128, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0)]>
#acc = #tl.layout<[128, 128], reg = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(1, 0), (2, 0), (4, 0), (8, 0), (16, 0)], warp = [(32, 0), (64, 0)]>
#smem = #tl.scope<shared, #sw>
#tmem = #tl.scope<tmem, #acc>
#frag = #tl.scope<fragment, #acc>

// CHECK-LABEL: llvm.func @mma
// CHECK-SAME: tlc_tmem_slot = 32784 : i64
// The frame: barriers, then warp 0 allocates 128 columns into the word at
// 32784 and hands the permit back; everyone reads the base after the fences.
// CHECK: mbarrier.init.shared::cta.b64
// CHECK: arith.constant 32784 : i32
// CHECK: "tcgen05.alloc.cta_group::1.sync.aligned.shared::cta.b32 [$0], 128;"
// CHECK: "tcgen05.relinquish_alloc_permit.cta_group::1.sync.aligned;"
// CHECK: "tcgen05.fence::before_thread_sync;"
// CHECK: "bar.sync 0;"
// CHECK: "tcgen05.fence::after_thread_sync;"
// The fill: this thread's 128 columns in pieces of 32, then waited and
// published to the issuing thread.
// CHECK-COUNT-4: tcgen05.st.sync.aligned.32x32b.x32.b32
// CHECK: "tcgen05.wait::st.sync.aligned;"
// CHECK: "tcgen05.fence::before_thread_sync;"
// The MMAs: 64 / 16 = 4, thread 0 only; bf16 x bf16 -> f32, M = N = 128:
// instruction descriptor 0x08200490; 128B-swizzled K-major descriptors.
// CHECK: arith.cmpi eq
// CHECK: scf.if
// CHECK: "tcgen05.fence::after_thread_sync;"
// CHECK-DAG: arith.constant 136316048 : i32
// CHECK-DAG: arith.constant 4611756662049538048 : i64
// CHECK-COUNT-4: tcgen05.mma.cta_group::1.kind::f16 [$0], $1, $2, $3, p;
// CHECK: "tcgen05.commit.cta_group::1.mbarrier::arrive::one.shared::cluster.b64 [$0];"
// The wait: thread 0 commits, everyone waits for the phase.
// CHECK: "tcgen05.commit.cta_group::1.mbarrier::arrive::one.shared::cluster.b64 [$0];"
// CHECK: mbarrier.try_wait.parity.shared::cta.b64
// CHECK: "tcgen05.fence::after_thread_sync;"
// Back to registers: waited loads with the registers tied through the wait.
// CHECK: tcgen05.ld.sync.aligned.32x32b.x32.b32
// CHECK: "tcgen05.wait::ld.sync.aligned;", "=r,=r,
// The end: everyone's accesses done, warp 0 frees the columns.
// CHECK: "tcgen05.dealloc.cta_group::1.sync.aligned.b32 $0, 128;"
// CHECK: llvm.return
func.func @mma(%n: index) attributes {tl.kernel} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  tl.launch grid(%n) threads(128) blocks(%b) attributes {tl.smem_bytes = 32776 : i64, tl.tmem_columns = 128 : i64} {
    %a = tl.alloc_shared {tl.offset = 0 : i64} : memref<128x64xbf16, #smem>
    %bs = tl.alloc_shared {tl.offset = 16384 : i64} : memref<128x64xbf16, #smem>
    %bar = tl.alloc_barrier arrive_count(1) {tl.offset = 32768 : i64} : !tl.barrier<1>
    %acc = tl.alloc_tmem {tl.offset = 0 : i64} : memref<128x128xf32, #tmem>
    %r = tl.alloc_fragment : memref<128x128xf32, #frag>
    tl.fill %acc, %zero : memref<128x128xf32, #tmem>
    tl.gemm %a, %bs, %acc {async, transpose_b} : memref<128x64xbf16, #smem>, memref<128x64xbf16, #smem>, memref<128x128xf32, #tmem>
    tl.mma_commit %bar[%c0] : !tl.barrier<1>
    tl.mma_wait pending(0) barrier(%bar[%c0], %c0 : !tl.barrier<1>)
    tl.copy %acc[] [128, 128] to %r[] [128, 128] : memref<128x128xf32, #tmem> to memref<128x128xf32, #frag>
  }
  return
}

// -----

#sc = #tl.layout<[128, 4], offset = [(0, 1), (0, 2), (32, 0), (64, 0), (1, 0), (2, 0), (4, 0), (8, 0), (16, 0)]>
#f8 = #tl.layout<[128, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (0, 64), (1, 16), (2, 32), (4, 64), (8, 0), (16, 0), (32, 0), (64, 0)]>
#acc = #tl.layout<[128, 128], reg = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(1, 0), (2, 0), (4, 0), (8, 0), (16, 0)], warp = [(32, 0), (64, 0)]>

// Block scales: tcgen05.cp of the staging tile to the ring slot (columns
// 4 per slot), no-swizzle descriptor SBO 128 (0x400800010000), then the
// block-scaled MMAs, byte s of the scale word by the SF ids (bit 29 and 4).
// CHECK-LABEL: llvm.func @scaled
// CHECK: arith.constant 70403103981568 : i64
// CHECK: "tcgen05.cp.cta_group::1.32x128b.warpx4 [$0], $1;"
// CHECK: arith.constant 144703488 : i32
// CHECK: tcgen05.mma.cta_group::1.kind::mxf8f6f4.block_scale.scale_vec::1X [$0], $1, $2, $3, [$4], [$5], p;
// CHECK: arith.constant 681574416 : i32
// CHECK: kind::mxf8f6f4.block_scale
// CHECK: arith.constant 1218445344 : i32
// CHECK: kind::mxf8f6f4.block_scale
// CHECK: arith.constant 1755316272 : i32
// CHECK: kind::mxf8f6f4.block_scale
func.func @scaled(%n: index) attributes {tl.kernel} {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  tl.launch grid(%n) threads(128) blocks(%b) attributes {tl.smem_bytes = 33280 : i64, tl.tmem_columns = 256 : i64} {
    %a = tl.alloc_shared {tl.offset = 0 : i64} : memref<128x128xf8E4M3FN, #tl.scope<shared, #f8>>
    %s = tl.alloc_shared {tl.offset = 32768 : i64} : memref<128x4xf8E8M0FNU, #tl.scope<shared, #sc>>
    %ring = tl.alloc_tmem {tl.offset = 0 : i64} : memref<2x128x4xf8E8M0FNU, #tl.scope<tmem>>
    %acc = tl.alloc_tmem {tl.offset = 32 : i64} : memref<128x128xf32, #tl.scope<tmem, #acc>>
    %slot = tl.view %ring[%c1, %c0, %c0] [1, 128, 4] : memref<2x128x4xf8E8M0FNU, #tl.scope<tmem>> to memref<128x4xf8E8M0FNU, #tl.scope<tmem>>
    tl.copy %s[] [128, 4] to %slot[] [128, 4] : memref<128x4xf8E8M0FNU, #tl.scope<shared, #sc>> to memref<128x4xf8E8M0FNU, #tl.scope<tmem>>
    tl.gemm %a, %a, %acc scale_a(%slot) scale_b(%slot) scale_block(32) {async, transpose_b} : memref<128x128xf8E4M3FN, #tl.scope<shared, #f8>>, memref<128x128xf8E4M3FN, #tl.scope<shared, #f8>>, memref<128x128xf32, #tl.scope<tmem, #acc>>, memref<128x4xf8E8M0FNU, #tl.scope<tmem>>, memref<128x4xf8E8M0FNU, #tl.scope<tmem>>
  }
  return
}

// -----

#acc = #tl.layout<[128, 128], reg = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (0, 64)], lane = [(1, 0), (2, 0), (4, 0), (8, 0), (16, 0)], warp = [(32, 0), (64, 0)]>
#vsw = #tl.layout<[128, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (64, 0), (0, 64)]>

// A (P) from tensor memory, packed two bf16 to a column: stored with
// tcgen05.st, read by the MMA at 8 columns per K = 16; B (V[K, N]) MN-major:
// the transpose-B bit (16) in the instruction descriptor, 0x08210490, and
// a descriptor with LBO = the next 64 columns (16 KiB) and SBO 1024.
// CHECK-LABEL: llvm.func @pv
// CHECK-COUNT-2: tcgen05.st.sync.aligned.32x32b.x32.b32
// CHECK: "tcgen05.wait::st.sync.aligned;"
// CHECK-DAG: arith.constant 136381584 : i32
// CHECK-DAG: arith.constant 4611756662116581376 : i64
// CHECK: tcgen05.mma.cta_group::1.kind::f16 [$0], [$1], $2, $3, p;
// CHECK-COUNT-7: tcgen05.mma.cta_group::1.kind::f16 [$0], [$1]
func.func @pv(%n: index) attributes {tl.kernel} {
  tl.launch grid(%n) threads(128) blocks(%b) attributes {tl.smem_bytes = 32768 : i64, tl.tmem_columns = 256 : i64} {
    %v = tl.alloc_shared {tl.offset = 0 : i64} : memref<128x128xbf16, #tl.scope<shared, #vsw>>
    %p = tl.alloc_tmem {tl.offset = 0 : i64} : memref<128x128xbf16, #tl.scope<tmem, #acc>>
    %o = tl.alloc_tmem {tl.offset = 64 : i64} : memref<128x128xf32, #tl.scope<tmem, #acc>>
    %pr = tl.alloc_fragment : memref<128x128xbf16, #tl.scope<fragment, #acc>>
    tl.copy %pr[] [128, 128] to %p[] [128, 128] : memref<128x128xbf16, #tl.scope<fragment, #acc>> to memref<128x128xbf16, #tl.scope<tmem, #acc>>
    tl.gemm %p, %v, %o {async} : memref<128x128xbf16, #tl.scope<tmem, #acc>>, memref<128x128xbf16, #tl.scope<shared, #vsw>>, memref<128x128xf32, #tl.scope<tmem, #acc>>
  }
  return
}
