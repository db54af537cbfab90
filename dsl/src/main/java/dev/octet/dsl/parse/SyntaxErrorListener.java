package dev.octet.dsl.parse;

import dev.octet.dsl.ast.SourcePos;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.parser.OctetParser;
import java.util.ArrayList;
import java.util.List;
import org.antlr.v4.runtime.BaseErrorListener;
import org.antlr.v4.runtime.Parser;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Recognizer;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.misc.IntervalSet;

/** Turns ANTLR's syntax errors into diagnostics that say what was found and what was expected, in words. */
final class SyntaxErrorListener extends BaseErrorListener {
    private final String file;
    private final Diagnostics diagnostics;

    SyntaxErrorListener(String file, Diagnostics diagnostics) {
        this.file = file;
        this.diagnostics = diagnostics;
    }

    @Override
    public void syntaxError(Recognizer<?, ?> recognizer, Object offendingSymbol, int line, int column,
                            String antlrMessage, RecognitionException e) {
        int length = 1;
        String found;
        String expected = "";
        if (offendingSymbol instanceof Token token) {
            found = describe(token);
            if (token.getType() != Token.EOF && token.getText() != null) {
                length = token.getText().length();
            }
            if (recognizer instanceof Parser parser) {
                IntervalSet set = e != null && e.getExpectedTokens() != null ? e.getExpectedTokens() : parser.getExpectedTokens();
                expected = expectedText(set, parser);
            }
        } else {
            found = "an unexpected character";
        }
        SourcePos pos = new SourcePos(file, line, column + 1, length);
        if (!(recognizer instanceof Parser)) {
            diagnostics.error(pos, "unexpected character " + antlrMessage.replaceFirst("^token recognition error at: ", ""));
        } else if (expected.isEmpty()) {
            diagnostics.error(pos, "unexpected " + found);
        } else {
            diagnostics.error(pos, "expected " + expected + ", found " + found);
        }
    }

    private static String describe(Token token) {
        if (token.getType() == Token.EOF) {
            return "the end of the file";
        }
        return switch (token.getType()) {
            case OctetParser.ID -> "name '" + token.getText() + "'";
            case OctetParser.INT, OctetParser.FLOAT -> "number " + token.getText();
            case OctetParser.STRING -> "string " + token.getText();
            default -> "'" + token.getText() + "'";
        };
    }

    /** "a name, '=' or '}'" from a set of token types, in a stable order. */
    private static String expectedText(IntervalSet set, Parser parser) {
        if (set == null || set.isNil()) {
            return "";
        }
        List<String> words = new ArrayList<>();
        for (int type : set.toList()) {
            String w = switch (type) {
                case Token.EOF -> "the end of the file";
                case OctetParser.ID -> "a name";
                case OctetParser.INT -> "an integer";
                case OctetParser.FLOAT -> "a number";
                case OctetParser.STRING -> "a string";
                case OctetParser.IMPORT -> "'import'";
                case OctetParser.FOR -> "'for'";
                case OctetParser.ERROR_CHAR -> null;
                default -> parser.getVocabulary().getLiteralName(type);
            };
            if (w != null && !words.contains(w)) {
                words.add(w);
            }
        }
        if (words.contains("an integer") && words.contains("a number")) {
            words.remove("an integer");
        }
        if (words.size() > 6) {
            return "";
        }
        if (words.size() == 1) {
            return words.getFirst();
        }
        return String.join(", ", words.subList(0, words.size() - 1)) + " or " + words.getLast();
    }
}
