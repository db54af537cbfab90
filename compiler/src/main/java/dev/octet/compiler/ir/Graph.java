package dev.octet.compiler.ir;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The training step as one program: nodes in execution order (forward, backward, optimizer), every value
 * they touch, and the trainable parameters. Immutable; passes return new graphs.
 */
public record Graph(StepShape shape, List<Parameter> parameters, List<Value> inputs, List<Node> nodes) {
    public Graph {
        parameters = List.copyOf(parameters);
        inputs = List.copyOf(inputs);
        nodes = List.copyOf(nodes);
    }

    public Graph withNodes(List<Node> newNodes) {
        return new Graph(shape, parameters, inputs, newNodes);
    }

    /** Every value a node reads or writes, in order of first appearance. */
    public List<Value> values() {
        Set<Value> seen = new LinkedHashSet<>();
        for (Node n : nodes) {
            seen.addAll(n.inputs());
            seen.addAll(n.outputs());
        }
        return List.copyOf(seen);
    }

    public Optional<Value> value(String name) {
        return values().stream().filter(v -> v.name().equals(name)).findFirst();
    }

    /** The nodes that read each value, in order. */
    public Map<Value, List<Node>> consumers() {
        Map<Value, List<Node>> out = new HashMap<>();
        for (Node n : nodes) {
            for (Value v : n.inputs()) {
                out.computeIfAbsent(v, k -> new ArrayList<>()).add(n);
            }
        }
        return out;
    }

    /** The node that writes each transient value (transients are written once). */
    public Map<Value, Node> producers() {
        Map<Value, Node> out = new HashMap<>();
        for (Node n : nodes) {
            for (Value v : n.outputs()) {
                out.putIfAbsent(v, n);
            }
        }
        return out;
    }

    public int nextNodeId() {
        return nodes.stream().mapToInt(Node::id).max().orElse(-1) + 1;
    }

    public int nextValueId() {
        int max = -1;
        for (Value v : values()) {
            max = Math.max(max, v.id());
        }
        for (Parameter p : parameters) {
            for (Value v : p.values()) {
                max = Math.max(max, v.id());
            }
        }
        for (Value v : inputs) {
            max = Math.max(max, v.id());
        }
        return max + 1;
    }
}
