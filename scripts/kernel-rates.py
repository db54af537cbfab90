#!/usr/bin/env python3
"""The measured kernel rates `octet tune` prices candidate recipes with, from `octet bench --profile --json` output.

    java ... bench FILE.octet --recipe R1 --recipe R2 ... --profile --json > bench.jsonl     # on the GPU
    python3 scripts/kernel-rates.py bench.jsonl > runtime/src/main/resources/dev/octet/tune/kernel-rates-h200.tsv

One row per kernel kind (the kernel's name with its shapes and sizes taken out, E5M2 written as E4M3 and a weight
gradient's column-major group scales (g128t) as g128: each pair runs at about one rate), pooled over every recipe and launch: the rate (TFLOP/s for GEMMs and attention, GB/s of
the buffers a launch touches otherwise) as total work over total time, and the mean time per launch for launches
that do no counted work. One row per kernel family too (kind `family:LABEL`), for kinds the measurement lacks: the
family's slowest measured rate (among kinds that do at least 1 GFLOP or 1 MB a launch) and longest launch, so that
a kernel nobody measured is not assumed fast.
A profile times each launch on its own; a step replayed as a CUDA graph does not wait between them, so the row
`replay:overhead` holds what a launch costs in the profile and not in the step: (profiled total − step median) /
launches, averaged over the runs.
dev.octet.tune.KernelRates.kind must name kinds exactly as kind() here does.
"""
import json
import re
import sys


def kind(name):
    name = re.sub(r"\d+x\d+", "#x#", name)
    name = re.sub(r"_([mnkp])\d+", r"_\1#", name)
    name = re.sub(r"_\d+(?=_|$)", "_#", name)
    name = re.sub(r"_t#x#_s\d+", "_t#x#_s#", name)  # a GEMM's stages follow from its shared memory
    name = re.sub(r"_g(\d+)t(?=_)", r"_g\1", name)  # group scales in either order: one rate
    name = name.replace("e5m2", "e4m3")
    # variants that differ only in the bytes they move: one rate per byte
    name = re.sub(r"^(quantize_block.*)_of_master$", r"\1", name)
    name = re.sub(r"^(quantize_.*)_column_sums$", r"\1", name)
    # one launch over several buffers: the single kernel's rate; AdamW's of its large, bandwidth-bound updates
    name = re.sub(r"^adamw_#_buffers_#_h[0-9a-f]+_(m\w+?)_(?:no_)?decay(?:_bf16_shadow)?$", r"adamw_#_\1_decay_bf16_shadow", name)
    name = re.sub(r"_#_buffers_#_h[0-9a-f]+", "_#", name)
    return re.sub(r"^(adamw_#_m\w+?_(?:no_)?decay)$", r"\1_bf16_shadow", name)


def main(paths):
    kinds, sources, overheads = {}, [], []
    for path in paths:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                run = json.loads(line)
                sources.append(f"{run['model']} {run['recipe']} {run['micro_batch']}x{run['seq_len']}")
                launches = sum(k["launches"] for k in run["profile"]["kernels"])
                overheads.append((run["profile"]["total_ms"] - run["step_ms_median"]) * 1e3 / launches)
                for k in run["profile"]["kernels"]:
                    unit = "tflops" if k.get("tflops") else "gb_per_s" if k.get("gb_per_s") else "none"
                    work = (k["tflops"] * 1e12 if unit == "tflops" else k["gb_per_s"] * 1e9 if unit == "gb_per_s" else 0) \
                        * k["ms"] / 1e3
                    row = kinds.setdefault((kind(k["kernel"]), unit), {"family": k["family"], "ms": 0.0, "launches": 0, "work": 0.0})
                    row["ms"] += k["ms"]
                    row["launches"] += k["launches"]
                    row["work"] += work
    print("# measured by octet bench --profile --json: " + "; ".join(sources))
    print("kind\tfamily\tunit\trate\tus_per_launch\tlaunches")
    def rate(row, unit):
        return row["work"] / (row["ms"] / 1e3) / (1e12 if unit == "tflops" else 1e9) if unit != "none" else 0.0

    slowest = {}
    for (key, unit), row in sorted(kinds.items()):
        print(f"{key}\t{row['family']}\t{unit}\t{rate(row, unit):.1f}\t{1e3 * row['ms'] / row['launches']:.2f}\t{row['launches']}")
        # Rates of launches that move little (a history update, a small bias) say more about launch latency than
        # about how fast a kernel streams: the fallback takes the slowest of the kinds that do real work per launch.
        big = row["work"] / row["launches"] >= (1e9 if unit == "tflops" else 1e6)
        if unit != "none" and big:
            f = slowest.setdefault((row["family"], unit), [float("inf"), 0.0, 0])
            f[0] = min(f[0], rate(row, unit))
            f[1] = max(f[1], 1e3 * row["ms"] / row["launches"])
            f[2] += row["launches"]
    for (family, unit), (r, us, n) in sorted(slowest.items()):
        print(f"family:{family}\t{family}\t{unit}\t{r:.1f}\t{us:.2f}\t{n}")
    print(f"replay:overhead\t-\tus\t0.0\t{sum(overheads) / len(overheads):.2f}\t{len(overheads)}")


if __name__ == "__main__":
    main(sys.argv[1:])
