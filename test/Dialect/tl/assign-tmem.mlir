// tl-assign-tmem: tcgen05 accumulators, register A operands and block
// scales in tensor memory, with explicit copies where threads use them.
// RUN: tl-opt %s --split-input-file --tl-infer-layouts="chip=sm_100a" --tl-pipeline="chip=sm_100a" --tl-assign-tmem --verify-diagnostics | FileCheck %s

// The GEMM: the fragment accumulator becomes tensor memory; its clear stays
// a fill of it, and the epilogue copies it to memory directly.
// CHECK-LABEL: func.func @gemm
// CHECK: tl.launch {{.*}} attributes {tl.tmem_columns = 128 : i64}
// CHECK: %[[ACC:.*]] = tl.alloc_tmem {tl.offset = 0 : i64} : memref<128x128xf32, #tmem>
// CHECK-NOT: tl.alloc_fragment
// CHECK: tl.fill %[[ACC]]
// CHECK: tl.gemm %{{.*}}, %{{.*}}, %[[ACC]] {transpose_b}
// CHECK: tl.copy %[[ACC]][] [128, 128] to %{{.*}} : memref<128x128xf32, #tmem> to memref<?x?xbf16, #tl.scope<global>>
func.func @gemm(%C: memref<?x?xbf16, #tl.scope<global>>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  tl.launch grid(%n) threads(256) blocks(%b) {
    %a = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %bs = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %acc = tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    tl.fill %acc, %zero : memref<128x128xf32, #tl.scope<fragment>>
    tl.pipelined %k = %c0 to %n step %c1 stages(2) {
      tl.gemm %a, %bs, %acc {transpose_b} : memref<128x64xbf16, #tl.scope<shared>>, memref<128x64xbf16, #tl.scope<shared>>, memref<128x128xf32, #tl.scope<fragment>>
    }
    tl.copy %acc[] [128, 128] to %C[%c0, %c0] [128, 128] : memref<128x128xf32, #tl.scope<fragment>> to memref<?x?xbf16, #tl.scope<global>>
  }
  return
}

// -----

