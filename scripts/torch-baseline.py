#!/usr/bin/env python3
"""cuBLAS and PyTorch's SDPA at the shapes of Octet's GPU benchmarks (jmh/src/main/java/dev/octet/jmh/gpu).

GEMMs C[M,N] = A[M,K]·B[N,K]ᵀ (A row-major, B row-major [N,K], passed as the column-major [K,N] that
torch._scaled_mm wants): BF16 torch.matmul; FP8 E4M3 torch._scaled_mm with tensor-wise scales, row-wise scales,
and the 1×128 / 128×128 block-wise scales of the infir2 recipe where this PyTorch and cuBLAS support them
(otherwise the row says why). Causal attention: torch.nn.functional.scaled_dot_product_attention forward and
forward+backward, backward alone by difference. Times are CUDA-event device times, median of `--reps` runs of
`--inner` back-to-back calls. FLOPs count as in the Java benchmarks: GEMM 2·M·N·K; causal attention forward
2·B·H·S²·D, backward 2.5 times that.

  python3 scripts/torch-baseline.py [--json OUT.jsonl] [--reps 5] [--inner 20]
  python3 scripts/torch-baseline.py --only gemm --problems gemm-schedules-h200.tsv [--json OUT.jsonl]

--problems takes the GEMM problems from a table whose first column is a problem key (GemmScheduleSearch's table:
fp8_wgmma_mM_nN_kK_... or bf16_wgmma_mM_nN_kK_...) instead of the benchmarks' shapes, and times each as its
yardstick only: FP8 problems by torch._scaled_mm with tensor-wise scales, BF16 ones by torch.matmul; each row is
named by its problem key, so that a table of Octet's schedules and this one join (scripts/gemm-schedules-summary.py).
"""
import argparse
import json
import re
import statistics
import sys

import torch
import torch.nn.functional as F

TOKENS = 8192
LM_HEAD_CHUNK = 5504  # Qwen2.5-1.5B's loss chunk at 2 x 8192 tokens with the default workspace (GemmShape.Shapes)
# name -> (M, N, K); the same as GemmShape.java
GEMMS = {
    "gpt2_fc_fprop": (TOKENS, 3072, 768),
    "gpt2_fc_dgrad": (TOKENS, 768, 3072),
    "gpt2_fc_wgrad": (3072, 768, TOKENS),
    "qwen_up_fprop": (TOKENS, 8960, 1536),
    "qwen_up_dgrad": (TOKENS, 1536, 8960),
    "qwen_up_wgrad": (8960, 1536, TOKENS),
    "qwen_o_fprop_16k": (2 * TOKENS, 1536, 1536),
    "qwen_up_fprop_16k": (2 * TOKENS, 8960, 1536),
    "qwen_up_dgrad_16k": (2 * TOKENS, 1536, 8960),
    "qwen_up_wgrad_16k": (8960, 1536, 2 * TOKENS),
    "llama_up_fprop_16k": (2 * TOKENS, 8192, 2048),
    "llama_up_dgrad_16k": (2 * TOKENS, 2048, 8192),
    "llama_up_wgrad_16k": (8192, 2048, 2 * TOKENS),
    "qwen_lm_head_fprop": (LM_HEAD_CHUNK, 151936, 1536),
    "qwen_lm_head_dgrad": (LM_HEAD_CHUNK, 1536, 151936),
    "qwen_lm_head_wgrad": (151936, 1536, LM_HEAD_CHUNK),
    "square_4096": (4096, 4096, 4096),
    "square_8192": (8192, 8192, 8192),
}
# name -> (batch, seq, heads, kv_heads, head_dim); the same as AttentionShapes.java
ATTENTION = {
    "gpt2": (8, 1024, 12, 12, 64),
    "qwen": (2, 4096, 12, 2, 128),
    "qwen_8k": (2, 8192, 12, 2, 128),
    "llama_8k": (2, 8192, 32, 8, 64),
}


def device_ms(fn, reps, inner):
    """Median over reps of the device time of `inner` calls, per call, in ms."""
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(inner):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / inner)
    return statistics.median(times)


