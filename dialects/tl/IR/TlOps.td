// Operations of the `tl` dialect. Semantics and verifier rules of each op are
// documented in docs/dialect.md; keep the two in step.
#ifndef TL_IR_TLOPS_TD
#define TL_IR_TLOPS_TD

include "tl/IR/TlDialect.td"
include "tl/IR/TlAttrs.td"
include "tl/IR/TlTypes.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

// Element types of tl buffers and scalars (the .tl dtypes).
def Tl_ElementType : AnyTypeOf<[I1, I8, I32, I64, F16, BF16, F32,
                                F8E4M3FN, F8E5M2, F4E2M1FN, F8E8M0FNU]>;

def Tl_Buffer : MemRefOf<[Tl_ElementType]>;
def Tl_StaticBuffer : StaticShapeMemRefOf<[Tl_ElementType]>;

def Tl_ScalarOrVector : AnyTypeOf<[Tl_ElementType, VectorOfAnyRankOf<[Tl_ElementType]>]>;

//===----------------------------------------------------------------------===//
// Launch and structure
//===----------------------------------------------------------------------===//

// No RecursiveMemoryEffects: a launch is the kernel, and must survive DCE even
// when its body has no visible effect (the kernel verifier requires one).
def Tl_LaunchOp : Tl_Op<"launch", [SingleBlockImplicitTerminator<"YieldOp">]> {
  let summary = "launch a grid of thread blocks (T.Kernel)";
  let description = [{
    ```mlir
    tl.launch grid(%gx, %gy) threads(256) cluster(2, 1) blocks(%bx, %by) {
      ...
    }
    ```
    Runs the body once per thread block of a 1-3-D grid. The block's
    arguments are the block indices, one `index` per grid operand.
  }];
  let arguments = (ins Variadic<Index>:$grid, I64Attr:$threads,
                       OptionalAttr<DenseI64ArrayAttr>:$cluster);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    // Creates the body block (one index argument per grid operand) ending in
    // tl.yield; insert the body before the terminator.
    OpBuilder<(ins "::mlir::ValueRange":$grid, "int64_t":$threads,
                   CArg<"::llvm::ArrayRef<int64_t>", "{}">:$cluster)>
  ];
  let extraClassDeclaration = [{
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
    ::mlir::Block::BlockArgListType getBlockIds() {
      return getBodyBlock().getArguments();
    }
  }];
}

def Tl_YieldOp : Tl_Op<"yield", [Pure, Terminator, ReturnLike,
    ParentOneOf<["LaunchOp", "ParallelOp", "PipelinedOp", "WarpSpecializeOp"]>]> {
  let summary = "terminator of tl region ops";
  let assemblyFormat = "attr-dict";
}

def Tl_ParallelOp : Tl_Op<"parallel", [
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects]> {
  let summary = "element-parallel loop nest over a static space (T.Parallel)";
  let description = [{
    ```mlir
    tl.parallel (%i, %j) in [128, 64] { ... }
    ```
    Every point of the static iteration space is executed exactly once by
    some thread of the block.
  }];
  // `layout` (set by tl-infer-layouts): which thread and register slot runs
  // each point of the iteration space.
  let arguments = (ins DenseI64ArrayAttr:$extents, OptionalAttr<Tl_LayoutAttr>:$layout);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    // Creates the body block (one index argument per extent) ending in tl.yield.
    OpBuilder<(ins "::llvm::ArrayRef<int64_t>":$extents)>
  ];
  let extraClassDeclaration = [{
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
    ::mlir::Block::BlockArgListType getInductionVars() {
      return getBodyBlock().getArguments();
    }
  }];
}

def Tl_PipelinedOp : Tl_Op<"pipelined", [
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects]> {
  let summary = "serial loop to be software-pipelined (T.Pipelined)";
  let description = [{
    ```mlir
    tl.pipelined %k = %lb to %ub step %s stages(3) { ... }
    ```
  }];
  let arguments = (ins Index:$lowerBound, Index:$upperBound, Index:$step,
                       I64Attr:$num_stages);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    // Creates the body block (the index induction variable) ending in tl.yield.
    OpBuilder<(ins "::mlir::Value":$lowerBound, "::mlir::Value":$upperBound,
                   "::mlir::Value":$step, "int64_t":$numStages)>
  ];
  let extraClassDeclaration = [{
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
    ::mlir::BlockArgument getInductionVar() {
      return getBodyBlock().getArgument(0);
    }
  }];
}

