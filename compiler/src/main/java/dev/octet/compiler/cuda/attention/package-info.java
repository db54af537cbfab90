/**
 * Attention kernels: causal flash attention forward and backward on BF16 tensor cores, rotary position
 * embedding, and positions within packed documents. Each kernel is a {@link dev.octet.compiler.cuda.KernelSpec}
 * whose shapes are compile-time constants.
 *
 * <h2>Layouts</h2>
 * {@code T = batch·seq} tokens, row {@code t = b·seq + s}.
 * <ul>
 *   <li>q, o, dq, dout: bf16[T, heads·headDim], head h at columns {@code h·headDim ..}.
 *   <li>k, v, dk, dv: bf16[T, kvHeads·headDim]; query head h reads kv head {@code h / (heads/kvHeads)}.
 *   <li>lse (saved by the forward) and delta (backward scratch): f32[batch, heads, seq]. The CPU oracle keeps
 *       lse as [T, heads]: {@code lse[b, h, s] = oracle[(b·seq + s)·heads + h]}.
 *   <li>document_ids, positions: i32[T].
 * </ul>
 * Buffers are read with 16-byte vector loads: every buffer must start on a 16-byte boundary.
 *
 * <h2>Semantics</h2>
 * The oracle is {@code dev.octet.cpu.ops.Attention} and {@code dev.octet.cpu.ops.Rope} (runtime module).
 * Query s of sequence b attends to key s' iff {@code s' ≤ s} and, under a document mask,
 * {@code document_ids[b·seq + s'] == document_ids[b·seq + s]}; scale {@code 1/√headDim}; {@code lse} is the
 * natural log-sum-exp of the scaled, masked scores. The backward computes
 * {@code p = exp(s·scale − lse)}, {@code delta = Σ dout∘o}, {@code ds = p∘(dout·vᵀ − delta)·scale}, and
 * writes (never accumulates) {@code dq = ds·k}, {@code dk = Σ_heads dsᵀ·q}, {@code dv = Σ_heads pᵀ·dout}, the
 * sums running over the query heads that share a kv head. RoPE pairs element i with i + headDim/2 (Llama/HF
 * "rotate-half"), angle {@code position·theta^(−2i/headDim)}; backward rotates by the negated angle. Under a
 * document mask positions restart at every document start ({@link DocumentPositionsKernel}), as the oracle's
 * {@code PositionEmbedding.documentPositions}.
 *
 * <h2>Numerics</h2>
 * Inputs and outputs are BF16, rounded to nearest even once; lse and delta are FP32. Products run on
 * {@code mma.sync.m16n8k16} or {@code wgmma.m64nNk16} with FP32 accumulation; softmax is online and in FP32 (base 2, {@code exp2f}).
 * Against the oracle, which computes in float64 and rounds only stored values, the known differences are:
 * the probabilities are rounded to BF16 before {@code p·v} and {@code pᵀ·dout} while their normalizing sum is
 * not, and {@code ds} is rounded to BF16 before {@code ds·k} and {@code dsᵀ·q}. RoPE evaluates angles and their
 * sine and cosine in FP64 and rotates in FP32, so it should agree with the oracle to within one BF16 ulp except where the rotation nearly cancels to zero (there within the FP32 rounding of the rotation).
 *
 * <h2>Kernels and tiles</h2>
 * {@code seq} must be a multiple of 64 and headDim 64 or 128. The forward is chosen by {@link AttentionKernels}.
 * <ul>
 *   <li>{@link FlashAttentionForwardHopper} (sm_90a, the forward the compiler launches): 128 queries × 128 keys
 *       per step on {@code wgmma}, q, k, v by TMA into dynamic shared memory; 384 threads (a producer and two
 *       consumer warpgroups); a persistent grid of one block per SM over (query tile, head, sequence) units,
 *       longest first.
 *   <li>{@link FlashAttentionBackwardKeyValueHopper} and {@link FlashAttentionBackwardQueryHopper} (sm_90a, the
 *       backward's dk, dv and dq on {@code wgmma}, launched only when {@link AttentionKernels#backward} is asked
 *       for them): 64 keys × 64 queries per step, one block per (64 keys, kv head, sequence), its two consumer
 *       warpgroups taking query tiles in turn; 128 queries × 64 keys per step, one block per (128 queries, head,
 *       sequence); linear grids, longest blocks first; the same three warpgroups and ring as the forward. No
 *       atomics.
 * </ul>
 * The other attention kernels use blocks of 4 warps, each warp owning 16 rows, and static shared memory under
 * 48 KiB (no opt-in attribute needed).
 * <ul>
 *   <li>{@link FlashAttentionForward}: 64 queries × 64 keys per step; grid (seq/64, heads, batch).
 *   <li>{@link FlashAttentionBackward}: {@link AttentionBackwardDelta}, then {@link FlashAttentionBackwardKeyValue}
 *       (64 keys × 64 queries per step for headDim 64, 64 × 16 for 128; grid (seq/64, kvHeads, batch)) and
 *       {@link FlashAttentionBackwardQuery} (64 queries × 64 keys for headDim 64, 64 × 32 for 128; grid
 *       (seq/64, heads, batch)). No atomics: deterministic.
 * </ul>
 */
package dev.octet.compiler.cuda.attention;
