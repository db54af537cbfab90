package dev.octet.dsl.spec;

import dev.octet.dsl.ast.SourcePos;

/** A checked expression of the model graph. Every op knows where it was written. */
public sealed interface Op {
    SourcePos pos();

    /** The built-in inputs: {@code tokens} and {@code targets}. */
    record Input(ValueKind kind, SourcePos pos) implements Op {}

    /** A value named earlier in the graph. */
    record Ref(String name, ValueKind kind, SourcePos pos) implements Op {}

    record Embedding(Op ids, SourcePos pos) implements Op {}

    /** Learned absolute position embedding (GPT-2's wpe). */
    record PositionEmbedding(Op ids, SourcePos pos) implements Op {}

    record RmsNorm(Op x, SourcePos pos) implements Op {}

    record LayerNorm(Op x, SourcePos pos) implements Op {}

    /** Causal self-attention with q, k, v, o projections, grouped-query when kv_heads < heads. */
    record Attention(Op x, boolean rope, SourcePos pos) implements Op {}

    /** down(silu(gate(x)) · up(x)). */
    record SwiGlu(Op x, SourcePos pos) implements Op {}

    /** down(gelu(up(x))), GELU with the tanh approximation as in GPT-2. */
    record GeluMlp(Op x, SourcePos pos) implements Op {}

    /** Residual add. */
    record Add(Op left, Op right, SourcePos pos) implements Op {}

    record LmHead(Op x, SourcePos pos) implements Op {}

    /** Mean cross-entropy over the tokens the loss mask keeps. */
    record CrossEntropy(Op logits, Op targets, SourcePos pos) implements Op {}
}
