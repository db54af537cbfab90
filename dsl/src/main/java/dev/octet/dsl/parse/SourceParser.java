package dev.octet.dsl.parse;

import dev.octet.dsl.ast.SourceFile;
import dev.octet.dsl.ast.SourcePos;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.parser.OctetLexer;
import dev.octet.dsl.parser.OctetParser;
import java.nio.file.Path;
import java.util.List;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.Token;

/** Text to AST. Syntax errors go to the diagnostics; the AST holds whatever parsed cleanly. */
public final class SourceParser {
    /** Deeper nesting than this is not a model anyone writes; refusing it keeps the parser's stack bounded. */
    static final int MAX_NESTING = 64;

    private SourceParser() {}

    public static SourceFile parse(Path path, String text, Diagnostics diagnostics) {
        String file = path.toString();
        diagnostics.addSource(file, text);
        OctetLexer lexer = new OctetLexer(CharStreams.fromString(text, file));
        lexer.removeErrorListeners();
        SyntaxErrorListener listener = new SyntaxErrorListener(file, diagnostics);
        lexer.addErrorListener(listener);
        CommonTokenStream tokens = new CommonTokenStream(lexer);
        tokens.fill();
        if (!checkNesting(file, tokens.getTokens(), diagnostics)) {
            return new SourceFile(path, List.of(), List.of());
        }
        OctetParser parser = new OctetParser(tokens);
        parser.removeErrorListeners();
        parser.addErrorListener(listener);
        OctetParser.FileContext tree = parser.file();
        return new AstBuilder(file, diagnostics).build(path, tree);
    }

    /**
     * Brackets nested deeper than {@link #MAX_NESTING}: one error at the first place it happens. Counted on the
     * lexer's tokens, so brackets in strings and comments do not count and an unclosed quote cannot hide any.
     */
    private static boolean checkNesting(String file, List<Token> tokens, Diagnostics diagnostics) {
        int depth = 0;
        for (Token t : tokens) {
            switch (t.getType() == Token.EOF ? "" : t.getText()) {
                case "(", "[", "{" -> {
                    if (++depth > MAX_NESTING) {
                        diagnostics.error(new SourcePos(file, t.getLine(), t.getCharPositionInLine() + 1, 1),
                                "brackets nested more than " + MAX_NESTING + " deep",
                                "a model, recipe or training block needs only a few levels");
                        return false;
                    }
                }
                case ")", "]", "}" -> depth = Math.max(0, depth - 1);
                default -> { }
            }
        }
        return true;
    }
}
