package dev.octet.compiler.ir;

import java.util.List;

/**
 * Nodes that run as one kernel (or one short sequence of launches), in execution order; {@code pattern}
 * names what was fused ({@code rmsnorm+quantize}, {@code gemm+residual}, ...). The group runs where its
 * first node ran.
 */
public record FusionGroup(int id, String pattern, List<Node> nodes) {
    public FusionGroup {
        nodes = List.copyOf(nodes);
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("empty fusion group");
        }
    }

    public Phase phase() {
        return nodes.getFirst().phase();
    }

    /** Whether every node of the group quantizes a weight into persistent codes ({@link Node#writesWeightCodes}). */
    public boolean writesWeightCodesOnly() {
        return nodes.stream().allMatch(Node::writesWeightCodes);
    }

    public Node root() {
        return nodes.getFirst();
    }
}
