#!/usr/bin/env python3
"""The tables of docs/results.md ("Recipe ablation") from the runs scripts/ablation-remote writes.

    python3 scripts/ablation-summary.py runs/ablation [--smooth 200]

Per continued-pre-training run (RUNS/cpt/RECIPE): the smoothed final loss (mean of the logged losses over the
last --smooth steps), the held-out loss at the end, both as a gap to BF16's in percent, the median tokens/s of the
logged steps, and FP8 health at the last measurement (worst operand SNR, largest saturated and flushed
fractions). Per SFT run (RUNS/sft/arith-RECIPE): exact match on the held-out problems, GPU decoding.
"""
import argparse
import json
import os
import statistics


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def cpt_row(run):
    metrics = lines(os.path.join(run, "metrics.jsonl"))
    steps = [m for m in metrics if "loss" in m and "step" in m]
    last = steps[-1]["step"]
    return {
        "tail": [m["loss"] for m in steps if m["step"] > last - ARGS.smooth],
        "eval": [m["eval_loss"] for m in metrics if "eval_loss" in m],
        "tokens_per_s": statistics.median(m["tokens_per_s"] for m in steps if m.get("tokens_per_s")),
        "health": health(os.path.join(run, "fp8_health.jsonl")),
    }


def health(path):
    if not os.path.exists(path):
        return None
    measured = lines(path)
    if not measured:
        return None
    tensors = measured[-1]["tensors"]
    finite = [t["snr_db"] for t in tensors if t["snr_db"] is not None and t["snr_db"] == t["snr_db"]]
    return {
        "step": measured[-1]["step"],
        "worst_snr": min(finite) if finite else float("nan"),
        "saturated": max(t["saturated"] for t in tensors),
        "flushed": max(t["flushed"] for t in tensors),
        "worst": min(tensors, key=lambda t: t["snr_db"] if t["snr_db"] == t["snr_db"] else 1e9),
    }


def main():
    runs = ARGS.runs
    cpt = os.path.join(runs, "cpt")
    if os.path.isdir(cpt):
        rows = {r: cpt_row(os.path.join(cpt, r)) for r in sorted(os.listdir(cpt))
                if os.path.isfile(os.path.join(cpt, r, "metrics.jsonl"))}
        ref = rows.get("bf16")
        print(f"| recipe | loss, mean of the last {ARGS.smooth} steps | gap to BF16 | held-out loss | gap to BF16 "
              "| tokens/s | FP8 health at the end: worst SNR dB, most saturated, most flushed |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for name in sorted(rows, key=lambda r: (r != "bf16", r)):
            row = rows[name]
            loss = statistics.fmean(row["tail"])
            held = row["eval"][-1]
            gap = lambda a, b: "" if ref is None or name == "bf16" else f"{100 * (a / b - 1):+.2f}%"
            h = row["health"]
            hs = "" if h is None else (f"{h['worst_snr']:.1f} ({h['worst']['tensor']}), "
                                       f"{100 * h['saturated']:.3f}%, {100 * h['flushed']:.2f}%")
            ref_loss = statistics.fmean(ref["tail"]) if ref else 0
            print(f"| {name} | {loss:.4f} | {gap(loss, ref_loss)} | {held:.4f} | "
                  f"{gap(held, ref['eval'][-1]) if ref else ''} | {row['tokens_per_s']:,.0f} | {hs} |")
    sft = os.path.join(runs, "sft")
    if os.path.isdir(sft):
        print()
        print("| recipe | exact match, held-out (GPU decoding) | points against BF16 | final training loss |")
        print("|---|---:|---:|---:|")
        results = {}
        for d in sorted(os.listdir(sft)):
            path = os.path.join(sft, d, "eval-gpu.json")
            if d.startswith("arith-") and os.path.isfile(path):
                with open(path) as f:
                    e = json.load(f)
                m = lines(os.path.join(sft, d, "metrics.jsonl"))
                results[d[len("arith-"):]] = (e["correct"], e["conversations"], [x["loss"] for x in m if "loss" in x][-1])
        ref = results.get("bf16")
        for name in sorted(results, key=lambda r: (r != "bf16", r)):
            c, n, loss = results[name]
            diff = "" if ref is None or name == "bf16" else f"{100 * (c / n - ref[0] / ref[1]):+.1f}"
            print(f"| {name} | {c} / {n} = {100 * c / n:.1f}% | {diff} | {loss:.4f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs")
    parser.add_argument("--smooth", type=int, default=200, help="steps the final loss is averaged over (default 200)")
    ARGS = parser.parse_args()
    main()
