#!/usr/bin/env python3
"""Merge tlc_attn_bench and attention baseline.py JSON lines into a markdown table (stdout).

  report.py --tlc out/attn_tlc.jsonl --baseline out/attn_baseline.jsonl [--shapes shapes.txt]

Per shape (B, H, S, D, causal): the best tlc variant (highest TFLOP/s among
those whose spot check passed; a failing one is shown only when none passed,
marked), torch SDPA's flash and cuDNN backends, the better of the two
("best torch", among checked ones) and tlc / best torch. FLOPs =
4*B*H*S*S*D, half when causal.
"""
import argparse
import json
import math
import sys


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
    return [r for r in recs if r.get("kind") == "attn"]


def key_of(r):
    k = (r.get("B"), r.get("H"), r.get("S"), r.get("D"), r.get("causal"))
    return None if None in k else (k[0], k[1], k[2], k[3], bool(k[4]))


def shape_order(path):
    """Keys in shapes.txt order (B,H,S,D,causal lines), or [] without a file."""
    keys = []
    if not path:
        return keys
    try:
        f = open(path)
    except OSError as e:
        print(f"report.py: {path}: {e.strerror}; shape order from the results", file=sys.stderr)
        return keys
    with f:
        for line in f:
            parts = [p.strip() for p in line.split("#", 1)[0].split(",")]
            if len(parts) not in (4, 5) or not all(p.isdigit() for p in parts[:4]):
                continue
            causal = len(parts) == 5 and parts[4].lower() in ("1", "true", "causal")
            keys.append(tuple(int(p) for p in parts[:4]) + (causal,))
    return keys


def timed(r):
    return r.get("ms") is not None and r.get("tflops") is not None and "error" not in r


def fmt_tf(x):
    return "-" if x is None else f"{x:.0f}" if x >= 100 else f"{x:.1f}"


def fmt_ms(r):
    return "-" if not r else "%.4f" % r["ms"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tlc", nargs="*", default=[], help="tlc_attn_bench --json files")
    p.add_argument("--baseline", nargs="*", default=[], help="attention baseline.py --json files")
    p.add_argument("--shapes", help="bench/attention/shapes.txt, for the row order")
    args = p.parse_args(argv)

    tlc = [r for r in read_jsonl(args.tlc) if r.get("impl", "tlc") == "tlc"]
    base = [r for r in read_jsonl(args.baseline) if r.get("backend") in ("flash", "cudnn")]

    devices = sorted({r.get("device") for r in tlc + base if r.get("device")})
    torch_v = sorted({r.get("torch") for r in base if r.get("torch")})
    cudnn_v = sorted({str(r.get("cudnn")) for r in base if r.get("cudnn")})
    print("### FlashAttention forward (bf16) vs torch SDPA (flash / cuDNN backends)")
    print()
    if devices:
        line = f"Device: {', '.join(devices)}"
        if torch_v:
            line += f"; torch {', '.join(torch_v)}"
        if cudnn_v:
            line += f"; cuDNN {', '.join(cudnn_v)}"
        print(line + ". TFLOP/s count 4·B·H·S²·D FLOPs, half when causal.")
        print()

    order = [k for k in shape_order(args.shapes)]
    for r in tlc + base:
        k = key_of(r)
        if k is not None and k not in order:
            order.append(k)
    present = {key_of(r) for r in tlc + base}
    order = [k for k in order if k in present]
    if not order:
        print("No results (no tlc or baseline JSON lines were read).")
        print()
        return 0

    print("| B | H | S | D | causal | tlc TFLOP/s | tlc variant | flash | cuDNN | best torch "
          "| tlc / best | tlc ms | best torch ms |")
    print("|---:|---:|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|")
    ratios, notes = [], []
    for key in order:
        B, H, S, D, causal = key
        label = f"B={B} H={H} S={S} D={D}{' causal' if causal else ''}"
        mine = [r for r in tlc if key_of(r) == key]
        ok = [r for r in mine if timed(r) and r.get("check") == "ok"]
        cand = ok or [r for r in mine if timed(r)]
        best = max(cand, key=lambda r: r["tflops"]) if cand else None
        if best:
            variant = best.get("variant", "?")
            if best.get("check") != "ok":
                variant += " (CHECK FAILED)"
        elif any(r.get("check_only") for r in mine):  # cpu manifests: checked, not timed
            r = next(r for r in mine if r.get("check_only"))
            variant = f"{r.get('variant', '?')} (check only: {r.get('check')})"
        else:
            why = next((r.get("error") or r.get("skipped") for r in mine
                        if r.get("error") or r.get("skipped")), None)
            variant = "not run" if not mine else ("error" if any("error" in r for r in mine)
                                                   else "skipped")
            if why:
                notes.append(f"{label} tlc: {why}")
        per_backend = {}
        for name in ("flash", "cudnn"):
            rs = [r for r in base if key_of(r) == key and r.get("backend") == name]
            t = [r for r in rs if timed(r)]
            per_backend[name] = max(t, key=lambda r: r["tflops"]) if t else None
            for r in rs:
                if r.get("error"):
                    notes.append(f"{label} {name}: {r['error']}")
                elif timed(r) and r.get("check") != "ok":
                    notes.append(f"{label} {name}: check failed (rel_err {r.get('rel_err')})")
        checked = [r for r in per_backend.values() if r and r.get("check") == "ok"]
        tb = max(checked, key=lambda r: r["tflops"]) if checked else None
        ratio = None
        if best and tb and tb["tflops"] > 0:
            ratio = best["tflops"] / tb["tflops"]
            ratios.append(ratio)

        def cell(r):
            if not r:
                return "-"
            return fmt_tf(r["tflops"]) + ("" if r.get("check") == "ok" else " (check failed)")

        best_cell = "-" if not tb else f"{fmt_tf(tb['tflops'])} ({tb['backend']})"
        print("| %d | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            B, H, S, D, "yes" if causal else "no", fmt_tf(best["tflops"] if best else None),
            variant, cell(per_backend["flash"]), cell(per_backend["cudnn"]), best_cell,
            "-" if ratio is None else "%.2fx" % ratio, fmt_ms(best), fmt_ms(tb)))
    print()
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"Geometric mean tlc / best torch: {geo:.2f}x over {len(ratios)} shapes.")
        print()
    for n in notes:
        print(f"- {n}")
    if notes:
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
