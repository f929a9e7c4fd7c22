// Every verifier rule of the tl ops, one case per split.
// RUN: tl-opt %s --split-input-file --verify-diagnostics

func.func @f(%n: index) {
  // expected-error @+1 {{grid must have 1 to 3 dimensions, got 4}}
  tl.launch grid(%n, %n, %n, %n) threads(128) blocks(%a, %b, %c, %d) {
  }
  return
}

// -----

func.func @f(%n: index) {
  // expected-error @+1 {{threads must be a multiple of 32 in [32, 1024], got 100}}
  tl.launch grid(%n) threads(100) blocks(%b) {
  }
  return
}

// -----

func.func @f(%n: index) {
  // expected-error @+1 {{threads must be a multiple of 32 in [32, 1024], got 2048}}
  tl.launch grid(%n) threads(2048) blocks(%b) {
  }
  return
}

// -----

func.func @f(%n: index) {
  // expected-error @+1 {{cluster has 32 blocks, at most 16 allowed}}
  tl.launch grid(%n) threads(128) cluster(4, 8) blocks(%b) {
  }
  return
}

// -----

func.func @f(%n: index) {
  // expected-error @+1 {{cluster must have 1 to 3 dimensions, got 4}}
  tl.launch grid(%n) threads(128) cluster(1, 1, 1, 1) blocks(%b) {
  }
  return
}

// -----

func.func @f(%n: index) {
  // expected-error @+1 {{cluster sizes must be positive, got 0}}
  tl.launch grid(%n) threads(128) cluster(0) blocks(%b) {
  }
  return
}

// -----

func.func @f(%n: index) {
  // expected-error @+1 {{body must have one block id per grid dimension (2), got 1}}
  tl.launch grid(%n, %n) threads(128) blocks(%bid) {
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{must not be nested in another tl.launch}}
    tl.launch grid(%n) threads(128) blocks(%b2) {
    }
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{dim must be 0, 1 or 2, got 3}}
    %t = tl.thread_id 3
  }
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{must be nested in a tl.launch}}
  %b = tl.block_id 0
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{must be nested in a tl.launch}}
  tl.sync_threads
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{result must be in #tl.scope<shared>, got fragment}}
    %a = tl.alloc_shared : memref<16xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{result must be in #tl.scope<fragment>, got no #tl.scope}}
    %a = tl.alloc_fragment : memref<16xf32>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{must be statically shaped memref}}
    %a = tl.alloc_shared : memref<?xf32, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{result must have the identity layout}}
    %a = tl.alloc_local : memref<4x4xf32, strided<[1, 4]>, #tl.scope<local>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{result must have at least one dimension}}
    %a = tl.alloc_local : memref<f32, #tl.scope<local>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{memref of}}
    %a = tl.alloc_shared : memref<16xf64, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{must be nested in a tl.launch}}
  %a = tl.alloc_local : memref<1xf32, #tl.scope<local>>
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{tmem buffers must be 2-D (lanes x columns), got rank 3}}
    %a = tl.alloc_tmem : memref<2x128x16xf32, #tl.scope<tmem>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{tmem buffers have at most 128 lanes, got 256}}
    %a = tl.alloc_tmem : memref<256x16xf32, #tl.scope<tmem>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{tmem buffer needs 1024 32-bit columns, at most 512 available}}
    %a = tl.alloc_tmem : memref<128x1024xf32, #tl.scope<tmem>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{arrive_count must be in [1, 2^20), got 0}}
    %bar = tl.alloc_barrier arrive_count(0) : !tl.barrier<1>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{!tl.barrier count must be at least 1, got 0}}
    %bar = tl.alloc_barrier arrive_count(1) : !tl.barrier<0>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %bar = tl.alloc_barrier arrive_count(128) : !tl.barrier<2>
    // expected-error @+1 {{barrier index 2 is out of range for 2 barrier(s)}}
    tl.barrier_arrive %bar[%c2] : !tl.barrier<2>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %bar = tl.alloc_barrier arrive_count(128) : !tl.barrier<2>
    // expected-error @+1 {{parity must be 0 or 1, got 2}}
    tl.barrier_wait %bar[%c0], %c2 : !tl.barrier<2>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %bar = tl.alloc_barrier arrive_count(128) : !tl.barrier<2>
    %m = arith.constant -4 : index
    // expected-error @+1 {{bytes must not be negative, got -4}}
    tl.barrier_expect_tx %bar[%c0], %m : !tl.barrier<2>
  }
  return
}

