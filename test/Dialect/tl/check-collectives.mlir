// tl-check-collectives: tile operations and block-wide barriers under
// control flow that depends on the thread index are refused (only some
// threads would run them); uniform conditions, per-thread ops and named
// barriers are fine.
// RUN: tl-opt %s --split-input-file --tl-check-collectives --verify-diagnostics

func.func @varying_if(%n: index) {
  tl.launch grid(%n) threads(256) blocks(%b) {
    %c128 = arith.constant 128 : index
    %zero = arith.constant 0.0 : f32
    %acc = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    %t = tl.thread_id 0
    %lo = arith.cmpi ult, %t, %c128 : index
    // expected-note @+1 {{the thread-dependent control flow is here}}
    scf.if %lo {
      // expected-error @+1 {{cannot run under control flow that depends on T.thread_id}}
      tl.fill %acc, %zero : memref<64x64xf32, #tl.scope<fragment>>
      // A per-thread element store is fine.
      %c0 = arith.constant 0 : index
      memref.store %zero, %acc[%c0, %c0] : memref<64x64xf32, #tl.scope<fragment>>
    }
  }
  return
}

// -----

// Through a per-thread buffer and a loop bound.
func.func @through_a_local(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %l = tl.alloc_local : memref<1xi32, #tl.scope<local>>
    %t = tl.thread_id 0
    %ti = arith.index_cast %t : index to i32
    memref.store %ti, %l[%c0] : memref<1xi32, #tl.scope<local>>
    %vi = memref.load %l[%c0] : memref<1xi32, #tl.scope<local>>
    %v = arith.index_cast %vi : i32 to index
    // expected-note @+1 {{the thread-dependent control flow is here}}
    scf.for %i = %c0 to %v step %c1 {
      // expected-error @+1 {{cannot run under control flow that depends on T.thread_id}}
      tl.sync_threads
    }
  }
  return
}

// -----

// Uniform conditions, a named barrier for some threads, mbarrier-free
// per-thread code: no error.
func.func @fine(%n: index, %flag: i1) {
  tl.launch grid(%n) threads(256) blocks(%b) {
    %c128 = arith.constant 128 : index
    %zero = arith.constant 0.0 : f32
    %acc = tl.alloc_fragment : memref<64x64xf32, #tl.scope<fragment>>
    %c0 = arith.constant 0 : index
    %blk = arith.cmpi eq, %b, %c0 : index
    scf.if %blk {
      tl.fill %acc, %zero : memref<64x64xf32, #tl.scope<fragment>>
    }
    %t = tl.thread_id 0
    %lo = arith.cmpi ult, %t, %c128 : index
    %c1 = arith.constant 1 : index
    scf.if %lo {
      tl.named_barrier %c1 threads(128)
    }
  }
  return
}
