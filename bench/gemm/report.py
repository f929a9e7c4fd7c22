#!/usr/bin/env python3
"""Merge tlc_gemm_bench and baseline.py JSON lines into markdown tables (stdout).

  report.py --tlc out/tlc_*.jsonl --baseline out/baseline.jsonl [--shapes shapes.txt]

Per kind and shape: the best tlc variant (highest TFLOP/s among those whose spot
check passed; a failing one is shown only when none passed, marked), the vendor
baseline, and tlc / vendor. Targets (issue 3): bf16 >= 0.9x cuBLAS; FP8
block-scaled >= 1.0x cuBLASLt (aim: 1.3x).
"""
import argparse
import json
import math
import re
import sys

TARGET = {"bf16": 0.9, "fp8": 1.0}
TITLE = {"bf16": "BF16 GEMM vs cuBLAS (`torch.matmul`)",
         "fp8": "FP8 block-scaled GEMM (1x128 / 128x128 scales) vs cuBLASLt"}


def read_jsonl(paths):
    recs = []
    for path in paths:
        try:
            f = open(path)
        except OSError as e:
            print(f"report.py: {path}: {e.strerror}; skipped", file=sys.stderr)
            continue
        with f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    recs.append(json.loads(line))
                except json.JSONDecodeError as e:
                    print(f"report.py: {path}:{n}: bad JSON ({e}); line skipped", file=sys.stderr)
    return recs


def shape_names(path):
    """(N, K) -> projection name from shapes.txt comments like '# attn wq_a (...): N=1024 K=4096'."""
    names = {}
    if not path:
        return names
    with open(path) as f:
        for line in f:
            m = re.match(r"#\s*(.*?):\s*N=(\d+)\s+K=(\d+)", line.strip())
            if m:
                names[(int(m.group(2)), int(m.group(3)))] = m.group(1).split(" (")[0]
    return names


def timed(r):
    return r.get("ms") is not None and r.get("tflops") is not None and "error" not in r


def fmt_tf(x):
    return "-" if x is None else f"{x:.0f}" if x >= 100 else f"{x:.1f}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tlc", nargs="*", default=[], help="tlc_gemm_bench --json files")
    p.add_argument("--baseline", nargs="*", default=[], help="baseline.py --json files")
    p.add_argument("--shapes", help="shapes.txt, to name the projections")
    args = p.parse_args(argv)

    tlc = read_jsonl(args.tlc)
    base = read_jsonl(args.baseline)
    names = shape_names(args.shapes)

    devices = sorted({r.get("device") for r in tlc + base if r.get("device")})
    apis = sorted({(r["kind"], r.get("api")) for r in base if r.get("api")})
    torch_v = sorted({r.get("torch") for r in base if r.get("torch")})
    if devices:
        print(f"Device: {', '.join(devices)}" + (f"; torch {', '.join(torch_v)}" if torch_v else ""))
        print()

    order = []
    for r in tlc + base:
        key = (r.get("kind"), r.get("M"), r.get("N"), r.get("K"))
        if None not in key and key not in order:
            order.append(key)

    if not order:
        print("No results (no tlc or baseline JSON lines were read).")
    for kind in ("bf16", "fp8"):
        keys = [k for k in order if k[0] == kind]
        if not keys:
            continue
        kind_apis = [a for k, a in apis if k == kind]
        print(f"### {TITLE[kind]}")
        if kind_apis:
            print(f"Baseline API: {'; '.join(kind_apis)}. Target: >= {TARGET[kind]}x.")
        print()
        print("| M | N | K | projection | tlc TFLOP/s | tlc variant | vendor TFLOP/s | ratio | tlc ms | vendor ms |")
        print("|---:|---:|---:|---|---:|---|---:|---:|---:|---:|")
        ratios = []
        notes = []
        for key in keys:
            _, M, N, K = key
            mine = [r for r in tlc if (r.get("kind"), r.get("M"), r.get("N"), r.get("K")) == key]
            ok = [r for r in mine if timed(r) and r.get("check") == "ok"]
            cand = ok or [r for r in mine if timed(r)]
            best = max(cand, key=lambda r: r["tflops"]) if cand else None
            theirs = [r for r in base if (r.get("kind"), r.get("M"), r.get("N"), r.get("K")) == key]
            bt = [r for r in theirs if timed(r)]
            vb = max(bt, key=lambda r: r["tflops"]) if bt else None
            variant = "-"
            if best:
                variant = best.get("variant", "?")
                if best.get("check") != "ok":
                    variant += " (CHECK FAILED)"
            elif mine:
                why = next((r.get("error") or r.get("skipped") for r in mine
                            if r.get("error") or r.get("skipped")), None)
                variant = "not run" if not why else ("error" if any("error" in r for r in mine) else "skipped")
                if why:
                    notes.append(f"{M}x{N}x{K} tlc: {why}")
            if not vb and theirs:
                why = next((r.get("error") for r in theirs if r.get("error")), None)
                if why:
                    notes.append(f"{M}x{N}x{K} vendor: {why}")
            ratio = None
            if best and vb and vb["tflops"] > 0:
                ratio = best["tflops"] / vb["tflops"]
                ratios.append(ratio)
            mark = "" if ratio is None or ratio >= TARGET[kind] else " (below target)"
            ratio_s = "-" if ratio is None else "%.2fx%s" % (ratio, mark)
            my_ms = "-" if not best else "%.4f" % best["ms"]
            vb_ms = "-" if not vb else "%.4f" % vb["ms"]
            print("| %d | %d | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                M, N, K, names.get((N, K), ""), fmt_tf(best["tflops"] if best else None),
                variant, fmt_tf(vb["tflops"] if vb else None), ratio_s, my_ms, vb_ms))
        print()
        if ratios:
            geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
            below = sum(1 for r in ratios if r < TARGET[kind])
            print(f"Geometric mean ratio {geo:.2f}x over {len(ratios)} shapes; "
                  f"{below} below the {TARGET[kind]}x target.")
            print()
        for n in notes:
            print(f"- {n}")
        if notes:
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
