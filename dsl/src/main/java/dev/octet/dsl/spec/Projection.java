package dev.octet.dsl.spec;

/** The linear projections of a transformer, by their usual short names. */
public enum Projection {
    Q, K, V, O, GATE, UP, DOWN, LM_HEAD;

    public String lowerName() {
        return name().toLowerCase();
    }
}
