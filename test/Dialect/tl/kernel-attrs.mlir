// Verification of the kernel attributes: tl.kernel, tl.arg_dims, tl.params,
// tl.unroll and the launch annotations.
// RUN: tl-opt %s --split-input-file --verify-diagnostics | FileCheck %s

// expected-error @+1 {{tl.kernel argument 0 must be a memref in #tl.scope<global>, got 'memref<16xf32, #tl.scope<shared>>'}}
func.func @k(%a: memref<16xf32, #tl.scope<shared>>) attributes {tl.kernel} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.kernel argument 0 must be a memref in #tl.scope<global>}}
func.func @k(%a: memref<16xf32>) attributes {tl.kernel} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.kernel argument 0 must be a global memref or a scalar, got 'vector<4xf32>'}}
func.func @k(%a: vector<4xf32>) attributes {tl.kernel} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.kernel with dynamically shaped arguments needs tl.arg_dims}}
func.func @k(%a: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.arg_dims has 1 entries but the kernel has 2 arguments}}
func.func @k(%a: memref<?xf32, #tl.scope<global>>, %n: i32) attributes {tl.kernel, tl.arg_dims = [["N"]]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.arg_dims must be an array}}
func.func @k(%a: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = {a = 1}} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.arg_dims entry 0 has 2 dims but the argument has rank 1}}
func.func @k(%a: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [["M", "N"]]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.arg_dims entry 0 of a tensor argument must be an array}}
func.func @k(%a: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = ["N"]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.arg_dims entry 0 dim 0 is 32 but the argument type has 64}}
func.func @k(%a: memref<64xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [[32]]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.arg_dims entry 0 dim 0 is an empty string}}
func.func @k(%a: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [[""]]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.arg_dims entry 0 dim 0 must be a string expression or an integer}}
func.func @k(%a: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [[1.0]]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.arg_dims entry 0 dim 0 is negative (-1)}}
func.func @k(%a: memref<?xf32, #tl.scope<global>>) attributes {tl.kernel, tl.arg_dims = [[-1]]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.arg_dims entry 0 of scalar argument must be a unit attribute or []}}
func.func @k(%eps: f32) attributes {tl.kernel, tl.arg_dims = [["N"]]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.params must be a dictionary}}
func.func @k() attributes {tl.kernel, tl.params = [1]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.params requires the tl.kernel attribute}}
func.func @k() attributes {tl.params = {BM = 1}} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.arg_dims requires the tl.kernel attribute}}
func.func @k() attributes {tl.arg_dims = []} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.kernel must be a unit attribute}}
func.func @k() attributes {tl.kernel = 1} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.kernel body must contain exactly one tl.launch, found 0}}
func.func @k() attributes {tl.kernel} {
  return
}

// -----

// expected-error @+1 {{tl.kernel body must contain exactly one tl.launch, found 2}}
func.func @k() attributes {tl.kernel} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// expected-error @+1 {{tl.kernel function must have a body}}
func.func @k() attributes {tl.kernel}

// -----

// expected-error @+1 {{tl.kernel function must not return values}}
func.func @k() -> i32 attributes {tl.kernel} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  %z = arith.constant 0 : i32
  return %z : i32
}

// -----

func.func @f() {
  // expected-error @+1 {{tl.kernel applies only to func.func}}
  %c = arith.constant {tl.kernel} 1 : index
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{tl.unroll applies only to scf.for}}
  %c = arith.constant {tl.unroll} 1 : index
  return
}

// -----

func.func @f(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{tl.unroll must be a unit attribute}}
  scf.for %i = %c0 to %n step %c1 {
  } {tl.unroll = 4}
  return
}

// -----

// expected-error @+1 {{unknown tl attribute 'tl.kernal'}}
func.func @f() attributes {tl.kernal} {
  return
}

// -----

func.func @f(%n: index) {
  // expected-error @+1 {{tl.smem_bytes must be an integer}}
  tl.launch grid(%n) threads(32) blocks(%b) attributes {tl.smem_bytes = "a lot"} {
  }
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{tl.tmem_columns applies only to tl.launch}}
  %c = arith.constant {tl.tmem_columns = 3} 1 : index
  return
}

// -----

// CHECK-LABEL: func.func @ok_static
// CHECK-SAME: tl.kernel
func.func @ok_static(%a: memref<64x32xbf16, #tl.scope<global>>, %s: f32, %i: index) attributes {tl.kernel} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
  }
  return
}

// -----

// CHECK-LABEL: func.func @ok_dims
// CHECK-SAME: tl.arg_dims = {{\[}}["M", "K // 128"], unit]
func.func @ok_dims(%a: memref<?x?xf32, #tl.scope<global>>, %n: i32) attributes {tl.kernel, tl.arg_dims = [["M", "K // 128"], unit], tl.params = {BM = 64 : i64, dt = bf16}} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  tl.launch grid(%c1) threads(32) blocks(%b) {
    // CHECK: scf.for
    // CHECK: {tl.unroll}
    scf.for %i = %c0 to %c4 step %c1 {
    } {tl.unroll}
  }
  return
}
