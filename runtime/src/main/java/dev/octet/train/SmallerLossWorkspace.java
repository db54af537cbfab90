package dev.octet.train;

/**
 * The planned step with a smaller LM-head loss workspace (more, shorter chunks of the logits): what
 * {@code --loss-workspace} would give back when the step does not fit, at the cost of a slower head wgrad.
 */
public record SmallerLossWorkspace(long workspaceBytes, long bytesAfterContext) {
    /** The workspace a refusal proposes: 512 MiB, the default before the step was measured faster with 2 GiB. */
    public static final long PROPOSED_BYTES = 512L << 20;
}
