package dev.octet.dsl.spec;

/** The tensor roles of an FP8 linear layer: weights W, activations X, output gradients dY. */
public enum Role {
    WEIGHTS, ACTIVATIONS, GRADIENTS;

    public String lowerName() {
        return name().toLowerCase();
    }
}
