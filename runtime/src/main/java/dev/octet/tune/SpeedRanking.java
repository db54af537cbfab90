package dev.octet.tune;

import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.Role;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleType;

/**
 * The speed cost of a candidate: a fixed ranking from how Octet's FP8 GEMM kernel spends time on scales, not a
 * measured tile table. The kernel promotes its FP32 partial sums every chunk of K (the smallest group or block
 * size of the two operands, at most 128) and multiplies each promoted partial sum by the two operands' scales.
 * So, cheapest first:
 * <ol>
 *   <li>tensor: one scale, applied in the epilogue;</li>
 *   <li>channel / token: one scale per row, applied in the epilogue;</li>
 *   <li>block(128): 128-wide chunks, one scale per 128×128 tile per chunk;</li>
 *   <li>group(128): 128-wide chunks, one scale per row per chunk;</li>
 *   <li>block(64), group(64), group(32): twice and four times the promotions, and as many scale loads.</li>
 * </ol>
 * A group-scaled second operand of a GEMM (the weights of fprop and dgrad, the activations of wgrad) has a scale
 * per output column per chunk, a vector rather than a broadcast scalar in the promotion: one step dearer. At the
 * same granularity a UE8M0 scale (one byte, an exact power of two) ranks before FP32. E4M3 and E5M2 run at the
 * same tensor-core rate and tie.
 */
public final class SpeedRanking {
    /** The ranking as a {@link Pricing}: where no measured kernel rates exist for the device. */
    public static final Pricing FIXED = new Pricing() {
        @Override
        public double cost(Gemm gemm, Role role, TuneCandidate candidate) {
            return SpeedRanking.cost(gemm, role, candidate);
        }

        @Override
        public String basis() {
            return "a fixed ranking of Octet's FP8 GEMM kernel (coarser scales first), not a measured table";
        }
    };

    private SpeedRanking() {}

    /** Lower is cheaper; equal costs tie and are broken by fidelity. */
    public static int cost(Gemm gemm, Role role, TuneCandidate candidate) {
        int granularity = switch (candidate.granularity()) {
            case Granularity.Tensor t -> 0;
            case Granularity.Channel c -> 2;
            case Granularity.Token t -> 2;
            case Granularity.Block b -> b.size() >= 128 ? 4 : 8;
            case Granularity.Group g -> g.size() >= 128 ? 6 : g.size() >= 64 ? 10 : 12;
        };
        boolean secondOperand = gemm.operands().get(1) == role;
        int perColumnScales = secondOperand && candidate.granularity() instanceof Granularity.Group ? 2 : 0;
        int scale = candidate.scale() == ScaleType.FP32 ? 1 : 0;
        return granularity + perColumnScales + scale;
    }
}
