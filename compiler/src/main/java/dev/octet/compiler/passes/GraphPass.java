package dev.octet.compiler.passes;

import dev.octet.compiler.ir.Graph;

/** A rewrite of the step graph. Each pass has one entry point and a name that --dump-after accepts. */
public interface GraphPass {
    String name();

    Graph run(Graph g);
}
