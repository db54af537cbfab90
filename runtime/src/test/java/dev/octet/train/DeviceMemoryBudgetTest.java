package dev.octet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.plan.DeviceMemoryPlan;
import dev.octet.gpu.DeviceMemoryInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The fit check and its one line, on fake free-memory numbers and a formula in place of the compiler: 10 GiB of
 * persistent state plus 8 GiB per sequence, 6 GiB per sequence with recomputation.
 */
class DeviceMemoryBudgetTest {
    private static final long GIB = 1L << 30;
    private final List<String> planned = new ArrayList<>();

    private DeviceMemoryPlan plan(int microBatch, boolean addRecompute) {
        planned.add(microBatch + (addRecompute ? "+recompute" : ""));
        long arena = 10 * GIB + microBatch * (addRecompute ? 6 : 8) * GIB;
        return new DeviceMemoryPlan(arena, 512L << 20, "kernel4.logits", DeviceMemoryPlan.CONTEXT_BYTES,
                DeviceMemoryPlan.LOADED_BYTES);
    }

    private static DeviceMemoryInfo device(double freeGib, double totalGib) {
        return new DeviceMemoryInfo((long) (freeGib * GIB), (long) (totalGib * GIB));
    }

    @Test
    void aPlanThatFitsSaysSoAndShowsItsParts() {
        DeviceMemoryBudget budget = new DeviceMemoryBudget(plan(4, false), device(139.5, 140));
        assertTrue(budget.fits());
        assertEquals("device memory: arena 43008.0 MiB (largest workspace 512.0 MiB, kernel4.logits) + CUDA context and"
                + " modules about 768.0 MiB (estimate) = 43776.0 MiB planned; 142848.0 MiB free of 143360.0 MiB", budget.describe());
    }

    /** A smaller loss workspace that alone fits is proposed first: it keeps the micro-batch and the recipe. */
    @Test
    void aRefusalProposesASmallerLossWorkspaceFirst() {
        DeviceMemoryBudget budget = new DeviceMemoryBudget(plan(8, false), device(73, 80));
        SmallerSteps smaller = SmallerSteps.search(8, 16, false, budget.device().freeBytes(), this::plan);
        String line = budget.refusal(8, smaller, Optional.of(new SmallerLossWorkspace(512L << 20, 72 * GIB)));
        assertTrue(line.contains("; would fit: --loss-workspace 512 (72.00 GiB, the LM head's logits in smaller chunks), or"
                + " micro_batch = 4 (42.25 GiB)"), line);
        String alone = budget.refusal(8, new SmallerSteps(List.of(), Optional.of(new StepCandidate(1, true, 75 * GIB))),
                Optional.of(new SmallerLossWorkspace(512L << 20, 72 * GIB)));
        assertTrue(alone.endsWith("; would fit: --loss-workspace 512 (72.00 GiB, the LM head's logits in smaller chunks)"), alone);
    }

    @Test
    void theContextIsAlreadyOutOfTheFreeMemorySoOnlyWhatLoadingAddsCounts() {
        DeviceMemoryPlan p = plan(4, false);
        assertTrue(new DeviceMemoryBudget(p, new DeviceMemoryInfo(p.bytesAfterContext(), 80 * GIB)).fits());
        assertFalse(new DeviceMemoryBudget(p, new DeviceMemoryInfo(p.bytesAfterContext() - 1, 80 * GIB)).fits());
    }

    @Test
    void aRefusalNamesTheLargestMicroBatchThatFitsAndWhatRecomputationWouldAllow() {
        // micro_batch 8 of 16: 74 GiB; 70 GiB free. Without recomputation 4 fits (42 GiB), with it 8 (58 GiB).
        DeviceMemoryBudget budget = new DeviceMemoryBudget(plan(8, false), device(70, 80));
        assertFalse(budget.fits());
        SmallerSteps smaller = SmallerSteps.search(8, 16, false, budget.device().freeBytes(), this::plan);
        String line = budget.refusal(8, smaller);
        assertEquals("the step at micro_batch = 8 needs 74.25 GiB of free device memory (arena 74.00 GiB + about 0.25 GiB"
                + " for its modules and graphs, estimated) but 70.00 GiB of 80.00 GiB is free; would fit: micro_batch = 4"
                + " (42.25 GiB), or recompute = [norm, activation] in the recipe (58.25 GiB); re-planned by the compiler,"
                + " global_batch unchanged", line);
        assertFalse(line.contains("\n"));
    }

    @Test
    void onlyMicroBatchesThatDivideTheGlobalBatchAreProposed() {
        // global_batch 12 at micro_batch 12: 1, 2, 3, 4, 6 divide it; 5 would fit 50 GiB but does not divide 12.
        SmallerSteps smaller = SmallerSteps.search(12, 12, true, 50 * GIB, this::plan);
        assertEquals(List.of(new StepCandidate(4, false, 42 * GIB + DeviceMemoryPlan.LOADED_BYTES)), smaller.fitting());
        assertTrue(smaller.smallest().isEmpty());
    }

    @Test
    void aRecipeThatAlreadyRecomputesGetsNoRecomputeProposal() {
        SmallerSteps smaller = SmallerSteps.search(8, 8, true, 70 * GIB, this::plan);
        assertEquals(1, smaller.fitting().size());
        assertFalse(smaller.fitting().getFirst().addsRecompute());
    }

    @Test
    void recomputationAloneIsProposedWhenItKeepsTheMicroBatch() {
        SmallerSteps smaller = SmallerSteps.search(1, 1, false, 17 * GIB, this::plan);
        assertEquals(List.of(new StepCandidate(1, true, 16 * GIB + DeviceMemoryPlan.LOADED_BYTES)), smaller.fitting());
        String line = new DeviceMemoryBudget(plan(1, false), device(17, 24)).refusal(1, smaller);
        assertTrue(line.endsWith("would fit: recompute = [norm, activation] in the recipe (16.25 GiB); re-planned by the"
                + " compiler, global_batch unchanged"), line);
    }

    @Test
    void whenNothingFitsTheLineSaysWhatTheSmallestStepNeeds() {
        DeviceMemoryBudget budget = new DeviceMemoryBudget(plan(2, false), device(12, 16));
        SmallerSteps smaller = SmallerSteps.search(2, 4, false, budget.device().freeBytes(), this::plan);
        assertTrue(smaller.fitting().isEmpty());
        assertTrue(budget.refusal(2, smaller).endsWith("; nothing smaller fits: micro_batch = 1 with recompute = [norm,"
                + " activation] still needs 16.25 GiB; shorten seq_len, train a smaller model or free the device"),
                budget.refusal(2, smaller));
    }

    @Test
    void theSearchReplansAFewTimesNotOncePerMicroBatch() {
        SmallerSteps.search(1024, 1024, false, 4000 * GIB, this::plan);
        // 10 divisors below 1024 (1 ... 512) and 11 up to it, binary searched: a handful each.
        assertTrue(planned.size() <= 10, planned.toString());
    }
}
