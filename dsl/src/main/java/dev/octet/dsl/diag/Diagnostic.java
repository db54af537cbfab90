package dev.octet.dsl.diag;

import dev.octet.dsl.ast.SourcePos;
import java.util.Optional;

/** One finding about the source: where, what is wrong or expected, and optionally a hint such as a spelling fix. */
public record Diagnostic(Severity severity, SourcePos pos, String message, Optional<String> help) {
    public enum Severity { ERROR, WARNING }

    /** Long words of the input are clipped here, once, for every check that quotes them ({@link Excerpt}). */
    public Diagnostic {
        message = Excerpt.clipWords(message);
        help = help.map(Excerpt::clipWords);
    }

    public static Diagnostic error(SourcePos pos, String message) {
        return new Diagnostic(Severity.ERROR, pos, message, Optional.empty());
    }

    public static Diagnostic error(SourcePos pos, String message, String help) {
        return new Diagnostic(Severity.ERROR, pos, message, Optional.of(help));
    }
}
