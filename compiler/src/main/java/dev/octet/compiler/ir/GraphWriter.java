package dev.octet.compiler.ir;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Appends nodes and creates values with unique names; what builders and passes use to make a new graph.
 * Not thread-safe, not shared: one writer per pass run.
 */
public final class GraphWriter {
    private final List<Node> nodes = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private int nextValue;
    private int nextNode;

    public GraphWriter(int firstValueId, int firstNodeId, Iterable<Value> existing) {
        this.nextValue = firstValueId;
        this.nextNode = firstNodeId;
        for (Value v : existing) {
            names.add(v.name());
        }
    }

    /** A writer that continues {@code g}: new ids and names never clash with g's. */
    public static GraphWriter continuing(Graph g) {
        List<Value> all = new ArrayList<>(g.values());
        all.addAll(g.inputs());
        for (Parameter p : g.parameters()) {
            all.addAll(p.values());
        }
        return new GraphWriter(g.nextValueId(), g.nextNodeId(), all);
    }

    /** A new value; a taken name gets the first free suffix {@code .1}, {@code .2}, ... */
    public Value value(String name, TensorType type, Storage storage) {
        String unique = name;
        for (int i = 1; names.contains(unique); i++) {
            unique = name + "." + i;
        }
        names.add(unique);
        return new Value(nextValue++, unique, type, storage);
    }

    public Node add(Operator op, List<Value> inputs, List<Value> outputs, Phase phase) {
        Node n = new Node(nextNode++, op, inputs, outputs, phase);
        nodes.add(n);
        return n;
    }

    /** Appends an existing node unchanged (a pass copying what it does not rewrite). */
    public void keep(Node n) {
        nodes.add(n);
    }

    public List<Node> nodes() {
        return List.copyOf(nodes);
    }
}
