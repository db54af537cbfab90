package dev.octet.dsl;

import static dev.octet.dsl.Checked.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.dsl.ast.Assignment;
import dev.octet.dsl.ast.Block;
import dev.octet.dsl.ast.Expr;
import java.math.BigDecimal;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Each construct of the grammar, parsed to the AST it should give. */
class ParserTest {
    private static Block onlyBlock(String source) {
        Checked c = parse(source).clean();
        assertEquals(1, c.file().blocks().size());
        return c.file().blocks().getFirst();
    }

    /** The value of the only setting of the only block. */
    private static Expr value(String expr) {
        Block b = onlyBlock("b {\n  v = " + expr + "\n}\n");
        return ((Assignment) b.items().getFirst()).value();
    }

    @Test
    void blockHasKindLabelTargetAndPosition() {
        Block b = onlyBlock("recipe fine for tiny { }");
        assertEquals("recipe", b.kind());
        assertEquals("fine", b.label().orElseThrow().text());
        assertFalse(b.label().get().isInteger());
        assertEquals("tiny", b.target().orElseThrow().text());
        assertEquals("1:17", b.target().get().pos().line() + ":" + b.target().get().pos().column());
        assertEquals(1, b.pos().line());
        assertEquals(1, b.pos().column());
    }

    @Test
    void integerLabelIsMarkedAsInteger() {
        Block outer = onlyBlock("forward { repeat 12 { } }");
        Block repeat = (Block) outer.items().getFirst();
        assertEquals("12", repeat.label().orElseThrow().text());
        assertTrue(repeat.label().get().isInteger());
        assertTrue(outer.label().isEmpty());
        assertTrue(outer.target().isEmpty());
    }

    @Test
    void settingsAndNestedBlocksKeepSourceOrderAndPositions() {
        Block b = onlyBlock("""
                model m {
                  dim = 64
                  forward { }
                  heads = 4
                }
                """);
        assertEquals(3, b.items().size());
        Assignment dim = (Assignment) b.items().get(0);
        assertEquals("dim", dim.name());
        assertEquals(2, dim.namePos().line());
        assertEquals(3, dim.namePos().column());
        assertEquals(9, dim.value().pos().column());
        assertEquals("forward", ((Block) b.items().get(1)).kind());
        assertEquals("heads", ((Assignment) b.items().get(2)).name());
    }

    @Test
    void callWithPositionalAndNamedArguments() {
        Expr.Call call = assertInstanceOf(Expr.Call.class, value("attention(rmsnorm(x), rope = true)"));
        assertEquals("attention", call.callee());
        assertEquals(2, call.args().size());
        assertTrue(call.args().get(0).name().isEmpty());
        assertEquals("rmsnorm", assertInstanceOf(Expr.Call.class, call.args().get(0).value()).callee());
        assertEquals(Optional.of("rope"), call.args().get(1).name());
        assertEquals("true", assertInstanceOf(Expr.Name.class, call.args().get(1).value()).name());
        assertEquals(7, call.calleePos().column());
    }

    @Test
    void callWithoutArguments() {
        assertEquals(List.of(), assertInstanceOf(Expr.Call.class, value("current()")).args());
    }

    @Test
    void listsMayBeEmptyOrHoldAnyExpressions() {
        assertEquals(List.of(), assertInstanceOf(Expr.ListLit.class, value("[]")).elements());
        Expr.ListLit list = assertInstanceOf(Expr.ListLit.class, value("[q, 1, layers[0], \"s\"]"));
        assertEquals(4, list.elements().size());
        assertInstanceOf(Expr.Name.class, list.elements().get(0));
        assertInstanceOf(Expr.NumberLit.class, list.elements().get(1));
        assertInstanceOf(Expr.Index.class, list.elements().get(2));
        assertInstanceOf(Expr.StringLit.class, list.elements().get(3));
    }

