package dev.octet.cli;

import dev.octet.compiler.ir.Operator;
import dev.octet.compiler.passes.LmHeadLossChunking;
import dev.octet.dsl.spec.ModelConfig;
import java.util.OptionalLong;
import picocli.CommandLine;

/** {@code --loss-workspace MIB} of the commands that compile a step: checked against the model before anything runs. */
final class LossWorkspaceOption {
    private LossWorkspaceOption() {}

    static final String DESCRIPTION = "MiB for one chunk of the LM head's logits: the head and the loss run over chunks"
            + " of tokens that fit it (default: " + (LmHeadLossChunking.DEFAULT_WORKSPACE_BYTES >> 20)
            + "; 0: the whole micro-batch's logits at once)";

    /**
     * The workspace in bytes, empty for the default; refused in one line when negative or when it cannot hold
     * one chunk of {@code tokens} tokens of the model's LM head (its logits rows as the compiler pads them).
     */
    static OptionalLong bytes(CommandLine.Model.CommandSpec spec, Long mib, int tokens, ModelConfig model) {
        if (mib == null) {
            return OptionalLong.empty();
        }
        if (mib < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--loss-workspace must be 0 or more MiB");
        }
        if (mib > 0) {
            try {
                LmHeadLossChunking.chunkTokens(tokens, Operator.LmHeadCrossEntropy.logitsPitch(model.vocab(), model.dim()),
                        mib << 20);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--loss-workspace: " + e.getMessage());
            }
        }
        return OptionalLong.of(mib << 20);
    }
}
