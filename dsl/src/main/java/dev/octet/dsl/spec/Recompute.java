package dev.octet.dsl.spec;

/**
 * Activations a recipe recomputes in backward instead of keeping from forward: {@code norm} (the outputs
 * of RMSNorm/LayerNorm, re-derived from the saved input) and {@code activation} (the SwiGLU/GELU hidden
 * state, re-derived from the saved projections). Cheap elementwise work traded for the memory of the
 * widest saved tensors.
 */
public enum Recompute {
    NORM, ACTIVATION;

    public String lowerName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