// Attention: S is read (a segment of element-wise uses on a register copy,
// not written back: the next MMA clears it); O is rescaled in the loop
// (copied out and back: the next MMA accumulates onto it) and normalised
// after it (not written back: nothing reads it after); P goes to tensor
// memory before the MMA that reads it.
// CHECK-LABEL: func.func @attention
// CHECK-DAG: %[[P:.*]] = tl.alloc_tmem {tl.offset = 0 : i64} : memref<128x128xbf16, #tmem>
// CHECK-DAG: %[[OR:.*]] = tl.alloc_fragment : memref<128x128xf32, #frag>
// CHECK-DAG: %[[SR:.*]] = tl.alloc_fragment : memref<128x128xf32, #frag>
// CHECK-DAG: %[[S:.*]] = tl.alloc_tmem {tl.offset = 64 : i64} : memref<128x128xf32, #tmem>
// CHECK-DAG: %[[O:.*]] = tl.alloc_tmem {tl.offset = 192 : i64} : memref<128x128xf32, #tmem>
// CHECK: tl.fill %[[O]]
// CHECK: tl.pipelined
// CHECK: tl.gemm %{{.*}}, %{{.*}}, %[[S]] {clear_accum, transpose_b}
// CHECK-NEXT: tl.copy %[[S]][] [128, 128] to %[[SR]][] [128, 128]
// CHECK-NEXT: tl.reduce max %[[SR]]
// CHECK-NEXT: tl.parallel
// CHECK: memref.load %[[SR]]
// CHECK: tl.copy %[[SR]][] [128, 128] to %[[PF:.*]][] [128, 128] : memref<128x128xf32, #frag> to memref<128x128xbf16, #frag>
// CHECK-NOT: to %[[S]]
// CHECK: tl.copy %[[O]][] [128, 128] to %[[OR]][] [128, 128]
// CHECK-NEXT: tl.parallel
// CHECK: memref.store %{{.*}}, %[[OR]]
// CHECK: tl.copy %[[OR]][] [128, 128] to %[[O]][] [128, 128]
// CHECK-NEXT: tl.copy %[[PF]][] [128, 128] to %[[P]][] [128, 128]
// CHECK-NEXT: tl.gemm %[[P]], %{{.*}}, %[[O]] :
// CHECK: }
// CHECK-NEXT: tl.copy %[[O]][] [128, 128] to %[[OR]][] [128, 128]
// CHECK-NEXT: tl.parallel
// CHECK: tl.copy %[[OR]][] [128, 128] to %{{.*}} : memref<128x128xf32, #frag> to memref<?x?xf32, #tl.scope<global>>
// CHECK-NOT: tl.copy %[[OR]][] [128, 128] to %[[O]]
func.func @attention(%Out: memref<?x?xf32, #tl.scope<global>>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  tl.launch grid(%n) threads(256) blocks(%b) {
    %q = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %k = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %v = tl.alloc_shared : memref<128x128xbf16, #tl.scope<shared>>
    %s = tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    %p = tl.alloc_fragment : memref<128x128xbf16, #tl.scope<fragment>>
    %o = tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    %m = tl.alloc_fragment : memref<128xf32, #tl.scope<fragment>>
    tl.fill %o, %zero : memref<128x128xf32, #tl.scope<fragment>>
    tl.pipelined %i = %c0 to %n step %c1 stages(2) {
      tl.gemm %q, %k, %s {transpose_b, clear_accum} : memref<128x64xbf16, #tl.scope<shared>>, memref<128x64xbf16, #tl.scope<shared>>, memref<128x128xf32, #tl.scope<fragment>>
      tl.reduce max %s, %m dim(1) {clear} : memref<128x128xf32, #tl.scope<fragment>>, memref<128xf32, #tl.scope<fragment>>
      tl.parallel (%x, %y) in [128, 128] {
        %e = memref.load %s[%x, %y] : memref<128x128xf32, #tl.scope<fragment>>
        %mx = memref.load %m[%x] : memref<128xf32, #tl.scope<fragment>>
        %d = arith.subf %e, %mx : f32
        memref.store %d, %s[%x, %y] : memref<128x128xf32, #tl.scope<fragment>>
      }
      tl.copy %s[] [128, 128] to %p[] [128, 128] : memref<128x128xf32, #tl.scope<fragment>> to memref<128x128xbf16, #tl.scope<fragment>>
      tl.parallel (%x, %y) in [128, 128] {
        %e = memref.load %o[%x, %y] : memref<128x128xf32, #tl.scope<fragment>>
        %h = arith.mulf %e, %half : f32
        memref.store %h, %o[%x, %y] : memref<128x128xf32, #tl.scope<fragment>>
      }
      tl.gemm %p, %v, %o : memref<128x128xbf16, #tl.scope<fragment>>, memref<128x128xbf16, #tl.scope<shared>>, memref<128x128xf32, #tl.scope<fragment>>
    }
    tl.parallel (%x, %y) in [128, 128] {
      %e = memref.load %o[%x, %y] : memref<128x128xf32, #tl.scope<fragment>>
      %h = arith.mulf %e, %half : f32
      memref.store %h, %o[%x, %y] : memref<128x128xf32, #tl.scope<fragment>>
    }
    tl.copy %o[] [128, 128] to %Out[%c0, %c0] [128, 128] : memref<128x128xf32, #tl.scope<fragment>> to memref<?x?xf32, #tl.scope<global>>
  }
  return
}

// -----