// -----

func.func @f(%bar: !tl.barrier<1>, %i: index) {
  // expected-error @+1 {{must be nested in a tl.launch}}
  tl.barrier_arrive %bar[%i] : !tl.barrier<1>
  return
}

// -----

func.func @f(%n: index, %A: memref<?x?xf32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    // expected-error @+1 {{source has 1 sizes but rank 2}}
    tl.copy %A[%c0, %c0] [64] to %s[] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x?xf32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    // expected-error @+1 {{destination has 1 offsets but rank 2}}
    tl.copy %A[%c0, %c0] [64, 64] to %s[%c0] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x?xf32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    // expected-error @+1 {{source region shape (32, 64) does not match destination region shape (64, 64) (unit dimensions dropped)}}
    tl.copy %A[%c0, %c0] [32, 64] to %s[] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x?xf32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    // expected-error @+1 {{destination region [2, 66) is out of bounds in dim 0 of size 64}}
    tl.copy %A[%c0, %c0] [64, 64] to %s[%c2, %c0] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x?xf32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    // expected-error @+1 {{source size 0 in dim 0 must be positive}}
    tl.copy %A[%c0, %c0] [0, 64] to %s[] [64, 64] : memref<?x?xf32, #tl.scope<global>> to memref<64x64xf32, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<64xf32, #tl.scope<shared>>
    %t = tl.alloc_shared : memref<64xf32, #tl.scope<shared>>
    %bar = tl.alloc_barrier arrive_count(1) : !tl.barrier<1>
    // expected-error @+1 {{a copy completing on a barrier must go from global to shared memory}}
    tl.copy %s[] [64] to %t[] [64] barrier(%bar[%c0]) : memref<64xf32, #tl.scope<shared>> to memref<64xf32, #tl.scope<shared>>, !tl.barrier<1>
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<64xf32, #tl.scope<shared>>
    // expected-error @+1 {{source must have a #tl.scope memory space}}
    tl.copy %A[%c0] [64] to %s[] [64] : memref<?xf32> to memref<64xf32, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?xf32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<64xf32, #tl.scope<shared>>
    %bar = tl.alloc_barrier arrive_count(1) : !tl.barrier<1>
    // expected-error @+1 {{barrier index 1 is out of range for 1 barrier(s)}}
    tl.copy %A[%c0] [64] to %s[] [64] barrier(%bar[%c1]) : memref<?xf32, #tl.scope<global>> to memref<64xf32, #tl.scope<shared>>, !tl.barrier<1>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_fragment : memref<64xf32, #tl.scope<fragment>>
    %v = arith.constant 0 : i32
    // expected-error @+1 {{value type is the element type of dst}}
    "tl.fill"(%s, %v) : (memref<64xf32, #tl.scope<fragment>>, i32) -> ()
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %v = arith.constant 0.0 : f32
    // expected-error @+1 {{destination must be in global or shared or fragment or local or tmem memory, got no #tl.scope}}
    tl.fill %A, %v : memref<64xf32>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<64xbf16, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{A, B and C must be 2-D}}
    tl.gemm %a, %b, %c  : memref<64xbf16, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_local : memref<64x64xbf16, #tl.scope<local>>
    %b = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{A must be in shared or fragment or tmem memory, got local}}
    tl.gemm %a, %b, %c  : memref<64x64xbf16, #tl.scope<local>>, memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %b = tl.alloc_fragment : memref<64x64xbf16, #tl.scope<fragment>>
    %c = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{B must be in shared memory, got fragment}}
    tl.gemm %a, %b, %c  : memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<fragment>>, memref<64x64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %c = tl.alloc_shared : memref<64x64xf32, #tl.scope<shared>>
    // expected-error @+1 {{C must be in fragment or tmem memory, got shared}}
    tl.gemm %a, %b, %c  : memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xf32, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<64x32xbf16, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{K of A (32) does not match K of B (64)}}
    tl.gemm %a, %b, %c  : memref<64x32xbf16, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<64x32xbf16, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{K of A (32) does not match K of B (64)}}
    tl.gemm %a, %b, %c {transpose_b} : memref<64x32xbf16, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<32x64xbf16, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<32x128xbf16, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{C must be 64x128 (M x N), got 64x64}}
    tl.gemm %a, %b, %c {transpose_a} : memref<32x64xbf16, #tl.scope<shared>>, memref<32x128xbf16, #tl.scope<shared>>, memref<64x64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xf16, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{A and B element types must match or be a mix of f8E4M3FN/f8E5M2/f4E2M1FN with an 8-bit float, got 'bf16' and 'f16'}}
    tl.gemm %a, %b, %c  : memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xf16, #tl.scope<shared>>, memref<64x64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<64x64xf4E2M1FN, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{A and B element types must match}}
    tl.gemm %a, %b, %c  : memref<64x64xf4E2M1FN, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<64x64xi32, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xi32, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{A and B must be f16, bf16, f32, f8E4M3FN, f8E5M2 or f4E2M1FN, got 'i32'}}
    tl.gemm %a, %b, %c  : memref<64x64xi32, #tl.scope<shared>>, memref<64x64xi32, #tl.scope<shared>>, memref<64x64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<64x64xbf16, #tl.scope<fragment>>
    // expected-error @+1 {{C must be f32 or f16, got 'bf16'}}
    tl.gemm %a, %b, %c  : memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<64x64xf16, #tl.scope<fragment>>
    // expected-error @+1 {{an f16 accumulator needs f16 or 8-bit float inputs, got 'bf16'}}
    tl.gemm %a, %b, %c  : memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<shared>>, memref<64x64xf16, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<128x64xf8E4M3FN, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xf8E4M3FN, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<128x64xf32, #tl.scope<fragment>>
    %sa = tl.alloc_shared : memref<128x2xf8E8M0FNU, #tl.scope<shared>>
    %sb = tl.alloc_shared : memref<64x2xf8E8M0FNU, #tl.scope<shared>>
    // expected-error @+1 {{block-scaled gemm needs scale_a, scale_b and scale_block}}
    tl.gemm %a, %b, %c scale_a(%sa) scale_block(32) : memref<128x64xf8E4M3FN, #tl.scope<shared>>, memref<64x64xf8E4M3FN, #tl.scope<shared>>, memref<128x64xf32, #tl.scope<fragment>>, memref<128x2xf8E8M0FNU, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xbf16, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<128x64xf32, #tl.scope<fragment>>
    %sa = tl.alloc_shared : memref<128x2xf8E8M0FNU, #tl.scope<shared>>
    %sb = tl.alloc_shared : memref<64x2xf8E8M0FNU, #tl.scope<shared>>
    // expected-error @+1 {{block-scaled gemm needs 8- or 4-bit float A and B}}
    tl.gemm %a, %b, %c scale_a(%sa) scale_b(%sb) scale_block(32) : memref<128x64xbf16, #tl.scope<shared>>, memref<64x64xbf16, #tl.scope<shared>>, memref<128x64xf32, #tl.scope<fragment>>, memref<128x2xf8E8M0FNU, #tl.scope<shared>>, memref<64x2xf8E8M0FNU, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<128x64xf8E4M3FN, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xf8E4M3FN, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<128x64xf16, #tl.scope<fragment>>
    %sa = tl.alloc_shared : memref<128x2xf8E8M0FNU, #tl.scope<shared>>
    %sb = tl.alloc_shared : memref<64x2xf8E8M0FNU, #tl.scope<shared>>
    // expected-error @+1 {{block-scaled gemm needs an f32 accumulator}}
    tl.gemm %a, %b, %c scale_a(%sa) scale_b(%sb) scale_block(32) : memref<128x64xf8E4M3FN, #tl.scope<shared>>, memref<64x64xf8E4M3FN, #tl.scope<shared>>, memref<128x64xf16, #tl.scope<fragment>>, memref<128x2xf8E8M0FNU, #tl.scope<shared>>, memref<64x2xf8E8M0FNU, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<128x64xf8E4M3FN, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xf8E4M3FN, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<128x64xf32, #tl.scope<fragment>>
    %sa = tl.alloc_shared : memref<128x2xbf16, #tl.scope<shared>>
    %sb = tl.alloc_shared : memref<64x2xf8E8M0FNU, #tl.scope<shared>>
    // expected-error @+1 {{scale_a must be f8E8M0FNU or f32, got 'bf16'}}
    tl.gemm %a, %b, %c scale_a(%sa) scale_b(%sb) scale_block(32) : memref<128x64xf8E4M3FN, #tl.scope<shared>>, memref<64x64xf8E4M3FN, #tl.scope<shared>>, memref<128x64xf32, #tl.scope<fragment>>, memref<128x2xbf16, #tl.scope<shared>>, memref<64x2xf8E8M0FNU, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<128x64xf8E4M3FN, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xf8E4M3FN, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<128x64xf32, #tl.scope<fragment>>
    %sa = tl.alloc_shared : memref<128x2xf8E8M0FNU, #tl.scope<shared>>
    %sb = tl.alloc_shared : memref<64x1xf8E8M0FNU, #tl.scope<shared>>
    // expected-error @+1 {{scale_b must be 64x2 (rows x ceil(K / scale_block))}}
    tl.gemm %a, %b, %c scale_a(%sa) scale_b(%sb) scale_block(32) : memref<128x64xf8E4M3FN, #tl.scope<shared>>, memref<64x64xf8E4M3FN, #tl.scope<shared>>, memref<128x64xf32, #tl.scope<fragment>>, memref<128x2xf8E8M0FNU, #tl.scope<shared>>, memref<64x1xf8E8M0FNU, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<128x64xf8E4M3FN, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xf8E4M3FN, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<128x64xf32, #tl.scope<fragment>>
    %sa = tl.alloc_shared : memref<128x2xf8E8M0FNU, #tl.scope<shared>>
    %sb = tl.alloc_shared : memref<64x2xf8E8M0FNU, #tl.scope<shared>>
    // expected-error @+1 {{scale_block must be positive, got 0}}
    tl.gemm %a, %b, %c scale_a(%sa) scale_b(%sb) scale_block(0) : memref<128x64xf8E4M3FN, #tl.scope<shared>>, memref<64x64xf8E4M3FN, #tl.scope<shared>>, memref<128x64xf32, #tl.scope<fragment>>, memref<128x2xf8E8M0FNU, #tl.scope<shared>>, memref<64x2xf8E8M0FNU, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_fragment : memref<64x128xf32, #tl.scope<fragment>>
    %d = tl.alloc_fragment : memref<64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{dim 2 is out of range for rank 2}}
    tl.reduce sum %s, %d dim(2) : memref<64x128xf32, #tl.scope<fragment>>, memref<64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_fragment : memref<64x128xf32, #tl.scope<fragment>>
    %d = tl.alloc_fragment : memref<128xf32, #tl.scope<fragment>>
    // expected-error @+1 {{destination shape must be (64) (source shape without dim 1), got (128)}}
    tl.reduce sum %s, %d dim(1) : memref<64x128xf32, #tl.scope<fragment>>, memref<128xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<64xf32, #tl.scope<global>>, %d: memref<1xf32, #tl.scope<local>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{source must be in shared or fragment or local memory, got global}}
    tl.reduce max %A, %d dim(0) : memref<64xf32, #tl.scope<global>>, memref<1xf32, #tl.scope<local>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_fragment : memref<64x128xi32, #tl.scope<fragment>>
    %d = tl.alloc_fragment : memref<64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{source and destination element types must match or both be floats, got 'i32' and 'f32'}}
    tl.reduce sum %s, %d dim(1) : memref<64x128xi32, #tl.scope<fragment>>, memref<64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_fragment : memref<64x128xf8E4M3FN, #tl.scope<fragment>>
    %d = tl.alloc_fragment : memref<64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{element types must be f16, bf16, f32, i32 or i64, got 'f8E4M3FN' and 'f32'}}
    tl.reduce absmax %s, %d dim(1) : memref<64x128xf8E4M3FN, #tl.scope<fragment>>, memref<64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_fragment : memref<128xf32, #tl.scope<fragment>>
    %v = tl.alloc_fragment : memref<8xf32, #tl.scope<fragment>>
    %i = tl.alloc_fragment : memref<8xi32, #tl.scope<fragment>>
    // expected-error @+1 {{source must be 2-D, got rank 1}}
    tl.topk %s, %v, %i k(8) dim(0) : memref<128xf32, #tl.scope<fragment>>, memref<8xf32, #tl.scope<fragment>>, memref<8xi32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_fragment : memref<4x128xf32, #tl.scope<fragment>>
    %v = tl.alloc_fragment : memref<4x8xf32, #tl.scope<fragment>>
    %i = tl.alloc_fragment : memref<4x8xi32, #tl.scope<fragment>>
    // expected-error @+1 {{dim must be 0 or 1, got 2}}
    tl.topk %s, %v, %i k(8) dim(2) : memref<4x128xf32, #tl.scope<fragment>>, memref<4x8xf32, #tl.scope<fragment>>, memref<4x8xi32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_fragment : memref<4x128xf32, #tl.scope<fragment>>
    %v = tl.alloc_fragment : memref<4x8xf32, #tl.scope<fragment>>
    %i = tl.alloc_fragment : memref<4x8xi32, #tl.scope<fragment>>
    // expected-error @+1 {{k must be in [1, 128], got 200}}
    tl.topk %s, %v, %i k(200) dim(1) : memref<4x128xf32, #tl.scope<fragment>>, memref<4x8xf32, #tl.scope<fragment>>, memref<4x8xi32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_fragment : memref<4x128xf32, #tl.scope<fragment>>
    %v = tl.alloc_fragment : memref<4x16xf32, #tl.scope<fragment>>
    %i = tl.alloc_fragment : memref<4x8xi32, #tl.scope<fragment>>
    // expected-error @+1 {{values and indices must be (4, 8)}}
    tl.topk %s, %v, %i k(8) dim(1) : memref<4x128xf32, #tl.scope<fragment>>, memref<4x16xf32, #tl.scope<fragment>>, memref<4x8xi32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_fragment : memref<4x128xf32, #tl.scope<fragment>>
    %v = tl.alloc_fragment : memref<4x8xbf16, #tl.scope<fragment>>
    %i = tl.alloc_fragment : memref<4x8xi32, #tl.scope<fragment>>
    // expected-error @+1 {{values must have the source element type 'f32'}}
    tl.topk %s, %v, %i k(8) dim(1) : memref<4x128xf32, #tl.scope<fragment>>, memref<4x8xbf16, #tl.scope<fragment>>, memref<4x8xi32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_fragment : memref<4x128xf32, #tl.scope<fragment>>
    %v = tl.alloc_fragment : memref<4x8xf32, #tl.scope<fragment>>
    %i = tl.alloc_fragment : memref<4x8xi64, #tl.scope<fragment>>
    // expected-error @+1 {{indices must be i32, got 'i64'}}
    tl.topk %s, %v, %i k(8) dim(1) : memref<4x128xf32, #tl.scope<fragment>>, memref<4x8xf32, #tl.scope<fragment>>, memref<4x8xi64, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%v: vector<4xf32>) {
  // expected-error @+1 {{operand and result must both be scalars or both vectors}}
  %x = tl.cast %v : vector<4xf32> to f16
  return
}

