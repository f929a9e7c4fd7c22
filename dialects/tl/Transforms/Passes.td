// Passes over the `tl` dialect.
#ifndef TL_TRANSFORMS_PASSES_TD
#define TL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TlVerifySharedMemory : Pass<"tl-verify-shared-memory", "func::FuncOp"> {
  let summary = "Check per-launch shared-memory and tensor-memory budgets";
  let description = [{
    Sums the bytes of every `tl.alloc_shared` (FP4 packed two per byte) and
    `tl.alloc_barrier` (8 bytes per mbarrier) in each `tl.launch`, and the
    32-bit columns of every `tl.alloc_tmem`. Reports an error at the
    allocation that crosses a budget, and records the totals on the launch as
    `tl.smem_bytes` / `tl.tmem_columns` (i64) for later passes and the
    kernel manifest.
  }];
  let options = [
    Option<"budget", "budget", "int64_t", /*default=*/"232448",
           "Shared-memory budget per block in bytes (default 227 KiB); 0 = unlimited">,
    Option<"tmemColumns", "tmem-columns", "int64_t", /*default=*/"512",
           "Tensor-memory columns per block">
  ];
}

def TlStageShared : Pass<"tl-stage-shared", "func::FuncOp"> {
  let summary = "Route tile ops the GPU runs on shared memory through shared staging buffers";
  let description = [{
    The GPU lowers `tl.topk` and reductions of shared sources between
    shared buffers only, and fills register buffers whole. This pass runs
    first in the GPU pipeline and rewrites the other forms into those:
    a reduction of a shared buffer into a register buffer reduces into a
    shared temporary copied to the destination (after copying the
    destination in when it accumulates); a `tl.topk` with register
    operands copies them through shared temporaries; `tl.fill` of a view
    of a fragment becomes a `tl.parallel` over the fragment that stores
    the value where the point lies in the view, and of a view of a local a
    serial loop nest over the view; a `tl.copy` of a region of a fragment
    or local moves the region's elements the same way (out-of-bounds global
    elements read as zero and are not written).
    See dialects/tl/Transforms/StageShared.cpp.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect"];
}

def TlInferLayouts : Pass<"tl-infer-layouts", "func::FuncOp"> {
  let summary = "Choose layouts for register buffers, parallel loops and MMA operand tiles";
  let description = [{
    Gives every fragment, local and tmem buffer a linear layout (in its
    memref type: `#tl.scope<fragment, #tl.layout<...>>`), every tl.parallel
    the layout that distributes its points (`layout` attribute), and every
    shared MMA operand the swizzled layout of TMA and the MMA descriptors.
    MMA accumulators and register operands anchor the layouts; loops,
    fragment copies and reductions propagate them (a reduction's destination
    is its source projected); the rest is blocked in 16-byte runs, or
    replicated where a buffer is indexed by anything but loop variables.
    Where a use needs another layout than its buffer has, a tl.convert_layout
    through a temporary is inserted. See dialects/tl/Transforms/InferLayouts.cpp.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "Target chip whose MMA layouts anchor the inference (sm_90a or sm_100a)">
  ];
}

def TlDistributeParallel : Pass<"tl-distribute-parallel", "func::FuncOp"> {
  let summary = "Distribute tl.parallel loops over threads by their layouts; access registers by slot";
  let description = [{
    Replaces every tl.parallel (laid out by tl-infer-layouts) with the code
    each thread runs: the body once per register slot of the loop's layout,
    the induction variables replaced by that slot's coordinates (index
    arithmetic on the thread index), points past the extents skipped or
    guarded, and stores to memory done by one replica where the layout
    replicates. Element loads/stores of register buffers become
    tl.slot_load/tl.slot_store of the slot holding the element in the same
    thread. See dialects/tl/Transforms/DistributeParallel.cpp.
  }];
}

def TlAllocateShared : Pass<"tl-allocate-shared", "func::FuncOp"> {
  let summary = "Place shared buffers, barriers and scratch by liveness; check the budget";
  let description = [{
    Gives every tl.alloc_shared and tl.alloc_barrier a byte offset
    (`tl.offset`) and every op that needs shared scratch while it runs (a
    reduction across warps, a layout conversion) one (`tl.scratch`), and the
    launch its total (`tl.smem_bytes`). Buffers whose lifetimes do not
    overlap share bytes; a buffer used inside a loop lives for the whole
    loop, one used by several warp-specialised roles for the whole launch.
    Over the budget, the error lists each buffer's bytes and offset.
  }];
  let options = [
    Option<"budget", "budget", "int64_t", /*default=*/"232448",
           "Shared-memory budget per block in bytes (default 227 KiB); 0 = unlimited">
  ];
}

def TlPipeline : Pass<"tl-pipeline", "func::FuncOp"> {
  let summary = "Software-pipeline T.Pipelined loops: rings of stages, async copies, mbarriers";
  let description = [{
    Turns the global -> shared copies of each T.Pipelined loop into
    asynchronous copies (TMA where the box fits a tensor map, cp.async
    otherwise) into `num_stages`-deep rings, one stream per first reader,
    with explicit barrier waits and arrivals; the producer side is tagged
    `tl.producer` for tl-warp-specialize. Records the tensor maps on the
    kernel (`tl.tma_maps`). See dialects/tl/Transforms/Pipeline.cpp.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "Target chip (sm_90a or sm_100a: FP4 tiles by TMA only on sm_100a)">
  ];
}

def TlWarpSpecialize : Pass<"tl-warp-specialize", "func::FuncOp"> {
  let summary = "Move the producer side of pipelined loops to a warpgroup of its own";
  let description = [{
    Splits a launch with tl-pipeline's producer ops into a tl.warp_specialize
    of two roles: the declared threads run the body without them; an extra
    warpgroup runs them in loops over the same iterations, recomputing the
    offsets and bounds they need. Registers per thread move from the
    producer to the consumers (setmaxnreg). See
    dialects/tl/Transforms/WarpSpecialize.cpp.
  }];
  let options = [
    Option<"producerRegs", "producer-regs", "int64_t", /*default=*/"40",
           "Registers per thread the producer warpgroup keeps">
  ];
}

def TlPersistent : Pass<"tl-persistent", "func::FuncOp"> {
  let summary = "Warp-specialised launches walk their grid in a tile loop (persistent kernels)";
  let description = [{
    Wraps each role of a tl.warp_specialize in a loop over logical tiles
    (this block's, then every nblocks-th), computing the block indices per
    tile (grouped 2-D order; groups of cluster blocks along x), and marks the
    launch `tl.persistent` for the manifest. See
    dialects/tl/Transforms/Persistent.cpp.
  }];
}

def TlCheckCollectives : Pass<"tl-check-collectives", "func::FuncOp"> {
  let summary = "Refuse tile operations under control flow that depends on T.thread_id";
  let description = [{
    T.copy, T.gemm, T.fill, reductions, T.topk, T.Parallel, layout
    conversions and block-wide T.sync_threads() are carried out by all the
    threads of a block together; one under an if or loop whose condition or
    bounds depend on T.thread_id would run in some threads only and compute
    part of its result. Such an op is an error at its location, with a note
    at the control flow. Named barriers (T.sync_threads(id, count)) and
    mbarrier ops are per-thread and allowed. See
    dialects/tl/Transforms/CheckCollectives.cpp.
  }];
}

def TlUnroll : Pass<"tl-unroll", "func::FuncOp"> {
  let summary = "Fully unroll the loops marked tl.unroll (T.unroll, register-slot loops)";
  let description = [{
    Every scf.for carrying `tl.unroll` (T.unroll in the source, or a serial
    loop whose variable indexes register slots, marked by
    tl-distribute-parallel) is replaced by its iterations, innermost first.
    A loop whose unrolled body would exceed the operation budget is refused
    with an error at the loop. See dialects/tl/Transforms/Unroll.cpp.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::scf::SCFDialect"];
}

def TlPipelineMma : Pass<"tl-pipeline-mma", "func::FuncOp"> {
  let summary = "Keep MMAs in flight across iterations of pipelined loops";
  let description = [{
    sm_90a: an accumulating T.gemm whose accumulator nothing else in its
    pipelined loop touches becomes asynchronous with one group left in
    flight (tl.mma_wait pending(1)); the stage it read is released an
    iteration later, the last one after the loop.
    sm_100a: every T.gemm (and tensor-memory copy from shared memory) is a
    tcgen05 operation one thread issues and the hardware completes later;
    a wait for them (tl.mma_wait on a barrier, phases from a per-thread
    count) is inserted only where threads touch what they use: before
    tensor memory is read or written by registers, before a shared operand
    is overwritten or released, and at the end of the launch. See
    dialects/tl/Transforms/PipelineMma.cpp.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "Target chip (sm_90a: wgmma groups; sm_100a: tcgen05 commits)">
  ];
}

def TlAssignTmem : Pass<"tl-assign-tmem", "func::FuncOp"> {
  let summary = "sm_100a: put MMA accumulators, register A operands and block scales in tensor memory";
  let description = [{
    Every T.gemm accumulator that is a fragment becomes a tl.alloc_tmem of
    the same layout (tcgen05.ld 32x32b: how registers see it); its fills
    stay fills of tensor memory and a lone copy of it to memory reads tensor
    memory; other element-wise uses go through a register fragment, copied
    from tensor memory before them and back after them where they write it
    and it is read again. A register A operand is copied to tensor memory
    before its gemm, and shared block scales are copied there (tcgen05.cp),
    a pipeline stage into the same slot of a tensor-memory ring. Each
    tensor-memory buffer gets its first column (`tl.offset`) and the launch
    the columns to allocate (`tl.tmem_columns`); over 512 is an error that
    lists the buffers. Runs after tl-pipeline. See
    dialects/tl/Transforms/AssignTmem.cpp.
  }];
}

def TlRotateMma : Pass<"tl-rotate-mma", "func::FuncOp"> {
  let summary = "Overlap a consumer loop's trailing MMA with the next iteration (FA3-style)";
  let description = [{
    In a warp-specialised consumer loop that ends with an accumulating MMA
    whose operands the next iteration touches late (attention's O += P V),
    issues that MMA of iteration k-1 right after iteration k's first MMA, so
    it runs while the threads compute the softmax; the first iteration is
    peeled and the last MMA issued after the loop. See
    dialects/tl/Transforms/RotateMma.cpp.
  }];
}

def TlPingpong : Pass<"tl-pingpong", "func::FuncOp"> {
  let summary = "Two consumer warpgroups take turns issuing MMAs (FA3 ping-pong, sm_90a)";
  let description = [{
    In a warp-specialised launch whose consumer role is two warpgroups
    running a pipelined loop of MMAs and element-wise work, brackets each
    group of MMA issues with a pair of named barriers (tl.named_barrier) so
    the warpgroups alternate: one computes its softmax while the other's
    MMAs run. Runs after tl-persistent. See dialects/tl/Transforms/Pingpong.cpp.
  }];
}

def TlGuardGlobalAccesses : Pass<"tl-guard-global-accesses", "func::FuncOp"> {
  let summary = "Decide which element accesses of global tensors need a bounds guard";
  let description = [{
    Every element load, store and atomic add on a global tensor (a kernel
    argument) gets `tl.bounds`: "proven" where every index is in range for
    every launch (bounds of the index as linear expressions over the
    kernel's size names -- loop ranges, T.Parallel extents, block indices
    below their grid sizes, T.min clamps -- compared with the tensor's
    dimension), "unchecked" where the author opted out
    (`with T.no_bounds_check():`, set by the front end), and otherwise
    "guard" (out of range: loads give zero, stores are dropped) or, with
    `check-bounds`, "check" (out of range stops the kernel with the kernel
    name, source location and indices; opted-out accesses are checked too).
    tl-materialize-guards writes the guards. Runs first, for every target.
    See dialects/tl/Transforms/GuardGlobalAccesses.cpp.
  }];
  let options = [
    Option<"checkBounds", "check-bounds", "bool", /*default=*/"false",
           "Trap with a report on an out-of-range access instead of guarding it">
  ];
}

def TlMaterializeGuards : Pass<"tl-materialize-guards", "func::FuncOp"> {
  let summary = "Write the bounds guards that tl-guard-global-accesses decided";
  let description = [{
    Wraps each access marked `tl.bounds = "guard"` in an scf.if on its
    indices being below the tensor's sizes (a load yields zero bits of its
    type otherwise), and each one marked "check" likewise with a tl.trap
    (message: kernel, file:line:col, indices and shape) in the other branch.
    Runs late (on the GPU after tl-distribute-parallel) so that the passes
    before it see plain element accesses. See
    dialects/tl/Transforms/MaterializeGuards.cpp.
  }];
  let dependentDialects = ["scf::SCFDialect", "arith::ArithDialect"];
}

#endif // TL_TRANSFORMS_PASSES_TD
