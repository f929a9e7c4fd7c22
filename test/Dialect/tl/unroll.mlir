// tl-unroll: loops marked tl.unroll (T.unroll) become their iterations,
// innermost first; one that would grow past the operation budget is refused
// at the loop.
// RUN: tl-opt %s --split-input-file --tl-unroll --canonicalize --verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @nested
// CHECK-NOT: scf.for
// CHECK-COUNT-6: memref.store
// CHECK-NOT: scf.for
func.func @nested(%y: memref<6xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c2 step %c1 {
    scf.for %j = %c0 to %c3 step %c1 {
      %k = arith.muli %i, %c3 : index
      %l = arith.addi %k, %j : index
      memref.store %one, %y[%l] : memref<6xf32>
    } {tl.unroll}
  } {tl.unroll}
  return
}

// -----

// An unmarked loop stays.
// CHECK-LABEL: func.func @unmarked
// CHECK: scf.for
func.func @unmarked(%y: memref<6xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c6 step %c1 {
    memref.store %one, %y[%i] : memref<6xf32>
  }
  return
}

// -----

func.func @too_big(%y: memref<100000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cn = arith.constant 100000 : index
  %one = arith.constant 1.0 : f32
  // expected-error @+1 {{unrolling this loop would produce about 200000 operations (100000 iterations of 2); the limit is 65536: use T.serial, or unroll an inner loop}}
  scf.for %i = %c0 to %cn step %c1 {
    memref.store %one, %y[%i] : memref<100000xf32>
  } {tl.unroll}
  return
}

// -----

func.func @dynamic(%y: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  // expected-error @+1 {{T.unroll needs a loop whose trip count is known when compiling}}
  scf.for %i = %c0 to %n step %c1 {
    memref.store %one, %y[%i] : memref<?xf32>
  } {tl.unroll}
  return
}
