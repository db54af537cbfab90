package dev.octet.dsl.spec;

import dev.octet.dsl.ast.SourcePos;
import java.util.List;

/** A checked model: hyper-parameters and the forward graph, whose last statement binds {@code loss}. */
public record ModelSpec(String name, SourcePos pos, ModelConfig config, List<GraphStmt> forward) {
    public ModelSpec {
        forward = List.copyOf(forward);
    }
}
