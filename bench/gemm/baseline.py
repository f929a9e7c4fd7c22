#!/usr/bin/env python3
"""Vendor baselines for bench/gemm, measured with the same method as tlc_gemm_bench.

  bf16: torch.matmul(A, B.t())                       (cuBLAS / cuBLASLt)
  fp8 : torch.nn.functional.scaled_mm with ScalingType.BlockWise1x128 (A) and
        BlockWise128x128 (B), bf16 output            (cuBLASLt blockwise, CUDA >= 12.9);
        falls back to torch._scaled_mm with the same blockwise scale tensors.

Layouts (what torch's blockwise checks require): A [M, K] e4m3 row-major; the
second operand is B.t() for B [N, K] row-major (so column-major [K, N]); scale_a
[M, ceil(K/128)] f32 outer-dim-major (stride (1, M): sa.t().contiguous().t());
scale_b = SB.t() for SB [ceil(N/128), ceil(K/128)] f32 row-major.

Method: random inputs (never zeros) rotated over enough sets that the working
set exceeds 2x the L2; warm-up; then many calls, each between two CUDA events
and preceded by torch.cuda._sleep so the host's call overhead is hidden (as
tlc_gemm_bench's spin kernel does); the median. Each shape is also checked
against a float32 reference of the dequantised inputs (first 64 rows).

Output: one JSON line per shape and kind:
  {impl, kind, M, N, K, ms, min_ms, tflops, api, timer, rel_err, check, device, torch}
or {..., "error": "..."} when a kind/shape could not run. Importable without torch.
"""
import argparse
import json
import math
import sys
import time


def parse_shapes(text):
    shapes = []
    items = []
    for line in text.splitlines():
        items += line.split("#", 1)[0].split(";")
    for raw in items:
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.replace("x", ",").split(",")]
        if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise ValueError(f"bad shape {raw.strip()!r} (expected M,N,K)")
        shapes.append(tuple(int(p) for p in parts))
    return shapes


def _median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def time_calls(torch, fns, warmup_ms, rep_ms, max_reps=5000):
    """fns: one callable per input set (rotated). Returns (median_ms, min_ms, reps, timer)."""
    cuda = torch.cuda
    it = 0
    fns[0]()
    cuda.synchronize()
    # Host cost of one call.
    t0 = time.perf_counter()
    for _ in range(8):
        fns[it % len(fns)]()
        it += 1
    host_us = (time.perf_counter() - t0) * 1e6 / 8
    cuda.synchronize()
    e0, e1 = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    est = 0.0
    w0 = time.perf_counter()
    while True:
        e0.record()
        for _ in range(10):
            fns[it % len(fns)]()
            it += 1
        e1.record()
        e1.synchronize()
        est = e0.elapsed_time(e1) / 10
        if (time.perf_counter() - w0) * 1e3 >= warmup_ms:
            break
    have_sleep = hasattr(cuda, "_sleep")
    spin_ms = min(max(2 * (host_us + 10) * 1e-3, 0.02), 1.0) if have_sleep else 0.0
    # _sleep counts clock cycles; assume <= 2 GHz so the spin is at least spin_ms.
    cycles = int(spin_ms * 1e-3 * 2.0e9)
    reps = int(rep_ms / max(est + spin_ms, 1e-4))
    reps = max(10, min(reps, max_reps))
    starts = [cuda.Event(enable_timing=True) for _ in range(reps)]
    ends = [cuda.Event(enable_timing=True) for _ in range(reps)]
    for i in range(reps):
        if have_sleep:
            cuda._sleep(cycles)
        starts[i].record()
        fns[it % len(fns)]()
        it += 1
        ends[i].record()
    cuda.synchronize()
    times = [s.elapsed_time(e) for s, e in zip(starts, ends)]
    timer = "cuda events, per call, after torch.cuda._sleep" if have_sleep else "cuda events, per call"
    return _median(times), min(times), reps, timer


def rel_err(torch, got, ref):
    got = got.float()
    if not torch.isfinite(got).all():
        return float("inf")
    den = torch.linalg.vector_norm(ref).item()
    return torch.linalg.vector_norm(got - ref).item() / (den if den > 0 else 1.0)


