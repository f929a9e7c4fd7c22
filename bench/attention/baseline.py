#!/usr/bin/env python3
"""torch scaled_dot_product_attention baselines for bench/attention (flash and cuDNN backends).

  baseline.py --shapes "B,H,S,D,causal;..." | --shapes-file shapes.txt
              [--warmup-ms 200] [--rep-ms 1000] [--json out.jsonl]

For every shape, torch.nn.functional.scaled_dot_product_attention runs once per
backend, each forced with torch.nn.attention.sdpa_kernel:
  flash: SDPBackend.FLASH_ATTENTION  (torch's bundled FlashAttention)
  cudnn: SDPBackend.CUDNN_ATTENTION  (cuDNN's fused attention)
A backend that cannot run a shape (torch raises, usually with warnings saying
why) is recorded with the reason and skipped.

Same layout and work as tlc_attn_bench: Q, K, V are allocated [B, S, H, D]
bf16 (uniform in [-1, 1]) and passed as .transpose(1, 2) views ([B, H, S, D]
with strides of the [B, S, H, D] storage), so both sides read the same bytes;
scale 1/sqrt(D); is_causal for causal shapes (S_q = S_k, so top-left and
bottom-right alignment agree). FLOPs = 4*B*H*S*S*D, half when causal.

Method (the GEMM baseline's, whose timing code this imports from
bench/gemm/baseline.py): random inputs rotated over enough sets that the
working set exceeds 2x the L2; warm-up; many calls, each between two CUDA
events after torch.cuda._sleep (hides the host's call overhead, as
tlc_attn_bench's spin kernel does); the median. Each backend's output is
checked on the first 64 query rows of head 0, batch 0, against a float32
softmax(q k^T * scale) v of the same bf16 inputs.

Output: one JSON line per shape and backend:
  {impl: "torch", kind: "attn", backend, api, B, H, HK, S, D, causal, ms,
   min_ms, tflops, reps, sets, timer, rel_err, check, device, torch, cuda}
or {..., "error": "..."}; then per shape one line with backend "best" (the
faster backend whose check passed, named in "best_of"), which report.py may
use or recompute. Importable without torch.
"""
import argparse
import importlib.util
import json
import math
import os
import sys
import time
import warnings

BACKENDS = (("flash", "FLASH_ATTENTION"), ("cudnn", "CUDNN_ATTENTION"))


class BackendUnavailable(Exception):
    """The forced SDPA backend refused the shape; the message says why."""


