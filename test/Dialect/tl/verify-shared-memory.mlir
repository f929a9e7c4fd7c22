// tl-verify-shared-memory: totals recorded on each launch, and an error at
// the allocation that crosses the shared-memory or TMEM budget.
// RUN: tl-opt %s --split-input-file --tl-verify-shared-memory --verify-diagnostics | FileCheck %s
// RUN: tl-opt %s --split-input-file --tl-verify-shared-memory="budget=0 tmem-columns=1024" | FileCheck %s --check-prefix=UNLIMITED

// 128x64 bf16 (16384) + 64x128 fp4 packed (4096) + 3 bytes of i1 (3, rounded
// up to 8 for the barriers) + 2 mbarriers (16) = 20504 bytes.
// CHECK-LABEL: func.func @sums
// CHECK: tl.launch {{.*}} attributes {tl.smem_bytes = 20504 : i64, tl.tmem_columns = 384 : i64}
func.func @sums(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %a = tl.alloc_shared : memref<128x64xbf16, #tl.scope<shared>>
    %f = tl.alloc_shared : memref<64x128xf4E2M1FN, #tl.scope<shared>>
    %m = tl.alloc_shared : memref<3xi1, #tl.scope<shared>>
    %bar = tl.alloc_barrier arrive_count(1) : !tl.barrier<2>
    // Fragments and locals live in registers and do not count.
    %acc = tl.alloc_fragment : memref<128x128xf32, #tl.scope<fragment>>
    %t0 = tl.alloc_tmem : memref<128x256xf32, #tl.scope<tmem>>
    %t1 = tl.alloc_tmem : memref<128x256xbf16, #tl.scope<tmem>>
  }
  return
}

// -----

// UNLIMITED-LABEL: func.func @over_budget
// UNLIMITED: tl.smem_bytes = 262144 : i64
func.func @over_budget(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %a = tl.alloc_shared : memref<128x512xf16, #tl.scope<shared>>
    // expected-error @+1 {{shared memory of this block reaches 262144 bytes, over the budget of 232448 bytes}}
    %b2 = tl.alloc_shared : memref<128x512xf16, #tl.scope<shared>>
  }
  return
}

// -----

func.func @barrier_over_budget(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %a = tl.alloc_shared : memref<232448xi8, #tl.scope<shared>>
    // expected-error @+1 {{shared memory of this block reaches 232456 bytes}}
    %bar = tl.alloc_barrier arrive_count(1) : !tl.barrier<1>
  }
  return
}

// -----

// UNLIMITED-LABEL: func.func @tmem_over
// UNLIMITED: tl.tmem_columns = 640 : i64
func.func @tmem_over(%n: index) {
  tl.launch grid(%n) threads(128) blocks(%b) {
    %t0 = tl.alloc_tmem : memref<128x384xf32, #tl.scope<tmem>>
    // expected-error @+1 {{tensor memory of this block reaches 640 columns, over the 512 available}}
    %t1 = tl.alloc_tmem : memref<128x256xf32, #tl.scope<tmem>>
  }
  return
}
