// A fragment whose leading dimensions a T.Parallel loop indexes with its
// variables and whose last one a serial loop indexes (f[i, j, c]): each
// thread holds the last dimension whole, in its highest register slots,
// and the rest as the loop places it (tl-infer-layouts); the slot is the
// loop point's plus c << 2 (tl-distribute-parallel), and the serial loop is
// marked tl.unroll so that tl-unroll leaves constant slots.
// RUN: tl-opt %s --tl-infer-layouts | FileCheck %s --check-prefix=LAYOUT
// RUN: tl-opt %s --tl-infer-layouts --tl-distribute-parallel --canonicalize | FileCheck %s --check-prefix=DIST
// RUN: tl-opt %s --tl-infer-layouts --tl-distribute-parallel --tl-unroll --canonicalize | FileCheck %s --check-prefix=UNROLL

// LAYOUT: #[[F:.+]] = #tl.layout<[8, 32, 4], reg = [(0, 1, 0), (0, 2, 0), (0, 0, 1), (0, 0, 2)], lane = [(0, 4, 0), (0, 8, 0), (0, 16, 0), (1, 0, 0), (2, 0, 0)], warp = [(4, 0, 0)]>
// LAYOUT: #[[L:.+]] = #tl.layout<[8, 32], reg = [(0, 1), (0, 2)], lane = [(0, 4), (0, 8), (0, 16), (1, 0), (2, 0)], warp = [(4, 0)]>
// LAYOUT: #[[FRAG:.+]] = #tl.scope<fragment, #[[F]]>
// LAYOUT: tl.alloc_fragment : memref<8x32x4xf32, #[[FRAG]]>
// LAYOUT: tl.parallel {{.*}} attributes {layout = #[[L]]}
// LAYOUT: tl.parallel {{.*}} attributes {layout = #[[L]]}

// The loop point's slot (0..3 for the 4 registers of the loop layout) plus
// the serial index shifted past them.
// DIST-DAG: %[[C2:.+]] = arith.constant 2 : index
// DIST-DAG: %[[C12:.+]] = arith.constant 12 : index
// DIST: scf.for %[[C:.+]] = %c0 to %c4 step %c1 {
// DIST: %[[S:.+]] = arith.shli %[[C]], %[[C2]] : index
// DIST: tl.slot_store %{{.*}}, %{{.*}}[%[[S]]]
// DIST: } {tl.unroll}
// A constant index: constant slots (3 << 2 = 12 for slot 0).
// DIST: tl.slot_load %{{.*}}[%[[C12]]]

// UNROLL-NOT: scf.for
// UNROLL: tl.slot_store %{{.*}}, %{{.*}}[%c0]
// UNROLL: tl.slot_store %{{.*}}, %{{.*}}[%c4]
// UNROLL: tl.slot_store %{{.*}}, %{{.*}}[%c8]
// UNROLL: tl.slot_store %{{.*}}, %{{.*}}[%c12]
// UNROLL-NOT: scf.for
func.func @held_whole(%x: memref<?x32x4xf32, #tl.scope<global>>, %y: memref<?x32xf32, #tl.scope<global>>, %n: index) {
  tl.launch grid(%n) threads(64) blocks(%b) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %f = tl.alloc_fragment : memref<8x32x4xf32, #tl.scope<fragment>>
    tl.parallel (%i, %j) in [8, 32] {
      scf.for %c = %c0 to %c4 step %c1 {
        %v = memref.load %x[%i, %j, %c] : memref<?x32x4xf32, #tl.scope<global>>
        memref.store %v, %f[%i, %j, %c] : memref<8x32x4xf32, #tl.scope<fragment>>
      }
    }
    tl.parallel (%i, %j) in [8, 32] {
      %a = memref.load %f[%i, %j, %c0] : memref<8x32x4xf32, #tl.scope<fragment>>
      %e = memref.load %f[%i, %j, %c3] : memref<8x32x4xf32, #tl.scope<fragment>>
      %s = arith.addf %a, %e : f32
      memref.store %s, %y[%i, %j] : memref<?x32xf32, #tl.scope<global>>
    }
  }
  return
}
