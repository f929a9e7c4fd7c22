// RUN: tl-opt --tl-lower-to-cpu --split-input-file --verify-diagnostics %s

func.func @tid(%x: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [["N"]]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    // expected-error @+1 {{T.thread_id reached the CPU lowering: run --tl-cpu-thread-loops first}}
    %t = tl.thread_id 0
    %v = arith.constant 1.0 : f32
    memref.store %v, %x[%t] : memref<?xf32, #tl.scope<global>>
  }
  return
}

// -----

func.func @print(%x: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [["N"]]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    // expected-error @+1 {{T.print is not supported by the CPU target yet}}
    tl.print "hello"
  }
  return
}
