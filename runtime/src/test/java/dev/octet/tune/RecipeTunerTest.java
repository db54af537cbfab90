package dev.octet.tune;

import static dev.octet.tune.SyntheticOperands.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Projection;
import dev.octet.dsl.spec.Role;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import dev.octet.numerics.ScaleType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The tuner's choices on operands built to need fine scales, coarse scales, or no FP8 at all. */
class RecipeTunerTest {
    private static final double BOUND = RecipeTuner.DEFAULT_BOUND;
    private static final TuneCandidate TENSOR = new TuneCandidate(new Granularity.Tensor(), Fp8Format.E4M3, ScaleType.UE8M0);

    @Test
    void outlierTokensGetPerTokenScalesWhileBenignWeightsKeepOneScale() {
        ParameterTable.Linear q = linear(Projection.Q, 0);
        OperandMeasurements activations = measured(q, Gemm.FPROP, Role.ACTIVATIONS, outlierTokens(1), gaussian(OTHER_ROWS, K, 2));
        OperandMeasurements weights = measured(q, Gemm.FPROP, Role.WEIGHTS, gaussian(TOKENS, K, 3), gaussian(OTHER_ROWS, K, 4));
        assertTrue(activations.of(TENSOR).gemmRelativeError() > BOUND,
                "one scale for the tensor must miss the bound: " + activations.of(TENSOR).gemmRelativeError());

        TuneDecision d = RecipeTuner.decide(List.of(activations, weights), BOUND);

        TuneCandidate forActivations = d.choice(Gemm.FPROP, Role.ACTIVATIONS).candidate();
        assertInstanceOf(Granularity.Token.class, forActivations.granularity(), forActivations.describe());
        assertTrue(activations.of(forActivations).gemmRelativeError() <= BOUND);
        assertEquals(TENSOR, d.choice(Gemm.FPROP, Role.WEIGHTS).candidate(), "benign: the cheapest candidate");
        assertTrue(d.unmet().isEmpty());
    }

    @Test
    void equallyCheapCandidatesGoToTheMoreFaithfulAndCostsFollowTheRanking() {
        TuneCandidate e4m3 = TENSOR;
        TuneCandidate e5m2 = new TuneCandidate(new Granularity.Tensor(), Fp8Format.E5M2, ScaleType.UE8M0);
        ParameterTable.Linear q = linear(Projection.Q, 0);
        OperandMeasurements gradients = measured(q, Gemm.DGRAD, Role.GRADIENTS, gaussian(TOKENS, K, 5), gaussian(OTHER_ROWS, K, 6));
        assertTrue(gradients.of(e5m2).gemmRelativeError() > gradients.of(e4m3).gemmRelativeError());
        // A bound both meet: same cost, so E4M3, the smaller error, wins.
        double loose = 0.2;
        assertTrue(gradients.of(e5m2).gemmRelativeError() <= loose);
        assertEquals(e4m3, RecipeTuner.decide(List.of(gradients), loose).choice(Gemm.DGRAD, Role.GRADIENTS).candidate());

        assertTrue(SpeedRanking.cost(Gemm.FPROP, Role.ACTIVATIONS, TENSOR)
                < SpeedRanking.cost(Gemm.FPROP, Role.ACTIVATIONS, new TuneCandidate(new Granularity.Token(), Fp8Format.E4M3, ScaleType.UE8M0)));
        TuneCandidate block128 = new TuneCandidate(new Granularity.Block(128), Fp8Format.E4M3, ScaleType.UE8M0);
        TuneCandidate group128 = new TuneCandidate(new Granularity.Group(128), Fp8Format.E4M3, ScaleType.UE8M0);
        TuneCandidate group32 = new TuneCandidate(new Granularity.Group(32), Fp8Format.E4M3, ScaleType.UE8M0);
        assertTrue(SpeedRanking.cost(Gemm.FPROP, Role.WEIGHTS, block128) < SpeedRanking.cost(Gemm.FPROP, Role.WEIGHTS, group128));
        assertTrue(SpeedRanking.cost(Gemm.FPROP, Role.ACTIVATIONS, group128) < SpeedRanking.cost(Gemm.FPROP, Role.ACTIVATIONS, group32));
        assertTrue(SpeedRanking.cost(Gemm.WGRAD, Role.GRADIENTS, group128) < SpeedRanking.cost(Gemm.WGRAD, Role.ACTIVATIONS, group128),
                "wgrad's second operand pays for per-column scales");
        assertTrue(SpeedRanking.cost(Gemm.FPROP, Role.ACTIVATIONS, TENSOR)
                < SpeedRanking.cost(Gemm.FPROP, Role.ACTIVATIONS, new TuneCandidate(new Granularity.Tensor(), Fp8Format.E4M3, ScaleType.FP32)));
    }

    @Test
    void aLayerNoCandidateBringsWithinTheBoundStaysBf16AndTheOthersStayFp8() {
        ParameterTable.Linear down = linear(Projection.DOWN, 1);
        ParameterTable.Linear q = linear(Projection.Q, 0);
        float[] weights = zeroAtEvenColumns(gaussian(OTHER_ROWS, K, 7));
        List<OperandMeasurements> measured = new ArrayList<>(allOperands(down, unscalable(8), weights, 9));
        measured.addAll(benignLayer(q, 20));
        OperandMeasurements hopeless = measured.getFirst();
        assertTrue(hopeless.candidates().stream().allMatch(c -> hopeless.of(c).gemmRelativeError() > BOUND),
                "no candidate may meet the bound on the constructed operand");

        TuneDecision d = RecipeTuner.decide(measured, BOUND);

        assertTrue(d.keptBf16(down));
        assertFalse(d.keptBf16(q));
        assertEquals(java.util.Set.of(Projection.DOWN), d.bf16Projections());
        assertEquals(Gemm.FPROP, d.unmet().get(down).id().gemm());
        for (Gemm gemm : Gemm.values()) {
            for (Role role : gemm.operands()) {
                OperandChoice c = d.choice(gemm, role);
                assertEquals(List.of(q), c.operands().stream().map(m -> m.id().linear()).toList(), "chosen on the FP8 layer only");
                assertTrue(c.worst().orElseThrow().of(c.candidate()).gemmRelativeError() <= BOUND);
            }
        }
    }

    @Test
    void aBoundNothingMeetsKeepsEveryLayerBf16() {
        List<OperandMeasurements> measured = new ArrayList<>(benignLayer(linear(Projection.Q, 0), 30));
        measured.addAll(benignLayer(linear(Projection.UP, 1), 40));

        TuneDecision d = RecipeTuner.decide(measured, 1e-4);

        assertTrue(RecipeTuner.linears(measured).stream().allMatch(d::keptBf16));
        assertTrue(d.choices().values().stream().allMatch(java.util.Map::isEmpty));
    }
}