//===----------------------------------------------------------------------===//
// Thread and block ids
//===----------------------------------------------------------------------===//

def Tl_ThreadIdOp : Tl_Op<"thread_id", [Pure]> {
  let summary = "thread index in the block along a dimension";
  let arguments = (ins I64Attr:$dim);
  let results = (outs Index:$result);
  let assemblyFormat = "$dim attr-dict";
  let builders = [
    OpBuilder<(ins "int64_t":$dim), [{
      build($_builder, $_state, $_builder.getIndexType(), $_builder.getI64IntegerAttr(dim));
    }]>
  ];
  let hasVerifier = 1;
}

def Tl_BlockIdOp : Tl_Op<"block_id", [Pure]> {
  let summary = "block index in the grid along a dimension";
  let arguments = (ins I64Attr:$dim);
  let results = (outs Index:$result);
  let assemblyFormat = "$dim attr-dict";
  let builders = [
    OpBuilder<(ins "int64_t":$dim), [{
      build($_builder, $_state, $_builder.getIndexType(), $_builder.getI64IntegerAttr(dim));
    }]>
  ];
  let hasVerifier = 1;
}

def Tl_ElectOp : Tl_Op<"elect"> {
  let summary = "true in the first thread (or the first warp) of the threads running it";
  let description = [{
    ```mlir
    %one = tl.elect
    %warp0 = tl.elect {warp}
    %warps = tl.elect {warp, warps = 4 : i64}
    ```
    The first thread of the warp-specialised role around it (of the block
    outside roles); with `warp`, every lane of that role's first warp, or of
    its first `warps` warps. Used to issue TMA copies and barrier
    transactions once, and cp.async streams from one or a few warps.
  }];
  let arguments = (ins UnitAttr:$warp, OptionalAttr<I64Attr>:$warps);
  let results = (outs I1:$result);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins CArg<"bool", "false">:$warp, CArg<"int64_t", "1">:$warps), [{
      build($_builder, $_state, $_builder.getI1Type(), warp,
            warps > 1 ? $_builder.getI64IntegerAttr(warps) : IntegerAttr());
    }]>
  ];
}

def Tl_SpecialRegOp : Tl_Op<"special_reg", [Pure]> {
  let summary = "read a hardware index (grid size, cluster id, rank in the cluster)";
  let description = [{
    ```mlir
    %n = tl.special_reg "nctaid.x"
    ```
    One of `nctaid.x` (blocks launched along x), `ctaid.x`, `clusterid.x`,
    `nclusterid.x`, `cluster_ctarank`: what persistent kernels walk their
    tiles by. The CPU target reads 1 for counts and 0 for indices.
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Index:$result);
  let assemblyFormat = "$name attr-dict";
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "::llvm::StringRef":$name), [{
      build($_builder, $_state, $_builder.getIndexType(), $_builder.getStringAttr(name));
    }]>
  ];
}

