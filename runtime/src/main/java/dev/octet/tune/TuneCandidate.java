package dev.octet.tune;

import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.Role;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleType;
import java.util.ArrayList;
import java.util.List;

/** One way to quantize an operand that {@code octet tune} tries: granularity, FP8 format and scale type, current scaling. */
public record TuneCandidate(Granularity granularity, Fp8Format format, ScaleType scale) {
    /** The granularities tried, coarse to fine; every promotion chunk they give is a multiple of 32, as the GPU GEMM needs. */
    private static final List<Granularity> SHAPES = List.of(new Granularity.Tensor(), new Granularity.Token(),
            new Granularity.Block(128), new Granularity.Group(128), new Granularity.Block(64), new Granularity.Group(64),
            new Granularity.Group(32));

    /**
     * Every candidate for {@code role} in {@code gemm}. The per-row candidate is spelled as the language requires
     * for those rows: {@code token} where the rows are tokens, {@code channel} where they are channels.
     */
    public static List<TuneCandidate> forOperand(Gemm gemm, Role role) {
        boolean rowsAreTokens = role != Role.WEIGHTS && gemm != Gemm.WGRAD;
        List<TuneCandidate> out = new ArrayList<>();
        for (Granularity g : SHAPES) {
            Granularity spelled = g instanceof Granularity.Token && !rowsAreTokens ? new Granularity.Channel() : g;
            for (Fp8Format f : Fp8Format.values()) {
                for (ScaleType s : ScaleType.values()) {
                    out.add(new TuneCandidate(spelled, f, s));
                }
            }
        }
        return List.copyOf(out);
    }

    /** The group or block size, 0 for tensor and per-row scales. */
    public int tileSize() {
        return switch (granularity) {
            case Granularity.Group g -> g.size();
            case Granularity.Block b -> b.size();
            default -> 0;
        };
    }

    /** As a recipe writes it: {@code group(128) e4m3 ue8m0}. */
    public String describe() {
        return granularity.describe() + " " + format.lowerName() + " " + scale.lowerName();
    }
}
