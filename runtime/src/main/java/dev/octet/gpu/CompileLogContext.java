package dev.octet.gpu;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An NVRTC log with the source lines its errors point at: after each {@code name.cu(12): error: ...} line
 * come source lines 10 to 14, the offending one marked. Generated kernels are long and the log alone says
 * only a line number, so this is what makes a failed compile readable.
 */
public final class CompileLogContext {
    private CompileLogContext() {}

    /** Lines of context shown before and after each offending line. */
    public static final int CONTEXT_LINES = 2;

    private static final Pattern ERROR_AT = Pattern.compile("^.*\\((\\d+)\\): (?:catastrophic )?error\\b.*$");

    public static String annotate(String log, String source) {
        List<String> sourceLines = source.lines().toList();
        StringBuilder out = new StringBuilder();
        for (String line : log.strip().split("\\R")) {
            out.append(line).append('\n');
            Matcher error = ERROR_AT.matcher(line);
            if (error.matches()) {
                appendContext(out, sourceLines, Integer.parseInt(error.group(1)));
            }
        }
        return out.toString().stripTrailing();
    }

    private static void appendContext(StringBuilder out, List<String> source, int offending) {
        int first = Math.max(1, offending - CONTEXT_LINES);
        int last = Math.min(source.size(), offending + CONTEXT_LINES);
        int width = String.valueOf(source.size()).length();
        for (int n = first; n <= last; n++) {
            out.append(n == offending ? "  > " : "    ")
                    .append(String.format("%" + width + "d | ", n))
                    .append(source.get(n - 1))
                    .append('\n');
        }
    }
}
