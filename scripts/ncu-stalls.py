#!/usr/bin/env python3
"""Warp stall samples of one kernel by SASS opcode, from Nsight Compute's source page as CSV:

    ncu ... -o report <program>                                     # with --section SourceCounters
    ncu -i report.ncu-rep --page source --csv --print-source sass > sass.csv
    python3 scripts/ncu-stalls.py sass.csv [--min-executions N]

Prints, for the instructions executed at least N times (N separates a warp-specialised kernel's consumer warps,
whose loop instructions run once per stage in every consumer warp, from its producer warps), their share of the
kernel's stall samples and their warp-level executions by opcode, with the leading stall reasons; the same for the rest.
"""
import argparse
import collections
import csv
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--min-executions", type=int, default=100_000,
                        help="instructions executed at least this often are counted as the hot warps' (default 100000)")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    rows = list(csv.reader(open(args.csv, newline="")))
    header_at = next(i for i, r in enumerate(rows) if "Address" in r and "Source" in r)
    header = rows[header_at]
    col = {h: i for i, h in enumerate(header)}
    stalls = [h for h in header if h.startswith("stall_") and "Not Issued" not in h]
    data = [r for r in rows[header_at + 1:] if len(r) >= len(header)]

    def number(row, name):
        return int(row[col[name]] or 0)

    groups = collections.defaultdict(lambda: [0, collections.Counter(), 0])
    total = 0
    for r in data:
        samples = number(r, "Warp Stall Sampling (All Samples)")
        total += samples
        hot = number(r, "Instructions Executed") >= args.min_executions
        words = r[col["Source"]].split()
        opcode = (words[1] if words and words[0].startswith("@") and len(words) > 1 else (words[0] if words else "?")).split(".")[0]
        group = groups[("hot" if hot else "other", opcode)]
        group[0] += samples
        group[2] += number(r, "Instructions Executed")
        for s in stalls:
            group[1][s] += number(r, s)
    if total == 0:
        sys.exit("ncu-stalls: no stall samples in " + args.csv + " (was --section SourceCounters collected?)")
    hot_total = sum(v[0] for k, v in groups.items() if k[0] == "hot")
    print(f"stall samples: {total}; instructions executed >= {args.min_executions} times: {hot_total} ({100 * hot_total / total:.1f}%)")
    for (kind, opcode), (samples, reasons, executed) in sorted(groups.items(), key=lambda kv: -kv[1][0])[:args.top]:
        share_of_kind = samples / (hot_total if kind == "hot" else total - hot_total) if samples else 0
        leading = ", ".join(f"{s[6:]} {n}" for s, n in reasons.most_common(3) if n)
        print(f"{kind:5s} {opcode:10s} {samples:7d}  {100 * samples / total:5.1f}% of all  {100 * share_of_kind:5.1f}% of {kind}  {executed:>11,} executed  [{leading}]")


if __name__ == "__main__":
    main()
