#!/usr/bin/env python3
"""Tables and chart of the headline study (scripts/headline-remote) from its JSON lines.

Reads RUNS/octet-MODEL.jsonl (`octet bench --json`, one object per recipe) and RUNS/torch.jsonl
(scripts/torch-step.py, one object per model and mode) and prints, per model, one markdown table of every step in
the call (median step time, tokens/s, model TFLOP/s counted as Octet counts them, device memory), the ratios the
targets are stated in, and the profile of Octet's BF16 and FP8 steps by kernel family. With --svg, a bar chart of
tokens/s per model, drawn in the colours and fonts of `octet report`'s charts.

  python3 scripts/headline-summary.py runs/headline [--svg headline.svg]
  python3 scripts/headline-summary.py runs/new --kernels 'column_|tiled_rows' --against runs/old --recipe infir2

With --kernels REGEX, instead: per model, the profile's kernels whose names match (ms a step and launches), with
--against the same kernels of an earlier run beside them and the totals of both: how a change moved in the step.
"""
import argparse
import json
import os
import sys

GIB = 1024 ** 3
MODELS = {"qwen2.5-1.5b": "Qwen2.5-1.5B, 2 × 8192 tokens", "gpt2-124m": "GPT-2 124M, 32 × 1024 tokens"}
FP8_RECIPE = "infir2"  # the recipe the targets are stated for
# The palette of octet report's charts (JFreeChart's default series colours).
PALETTE = ["rgb(31,119,180)", "rgb(255,127,14)", "rgb(44,160,44)", "rgb(214,39,40)", "rgb(148,103,189)",
           "rgb(140,86,75)", "rgb(227,119,194)", "rgb(127,127,127)"]


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip().startswith("{")]


def steps_of(runs, model):
    """One dict per step measured for the model: label, ms, tokens/s, TFLOP/s, device bytes, and the source row."""
    octet = read_lines(os.path.join(runs, f"octet-{model}.jsonl"))
    torch_rows = [r for r in read_lines(os.path.join(runs, "torch.jsonl")) if r["model"] == model]
    flops = octet[0]["flops_per_step"] if octet else None
    rows = []
    for r in octet:
        rows.append(dict(label=f"Octet {r['recipe']}", kind="octet", recipe=r["recipe"], ms=r["step_ms_median"],
                         spread=(r["step_ms_min"], r["step_ms_max"]), tokens_per_s=r["tokens_per_s"],
                         tflops=r["model_tflops"], device_bytes=r["device_used_peak_bytes"], src=r))
    for r in torch_rows:
        label = "PyTorch " + r["mode"]
        if "error" in r:
            rows.append(dict(label=label, kind="torch", error=r["error"], src=r))
            continue
        rows.append(dict(label=label, kind="torch", ms=r["step_ms_median"], spread=(r["step_ms_min"], r["step_ms_max"]),
                         tokens_per_s=r["tokens_per_s"],
                         tflops=flops / (r["step_ms_median"] / 1e3) / 1e12 if flops else None,
                         device_bytes=r["device_used_bytes"], src=r))
    return rows


def by_label(rows, label):
    return next((r for r in rows if r["label"] == label and "error" not in r), None)


def best_pytorch(rows):
    """The faster of the PyTorch steps that ran, or None: what the targets compare Octet against."""
    ran = [r for r in rows if r["kind"] == "torch" and "error" not in r]
    return max(ran, key=lambda r: r["tokens_per_s"]) if ran else None