    @Test
    void indexesAreSingleNegativeOrInclusiveRanges() {
        assertIndex(value("layers[0]"), 0, 0);
        assertIndex(value("layers[-1]"), -1, -1);
        assertIndex(value("layers[0..2]"), 0, 2);
        assertIndex(value("layers[-2..-1]"), -2, -1);
        assertIndex(value("layers[1_0]"), 10, 10);
    }

    private static void assertIndex(Expr e, int from, int to) {
        Expr.Index ix = assertInstanceOf(Expr.Index.class, e);
        assertEquals("layers", ix.name());
        assertEquals(from, ix.from());
        assertEquals(to, ix.to());
    }

    @Test
    void plusIsLeftAssociativeAndParenthesesGroup() {
        Expr.Add outer = assertInstanceOf(Expr.Add.class, value("a + b + c"));
        Expr.Add inner = assertInstanceOf(Expr.Add.class, outer.left());
        assertEquals("a", ((Expr.Name) inner.left()).name());
        assertEquals("b", ((Expr.Name) inner.right()).name());
        assertEquals("c", ((Expr.Name) outer.right()).name());
        // The position of a sum is its '+', which is what an error about the sum points at.
        assertEquals(13, outer.pos().column());

        Expr.Add grouped = assertInstanceOf(Expr.Add.class, value("a + (b + c)"));
        assertEquals("a", ((Expr.Name) grouped.left()).name());
        assertInstanceOf(Expr.Add.class, grouped.right());
        assertEquals("x", assertInstanceOf(Expr.Name.class, value("((x))")).name());
    }

    @Test
    void numbersKeepTheirExactValueAndText() {
        assertNumber(value("1e-5"), "0.00001", "1e-5");
        assertNumber(value("4_096"), "4096", "4_096");
        assertNumber(value("-3"), "-3", "-3");
        assertNumber(value("0.95"), "0.95", "0.95");
        assertNumber(value("2.5E+3"), "2500", "2.5E+3");
        assertNumber(value("12345678901234567890123"), "12345678901234567890123", "12345678901234567890123");
    }

    private static void assertNumber(Expr e, String value, String text) {
        Expr.NumberLit n = assertInstanceOf(Expr.NumberLit.class, e);
        assertEquals(0, new BigDecimal(value).compareTo(n.value()), "value of " + text + ": " + n.value());
        assertEquals(text, n.text());
    }

    @Test
    void stringsAreUnquotedAndUnescaped() {
        assertEquals("data/brown.txt.gz", assertInstanceOf(Expr.StringLit.class, value("\"data/brown.txt.gz\"")).value());
        assertEquals("a\"b\\c", assertInstanceOf(Expr.StringLit.class, value("\"a\\\"b\\\\c\"")).value());
        assertEquals("", assertInstanceOf(Expr.StringLit.class, value("\"\"")).value());
    }

    @Test
    void commentsOfBothKindsAreSkipped() {
        Block b = onlyBlock("""
                # a comment line
                model m { // trailing comment
                  dim = 64 # after a value
                  // heads = 4
                }
                """);
        assertEquals(1, b.items().size());
        assertEquals(2, b.pos().line());
    }

    @Test
    void semicolonsAreOptionalBetweenItems() {
        Block b = onlyBlock("model m { dim = 64; heads = 4 ffn = 8; forward { }; }");
        assertEquals(List.of("dim", "heads", "ffn", "forward"), b.items().stream()
                .map(i -> i instanceof Assignment a ? a.name() : ((Block) i).kind()).toList());
    }

    @Test
    void importsWithAndWithoutSemicolon() {
        Checked c = parse("import \"recipes/infir2.octet\";\nimport \"a b.octet\"\nmodel m { }\n").clean();
        assertEquals(List.of("recipes/infir2.octet", "a b.octet"), c.file().imports().stream().map(i -> i.path()).toList());
        assertEquals(2, c.file().imports().get(1).pos().line());
        assertEquals(1, c.file().blocks().size());
    }

    @Test
    void emptyAndCommentOnlyFilesParseToNothing() {
        assertTrue(parse("").clean().file().blocks().isEmpty());
        assertTrue(parse("# nothing here\n// nor here").clean().file().blocks().isEmpty());
    }
}
