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

/** Text to AST. Syntax errors go to the diagnostics; the AST holds whatever parsed cleanly. */
public final class SourceParser {
    /** Deeper nesting than this is not a model anyone writes; refusing it keeps the parser's stack bounded. */
    static final int MAX_NESTING = 64;

    private SourceParser() {}

    public static SourceFile parse(Path path, String text, Diagnostics diagnostics) {
        String file = path.toString();
        diagnostics.addSource(file, text);
        if (!checkNesting(file, text, diagnostics)) {
            return new SourceFile(path, List.of(), List.of());
        }
        OctetLexer lexer = new OctetLexer(CharStreams.fromString(text, file));
        lexer.removeErrorListeners();
        SyntaxErrorListener listener = new SyntaxErrorListener(file, diagnostics);
        lexer.addErrorListener(listener);
        OctetParser parser = new OctetParser(new CommonTokenStream(lexer));
        parser.removeErrorListeners();
        parser.addErrorListener(listener);
        OctetParser.FileContext tree = parser.file();
        return new AstBuilder(file, diagnostics).build(path, tree);
    }

    /** Brackets nested deeper than {@link #MAX_NESTING}: one error at the first place it happens. */
    private static boolean checkNesting(String file, String text, Diagnostics diagnostics) {
        int depth = 0;
        int line = 1;
        int col = 1;
        boolean inComment = false;
        boolean inString = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                line++;
                col = 1;
                inComment = false;
                inString = false;
                continue;
            }
            if (!inComment && !inString) {
                if (c == '#' || (c == '/' && i + 1 < text.length() && text.charAt(i + 1) == '/')) {
                    inComment = true;
                } else if (c == '"') {
                    inString = true;
                } else if (c == '(' || c == '[' || c == '{') {
                    if (++depth > MAX_NESTING) {
                        diagnostics.error(new SourcePos(file, line, col, 1),
                                "brackets nested more than " + MAX_NESTING + " deep",
                                "a model, recipe or training block needs only a few levels");
                        return false;
                    }
                } else if (c == ')' || c == ']' || c == '}') {
                    depth = Math.max(0, depth - 1);
                }
            } else if (inString && c == '"' && text.charAt(i - 1) != '\\') {
                inString = false;
            }
            col++;
        }
        return true;
    }
}
