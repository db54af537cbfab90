package dev.octet.dsl.spec;

/** The kinds of values that flow through a model graph; ops check their inputs against them. */
public enum ValueKind {
    TOKENS("token ids"),
    TARGETS("target token ids"),
    HIDDEN("hidden states [tokens, dim]"),
    LOGITS("logits [tokens, vocab]"),
    LOSS("a loss");

    private final String description;

    ValueKind(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
