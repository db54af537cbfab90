package dev.octet.dsl.parse;

import dev.octet.dsl.ast.Assignment;
import dev.octet.dsl.ast.Block;
import dev.octet.dsl.ast.Expr;
import dev.octet.dsl.ast.Import;
import dev.octet.dsl.ast.Item;
import dev.octet.dsl.ast.SourceFile;
import dev.octet.dsl.ast.SourcePos;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.parser.OctetParser;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.antlr.v4.runtime.ParserRuleContext;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.tree.TerminalNode;

/**
 * Builds the immutable AST from ANTLR's parse tree. After syntax errors the tree has holes (missing
 * tokens, error nodes): those parts are skipped, since the parser already reported them.
 */
final class AstBuilder {
    /** Longer sums are not models anyone writes; refusing them keeps the AST shallow. */
    static final int MAX_SUM_TERMS = 256;

    private final String file;
    private final Diagnostics diagnostics;

    AstBuilder(String file, Diagnostics diagnostics) {
        this.file = file;
        this.diagnostics = diagnostics;
    }

    SourceFile build(Path path, OctetParser.FileContext ctx) {
        List<Import> imports = new ArrayList<>();
        for (var i : ctx.importDecl()) {
            if (i.STRING() != null && !i.STRING().getSymbol().getText().startsWith("<missing")) {
                imports.add(new Import(unquote(i.STRING().getText()), pos(i.STRING().getSymbol())));
            }
        }
        List<Block> blocks = new ArrayList<>();
        for (var b : ctx.block()) {
            block(b).ifPresent(blocks::add);
        }
        return new SourceFile(path, imports, blocks);
    }

    private Optional<Block> block(OctetParser.BlockContext ctx) {
        if (ctx.kind == null || ctx.exception != null && ctx.item().isEmpty() && ctx.label() == null) {
            return Optional.empty();
        }
        Optional<Block.Label> label = Optional.empty();
        if (ctx.label() != null && ctx.label().getStart() != null) {
            Token t = ctx.label().getStart();
            label = Optional.of(new Block.Label(t.getText(), t.getType() == OctetParser.INT, pos(t)));
        }
        Optional<Block.Label> target = ctx.target == null
                ? Optional.empty()
                : Optional.of(new Block.Label(ctx.target.getText(), false, pos(ctx.target)));
        List<Item> items = new ArrayList<>();
        for (var it : ctx.item()) {
            if (it.block() != null) {
                block(it.block()).ifPresent(items::add);
            } else if (it.assignment() != null) {
                assignment(it.assignment()).ifPresent(items::add);
            }
        }
        return Optional.of(new Block(ctx.kind.getText(), pos(ctx.kind), label, target, items));
    }

    private Optional<Assignment> assignment(OctetParser.AssignmentContext ctx) {
        if (ctx.ID() == null || ctx.expr() == null) {
            return Optional.empty();
        }
        return expr(ctx.expr()).map(value ->
                new Assignment(ctx.ID().getText(), pos(ctx.ID().getSymbol()), value, pos(ctx.ID().getSymbol())));
    }

    private Optional<Expr> expr(OctetParser.ExprContext ctx) {
        if (ctx == null || ctx.exception != null) {
            return Optional.empty();
        }
        return switch (ctx) {
            case OctetParser.AddExprContext a -> sum(a);
            case OctetParser.CallExprContext c -> {
                List<Expr.Arg> args = new ArrayList<>();
                for (var arg : c.arg()) {
                    var v = expr(arg.expr());
                    if (v.isEmpty()) {
                        yield Optional.empty();
                    }
                    Optional<String> name = arg.ID() == null ? Optional.empty() : Optional.of(arg.ID().getText());
                    args.add(new Expr.Arg(name, v.get(), pos(arg)));
                }
                yield Optional.of(new Expr.Call(c.ID().getText(), pos(c.ID().getSymbol()), args, pos(c)));
            }
            case OctetParser.IndexExprContext ix -> index(ix);
            case OctetParser.ListExprContext l -> {
                List<Expr> elements = new ArrayList<>();
                for (var e : l.expr()) {
                    var v = expr(e);
                    if (v.isEmpty()) {
                        yield Optional.empty();
                    }
                    elements.add(v.get());
                }
                yield Optional.of(new Expr.ListLit(elements, pos(l)));
            }
            case OctetParser.ParenExprContext p -> expr(p.expr());
            case OctetParser.NumberExprContext n -> number(n.number());
            case OctetParser.StringExprContext s ->
                    Optional.of(new Expr.StringLit(unquote(s.STRING().getText()), pos(s.STRING().getSymbol())));
            case OctetParser.NameExprContext n -> Optional.of(new Expr.Name(n.ID().getText(), pos(n.ID().getSymbol())));
            default -> Optional.empty();
        };
    }

