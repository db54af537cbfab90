#!/usr/bin/env python3
"""Checks Octet's Hugging Face import and export against transformers itself (run on the GPU machine, CPU is enough).

    python3 scripts/hf-check.py make WORK      # tiny random Qwen2 (F32), tied Llama (BF16) and Llama 3-scaled RoPE (F32) checkpoints, saved by
                                               # transformers, token ids, and transformers' logits of each
    ... Octet imports them, writes its logits, exports them again (scripts/hf-check-remote does all of it) ...
    python3 scripts/hf-check.py compare WORK   # Octet's logits vs transformers'; transformers' logits of Octet's exports

Both sides compute in float64 from the same weights; transformers computes RoPE angles in float32, which bounds
the agreement to about 1e-6. Pass: ||octet - transformers|| / ||transformers|| <= 1e-4 for every comparison with
the same weights, <= 5e-2 for the BF16 export (its weights are rounded to BF16).
"""
import json
import pathlib
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

EXACT_BOUND = 1e-4
BF16_BOUND = 5e-2
TOKENS = [[1, 17, 42, 99, 3, 255, 64, 5, 0, 88, 17, 200, 13, 7, 150, 31],
          [120, 2, 2, 2, 33, 71, 9, 14, 100, 56, 7, 254, 128, 64, 32, 16]]
COMMON = dict(vocab_size=256, hidden_size=64, intermediate_size=160, num_attention_heads=4, num_key_value_heads=2,
              num_hidden_layers=2, max_position_embeddings=128)

# transformers 5 takes RoPE settings as rope_parameters (earlier versions would ignore them and use theta 10000;
# the comparison stays valid either way, since Octet reads the config.json that transformers saved).
def rope(theta):
    return {"rope_parameters": {"rope_type": "default", "rope_theta": theta}}


# Llama 3.1/3.2's frequency-dependent scaling, with an original context small enough that the tiny model's 8
# frequencies fall in all three bands (kept, blended, divided by the factor).
def llama3_rope(theta):
    return {"rope_parameters": {"rope_type": "llama3", "rope_theta": theta, "factor": 8.0, "low_freq_factor": 1.0,
                                "high_freq_factor": 4.0, "original_max_position_embeddings": 64}}


MODELS = {
    # name: (config, class, dtype saved)
    "qwen2": (lambda: Qwen2Config(**COMMON, **rope(1e6), rms_norm_eps=1e-6, tie_word_embeddings=False),
              Qwen2ForCausalLM, torch.float32),
    "llama": (lambda: LlamaConfig(**COMMON, **rope(5e5), rms_norm_eps=1e-5, tie_word_embeddings=True),
              LlamaForCausalLM, torch.bfloat16),
    "llama3-scaled": (lambda: LlamaConfig(**COMMON, **llama3_rope(5e5), rms_norm_eps=1e-5, tie_word_embeddings=False),
                      LlamaForCausalLM, torch.float32),
}


def load(path, dtype=torch.float64):
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation="eager")
    return model.eval()


def logits_of(model):
    with torch.no_grad():
        return model(torch.tensor(TOKENS)).logits.to(torch.float64).numpy()


def make(work):
    work.mkdir(parents=True, exist_ok=True)
    (work / "tokens.txt").write_text("".join(" ".join(map(str, row)) + "\n" for row in TOKENS))
    for name, (config, cls, dtype) in MODELS.items():
        torch.manual_seed(1234)
        model = cls(config())
        # transformers initialises biases to 0 and norms to 1; random values everywhere test every tensor.
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if "norm" in pname:
                    p.copy_(1 + 0.2 * torch.randn_like(p))
                else:
                    p.copy_(0.15 * torch.randn_like(p))
        out = work / f"{name}-hf"
        model.to(dtype).save_pretrained(out)
        np.save(work / f"{name}-hf-logits.npy", logits_of(load(out)))
        saved = json.loads((out / "config.json").read_text())
        theta = saved.get("rope_theta", (saved.get("rope_parameters") or {}).get("rope_theta"))
        print(f"made {out} ({cls.__name__}, {dtype}, rope_theta {theta}), transformers {transformers.__version__}, "
              f"torch {torch.__version__}")


def relative(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def compare(work):
    failures = 0

    def check(what, got, want, bound):
        nonlocal failures
        if got.shape != want.shape:
            print(f"FAIL {what}: shape {got.shape} vs {want.shape}")
            failures += 1
            return
        err = relative(got, want)
        ok = err <= bound
        failures += 0 if ok else 1
        print(f"{'ok  ' if ok else 'FAIL'} {what}: relative error {err:.3e} (bound {bound:g})")

    for name in MODELS:
        reference = np.load(work / f"{name}-hf-logits.npy")
        octet = np.load(work / f"{name}-octet" / "logits.npy")
        check(f"{name}: Octet's import vs transformers", octet, reference, EXACT_BOUND)
        exported = load(work / f"{name}-export-f32")
        arch = json.loads((work / f"{name}-export-f32" / "config.json").read_text())["architectures"][0]
        check(f"{name}: transformers on Octet's F32 export ({arch}) vs Octet", logits_of(exported), octet, EXACT_BOUND)
        check(f"{name}: transformers on Octet's BF16 export vs Octet", logits_of(load(work / f"{name}-export-bf16")),
              octet, BF16_BOUND)
    print("hf-check: " + ("all comparisons pass" if failures == 0 else f"{failures} comparison(s) failed"))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "compare"):
        sys.exit(__doc__)
    work = pathlib.Path(sys.argv[2])
    sys.exit(make(work) if sys.argv[1] == "make" else compare(work))