// -----

func.func @f(%v: vector<4xf32>) {
  // expected-error @+1 {{vector shapes must match}}
  %x = tl.cast %v : vector<4xf32> to vector<2xf16>
  return
}

// -----

func.func @f(%v: index) {
  // expected-error @+1 {{operand #0 must be}}
  %x = tl.cast %v : index to f16
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %l = tl.alloc_local : memref<4xf32, #tl.scope<local>>
    %v = arith.constant 1.0 : f32
    // expected-error @+1 {{destination must be in global or shared memory, got local}}
    tl.atomic_add %l[%c0], %v : memref<4xf32, #tl.scope<local>>, f32
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x?xf32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %v = arith.constant 1.0 : f32
    // expected-error @+1 {{needs 2 indices, got 1}}
    tl.atomic_add %A[%c0], %v : memref<?x?xf32, #tl.scope<global>>, f32
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x?xf32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %v = arith.constant 1.0 : f16
    // expected-error @+1 {{value must be of the element type 'f32', got 'f16'}}
    tl.atomic_add %A[%c0, %c0], %v : memref<?x?xf32, #tl.scope<global>>, f16
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x?xf32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %v = arith.constant dense<1.0> : vector<3xf32>
    // expected-error @+1 {{vector value must be 'vector<2xf32>' or 'vector<4xf32>', got 'vector<3xf32>'}}
    tl.atomic_add %A[%c0, %c0], %v : memref<?x?xf32, #tl.scope<global>>, vector<3xf32>
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?xi32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %v = arith.constant dense<1> : vector<2xi32>
    // expected-error @+1 {{vector atomics need a float element type}}
    tl.atomic_add %A[%c0], %v : memref<?xi32, #tl.scope<global>>, vector<2xi32>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<8x64xf32, #tl.scope<shared>>
    %v = arith.constant dense<1.0> : vector<4xf32>
    %c62 = arith.constant 62 : index
    // expected-error @+1 {{vector of 4 at index 62 overruns the last dimension}}
    tl.atomic_add %s[%c0, %c62], %v : memref<8x64xf32, #tl.scope<shared>>, vector<4xf32>
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x?xf32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %v = arith.constant 1.0 : f32
    // expected-error @+1 {{has a result exactly when return_prev is set}}
    tl.atomic_add %A[%c0, %c0], %v {return_prev} : memref<?x?xf32, #tl.scope<global>>, f32
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x?xf32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %v = arith.constant 1.0 : f32
    // expected-error @+1 {{has a result exactly when return_prev is set}}
    %p = tl.atomic_add %A[%c0, %c0], %v : memref<?x?xf32, #tl.scope<global>>, f32 -> f32
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?xf8E4M3FN, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %v = arith.constant 1.0 : f8E4M3FN
    // expected-error @+1 {{element type must be f16, bf16, f32, i32 or i64, got 'f8E4M3FN'}}
    tl.atomic_add %A[%c0], %v : memref<?xf8E4M3FN, #tl.scope<global>>, f8E4M3FN
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{extents must be positive, got 0}}
    tl.parallel (%i, %j) in [16, 0] {
    }
  }
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{must be nested in a tl.launch}}
  tl.parallel (%i) in [16] {
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{num_stages must be at least 1, got 0}}
    tl.pipelined %k = %c0 to %c64 step %c1 stages(0) {
    }
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %z = arith.constant 0 : index
    // expected-error @+1 {{step must be positive, got 0}}
    tl.pipelined %k = %c0 to %c64 step %z stages(2) {
    }
  }
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{expects parent op to be one of}}
  tl.yield
}