def n_sets(per_set_bytes, l2_bytes, max_sets=256):
    return max(1, min(max_sets, int(2 * l2_bytes // max(per_set_bytes, 1)) + 1))


def random_e4m3(torch, shape, gen):
    codes = torch.randint(0, 256, shape, dtype=torch.uint8, device="cuda", generator=gen)
    mag = codes & 0x7F
    bad = (mag == 0) | (mag == 0x7F)  # zeros and NaN
    codes = torch.where(bad, codes ^ 0x38, codes)  # 0x38 = 1.0: finite, non-zero
    return codes.view(torch.float8_e4m3fn)


def bench_bf16(torch, M, N, K, args, l2, gen):
    per = (M * K + N * K + M * N) * 2
    sets = []
    for _ in range(n_sets(per, l2)):
        A = torch.rand(M, K, device="cuda", dtype=torch.float32, generator=gen).mul_(2).sub_(1)
        B = torch.rand(N, K, device="cuda", dtype=torch.float32, generator=gen).mul_(2).sub_(1)
        sets.append((A.to(torch.bfloat16), B.to(torch.bfloat16)))
    fns = [(lambda A=A, B=B: torch.matmul(A, B.t())) for A, B in sets]
    A, B = sets[0]
    r = min(M, 64)
    err = rel_err(torch, torch.matmul(A, B.t())[:r], A[:r].float() @ B.float().t())
    ms, mn, reps, timer = time_calls(torch, fns, args.warmup_ms, args.rep_ms)
    return dict(ms=ms, min_ms=mn, reps=reps, sets=len(sets), timer=timer, rel_err=err,
                api="torch.matmul(A, B.t()) (cuBLAS)")


def fp8_candidates(torch):
    F = torch.nn.functional
    out = []
    if hasattr(F, "scaled_mm") and hasattr(F, "ScalingType"):
        ST = F.ScalingType
        out.append(("torch.nn.functional.scaled_mm(BlockWise1x128, BlockWise128x128) (cuBLASLt)",
                    lambda a, bt, sa, sbt: F.scaled_mm(a, bt, sa, ST.BlockWise1x128, sbt,
                                                       ST.BlockWise128x128,
                                                       output_dtype=torch.bfloat16)))
    if hasattr(torch, "_scaled_mm"):
        out.append(("torch._scaled_mm(blockwise 1x128 / 128x128 scales) (cuBLASLt)",
                    lambda a, bt, sa, sbt: torch._scaled_mm(a, bt, scale_a=sa, scale_b=sbt,
                                                            out_dtype=torch.bfloat16)))
    return out


def bench_fp8(torch, M, N, K, args, l2, gen):
    kb, nb = -(-K // 128), -(-N // 128)
    per = M * K + N * K + M * N * 2 + (M * kb + nb * kb) * 4
    sets = []
    for _ in range(n_sets(per, l2)):
        a = random_e4m3(torch, (M, K), gen)
        b = random_e4m3(torch, (N, K), gen)
        sa = torch.rand(M, kb, device="cuda", generator=gen).mul_(1.5).add_(0.5)
        sb = torch.rand(nb, kb, device="cuda", generator=gen).mul_(1.5).add_(0.5)
        sets.append((a, b, sa.t().contiguous().t(), sb))
    errors = []
    for api, call in fp8_candidates(torch):
        try:
            a, b, sa, sb = sets[0]
            out = call(a, b.t(), sa, sb.t())
            torch.cuda.synchronize()
        except Exception as e:  # noqa: BLE001 - report why this API is unavailable
            errors.append(f"{api}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            continue
        r = min(M, 64)
        ad = a[:r].float() * sa[:r].repeat_interleave(128, dim=1)[:, :K]
        bd = b.float() * sb.repeat_interleave(128, dim=0)[:N].repeat_interleave(128, dim=1)[:, :K]
        err = rel_err(torch, out[:r], ad @ bd.t())
        del ad, bd, out
        fns = [(lambda a=a, b=b, sa=sa, sb=sb: call(a, b.t(), sa, sb.t())) for a, b, sa, sb in sets]
        ms, mn, reps, timer = time_calls(torch, fns, args.warmup_ms, args.rep_ms)
        return dict(ms=ms, min_ms=mn, reps=reps, sets=len(sets), timer=timer, rel_err=err, api=api)
    raise RuntimeError("FP8 blockwise unavailable: " + ("; ".join(errors) or "no scaled_mm API"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shapes-file", help="shapes.txt (M,N,K per line, # comments)")
    p.add_argument("--shapes", help="M,N,K[;M,N,K...]")
    p.add_argument("--kinds", default="bf16,fp8")
    p.add_argument("--warmup-ms", type=float, default=200)
    p.add_argument("--rep-ms", type=float, default=1000)
    p.add_argument("--tolerance", type=float, default=2e-2)
    p.add_argument("--json", help="write JSON lines here (also printed)")
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args(argv)
    text = ""
    if args.shapes_file:
        with open(args.shapes_file) as f:
            text += f.read() + "\n"
    if args.shapes:
        text += args.shapes
    shapes = parse_shapes(text)
    if not shapes:
        p.error("no shapes (give --shapes-file or --shapes)")
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    for k in kinds:
        if k not in ("bf16", "fp8"):
            p.error(f"unknown kind {k!r}")

    try:
        import torch
    except ImportError as e:
        print(f"baseline.py: torch is not installed here ({e})", file=sys.stderr)
        return 1
    if not torch.cuda.is_available():
        print("baseline.py: torch sees no CUDA device", file=sys.stderr)
        return 1
    props = torch.cuda.get_device_properties(0)
    l2 = getattr(props, "L2_cache_size", 50 * 1000 * 1000) or 50 * 1000 * 1000
    gen = torch.Generator(device="cuda")
    gen.manual_seed(args.seed if args.seed is not None else int(time.time() * 1e6) % (2**62))
    common = dict(impl="torch", device=props.name, torch=torch.__version__,
                  cuda=getattr(torch.version, "cuda", None))
    out = open(args.json, "w") if args.json else None
    rc = 0
    for kind in kinds:
        for (M, N, K) in shapes:
            rec = dict(kind=kind, M=M, N=N, K=K, **common)
            try:
                fn = bench_bf16 if kind == "bf16" else bench_fp8
                res = fn(torch, M, N, K, args, l2, gen)
                res["tflops"] = 2.0 * M * N * K / (res["ms"] * 1e-3) / 1e12
                res["check"] = "ok" if res["rel_err"] <= args.tolerance else "WARN"
                rec.update(res)
            except Exception as e:  # noqa: BLE001 - one failing shape must not stop the rest
                rec["error"] = f"{type(e).__name__}: {e}"
                rec.setdefault("api", "unavailable" if kind == "fp8" else "torch.matmul")
                rc = 1
            finally:
                torch.cuda.empty_cache()
            line = json.dumps(rec)
            print(line, flush=True)
            if out:
                out.write(line + "\n")
                out.flush()
    if out:
        out.close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
