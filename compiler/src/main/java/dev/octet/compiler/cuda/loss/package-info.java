/**
 * The loss kernels: softmax cross-entropy over the LM head's logits, forward and backward fused.
 *
 * <p><b>Layouts.</b> Logits are BF16 {@code [tokens, vocab]} row-major (any vocab, e.g. 50257 or 151936: rows
 * need not be aligned); targets i32[tokens]; the loss weight f32[1]; per-token losses f32[tokens]; the step's
 * loss f32[1]. dlogits overwrite the logits in place.
 *
 * <p><b>Semantics.</b> {@code CrossEntropy}'s per-token mask becomes the target's sign: target ≥ 0 counts with
 * weight 1, target &lt; 0 is masked (loss 0, dlogits 0, the row never read). The host writes
 * {@code loss_weight = dloss / (counted tokens of the whole optimizer step)}, so per-token losses and dlogits
 * of all micro-batches sum to the oracle's mean loss and its gradient; with no counted token the host writes 0.
 *
 * <p><b>Chunks.</b> The LM head's loss ({@code lm_head_cross_entropy}) launches {@code CrossEntropyFused} once
 * per chunk of tokens, on a workspace holding that chunk's logits and on the chunk's slices of targets and
 * losses; {@code TokenLossSum} then sums the losses of all tokens once. A kernel's logits stay below 2^31 elements.
 *
 * <p><b>Oracle</b>: {@code dev.octet.cpu.ops.CrossEntropy} (double precision; the kernels compute in FP32
 * and round dlogits to BF16, so GPU tests compare with a stated tolerance).
 */
package dev.octet.compiler.cuda.loss;
