#!/usr/bin/env python3
"""Octet's GEMMs against cuBLAS at every problem of the headline steps, from one GPU call.

Joins the table GemmScheduleSearch writes (gemm-schedules-h200.tsv: per problem the chosen schedule and its TFLOP/s,
the rule's, and where the problem is used) with `scripts/torch-baseline.py --problems TABLE --json TORCH.jsonl` rows
(cuBLAS at the same M, N, K: FP8 tensor-wise torch._scaled_mm, or BF16 torch.matmul) and prints a Markdown table with
the ratio per problem, then per kind the geometric mean of the ratios and how many problems reach 1.0.

  python3 scripts/gemm-schedules-summary.py runs/gemm-schedules/gemm-schedules-h200.tsv runs/gemm-schedules/torch.jsonl
"""
import argparse
import json
import math
import sys


def read_table(path):
    """Rows of the schedule table: problem, schedule, tflops, rule, rule_tflops, steps."""
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cells = line.rstrip("\n").split("\t")
            if len(cells) < 7:
                raise SystemExit(f"{path}: expected 7 tab-separated columns, found {len(cells)}: {line.strip()[:120]}")
            rows.append(dict(problem=cells[0], schedule=cells[1], tflops=float(cells[2]), rule=cells[3],
                             rule_tflops=float(cells[4]), steps=cells[6]))
    return rows


def read_cublas(path):
    """problem key -> (rate in TFLOP/s or None, implementation, M, N, K) from torch-baseline's JSON rows."""
    out = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                if r.get("family") == "gemm":
                    out[r["name"]] = (r.get("rate"), r.get("impl", ""), r.get("m"), r.get("n"), r.get("k"))
    return out


def summary(table, cublas):
    lines = ["| problem | M × N × K | used in | schedule (rule) | Octet TFLOP/s (rule) | cuBLAS TFLOP/s | × cuBLAS |",
             "|---|---|---|---|---:|---:|---:|"]
    ratios = {}
    for r in table:
        kind = r["problem"].split("_", 1)[0]
        rate, impl, m, n, k = cublas.get(r["problem"], (None, "", None, None, None))
        dims = f"{m} × {n} × {k}" if m else "?"
        ratio = r["tflops"] / rate if rate else None
        if ratio is not None:
            ratios.setdefault(kind, []).append(ratio)
        schedule = r["schedule"] if r["schedule"] == r["rule"] else f"{r['schedule']} ({r['rule']})"
        octet = f"{r['tflops']:.1f}" + ("" if r["schedule"] == r["rule"] else f" ({r['rule_tflops']:.1f})")
        lines.append(f"| `{short(r['problem'])}` | {dims} | {r['steps']} | {schedule} | {octet} | "
                     + (f"{rate:.1f} ({impl.replace('torch.', '')})" if rate else "not measured") + " | "
                     + (f"{ratio:.2f}" if ratio is not None else "-") + " |")
    lines.append("")
    for kind, rs in sorted(ratios.items()):
        geo = math.exp(sum(math.log(x) for x in rs) / len(rs))
        lines.append(f"- {kind.upper()}: {len(rs)} problems, geometric mean {geo:.2f} × cuBLAS, "
                     f"{sum(1 for x in rs if x >= 1.0)} at 1.0 or more, lowest {min(rs):.2f}")
    return "\n".join(lines)


def short(problem):
    """The problem key without the template prefix: shape, operands and epilogue."""
    return problem.split("_wgmma_", 1)[-1]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("table", help="gemm-schedules-h200.tsv from GemmScheduleSearch")
    p.add_argument("cublas", help="torch-baseline.py --problems ... --json output")
    args = p.parse_args()
    print(summary(read_table(args.table), read_cublas(args.cublas)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
