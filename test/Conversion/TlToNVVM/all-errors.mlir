// tl-lower-to-nvvm reports every op it cannot lower, not only the first:
// an op without results that fails is dropped and the conversion goes on
// (an op with results ends it: its users would see values no pattern
// expects).
// RUN: tl-opt %s --tl-lower-to-nvvm --verify-diagnostics

func.func @two_fills(%x: memref<?x64xf32, #tl.scope<global>>, %y: memref<?x64xf32, #tl.scope<global>>, %n: index) attributes {tl.kernel, tl.arg_dims = [["M", 64], ["M", 64], unit]} {
  tl.launch grid(%n) threads(128) blocks(%bx) {
    %one = arith.constant 1.0 : f32
    // expected-error @+1 {{T.fill of a global tensor is not supported by the GPU lowering}}
    tl.fill %x, %one : memref<?x64xf32, #tl.scope<global>>
    // expected-error @+1 {{T.fill of a global tensor is not supported by the GPU lowering}}
    tl.fill %y, %one : memref<?x64xf32, #tl.scope<global>>
  }
  return
}