def _gemm_baseline():
    """bench/gemm/baseline.py as a module (its time_calls and n_sets)."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "gemm", "baseline.py")
    spec = importlib.util.spec_from_file_location("tlc_gemm_baseline", path)
    if spec is None or not os.path.exists(path):
        raise ImportError(f"{path} not found (the attention baseline times with its code)")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def parse_bool(text):
    t = text.strip().lower()
    if t in ("1", "true", "causal"):
        return True
    if t in ("0", "false"):
        return False
    raise ValueError(f"causal must be 0, 1, true or false, got {text!r}")


def parse_shapes(text):
    """'B,H,S,D,causal' items separated by ';' or newlines, '#' comments."""
    shapes = []
    items = []
    for line in text.splitlines():
        items += line.split("#", 1)[0].split(";")
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        parts = [p.strip() for p in item.split(",")]
        if len(parts) not in (4, 5) or not all(p.isdigit() and int(p) > 0 for p in parts[:4]):
            raise ValueError(f"bad shape {item!r} (expected B,H,S,D,causal)")
        causal = parse_bool(parts[4]) if len(parts) == 5 else False
        shapes.append(tuple(int(p) for p in parts[:4]) + (causal,))
    return shapes


def attn_flops(B, H, S, D, causal):
    return 4.0 * B * H * S * S * D * (0.5 if causal else 1.0)


def reference_rows(torch, q, k, v, causal, scale, rows):
    """float32 attention of the first `rows` queries of batch 0, head 0 ([rows, D])."""
    qs = q[0, :rows, 0, :].float()
    ks = k[0, :, 0, :].float()
    vs = v[0, :, 0, :].float()
    s = (qs @ ks.t()) * scale
    if causal:
        S = ks.shape[0]
        i = torch.arange(rows, device=s.device).unsqueeze(1)
        j = torch.arange(S, device=s.device).unsqueeze(0)
        s = s.masked_fill(j > i, float("-inf"))
    return torch.softmax(s, dim=-1) @ vs


def bench_backend(torch, gb, backend_enum, shape, args, l2, gen):
    B, H, S, D, causal = shape
    F = torch.nn.functional
    from torch.nn.attention import sdpa_kernel

    scale = 1.0 / math.sqrt(D)
    per = 4 * B * S * H * D * 2  # q, k, v, out
    sets = []
    for _ in range(gb.n_sets(per, l2)):
        qkv = []
        for _ in range(3):
            x = torch.rand(B, S, H, D, device="cuda", dtype=torch.float32, generator=gen)
            qkv.append(x.mul_(2).sub_(1).to(torch.bfloat16))
        sets.append(tuple(qkv))

    def call(q, k, v):
        return F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                              v.transpose(1, 2), is_causal=causal, scale=scale)

    with sdpa_kernel(backend_enum):
        q, k, v = sets[0]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                out = call(q, k, v)
                torch.cuda.synchronize()
            except Exception as e:  # noqa: BLE001 - the backend cannot run this shape
                why = [f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"]
                why += [str(w.message).splitlines()[0] for w in caught]
                raise BackendUnavailable("; ".join(why)) from None
        rows = min(S, 64)
        got = out.transpose(1, 2)[0, :rows, 0, :]  # back to [B, S, H, D] indexing
        err = gb.rel_err(torch, got, reference_rows(torch, q, k, v, causal, scale, rows))
        del out, got
        fns = [(lambda q=q, k=k, v=v: call(q, k, v)) for q, k, v in sets]
        ms, mn, reps, timer = gb.time_calls(torch, fns, args.warmup_ms, args.rep_ms)
    return dict(ms=ms, min_ms=mn, reps=reps, sets=len(sets), timer=timer, rel_err=err)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shapes-file", help="shapes.txt (B,H,S,D,causal per line, # comments)")
    p.add_argument("--shapes", help="B,H,S,D,causal[;B,H,S,D,causal...]")
    p.add_argument("--backends", default="flash,cudnn", help="comma-separated: flash, cudnn")
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
    try:
        shapes = parse_shapes(text)
    except ValueError as e:
        p.error(str(e))
    if not shapes:
        p.error("no shapes (give --shapes-file or --shapes)")
    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in wanted:
        if b not in dict(BACKENDS):
            p.error(f"unknown backend {b!r} (flash, cudnn)")

    try:
        import torch
        from torch.nn.attention import SDPBackend
    except ImportError as e:
        print(f"baseline.py: torch (with torch.nn.attention) is not installed here ({e})",
              file=sys.stderr)
        return 1
    if not torch.cuda.is_available():
        print("baseline.py: torch sees no CUDA device", file=sys.stderr)
        return 1
    gb = _gemm_baseline()
    props = torch.cuda.get_device_properties(0)
    l2 = getattr(props, "L2_cache_size", 50 * 1000 * 1000) or 50 * 1000 * 1000
    gen = torch.Generator(device="cuda")
    gen.manual_seed(args.seed if args.seed is not None else int(time.time() * 1e6) % (2**62))
    cudnn_v = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    common = dict(impl="torch", kind="attn", device=props.name, torch=torch.__version__,
                  cuda=getattr(torch.version, "cuda", None), cudnn=cudnn_v)
    out = open(args.json, "w") if args.json else None

    def emit(rec):
        line = json.dumps(rec)
        print(line, flush=True)
        if out:
            out.write(line + "\n")
            out.flush()

    rc = 0
    summary = []
    for shape in shapes:
        B, H, S, D, causal = shape
        recs = []
        for name, enum_name in BACKENDS:
            if name not in wanted:
                continue
            api = f"torch.nn.functional.scaled_dot_product_attention (SDPBackend.{enum_name})"
            rec = dict(backend=name, api=api, B=B, H=H, HK=H, S=S, D=D, causal=causal, **common)
            try:
                res = bench_backend(torch, gb, getattr(SDPBackend, enum_name), shape, args, l2, gen)
                res["flops"] = attn_flops(B, H, S, D, causal)
                res["tflops"] = res["flops"] / (res["ms"] * 1e-3) / 1e12
                res["check"] = "ok" if res["rel_err"] <= args.tolerance else "WARN"
                rec.update(res)
            except Exception as e:  # noqa: BLE001 - one failing backend must not stop the rest
                rec["error"] = str(e) if isinstance(e, BackendUnavailable) \
                    else f"{type(e).__name__}: {e}"
            finally:
                torch.cuda.empty_cache()
            emit(rec)
            recs.append(rec)
        ok = [r for r in recs if "tflops" in r and r.get("check") == "ok"]
        best = max(ok, key=lambda r: r["tflops"]) if ok else None
        if best:
            emit(dict(best, backend="best", best_of=best["backend"]))
            summary.append(f"B={B} H={H} S={S} D={D} causal={int(causal)}: best {best['backend']} "
                           f"{best['tflops']:.0f} TFLOP/s ({best['ms']:.4f} ms)")
        else:
            rc = 1
            summary.append(f"B={B} H={H} S={S} D={D} causal={int(causal)}: no backend ran "
                           "and passed its check")
    if out:
        out.close()
    for line in summary:
        print("# " + line)
    return rc


if __name__ == "__main__":
    sys.exit(main())
