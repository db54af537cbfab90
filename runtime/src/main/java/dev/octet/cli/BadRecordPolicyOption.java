package dev.octet.cli;

import dev.octet.data.jsonl.BadRecordPolicy;
import picocli.CommandLine;

/** The {@code --on-bad-record=stop|skip} option's value. */
final class BadRecordPolicyOption {
    private BadRecordPolicyOption() {}

    static BadRecordPolicy parse(CommandLine.Model.CommandSpec spec, String value) {
        return switch (value) {
            case "stop" -> BadRecordPolicy.STOP;
            case "skip" -> BadRecordPolicy.SKIP;
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "--on-bad-record must be stop or skip, not '" + value + "'");
        };
    }
}