// -----

func.func @f(%n: index) {
  // expected-error @+1 {{block ids must be of type index}}
  "tl.launch"(%n) <{threads = 128 : i64}> ({
  ^bb0(%b: i32):
    "tl.yield"() : () -> ()
  }) : (index) -> ()
  return
}

// -----

func.func @f(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{needs at least one extent}}
    tl.parallel () in [] {
    }
  }
  return
}

// -----

func.func @f(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{body must have one induction variable per extent (2), got 1}}
    "tl.parallel"() <{extents = array<i64: 4, 4>}> ({
    ^bb0(%i: index):
      "tl.yield"() : () -> ()
    }) : () -> ()
  }
  return
}

// -----

func.func @f(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{body must have exactly one index induction variable}}
    "tl.pipelined"(%n, %n, %n) <{num_stages = 2 : i64}> ({
    ^bb0(%i: index, %j: index):
      "tl.yield"() : () -> ()
    }) : (index, index, index) -> ()
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?xf32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<64xf32, #tl.scope<shared>>
    %bar = tl.alloc_barrier arrive_count(1) : !tl.barrier<1>
    // expected-error @+1 {{barrier and barrier index must be given together}}
    "tl.copy"(%A, %c0, %s, %bar) <{src_sizes = array<i64: 64>, dst_sizes = array<i64: 64>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0>}>
        : (memref<?xf32, #tl.scope<global>>, index, memref<64xf32, #tl.scope<shared>>, !tl.barrier<1>) -> ()
  }
  return
}

