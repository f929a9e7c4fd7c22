// RUN: tl-opt %s --split-input-file --tl-stage-shared | FileCheck %s

// A reduction of a shared tile into a fragment goes through a shared
// temporary; with accumulation (no `clear`) the destination is copied in first.
// CHECK-LABEL: func.func @reduce_shared_to_fragment
// CHECK:       %[[SRC:.*]] = tl.alloc_shared : memref<4x128xf32
// CHECK:       %[[DST:.*]] = tl.alloc_fragment : memref<4xf32
// CHECK:       %[[TMP:.*]] = tl.alloc_shared {tlc_staged_as = "the shared temporary this reduction writes before its register destination"} : memref<4xf32, #tl.scope<shared>>
// CHECK-NEXT:  tl.copy %[[DST]][] [4] to %[[TMP]][] [4]
// CHECK-NEXT:  tl.reduce sum %[[SRC]], %[[TMP]] dim(1)
// CHECK-NEXT:  tl.copy %[[TMP]][] [4] to %[[DST]][] [4]
func.func @reduce_shared_to_fragment() attributes {tl.kernel} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(128) blocks(%bx) {
    %s = tl.alloc_shared : memref<4x128xf32, #tl.scope<shared>>
    %d = tl.alloc_fragment : memref<4xf32, #tl.scope<fragment>>
    tl.reduce sum %s, %d dim(1) : memref<4x128xf32, #tl.scope<shared>>, memref<4xf32, #tl.scope<fragment>>
  }
  return
}

// -----

// T.topk with register operands: the source is staged in shared memory and
// the results copied out.
// CHECK-LABEL: func.func @topk_fragment
// CHECK:       %[[X:.*]] = tl.alloc_fragment : memref<4x128xf32
// CHECK:       %[[V:.*]] = tl.alloc_fragment : memref<4x8xf32
// CHECK:       %[[I:.*]] = tl.alloc_fragment : memref<4x8xi32
// CHECK:       %[[XS:.*]] = tl.alloc_shared {tlc_staged_as = "the shared copy of T.topk's register source"} : memref<4x128xf32, #tl.scope<shared>>
// CHECK-NEXT:  tl.copy %[[X]][] [4, 128] to %[[XS]][] [4, 128]
// CHECK-NEXT:  %[[VS:.*]] = tl.alloc_shared {{.*}} : memref<4x8xf32, #tl.scope<shared>>
// CHECK-NEXT:  %[[IS:.*]] = tl.alloc_shared {{.*}} : memref<4x8xi32, #tl.scope<shared>>
// CHECK-NEXT:  tl.topk %[[XS]], %[[VS]], %[[IS]] k(8) dim(1)
// CHECK-NEXT:  tl.copy %[[VS]][] [4, 8] to %[[V]][] [4, 8]
// CHECK-NEXT:  tl.copy %[[IS]][] [4, 8] to %[[I]][] [4, 8]
func.func @topk_fragment() attributes {tl.kernel} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(128) blocks(%bx) {
    %x = tl.alloc_fragment : memref<4x128xf32, #tl.scope<fragment>>
    %v = tl.alloc_fragment : memref<4x8xf32, #tl.scope<fragment>>
    %i = tl.alloc_fragment : memref<4x8xi32, #tl.scope<fragment>>
    tl.topk %x, %v, %i k(8) dim(1) : memref<4x128xf32, #tl.scope<fragment>>, memref<4x8xf32, #tl.scope<fragment>>, memref<4x8xi32, #tl.scope<fragment>>
  }
  return
}

// -----

// A fill of a fragment's row: a T.Parallel over the fragment storing where
// the point lies in the view (the row index is a run-time value); the view
// is gone. A fill of a local's region: a serial loop nest over the region.
// CHECK-LABEL: func.func @fill_views
// CHECK:       %[[F:.*]] = tl.alloc_fragment : memref<4x64xf32
// CHECK:       %[[L:.*]] = tl.alloc_local : memref<2x8xf32
// CHECK-NOT:   tl.view
// CHECK:       tl.parallel (%[[I:.*]], %[[J:.*]]) in [4, 64]
// CHECK-DAG:     arith.cmpi sge, %[[I]]
// CHECK-DAG:     arith.cmpi slt, %[[I]]
// CHECK:         scf.if
// CHECK-NEXT:      memref.store %{{.*}}, %[[F]][%[[I]], %[[J]]]
// CHECK:       scf.for
// CHECK:         scf.for
// CHECK:           memref.store %{{.*}}, %[[L]]
// CHECK-NOT:   tl.fill
func.func @fill_views() attributes {tl.kernel} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(128) blocks(%bx) {
    %f = tl.alloc_fragment : memref<4x64xf32, #tl.scope<fragment>>
    %l = tl.alloc_local : memref<2x8xf32, #tl.scope<local>>
    %c0 = arith.constant 0 : index
    %c2 = arith.constant 2 : index
    %one = arith.constant 1.0 : f32
    %row = tl.view %f[%bx, %c0] [1, 64] : memref<4x64xf32, #tl.scope<fragment>> to memref<64xf32, #tl.scope<fragment>>
    tl.fill %row, %one : memref<64xf32, #tl.scope<fragment>>
    %box = tl.view %l[%c0, %c2] [2, 4] : memref<2x8xf32, #tl.scope<local>> to memref<2x4xf32, #tl.scope<local>>
    tl.fill %box, %one : memref<2x4xf32, #tl.scope<local>>
  }
  return
}