    /**
     * {@code a + b + c} is a left-leaning tree as deep as the sum is long. It is walked with a loop, and sums
     * longer than {@link #MAX_SUM_TERMS} are refused, so neither this nor the checkers recurse out of stack.
     */
    private Optional<Expr> sum(OctetParser.AddExprContext top) {
        List<OctetParser.AddExprContext> spine = new ArrayList<>();
        OctetParser.ExprContext left = top;
        while (left instanceof OctetParser.AddExprContext a && a.exception == null) {
            spine.add(a);
            if (spine.size() >= MAX_SUM_TERMS) {
                diagnostics.error(pos(top.getStart()), "a sum of more than " + MAX_SUM_TERMS + " terms",
                        "a residual add has two terms, e.g. x = x + attention(rmsnorm(x))");
                return Optional.empty();
            }
            left = a.expr(0);
        }
        Optional<Expr> acc = expr(left);
        for (int i = spine.size() - 1; i >= 0; i--) {
            OctetParser.AddExprContext a = spine.get(i);
            Optional<Expr> right = expr(a.expr(1));
            acc = acc.isPresent() && right.isPresent()
                    ? Optional.of(new Expr.Add(acc.get(), right.get(), pos(a.getChild(1) instanceof TerminalNode t ? t.getSymbol() : a.getStart())))
                    : Optional.empty();
        }
        return acc;
    }

    private Optional<Expr> number(OctetParser.NumberContext ctx) {
        if (ctx == null || ctx.exception != null) {
            return Optional.empty();
        }
        String text = ctx.getText();
        try {
            return Optional.of(new Expr.NumberLit(new BigDecimal(text.replace("_", "")), text, pos(ctx)));
        } catch (NumberFormatException | ArithmeticException e) {
            diagnostics.error(pos(ctx), "'" + text + "' is not a number Octet can read",
                    "write integers like 4096 or 4_096 and decimals like 1e-5 or 0.9");
            return Optional.empty();
        }
    }

    private Optional<Expr> index(OctetParser.IndexExprContext ctx) {
        var idx = ctx.index();
        if (idx == null || idx.lo == null || idx.exception != null) {
            return Optional.empty();
        }
        Optional<Integer> from = signedInt(idx.lo);
        Optional<Integer> to = idx.hi == null ? from : signedInt(idx.hi);
        if (from.isEmpty() || to.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Expr.Index(ctx.ID().getText(), from.get(), to.get(), pos(ctx)));
    }

    private Optional<Integer> signedInt(OctetParser.SignedIntContext ctx) {
        if (ctx.INT() == null) {
            return Optional.empty();
        }
        String digits = ctx.INT().getText().replace("_", "");
        try {
            int v = Integer.parseInt(digits);
            return Optional.of(ctx.getChildCount() > 1 ? -v : v);
        } catch (NumberFormatException e) {
            diagnostics.error(pos(ctx), "index " + ctx.getText() + " is too large", "layer indices are small integers, e.g. layers[0] or layers[-1]");
            return Optional.empty();
        }
    }

    private SourcePos pos(Token t) {
        int len = t.getText() == null ? 1 : t.getText().length();
        return new SourcePos(file, t.getLine(), t.getCharPositionInLine() + 1, len);
    }

    /** A rule's position: its first token, spanning to the end of its last token when on the same line. */
    private SourcePos pos(ParserRuleContext ctx) {
        Token start = ctx.getStart();
        Token stop = ctx.getStop();
        int len = start.getText() == null ? 1 : start.getText().length();
        if (stop != null && stop.getLine() == start.getLine() && stop.getStopIndex() >= start.getStartIndex()) {
            len = stop.getStopIndex() - start.getStartIndex() + 1;
        }
        return new SourcePos(file, start.getLine(), start.getCharPositionInLine() + 1, len);
    }

    private static String unquote(String s) {
        String inner = s.length() >= 2 ? s.substring(1, s.length() - 1) : s;
        return inner.replace("\\\"", "\"").replace("\\\\", "\\");
    }
}
