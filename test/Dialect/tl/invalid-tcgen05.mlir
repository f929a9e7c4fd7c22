// Verifier errors of the sm_100a forms.
// RUN: tl-opt %s --split-input-file --verify-diagnostics

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tl.launch grid(%n) threads(128) blocks(%b) {
    %bar = tl.alloc_barrier arrive_count(1) : !tl.barrier<1>
    // expected-error @+1 {{barrier index 1 is out of range for 1 barrier(s)}}
    tl.mma_commit %bar[%c1] : !tl.barrier<1>
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  tl.launch grid(%n) threads(128) blocks(%b) {
    %bar = tl.alloc_barrier arrive_count(1) : !tl.barrier<1>
    // expected-error @+1 {{parity must be 0 or 1, got 2}}
    tl.mma_wait pending(0) barrier(%bar[%c0], %c2 : !tl.barrier<1>)
  }
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  tl.launch grid(%n) threads(128) blocks(%b) {
    %bar = tl.alloc_barrier arrive_count(1) : !tl.barrier<1>
    // expected-error @+1 {{waits on a barrier for every MMA committed to it: pending must be 0}}
    tl.mma_wait pending(1) barrier(%bar[%c0], %c0 : !tl.barrier<1>)
  }
  return
}

// -----

func.func @f(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    // expected-error @+1 {{tmem block scales need rows in multiples of 128 and K / 32 in multiples of 4 (one 32-bit word of scales per row), got 64x4}}
    %s = tl.alloc_tmem : memref<64x4xf8E8M0FNU, #tl.scope<tmem>>
  }
  return
}

// -----

func.func @f(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    // expected-error @+1 {{tmem block scales are [rows, K / 32] or [slots, rows, K / 32], got rank 4}}
    %s = tl.alloc_tmem : memref<2x2x128x4xf8E8M0FNU, #tl.scope<tmem>>
  }
  return
}

// -----

func.func @f(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    // 512 columns per slot x 2 slots of 256 rows x 256 chunks.
    // expected-error @+1 {{tmem buffer needs 1024 32-bit columns, at most 512 available}}
    %s = tl.alloc_tmem : memref<2x256x256xf8E8M0FNU, #tl.scope<tmem>>
  }
  return
}
