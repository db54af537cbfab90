package dev.octet.dsl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.octet.dsl.ast.SourceFile;
import dev.octet.dsl.check.ProgramChecker;
import dev.octet.dsl.diag.Diagnostic;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.parse.SourceParser;
import dev.octet.dsl.spec.Program;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses and checks source text held in a test, so a test reads as: source, then the expected message and
 * line:column. Failures show the rendered diagnostics, which is what a user would have seen.
 */
public record Checked(List<SourceFile> files, Program program, Diagnostics diagnostics) {
    public static final String FILE = "test.octet";

    /** One file named {@value #FILE}. */
    public static Checked check(String source) {
        return checkFiles(Map.of(FILE, source));
    }

    /** Several files checked together, in the given order (names are global across them). */
    public static Checked checkFiles(Map<String, String> sources) {
        Diagnostics d = new Diagnostics();
        List<SourceFile> files = new ArrayList<>();
        new LinkedHashMap<>(sources).forEach((name, text) -> files.add(SourceParser.parse(Path.of(name), text, d)));
        Program p = ProgramChecker.check(files, d);
        return new Checked(files, p, d);
    }

    public static Checked checkFiles(String name1, String text1, String name2, String text2) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(name1, text1);
        m.put(name2, text2);
        return checkFiles(m);
    }

    /** Parse only, no semantic checks. */
    public static Checked parse(String source) {
        Diagnostics d = new Diagnostics();
        SourceFile f = SourceParser.parse(Path.of(FILE), source, d);
        return new Checked(List.of(f), null, d);
    }

    public SourceFile file() {
        return files.getFirst();
    }

    public List<Diagnostic> errors() {
        return diagnostics.all();
    }

    public String rendered() {
        return DiagnosticPrinter.render(diagnostics);
    }

    /** The rendered diagnostics, cut short for failure messages about very long sources. */
    private String shown() {
        String r = rendered();
        return r.length() > 3000 ? r.substring(0, 3000) + "..." : r;
    }

    public Checked clean() {
        if (diagnostics.hasErrors()) {
            fail("expected no diagnostics, got:\n" + shown());
        }
        return this;
    }

    /** The only diagnostic; asserts its message contains {@code message} and its position is line:column. */
    public Diagnostic only(String message, int line, int column) {
        if (errors().size() != 1) {
            fail("expected exactly one diagnostic, got " + errors().size() + ":\n" + shown());
        }
        return expect(message, line, column);
    }

    /** Some diagnostic has a message containing {@code message} at line:column. */
    public Diagnostic expect(String message, int line, int column) {
        for (Diagnostic d : errors()) {
            if (d.message().contains(message)) {
                assertEquals(line + ":" + column, d.pos().line() + ":" + d.pos().column(),
                        "position of '" + d.message() + "'\n" + rendered());
                return d;
            }
        }
        return fail("no diagnostic containing \"" + message + "\"; got:\n" + shown());
    }

    /** The help line of a diagnostic found by {@link #expect}. */
    public static void assertHelp(Diagnostic d, String help) {
        assertTrue(d.help().isPresent(), "no help on: " + d.message());
        assertTrue(d.help().get().contains(help), "help was: " + d.help().get());
    }

    public static void assertNoHelp(Diagnostic d) {
        assertFalse(d.help().isPresent(), "unexpected help: " + d.help());
    }
}
