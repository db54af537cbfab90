package dev.octet.checkpoint;

/**
 * The names of a training checkpoint's tensors. Master weights keep their parameter-table names
 * ({@code layers.0.attention.q.weight}), so a checkpoint's weights load like a Hugging Face file;
 * optimizer and FP8 scaling state sit under prefixes no parameter name can start with.
 */
public final class TensorNames {
    public static final String ADAM_M = "optimizer.m.";
    public static final String ADAM_V = "optimizer.v.";
    private static final String AMAX_HISTORY = "fp8.amax_history.";
    private static final String AMAX_RECORDED = "fp8.amax_recorded.";

    private TensorNames() {}

    /** FP32 master weight. */
    public static String master(String parameter) {
        return parameter;
    }

    /** AdamW's first moment. */
    public static String adamM(String parameter) {
        return ADAM_M + parameter;
    }

    /** AdamW's second moment. */
    public static String adamV(String parameter) {
        return ADAM_V + parameter;
    }

    /** The amax ring of delayed scaling for one operand of one GEMM of a linear layer, e.g. {@code fp8.amax_history.layers.0.attention.q.fprop.weights}. */
    public static String amaxHistory(String linear, String gemm, String role) {
        return AMAX_HISTORY + linear + "." + gemm + "." + role;
    }

    /** How many amaxes that ring has recorded (it says which slot is the oldest). */
    public static String amaxRecorded(String linear, String gemm, String role) {
        return AMAX_RECORDED + linear + "." + gemm + "." + role;
    }
}
