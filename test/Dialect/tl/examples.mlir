// Hand-written tl IR for two kernels of examples/ (act_quant_fp8.tl and
// gemm_fp8_blockscaled.tl, default parameters): the shapes MLIRGen is
// expected to produce. Checks they verify, round-trip and fit shared memory.
// RUN: tl-opt %s --tl-verify-shared-memory | tl-opt | FileCheck %s

// CHECK-LABEL: func.func @act_quant_fp8
// CHECK: tl.launch {{.*}} threads(128) {{.*}} attributes {tl.smem_bytes = 0 : i64, tl.tmem_columns = 0 : i64}
// CHECK: tl.reduce absmax
// CHECK-COUNT-2: tl.parallel
// CHECK: tl.cast %{{.*}} : f32 to f8E4M3FN
func.func @act_quant_fp8(%x: memref<?x?xbf16, #tl.scope<global>>,
                         %q: memref<?x?xf8E4M3FN, #tl.scope<global>>,
                         %s: memref<?x?xf32, #tl.scope<global>>)
    attributes {tl.kernel,
                tl.arg_dims = [["NT", "K"], ["NT", "K"], ["NT", "K // 128"]],
                tl.params = {BT = 32 : i64, G = 128 : i64, round_scale = true}} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c31 = arith.constant 31 : index
  %c32 = arith.constant 32 : index
  %c128 = arith.constant 128 : index
  %nt = memref.dim %x, %c0 : memref<?x?xbf16, #tl.scope<global>>
  %k = memref.dim %x, %c1 : memref<?x?xbf16, #tl.scope<global>>
  %nt31 = arith.addi %nt, %c31 : index
  %gx = arith.divui %nt31, %c32 : index
  %gy = arith.divui %k, %c128 : index
  tl.launch grid(%gx, %gy) threads(128) blocks(%bt, %bg) {
    %x_f = tl.alloc_fragment : memref<32x128xf32, #tl.scope<fragment>>
    %amax = tl.alloc_fragment : memref<32xf32, #tl.scope<fragment>>
    %scale = tl.alloc_fragment : memref<32xf32, #tl.scope<fragment>>
    %q_f = tl.alloc_fragment : memref<32x128xf8E4M3FN, #tl.scope<fragment>>
    %row = arith.muli %bt, %c32 : index
    %col = arith.muli %bg, %c128 : index
    tl.copy %x[%row, %col] [32, 128] to %x_f[] [32, 128]
        : memref<?x?xbf16, #tl.scope<global>> to memref<32x128xf32, #tl.scope<fragment>>
    tl.reduce absmax %x_f, %amax dim(1) {clear}
        : memref<32x128xf32, #tl.scope<fragment>>, memref<32xf32, #tl.scope<fragment>>
    tl.parallel (%i) in [32] {
      %a0 = memref.load %amax[%i] : memref<32xf32, #tl.scope<fragment>>
      %tiny = arith.constant 1.0e-30 : f32
      %a = arith.maximumf %a0, %tiny : f32
      %fp8max = arith.constant 448.0 : f32
      %r = arith.divf %a, %fp8max : f32
      %l = math.log2 %r : f32
      %c = math.ceil %l : f32
      %e = math.exp2 %c : f32
      memref.store %e, %scale[%i] : memref<32xf32, #tl.scope<fragment>>
    }
    tl.parallel (%i, %j) in [32, 128] {
      %v = memref.load %x_f[%i, %j] : memref<32x128xf32, #tl.scope<fragment>>
      %sc = memref.load %scale[%i] : memref<32xf32, #tl.scope<fragment>>
      %d = arith.divf %v, %sc : f32
      %qv = tl.cast %d : f32 to f8E4M3FN
      memref.store %qv, %q_f[%i, %j] : memref<32x128xf8E4M3FN, #tl.scope<fragment>>
    }
    tl.copy %q_f[] [32, 128] to %q[%row, %col] [32, 128]
        : memref<32x128xf8E4M3FN, #tl.scope<fragment>> to memref<?x?xf8E4M3FN, #tl.scope<global>>
    // T.copy(scale, s[bt * BT : bt * BT + BT, bg]): the column index drops a dim.
    tl.copy %scale[] [32] to %s[%row, %bg] [32, 1]
        : memref<32xf32, #tl.scope<fragment>> to memref<?x?xf32, #tl.scope<global>>
  }
  return
}

