package dev.octet.compiler.cuda.attention;

/**
 * The compile-time shape of one causal attention: {@code batch} sequences of {@code seq} tokens,
 * {@code heads} query heads sharing {@code kvHeads} key/value heads (grouped-query attention), each
 * {@code headDim} wide, and whether a document-id buffer keeps packed documents from seeing each other.
 */
public record AttentionShape(int batch, int seq, int heads, int kvHeads, int headDim, boolean documentMask) {
    /** Every kernel tiles the sequence in blocks of this many tokens (query and key tiles divide it). */
    public static final int SEQUENCE_TILE = 64;

    public AttentionShape {
        require(batch >= 1, "batch must be at least 1, got " + batch);
        require(seq >= 1 && seq % SEQUENCE_TILE == 0,
                "seq must be a positive multiple of " + SEQUENCE_TILE + " (the attention tile), got " + seq);
        require(heads >= 1 && kvHeads >= 1 && heads % kvHeads == 0,
                "heads (" + heads + ") must be a positive multiple of kvHeads (" + kvHeads + ")");
        require(headDim == 64 || headDim == 128,
                "headDim must be 64 or 128 (the sizes the attention tiles are chosen for), got " + headDim);
        require((long) batch * seq * heads * headDim <= Integer.MAX_VALUE,
                "batch·seq·heads·headDim must fit in 32-bit indices, got " + (long) batch * seq * heads * headDim);
    }

    public int tokens() {
        return batch * seq;
    }

    /**
     * FLOPs of the causal forward as FlashAttention's benchmarks count them: QKᵀ and PV, 2·2·B·H·S²·D, halved
     * by the causal mask (a document mask skips more, uncounted). The backward counts 2.5 times this (five
     * matrix products instead of two).
     */
    public double forwardFlops() {
        return 4.0 * batch * heads * (double) seq * seq * headDim / 2;
    }

    /** Query heads per key/value head. */
    public int group() {
        return heads / kvHeads;
    }

    /** {@code b4_s128_h4_kv2_d64}, with {@code _docs} under a document mask: part of every kernel name. */
    public String suffix() {
        return "b" + batch + "_s" + seq + "_h" + heads + "_kv" + kvHeads + "_d" + headDim + (documentMask ? "_docs" : "");
    }

    /** The shape constants every attention kernel source starts with. */
    String constants() {
        return """
                constexpr int SEQ = %d;  // the batch is gridDim.z
                constexpr int HEADS = %d;
                constexpr int KV_HEADS = %d;
                constexpr int HEAD_DIM = %d;
                constexpr bool DOCUMENT_MASK = %b;
                constexpr int GROUP = HEADS / KV_HEADS;
                constexpr int Q_STRIDE = HEADS * HEAD_DIM;      // elements between tokens in q, o, dq, dout
                constexpr int KV_STRIDE = KV_HEADS * HEAD_DIM;  // elements between tokens in k, v, dk, dv
                // softmax in base 2: exp(x·scale − m) = exp2(x·scale·log2(e) − m·log2(e))
                constexpr float SCALE_LOG2E = %sf;
                constexpr float LOG2E = 1.44269504f;
                """.formatted(seq, heads, kvHeads, headDim, documentMask,
                Float.toString((float) (1.0 / Math.sqrt(headDim) / Math.log(2.0))));
    }

    /** The softmax scale 1/√headDim as a CUDA constant, for the kernels that need it outside the exponent. */
    String scaleConstant() {
        return "constexpr float SCALE = " + Float.toString((float) (1.0 / Math.sqrt(headDim))) + "f;\n";
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("attention shape: " + message);
        }
    }
}
