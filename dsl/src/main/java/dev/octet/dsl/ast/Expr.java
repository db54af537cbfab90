package dev.octet.dsl.ast;

import java.math.BigDecimal;
import java.util.List;
import java.util.Optional;

/** Values and graph expressions. Numbers keep their exact decimal value; range checks come later. */
public sealed interface Expr {
    SourcePos pos();

    record NumberLit(BigDecimal value, String text, SourcePos pos) implements Expr {}

    record StringLit(String value, SourcePos pos) implements Expr {}

    record Name(String name, SourcePos pos) implements Expr {}

    /** {@code f(a, key = b)}. */
    record Call(String callee, SourcePos calleePos, List<Arg> args, SourcePos pos) implements Expr {
        public Call {
            args = List.copyOf(args);
        }
    }

    record ListLit(List<Expr> elements, SourcePos pos) implements Expr {
        public ListLit {
            elements = List.copyOf(elements);
        }
    }

    /** {@code layers[0]}, {@code layers[-1]}, {@code layers[0..2]} (inclusive). */
    record Index(String name, int from, int to, SourcePos pos) implements Expr {}

    record Add(Expr left, Expr right, SourcePos pos) implements Expr {}

    /** A call argument, positional or named. */
    record Arg(Optional<String> name, Expr value, SourcePos pos) {}
}
