#!/usr/bin/env python3
"""One markdown table of a GPU benchmark run: JMH's score (time per launch, host and device) and the device
time and rate each trial printed in its teardown (metrics.jsonl), next to PyTorch's figure at the same shape
(torch.jsonl from scripts/torch-baseline.py). Used by scripts/gpu-bench-remote; any input may be missing."""
import argparse
import json
import os


def read_jsonl(path):
    rows = []
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass
    return rows


def key(benchmark, params):
    return (benchmark, tuple(sorted(params.items())))


def torch_rates(torch_rows, family, name, impls, pass_=None):
    found = []
    for impl in impls:
        for r in torch_rows:
            if (r.get("family") == family and r.get("name") == name and r.get("impl") == impl
                    and r.get("pass_") == pass_ and r.get("rate") is not None):
                found.append(f"{r['rate']:.0f} ({impl.replace('torch._scaled_mm fp8 ', '').replace('torch ', '')})")
    return ", ".join(found) if found else "-"


def baseline(benchmark, params, torch_rows):
    cls = benchmark.split(".")[-2]
    if cls == "Fp8GemmBenchmark":
        impls = (["torch._scaled_mm fp8 tensor-wise"] if params.get("recipe") == "tensor"
                 else ["torch._scaled_mm fp8 block 1x128/128x128", "torch._scaled_mm fp8 row-wise"])
        return torch_rates(torch_rows, "gemm", params.get("shape"), impls)
    if cls == "Bf16GemmBenchmark":
        return torch_rates(torch_rows, "gemm", params.get("shape"), ["torch.matmul bf16"])
    if cls == "FlashAttentionForwardBenchmark":
        return torch_rates(torch_rows, "attention", params.get("shape"), ["torch sdpa"], "forward")
    if cls == "FlashAttentionBackwardBenchmark":
        return torch_rates(torch_rows, "attention", params.get("shape"), ["torch sdpa (fwd+bwd − fwd)"], "backward")
    return "-"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jmh")
    p.add_argument("--metrics")
    p.add_argument("--torch")
    p.add_argument("--header", help="a log whose first lines (date, commit, device) head the table")
    a = p.parse_args()

    jmh = {}
    if a.jmh and os.path.exists(a.jmh) and os.path.getsize(a.jmh) > 0:
        with open(a.jmh) as f:
            for r in json.load(f):
                m = r["primaryMetric"]
                jmh[key(r["benchmark"], r.get("params", {}))] = (m["score"], m.get("scoreError"), m["scoreUnit"])
    metrics = read_jsonl(a.metrics)
    torch_rows = read_jsonl(a.torch)

    print("# GPU benchmarks\n")
    if a.header and os.path.exists(a.header):
        with open(a.header) as f:
            head = [next(f, "").strip() for _ in range(3)]
        for line in head:
            if line:
                print(f"- {line}")
        print()
    print("Octet: JMH score = time per launch, host and device (mean of 3 × 1 s, ± 99.9% error); device = CUDA-event")
    print("time per launch over the same iterations. Rates: TFLOP/s (GEMM 2·M·N·K; causal attention forward")
    print("2·B·H·S²·D, backward 2.5×) or GB/s (least traffic). PyTorch: CUDA-event median, same FLOP counts.\n")
    print("| benchmark | parameters | JMH µs/launch | device µs/launch | Octet rate | PyTorch rate | kernels |")
    print("|---|---|---:|---:|---:|---:|---|")
    seen = set()
    for m in metrics:
        k = key(m["benchmark"], m["params"])
        seen.add(k)
        score = jmh.get(k)
        jmh_cell = "-" if score is None else (f"{score[0]:.1f}" + (f" ± {score[1]:.1f}" if score[1] == score[1] and score[1] else ""))
        params = " ".join(f"{p}={v}" for p, v in m["params"].items())
        name = m["benchmark"].split(".")[-2]
        print(f"| {name} | {params} | {jmh_cell} | {m['device_us']:.1f} | {m['rate']:.1f} {m['unit']} "
              f"| {baseline(m['benchmark'], m['params'], torch_rows)} | `{m['kernels']}` |")
    for k, score in jmh.items():  # JMH results without a teardown line (should not happen)
        if k not in seen:
            print(f"| {k[0].split('.')[-2]} | {' '.join(f'{p}={v}' for p, v in k[1])} | {score[0]:.1f} | - | - | - | |")
    if torch_rows:
        print("\n## PyTorch baseline (all rows)\n")
        print("| shape | implementation | µs | rate |")
        print("|---|---|---:|---:|")
        for r in torch_rows:
            name = r["name"] + (" " + r["pass_"] if r.get("pass_") else "")
            us = f"{r['ms'] * 1e3:.1f}" if r.get("ms") is not None else "-"
            rate = f"{r['rate']:.1f} {r['unit']}" if r.get("rate") is not None else r.get("note", "-")
            print(f"| {name} | {r['impl']} | {us} | {rate} |")


if __name__ == "__main__":
    main()
