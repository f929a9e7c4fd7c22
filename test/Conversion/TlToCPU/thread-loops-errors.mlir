// RUN: tl-opt --tl-cpu-thread-loops --split-input-file --verify-diagnostics %s

// A barrier under a condition on the thread index: not every thread reaches
// it, so the threads cannot be split into loops there.
func.func @divergent(%x: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [["N"]]} {
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    %t = tl.thread_id 0
    %lt = arith.cmpi ult, %t, %c16 : index
    // expected-note @+1 {{the thread-dependent control flow is here}}
    scf.if %lt {
      // expected-error @+1 {{T.sync_threads() is under a condition that depends on T.thread_id}}
      tl.sync_threads
    }
  }
  return
}

// -----

// The same through arithmetic and a loop bound.
func.func @divergent_loop(%x: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [["N"]]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    %t = tl.thread_id 0
    %n = arith.addi %t, %c1 : index
    // expected-note @+1 {{the thread-dependent control flow is here}}
    scf.for %i = %c0 to %n step %c1 {
      // expected-error @+1 {{T.sync_threads() is under a loop whose bounds depend on T.thread_id}}
      tl.sync_threads
    }
  }
  return
}

// -----

// A tile op (run once per block) inside thread-dependent control flow.
func.func @divergent_copy(%x: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [["N"]]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    %s = tl.alloc_shared : memref<32xf32, #tl.scope<shared>>
    %t = tl.thread_id 0
    %is0 = arith.cmpi eq, %t, %c0 : index
    // expected-note @+1 {{the thread-dependent control flow is here}}
    scf.if %is0 {
      // expected-error @+1 {{T.copy is under a condition that depends on T.thread_id}}
      tl.copy %x[%c0] [32] to %s[] [32] : memref<?xf32, #tl.scope<global>> to memref<32xf32, #tl.scope<shared>>
    }
  }
  return
}

// -----

// A tile op whose operand is the thread index.
func.func @tid_operand(%x: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [["N"]]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    %s = tl.alloc_shared : memref<32xf32, #tl.scope<shared>>
    // expected-note @+1 {{the value is computed here}}
    %t = tl.thread_id 0
    // expected-error @+1 {{T.copy runs once for the whole block on the CPU target, but uses a value computed from T.thread_id}}
    tl.copy %x[%t] [32] to %s[] [32] : memref<?xf32, #tl.scope<global>> to memref<32xf32, #tl.scope<shared>>
  }
  return
}
