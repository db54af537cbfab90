package dev.octet.compiler.cuda.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.ExamplePrograms;
import dev.octet.compiler.Lowering;
import dev.octet.compiler.ir.DType;
import dev.octet.compiler.plan.Launch;
import dev.octet.dsl.spec.Program;
import dev.octet.numerics.Fp8Format;
import dev.octet.numerics.Granularity;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The measured GEMM schedules: a table row replaces the template's rule for its problem alone, a row the template
 * cannot run falls back to the rule, and the table kept for the H200 names schedules every template accepts.
 */
class GemmSchedulesTest {
    private static final GemmProblem QWEN_UP_WGRAD = GemmProblem.fp8(8960, 1536, 16384,
            new GemmOperand.Fp8(Fp8Format.E4M3, Granularity.group(128), true),
            new GemmOperand.Fp8(Fp8Format.E4M3, Granularity.group(128), true), GemmEpilogue.accumulateF32());
    private static final GemmProblem QWEN_UP_FPROP = GemmProblem.fp8(16384, 8960, 1536, Fp8Format.E4M3, Granularity.group(128),
            Fp8Format.E4M3, Granularity.block(128), GemmEpilogue.store(DType.BF16));
    private static final GemmProblem BF16_WGRAD = GemmProblem.bf16(1536, 1536, 16384, OperandLayout.MN_MAJOR, OperandLayout.MN_MAJOR,
            GemmEpilogue.accumulateF32());

    @Test
    void aRowReplacesTheRuleForItsProblemOnly() {
        Fp8WgmmaGemm rule = Fp8WgmmaGemm.of(QWEN_UP_WGRAD);
        GemmSchedules table = GemmSchedules.parse("# measured somewhere\n" + rule.problemKey() + "\t64x2x1\t812.0\t128x1x1\t760.0\t\n");
        GemmKernel chosen = GemmKernels.forProblem(QWEN_UP_WGRAD, table);
        assertEquals(new GemmSchedule(64, 2, 1), GemmKernels.schedule(chosen).orElseThrow());
        assertEquals(QWEN_UP_WGRAD, chosen.problem());
        assertTrue(chosen.kernelName().startsWith(rule.problemKey() + "_t128x64_"), chosen.kernelName());
        assertEquals(GemmKernels.byRule(QWEN_UP_FPROP), GemmKernels.forProblem(QWEN_UP_FPROP, table));
    }

    @Test
    void aScheduleTheTemplateRefusesFallsBackToTheRule() {
        // BF16 runs without clusters; FP8 column tiles are 64 or 128; clusters do not split K.
        String bf16 = Bf16WgmmaGemm.of(BF16_WGRAD).problemKey(), fp8 = Fp8WgmmaGemm.of(QWEN_UP_FPROP).problemKey();
        String wgrad = Fp8WgmmaGemm.of(QWEN_UP_WGRAD).problemKey();
        GemmSchedules table = GemmSchedules.parse(bf16 + "\t128x2x1\n" + fp8 + "\t256x1x1\n" + wgrad + "\t128x2x2\n");
        assertEquals(GemmKernels.byRule(BF16_WGRAD), GemmKernels.forProblem(BF16_WGRAD, table));
        assertEquals(GemmKernels.byRule(QWEN_UP_FPROP), GemmKernels.forProblem(QWEN_UP_FPROP, table));
        assertEquals(GemmKernels.byRule(QWEN_UP_WGRAD), GemmKernels.forProblem(QWEN_UP_WGRAD, table));
    }

    @Test
    void aMalformedRowSaysWhere() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GemmSchedules.parse("# header\nkey\t128by1\n"));
        assertEquals("the given table line 2: a GEMM schedule reads blockN x cluster x splits (e.g. 128x1x1), not '128by1'", e.getMessage());
        assertEquals(new GemmSchedule(256, 1, 3), GemmSchedule.parse(new GemmSchedule(256, 1, 3).toString()));
    }

    @Test
    void candidatesAreDistinctSchedulesOfTheSameProblem() {
        for (GemmProblem p : List.of(QWEN_UP_WGRAD, QWEN_UP_FPROP, BF16_WGRAD)) {
            List<GemmKernel> candidates = GemmKernels.candidates(p);
            Set<GemmSchedule> schedules = new HashSet<>();
            for (GemmKernel k : candidates) {
                assertEquals(p, k.problem());
                GemmSchedule s = GemmKernels.schedule(k).orElseThrow();
                assertTrue(schedules.add(s), "twice: " + s);
                assertTrue(s.splits() == 1 || p.epilogue().accumulate(), "only weight gradients into FP32 split K: " + s);
                assertTrue(s.cluster() == 1 || (p.isFp8() && s.splits() == 1), "clusters are FP8's, unsplit: " + s);
            }
            assertTrue(schedules.contains(new GemmSchedule(128, 1, 1)), p + ": " + schedules);
        }
        assertTrue(GemmKernels.candidates(QWEN_UP_WGRAD).stream().anyMatch(k -> k.splits() == 2), "a split of the long-K wgrad");
        assertFalse(GemmKernels.candidates(QWEN_UP_FPROP).stream().anyMatch(k -> k.splits() > 1));
    }

    /** Every row of the H200 table names a problem of the headline steps and gives it the row's schedule. */
    @Test
    void theH200TableSchedulesTheHeadlineSteps() {
        GemmSchedules h200 = GemmSchedules.h200();
        Set<String> matched = new HashSet<>();
        for (String file : List.of("qwen2.5-1.5b-cpt.octet", "gpt2-124m-pretrain.octet")) {
            for (String recipe : List.of("bf16", "infir2")) {
                Program p = ExamplePrograms.loadWithRecipe(file, recipe);
                var training = ExamplePrograms.training(p, file);
                var plan = Lowering.compile(CompileTarget.of(p.model(training.model()).orElseThrow(),
                        ExamplePrograms.recipe(p, recipe), training), Lowering.QUIET);
                for (Launch l : plan.kernels().launches()) {
                    if (l.spec() instanceof GemmKernel g && GemmKernels.problemKey(g).isPresent()) {
                        var measured = h200.lookup(GemmKernels.problemKey(g).get());
                        if (measured.isPresent()) {
                            assertEquals(measured.get(), GemmKernels.schedule(g).orElseThrow(), g.kernelName());
                            matched.add(GemmKernels.problemKey(g).get());
                        }
                    }
                }
            }
        }
        assertEquals(h200.problems(), matched, "the table's rows name the headline steps' problems");
    }
}
