package dev.octet.compiler.ir;

/** A tensor of the step program. Identity is the id; names are unique and readable ({@code layers.0.q.out}). */
public record Value(int id, String name, TensorType type, Storage storage) {
    @Override
    public String toString() {
        return "%" + name;
    }

    /** {@code %name: bf16[512,128] transient}. */
    public String declaration() {
        return "%" + name + ": " + type + " " + storage.name().toLowerCase(java.util.Locale.ROOT);
    }
}