// -----

func.func @f(%n: index) {
  %m = arith.constant -1 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<64xf32, #tl.scope<shared>>
    %f = tl.alloc_fragment : memref<64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{source region [-1, 31) is out of bounds in dim 0 of size 64}}
    tl.copy %s[%m] [32] to %f[] [32] : memref<64xf32, #tl.scope<shared>> to memref<64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x?xf32, #tl.scope<global>>) {
  %c0 = arith.constant 0 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %v = arith.constant 1.0 : f32
    // expected-error @+1 {{result type must be the value type 'f32'}}
    %p = tl.atomic_add %A[%c0, %c0], %v {return_prev} : memref<?x?xf32, #tl.scope<global>>, f32 -> f16
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<f32, #tl.scope<global>>) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %v = arith.constant dense<1.0> : vector<2xf32>
    // expected-error @+1 {{vector atomics need a destination of rank >= 1}}
    tl.atomic_add %A[], %v : memref<f32, #tl.scope<global>>, vector<2xf32>
  }
  return
}

// -----

func.func @f(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{dimensions must be positive, got 0}}
    %a = tl.alloc_shared : memref<0x4xf32, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index, %sa: memref<128x2xf8E8M0FNU, #tl.scope<global>>) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %a = tl.alloc_shared : memref<128x64xf8E4M3FN, #tl.scope<shared>>
    %b = tl.alloc_shared : memref<64x64xf8E4M3FN, #tl.scope<shared>>
    %c = tl.alloc_fragment : memref<128x64xf32, #tl.scope<fragment>>
    %sb = tl.alloc_shared : memref<64x2xf8E8M0FNU, #tl.scope<shared>>
    // expected-error @+1 {{scale_a must be in shared or fragment or local or tmem memory, got global}}
    tl.gemm %a, %b, %c scale_a(%sa) scale_b(%sb) scale_block(32) {transpose_b}
        : memref<128x64xf8E4M3FN, #tl.scope<shared>>, memref<64x64xf8E4M3FN, #tl.scope<shared>>,
          memref<128x64xf32, #tl.scope<fragment>>, memref<128x2xf8E8M0FNU, #tl.scope<global>>,
          memref<64x2xf8E8M0FNU, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index, %S: memref<4x128xf32, #tl.scope<global>>) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %v = tl.alloc_fragment : memref<4x8xf32, #tl.scope<fragment>>
    %i = tl.alloc_fragment : memref<4x8xi32, #tl.scope<fragment>>
    // expected-error @+1 {{source must be in shared or fragment or local memory, got global}}
    tl.topk %S, %v, %i k(8) dim(1) : memref<4x128xf32, #tl.scope<global>>, memref<4x8xf32, #tl.scope<fragment>>, memref<4x8xi32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c5 = arith.constant 5 : index
  %c0 = arith.constant 0 : index
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %bar = tl.alloc_barrier arrive_count(1) : !tl.barrier<4>
    // expected-error @+1 {{barrier index 5 is out of range for 4 barrier(s)}}
    tl.barrier_wait %bar[%c5], %c0 : !tl.barrier<4>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c8 = arith.constant 8 : index
  tl.launch grid(%n) threads(256) blocks(%bid) {
    // expected-error @+1 {{thread count must be a positive multiple of 32, got 100}}
    tl.named_barrier %c8 threads(100)
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  tl.launch grid(%n) threads(256) blocks(%bid) {
    // expected-error @+1 {{barrier id must be in 1..15 (0 is the whole block), got 0}}
    tl.named_barrier %c0 threads(256) {arrive}
  }
  return
}

