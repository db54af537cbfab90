package dev.octet.dsl.diag;

import dev.octet.dsl.ast.SourcePos;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Collects the diagnostics of one run, across files, and remembers each file's text so they can be
 * shown with the offending source line. Analysis goes on after an error so one run reports several.
 */
public final class Diagnostics {
    /** Past this many errors the rest are noise from the first ones; a run stops collecting. */
    public static final int MAX_ERRORS = 50;

    private final List<Diagnostic> items = new ArrayList<>();
    private final Map<String, List<String>> sources = new LinkedHashMap<>();

    public void addSource(String file, String text) {
        sources.put(file, text.lines().toList());
    }

    public void error(SourcePos pos, String message) {
        add(Diagnostic.error(pos, message));
    }

    public void error(SourcePos pos, String message, String help) {
        add(Diagnostic.error(pos, message, help));
    }

    /** An error with a "did you mean" help when {@code suggestion} is present. */
    public void error(SourcePos pos, String message, Optional<String> suggestion) {
        add(new Diagnostic(Diagnostic.Severity.ERROR, pos, message, suggestion.map(s -> "did you mean '" + s + "'?")));
    }

    public void add(Diagnostic d) {
        if (errorCount() < MAX_ERRORS) {
            items.add(d);
        }
    }

    public boolean hasErrors() {
        return errorCount() > 0;
    }

    public int errorCount() {
        return (int) items.stream().filter(d -> d.severity() == Diagnostic.Severity.ERROR).count();
    }

    public List<Diagnostic> all() {
        return List.copyOf(items);
    }

    /** The source line a position points at, if that file's text is known. */
    public Optional<String> line(SourcePos pos) {
        List<String> lines = sources.get(pos.file());
        if (lines == null || pos.line() < 1 || pos.line() > lines.size()) {
            return Optional.empty();
        }
        return Optional.of(lines.get(pos.line() - 1));
    }
}
