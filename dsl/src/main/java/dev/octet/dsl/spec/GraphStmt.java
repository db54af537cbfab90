package dev.octet.dsl.spec;

import dev.octet.dsl.ast.SourcePos;
import java.util.List;

/** A statement of a model's {@code forward} block. */
public sealed interface GraphStmt {
    SourcePos pos();

    /** {@code name = op}; a later statement may bind the same name again (the residual stream {@code x}). */
    record Let(String name, Op value, SourcePos pos) implements GraphStmt {}

    /** {@code repeat layers { ... }}: the transformer block, {@code count} times, each with its own weights. */
    record Repeat(int count, List<GraphStmt> body, SourcePos pos) implements GraphStmt {
        public Repeat {
            body = List.copyOf(body);
        }
    }
}