// CHECK-LABEL: func.func @gemm_fp8_blockscaled
// 128x128 fp8 A_s + B_s (32768) + 128 f32 SA_s (512).
// CHECK: tl.launch {{.*}} threads(256) {{.*}} attributes {tl.smem_bytes = 33280 : i64, tl.tmem_columns = 0 : i64}
// CHECK: tl.pipelined {{.*}} stages(4)
// CHECK: tl.gemm %{{.*}}, %{{.*}}, %{{.*}} {clear_accum, transpose_b}
func.func @gemm_fp8_blockscaled(%A: memref<?x?xf8E4M3FN, #tl.scope<global>>,
                                %SA: memref<?x?xf32, #tl.scope<global>>,
                                %B: memref<?x?xf8E4M3FN, #tl.scope<global>>,
                                %SB: memref<?x?xf32, #tl.scope<global>>,
                                %C: memref<?x?xbf16, #tl.scope<global>>)
    attributes {tl.kernel,
                tl.arg_dims = [["M", "K"], ["M", "T.ceildiv(K, 128)"], ["N", "K"],
                               ["T.ceildiv(N, 128)", "T.ceildiv(K, 128)"], ["M", "N"]],
                tl.params = {BK = 128 : i64, BM = 128 : i64, BN = 128 : i64, stages = 4 : i64}} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c127 = arith.constant 127 : index
  %c128 = arith.constant 128 : index
  %m = memref.dim %A, %c0 : memref<?x?xf8E4M3FN, #tl.scope<global>>
  %k = memref.dim %A, %c1 : memref<?x?xf8E4M3FN, #tl.scope<global>>
  %n = memref.dim %B, %c0 : memref<?x?xf8E4M3FN, #tl.scope<global>>
  %n1 = arith.addi %n, %c127 : index
  %gx = arith.divui %n1, %c128 : index
  %m1 = arith.addi %m, %c127 : index
  %gy = arith.divui %m1, %c128 : index
  %k1 = arith.addi %k, %c127 : index
  %kt = arith.divui %k1, %c128 : index
  tl.launch grid(%gx, %gy) threads(256) blocks(%bx, %by) {
    %A_s = tl.alloc_shared : memref<128x128xf8E4M3FN, #tl.scope<shared>>
    %B_s = tl.alloc_shared : memref<128x128xf8E4M3FN, #tl.scope<shared>>
    %SA_s = tl.alloc_shared : memref<128xf32, #tl.scope<shared>>
    %acc = tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    %part = tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    %zero = arith.constant 0.0 : f32
    tl.fill %acc, %zero : memref<128x128xf32, #tl.scope<fragment>>
    %row = arith.muli %by, %c128 : index
    %col = arith.muli %bx, %c128 : index
    tl.pipelined %kb = %c0 to %kt step %c1 stages(4) {
      %kk = arith.muli %kb, %c128 : index
      tl.copy %A[%row, %kk] [128, 128] to %A_s[] [128, 128]
          : memref<?x?xf8E4M3FN, #tl.scope<global>> to memref<128x128xf8E4M3FN, #tl.scope<shared>>
      tl.copy %B[%col, %kk] [128, 128] to %B_s[] [128, 128]
          : memref<?x?xf8E4M3FN, #tl.scope<global>> to memref<128x128xf8E4M3FN, #tl.scope<shared>>
      tl.copy %SA[%row, %kb] [128, 1] to %SA_s[] [128]
          : memref<?x?xf32, #tl.scope<global>> to memref<128xf32, #tl.scope<shared>>
      tl.gemm %A_s, %B_s, %part {transpose_b, clear_accum}
          : memref<128x128xf8E4M3FN, #tl.scope<shared>>, memref<128x128xf8E4M3FN, #tl.scope<shared>>,
            memref<128x128xf32, #tl.scope<fragment>>
      %sb = memref.load %SB[%bx, %kb] : memref<?x?xf32, #tl.scope<global>>
      tl.parallel (%i, %j) in [128, 128] {
        %p = memref.load %part[%i, %j] : memref<128x128xf32, #tl.scope<fragment>>
        %sa = memref.load %SA_s[%i] : memref<128xf32, #tl.scope<shared>>
        %a = memref.load %acc[%i, %j] : memref<128x128xf32, #tl.scope<fragment>>
        %t0 = arith.mulf %p, %sa : f32
        %t1 = arith.mulf %t0, %sb : f32
        %t2 = arith.addf %a, %t1 : f32
        memref.store %t2, %acc[%i, %j] : memref<128x128xf32, #tl.scope<fragment>>
      }
    }
    tl.copy %acc[] [128, 128] to %C[%row, %col] [128, 128]
        : memref<128x128xf32, #tl.scope<fragment>> to memref<?x?xbf16, #tl.scope<global>>
  }
  return
}
