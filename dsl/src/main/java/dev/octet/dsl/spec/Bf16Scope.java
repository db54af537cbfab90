package dev.octet.dsl.spec;

import java.util.List;
import java.util.Set;

/**
 * What a recipe keeps out of FP8. Embedding, norms, RoPE, activation functions and the attention core
 * (QKᵀ, softmax, PV) are never FP8 in Octet; listing them documents that. The choices that change
 * anything are linear projections (q k v o gate up down, or attention / mlp for groups of them),
 * {@code lm_head}, and layer indices or inclusive ranges ({@code layers[0]}, {@code layers[-1]},
 * {@code layers[0..1]}; negative indices count from the last layer).
 */
public record Bf16Scope(boolean everything, Set<String> opKinds, Set<Projection> projections, List<LayerRange> layers) {
    public Bf16Scope {
        opKinds = Set.copyOf(opKinds);
        projections = Set.copyOf(projections);
        layers = List.copyOf(layers);
    }

    public record LayerRange(int from, int to) {
        /** Resolves negative indices against the model's layer count; inclusive bounds. */
        public boolean contains(int layer, int layerCount) {
            int lo = from < 0 ? layerCount + from : from;
            int hi = to < 0 ? layerCount + to : to;
            return layer >= Math.min(lo, hi) && layer <= Math.max(lo, hi);
        }
    }

    /** Whether the projection {@code p} of layer {@code layer} (or -1 outside the repeated block) stays BF16. */
    public boolean keepsBf16(Projection p, int layer, int layerCount) {
        if (everything || projections.contains(p)) {
            return true;
        }
        return layer >= 0 && layers.stream().anyMatch(r -> r.contains(layer, layerCount));
    }
}