def table(model, rows):
    out = [f"**{MODELS[model]}**", "",
           "| step | median ms (min-max) | tokens/s | model TFLOP/s | device GiB | × Octet BF16 | × best PyTorch |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    bf16 = by_label(rows, "Octet bf16")
    best_torch = best_pytorch(rows)
    for r in rows:
        if "error" in r:
            # PyTorch's out-of-memory message runs to a paragraph: its first two sentences say what failed.
            out.append(f"| {r['label']} | {'. '.join(r['error'].split('. ')[:2]).rstrip('.')} | | | | | |")
            continue
        vs_bf16 = f"{r['tokens_per_s'] / bf16['tokens_per_s']:.2f}" if bf16 and r is not bf16 else ""
        vs_torch = f"{r['tokens_per_s'] / best_torch['tokens_per_s']:.2f}" if best_torch else ""
        tflops = f"{r['tflops']:.1f}" if r["tflops"] is not None else ""
        out.append(f"| {r['label']} | {r['ms']:.1f} ({r['spread'][0]:.1f}-{r['spread'][1]:.1f}) | "
                   f"{r['tokens_per_s']:,.0f} | {tflops} | {r['device_bytes'] / GIB:.1f} | {vs_bf16} | {vs_torch} |")
    out.append("")
    return out


def targets(model, rows):
    fp8, bf16 = by_label(rows, f"Octet {FP8_RECIPE}"), by_label(rows, "Octet bf16")
    compiled = by_label(rows, "PyTorch torch.compile")
    best_torch = best_pytorch(rows)
    fp8_mem = min((r for r in rows if r["kind"] == "octet" and r["recipe"] != "bf16"),
                  key=lambda r: r["device_bytes"], default=None)
    out = []

    def check(name, value, goal, met):
        out.append(f"- {name}: {value} (target {goal}) — {'met' if met else 'not met'}")

    if model == "qwen2.5-1.5b" and fp8 and bf16:
        ratio = fp8["tokens_per_s"] / bf16["tokens_per_s"]
        check(f"Octet {FP8_RECIPE} / Octet bf16 tokens/s", f"{ratio:.2f}", "≥ 1.30", ratio >= 1.30)
        if best_torch:
            ratio = fp8["tokens_per_s"] / best_torch["tokens_per_s"]
            check(f"Octet {FP8_RECIPE} / {best_torch['label']} tokens/s", f"{ratio:.2f}", "≥ 1.6", ratio >= 1.6)
        if fp8_mem:
            ratio = fp8_mem["device_bytes"] / bf16["device_bytes"]
            check(f"least FP8 device memory ({fp8_mem['label']}) / Octet bf16", f"{ratio:.2f}", "≤ 0.80", ratio <= 0.80)
            if compiled:
                check(f"{fp8_mem['label']} device memory against torch.compile's",
                      f"{fp8_mem['device_bytes'] / GIB:.1f} against {compiled['device_bytes'] / GIB:.1f} GiB", "below",
                      fp8_mem["device_bytes"] < compiled["device_bytes"])
    if model == "gpt2-124m" and fp8 and compiled:
        ratio = fp8["tokens_per_s"] / compiled["tokens_per_s"]
        check(f"Octet {FP8_RECIPE} / torch.compile tokens/s", f"{ratio:.2f}", "≥ 1.35", ratio >= 1.35)
    return out + [""] if out else []


def profile(model, rows):
    steps = [r for r in rows if r["kind"] == "octet" and r["recipe"] in ("bf16", FP8_RECIPE) and "profile" in r["src"]]
    if not steps:
        return []
    families = []
    for r in steps:
        for f in r["src"]["profile"]["families"]:
            if f["family"] not in families:
                families.append(f["family"])
    head = "| family | " + " | ".join(f"{r['recipe']} ms (share, rate)" for r in steps) + " |"
    out = [f"Where the step goes ({MODELS[model]}, `--profile`: one step launch by launch):", "", head,
           "|---|" + "---:|" * len(steps)]
    for fam in families:
        cells = []
        for r in steps:
            f = next((x for x in r["src"]["profile"]["families"] if x["family"] == fam), None)
            if f is None:
                cells.append("")
                continue
            rate = f"{f['tflops']:.0f} TFLOP/s" if "tflops" in f else f"{f['gb_per_s']:,.0f} GB/s"
            cells.append(f"{f['ms']:.1f} ({100 * f['share']:.1f}%, {rate})")
        out.append(f"| {fam} | " + " | ".join(cells) + " |")
    out.append("| total | " + " | ".join(f"{r['src']['profile']['total_ms']:.1f}" for r in steps) + " |")
    return out + [""]


def device_of(runs):
    """The GPU's name, from the first line of the run's machine.txt (nvidia-smi's name, driver)."""
    try:
        with open(os.path.join(runs, "machine.txt")) as f:
            return f.readline().split(",")[0].strip() or "GPU"
    except OSError:
        return "GPU"


def svg(all_rows, device):
    """Horizontal bars of tokens/s, one panel per model, values printed at the bars' ends."""
    width, bar, gap, left, right = 900, 22, 6, 220, 120
    parts, y = [], 40
    title = ("<text x='{x}' y='24' style='fill: rgb(0,0,0); font-family: sans-serif; font-size: 20px; "
             "font-weight: bold;' text-anchor='middle'>Training step throughput, one {device} (tokens/s)</text>")
    parts.append(title.format(x=width / 2, device=device))
    for model, rows in all_rows.items():
        ok = [r for r in rows if "error" not in r]
        if not ok:
            continue
        y += 16
        parts.append(f"<text x='10' y='{y}' style='fill: rgb(0,0,0); font-family: sans-serif; font-size: 14px; "
                     f"font-weight: bold;'>{MODELS[model]}</text>")
        y += 10
        top = max(r["tokens_per_s"] for r in ok)
        for i, r in enumerate(ok):
            length = (width - left - right) * r["tokens_per_s"] / top
            colour = PALETTE[i % len(PALETTE)] if r["kind"] == "octet" else PALETTE[7]
            parts.append(f"<text x='{left - 8}' y='{y + bar * 0.7:.1f}' style='fill: rgb(64,64,64); font-family: "
                         f"sans-serif; font-size: 12px;' text-anchor='end'>{r['label']}</text>")
            parts.append(f"<rect x='{left}' y='{y}' width='{length:.1f}' height='{bar}' style='fill:{colour}'/>")
            parts.append(f"<text x='{left + length + 6:.1f}' y='{y + bar * 0.7:.1f}' style='fill: rgb(64,64,64); "
                         f"font-family: sans-serif; font-size: 12px;'>{r['tokens_per_s']:,.0f}</text>")
            y += bar + gap
        y += 14
    height = y + 10
    return (f"<?xml version='1.0'?>\n<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>"
            f"<rect x='0' y='0' width='{width}' height='{height}' style='fill:rgb(255,255,255)'/>"
            + "".join(parts) + "</svg>\n")


def kernel_rows(runs, model, recipe):
    """{kernel: (ms a step, launches)} of the profile of Octet's step for the recipe, or {} without one."""
    run = next((r for r in read_lines(os.path.join(runs, f"octet-{model}.jsonl")) if r["recipe"] == recipe), None)
    return {k["kernel"]: (k["ms"], k["launches"]) for k in run["profile"]["kernels"]} if run else {}


def kernels(runs, against, recipe, pattern):
    """Markdown: per model, the matching kernels of this run (and of the earlier one) and their totals."""
    import re
    lines = []
    for model in MODELS:
        now = {k: v for k, v in kernel_rows(runs, model, recipe).items() if re.search(pattern, k)}
        before = {k: v for k, v in kernel_rows(against, model, recipe).items() if re.search(pattern, k)} if against else {}
        if not now and not before:
            continue
        lines += [f"**{MODELS[model]}, {recipe}: kernels matching `{pattern}`**", "",
                  "| kernel | " + ("before ms (launches) | " if against else "") + "ms (launches) |",
                  "|---|" + ("---:|" if against else "") + "---:|"]
        for k in sorted(set(now) | set(before)):
            cell = lambda d: f"{d[k][0]:.2f} ({d[k][1]})" if k in d else "—"
            lines.append(f"| {k} | " + (cell(before) + " | " if against else "") + cell(now) + " |")
        total = lambda d: f"{sum(v[0] for v in d.values()):.2f}"
        lines += ["| total | " + (total(before) + " | " if against else "") + total(now) + " |", ""]
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", help="the folder scripts/headline-remote wrote")
    p.add_argument("--svg", help="write the throughput chart here")
    p.add_argument("--kernels", metavar="REGEX", help="list the profile's kernels whose names match instead")
    p.add_argument("--against", metavar="RUNS", help="with --kernels: an earlier run's folder, beside")
    p.add_argument("--recipe", default=FP8_RECIPE, help="with --kernels: whose step (default %(default)s)")
    a = p.parse_args()
    if a.kernels:
        print("\n".join(kernels(a.runs, a.against, a.recipe, a.kernels)))
        return 0
    all_rows = {m: steps_of(a.runs, m) for m in MODELS}
    all_rows = {m: rows for m, rows in all_rows.items() if rows}
    if not all_rows:
        print(f"headline-summary: no octet-*.jsonl or torch.jsonl in {a.runs}", file=sys.stderr)
        return 1
    lines = []
    for model, rows in all_rows.items():
        lines += table(model, rows) + targets(model, rows) + profile(model, rows)
    print("\n".join(lines))
    if a.svg:
        with open(a.svg, "w") as f:
            f.write(svg(all_rows, device_of(a.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