// -----

#tile = #tl.layout<[64, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (0, 64)]>
#half = #tl.layout<[64, 64], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0)]>
func.func @f() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  tl.launch grid(%c1) threads(128) blocks(%b) {
    %t = tl.alloc_shared : memref<64x128xbf16, #tl.scope<shared, #tile>>
    // A K-slice inside the swizzle atom is not a restriction of the layout.
    // expected-error @+1 {{a box that is not a restriction of its source's layout has no layout}}
    %k = tl.view %t[%c0, %c32] [64, 64]
        : memref<64x128xbf16, #tl.scope<shared, #tile>> to memref<64x64xbf16, #tl.scope<shared, #half>>
  }
  return
}

// -----

#tile = #tl.layout<[64, 128], offset = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (0, 32), (1, 8), (2, 16), (4, 32), (8, 0), (16, 0), (32, 0), (0, 64)]>
func.func @f() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(128) blocks(%b) {
    %t = tl.alloc_shared : memref<64x128xbf16, #tl.scope<shared, #tile>>
    // expected-error @+1 {{the view's layout must be its source's layout restricted to the box}}
    %k = tl.view %t[%c0, %c0] [64, 64]
        : memref<64x128xbf16, #tl.scope<shared, #tile>> to memref<64x64xbf16, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(128) blocks(%b) {
    %t = tl.alloc_shared : memref<64x128xbf16, #tl.scope<shared>>
    // expected-error @+1 {{result must be a buffer of the box's shape (unit dimensions dropped)}}
    %k = tl.view %t[%c0, %c0] [2, 64] : memref<64x128xbf16, #tl.scope<shared>> to memref<64xbf16, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f() {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(128) blocks(%b) {
    %t = tl.alloc_shared : memref<64x128xbf16, #tl.scope<shared>>
    // expected-error @+1 {{result must have the source's size in bits (131072), got 65536}}
    %r = tl.reshape %t : memref<64x128xbf16, #tl.scope<shared>> to memref<64x64xbf16, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f() {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(128) blocks(%b) {
    %t = tl.alloc_fragment : memref<64x64xbf16, #tl.scope<fragment>>
    // expected-error @+1 {{a fragment's elements cannot be read as another element type}}
    %r = tl.reshape %t : memref<64x64xbf16, #tl.scope<fragment>> to memref<64x32xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @f() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(128) blocks(%b) {
    %t = tl.alloc_shared : memref<64x128xbf16, #tl.scope<shared>>
    %v = tl.view %t[%c0, %c0] [64, 64] : memref<64x128xbf16, #tl.scope<shared>> to memref<64x64xbf16, #tl.scope<shared>>
    // expected-error @+1 {{source must be a whole buffer, not a tl.view of one}}
    %r = tl.reshape %v : memref<64x64xbf16, #tl.scope<shared>> to memref<4096xbf16, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f() {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(128) blocks(%b) {
    %t = tl.alloc_shared : memref<64x64xi1, #tl.scope<shared>>
    // expected-error @+1 {{bools and FP4 elements cannot be reinterpreted as another type}}
    %r = tl.reshape %t : memref<64x64xi1, #tl.scope<shared>> to memref<64x16xi32, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %acc = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    // expected-error @+1 {{pending must be non-negative, got -1}}
    tl.mma_wait pending(-1) %acc : memref<64x64xf32, #tl.scope<fragment>>
  }
  return
}

