package dev.octet.dsl;

import static dev.octet.dsl.Checked.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.dsl.diag.Diagnostic;
import org.junit.jupiter.api.Test;

/** Syntax errors say where, what was expected and what was found; one run reports all of them. */
class SyntaxErrorTest {
    @Test
    void missingClosingBraceIsReportedAtTheEndOfTheFile() {
        parse("model m {\n  dim = 64\n").only("expected '}' or a name, found the end of the file", 3, 1);
    }

    @Test
    void missingValueSaysWhatCouldStartOne() {
        parse("model m {\n  dim =\n}\n")
                .only("expected '(', '[', '-', a name, a number or a string, found '}'", 3, 1);
    }

    @Test
    void strayCharacterIsNamed() {
        parse("model m { dim = @ }").only("found '@'", 1, 17);
    }

    @Test
    void unclosedStringIsReportedAtItsQuote() {
        parse("model m { data = \"abc\n}").only("found '\"'", 1, 18);
    }

    @Test
    void numberWhereANameBelongsIsDescribed() {
        parse("model m { 12 = 3 }").only("found number 12", 1, 11);
    }

    @Test
    void errorsNameTheFile() {
        Diagnostic d = parse("model m {").errors().getFirst();
        assertEquals(Checked.FILE, d.pos().file());
        assertTrue(parse("model m {").rendered().startsWith("test.octet:1:10: error: "));
    }

    @Test
    void severalSyntaxErrorsInOneFileAreAllReported() {
        Checked c = parse("""
                model m {
                  vocab = = 1
                  dim = 64
                  ffn = ]
                }
                recipe r { a = }
                """);
        c.expect("found '='", 2, 11);
        c.expect("found ']'", 4, 9);
        c.expect("found '}'", 6, 16);
        assertEquals(3, c.errors().size(), c.rendered());
    }

    @Test
    void bracketsNestedTooDeepAreOneError() {
        parse("model m { x = " + "(".repeat(100) + "1" + ")".repeat(100) + " }")
                .only("brackets nested more than 64 deep", 1, 78);
    }

    @Test
    void bracketsInStringsAndCommentsDoNotCountAsNesting() {
        parse("model m { s = \"" + "(".repeat(100) + "\" # " + "{".repeat(100) + "\n}").clean();
    }

    /** Regression: nesting was counted on characters, and a quote that starts no string hid the brackets after it. */
    @Test
    void unclosedQuoteDoesNotHideDeepNesting() {
        Checked c = parse("model m { a = \" " + "(".repeat(20_000) + " }");
        // The block's '{' is the first level, so the 64th '(' (column 17 + 63) is one too many.
        c.expect("brackets nested more than 64 deep", 1, 80);
        // "\\" is a whole string whose last quote follows a backslash.
        Checked escaped = parse("model m { a = \"\\\\\" " + "(".repeat(20_000) + " }");
        escaped.expect("brackets nested more than 64 deep", 1, 83);
    }

    /** Regression: a very long sum built an AST as deep as the sum and overflowed the stack. */
    @Test
    void veryLongSumIsAnErrorNotAStackOverflow() {
        parse("model m { forward { x = tokens" + " + x".repeat(300_000) + " } }")
                .only("a sum of more than 256 terms", 1, 25);
    }

    @Test
    void hugeIndexIsAnError() {
        parse("r { bf16 = [layers[99999999999]] }").only("index 99999999999 is too large", 1, 20);
    }

    @Test
    void unreadableNumberIsAnError() {
        parse("r { x = 1e99999999999 }").only("'1e99999999999' is not a number Octet can read", 1, 9);
    }
}