// Block scales: a stage of a shared ring is copied (tcgen05.cp) to the
// same slot of a tensor-memory ring before the MMA.
// CHECK-LABEL: func.func @scales
// CHECK-DAG: tl.alloc_tmem {tl.offset = 0 : i64} : memref<3x128x4xf8E8M0FNU, #tl.scope<tmem>>
// CHECK-DAG: tl.alloc_tmem {tl.offset = 12 : i64} : memref<3x128x4xf8E8M0FNU, #tl.scope<tmem>>
// CHECK-DAG: tl.alloc_tmem {tl.offset = 32 : i64} : memref<128x128xf32, #tmem>
// CHECK: %[[ST:.*]] = arith.remui
// CHECK: %[[VA:.*]] = tl.view %{{.*}}[%[[ST]], %{{.*}}, %{{.*}}] [1, 128, 4] : memref<3x128x4xf8E8M0FNU, #smem
// CHECK: %[[SLOTA:.*]] = tl.view %{{.*}}[%[[ST]], %{{.*}}, %{{.*}}] [1, 128, 4] : memref<3x128x4xf8E8M0FNU, #tl.scope<tmem>>
// CHECK: tl.copy %[[VA]][] [128, 4] to %[[SLOTA]][] [128, 4]
// CHECK: %[[SLOTB:.*]] = tl.view %{{.*}}[%[[ST]], %{{.*}}, %{{.*}}] [1, 128, 4] : memref<3x128x4xf8E8M0FNU, #tl.scope<tmem>>
// CHECK: tl.copy %[[VA]][] [128, 4] to %[[SLOTB]][] [128, 4]
// CHECK: tl.gemm {{.*}} scale_a(%[[SLOTA]]) scale_b(%[[SLOTB]])
func.func @scales(%A: memref<?x?xf8E4M3FN, #tl.scope<global>>, %SA: memref<?x?xf8E8M0FNU, #tl.scope<global>>,
                  %n: index) attributes {tl.kernel, tl.arg_dims = [["M", "K"], ["M", "K4"], []]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tl.launch grid(%n) threads(128) blocks(%b) {
    %a = tl.alloc_shared : memref<128x128xf8E4M3FN, #tl.scope<shared>>
    %sa = tl.alloc_shared : memref<128x4xf8E8M0FNU, #tl.scope<shared>>
    %acc = tl.alloc_tmem : memref<128x128xf32, #tl.scope<tmem>>
    tl.pipelined %k = %c0 to %n step %c1 stages(3) {
      tl.copy %A[%c0, %k] [128, 128] to %a[] [128, 128] : memref<?x?xf8E4M3FN, #tl.scope<global>> to memref<128x128xf8E4M3FN, #tl.scope<shared>>
      tl.copy %SA[%c0, %k] [128, 4] to %sa[] [128, 4] : memref<?x?xf8E8M0FNU, #tl.scope<global>> to memref<128x4xf8E8M0FNU, #tl.scope<shared>>
      tl.gemm %a, %a, %acc scale_a(%sa) scale_b(%sa) scale_block(32) {transpose_b} : memref<128x128xf8E4M3FN, #tl.scope<shared>>, memref<128x128xf8E4M3FN, #tl.scope<shared>>, memref<128x128xf32, #tl.scope<tmem>>, memref<128x4xf8E8M0FNU, #tl.scope<shared>>, memref<128x4xf8E8M0FNU, #tl.scope<shared>>
    }
  }
  return
}

// -----

// More than 512 columns: the error lists every buffer.
func.func @too_wide(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %a = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %bs = tl.alloc_shared : memref<256x64xbf16, #tl.scope<shared>>
    // expected-error @+2 {{tensor memory: this kernel needs 768 32-bit columns (128x256xf32: 256, 128x256xf32: 256, 128x256xf32: 256); sm_100a has 512 per block; use a narrower tile (BN)}}
    // expected-note @+1 {{this buffer: 256 columns}}
    %x = tl.alloc_fragment : memref<128x256xf32, #tl.scope<fragment>>
    // expected-note @+1 {{this buffer: 256 columns}}
    %y = tl.alloc_fragment : memref<128x256xf32, #tl.scope<fragment>>
    // expected-note @+1 {{this buffer: 256 columns}}
    %z = tl.alloc_tmem : memref<128x256xf32, #tl.scope<tmem>>
    tl.gemm %a, %bs, %x {transpose_b} : memref<128x64xbf16, #tl.scope<shared>>, memref<256x64xbf16, #tl.scope<shared>>, memref<128x256xf32, #tl.scope<fragment>>
    tl.gemm %a, %bs, %y {transpose_b} : memref<128x64xbf16, #tl.scope<shared>>, memref<256x64xbf16, #tl.scope<shared>>, memref<128x256xf32, #tl.scope<fragment>>
    tl.gemm %a, %bs, %z {transpose_b} : memref<128x64xbf16, #tl.scope<shared>>, memref<256x64xbf16, #tl.scope<shared>>, memref<128x256xf32, #tl.scope<tmem>>
  }
  return
}