def blockwise_scales(m, n, k):
    """Candidate (scale_a, scale_b) layouts for 1×128 activations and 128×128 weights; PyTorch versions differ."""
    dev = "cuda"
    a_outer = torch.full((k // 128, m), 2.0 ** -9, device=dev).t()          # [M, K/128], M contiguous
    a_inner = torch.full((m, k // 128), 2.0 ** -9, device=dev)              # [M, K/128], K contiguous
    b_nk = torch.full((n // 128, k // 128), 2.0 ** -14, device=dev)         # [N/128, K/128]
    b_kn = b_nk.t().contiguous()                                            # [K/128, N/128]
    return [(a_outer, b_nk), (a_outer, b_kn), (a_inner, b_nk), (a_inner, b_kn), (a_outer, b_kn.t()), (a_inner, b_nk.t())]


PROBLEM = re.compile(r"^(fp8|bf16)_wgmma_m(\d+)_n(\d+)_k(\d+)_")


def problems_of(table):
    """name -> (M, N, K, 'fp8' or 'bf16') for every problem key in the first column of a GemmScheduleSearch table."""
    problems = {}
    with open(table) as f:
        for line in f:
            key = line.split("\t")[0].strip()
            m = PROBLEM.match(key)
            if m:
                problems[key] = (int(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(1))
    return problems


def gemm_rows(reps, inner, fp8_amplitude=448.0, problems=None):
    """The benchmarks' shapes with every implementation; or the given problems, each with its yardstick only."""
    rows = []
    e4m3 = torch.float8_e4m3fn
    shapes = problems or {name: (m, n, k, None) for name, (m, n, k) in GEMMS.items()}
    for name, (m, n, k, only) in shapes.items():
        flops = 2.0 * m * n * k
        a16 = torch.empty(m, k, device="cuda", dtype=torch.bfloat16).uniform_(-1, 1)
        b16 = torch.empty(n, k, device="cuda", dtype=torch.bfloat16).uniform_(-0.05, 0.05)
        if only != "fp8":
            ms = device_ms(lambda: torch.matmul(a16, b16.t()), reps, inner)
            rows.append(dict(family="gemm", name=name, m=m, n=n, k=k, impl="torch.matmul bf16", ms=ms,
                             unit="TFLOP/s", rate=flops / ms / 1e9))
        if only == "bf16":
            del a16, b16
            torch.cuda.empty_cache()
            continue
        # FP8 codes uniform over +-fp8_amplitude (by default E4M3's whole range, as amax scaling produces).
        a8 = (a16.float() * fp8_amplitude).clamp(-448, 448).to(e4m3)
        b8 = (b16.float() * fp8_amplitude / 0.05).clamp(-448, 448).to(e4m3)
        one = torch.tensor(1.0, device="cuda")
        variants = [("tensor-wise", lambda: [(one, one)])]
        if only is None:
            variants.append(("row-wise", lambda: [(torch.ones(m, 1, device="cuda"), torch.ones(1, n, device="cuda"))]))
            variants.append(("block 1x128/128x128", lambda: blockwise_scales(m, n, k)))
        for label, candidates in variants:
            err = None
            for sa, sb in candidates():
                try:
                    call = lambda: torch._scaled_mm(a8, b8.t(), scale_a=sa, scale_b=sb, out_dtype=torch.bfloat16)
                    call()
                    torch.cuda.synchronize()
                    ms = device_ms(call, reps, inner)
                    rows.append(dict(family="gemm", name=name, m=m, n=n, k=k, impl="torch._scaled_mm fp8 " + label,
                                     ms=ms, unit="TFLOP/s", rate=flops / ms / 1e9))
                    err = None
                    break
                except Exception as e:  # an unsupported scaling layout: try the next candidate
                    err = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
            if err is not None:
                rows.append(dict(family="gemm", name=name, m=m, n=n, k=k, impl="torch._scaled_mm fp8 " + label,
                                 ms=None, unit="TFLOP/s", rate=None, note="not supported: " + err))
        del a16, b16, a8, b8
        torch.cuda.empty_cache()
    return rows


def attention_rows(reps, inner):
    rows = []
    for name, (b, s, h, kvh, d) in ATTENTION.items():
        fwd_flops = 4.0 * b * h * s * s * d / 2
        q = torch.empty(b, h, s, d, device="cuda", dtype=torch.bfloat16).uniform_(-2, 2).requires_grad_()
        k = torch.empty(b, kvh, s, d, device="cuda", dtype=torch.bfloat16).uniform_(-2, 2).requires_grad_()
        v = torch.empty(b, kvh, s, d, device="cuda", dtype=torch.bfloat16).uniform_(-1, 1).requires_grad_()
        dout = torch.empty(b, h, s, d, device="cuda", dtype=torch.bfloat16).uniform_(-0.01, 0.01)
        gqa = dict(enable_gqa=True) if kvh != h else {}
        sdpa = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, **gqa)
        note = ""
        try:
            with torch.no_grad():
                fwd = device_ms(sdpa, reps, inner)

            def fwd_bwd():
                out = sdpa()
                torch.autograd.grad(out, (q, k, v), dout)

            both = device_ms(fwd_bwd, reps, inner)
        except Exception as e:
            rows.append(dict(family="attention", name=name, impl="sdpa", ms=None, unit="TFLOP/s", rate=None,
                             note="failed: " + str(e).splitlines()[0][:160]))
            continue
        shape = dict(batch=b, seq=s, heads=h, kv_heads=kvh, head_dim=d)
        rows.append(dict(family="attention", name=name, pass_="forward", impl="torch sdpa", ms=fwd,
                         unit="TFLOP/s", rate=fwd_flops / fwd / 1e9, **shape))
        bwd = both - fwd
        rows.append(dict(family="attention", name=name, pass_="backward", impl="torch sdpa (fwd+bwd − fwd)",
                         ms=bwd, unit="TFLOP/s", rate=2.5 * fwd_flops / bwd / 1e9 if bwd > 0 else None, note=note, **shape))
        del q, k, v, dout
        torch.cuda.empty_cache()
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", help="append one JSON object per row to this file")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--inner", type=int, default=20)
    p.add_argument("--only", choices=["gemm", "attention"], help="measure one family only")
    p.add_argument("--fp8-amplitude", type=float, default=448.0,
                   help="largest magnitude of the FP8 GEMM operands' values (default 448, E4M3's whole range)")
    p.add_argument("--problems", help="a GemmScheduleSearch table: time its problems, each with its yardstick only")
    args = p.parse_args()
    problems = problems_of(args.problems) if args.problems else None
    if args.problems and not problems:
        print(f"torch-baseline: no GEMM problem keys in the first column of {args.problems}")
        return 1
    if not torch.cuda.is_available():
        print("torch-baseline: no CUDA device; nothing measured")
        return 0
    print(f"# torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
    rows = ((gemm_rows(args.reps, args.inner, args.fp8_amplitude, problems) if args.only != "attention" else [])
            + (attention_rows(args.reps, args.inner) if args.only != "gemm" else []))
    print(f"| {'shape':16} | {'M,N,K / B,S,H,KV,D':22} | {'implementation':36} | {'us':>10} | {'rate':>14} |")
    print(f"|{'-' * 18}|{'-' * 24}|{'-' * 38}|{'-' * 12}|{'-' * 16}|")
    for r in rows:
        dims = (f"{r['m']},{r['n']},{r['k']}" if r["family"] == "gemm"
                else f"{r.get('batch')},{r.get('seq')},{r.get('heads')},{r.get('kv_heads')},{r.get('head_dim')}")
        name = r["name"] + (" " + r["pass_"] if "pass_" in r else "")
        us = f"{r['ms'] * 1e3:10.1f}" if r["ms"] is not None else f"{'-':>10}"
        rate = f"{r['rate']:8.1f} {r['unit']}" if r["rate"] is not None else r.get("note", "-")[:60]
        print(f"| {name:16} | {dims:22} | {r['impl']:36} | {us} | {rate:>14} |")
    if args.json:
        with open(args.json, "a") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
