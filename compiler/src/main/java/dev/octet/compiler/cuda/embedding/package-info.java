/**
 * Embedding kernels: token lookup (optionally plus GPT-2's learned positions) and the deterministic
 * gradients of both tables.
 *
 * <p>Layouts: T = batch·seq tokens, row {@code t = b·seq + s}; token ids i32[T]; activations and dy
 * bf16[T, D] row-major; the token table is read from its BF16 shadow bf16[V, D], the position table from
 * bf16[maxSeq, D]; their gradients are the FP32 masters' f32[V, D] and f32[maxSeq, D], accumulated
 * ({@code +=}) so micro-batches and a tied LM head add up (kernels on one stream, in order).
 *
 * <p>Semantics and CPU oracles (dev.octet.cpu.ops):
 * <ul>
 *   <li>{@link dev.octet.compiler.cuda.embedding.EmbeddingForward}: {@code Embedding.forward}, then, with
 *       positions, {@code PositionEmbedding.forward} with positions {@code t mod seq}. The table rows are BF16
 *       already, so the lookup's rounding is exact and the GPU's single rounding of the FP32 sum equals the
 *       oracle's two.</li>
 *   <li>{@link dev.octet.compiler.cuda.embedding.EmbeddingBackward}: {@code Embedding.backward}; each id's
 *       rows are summed in FP32 in token order, then added once, by the warp of its first token, which
 *       {@link dev.octet.compiler.cuda.embedding.EmbeddingIdTally} finds beforehand with the id's count.</li>
 *   <li>{@link dev.octet.compiler.cuda.embedding.PositionEmbeddingBackward}: the table part of
 *       {@code PositionEmbedding.backward} (its {@code dx = dout} needs no kernel); summed over the batch in
 *       order.</li>
 * </ul>
 * No float atomics anywhere (the tally's integer minimum and count do not depend on their order): the same
 * inputs give the same bits on every run.
 */
package dev.octet.compiler.cuda.embedding;