// -----

func.func @warp_shuffle_without_lane(%v: f32) {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    // expected-error @+1 {{a shuffle needs a lane operand}}
    %r = tl.warp "shfl_xor" %v : f32 -> f32
  }
  return
}

// -----

func.func @warp_vote_type(%v: f32) {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    // expected-error @+1 {{a vote takes and returns i1}}
    %r = tl.warp "any" %v : f32 -> i1
  }
  return
}

// -----

func.func @warp_unknown(%v: i32) {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    // expected-error @+1 {{unknown warp exchange 'reduce'}}
    %r = tl.warp "reduce" %v : i32 -> i32
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x64xf32, #tl.scope<global>>) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<8x64xf32, #tl.scope<shared>>
    %r = tl.alloc_shared : memref<16xi32, #tl.scope<shared>>
    // expected-error @+1 {{the source region has 8 points in the gather dimension but rows has 16}}
    tl.copy %A[] [8, 64] to %s[] [8, 64] rows(%r[] : memref<16xi32, #tl.scope<shared>>) {gather_dim = 0 : i64} : memref<?x64xf32, #tl.scope<global>> to memref<8x64xf32, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x64xf32, #tl.scope<global>>) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<8x64xf32, #tl.scope<shared>>
    %r = tl.alloc_shared : memref<8xf32, #tl.scope<shared>>
    // expected-error @+1 {{gather rows must be a 1-D int32 buffer in shared or global memory, or a slice of a global int32 tensor}}
    tl.copy %A[] [8, 64] to %s[] [8, 64] rows(%r[] : memref<8xf32, #tl.scope<shared>>) {gather_dim = 0 : i64} : memref<?x64xf32, #tl.scope<global>> to memref<8x64xf32, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x64xf32, #tl.scope<global>>) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<8x64xf32, #tl.scope<shared>>
    %r = tl.alloc_shared : memref<8xi32, #tl.scope<shared>>
    // expected-error @+1 {{rows and gather_dim must be given together}}
    tl.copy %A[] [8, 64] to %s[] [8, 64] rows(%r[] : memref<8xi32, #tl.scope<shared>>) : memref<?x64xf32, #tl.scope<global>> to memref<8x64xf32, #tl.scope<shared>>
  }
  return
}

// -----

func.func @f(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{'warps' needs 'warp' (it counts warps, not threads)}}
    %e = tl.elect {warps = 4 : i64}
  }
  return
}

// -----

func.func @f(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    // expected-error @+1 {{'warps' must be between 1 and 32, got 0}}
    %e = tl.elect {warp, warps = 0 : i64}
  }
  return
}

// -----

func.func @f(%n: index, %A: memref<?x64xf32, #tl.scope<global>>) {
  tl.launch grid(%n) threads(128) blocks(%bid) {
    %s = tl.alloc_shared : memref<8x64xf32, #tl.scope<shared>>
    // expected-error @+1 {{tl.copy_warps must be an integer from 1 to 32 on a tl.copy}}
    tl.copy %A[%bid, %bid] [8, 64] to %s[] [8, 64] {tl.copy_warps = 64 : i64} : memref<?x64xf32, #tl.scope<global>> to memref<8x64xf32, #tl.scope<shared>>
  }
  return
}
