package dev.octet.compiler.plan;

/** What a launch does, for a profile of where a step's time goes. */
public enum KernelFamily {
    GEMM_FPROP("GEMM fprop", true),
    GEMM_DGRAD("GEMM dgrad", true),
    GEMM_WGRAD("GEMM wgrad", true),
    /** The LM head's three GEMMs inside the chunked loss, whose roles one launch does not say. */
    GEMM_LM_HEAD("GEMM LM head", true),
    ATTENTION_FORWARD("attention fwd", true),
    ATTENTION_BACKWARD("attention bwd", true),
    QUANTIZE("quantize", false),
    NORM("norm", false),
    ELEMENTWISE("elementwise", false),
    LOSS("loss", false),
    OPTIMIZER("optimizer", false);

    private final String label;
    private final boolean computeBound;

    KernelFamily(String label, boolean computeBound) {
        this.label = label;
        this.computeBound = computeBound;
    }

    public String label() {
        return label;
    }

    /** Whether its rate is FLOP/s against the tensor cores' peak (else bytes/s against memory bandwidth). */
    public boolean computeBound() {
        return computeBound;
    }
}
