#!/usr/bin/env python3
"""A synthetic Qwen2.5-vocabulary token file for timing runs where no tokenizer or corpus is at hand (the GPU
machine): a version-1 OCTETTOK header as dev.octet.data.tokenfile.TokenFileHeader documents (no checksum),
4-byte ids uniform in [0, 151643), an end-of-document id 151643 every 500-4000 tokens, seeded.

    python3 scripts/synthetic-token-file.py OUT.tok TOKENS
"""
import struct, sys, numpy as np
path, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
eod, vocab = 151643, 151936
toks = rng.integers(0, 151643, size=n, dtype=np.uint32)
pos = np.cumsum(rng.integers(500, 4000, size=n // 500))
pos = pos[pos < n]
toks[pos] = eod
toks[-1] = eod
docs = int((toks == eod).sum())
name = b"synthetic"
h = b"OCTETTOK" + struct.pack("<IIIIII", 1, 256, 4, vocab, eod, len(name)) + struct.pack("<QQ", n, docs) + name
h = h.ljust(256, b"\0")
with open(path, "wb") as f:
    f.write(h); f.write(toks.tobytes())
print(path, n, "tokens", docs, "documents")