def Tl_SyncThreadsOp : Tl_Op<"sync_threads"> {
  let summary = "block-wide barrier (bar.sync 0)";
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

def Tl_NamedBarrierOp : Tl_Op<"named_barrier"> {
  let summary = "wait at, or arrive at, a named hardware barrier of a thread count (bar.sync / bar.arrive)";
  let description = [{
    ```mlir
    tl.named_barrier %id threads(256)           // wait until 256 threads arrived
    tl.named_barrier %id threads(256) {arrive}  // count this thread, do not wait
    ```
    Barrier `id` (1 to 15; 0 is the whole block) completes when `threads`
    threads (a multiple of 32) have reached it, waiting or arriving; the
    waiters then go on. tl-pingpong uses a pair of them to take turns between
    two consumer warpgroups.
  }];
  let arguments = (ins Index:$id, I64Attr:$threads, UnitAttr:$arrive);
  let assemblyFormat = "$id `threads` `(` $threads `)` attr-dict";
  let hasVerifier = 1;
}

def Tl_WarpOp : Tl_Op<"warp"> {
  let summary = "an exchange among the 32 lanes of a warp: shuffle, vote or match";
  let description = [{
    ```mlir
    %r = tl.warp "shfl_xor" %v, %mask : f32 -> f32     // T.shfl_xor(v, mask)
    %b = tl.warp "ballot" %p : i1 -> i32                // T.ballot_sync(p)
    ```
    Every lane of the warp executes it. `kind`: `shfl_xor`, `shfl_down`,
    `shfl_up`, `shfl_idx` (with a lane operand: the mask, the distance or the
    source lane; 32-bit values; a source outside the warp gives the lane's
    own value), `any` / `all` (i1 -> i1), `ballot` (i1 -> i32, bit i for
    lane i), `match_any` (i32 or i64 -> i32, the lanes holding the same
    value).
    The GPU lowers it to shfl.sync / vote.sync / match.sync over the full
    warp; the CPU target to an exchange through shared memory between
    barriers (tl-cpu-warp-exchange).
  }];
  let arguments = (ins StrAttr:$kind, AnyType:$value, Optional<I32>:$lane);
  let results = (outs AnyType:$result);
  let assemblyFormat = "$kind $value (`,` $lane^)? attr-dict `:` type($value) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Allocation
//===----------------------------------------------------------------------===//

class Tl_AllocOp<string mnemonic, string scope> : Tl_Op<mnemonic> {
  let summary = "allocate a statically shaped " # scope # " buffer";
  let results = (outs Res<Tl_StaticBuffer, "", [MemAlloc]>:$result);
  let assemblyFormat = "attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Tl_AllocSharedOp : Tl_AllocOp<"alloc_shared", "shared">;
def Tl_AllocFragmentOp : Tl_AllocOp<"alloc_fragment", "fragment">;
def Tl_AllocLocalOp : Tl_AllocOp<"alloc_local", "local"> {
  let description = [{
    With `init`, every element starts as that value in every thread, from
    the start of the kernel (whatever role the thread runs later): how the
    pipeline passes keep a running iteration count per thread.
  }];
  let arguments = (ins OptionalAttr<TypedAttrInterface>:$init);
  let builders = [
    OpBuilder<(ins "::mlir::Type":$type), [{
      build($_builder, $_state, type, ::mlir::TypedAttr());
    }]>
  ];
}
def Tl_AllocTmemOp : Tl_AllocOp<"alloc_tmem", "tmem">;

//===----------------------------------------------------------------------===//
// Barriers
//===----------------------------------------------------------------------===//

def Tl_AllocBarrierOp : Tl_Op<"alloc_barrier"> {
  let summary = "allocate and initialise an array of mbarriers";
  let description = [{
    ```mlir
    %bar = tl.alloc_barrier arrive_count(128) : !tl.barrier<2>
    ```
    The number of barriers is the type's `N`.
  }];
  let arguments = (ins I64Attr:$arrive_count);
  let results = (outs Res<Tl_BarrierType, "", [MemAlloc]>:$result);
  let assemblyFormat = "`arrive_count` `(` $arrive_count `)` attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Tl_BarrierArriveOp : Tl_Op<"barrier_arrive"> {
  let summary = "arrive on one mbarrier";
  let description = [{
    Every thread that runs it arrives; with `per_warp`, each warp that runs
    it arrives once (after its lanes converge), so a barrier released by a
    whole role counts warps, not threads.
  }];
  let arguments = (ins Tl_BarrierType:$barrier, Index:$index, UnitAttr:$per_warp);
  let assemblyFormat = "$barrier `[` $index `]` attr-dict `:` qualified(type($barrier))";
  let builders = [
    OpBuilder<(ins "::mlir::Value":$barrier, "::mlir::Value":$index), [{
      build($_builder, $_state, barrier, index, false);
    }]>
  ];
  let hasVerifier = 1;
}

def Tl_BarrierExpectTxOp : Tl_Op<"barrier_expect_tx"> {
  let summary = "announce async-copy bytes on one mbarrier";
  let description = [{
    With `arrive`, the announcing thread also arrives (one instruction,
    mbarrier.arrive.expect_tx).
  }];
  let arguments = (ins Tl_BarrierType:$barrier, Index:$index, Index:$bytes, UnitAttr:$arrive);
  let builders = [
    OpBuilder<(ins "::mlir::Value":$barrier, "::mlir::Value":$index, "::mlir::Value":$bytes), [{
      build($_builder, $_state, barrier, index, bytes, false);
    }]>
  ];
  let assemblyFormat =
      "$barrier `[` $index `]` `,` $bytes attr-dict `:` qualified(type($barrier))";
  let hasVerifier = 1;
}

def Tl_BarrierWaitOp : Tl_Op<"barrier_wait"> {
  let summary = "wait for the phase of one mbarrier with a parity";
  let arguments = (ins Tl_BarrierType:$barrier, Index:$index, Index:$parity);
  let assemblyFormat =
      "$barrier `[` $index `]` `,` $parity attr-dict `:` qualified(type($barrier))";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Tile operations
//===----------------------------------------------------------------------===//

def Tl_CopyOp : Tl_Op<"copy", [AttrSizedOperandSegments]> {
  let summary = "copy a region of one buffer to a region of another";
  let description = [{
    ```mlir
    tl.copy %A[%m, %k] [128, 64] to %As[] [128, 64]
        : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #tl.scope<shared>>
    tl.copy %A[%m, %k] [128, 64] to %As[] [128, 64] barrier(%bar[%c0])
        : memref<?x?xbf16, #tl.scope<global>> to memref<128x64xbf16, #tl.scope<shared>>, !tl.barrier<1>
    ```
    Offsets are one index per dimension, or none for the origin. Sizes are
    static; unit sizes may stand for dropped dimensions.

    A gather (`T.copy(KV[b, rows, 0:D], KV_s)`): with `rows` (a 1-D integer
    buffer in shared or global memory) and `gather_dim` = g, point i along
    dimension g of the source region reads source row `rows[i]` (its offset
    in that dimension is ignored); the region's size in g is the length of
    `rows`. `rows` may also be a global int32 tensor with one offset per
    dimension: row i is then rows[o0, ..., o_last + i] (a slice along its
    last dimension; an entry past the tensor is -1). A row outside the
    source tensor reads zeros, like any guarded global read. Only global ->
    shared copies gather; a gather whose rows are in global memory can be
    asynchronous (tl-pipeline streams it with cp.async, completing on a
    barrier).
    ```mlir
    tl.copy %KV[%b, %c0, %c0] [1, 64, 512] to %KVs[] [64, 512] rows(%rows[] : memref<64xi32, #tl.scope<shared>>) {gather_dim = 1 : i64}
        : memref<?x?x512xbf16, #tl.scope<global>> to memref<64x512xbf16, #tl.scope<shared>>
    ```
  }];
  let arguments = (ins
    Arg<Tl_Buffer, "", [MemRead]>:$src, Variadic<Index>:$srcOffsets,
    DenseI64ArrayAttr:$src_sizes,
    Arg<Tl_Buffer, "", [MemWrite]>:$dst, Variadic<Index>:$dstOffsets,
    DenseI64ArrayAttr:$dst_sizes,
    Optional<Tl_BarrierType>:$barrier, Optional<Index>:$barrierIndex,
    // Set by tl-pipeline on asynchronous copies that TMA performs: the index
    // of the copy's tensor map among the kernel's (`tl.tma_maps`).
    OptionalAttr<I64Attr>:$tma,
    // A gather: the source rows of dimension gather_dim (see above), read
    // from `rows` at rowsOffsets (none for a 1-D buffer) plus i in its last
    // dimension.
    Arg<Optional<Tl_Buffer>, "", [MemRead]>:$rows, Variadic<Index>:$rowsOffsets,
    OptionalAttr<I64Attr>:$gather_dim);
  let builders = [
    // A copy without a tensor map (the front end's and most passes').
    OpBuilder<(ins "::mlir::Value":$src, "::mlir::ValueRange":$srcOffsets,
                   "::llvm::ArrayRef<int64_t>":$srcSizes, "::mlir::Value":$dst,
                   "::mlir::ValueRange":$dstOffsets, "::llvm::ArrayRef<int64_t>":$dstSizes,
                   "::mlir::Value":$barrier, "::mlir::Value":$barrierIndex,
                   CArg<"::mlir::Value", "{}">:$rows, CArg<"int64_t", "-1">:$gatherDim,
                   CArg<"::mlir::ValueRange", "{}">:$rowsOffsets), [{
      build($_builder, $_state, src, srcOffsets, srcSizes, dst, dstOffsets, dstSizes, barrier,
            barrierIndex, ::mlir::IntegerAttr(), rows, rowsOffsets,
            gatherDim < 0 ? ::mlir::IntegerAttr() : $_builder.getI64IntegerAttr(gatherDim));
    }]>
  ];
  let assemblyFormat = [{
    $src `[` $srcOffsets `]` $src_sizes `to` $dst `[` $dstOffsets `]` $dst_sizes
    (`barrier` `(` $barrier^ `[` $barrierIndex `]` `)`)?
    (`rows` `(` $rows^ `[` $rowsOffsets `]` `:` type($rows) `)`)?
    attr-dict `:` type($src) `to` type($dst) (`,` qualified(type($barrier))^)?
  }];
  let hasVerifier = 1;
}

def Tl_ConvertLayoutOp : Tl_Op<"convert_layout"> {
  let summary = "copy a register buffer into a buffer of another layout";
  let description = [{
    ```mlir
    tl.convert_layout %s to %t : memref<128xf32, #frag> to memref<128xf32, #frag1>
    ```
    Inserted by tl-infer-layouts where a buffer's producer and consumer need
    different layouts. Both buffers hold the same elements; the GPU lowering
    moves them through shared memory (or registers where only the register
    slots differ).
  }];
  let arguments = (ins Arg<Tl_StaticBuffer, "", [MemRead]>:$src,
                       Arg<Tl_StaticBuffer, "", [MemWrite]>:$dst);
  let assemblyFormat = "$src `to` $dst attr-dict `:` type($src) `to` type($dst)";
  let hasVerifier = 1;
}

def Tl_FillOp : Tl_Op<"fill", [
    TypesMatchWith<"value type is the element type of dst", "dst", "value",
                   "::llvm::cast<::mlir::MemRefType>($_self).getElementType()">]> {
  let summary = "fill a buffer with a scalar (T.fill, T.clear)";
  let arguments = (ins Arg<Tl_Buffer, "", [MemWrite]>:$dst, Tl_ElementType:$value);
  let assemblyFormat = "$dst `,` $value attr-dict `:` type($dst)";
  let hasVerifier = 1;
}

def Tl_GemmOp : Tl_Op<"gemm", [AttrSizedOperandSegments]> {
  let summary = "tile matrix multiply-accumulate, optionally block-scaled";
  let description = [{
    ```mlir
    tl.gemm %A, %B, %C {transpose_b, clear_accum} : memref<..>, memref<..>, memref<..>
    tl.gemm %A, %B, %C policy = full_row scale_a(%SA) scale_b(%SB) scale_block(32)
        : memref<..>, memref<..>, memref<..>, memref<..>, memref<..>
    ```
    `C (+)= op(A) @ op(B)`; see docs/dialect.md for the block-scaled form.
  }];
  let arguments = (ins
    Arg<Tl_StaticBuffer, "", [MemRead]>:$a,
    Arg<Tl_StaticBuffer, "", [MemRead]>:$b,
    Arg<Tl_StaticBuffer, "", [MemRead, MemWrite]>:$c,
    Arg<Optional<Tl_StaticBuffer>, "", [MemRead]>:$scaleA,
    Arg<Optional<Tl_StaticBuffer>, "", [MemRead]>:$scaleB,
    UnitAttr:$transpose_a, UnitAttr:$transpose_b, UnitAttr:$clear_accum,
    DefaultValuedAttr<Tl_GemmPolicy, "::mlir::tl::GemmPolicy::Square">:$policy,
    OptionalAttr<I64Attr>:$scale_block,
    // Issue and commit the MMAs without waiting: a later tl.mma_wait does.
    UnitAttr:$async);
  let assemblyFormat = [{
    $a `,` $b `,` $c (`policy` `=` $policy^)?
    (`scale_a` `(` $scaleA^ `)`)? (`scale_b` `(` $scaleB^ `)`)?
    (`scale_block` `(` $scale_block^ `)`)?
    attr-dict `:` type($a) `,` type($b) `,` type($c)
    (`,` type($scaleA)^)? (`,` type($scaleB)^)?
  }];
  let hasVerifier = 1;
}

def Tl_MmaWaitOp : Tl_Op<"mma_wait", [AttrSizedOperandSegments]> {
  let summary = "wait until at most `pending` asynchronous MMA groups of this thread are in flight";
  let description = [{
    ```mlir
    tl.mma_wait pending(1) %acc : memref<128x128xf32, #frag>
    tl.mma_wait pending(0) barrier(%mma[%c0], %parity : !tl.barrier<1>)
    ```
    Pairs with `tl.gemm {async}` (each one commits a group). The listed
    accumulators are not read or written by anything between their MMAs
    and this wait.

    With a barrier (tcgen05, sm_100a, where MMAs are issued by one thread
    and tracked by mbarriers): the first thread of the threads running it
    commits every MMA and tensor-memory copy it has issued to
    `barrier[index]` (one arrival when they complete), and every thread
    waits for that barrier's phase of parity `parity`; `pending` is 0.
  }];
  let arguments = (ins I64Attr:$pending, Variadic<Tl_StaticBuffer>:$accumulators,
                       Optional<Tl_BarrierType>:$barrier, Optional<Index>:$barrierIndex,
                       Optional<Index>:$parity);
  let assemblyFormat = [{
    `pending` `(` $pending `)` $accumulators
    (`barrier` `(` $barrier^ `[` $barrierIndex `]` `,` $parity `:` qualified(type($barrier)) `)`)?
    attr-dict (`:` type($accumulators)^)?
  }];
  let builders = [
    // The register form (wgmma): wait for groups, no barrier.
    OpBuilder<(ins "::mlir::IntegerAttr":$pending, "::mlir::ValueRange":$accumulators), [{
      build($_builder, $_state, pending, accumulators, ::mlir::Value(), ::mlir::Value(),
            ::mlir::Value());
    }]>
  ];
  let hasVerifier = 1;
}

def Tl_MmaCommitOp : Tl_Op<"mma_commit"> {
  let summary = "one arrival on an mbarrier when the MMAs issued so far complete (tcgen05.commit)";
  let description = [{
    ```mlir
    tl.mma_commit %empty[%stage] : !tl.barrier<3>
    ```
    The first thread of the threads running it (the one that issues their
    tcgen05 MMAs and tensor-memory copies) makes `barrier[index]` receive
    one arrival once every such operation it has issued so far is complete:
    how a pipeline stage read by MMAs goes back to its producer.
  }];
  let arguments = (ins Tl_BarrierType:$barrier, Index:$index);
  let assemblyFormat = "$barrier `[` $index `]` attr-dict `:` qualified(type($barrier))";
  let hasVerifier = 1;
}

def Tl_ReduceOp : Tl_Op<"reduce"> {
  let summary = "reduce a buffer along one dimension";
  let description = [{
    ```mlir
    tl.reduce max %src, %dst dim(1) {clear} : memref<64x128xf32, ..>, memref<64xf32, ..>
    ```
    Without `clear` the result is combined with dst's previous contents.
  }];
  let arguments = (ins Tl_ReduceKind:$kind,
                       Arg<Tl_StaticBuffer, "", [MemRead]>:$src,
                       Arg<Tl_StaticBuffer, "", [MemRead, MemWrite]>:$dst,
                       I64Attr:$dim, UnitAttr:$clear);
  let assemblyFormat = [{
    $kind $src `,` $dst `dim` `(` $dim `)` attr-dict `:` type($src) `,` type($dst)
  }];
  let hasVerifier = 1;
}

def Tl_TopKOp : Tl_Op<"topk"> {
  let summary = "top-k values and indices along one dimension of a 2-D buffer";
  let arguments = (ins Arg<Tl_StaticBuffer, "", [MemRead]>:$src,
                       Arg<Tl_StaticBuffer, "", [MemWrite]>:$values,
                       Arg<Tl_StaticBuffer, "", [MemWrite]>:$indices,
                       I64Attr:$k, I64Attr:$dim);
  let assemblyFormat = [{
    $src `,` $values `,` $indices `k` `(` $k `)` `dim` `(` $dim `)` attr-dict
    `:` type($src) `,` type($values) `,` type($indices)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

def Tl_ViewOp : Tl_Op<"view", [Pure]> {
  let summary = "a sub-buffer of an on-chip buffer (a stage of a ring, a tile of a tile)";
  let description = [{
    ```mlir
    %s = tl.view %ring[%stage, %c0, %c0] [1, 128, 64]
        : memref<3x128x64xbf16, #smem> to memref<128x64xbf16, #smem1>
    ```
    The box of `sizes` elements at `offsets` (one index per source
    dimension) of a shared or register buffer, as a buffer of the box's
    shape with unit dimensions dropped (all of them, or some: `T.gemm`'s
    `acc[0:1, :]` keeps its row). Element `c` of the view is element
    `offsets + c` of the source (dropped dimensions at their offset).

    Layouts: when the box is a restriction of the source's layout (its
    elements are the source's lowest offsets, moved by whole units of the
    layout: a stage of a ring, a chunk of a swizzled tile's columns, whole
    8-row groups of a one-chunk tile) the view has that restricted layout.
    A view of a laid-out shared buffer whose box is not (a K-slice inside a
    swizzle atom, rows of a tile of several chunks) has no layout of its
    own: it is addressed through its source (`getViewKeptDims`,
    `restrictViewLayout` in TlDialect.h).
  }];
  let arguments = (ins Tl_StaticBuffer:$src, Variadic<Index>:$offsets,
                       DenseI64ArrayAttr:$sizes);
  let results = (outs Tl_StaticBuffer:$result);
  let assemblyFormat = [{
    $src `[` $offsets `]` $sizes attr-dict `:` type($src) `to` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The source dimensions the result keeps, in order.
    ::llvm::SmallVector<unsigned> getKeptDims();
  }];
}

def Tl_ReshapeOp : Tl_Op<"reshape", [Pure]> {
  let summary = "the same on-chip elements or bytes as a buffer of another shape (T.reshape, T.view)";
  let description = [{
    ```mlir
    %r = tl.reshape %s : memref<64x128xbf16, #smem> to memref<128x64xbf16, #smem>
    %b = tl.reshape %s : memref<64x128xbf16, #smem> to memref<64x64xf32, #smem>
    ```
    A whole on-chip buffer seen with another shape: element `i` in
    row-major order is element `i` of the source. With another element type
    (`T.view(buf, shape, dtype)`, shared and local buffers only) the result
    aliases the source's bytes. The total size in bits is unchanged.
  }];
  let arguments = (ins Tl_StaticBuffer:$src);
  let results = (outs Tl_StaticBuffer:$result);
  let assemblyFormat = "$src attr-dict `:` type($src) `to` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Thread-level forms (after tl-distribute-parallel)
//===----------------------------------------------------------------------===//

def Tl_SlotLoadOp : Tl_Op<"slot_load", [
    TypesMatchWith<"result is the buffer's element type", "buffer", "result",
                   "::llvm::cast<::mlir::MemRefType>($_self).getElementType()">]> {
  let summary = "read one register slot of this thread's part of a register buffer";
  let description = [{
    ```mlir
    %v = tl.slot_load %acc[%c5] : memref<128x128xf32, #frag>
    ```
    Slot `s` of a thread holds the element its buffer's layout maps
    (register s, this lane, this warp) to.
  }];
  let arguments = (ins Arg<Tl_StaticBuffer, "", [MemRead]>:$buffer, Index:$slot);
  let results = (outs Tl_ElementType:$result);
  let assemblyFormat = "$buffer `[` $slot `]` attr-dict `:` type($buffer)";
  let builders = [
    OpBuilder<(ins "::mlir::Value":$buffer, "::mlir::Value":$slot), [{
      build($_builder, $_state,
            ::llvm::cast<::mlir::MemRefType>(buffer.getType()).getElementType(), buffer, slot);
    }]>
  ];
  let hasVerifier = 1;
}

def Tl_SlotStoreOp : Tl_Op<"slot_store", [
    TypesMatchWith<"value is the buffer's element type", "buffer", "value",
                   "::llvm::cast<::mlir::MemRefType>($_self).getElementType()">]> {
  let summary = "write one register slot of this thread's part of a register buffer";
  let arguments = (ins Tl_ElementType:$value, Arg<Tl_StaticBuffer, "", [MemWrite]>:$buffer,
                       Index:$slot);
  let assemblyFormat = "$value `,` $buffer `[` $slot `]` attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Warp specialisation
//===----------------------------------------------------------------------===//

def Tl_WarpSpecializeOp : Tl_Op<"warp_specialize", [RecursiveMemoryEffects]> {
  let summary = "the block's threads split into roles, each running its own region";
  let description = [{
    ```mlir
    tl.warp_specialize roles [256, 128] regs [232, 40] {
      // threads 0..255: the consumers
    }, {
      // threads 256..383: the producer
    }
    ```
    Region `i` runs on `roles[i]` consecutive threads, after those of the
    regions before it (warpgroup multiples where registers are set). With
    `regs` the role's registers per thread are set to that count
    (setmaxnreg) when it starts; 0 leaves them. Set by tl-warp-specialize;
    the launch's thread count is the sum.
  }];
  let arguments = (ins DenseI64ArrayAttr:$roles, DenseI64ArrayAttr:$regs);
  let regions = (region VariadicRegion<SizedRegion<1>>:$bodies);
  let assemblyFormat = "`roles` $roles `regs` $regs $bodies attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The first thread of role `i`.
    int64_t getRoleBegin(unsigned i) {
      int64_t b = 0;
      for (unsigned j = 0; j < i; ++j)
        b += getRoles()[j];
      return b;
    }
  }];
}

//===----------------------------------------------------------------------===//
// Scalars
//===----------------------------------------------------------------------===//

def Tl_CastOp : Tl_Op<"cast", [Pure]> {
  let summary = "dtype conversion with the .tl rounding rules";
  let description = [{
    ```mlir
    %q = tl.cast %x : f32 to f8E4M3FN
    %v = tl.cast %w : vector<4xf32> to vector<4xbf16>
    ```
  }];
  let arguments = (ins Tl_ScalarOrVector:$in);
  let results = (outs Tl_ScalarOrVector:$out);
  let assemblyFormat = "$in attr-dict `:` type($in) `to` type($out)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tl_BytePermOp : Tl_Op<"byte_perm", [Pure]> {
  let summary = "four bytes picked from the eight of two words";
  let description = [{
    Byte `n` of the result is byte `(sel >> 4n) & 7` of the 64-bit value
    `b:a` (`a` holds bytes 0..3, `b` bytes 4..7); the selector's other bits
    are ignored. A register lookup table of eight bytes (T.byte_perm): PTX
    `prmt.b32` with its selector masked to `0x7777` on the GPUs, shifts and
    masks on the CPU.

    ```mlir
    %r = tl.byte_perm %a, %b, %sel : i32
    ```
  }];
  let arguments = (ins I32:$a, I32:$b, I32:$sel);
  let results = (outs I32:$out);
  let assemblyFormat = "$a `,` $b `,` $sel attr-dict `:` type($out)";
}

def Tl_AtomicAddOp : Tl_Op<"atomic_add"> {
  let summary = "atomic add of a scalar or a 2/4-lane vector";
  let description = [{
    ```mlir
    tl.atomic_add %C[%i, %j], %v : memref<?x?xf32, #tl.scope<global>>, f32
    %old = tl.atomic_add %C[%i, %j], %v {return_prev}
        : memref<?x?xf32, #tl.scope<global>>, vector<2xf32> -> vector<2xf32>
    ```
  }];
  let arguments = (ins Arg<Tl_Buffer, "", [MemRead, MemWrite]>:$dst,
                       Variadic<Index>:$indices, Tl_ScalarOrVector:$value,
                       UnitAttr:$return_prev);
  let results = (outs Optional<Tl_ScalarOrVector>:$prev);
  let assemblyFormat = [{
    $dst `[` $indices `]` `,` $value attr-dict `:` type($dst) `,` type($value)
    (`->` type($prev)^)?
  }];
  let builders = [
    // The result (the previous value) exists exactly when returnPrev is set.
    OpBuilder<(ins "::mlir::Value":$dst, "::mlir::ValueRange":$indices,
                   "::mlir::Value":$value, "bool":$returnPrev), [{
      build($_builder, $_state, returnPrev ? value.getType() : ::mlir::Type(),
            dst, indices, value, returnPrev);
    }]>
  ];
  let hasVerifier = 1;
}

def Tl_PrintOp : Tl_Op<"print"> {
  let summary = "device-side debug print of a message and an optional value";
  let arguments = (ins StrAttr:$message,
                       Optional<AnyTypeOf<[Tl_ElementType, Index, Tl_Buffer]>>:$value);
  let assemblyFormat = "$message ($value^ `:` type($value))? attr-dict";
}

def Tl_TrapOp : Tl_Op<"trap"> {
  let summary = "report a failed run-time check with index values and stop the kernel";
  let description = [{
    Prints `message` with each `{}` replaced by the next of `values` in
    decimal (the GPU through device printf, the CPU on stderr) and stops:
    `trap` on the GPU (the launch fails), `abort()` on the CPU. Written by
    tl-materialize-guards for `tlc --check-bounds`:

    ```mlir
    tl.trap "kernel 'k' at k.tl:3:9: load of X at {} is out of bounds of size {}" %i, %n
    ```
    Verifier: as many `{}` as values; inside a launch.
  }];
  let arguments = (ins StrAttr:$message, Variadic<Index>:$values);
  let assemblyFormat = "$message ($values^)? attr-dict";
  let hasVerifier = 1;
}

#endif // TL_IR_TLOPS_TD
