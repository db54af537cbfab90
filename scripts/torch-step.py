#!/usr/bin/env python3
"""One PyTorch training step of an example model, timed as `octet bench` times Octet's: the yardstick of the headline.

The model is transformers' own (GPT2LMHeadModel, Qwen2ForCausalLM) built from the example's configuration with random
weights, FP32 master weights, autocast BF16, scaled_dot_product_attention, the loss transformers computes from the
labels, gradient clipping at 1.0 and fused AdamW, optionally under torch.compile; seeded random tokens. Each step is
forward + backward + clip + optimizer step + zero_grad at the example's micro-batch, timed with CUDA events; the median
of --steps steps after --warmup (compilation happens in the warm-up and is timed on its own). Peak memory is
torch.cuda.max_memory_reserved, what the caching allocator held from the device, and the device memory the
process holds at the end (the allocator keeps what it reserved). No FLOP count here: the summary
(scripts/headline-summary.py) divides Octet's count for the same model and tokens by this step time.

  python3 scripts/torch-step.py --model qwen2.5-1.5b [--compile] [--batch 2 --seq 8192] [--json OUT.jsonl]
"""
import argparse
import json
import statistics
import sys
import time

import torch

# name -> (configuration, micro-batch, sequence length): the examples' shapes (examples/*.octet); GPT-2's vocabulary
# padded to 50,304 as Octet pads it.
MODELS = {
    "gpt2-124m": (dict(kind="gpt2", vocab=50304, dim=768, ffn=3072, heads=12, kv_heads=12, layers=12, max_seq=1024),
                  32, 1024),
    "qwen2.5-1.5b": (dict(kind="qwen2", vocab=151936, dim=1536, ffn=8960, heads=12, kv_heads=2, layers=28,
                          max_seq=32768), 2, 8192),
}


def build(spec):
    import transformers
    if spec["kind"] == "gpt2":
        config = transformers.GPT2Config(vocab_size=spec["vocab"], n_embd=spec["dim"], n_inner=spec["ffn"],
                                         n_head=spec["heads"], n_layer=spec["layers"], n_positions=spec["max_seq"],
                                         resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    else:
        config = transformers.Qwen2Config(vocab_size=spec["vocab"], hidden_size=spec["dim"],
                                          intermediate_size=spec["ffn"], num_attention_heads=spec["heads"],
                                          num_key_value_heads=spec["kv_heads"], num_hidden_layers=spec["layers"],
                                          max_position_embeddings=spec["max_seq"], rope_theta=1e6, rms_norm_eps=1e-6,
                                          tie_word_embeddings=True)
    return transformers.AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=sorted(MODELS), required=True)
    p.add_argument("--batch", type=int, help="sequences per step (default: the example's micro-batch)")
    p.add_argument("--seq", type=int, help="tokens per sequence (default: the example's)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--json", help="append one JSON object to this file")
    a = p.parse_args()
    spec, batch, seq = MODELS[a.model]
    batch, seq = a.batch or batch, a.seq or seq
    torch.manual_seed(1)
    torch.backends.cuda.matmul.allow_tf32 = True
    dev = torch.device("cuda")
    row = {"model": a.model, "framework": "pytorch", "mode": "torch.compile" if a.compile else "eager",
           "torch": torch.__version__, "device": torch.cuda.get_device_name(0), "micro_batch": batch, "seq_len": seq,
           "tokens_per_step": batch * seq}
    try:
        import transformers
        row["transformers"] = transformers.__version__
        model = build(spec).to(dev)
        model.train()
        step_model = torch.compile(model) if a.compile else model
        opt = torch.optim.AdamW(model.parameters(), lr=2e-5, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1,
                                fused=True)
        tokens = torch.randint(0, spec["vocab"], (batch, seq), device=dev)

        def step():
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = step_model(input_ids=tokens, labels=tokens).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss

        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(a.warmup):
            step()
        torch.cuda.synchronize()
        row["warmup_s"] = time.perf_counter() - t0
        torch.cuda.reset_peak_memory_stats()
        times = []
        for _ in range(a.steps):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            loss = step()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        row["loss"] = loss.item()
    except torch.cuda.OutOfMemoryError as e:
        row["error"] = "out of device memory: " + str(e).splitlines()[0]
        emit(row, a.json)
        return 1
    median = statistics.median(times)
    row.update(step_ms=times, step_ms_median=median, step_ms_min=min(times), step_ms_max=max(times),
               tokens_per_s=batch * seq / (median / 1e3),
               peak_reserved_bytes=torch.cuda.max_memory_reserved(),
               peak_allocated_bytes=torch.cuda.max_memory_allocated())
    # What the process holds on the device (the CUDA context, cuBLAS's workspaces and the allocator's cache, which
    # keeps its peak): comparable with octet bench's device_used_peak_bytes.
    free, total = torch.cuda.mem_get_info()
    row["device_used_bytes"] = total - free
    emit(row, a.json)
    return 0


def emit(row, path):
    """The row on stdout, and appended to `path` (JSON lines) when one is given."""
    print(json.dumps(row))
    if path:
        with open(path, "a") as out:
            out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    sys.exit(main())
