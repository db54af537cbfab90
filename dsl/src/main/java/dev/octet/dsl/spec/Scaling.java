package dev.octet.dsl.spec;

/** When scales are computed: from this step's amax (just in time), or from an amax history (delayed). */
public sealed interface Scaling {
    record Current() implements Scaling {}

    /** TransformerEngine's delayed scaling: max over the last {@code history} amaxes, then 2^margin head-room. */
    record Delayed(int history, int margin) implements Scaling {}

    default String describe() {
        return switch (this) {
            case Current c -> "current";
            case Delayed d -> "delayed(history=" + d.history() + ", margin=" + d.margin() + ")";
        };
    }
}
