package dev.octet.dsl.diag;

import java.util.Optional;

/**
 * Renders diagnostics the way compilers do:
 * <pre>
 * model.octet:4:7: error: unknown op 'rmsnrom'
 *     4 |   x = rmsnrom(x)
 *       |       ^~~~~~~
 *       = help: did you mean 'rmsnorm'?
 * </pre>
 */
public final class DiagnosticPrinter {
    private DiagnosticPrinter() {}

    public static String render(Diagnostics diagnostics) {
        StringBuilder out = new StringBuilder();
        for (Diagnostic d : diagnostics.all()) {
            out.append(render(d, diagnostics.line(d.pos())));
        }
        int n = diagnostics.errorCount();
        if (n > 0) {
            out.append(n).append(n == 1 ? " error" : " errors");
            if (n >= Diagnostics.MAX_ERRORS) {
                out.append(" (stopped after ").append(Diagnostics.MAX_ERRORS).append(")");
            }
            out.append('\n');
        }
        return out.toString();
    }

    public static String render(Diagnostic d, Optional<String> sourceLine) {
        StringBuilder out = new StringBuilder();
        String severity = d.severity() == Diagnostic.Severity.ERROR ? "error" : "warning";
        out.append(d.pos()).append(": ").append(severity).append(": ").append(d.message()).append('\n');
        String gutter = Integer.toString(d.pos().line());
        String pad = " ".repeat(gutter.length());
        if (sourceLine.isPresent()) {
            String full = sourceLine.get().replace('\t', ' ');
            int fullCol = Math.max(1, Math.min(d.pos().column(), full.length() + 1));
            // A long line is shown as a window of Excerpt.LINE_WINDOW columns that starts a little before the caret.
            int from = full.length() <= Excerpt.LINE_WINDOW ? 0 : Math.max(0, Math.min(fullCol - 1 - 16, full.length() - Excerpt.LINE_WINDOW));
            String line = full.substring(from, Math.min(full.length(), from + Excerpt.LINE_WINDOW));
            String before = from > 0 ? "..." : "";
            out.append(' ').append(gutter).append(" | ").append(before).append(line)
               .append(from + line.length() < full.length() ? "..." : "").append('\n');
            int col = fullCol - from + before.length();
            int len = Math.max(1, Math.min(d.pos().length(), line.length() + before.length() - col + 1));
            out.append(' ').append(pad).append(" | ").append(" ".repeat(col - 1)).append('^')
               .append("~".repeat(len - 1)).append('\n');
        }
        d.help().ifPresent(h -> out.append(' ').append(pad).append(" = help: ").append(h).append('\n'));
        return out.toString();
    }
}
