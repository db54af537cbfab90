package dev.octet.compiler.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.compiler.CompileTarget;
import dev.octet.compiler.ExamplePrograms;
import dev.octet.compiler.Lowering;
import dev.octet.dsl.spec.Program;
import org.junit.jupiter.api.Test;

/** What a GPU of a data-parallel run holds, from the one-GPU plan of the tiny model's step. */
class DataParallelMemoryTest {
    private static final StepPlan PLAN = plan();

    private static StepPlan plan() {
        Program p = ExamplePrograms.loadWithRecipe("tiny.octet", "infir2");
        return Lowering.compile(CompileTarget.of(p.model("tiny").orElseThrow(), ExamplePrograms.recipe(p, "infir2"),
                ExamplePrograms.training(p)), Lowering.QUIET);
    }

    @Test
    void oneGpuHoldsTheWholePlan() {
        DataParallelMemory one = DataParallelMemory.of(PLAN, 1);
        assertEquals(DeviceMemoryPlan.of(PLAN).totalBytes(), one.zero1Bytes());
        assertEquals(one.zero1Bytes(), one.zero2Bytes());
    }

    @Test
    void shardingTakesMasterWeightsMomentsAndGradientsOutInEqualShares() {
        DataParallelMemory four = DataParallelMemory.of(PLAN, 4);
        // FP32 master weights and two FP32 moments: 12 bytes a parameter; FP32 gradients: 4.
        long params = PLAN.stepInterface().parameters().stream().mapToLong(p -> p.master().type().elements()).sum();
        assertEquals(12 * params, four.optimizerStateBytes());
        assertEquals(4 * params, four.gradientBytes());
        long total = DeviceMemoryPlan.of(PLAN).totalBytes();
        // The projections, quantized from their masters, hold their FP8 codes in both layouts instead: 2 bytes.
        long gathered = 2 * PLAN.stepInterface().parameters().stream().filter(p -> p.shadow().isEmpty())
                .mapToLong(p -> p.master().type().elements()).sum();
        assertTrue(gathered > 0);
        assertEquals(gathered, four.gatheredCodeBytes());
        assertEquals(total - 12 * params + Math.ceilDiv(12 * params, 4) + gathered, four.zero1Bytes());
        assertEquals(four.zero1Bytes() - 4 * params + Math.ceilDiv(4 * params, 4) + four.largestGradientBytes(), four.zero2Bytes());
        assertTrue(four.zero2Bytes() < four.zero1Bytes() && four.zero1Bytes() < total);
        assertTrue(four.describe().startsWith("  data parallel over 4 GPUs, per GPU: "), four.describe());
    }
}
