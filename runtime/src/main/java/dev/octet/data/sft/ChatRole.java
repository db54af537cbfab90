package dev.octet.data.sft;

import java.util.Optional;

/** Who speaks a message; the lowercase name is what JSONL and the ChatML template spell. */
public enum ChatRole {
    SYSTEM, USER, ASSISTANT;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Optional<ChatRole> of(String label) {
        for (ChatRole r : values()) {
            if (r.label().equals(label)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }
}
