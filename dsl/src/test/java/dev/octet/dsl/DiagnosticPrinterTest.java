package dev.octet.dsl;

import static dev.octet.dsl.Checked.check;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.dsl.ast.SourcePos;
import dev.octet.dsl.diag.Diagnostic;
import dev.octet.dsl.diag.DiagnosticPrinter;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The rendered form: location, message, the source line, a caret under the column, and the help. */
class DiagnosticPrinterTest {
    @Test
    void rendersLocationSourceLineCaretAndHelp() {
        String out = check(Sources.model(Sources.SETTINGS.replace("heads = 4", "heads = 4\n  hedas = 4"))).rendered();
        assertEquals("""
                test.octet:6:3: error: unknown setting 'hedas' in model 'm'
                 6 |   hedas = 4
                   |   ^~~~~
                   = help: did you mean 'heads'?
                1 error
                """, out);
    }

    @Test
    void caretSitsUnderTheColumnOfAnOpInTheGraph() {
        String out = check(Sources.MODEL.replace("attention(rmsnorm(x))", "attention(rmsnrom(x))")).rendered();
        assertTrue(out.contains("""
                test.octet:11:25: error: unknown op 'rmsnrom'
                 11 |       x = x + attention(rmsnrom(x))
                    |                         ^~~~~~~
                    = help: did you mean 'rmsnorm'?
                """), out);
    }

    @Test
    void severalErrorsAreCounted() {
        String out = check("recipe r {\n  format = e9m9\n  scale = fp64\n}\n").rendered();
        assertTrue(out.endsWith("\n2 errors\n"), out);
    }

    @Test
    void tabsAreShownAsSpacesSoTheCaretLinesUp() {
        Diagnostic d = Diagnostic.error(new SourcePos("f.octet", 1, 3, 1), "bad");
        assertEquals("f.octet:1:3: error: bad\n 1 |   x\n   |   ^\n", DiagnosticPrinter.render(d, Optional.of("\t\tx")));
    }

    @Test
    void positionPastTheEndOfTheLineIsClampedAndUnknownLinesAreLeftOut() {
        Diagnostic d = Diagnostic.error(new SourcePos("f.octet", 1, 40, 5), "late", "h");
        assertEquals("f.octet:1:40: error: late\n 1 | ab\n   |   ^\n   = help: h\n", DiagnosticPrinter.render(d, Optional.of("ab")));
        assertEquals("f.octet:1:40: error: late\n   = help: h\n", DiagnosticPrinter.render(d, Optional.empty()));
    }

    @Test
    void syntaxErrorAtTheEndOfAFileWithoutANewlineShowsTheLastLine() {
        String out = check("model m {").rendered();
        assertTrue(out.startsWith("test.octet:1:10: error: expected '}' or a name, found the end of the file\n"
                + " 1 | model m {\n"
                + "   |          ^\n"), out);
    }

    @Test
    void aMegabyteIdentifierIsQuotedByItsStartAndLengthNotWhole() {
        String huge = "q".repeat(1 << 20);
        String source = Sources.MODEL.replace("attention(rmsnorm(x))", "attention(" + huge + "(x))") + "\n# " + huge + "\n";
        String out = check(source).rendered();
        assertTrue(out.length() < 4_000, out.length() + " characters: " + out.substring(0, Math.min(out.length(), 3000)));
        assertTrue(out.contains("unknown op '" + "q".repeat(48) + "... (1,048,576 characters)'"), out);
        assertTrue(out.contains("^~~~"), out);
    }

    @Test
    void aLongSourceLineIsShownAsAWindowAroundTheCaret() {
        String line = "a".repeat(500) + " bad " + "b".repeat(500);
        Diagnostic d = Diagnostic.error(new SourcePos("f.octet", 1, 502, 3), "bad");
        String[] rendered = DiagnosticPrinter.render(d, Optional.of(line)).split("\n");
        assertEquals(" 1 | ..." + "a".repeat(15) + " bad " + "b".repeat(140) + "...", rendered[1]);
        assertEquals("   | " + " ".repeat(3 + 15 + 1) + "^~~", rendered[2]);
    }
}
